"""Two-factor sign-in: a code from an authenticator app (TOTP, through django-otp) after the
password, with single-use recovery codes for a lost phone.

Who must use it: the roles in settings.TWO_FACTOR_REQUIRED_ROLES (site admins and HR/Legal,
who see the restricted individual assessments). Anyone else may turn it on, and off again with
a code, on "Two-factor sign-in" (the user menu). The Django admin is held like every page:
site admins, who use it, must pass the second factor first ("staff" in the setting requires it
of every staff member).

How it holds, for every page that needs a login (SecondFactorMiddleware, after django-otp's
OTPMiddleware):
- a person signed in by password whose session has not passed the second factor, and who must
  use it or has turned it on, reaches only the code page ("verify") or, without an app yet, the
  set-up pages, and can log out; every other page sends them there and back afterwards. The
  session counts as passed when django-otp marks it verified (`request.user.is_verified()`,
  after a right code from the app or a recovery code);
- a sign-in by single sign-on counts as passed when the provider says it used multi-factor
  authentication: the ID token's `amr` claim holds one of settings.OIDC_MFA_AMR_VALUES, or its
  `acr` claim is one of settings.OIDC_MFA_ACR_VALUES (people/sso.py keeps both in the session).
  Otherwise it is asked for the code like a password login.

Wrong codes are throttled by django-otp on each device: after n wrong codes in a row the next
try waits 2^(n-1) seconds (times OTP_TOTP_THROTTLE_FACTOR / OTP_STATIC_THROTTLE_FACTOR). A code
from the app works once (django-otp refuses a time step already used); a recovery code works
once and is deleted; new recovery codes replace all the old ones.

A site admin resets a person's second factor (a lost phone) in the Django admin, on the
person's page or with the people list's action; the admin's history records it.

This module is also an app (TwoFactorConfig, in INSTALLED_APPS) only to note at each login
whether the person has an authenticator app, so that pages need no query to know it. Django
imports it before the models are ready: the django-otp models are imported where used.
"""

from __future__ import annotations

import logging
import math
import re
import time
from base64 import b32encode

from django.apps import AppConfig
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from people import roles

logger = logging.getLogger(__name__)

# Session keys. ENROLLED: whether the person had an authenticator app when they signed in (kept
# up to date by the pages here). PENDING_KEY: the secret being set up, until a code confirms it.
# NEW_CODES: recovery codes waiting to be shown, once.
SESSION_ENROLLED = "two_factor_enrolled"
SESSION_PENDING_KEY = "two_factor_pending_key"
SESSION_NEW_CODES = "two_factor_new_codes"

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
CODE_DIGITS = 6

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


class TwoFactorConfig(AppConfig):
    name = "people.two_factor"
    label = "two_factor"
    verbose_name = gettext_lazy("Two-factor sign-in")

    def ready(self):
        user_logged_in.connect(note_enrolment, dispatch_uid="people.two_factor.note_enrolment")


class SecondFactorError(Exception):
    """A code was refused or a change is not allowed: nothing changed, except that a wrong
    code counts towards the wait before the next try."""


def _app_devices():
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects


def _recovery_devices():
    from django_otp.plugins.otp_static.models import StaticDevice

    return StaticDevice.objects


# --- Who must, and whether this session has passed -----------------------------------------


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
    return _app_devices().filter(user=user, confirmed=True).order_by("pk").first()


