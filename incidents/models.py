from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IncidentError(Exception):
    """An incident action that cannot be done; the message is for people."""


class Incident(models.Model):
    class Status(models.TextChoices):
        REPORTED = "reported", _("Reported")
        TRIAGE = "triage", _("In triage")
        CONTAINED = "contained", _("Contained")
        CLASSIFIED = "classified", _("Classified")
        REMEDIATION = "remediation", _("In remediation")
        REVIEW = "review", _("In review")
        CLOSED = "closed", _("Closed")

    class Track(models.TextChoices):
        NONE = "none", _("Not decided")
        LEARNING = "learning", _("Learning track")
        ACCOUNTABILITY = "accountability", _("Accountability track")

    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    class Platform(models.TextChoices):
        X = "x", "X (Twitter)"
        LINKEDIN = "linkedin", "LinkedIn"
        FACEBOOK = "facebook", "Facebook"
        INSTAGRAM = "instagram", "Instagram"
        TIKTOK = "tiktok", "TikTok"
        YOUTUBE = "youtube", "YouTube"
        REDDIT = "reddit", "Reddit"
        MASTODON = "mastodon", "Mastodon / Bluesky"
        BLOG = "blog", _("Blog or website")
        FORUM = "forum", _("Forum")
        OTHER = "other", _("Other")

    class Information(models.TextChoices):
        CONFIDENTIAL = "confidential", _("Confidential business information")
        FINANCIAL = "financial", _("Financial information")
        PERSONAL = "personal", _("Customer or personal data")
        PRODUCT = "product", _("Product or roadmap")
        OFFENSIVE = "offensive", _("Offensive content")
        OTHER = "other", _("Other")

    reference = models.CharField(max_length=20, unique=True)
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reported_incidents"
    )
    self_reported = models.BooleanField(default=False)
    what_happened = models.TextField()
    platform = models.CharField(max_length=20, choices=Platform.choices, default=Platform.OTHER)
    url = models.URLField(max_length=500, blank=True)
    account_handle = models.CharField(max_length=200, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    noticed_at = models.DateTimeField()
    information = models.CharField(
        max_length=20, choices=Information.choices, default=Information.OTHER
    )
    estimated_reach = models.PositiveIntegerField(null=True, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    people_involved = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="incidents_involved_in"
    )
    no_individual_involved = models.BooleanField(
        default=False, help_text=_("No one person's act to assess (e.g. a system fault).")
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REPORTED)
    track = models.CharField(max_length=15, choices=Track.choices, default=Track.NONE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_incidents",
    )
    no_takedown_note = models.TextField(
        blank=True, help_text=_("Why nothing needs taking down, when that is so.")
    )
    contained_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Raised by every change: a form carries it, so a stale form is refused.
    version = models.PositiveIntegerField(default=1)
    # When it was reported: the service passes its clock (intake and the demo report
    # posts noticed in the past).
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="incident_number_per_year"),
        ]
        indexes = [models.Index(fields=["status", "severity"], name="incident_status_idx")]

    def __str__(self) -> str:
        return self.reference

    @property
    def restricted(self) -> bool:
        """Accountability-track cases keep the people involved to HR/legal and the owner."""
        return self.track == self.Track.ACCOUNTABILITY


