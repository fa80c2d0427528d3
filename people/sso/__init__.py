"""Single sign-on with OpenID Connect, through mozilla-django-oidc.

The directory stays the source of truth: the provider proves who someone is, and PolicyHub
signs in the person of the directory with that verified email address. Nobody is created or
changed by signing in; an unknown or inactive person is refused with a page that says to
contact their administrator. So is a site admin or staff member, whom the provider's email
claim alone would otherwise hand the whole site (shown as an inactive account, saying no
more), unless OIDC_ADMINS_MAY_SSO is on. Settings: the "Single sign-on" block of
policyhub/settings.py.

What PolicyHub checks on every sign-in, beyond the library's own state and nonce checks: the
ID token's signature with the provider's published keys and its algorithm, its issuer,
audience (and authorised party), expiry and issue time; a state is used once, and only
within STATE_MAX_AGE_SECONDS; the userinfo answer is for the same subject.

The provider's endpoints come from its discovery document, fetched on first use and kept for
DISCOVERY_TTL_SECONDS, never at import time, nor for a password login, nor for a page view.

A sign-in by single sign-on leaves in the session, for later checks (two-factor sign-in):
- SESSION_AMR ("sso_amr"): the ID token's amr claim as a list of strings, e.g. ["pwd", "mfa"]
  ([] when the provider sends none);
- SESSION_ACR ("sso_acr"): the ID token's acr claim as a string ("" when absent);
- SESSION_ID_TOKEN ("sso_id_token"): the ID token itself, sent back as id_token_hint when the
  person logs out, so that the provider ends its session too.
A password login leaves none of them.

Where to look: options.py (what the settings turn on; the session keys), provider.py (the
provider's endpoints and its discovery document), backends.py (matching the provider's person
to the directory; the password backend under OIDC_ONLY), views.py (sign in, the provider's
answer, log out), password_reset.py (resets for site admins only under OIDC_ONLY).
"""

from people.sso.backends import PasswordBackend, SignInBackend
from people.sso.options import (
    BACKEND,
    SESSION_ACR,
    SESSION_AMR,
    SESSION_ID_TOKEN,
    sign_in_options,
)
from people.sso.password_reset import PasswordResetConfirmView, PasswordResetView
from people.sso.provider import forget_provider
from people.sso.views import (
    SESSION_STATES,
    STATE_MAX_AGE_SECONDS,
    LogoutView,
    SignInCallbackView,
    SignInStartView,
)

__all__ = [
    "BACKEND",
    "SESSION_ACR",
    "SESSION_AMR",
    "SESSION_ID_TOKEN",
    "SESSION_STATES",
    "STATE_MAX_AGE_SECONDS",
    "LogoutView",
    "PasswordBackend",
    "PasswordResetConfirmView",
    "PasswordResetView",
    "SignInBackend",
    "SignInCallbackView",
    "SignInStartView",
    "forget_provider",
    "sign_in_options",
]