def has_app(user) -> bool:
    return bool(user.is_authenticated) and (
        _app_devices().filter(user=user, confirmed=True).exists()
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


# --- The gate ----------------------------------------------------------------------------


def second_factor_exempt(view):
    """The pages a person may open before passing the second factor (they check the rest)."""
    view.second_factor_exempt = True
    return view


def _is_logout(view_func, match) -> bool:
    from django.contrib.auth import views as auth_views

    view_class = getattr(view_func, "view_class", None)
    if view_class is not None and issubclass(view_class, auth_views.LogoutView):
        return True
    return match is not None and match.url_name == "logout"


def _next_url(request, *, default: str | None = None) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


class SecondFactorMiddleware:
    """Sends a signed-in person who still owes the second factor to the code page, or to set
    up an app when their role requires one and they have none. After django-otp's
    OTPMiddleware. Pages marked login_not_required stay open as they are to anyone, except the
    Django admin's, which are marked so only because the admin checks logins itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        match = request.resolver_match
        in_admin = match is not None and "admin" in match.namespaces
        if getattr(view_func, "second_factor_exempt", False) or _is_logout(view_func, match):
            return None
        if in_admin:
            if match.url_name == "login":
                return None  # it sends a signed-in person on to the admin's index
        elif not getattr(view_func, "login_required", True):
            return None
        if passed(request):
            return None
        if not (required_for(user) or enrolled_in_session(request)):
            return None
        next_url = request.get_full_path()
        if has_app(user):
            return redirect(_with_next("two_factor:verify", next_url))
        return redirect(_with_next("two_factor:setup", next_url))


# --- Services ------------------------------------------------------------------------------


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def is_app_code(code: str) -> bool:
    return bool(re.fullmatch(rf"\d{{{CODE_DIGITS}}}", _normalise(code)))


def _wait_words(seconds: float) -> str:
    seconds = max(1, math.ceil(seconds))
    if seconds < 90:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}
    hours = math.ceil(minutes / 60)
    return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}


REQUIRED_MESSAGE = gettext_lazy(
    "Two-factor sign-in is required for %(roles)s: it cannot be turned off. To move to a new "
    "phone, set up a new authenticator app."
)
WRONG_CODE = gettext_lazy(
    "That code is not right. Enter the code your app shows now, or a recovery code."
)


def required_message() -> str:
    return REQUIRED_MESSAGE % {"roles": required_roles_in_words()}


def check_code(*, person, code: str):
    """The device that accepts `code` for `person`: their authenticator app for six digits,
    their recovery codes otherwise (a recovery code is used up). Raises SecondFactorError for
    a wrong code (counted towards the wait) or while the wait after wrong codes lasts."""
    code = _normalise(code)
    if is_app_code(code):
        manager = _app_devices()
    else:
        manager = _recovery_devices()
    refusal = str(WRONG_CODE)
    # The wrong code is counted inside the transaction and the error raised outside it, so
    # that raising does not take the count back.
    with transaction.atomic():
        devices = list(manager.select_for_update().filter(user=person, confirmed=True))
        accepted = None
        for device in devices:
            allowed, details = device.verify_is_allowed()
            if not allowed:
                locked_until = (details or {}).get("locked_until")
                wait = (locked_until - timezone.now()).total_seconds() if locked_until else 1
                refusal = _("Too many wrong codes. Wait %(wait)s before trying again.") % {
                    "wait": _wait_words(wait)
                }
                continue
            if device.verify_token(code):
                accepted = device
                break
    if accepted is None:
        logger.info("Two-factor sign-in: a code was refused for person %s", person.pk)
        raise SecondFactorError(refusal)
    return accepted


def new_secret() -> str:
    from django_otp.plugins.otp_totp.models import default_key

    return default_key()


def secret_for_people(key_hex: str) -> str:
    """The secret as an app's "enter a key" field takes it: base32, in groups of four."""
    text = b32encode(bytes.fromhex(key_hex)).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def setup_uri(*, person, key_hex: str) -> str:
    """The otpauth:// address the QR code holds (issuer: settings.OTP_TOTP_ISSUER)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice(user=person, key=key_hex).config_url  # not saved


def _replace_recovery_codes(person) -> list[str]:
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=person).delete()
    device = StaticDevice.objects.create(user=person, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _lock_person(person):
    # Two set-ups or resets for one person at once would leave two apps or stray codes.
    from django.contrib.auth import get_user_model

    get_user_model().objects.select_for_update().filter(pk=person.pk).first()


def enrol(*, person, key_hex: str, code: str):
    """Confirm the app set up with `key_hex` by a code from it: it becomes the person's only
    authenticator app, with ten new recovery codes. Returns (device, recovery codes)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    code = _normalise(code)
    probe = TOTPDevice(key=key_hex)  # the defaults: 30-second steps, 6 digits, one step
    totp = TOTP(probe.bin_key, probe.step, probe.t0, probe.digits, probe.drift)
    totp.time = time.time()
    if not is_app_code(code) or not totp.verify(int(code), probe.tolerance):
        raise SecondFactorError(
            _("That code is not right. Enter the 6 digits your app shows now for PolicyHub.")
        )
    with transaction.atomic():
        _lock_person(person)
        TOTPDevice.objects.filter(user=person).delete()
        device = TOTPDevice.objects.create(
            user=person,
            name=APP_DEVICE_NAME,
            key=key_hex,
            confirmed=True,
            # The code just used cannot sign in again.
            last_t=totp.t(),
            drift=totp.drift,
        )
        codes = _replace_recovery_codes(person)
    logger.info("Two-factor sign-in turned on for person %s", person.pk)
    return device, codes


def new_recovery_codes(*, person, code: str) -> list[str]:
    """Ten new recovery codes for a code from the app (or a recovery code); the old stop
    working."""
    if not has_app(person):
        raise SecondFactorError(
            _("Two-factor sign-in is off: there are no recovery codes to renew.")
        )
    check_code(person=person, code=code)
    with transaction.atomic():
        _lock_person(person)
        return _replace_recovery_codes(person)


def turn_off(*, person, code: str) -> None:
    """Remove the person's app and recovery codes, for a right code; not for a role that
    requires two-factor sign-in."""
    if required_for(person):
        raise SecondFactorError(required_message())
    if not has_app(person):
        raise SecondFactorError(_("Two-factor sign-in is already off."))
    check_code(person=person, code=code)
    reset(person=person)
    logger.info("Two-factor sign-in turned off by person %s", person.pk)


def reset(*, person) -> int:
    """Remove the person's authenticator apps and recovery codes (a site admin, for a lost
    phone). Returns how many were removed. A session that passed with them passes no more."""
    with transaction.atomic():
        _lock_person(person)
        apps_removed, _ = _app_devices().filter(user=person).delete()
        recovery = _recovery_devices().filter(user=person)
        recovery_removed = recovery.count()
        recovery.delete()
    return apps_removed + recovery_removed


def status(person) -> dict:
    device = app_device(person)
    return {
        "on": device is not None,
        "since": device.created_at if device else None,
        "last_used": device.last_used_at if device else None,
        "codes_left": recovery_codes_left(person) if device else 0,
        "required": required_for(person),
    }


# --- Pages ---------------------------------------------------------------------------------

# Before the second factor is passed, the page shows no way to pages that would send the
# person straight back.
_NO_NAVIGATION = {"nav_items": [], "user_menu": []}


def _remember_pass(request, device) -> None:
    from django_otp import login as otp_login

    # A new session key once both factors are in, as after the password alone.
    request.session.cycle_key()
    otp_login(request, device)


@second_factor_exempt
@require_http_methods(["GET", "POST"])
def verify_page(request):
    """After the password: the six-digit code from the app, or a recovery code."""
    from people.forms import SecondFactorForm

    next_url = _next_url(request)
    person = request.user
    if passed(request):
        return redirect(next_url)
    if not has_app(person):
        if required_for(person):
            return redirect(_with_next("two_factor:setup", next_url))
        # Turned off or reset meanwhile (the Django admin still asks staff to set it up).
        request.session[SESSION_ENROLLED] = False
        return redirect(next_url)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = check_code(person=person, code=form.cleaned_data["code"])
        except SecondFactorError as refusal:
            form.add_error("code", str(refusal))
        else:
            _remember_pass(request, device)
            if not is_app_code(form.cleaned_data["code"]):
                left = recovery_codes_left(person)
                messages.warning(
                    request,
                    _(
                        "You used a recovery code; %(left)s left. Make new ones on Two-factor "
                        "sign-in, and set up your app again if you lost your phone."
                    )
                    % {"left": left},
                )
            return redirect(next_url)
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "next": next_url, **_NO_NAVIGATION},
        status=400 if form.errors else 200,
    )


