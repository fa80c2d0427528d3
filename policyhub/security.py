"""Security headers on every response, and sign-ins that end.

`SecurityHeadersMiddleware` comes first of all the middleware (the settings' security
block puts it there), so that its headers reach every response, including those that
other middleware answers early: /healthz, static files from WhiteNoise, https redirects
and error pages. It is django-csp's middleware (the Content-Security-Policy from
settings.CONTENT_SECURITY_POLICY, with a nonce only on a page that asks for one) plus
Permissions-Policy, Referrer-Policy, X-Content-Type-Options and X-Frame-Options.

`SessionLifetimeMiddleware` ends a sign-in after SESSION_IDLE_MINUTES without a request,
and after SESSION_MAX_HOURS however active the person is.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.apps import AppConfig
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate

# The settings that can name where the single sign-on provider takes the browser.
SIGN_IN_ORIGIN_SETTINGS = (
    "OIDC_ISSUER",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_LOGOUT_ENDPOINT",
)

# Session keys: when this sign-in began, and when its expiry was last pushed back.
SIGNED_IN_AT = "_policyhub_signed_in_at"
SEEN_AT = "_policyhub_seen_at"
# Pushing the expiry back writes the session; once a minute is enough for an idle
# limit counted in minutes, and spares a database write on every request.
REFRESH_AFTER_SECONDS = 60

ENDED_MESSAGE = "You were logged out {hours} hours after you logged in. Log in again to go on."


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def sign_in_origins() -> list[str]:
    """Origins a login or logout form may lead to besides this site: the single sign-on
    provider's (its issuer and, when set apart, its authorization and logout endpoints).
    Read at each request, so the policy follows the settings whatever their order."""
    if not getattr(settings, "OIDC_ENABLED", True):
        return []
    origins = []
    for name in SIGN_IN_ORIGIN_SETTINGS:
        origin = _origin(getattr(settings, name, None) or "")
        if origin and origin not in origins:
            origins.append(origin)
    return origins


def permissions_policy(features: dict[str, list[str]]) -> str:
    """`{"camera": [], "fullscreen": ["self"]}` -> `camera=(), fullscreen=(self)`."""
    return ", ".join(f"{name}=({' '.join(allowed)})" for name, allowed in features.items())


class SecurityHeadersMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        origins = sign_in_origins()
        if origins and not report_only:
            # The sign-in button's form redirects to the provider, and browsers hold a
            # form's redirects to form-action too.
            update = dict(parts.update or {})
            existing = update.get("form-action") or ()
            if isinstance(existing, str):
                existing = [existing]
            update["form-action"] = [*existing, *origins]
            parts.update = update
        return parts

    def process_response(self, request, response):
        response = super().process_response(request, response)
        headers = response.headers
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            headers.setdefault("X-Content-Type-Options", "nosniff")
        referrer_policy = settings.SECURE_REFERRER_POLICY
        if referrer_policy:
            if not isinstance(referrer_policy, str):
                referrer_policy = ",".join(referrer_policy)
            headers.setdefault("Referrer-Policy", referrer_policy)
        if settings.PERMISSIONS_POLICY:
            headers.setdefault(
                "Permissions-Policy", permissions_policy(settings.PERMISSIONS_POLICY)
            )
        # Django's XFrameOptionsMiddleware only sees what reaches the views; a view marked
        # @xframe_options_exempt keeps its exemption.
        if not getattr(response, "xframe_options_exempt", False):
            headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS.upper())
        return response


def _now() -> int:
    return int(time.time())


def start_the_clock(sender, request, user, **kwargs) -> None:
    """Every login starts both limits, in the session the login saves anyway."""
    session = getattr(request, "session", None)
    if session is not None:
        now = _now()
        session[SIGNED_IN_AT] = now
        session[SEEN_AT] = now


class SessionLifetimeMiddleware:
    """The idle limit is the session's own age (SESSION_COOKIE_AGE, for the cookie and
    the stored session alike), pushed back at most once a minute while the person keeps
    using the site. The absolute limit counts from the login: past it, the request is
    logged out and the login page says why."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if session.session_key is not None:
            signed_in_at = session.get(SIGNED_IN_AT)
            max_hours = settings.SESSION_MAX_HOURS
            if signed_in_at is not None and _now() - signed_in_at >= max_hours * 3600:
                logout(request)
                messages.info(request, ENDED_MESSAGE.format(hours=max_hours))
        response = self.get_response(request)
        # Only a session's own login: an API request authenticated by its token never
        # starts a session.
        if SESSION_KEY in session:
            now = _now()
            if SIGNED_IN_AT not in session:
                # A session from before these limits: they start now.
                session[SIGNED_IN_AT] = now
                session[SEEN_AT] = now
            elif now - session.get(SEEN_AT, 0) >= REFRESH_AFTER_SECONDS:
                session[SEEN_AT] = now
        return response


class SecurityConfig(AppConfig):
    """Installed from the settings' security block: starts the clock at login (a login
    made by any view, single sign-on or a test's force_login), and installs the kept
    pages' triggers after each migrate."""

    name = "policyhub"
    label = "policyhub"
    verbose_name = "PolicyHub"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        user_logged_in.connect(start_the_clock, dispatch_uid="policyhub.security.start_the_clock")
        from policyhub import kept

        # The data version's triggers, on every watched table (policyhub/kept.py).
        post_migrate.connect(kept.install, dispatch_uid="policyhub.kept.install")
