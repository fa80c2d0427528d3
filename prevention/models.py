"""Prevention: the watch list, "Check a post" and its reviews by comms, and the intake
of public posts from feeds and social-listening webhooks."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident


class PreventionError(Exception):
    """A prevention action that cannot be done; the message is for people."""


class WatchTerm(models.Model):
    """A term or pattern that must not appear in public, and why."""

    class Kind(models.TextChoices):
        TERM = "term", _("Word or phrase")
        PATTERN = "pattern", _("Regular expression")

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TERM)
    text = models.CharField(
        max_length=300, help_text=_("The word or phrase, or the regular expression.")
    )
    # What an employee whose draft matches is told it is ("Unpublished quarterly
    # figures"): a regular expression can name every secret customer at once, so it is
    # shown on the watch-list pages only and the watch-list service asks a pattern for a
    # name (the matcher shows one without a name, kept before names, by a generic one).
    # A word or phrase may go without: the employee then sees the words they wrote.
    name = models.CharField(
        max_length=150, blank=True, help_text=_("What employees whose draft matches see it as.")
    )
    category = models.CharField(
        max_length=20, choices=Incident.Information.choices, default=Incident.Information.OTHER
    )
    severity = models.CharField(
        max_length=10, choices=Incident.Severity.choices, default=Incident.Severity.MEDIUM
    )
    explanation = models.TextField(help_text=_("Shown to the employee whose draft contains it."))
    policy = models.ForeignKey(
        "policies.Policy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="watch_terms",
    )
    policy_section = models.CharField(
        max_length=200, blank=True, help_text=_("The heading of the policy section it comes from.")
    )
    expires_on = models.DateField(
        null=True,
        blank=True,
        help_text=_("After this day it is no longer watched (e.g. a launch)."),
    )
    active = models.BooleanField(default=True)
    # "A lesson can add a term to the watch list": the lesson it came from.
    lesson = models.ForeignKey(
        "incidents.Lesson",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="watch_terms",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["text", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "text"], name="watch_term_unique_text"),
        ]
        indexes = [models.Index(fields=["active", "expires_on"], name="watch_term_live_idx")]

    def __str__(self) -> str:
        return self.text


class WatchTermChange(models.Model):
    """The audit of the watch list: who changed which entry when, before and after."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        DELETED = "deleted", _("Deleted")

    term = models.ForeignKey(
        WatchTerm, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    term_text = models.CharField(max_length=300)  # kept when the entry is deleted
    action = models.CharField(max_length=10, choices=Action.choices)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.term_text}: {self.action}"


class PostReview(models.Model):
    """ "Ask comms": a draft an employee chose to send for review. Only drafts sent for
    review are ever stored; the check itself keeps nothing."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for comms")
        APPROVED = "approved", _("Approved")
        APPROVED_WITH_EDITS = "approved_with_edits", _("Approved with edits")
        ADVISED_AGAINST = "advised_against", _("Advised against")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="post_reviews"
    )
    draft = models.TextField()
    platform = models.CharField(max_length=20, choices=Incident.Platform.choices, blank=True)
    image_text = models.CharField(
        max_length=500, blank=True, help_text=_("An image's alt text or file name.")
    )
    # What the check found when it was sent: [{"label", "explanation", ...}, ...]
    findings = models.JSONField(default=list, blank=True)
    needed_by = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    suggested_text = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The requester has seen the answer (My tasks stops showing it).
    answer_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["needed_by", "id"]
        indexes = [models.Index(fields=["status", "needed_by"], name="post_review_queue_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "withdrawn"]) | Q(decided_at__isnull=False),
                name="post_review_decided_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.pk} for {self.requester}"


class ReviewExample(models.Model):
    """An anonymised decision, kept as an example for a policy section or a briefing."""

    review = models.OneToOneField(
        PostReview, null=True, blank=True, on_delete=models.SET_NULL, related_name="example"
    )
    text = models.TextField(help_text=_("The draft with names and details taken out."))
    decision = models.CharField(max_length=20, choices=PostReview.Status.choices)
    reason = models.TextField(blank=True)
    policy = models.ForeignKey(
        "policies.Policy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="review_examples",
    )
    policy_section = models.CharField(max_length=200, blank=True)
    topic = models.ForeignKey(
        "training.Topic",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="review_examples",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:60]


class Source(models.Model):
    """Somewhere public posts come from: a feed PolicyHub fetches, or a social-listening
    tool that posts to a signed webhook."""

    # What fetching notes about its own progress (read-only in the admin; no change to
    # any figure, policyhub/kept.py).
    FETCHING = (
        "last_fetched_at",
        "last_success_at",
        "last_error",
        "consecutive_failures",
        "next_fetch_at",
        "claimed_until",
        "items_seen",
        "items_matched",
    )

    class Kind(models.TextChoices):
        FEED = "feed", _("RSS or Atom feed")
        WEBHOOK = "webhook", _("Webhook")

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # For feeds: an http(s) address, or a file:// path for a local file (demo, tests).
    feed_url = models.CharField(max_length=500, blank=True)
    # For webhooks: the shared secret the tool signs with (HMAC-SHA256). It must be
    # kept as it is, not hashed, to check signatures.
    secret = models.CharField(max_length=128, blank=True)
    slug = models.SlugField(max_length=60, unique=True)
    platform = models.CharField(
        max_length=20, choices=Incident.Platform.choices, default=Incident.Platform.OTHER
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_fetch_at = models.DateTimeField(null=True, blank=True)
    # A worker is fetching the feed until then (a lease, let go when the fetch ends):
    # nobody else fetches it meanwhile, even if "Fetch now" makes it due.
    claimed_until = models.DateTimeField(null=True, blank=True)
    items_seen = models.PositiveIntegerField(default=0)
    items_matched = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0


class IntakeItem(models.Model):
    """A public post that matched the watch list and opened an incident: one per post."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="items")
    # The post's URL, or the feed's id for it when it has none: one incident per key.
    dedupe_key = models.CharField(max_length=500, unique=True)
    url = models.URLField(max_length=500, blank=True)
    handle = models.CharField(max_length=200, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    noticed_at = models.DateTimeField()
    text_sha256 = models.CharField(max_length=64)
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="intake")
    terms = models.ManyToManyField(WatchTerm, blank=True, related_name="intake_items")
    # The matched words as found, kept even if a term is later changed or deleted.
    matched = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-noticed_at", "-id"]

    def __str__(self) -> str:
        return self.dedupe_key


class WebhookDelivery(models.Model):
    """Signatures already accepted, so a replayed request is refused."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="deliveries")
    signature = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "signature"], name="webhook_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.signature[:12]}"
