import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import pgettext_lazy


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class TokenError(Exception):
    """A token action that cannot be done; the message is for people."""


class IntegrationToken(models.Model):
    """A token for one integration (HR, GRC, intake tools). It acts as its owner: the API
    shows and changes only what the owner may on the pages. Only its hash is stored;
    the token itself is shown once, when it is made."""

    class Scope(models.TextChoices):
        # Translators: a token's scope: it may read.
        READ = "read", pgettext_lazy("token scope", "Read")
        # Translators: a token's scope: it may read and change.
        READ_WRITE = "read_write", pgettext_lazy("token scope", "Read and write")

    name = models.CharField(max_length=150)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="integration_tokens"
    )
    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.READ)
    # The token's first characters, to find its row and to tell tokens apart on the page.
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One active token of a name per owner: the list stays readable, and sending
            # the creation form twice makes one token, not two.
            models.UniqueConstraint(
                "owner",
                Lower("name"),
                condition=Q(revoked_at__isnull=True),
                name="api_token_active_name_per_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.READ_WRITE
