import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

# A token's first characters: they find its row (the rest is only ever compared by hash).
PREFIX_LENGTH = 16


def hash_token(token: str) -> str:
    """Tokens are long random strings, so one SHA-256 is enough (no password hashing)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ScimClient(models.Model):
    """An identity provider (Okta, Microsoft Entra ID, ...) that provisions people through
    /scim/v2/. Only a hash of its token is stored: the token is shown once, when made."""

    name = models.CharField(max_length=150)
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    may_assign_roles = models.BooleanField(
        "may assign roles",
        default=False,
        help_text=(
            "Lets this client add people to and remove them from PolicyHub's role groups "
            "(Comms, HR/Legal, Policy admin, Leadership, Comms lead) and change the email "
            "address of anyone who holds one. Without it those groups are read-only to it."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "SCIM client"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ScimIdentity(models.Model):
    """What one client told PolicyHub about a person that the directory has no field for:
    its own id for them (externalId, scoped to the client as RFC 7643 says) and the name
    parts their full name was made from, so that a change to one part keeps the other."""

    client = models.ForeignKey(ScimClient, on_delete=models.CASCADE, related_name="identities")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim_identities"
    )
    external_id = models.CharField(max_length=255, blank=True)
    given_name = models.CharField(max_length=200, blank=True)
    family_name = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "person"], name="scim_identity_once"),
        ]
        indexes = [models.Index(fields=["client", "external_id"])]

    def __str__(self) -> str:
        return f"{self.person} at {self.client.name}"
