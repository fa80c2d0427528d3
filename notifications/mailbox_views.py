"""The site admins' mailbox: the mail the file backend wrote, listed and rendered."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.module_loading import import_string

from notifications.mailbox import Mailbox
from people import roles

PER_PAGE = 25


def _stores_mail() -> bool:
    """Whether mail is written to EMAIL_FILE_PATH (the file backend or a subclass of it)."""
    try:
        backend = import_string(settings.EMAIL_BACKEND)
    except ImportError:
        return False
    return isinstance(backend, type) and issubclass(backend, FileEmailBackend)


def _mailbox() -> Mailbox | None:
    if not _stores_mail() or not getattr(settings, "EMAIL_FILE_PATH", None):
        return None
    return Mailbox(settings.EMAIL_FILE_PATH)


@roles.role_required(roles.is_site_admin)
def mailbox(request):
    box = _mailbox()
    page = None
    if box is not None:
        page = Paginator(box, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/mailbox.html",
        {
            "page": page,
            "stores_mail": box is not None,
            "uses_smtp": settings.EMAIL_BACKEND.endswith(".smtp.EmailBackend"),
            "email_host": getattr(settings, "EMAIL_HOST", ""),
            "email_backend": settings.EMAIL_BACKEND,
        },
    )


@roles.role_required(roles.is_site_admin)
# The preview shows the email as a mail client would, with its own inline styles (the
# srcdoc frame inherits the page's policy); scripts stay forbidden.
@csp_update({"style-src-attr": [UNSAFE_INLINE]})
def mailbox_message(request, mail_id):
    box = _mailbox()
    mail = box.get(mail_id) if box is not None else None
    if mail is None:
        raise Http404("No such message.")
    return render(request, "notifications/mailbox_message.html", {"mail": mail})