class IncidentCounter(models.Model):
    """The last incident number of a year; locked to hand out the next one."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class IncidentEvent(models.Model):
    """The history: every transition and every change, who, when, from, to, why."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    what = models.CharField(max_length=30, default="status")
    from_value = models.CharField(max_length=40, blank=True)
    to_value = models.CharField(max_length=40, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["incident", "what", "at"], name="incident_event_idx"),
            # The dashboards' "when was it first contained / last closed / classified":
            # one change of one kind, for every incident, read from the index alone.
            models.Index(
                fields=["what", "to_value", "incident", "at"], name="incident_event_change_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident}: {self.what} {self.from_value} → {self.to_value}"


def evidence_path(instance, filename: str) -> str:
    # The original name is not used: files are only ever served through the view.
    return f"evidence/{instance.incident_id}/{instance.sha256}"


class Evidence(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="evidence")
    url = models.URLField(max_length=500, blank=True)
    platform = models.CharField(max_length=20, choices=Incident.Platform.choices, blank=True)
    handle = models.CharField(max_length=200, blank=True)
    captured_at = models.DateTimeField()
    file = models.FileField(upload_to=evidence_path, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["captured_at", "id"]
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return f"{self.incident} evidence {self.pk}"


class Takedown(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        REMOVED = "removed", _("Removed")
        REFUSED = "refused", _("Refused")
        NOT_NEEDED = "not_needed", _("Not needed")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="takedowns")
    what = models.CharField(max_length=300)
    asked_of = models.CharField(
        max_length=200, help_text=_("The platform, the author, a moderator.")
    )
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"{self.incident}: {self.what} ({self.status})"


class HoldingStatement(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="statements")
    text = models.TextField()
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    drafted_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-drafted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.incident} statement {self.pk}"


class Assessment(models.Model):
    """One run of the guided assessment for one person and one act. Runs are kept:
    a new run supersedes the earlier one."""

    class Outcome(models.TextChoices):
        HUMAN_ERROR = "human_error", _("Human error")
        AT_RISK = "at_risk", _("At-risk behaviour")
        RECKLESS = "reckless", _("Reckless behaviour")
        DELIBERATE = "deliberate", _("Deliberate")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assessments")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assessments"
    )
    act = models.CharField(max_length=300, help_text=_("The one act assessed, in a sentence."))
    question_set = models.CharField(max_length=20)
    answers = models.JSONField(default=dict)
    suggested_outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    final_outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    override_reason = models.TextField(blank=True)
    referral = models.BooleanField(
        default=False, help_text=_("Refer to HR / occupational health, not discipline.")
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.incident}: {self.person} – {self.act}"

    @property
    def current(self) -> bool:
        return self.superseded_at is None


class AuthorityReferral(models.Model):
    """On a deliberate outcome, the decision whether to refer the act to the regulator or
    the police: who decided, when, and a note. Decisions are kept; a later one (the police
    as well, or after all) adds a row."""

    class Decision(models.TextChoices):
        REGULATOR = "regulator", _("Refer to the regulator")
        POLICE = "police", _("Refer to the police")
        NOT_REFERRED = "not_referred", _("Not referred")

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="authority_referrals"
    )
    decision = models.CharField(max_length=12, choices=Decision.choices)
    note = models.TextField(help_text=_("Which authority and its reference, or why not."))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=["regulator", "police", "not_referred"]),
                name="authority_referral_decision_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment}: {self.get_decision_display()}"


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        WAIVED = "waived", _("Waived")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="incident_actions"
    )
    due_date = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    note = models.TextField(blank=True, help_text=_("How it was done, or why it was waived."))
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(note=""), name="action_closed_with_a_note"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="action_due_idx")]

    def __str__(self) -> str:
        return self.title


class Review(models.Model):
    """The blameless system review; signed off by a manager who is not the owner."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="review")
    summary = models.TextField()
    contributing_factors = models.TextField()
    spotted_sooner = models.TextField(_("What would have spotted it sooner"))
    went_well = models.TextField(_("What went well"), blank=True)
    effectiveness_check = models.TextField(
        _("Effectiveness check"), blank=True, help_text=_("How we know the fix works.")
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField()
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Review of {self.incident}"


class Lesson(models.Model):
    """An anonymised lesson for the library every employee can read."""

    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="lessons"
    )
    title = models.CharField(max_length=200)
    text = models.TextField()
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    policy_versions = models.ManyToManyField(
        "policies.PolicyVersion", blank=True, related_name="lessons"
    )
    topics = models.ManyToManyField("training.Topic", blank=True, related_name="lessons")

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title


class TalkingPoint(models.Model):
    """ "Add to briefing": a point for presenters of a training topic, from a lesson."""

    topic = models.ForeignKey(
        "training.Topic", on_delete=models.CASCADE, related_name="talking_points"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="talking_points")
    text = models.TextField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.topic}: {self.text[:40]}"
