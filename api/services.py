"""Everything that changes integration tokens: making one (shown once) and revoking it."""

from __future__ import annotations

import secrets
import string

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from api.authentication import PREFIX_LENGTH
from api.models import IntegrationToken, TokenError, hash_key
from people import roles

# Every token starts with this, so that a leaked one is recognised (by secret scanners
# too) as a PolicyHub token.
KEY_START = "ph_"
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
SECRET_BYTES = 32
NAME_MAX_LENGTH = IntegrationToken._meta.get_field("name").max_length


def _new_prefix() -> str:
    """A prefix no token has yet: the key's first PREFIX_LENGTH characters, by which
    the authentication finds its row."""
    for _attempt in range(10):
        random = "".join(
            secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH - len(KEY_START))
        )
        prefix = KEY_START + random
        if not IntegrationToken.objects.filter(prefix=prefix).exists():
            return prefix
    raise TokenError(_("Could not find a free token prefix; try again."))  # pragma: no cover


def create_token(*, owner, name: str, scope: str, by) -> tuple[IntegrationToken, str]:
    """A new token acting as `owner`, and its key: the key is returned here once and
    never stored (only its SHA-256 is)."""
    if not roles.is_site_admin(by):
        raise TokenError(_("Only site admins create API tokens."))
    name = " ".join((name or "").split())
    if not name:
        raise TokenError(_("Give the token a name: the integration that will use it."))
    if len(name) > NAME_MAX_LENGTH:
        raise TokenError(_("Keep the name to %(count)s characters.") % {"count": NAME_MAX_LENGTH})
    if scope not in IntegrationToken.Scope.values:
        raise TokenError(_("Choose read, or read and write."))
    if owner is None or not owner.is_active:
        raise TokenError(_("A token acts as an active person; this person has left."))
    with transaction.atomic():
        taken = IntegrationToken.objects.filter(
            owner=owner, name__iexact=name, revoked_at__isnull=True
        )
        if taken.exists():
            raise TokenError(
                _(
                    "%(owner)s already has an active token named “%(name)s”. Choose another "
                    "name, or revoke that token first."
                )
                % {"owner": owner.get_full_name(), "name": name}
            )
        key = _new_prefix() + secrets.token_urlsafe(SECRET_BYTES)
        try:
            with transaction.atomic():
                token = IntegrationToken.objects.create(
                    name=name,
                    owner=owner,
                    scope=scope,
                    prefix=key[:PREFIX_LENGTH],
                    key_hash=hash_key(key),
                    created_by=by,
                    created_at=timezone.now(),
                )
        except IntegrityError as error:
            # Someone made the same token at the same moment.
            raise TokenError(
                _("%(owner)s already has an active token named “%(name)s”.")
                % {"owner": owner.get_full_name(), "name": name}
            ) from error
    return token, key


def revoke_token(*, token: IntegrationToken, by) -> IntegrationToken:
    """Stop a token from working, at once and for good; its record stays."""
    if not roles.is_site_admin(by):
        raise TokenError(_("Only site admins revoke API tokens."))
    with transaction.atomic():
        locked = IntegrationToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            revoked_at = timezone.localtime(locked.revoked_at)
            raise TokenError(
                _("“%(name)s” was already revoked on %(date)s at %(time)s.")
                % {
                    "name": locked.name,
                    # Translators: Django's date format syntax: d day (two digits), F month
                    # name, Y year. German "d. F Y", French "d F Y".
                    "date": formats.date_format(revoked_at, pgettext("token revoked", "d F Y")),
                    "time": formats.time_format(revoked_at, "H:i"),
                }
            )
        locked.revoked_at = timezone.now()
        locked.revoked_by = by
        locked.save(update_fields=["revoked_at", "revoked_by"])
    token.revoked_at, token.revoked_by = locked.revoked_at, locked.revoked_by
    return token
