"""The single sign-on pages: the "Sign in with <provider>" button, the provider's answer
(the callback), and logging out of the provider too."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from people.sso.backends import SignInBackend, SignInRefused
from people.sso.options import (
    BACKEND,
    SESSION_ACR,
    SESSION_AMR,
    SESSION_ID_TOKEN,
    passwords_off,
    provider_name,
    sso_enabled,
)
from people.sso.provider import ProviderUnavailable, provider

# Named as single sign-on was when it was one module, so that logging settings keep working.
logger = logging.getLogger("people.sso")

# mozilla-django-oidc keeps each started sign-in's state, nonce and PKCE verifier here.
SESSION_STATES = "oidc_states"
SESSION_NEXT = "oidc_login_next"

# A sign-in not finished at the provider within this time starts again.
STATE_MAX_AGE_SECONDS = 15 * 60

REFUSED_TEMPLATE = "registration/sso_refused.html"
FAILED_TEMPLATE = "registration/sso_failed.html"


def _failed(request, message: str, *, status: int):
    return render(
        request,
        FAILED_TEMPLATE,
        {"message": message, "provider_name": provider_name(), "passwords_off": passwords_off()},
        status=status,
    )


def _unreachable(request, exc: Exception):
    logger.warning("Single sign-on: the provider could not be reached: %s", exc)
    return _failed(
        request,
        _("PolicyHub could not reach %(provider)s. Please try again in a few minutes.")
        % {"provider": provider_name()},
        status=502,
    )


class SignInStartView(OIDCAuthenticationRequestView):
    """The "Sign in with <provider>" button: sends the browser to the provider with a fresh
    state, nonce and PKCE challenge, kept in the session for the callback."""

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)

    @property
    def OIDC_RP_CLIENT_ID(self):
        return settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_OP_AUTH_ENDPOINT(self):
        return provider().authorization_endpoint

    def get(self, request):
        try:
            provider()
        except ProviderUnavailable as exc:
            return _unreachable(request, exc)
        return super().get(request)


class SignInCallbackView(View):
    """Where the provider sends the browser back: checks the state, then signs in the
    directory's person, or shows why not."""

    http_method_names = ["get"]

    def get(self, request):
        started = self._take_state(request)
        if request.GET.get("error"):
            # The provider's own description is not shown: anyone can put text in a link.
            logger.info("Single sign-on: the provider answered %r", request.GET.get("error"))
            return _failed(
                request,
                _("%(provider)s did not sign you in. You can try again.")
                % {"provider": provider_name()},
                status=400,
            )
        if started is None or not request.GET.get("code"):
            return _failed(
                request,
                _("This sign-in link has already been used or has expired. Please start again."),
                status=400,
            )
        backend = SignInBackend()
        try:
            self._check_issuer(request)
            person = backend.authenticate(
                request, nonce=started.get("nonce"), code_verifier=started.get("code_verifier")
            )
        except SignInRefused as refusal:
            logger.warning("Single sign-on refused (%s): %s", refusal.reason.label, refusal.email)
            return render(
                request,
                REFUSED_TEMPLATE,
                {
                    "reason": refusal.shown,
                    "email": refusal.email,
                    "provider_name": provider_name(),
                },
                status=403,
            )
        except requests.HTTPError as exc:
            status = getattr(exc.response, "status_code", 500)
            if status >= 500:
                return _unreachable(request, exc)
            # The provider refused the code: used before, expired, or not issued to us.
            return self._unchecked(request, exc)
        except (ProviderUnavailable, requests.RequestException) as exc:
            return _unreachable(request, exc)
        except SuspiciousOperation as exc:
            return self._unchecked(request, exc)
        if person is None:
            return _failed(request, _("Nobody was signed in. Please start again."), status=400)
        next_url = request.session.pop(SESSION_NEXT, None)
        auth.login(request, person, backend=BACKEND)
        # After login(), which may have started a new session for a different person.
        amr = backend.id_claims.get("amr")
        if isinstance(amr, str):
            amr = [amr]
        request.session[SESSION_ID_TOKEN] = backend.id_token
        request.session[SESSION_AMR] = [str(item) for item in amr or [] if item]
        request.session[SESSION_ACR] = str(backend.id_claims.get("acr") or "")
        return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))

    @staticmethod
    def _unchecked(request, exc: Exception):
        logger.warning("Single sign-on: %s", exc)
        return _failed(
            request,
            _(
                "The answer from %(provider)s could not be checked, so nobody was signed in. "
                "Please start again."
            )
            % {"provider": provider_name()},
            status=400,
        )

    @staticmethod
    def _take_state(request) -> dict | None:
        """The sign-in this answer belongs to, removed from the session so that it cannot
        be used twice; None for an unknown, used or stale state."""
        state = request.GET.get("state")
        states = request.session.get(SESSION_STATES)
        if not state or not isinstance(states, dict) or state not in states:
            return None
        started = states.pop(state)
        request.session[SESSION_STATES] = states
        if time.time() - started.get("added_on", 0) > STATE_MAX_AGE_SECONDS:
            return None
        return started

    @staticmethod
    def _check_issuer(request) -> None:
        # RFC 9207: a provider that names itself in the answer must be ours (mix-up attacks).
        issuer = request.GET.get("iss")
        if issuer is not None and issuer != provider().issuer:
            raise SuspiciousOperation(f"The answer came from {issuer!r}, not from our provider.")


class LogoutView(auth_views.LogoutView):
    """Ends the PolicyHub session and, after a single sign-on, the provider's where it
    offers RP-initiated logout (end_session_endpoint), then comes back to the login page."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get(SESSION_ID_TOKEN)
        response = super().post(request, *args, **kwargs)
        if id_token and sso_enabled():
            end_session = self._end_session_url(request, id_token)
            if end_session:
                return HttpResponseRedirect(end_session)
        return response

    @staticmethod
    def _end_session_url(request, id_token: str) -> str | None:
        try:
            endpoint = provider().end_session_endpoint
        except ProviderUnavailable as exc:
            logger.warning("Single sign-on: logged out here only: %s", exc)
            return None
        if not endpoint:
            return None
        query = urlencode(
            {
                "id_token_hint": id_token,
                "post_logout_redirect_uri": request.build_absolute_uri(
                    resolve_url(settings.LOGOUT_REDIRECT_URL)
                ),
                "client_id": settings.OIDC_RP_CLIENT_ID,
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
