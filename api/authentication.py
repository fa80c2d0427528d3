"""Integration tokens: `Authorization: Bearer <token>`."""

import hmac

from django.utils import timezone
from rest_framework import authentication, exceptions

from api.models import IntegrationToken, hash_key

PREFIX_LENGTH = 12


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send one token: Authorization: Bearer <token>.")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("The token is not valid.") from error
        token = (
            IntegrationToken.objects.select_related("owner")
            .filter(prefix=key[:PREFIX_LENGTH], revoked_at__isnull=True)
            .first()
        )
        if token is None or not hmac.compare_digest(token.key_hash, hash_key(key)):
            raise exceptions.AuthenticationFailed("The token is not valid or has been revoked.")
        if not token.owner.is_active:
            raise exceptions.AuthenticationFailed("The token's owner has left.")
        now = timezone.now()
        # At most one write a minute per token, not one per request.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.owner, token

    def authenticate_header(self, request):
        return self.keyword
