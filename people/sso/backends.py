"""Signing in: the provider's person matched to the directory by verified email
(SignInBackend), and Django's password backend held to OIDC_ONLY (PasswordBackend)."""

from __future__ import annotations

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import models
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from people.models import normalise_email
from people.sso.options import admins_may_sso, passwords_off, privileged
from people.sso.provider import callback_url, provider

# Clock difference tolerated between the provider and this server when reading exp and iat.
CLOCK_SKEW_SECONDS = 60


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