@second_factor_exempt
@require_http_methods(["GET", "POST"])
def setup_page(request):
    """Set up an authenticator app: scan the QR code (or type the key), confirm with a code,
    then see the recovery codes once. Setting up again replaces the app."""
    from people.forms import EnrolForm

    person = request.user
    next_url = _next_url(request, default=reverse("two_factor:manage"))
    enrolled = has_app(person)
    if enrolled and not passed(request):
        # Only someone who has passed may swap the app for another.
        return redirect(_with_next("two_factor:verify", request.get_full_path()))
    key_hex = request.session.get(SESSION_PENDING_KEY)
    if not key_hex:
        key_hex = request.session[SESSION_PENDING_KEY] = new_secret()
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = enrol(person=person, key_hex=key_hex, code=form.cleaned_data["code"])
        except SecondFactorError as refusal:
            form.add_error("code", str(refusal))
        else:
            del request.session[SESSION_PENDING_KEY]
            _remember_pass(request, device)
            request.session[SESSION_ENROLLED] = True
            request.session[SESSION_NEW_CODES] = codes
            messages.success(request, _("Two-factor sign-in is on."))
            return redirect(_with_next("two_factor:recovery_codes", next_url))
    uri = setup_uri(person=person, key_hex=key_hex)
    import segno

    qr_svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=2, title=_("QR code to scan with your authenticator app")
    )
    context = {
        "form": form,
        "next": next_url,
        "qr_svg": mark_safe(qr_svg),  # noqa: S308 (segno's own SVG of our own address)
        "secret": secret_for_people(key_hex),
        "replacing": enrolled,
        "required": required_for(person),
        "required_roles": required_roles_in_words(),
    }
    if context["required"] and not passed(request):
        context.update(_NO_NAVIGATION)
    return render(
        request,
        "registration/two_factor_setup.html",
        context,
        status=400 if form.errors else 200,
    )


