import hashlib
import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# No document PolicyHub issues comes near this: an evidence pack for 10,000 people is a
# few megabytes.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# Where a PolicyHub PDF names itself: its document information, in plain ASCII.
REFERENCE_IN_FILE = re.compile(rb"PolicyHub document (EV-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class VerifyForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("PDF file"),
        required=False,
        help_text=gettext_lazy("The PDF as you received it. It is checked and not kept."),
    )
    sha256 = forms.CharField(
        label=gettext_lazy("Or its SHA-256"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("64 characters, as sha256sum or Get-FileHash prints them."),
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is None:
            return None
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _(
                    "This file is %(size)s MB: PolicyHub issues no document larger than "
                    "%(limit)s MB, so it is not one of them."
                )
                % {
                    "size": f"{upload.size / (1024 * 1024):.0f}",
                    "limit": MAX_UPLOAD_BYTES // (1024 * 1024),
                }
            )
        upload.seek(0)
        if not upload.read(1024).lstrip(b"\x00\t\n\r ").startswith(b"%PDF-"):
            raise forms.ValidationError(
                _("This file is not a PDF. Choose the PDF that PolicyHub issued.")
            )
        upload.seek(0)
        return upload

    def clean_sha256(self):
        value = re.sub(r"\s+", "", self.cleaned_data.get("sha256") or "").lower()
        if value and not SHA256.match(value):
            raise forms.ValidationError(
                _("A SHA-256 is 64 characters, each 0–9 or a–f. Copy it again in full.")
            )
        return value

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        upload, digest = data.get("file"), data.get("sha256")
        if upload is None and not digest:
            raise forms.ValidationError(_("Choose the PDF file, or enter its SHA-256."))
        if upload is not None and digest:
            raise forms.ValidationError(_("Check either a file or a SHA-256, not both."))
        data["claimed_reference"] = ""
        if upload is not None:
            data["sha256"], data["claimed_reference"] = _digest_and_reference(upload)
        return data


def _digest_and_reference(upload) -> tuple[str, str]:
    """The file's SHA-256, read in chunks, and the document id it names, if any."""
    digest, reference, tail = hashlib.sha256(), "", b""
    for chunk in upload.chunks():
        digest.update(chunk)
        # A little of the previous chunk, in case the id spans two chunks.
        found = REFERENCE_IN_FILE.search(tail + chunk)
        if found and not reference:
            reference = found.group(1).decode("ascii")
        tail = chunk[-64:]
    upload.seek(0)
    return digest.hexdigest(), reference
