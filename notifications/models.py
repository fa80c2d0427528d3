from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Notification(models.Model):
    """One reminder or event email in the outbox: planned once, sent once."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ESCALATION = "escalation"  # the built-in stage that tells the recipient's manager

    kind = models.CharField(max_length=80)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # What it is about: a typed reference to any row (an assignment, a booking, an action).
    subject_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    subject_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    stage = models.CharField(max_length=80)
    # For escalations: whose overdue item the manager is told about.
    about_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    overdue_since = models.DateField(null=True, blank=True)

    due_at = models.DateTimeField(help_text="When the reason for it arises.")
    send_after = models.DateTimeField(
        help_text="When it may go out: the due time, the next digest, or the next retry."
    )
    digest = models.BooleanField(default=False, help_text="Goes out in the daily digest.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The dedupe key: one row per (kind, subject, recipient, stage), ever.
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id", "recipient", "stage"],
                name="notification_dedupe_key",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="notification_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "send_after"], name="notification_due_idx"),
            models.Index(fields=["status", "claimed_at"], name="notification_claim_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} [{self.stage}] to {self.recipient_id} ({self.status})"

    @property
    def dedupe_key(self) -> str:
        return (
            f"{self.kind}:{self.subject_type_id}:{self.subject_id}:{self.recipient_id}:{self.stage}"
        )


class Preference(models.Model):
    """How a person wants their non-urgent reminders."""

    class Delivery(models.TextChoices):
        DIGEST = "digest", "One daily digest at 09:00 on working days"
        IMMEDIATE = "immediate", "Each reminder as it comes"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.DIGEST)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.delivery}"


class OptOut(models.Model):
    """A person has switched off an optional (non-mandatory) kind of reminder."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_opt_outs"
    )
    kind = models.CharField(max_length=80)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_opt_out_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} switched off {self.kind}"