@require_safe
def recovery_codes_page(request):
    """New recovery codes, shown once: reloading the page shows them no more."""
    codes = request.session.pop(SESSION_NEW_CODES, None)
    return render(
        request,
        "registration/two_factor_recovery_codes.html",
        {"codes": codes, "next": _next_url(request, default=reverse("two_factor:manage"))},
    )


@require_http_methods(["GET"])
def manage_page(request):
    from people.forms import SecondFactorForm

    return _render_manage(request, SecondFactorForm(prefix="renew"), SecondFactorForm(prefix="off"))


def _render_manage(request, renew_form, off_form, *, status_code=200):
    person = request.user
    context = {
        "status": status(person),
        "renew_form": renew_form,
        "off_form": off_form,
        "required_roles": required_roles_in_words(),
        "sso_mfa": sso_vouches_for_mfa(request.session),
    }
    return render(request, "registration/two_factor_manage.html", context, status=status_code)


@require_POST
def renew_codes_page(request):
    from people.forms import SecondFactorForm

    form = SecondFactorForm(request.POST, prefix="renew")
    if form.is_valid():
        try:
            codes = new_recovery_codes(person=request.user, code=form.cleaned_data["code"])
        except SecondFactorError as refusal:
            form.add_error("code", str(refusal))
        else:
            request.session[SESSION_NEW_CODES] = codes
            messages.success(request, _("New recovery codes: the old ones no longer work."))
            return redirect("two_factor:recovery_codes")
    return _render_manage(request, form, SecondFactorForm(prefix="off"), status_code=400)


@require_POST
def turn_off_page(request):
    from people.forms import SecondFactorForm

    if required_for(request.user):
        # The page offers no way to do it; say why to whoever tries anyway.
        messages.error(request, required_message())
        return redirect("two_factor:manage")
    form = SecondFactorForm(request.POST, prefix="off")
    if form.is_valid():
        try:
            turn_off(person=request.user, code=form.cleaned_data["code"])
        except SecondFactorError as refusal:
            form.add_error("code", str(refusal))
        else:
            request.session[SESSION_ENROLLED] = False
            messages.success(request, _("Two-factor sign-in is off."))
            return redirect("two_factor:manage")
    return _render_manage(request, SecondFactorForm(prefix="renew"), form, status_code=400)
