"""Who must use two-factor sign-in (settings.TWO_FACTOR_REQUIRED_ROLES), who has it on, and
whether this session has passed it. Django imports this before the models are ready (the app
notes enrolment at login): the django-otp models are imported where used."""

from __future__ import annotations

from django.conf import settings
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from people import roles

# Session key: whether the person had an authenticator app when they signed in (kept up to
# date by the pages).
SESSION_ENROLLED = "two_factor_enrolled"

# settings.TWO_FACTOR_REQUIRED_ROLES -> who holds that role.
REQUIRED_ROLE_CHECKS = {
    "site_admin": roles.is_site_admin,
    "hr_legal": roles.is_hr_legal,
    "policy_admin": roles.is_policy_admin,
    "comms": roles.is_comms,
    "leadership": roles.is_leadership,
    "staff": lambda user: bool(user.is_authenticated and user.is_active and user.is_staff),
    "everyone": lambda user: bool(user.is_authenticated and user.is_active),
}
ROLE_WORDS = {
    "site_admin": gettext_lazy("site admins"),
    "hr_legal": gettext_lazy("HR/Legal"),
    "policy_admin": gettext_lazy("policy admins"),
    "comms": gettext_lazy("Comms"),
    "leadership": gettext_lazy("Leadership"),
    "staff": gettext_lazy("staff"),
    "everyone": gettext_lazy("everyone"),
}

REQUIRED_MESSAGE = gettext_lazy(
    "Two-factor sign-in is required for %(roles)s: it cannot be turned off. To move to a new "
    "phone, set up a new authenticator app."
)


def app_devices():
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects


def recovery_devices():
    from django_otp.plugins.otp_static.models import StaticDevice

    return StaticDevice.objects


def required_for(user) -> bool:
    """The person's role requires two-factor sign-in."""
    return any(REQUIRED_ROLE_CHECKS[name](user) for name in settings.TWO_FACTOR_REQUIRED_ROLES)


def required_roles_in_words() -> str:
    names = [str(ROLE_WORDS[name]) for name in settings.TWO_FACTOR_REQUIRED_ROLES]
    # "a, b and c" in the page's language (Django's own words for "and").
    return str(get_text_list(names, _("and")))


def app_device(user):
    """The person's confirmed authenticator app, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return app_devices().filter(user=user, confirmed=True).order_by("pk").first()


def has_app(user) -> bool:
    return bool(user.is_authenticated) and (
        app_devices().filter(user=user, confirmed=True).exists()
    )


def recovery_codes_left(user) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def sso_vouches_for_mfa(session) -> bool:
    """This session was signed in by single sign-on and the provider says it used more than
    one factor: `amr` holds one of OIDC_MFA_AMR_VALUES, or `acr` is one of OIDC_MFA_ACR_VALUES."""
    from django.contrib.auth import BACKEND_SESSION_KEY

    from people import sso

    if session.get(BACKEND_SESSION_KEY) != sso.BACKEND:
        return False
    amr = session.get(sso.SESSION_AMR) or []
    acr = session.get(sso.SESSION_ACR) or ""
    if {str(value) for value in amr} & set(settings.OIDC_MFA_AMR_VALUES):
        return True
    return bool(acr) and acr in settings.OIDC_MFA_ACR_VALUES


def passed(request) -> bool:
    """The session has passed a second factor: a code here, or the provider's own."""
    is_verified = getattr(request.user, "is_verified", None)
    if is_verified is not None and is_verified():
        return True
    return sso_vouches_for_mfa(request.session)


def enrolled_in_session(request) -> bool:
    """Whether the person had an authenticator app when this session signed in."""
    if SESSION_ENROLLED not in request.session:
        # A session from before two-factor sign-in existed: find out once.
        request.session[SESSION_ENROLLED] = has_app(request.user)
    return request.session[SESSION_ENROLLED]


def note_enrolment(sender, request, user, **kwargs) -> None:
    """At every login: whether the person has an app, so that pages need not ask."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_ENROLLED] = has_app(user)


def required_message() -> str:
    return REQUIRED_MESSAGE % {"roles": required_roles_in_words()}
