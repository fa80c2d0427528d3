"""`Authorization: Bearer <token>` on every /scim/v2/ request: no session, no CSRF token."""

import hmac

from django.utils import timezone

from scim.errors import ScimError
from scim.models import PREFIX_LENGTH, ScimClient, hash_token

REFUSED = "A valid SCIM token is required (Authorization: Bearer <token>)."


def authenticate(request) -> ScimClient:
    """The client whose token the request carries, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or not token.isascii():
        raise ScimError(401, REFUSED)
    client = ScimClient.objects.filter(
        prefix=token[:PREFIX_LENGTH], revoked_at__isnull=True
    ).first()
    if client is None or not hmac.compare_digest(client.token_hash, hash_token(token)):
        raise ScimError(401, "The SCIM token is not valid or has been revoked.")
    now = timezone.now()
    # At most one write a minute per client, not one per request.
    if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
        ScimClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client
