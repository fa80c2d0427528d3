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
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import models
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from people.auth_urls import PasswordResetConfirmView as _PasswordResetConfirmView
from people.auth_urls import PasswordResetView as _PasswordResetView
from people.forms import PasswordResetForm
from people.models import normalise_email

logger = logging.getLogger(__name__)

BACKEND = "people.sso.SignInBackend"
SESSION_ID_TOKEN = "sso_id_token"
SESSION_AMR = "sso_amr"
SESSION_ACR = "sso_acr"
# mozilla-django-oidc keeps each started sign-in's state, nonce and PKCE verifier here.
SESSION_STATES = "oidc_states"
SESSION_NEXT = "oidc_login_next"

DISCOVERY_TTL_SECONDS = 3600
# A sign-in not finished at the provider within this time starts again.
STATE_MAX_AGE_SECONDS = 15 * 60
# Clock difference tolerated between the provider and this server when reading exp and iat.
CLOCK_SKEW_SECONDS = 60

REFUSED_TEMPLATE = "registration/sso_refused.html"
FAILED_TEMPLATE = "registration/sso_failed.html"


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


# --- The provider's endpoints -------------------------------------------------------------


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


# --- Matching the provider's person to the directory -----------------------------------------


class Refusal(models.TextChoices):
    NO_EMAIL = "no_email", "no email address"
    UNVERIFIED_EMAIL = "unverified_email", "email address not verified"
    UNKNOWN = "unknown", "not in the directory"
    INACTIVE = "inactive", "inactive in the directory"
    PRIVILEGED = "privileged", "site admin or staff, who log in with a password"


class SignInRefused(Exception):
    """The provider vouched for someone PolicyHub does not let in; nothing was changed."""

    def __init__(self, reason: Refusal, *, email: str = ""):
        super().__init__(f"{reason.label}: {email or '(no email)'}")
        self.reason = reason
        self.email = email

    @property
    def shown(self) -> Refusal:
        """The reason the page gives: a site admin or staff account is refused as an
        inactive one, so the page tells whoever holds the email no more than that."""
        return Refusal.INACTIVE if self.reason == Refusal.PRIVILEGED else self.reason


def _is_true(value) -> bool:
    # Some providers send "true" as a string; anything else is not a yes.
    return value is True or (isinstance(value, str) and value.strip().lower() in {"true", "1"})


class SignInBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, matching people by verified email and creating nobody.

    Only the callback view calls authenticate() (its keyword-only arguments keep Django's
    password logins from ever reaching it); Django uses get_user() on every request of a
    person signed in this way, so nothing here reads the provider until a sign-in needs it.
    """

    OIDC_RP_IDP_SIGN_KEY = None

    def __init__(self, *args, **kwargs):
        self.UserModel = get_user_model()
        self.id_token: str | None = None
        self.id_claims: dict = {}

    @property
    def OIDC_RP_CLIENT_ID(self):  # the library reads these names
        return settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_RP_CLIENT_SECRET(self):
        return settings.OIDC_RP_CLIENT_SECRET

    @property
    def OIDC_RP_SIGN_ALGO(self):
        return settings.OIDC_RP_SIGN_ALGO

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self):
        return provider().token_endpoint

    @property
    def OIDC_OP_USER_ENDPOINT(self):
        return provider().userinfo_endpoint

    @property
    def OIDC_OP_JWKS_ENDPOINT(self):
        return provider().jwks_uri

    def authenticate(self, request, *, nonce, code_verifier):
        """The person of the directory the provider's answer is for.

        Raises SignInRefused for someone PolicyHub does not let in, SuspiciousOperation for
        an answer that fails a check, requests' errors and ProviderUnavailable when the
        provider cannot be reached.
        """
        self.request = request
        code = request.GET.get("code")
        if not code:
            return None
        payload = {
            "client_id": self.OIDC_RP_CLIENT_ID,
            "client_secret": self.OIDC_RP_CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback_url(request),
        }
        if code_verifier is not None:
            payload["code_verifier"] = code_verifier
        token_info = self.get_token(payload)
        id_token = token_info.get("id_token")
        if not isinstance(id_token, str):
            raise SuspiciousOperation("The provider's token response has no ID token.")
        id_claims = self.verify_token(id_token, nonce=nonce)
        claims = self.get_userinfo(token_info.get("access_token"), id_token, id_claims)
        person = self.person_for(claims)
        self.id_token, self.id_claims = id_token, id_claims
        return person

    def verify_token(self, token, **kwargs):
        try:
            return super().verify_token(token, **kwargs)
        except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
            # A malformed token, a key the provider does not publish, a header without kid.
            raise SuspiciousOperation(f"ID token refused: {exc!r}") from exc

    def _verify_jws(self, payload, key):
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(
                f"ID token signed with {header.get('alg')!r}, expected {self.OIDC_RP_SIGN_ALGO}."
            )
        try:
            claims = jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=provider().issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc
        # With several audiences, the token must have been issued to PolicyHub itself.
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        authorised = claims.get("azp")
        if (len(audiences) > 1 or authorised) and authorised != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation(f"ID token issued to {authorised!r}, not to PolicyHub.")
        return claims

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, completed by the userinfo endpoint where the provider has
        one (many put email and email_verified only there). The signed ID token wins."""
        claims = {}
        if access_token and self.OIDC_OP_USER_ENDPOINT:
            userinfo = super().get_userinfo(access_token, id_token, payload)
            if not isinstance(userinfo, dict) or userinfo.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("The userinfo answer is for another subject.")
            claims.update(userinfo)
        claims.update(payload)
        return claims

    def filter_users_by_claims(self, claims):
        email = normalise_email(claims.get("email") or "")
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email)

    def create_user(self, claims):
        # The directory is the source of truth: signing in never adds anyone to it.
        raise SignInRefused(Refusal.UNKNOWN, email=normalise_email(claims.get("email") or ""))

    def update_user(self, user, claims):
        # Nor changes them: names, departments and roles come from the directory.
        return user

    def person_for(self, claims: dict):
        raw_email = claims.get("email")
        if not isinstance(raw_email, str) or not normalise_email(raw_email):
            raise SignInRefused(Refusal.NO_EMAIL)
        email = normalise_email(raw_email)
        verified_claim = settings.OIDC_EMAIL_VERIFIED_CLAIM
        if verified_claim and not _is_true(claims.get(verified_claim)):
            raise SignInRefused(Refusal.UNVERIFIED_EMAIL, email=email)
        people = list(self.filter_users_by_claims({"email": email})[:2])
        if not people:
            raise SignInRefused(Refusal.UNKNOWN, email=email)
        if len(people) > 1:  # the unique constraint on lower(email) forbids it
            raise SuspiciousOperation(f"More than one person has the email {email}.")
        if not self.user_can_authenticate(people[0]):
            raise SignInRefused(Refusal.INACTIVE, email=email)
        if privileged(people[0]) and not admins_may_sso():
            raise SignInRefused(Refusal.PRIVILEGED, email=email)
        return people[0]

    def get_user(self, user_id):
        # Django's check, not the library's: a person deactivated in the directory is signed
        # out at their next request; so is one made a site admin or staff since signing in.
        user = ModelBackend.get_user(self, user_id)
        if user is not None and privileged(user) and not admins_may_sso():
            return None
        return user

    def get_or_create_user(self, access_token, id_token, payload):
        raise NotImplementedError("PolicyHub signs people in through authenticate() only.")


class PasswordBackend(ModelBackend):
    """Django's password backend; with OIDC_ONLY=true it lets only site admins in, and
    staff members unless OIDC_ADMINS_MAY_SSO lets them sign in with the provider (each
    must have one way in)."""

    def user_can_authenticate(self, user):
        if passwords_off() and not (user.is_superuser or (user.is_staff and not admins_may_sso())):
            return False
        return super().user_can_authenticate(user)


# --- Views --------------------------------------------------------------------------------


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


class SiteAdminPasswordResetForm(PasswordResetForm):
    """With OIDC_ONLY=true a reset link goes to site admins only: anyone else would set a
    password that no login accepts."""

    def get_users(self, email):
        users = super().get_users(email)
        if not passwords_off():
            return users
        return (user for user in users if user.is_superuser)


class PasswordResetView(_PasswordResetView):
    form_class = SiteAdminPasswordResetForm

    def get_template_names(self):
        if passwords_off():
            return ["registration/sso_password_reset_form.html"]
        return super().get_template_names()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if sso_enabled():
            context["provider_name"] = provider_name()
        return context


class PasswordResetConfirmView(_PasswordResetConfirmView):
    """A link sent before OIDC_ONLY was turned on sets no password for anyone but a site admin."""

    def dispatch(self, *args, **kwargs):
        if passwords_off():
            person = self.get_user(kwargs["uidb64"])
            if person is not None and not person.is_superuser:
                return render(
                    self.request,
                    "registration/sso_passwords_off.html",
                    {"provider_name": provider_name()},
                    status=403,
                )
        return super().dispatch(*args, **kwargs)
