"""Single sign-on on for one test, set as policyhub/settings.py sets it from OIDC_* variables."""

from __future__ import annotations

import copy
import importlib
from contextlib import contextmanager

from django.conf import settings
from django.test import override_settings
from django.urls import clear_url_caches

CLIENT_ID = "policyhub"
CLIENT_SECRET = "test-client-secret-which-is-long-enough"  # noqa: S105


def _reload_urls() -> None:
    # people.sso_urls decides at import whether the single sign-on routes exist.
    import people.sso_urls
    import policyhub.urls

    importlib.reload(people.sso_urls)
    importlib.reload(policyhub.urls)
    clear_url_caches()


@contextmanager
def sso_settings(*, issuer: str, only: bool = False, **overrides):
    from people import sso

    backends = [*settings.AUTHENTICATION_BACKENDS, "people.sso.SignInBackend"]
    if only:
        backends[backends.index("django.contrib.auth.backends.ModelBackend")] = (
            "people.sso.PasswordBackend"
        )
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["context_processors"].append("people.sso.sign_in_options")
    values = {
        "OIDC_ISSUER": issuer,
        "OIDC_ENABLED": True,
        "OIDC_ONLY": only,
        "OIDC_RP_CLIENT_ID": CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PROVIDER_NAME": "Test ID",
        "OIDC_RP_SCOPES": "openid email profile",
        "OIDC_RP_SIGN_ALGO": "RS256",
        "OIDC_EMAIL_VERIFIED_CLAIM": "email_verified",
        "OIDC_TOKEN_USE_BASIC_AUTH": False,
        "OIDC_TIMEOUT": 5,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": None,
        "OIDC_OP_TOKEN_ENDPOINT": None,
        "OIDC_OP_USER_ENDPOINT": None,
        "OIDC_OP_JWKS_ENDPOINT": None,
        "OIDC_OP_LOGOUT_ENDPOINT": None,
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_CREATE_USER": False,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "sso_callback",
        "AUTHENTICATION_BACKENDS": backends,
        "TEMPLATES": templates,
        **overrides,
    }
    sso.forget_provider()
    try:
        with override_settings(**values):
            _reload_urls()
            yield
    finally:
        sso.forget_provider()
        _reload_urls()
