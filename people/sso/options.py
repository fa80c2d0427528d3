"""What the "Single sign-on" settings turn on, and what a sign-in by single sign-on leaves in
the session for later checks (two-factor sign-in reads SESSION_AMR and SESSION_ACR)."""

from __future__ import annotations

from django.conf import settings

# The backend's dotted path as sessions keep it: Django loads it from there on every request.
BACKEND = "people.sso.SignInBackend"
SESSION_ID_TOKEN = "sso_id_token"
SESSION_AMR = "sso_amr"
SESSION_ACR = "sso_acr"


def sso_enabled() -> bool:
    return getattr(settings, "OIDC_ENABLED", False)


def passwords_off() -> bool:
    """OIDC_ONLY: passwords are for site admins only."""
    return sso_enabled() and getattr(settings, "OIDC_ONLY", False)


def admins_may_sso() -> bool:
    """OIDC_ADMINS_MAY_SSO: site admins and staff may sign in with the provider too."""
    return bool(getattr(settings, "OIDC_ADMINS_MAY_SSO", False))


def privileged(user) -> bool:
    """A site admin or staff member: by default they never sign in on the provider's word
    alone (an email claim is all that matches them), only with their password."""
    return bool(user.is_superuser or user.is_staff)


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME


def sign_in_options(request) -> dict:
    """Context processor (installed only with OIDC_ISSUER): what the login page offers."""
    return {"sso": {"provider_name": provider_name(), "only": passwords_off()}}
