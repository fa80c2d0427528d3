"""Two-factor sign-in: a code from an authenticator app (TOTP, through django-otp) after the
password, with single-use recovery codes for a lost phone.

Who must use it: the roles in settings.TWO_FACTOR_REQUIRED_ROLES (site admins and HR/Legal,
who see the restricted individual assessments). Anyone else may turn it on, and off again with
a code, on "Two-factor sign-in" (the user menu). The Django admin is held like every page:
site admins, who use it, must pass the second factor first ("staff" in the setting requires it
of every staff member).

How it holds, for every page that needs a login (SecondFactorMiddleware, after our
OTPMiddleware, django-otp's with the session's device checked in the roles query):
- a person signed in by password whose session has not passed the second factor, and who must
  use it or has turned it on, reaches only the code page ("verify") or, without an app yet, the
  set-up pages, and can log out; every other page sends them there and back afterwards. The
  session counts as passed when django-otp marks it verified (`request.user.is_verified()`,
  after a right code from the app or a recovery code);
- a sign-in by single sign-on counts as passed when the provider says it used multi-factor
  authentication: the ID token's `amr` claim holds one of settings.OIDC_MFA_AMR_VALUES, or its
  `acr` claim is one of settings.OIDC_MFA_ACR_VALUES (people/sso/ keeps both in the session).
  Otherwise it is asked for the code like a password login.

Wrong codes are throttled by django-otp on each device: after n wrong codes in a row the next
try waits 2^(n-1) seconds (times OTP_TOTP_THROTTLE_FACTOR / OTP_STATIC_THROTTLE_FACTOR). A code
from the app works once (django-otp refuses a time step already used); a recovery code works
once and is deleted; new recovery codes replace all the old ones.

A site admin resets a person's second factor (a lost phone) in the Django admin, on the
person's page or with the people list's action; the admin's history records it.

Where to look: requirement.py (who must use it, whether this session has passed), gate.py
(the middleware that holds every page), middleware.py (which device the session has passed
with, read with the person's roles), services.py (checking codes, setting up an app,
recovery codes, turning it off, a reset), views.py (the pages), apps.py (the app that notes at
each login whether the person has an app, so that pages need no query to know it).
"""

from people.two_factor.apps import TwoFactorConfig
from people.two_factor.gate import SecondFactorMiddleware, second_factor_exempt
from people.two_factor.requirement import (
    REQUIRED_ROLE_CHECKS,
    note_enrolment,
    required_for,
    sso_vouches_for_mfa,
)
from people.two_factor.services import SecondFactorError, enrol, new_secret, reset, status
from people.two_factor.views import (
    manage_page,
    recovery_codes_page,
    renew_codes_page,
    setup_page,
    turn_off_page,
    verify_page,
)

__all__ = [
    "REQUIRED_ROLE_CHECKS",
    "SecondFactorError",
    "SecondFactorMiddleware",
    "TwoFactorConfig",
    "enrol",
    "manage_page",
    "new_secret",
    "note_enrolment",
    "recovery_codes_page",
    "renew_codes_page",
    "required_for",
    "reset",
    "second_factor_exempt",
    "setup_page",
    "sso_vouches_for_mfa",
    "status",
    "turn_off_page",
    "verify_page",
]
