"""The two-factor sign-in pages: the code after the password, setting up an app, the
recovery codes shown once, and "Two-factor sign-in" (renew the codes, turn it off)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from people.two_factor.gate import safe_next_url, second_factor_exempt, url_with_next
from people.two_factor.requirement import (
    SESSION_ENROLLED,
    has_app,
    passed,
    recovery_codes_left,
    required_for,
    required_message,
    required_roles_in_words,
    sso_vouches_for_mfa,
)
from people.two_factor.services import (
    SecondFactorError,
    check_code,
    enrol,
    is_app_code,
    new_recovery_codes,
    new_secret,
    secret_for_people,
    setup_uri,
    status,
    turn_off,
)

# Session keys. PENDING_KEY: the secret being set up, until a code confirms it. NEW_CODES:
# recovery codes waiting to be shown, once.
SESSION_PENDING_KEY = "two_factor_pending_key"
SESSION_NEW_CODES = "two_factor_new_codes"

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

    next_url = safe_next_url(request)
    person = request.user
    if passed(request):
        return redirect(next_url)
    if not has_app(person):
        if required_for(person):
            return redirect(url_with_next("two_factor:setup", next_url))
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
    next_url = safe_next_url(request, default=reverse("two_factor:manage"))
    enrolled = has_app(person)
    if enrolled and not passed(request):
        # Only someone who has passed may swap the app for another.
        return redirect(url_with_next("two_factor:verify", request.get_full_path()))
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
            return redirect(url_with_next("two_factor:recovery_codes", next_url))
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
        {"codes": codes, "next": safe_next_url(request, default=reverse("two_factor:manage"))},
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
