from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """How a reminder reaches a person."""

    EMAIL = "email", _("Email")
    SLACK = "slack", _("Slack")
    TEAMS = "teams", _("Microsoft Teams")


class OutboxRow(models.Model):
    """What every outbox row has: claimed (status "sending", a claim token) before it is
    sent, marked once sent; retried with backoff, failed when retrying will not help.
    notifications.outbox holds the claim and retry helpers all outboxes share."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Notification(OutboxRow):
    """One reminder or event email in the outbox: planned once, sent once."""

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
    # Empty until it goes out: then by the channel the recipient prefers at that moment.
    # Set to email when a chat delivery failed for good (chat_error says why), so the
    # person still gets it, once, by email.
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    chat_error = models.TextField(
        blank=True, help_text="Why it could not go by chat and went by email instead."
    )
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
    """How a person wants their reminders: by email or in chat, each or in a digest."""

    class Delivery(models.TextChoices):
        DIGEST = "digest", _("One daily digest at 09:00 on working days")
        IMMEDIATE = "immediate", _("Each reminder as it comes")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.DIGEST)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    # Slack or Teams: an incoming webhook that posts to the person; or, for Slack with
    # SLACK_BOT_TOKEN set, their member id, to which PolicyHub's Slack app writes.
    chat_webhook_url = models.CharField(max_length=500, blank=True)
    slack_member_id = models.CharField(max_length=20, blank=True)
    # The last chat delivery that failed for good (the reminder went by email instead),
    # shown on the preferences page until the person saves their chat settings again.
    chat_failed_at = models.DateTimeField(null=True, blank=True)
    chat_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.delivery} by {self.channel}"

    @property
    def uses_chat(self) -> bool:
        return self.channel in (Channel.SLACK, Channel.TEAMS)


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


class WebhookSubscription(models.Model):
    """An outgoing webhook: PolicyHub posts the events chosen to `url`, signed with
    `secret` (HMAC-SHA256), which must be kept as it is, not hashed, to sign."""

    name = models.CharField(max_length=100, unique=True)
    url = models.CharField(max_length=500)
    events = models.JSONField(default=list, help_text="The event names it receives.")
    secret = models.CharField(max_length=128)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The last delivery attempt, for the list page (one row per subscription, no join).
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=10, blank=True)  # sent, retrying, failed
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(OutboxRow):
    """One event for one subscription in the outbox: planned once per (event, subject,
    stage, subscription), posted once (exactly once unless a crash falls between the
    receiver's answer and the mark), retried with backoff, failures kept."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=60)
    subject_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    subject_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    # Tells events about the same thing apart (an incident closed, reopened, closed again).
    stage = models.CharField(max_length=80, blank=True)
    # The body's "id": the same for every subscription that receives this event.
    event_id = models.UUIDField()
    occurred_at = models.DateTimeField()
    # The body's "data", as it was when the event happened.
    data = models.JSONField(encoder=DjangoJSONEncoder)
    send_after = models.DateTimeField(help_text="When it may go out: now, or the next retry.")
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outgoing webhook delivery"
        verbose_name_plural = "outgoing webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subject_type", "subject_id", "stage", "subscription"],
                name="webhook_delivery_dedupe_key",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="webhook_delivery_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "send_after"], name="webhook_delivery_due_idx"),
            models.Index(fields=["status", "claimed_at"], name="webhook_delivery_claim_idx"),
            models.Index(
                fields=["subscription", "-created_at"], name="webhook_delivery_listed_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.subscription_id} ({self.status})"
