"""The provider's endpoints: from the settings, or from its discovery document, fetched on
first use and kept for DISCOVERY_TTL_SECONDS (never at import time, nor for a password login,
nor for a page view)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from django.urls import reverse

DISCOVERY_TTL_SECONDS = 3600


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read, or does not fit the settings."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None


# Setting (as mozilla-django-oidc names it) -> field of the discovery document.
_ENDPOINT_SETTINGS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
}
_REQUIRED = ("authorization_endpoint", "token_endpoint", "jwks_uri")

_cache: dict[tuple, tuple[float, Provider]] = {}
_cache_lock = threading.Lock()


def forget_provider() -> None:
    """Drop the cached discovery document (tests; a changed provider is read within the hour)."""
    with _cache_lock:
        _cache.clear()


def provider() -> Provider:
    """The provider's endpoints: those set explicitly, the rest from its discovery document."""
    explicit = {field: getattr(settings, name, None) for name, field in _ENDPOINT_SETTINGS.items()}
    key = (settings.OIDC_ISSUER, tuple(sorted(explicit.items())))
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(key)
    if cached and cached[0] > now:
        return cached[1]
    if all(explicit[field] for field in _REQUIRED):
        found = Provider(issuer=settings.OIDC_ISSUER, **explicit)
    else:
        document = _discover(settings.OIDC_ISSUER)
        found = Provider(
            issuer=document["issuer"],
            **{field: explicit[field] or document.get(field) for field in explicit},
        )
    with _cache_lock:
        _cache[key] = (now + DISCOVERY_TTL_SECONDS, found)
    return found


def _discover(issuer: str) -> dict:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"Could not read {url}: {exc}") from exc
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url} is not a discovery document.")
    # The issuer in tokens is compared exactly; a trailing slash in the setting is forgiven.
    said = document.get("issuer")
    if not isinstance(said, str) or said.rstrip("/") != issuer.rstrip("/"):
        raise ProviderUnavailable(f"OIDC_ISSUER is {issuer!r} but the provider says {said!r}.")
    missing = [field for field in _REQUIRED if not isinstance(document.get(field), str)]
    if missing:
        raise ProviderUnavailable(f"{url} names no {', '.join(missing)}.")
    return document


def callback_url(request) -> str:
    """The redirect URI to register at the provider: <site>/accounts/sso/callback/."""
    return request.build_absolute_uri(reverse(settings.OIDC_AUTHENTICATION_CALLBACK_URL))
