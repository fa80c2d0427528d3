"""The one email helper: three templates per email, absolute links, attachments."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from email.mime.base import MIMEBase
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


@dataclass(frozen=True)
class Attachment:
    """A file to attach. `params` become Content-Type parameters, e.g.
    Attachment("invite.ics", ics, "text/calendar", {"method": "REQUEST"})."""

    filename: str
    content: str | bytes
    mimetype: str
    params: dict[str, str] = field(default_factory=dict)
    # Also offer it as an alternative body part, as calendar invites need for
    # Outlook to show them as invites (text/calendar; method=REQUEST).
    inline: bool = False

    @property
    def full_mimetype(self) -> str:
        return "; ".join([self.mimetype, *(f"{k}={v}" for k, v in self.params.items())])

    def as_mime(self) -> MIMEBase:
        maintype, subtype = self.mimetype.split("/", 1)
        if maintype == "text":
            text = self.content.decode() if isinstance(self.content, bytes) else self.content
            part = MIMEText(text, subtype, "utf-8")
        else:
            from email import encoders

            part = MIMEBase(maintype, subtype)
            part.set_payload(self.content)
            encoders.encode_base64(part)
        for key, value in self.params.items():
            part.set_param(key, value)
        part.add_header("Content-Disposition", "attachment", filename=self.filename)
        return part


def absolute_url(path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    return f"{settings.SITE_URL}/{path.lstrip('/')}"


def language_of(person) -> str:
    """The language a message to `person` is written in: their own (User.language), or
    the site's when they have none Django knows."""
    code = getattr(person, "language", "") or ""
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def in_language_of(person):
    """`with in_language_of(recipient):` renders words and dates in the recipient's
    language, whatever language the request or worker sending it is in."""
    return translation.override(language_of(person))


def render_email(
    template_prefix: str, context: dict, *, language: str | None = None
) -> tuple[str, str, str]:
    """Render `<prefix>-subject.txt`, `-body.txt` and `-body.html`, in `language` when
    given (else the active language)."""
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language) if language else nullcontext():
        subject = render_to_string(f"{template_prefix}-subject.txt", context)
        subject = " ".join(subject.split())  # a header is one line
        text = render_to_string(f"{template_prefix}-body.txt", context)
        html = render_to_string(f"{template_prefix}-body.html", context)
    return subject, text, html


def build_email(
    *,
    to: str,
    template_prefix: str,
    context: dict,
    attachments: list[Attachment] | None = None,
    headers: dict[str, str] | None = None,
    connection=None,
    language: str | None = None,
) -> EmailMultiAlternatives:
    """One email to `to`, rendered in `language` (the recipient's: language_of(person))."""
    subject, text, html = render_email(template_prefix, context, language=language)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers or {},
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    for attachment in attachments or []:
        if attachment.inline:
            content = attachment.content
            text = content.decode() if isinstance(content, bytes) else content
            message.attach_alternative(text, attachment.full_mimetype)
        message.attach(attachment.as_mime())
    return message
