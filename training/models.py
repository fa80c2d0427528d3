import secrets
import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from people import audience
from people.models import Department, validate_time_zone


class TrainingError(Exception):
    """A training action that cannot be done; the message is for people."""


def new_checkin_code() -> str:
    """Six characters that are easy to read aloud and type (no 0/O, 1/I/L)."""
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(6))


class Topic(models.Model):
    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Requirement(models.Model):
    """Who must attend which kind of briefing, and how often."""

    name = models.CharField(max_length=200, unique=True)
    audience = models.CharField(max_length=20, choices=audience.CHOICES, default=audience.EVERYONE)
    audience_departments = models.ManyToManyField(Department, blank=True, related_name="+")
    audience_groups = models.ManyToManyField(Group, blank=True, related_name="+")
    accepted_topics = models.ManyToManyField(Topic, related_name="requirements")
    every_months = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1)], help_text=_("Attend again after this long.")
    )
    new_joiners_within_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("New joiners attend within this many days of starting.")
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Series(models.Model):
    class Pattern(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        FORTNIGHTLY = "fortnightly", _("Every second week")
        MONTHLY = "monthly", _("Monthly")

    title = models.CharField(max_length=200)
    pattern = models.CharField(max_length=12, choices=Pattern.choices)
    count = models.PositiveSmallIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return f"{self.title} ({self.get_pattern_display().lower()}, {self.count}×)"


class Session(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Completed")

    title = models.CharField(max_length=200)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="sessions")
    policies = models.ManyToManyField("policies.Policy", blank=True, related_name="sessions")
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="presented_sessions"
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="organised_sessions"
    )
    series = models.ForeignKey(
        Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    time_zone = models.CharField(
        max_length=64, validators=[validate_time_zone], help_text=_("Where the session happens.")
    )
    room = models.CharField(max_length=200, blank=True)
    online_url = models.URLField(blank=True)
    capacity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    lunch_cutoff = models.DateTimeField(
        null=True, blank=True, help_text=_("Lunch is ordered for those booked by then.")
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    sequence = models.PositiveIntegerField(
        default=0, help_text=_("Raised whenever time or place changes (iCalendar SEQUENCE).")
    )
    checkin_code = models.CharField(max_length=12, default=new_checkin_code)
    cancelled_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(room="") | ~Q(online_url=""), name="session_has_a_place"
            ),
        ]
        indexes = [models.Index(fields=["status", "starts_at"], name="session_upcoming_idx")]

    def __str__(self) -> str:
        return f"{self.title}, {self.starts_at:%Y-%m-%d %H:%M}"


class Booking(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        WAITLISTED = "waitlisted", _("On the waitlist")
        CANCELLED = "cancelled", _("Cancelled")
        ATTENDED = "attended", _("Attended")
        LATE = "late", _("Attended, late")
        ABSENT = "absent", _("Absent")
        EXCUSED = "excused", _("Excused")

    ACTIVE = (Status.BOOKED, Status.WAITLISTED)
    PRESENT = (Status.ATTENDED, Status.LATE)

    class Lunch(models.TextChoices):
        STANDARD = "standard", pgettext_lazy("lunch", "Standard")
        VEGETARIAN = "vegetarian", _("Vegetarian")
        VEGAN = "vegan", _("Vegan")
        NONE = "none", _("No lunch, thanks")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="bookings")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookings"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    waitlist_position = models.PositiveIntegerField(null=True, blank=True)
    lunch = models.CharField(max_length=10, choices=Lunch.choices, default=Lunch.STANDARD)
    dietary_needs = models.CharField(max_length=300, blank=True)
    lunch_not_guaranteed = models.BooleanField(default=False)
    walk_in = models.BooleanField(default=False)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    booked_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Raised on each booking-level change (cancel, book again), on top of the session's.
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["session", "status", "waitlist_position", "booked_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "person"], name="booking_once_per_session"),
            models.CheckConstraint(
                condition=Q(status="waitlisted", waitlist_position__isnull=False)
                | (~Q(status="waitlisted") & Q(waitlist_position__isnull=True)),
                name="booking_waitlist_has_position",
            ),
        ]
        indexes = [
            # Who was present at a requirement's sessions (compliance, My team): read
            # session by session from the index alone, not the table.
            models.Index(
                fields=["session", "status"], include=["person"], name="booking_attendance_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} – {self.session} ({self.status})"

    @property
    def invite_sequence(self) -> int:
        return self.session.sequence + self.sequence


class Feedback(models.Model):
    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.booking}: {self.rating}/5"


class CheckInAttempt(models.Model):
    """Self check-in tries, kept to limit guessing of codes."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    succeeded = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["person", "session", "at"], name="checkin_attempt_idx")]

    def __str__(self) -> str:
        return f"{self.person} at {self.session}: {'ok' if self.succeeded else 'wrong'}"


class SetupChange(models.Model):
    """The audit of the programme's set-up: who added or changed which requirement or
    topic, when, and its fields before and after."""

    class Kind(models.TextChoices):
        REQUIREMENT = "requirement", _("Requirement")
        TOPIC = "topic", _("Topic")

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    requirement = models.ForeignKey(
        Requirement, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    name = models.CharField(max_length=200)  # kept when the requirement or topic is deleted
    action = models.CharField(max_length=10, choices=Action.choices)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.name}: {self.action}"
