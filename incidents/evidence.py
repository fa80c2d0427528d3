"""Evidence: checking an upload by what it is, storing it, withdrawing it, serving it.

A file's name and the browser's claimed type say nothing about what the bytes are, so
the type is read from the content: the first bytes of PNG, JPEG, WebP and PDF files,
and plain text is valid UTF-8 without binary control characters. Anything else is
refused. The stored name is the SHA-256, under MEDIA_ROOT (never under static), and a
file is only ever sent through the permission-checked view, as an attachment.

Evidence is never edited: it can only be withdrawn, with a reason, and the row stays.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.models import Evidence, Incident, IncidentError, IncidentEvent
from incidents.permissions import can_handle

TEXT = "text/plain"
# (content type, file extension used when serving, test on the first bytes)
SIGNATURES: tuple[tuple[str, str, object], ...] = (
    ("image/png", "png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/jpeg", "jpg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ("image/webp", "webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    ("application/pdf", "pdf", lambda head: head.startswith(b"%PDF-")),
)
EXTENSIONS = {content_type: extension for content_type, extension, _ in SIGNATURES}
EXTENSIONS[TEXT] = "txt"
ACCEPTED = gettext_lazy("PNG, JPEG or WebP images, PDF documents and plain text")
# Control characters that never appear in text people write (tab, line feed, form
# feed and carriage return do).
BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    sha256: str
    size: int


def readable_size(size: int) -> str:
    """Bytes in the words of the size limit message: 10 MB, 200 KB, 512 bytes."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            amount = size / factor
            return f"{amount:.0f} {unit}" if amount == int(amount) else f"{amount:.1f} {unit}"
    return _("%(size)s bytes") % {"size": size}


def sniff(content: bytes) -> str | None:
    """The content type of `content` if it is one PolicyHub accepts, from the bytes."""
    head = content[:16]
    for content_type, _extension, matches in SIGNATURES:
        if matches(head):
            return content_type
    return TEXT if is_plain_text(content) else None


def is_plain_text(content: bytes) -> bool:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return BINARY_CONTROL.search(text) is None


def check_upload(upload: UploadedFile) -> CheckedFile:
    """The type, hash and size of an upload, or an IncidentError saying why it is refused."""
    limit = settings.INCIDENT_EVIDENCE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise IncidentError(_("The file is larger than %(size)s.") % {"size": readable_size(limit)})
    digest = hashlib.sha256()
    content = bytearray()
    for chunk in upload.chunks():
        content += chunk
        # The size Django counted is the bytes received; this keeps the check honest
        # for any file object that does not know its size.
        if len(content) > limit:
            raise IncidentError(
                _("The file is larger than %(size)s.") % {"size": readable_size(limit)}
            )
        digest.update(chunk)
    if not content:
        raise IncidentError(_("The file is empty."))
    content_type = sniff(bytes(content))
    if content_type is None:
        raise IncidentError(
            _(
                "This file is not one PolicyHub keeps as evidence. Upload %(accepted)s (the "
                "content is checked, not the name)."
            )
            % {"accepted": ACCEPTED}
        )
    upload.seek(0)
    return CheckedFile(content_type=content_type, sha256=digest.hexdigest(), size=len(content))


def capture(
    *,
    incident: Incident,
    by,
    upload: UploadedFile | None = None,
    url: str = "",
    platform: str = "",
    handle: str = "",
    captured_at: datetime | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Evidence:
    """Record a piece of evidence: a link, a file, or both."""
    if not can_handle(by):
        raise IncidentError(_("Only the communications team and HR/legal capture evidence."))
    if upload is None and not url.strip():
        raise IncidentError(_("Evidence needs a file or a link to the post."))
    checked = check_upload(upload) if upload is not None else None
    now = now or timezone.now()
    evidence = Evidence(
        incident=incident,
        url=url.strip(),
        platform=platform,
        handle=handle.strip(),
        captured_at=captured_at or now,
        note=note.strip(),
        captured_by=by,
    )
    if checked is not None:
        evidence.sha256 = checked.sha256
        evidence.size = checked.size
        evidence.content_type = checked.content_type
        evidence.original_name = (upload.name or "")[-255:]
        # The storage name comes from the model: evidence/<incident>/<sha256>.
        evidence.file.save(checked.sha256, upload, save=False)
    try:
        with transaction.atomic():
            evidence.save()
            IncidentEvent.objects.create(
                incident=incident,
                what="evidence",
                to_value="captured",
                by=by,
                at=now,
                note=evidence.original_name or evidence.url,
            )
    except Exception:
        # No row, no file: storage never holds evidence nobody can see.
        if evidence.file:
            evidence.file.delete(save=False)
        raise
    return evidence


def withdraw(*, evidence: Evidence, by, reason: str, now: datetime | None = None) -> Evidence:
    """Withdraw evidence with a reason; the row and the file stay, marked withdrawn."""
    if not can_handle(by):
        raise IncidentError(_("Only the communications team and HR/legal withdraw evidence."))
    if not reason.strip():
        raise IncidentError(_("Say why this evidence is withdrawn."))
    with transaction.atomic():
        evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
        if evidence.withdrawn_at:
            raise IncidentError(_("This evidence is already withdrawn."))
        evidence.withdrawn_at = now or timezone.now()
        evidence.withdrawn_by = by
        evidence.withdrawn_reason = reason.strip()
        evidence.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        IncidentEvent.objects.create(
            incident_id=evidence.incident_id,
            what="evidence",
            from_value="captured",
            to_value="withdrawn",
            by=by,
            at=evidence.withdrawn_at,
            note=reason.strip(),
        )
    return evidence


def file_response(evidence: Evidence, *, reference: str) -> FileResponse:
    """The stored file as a download that a browser never renders or sniffs."""
    if not evidence.file:
        raise Http404("This evidence has no file.")
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    extension = EXTENSIONS.get(evidence.content_type, "bin")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{reference}-evidence-{evidence.pk}.{extension}",
        content_type=evidence.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
