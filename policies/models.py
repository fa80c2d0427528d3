import hashlib

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from people.models import Department, default_language


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def language_name(code: str) -> str:
    """A language's name in the language of the page ("German" on an English page;
    "English" for en-gb: readers need the language, not the spelling)."""
    for candidate in (code.split("-")[0], code):
        try:
            return str(get_language_info(candidate)["name_translated"])
        except KeyError:
            continue
    return dict(settings.LANGUAGES).get(code, code)


class PolicyError(Exception):
    """A policy action that cannot be done; the message is for people."""


class Policy(models.Model):
    class Category(models.TextChoices):
        SOCIAL_MEDIA = "social-media", _("Social media")
        ACCEPTABLE_USE = "acceptable-use", _("Acceptable use")
        COMMUNICATIONS = "communications", _("Communications")
        SECURITY = "security", _("Information security")
        OTHER = "other", _("Other")

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        DEPARTMENTS = "departments", _("Chosen departments")
        GROUPS = "groups", _("Chosen groups")

    title = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    category = models.CharField(max_length=30, choices=Category.choices, default=Category.OTHER)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_policies"
    )
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.EVERYONE)
    audience_departments = models.ManyToManyField(Department, blank=True, related_name="+")
    audience_groups = models.ManyToManyField(Group, blank=True, related_name="+")
    acknowledgement_window_days = models.PositiveSmallIntegerField(
        default=14, help_text=_("Days people have to acknowledge a version once it takes effect.")
    )
    reacknowledge_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Ask people to acknowledge again after this many months."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = _("policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledgement_window_days__gte=1), name="policy_window_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PolicyVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        PUBLISHED = "published", _("Published")
        SUPERSEDED = "superseded", _("Superseded")
        RETIRED = "retired", _("Retired")

    class Change(models.TextChoices):
        MATERIAL = "material", _("Material: everyone acknowledges again")
        MINOR = "minor", _("Minor: existing acknowledgements stay valid")

    LOCKED = (Status.PUBLISHED, Status.SUPERSEDED, Status.RETIRED)

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    major = models.PositiveSmallIntegerField()
    minor = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    body = models.TextField(help_text=_("Markdown. Headings (##) divide the policy into sections."))
    # The language the author wrote the text in: that text is the authoritative one, and
    # translations (PolicyTranslation) are read beside it.
    language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default=default_language,
        help_text=_("The language of this text, which is the authoritative one."),
    )
    change_summary = models.TextField(blank=True)
    change = models.CharField(max_length=10, choices=Change.choices, default=Change.MATERIAL)
    effective_from = models.DateField(null=True, blank=True)
    scheduled_for = models.DateTimeField(
        null=True, blank=True, help_text=_("An approved version is published at this time.")
    )
    pass_mark = models.PositiveSmallIntegerField(
        default=80, help_text=_("Percentage of quiz answers that must be right, if it has a quiz.")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_versions"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approved_versions",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "-major", "-minor"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "major", "minor"], name="policy_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["policy"],
                condition=Q(status="published"),
                name="policy_one_published_version",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["published", "superseded", "retired"])
                | ~Q(body_sha256=""),
                name="policy_version_locked_has_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} {self.number}"

    def save(self, *args, **kwargs):
        # A published text is what people acknowledged: it never changes. The hash is
        # fixed at publication, so any later change of the body is refused here too,
        # not only in the services.
        if self.is_locked and self.body_sha256 and sha256_text(self.body) != self.body_sha256:
            raise PolicyError(
                f"Version {self.number} is published and cannot be changed; "
                "write a new draft instead."
            )
        super().save(*args, **kwargs)

    @property
    def number(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def is_locked(self) -> bool:
        return self.status in self.LOCKED


class PolicyTranslation(models.Model):
    """A version's title, summary and text in another language than the authoritative
    one. Editable while the version is a draft; fixed (its hash set) when the version is
    published, or at once when it is added to a published version: people acknowledge it."""

    version = models.ForeignKey(
        PolicyVersion, on_delete=models.CASCADE, related_name="translations"
    )
    language = models.CharField(max_length=10, choices=settings.LANGUAGES)
    title = models.CharField(max_length=200)
    change_summary = models.TextField(blank=True)
    body = models.TextField()
    body_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["version", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "language"], name="policy_translation_once_per_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.language})"

    def save(self, *args, **kwargs):
        # Like a published version's text: once fixed, what people acknowledged stays.
        if self.body_sha256 and sha256_text(self.body) != self.body_sha256:
            raise PolicyError("A published translation cannot be changed.")
        super().save(*args, **kwargs)

    @property
    def is_fixed(self) -> bool:
        return bool(self.body_sha256)

    @property
    def language_name(self) -> str:
        return language_name(self.language)

    @property
    def text_sha256(self) -> str:
        return self.body_sha256 or sha256_text(self.body)


class VersionEvent(models.Model):
    """The audit trail of a version's workflow: every transition, who, when, why."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.version}: {self.from_status or 'new'} → {self.to_status}"


class Assignment(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        DECLINED = "declined", _("Declined")
        CLOSED = "closed", _("Closed")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="policy_assignments"
    )
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="assignments")
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="assignments")
    due_date = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    assigned_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="assignment_once"),
            # One thing to do per person and policy at a time.
            models.UniqueConstraint(
                fields=["person", "policy"],
                condition=Q(status="open"),
                name="assignment_one_open_per_policy",
            ),
        ]
        indexes = [
            # Due and overdue acknowledgements, and whose (My team's flags read them
            # from the index alone).
            models.Index(
                fields=["status", "due_date"], include=["person"], name="assignment_due_idx"
            ),
            # The compliance heatmap's count (versions × status × person, and whether
            # acknowledged with a time) is read from this index alone, not the table.
            models.Index(
                fields=["version", "status", "person"],
                include=["completed_at"],
                name="assignment_heatmap_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} – {self.version} ({self.status})"


class Acknowledgement(models.Model):
    """Append-only and chained: each record's hash covers the previous record's hash
    and its own canonical fields, so an altered or removed row is detected."""

    class Method(models.TextChoices):
        WEB = "web", _("In the browser")
        ON_BEHALF = "on_behalf", _("On behalf, by an administrator")

    sequence = models.PositiveBigIntegerField(unique=True)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    acknowledged_at = models.DateTimeField()
    typed_name = models.CharField(max_length=200)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    text_sha256 = models.CharField(max_length=64)
    # The language of the text shown (its SHA-256 is text_sha256). Empty on records
    # written before translations: they showed the version's own text.
    language = models.CharField(max_length=10, blank=True)
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.WEB)
    on_behalf_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    on_behalf_reason = models.TextField(blank=True)
    quiz_score = models.PositiveSmallIntegerField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64, unique=True)
    record_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.person} acknowledged {self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PolicyError("Acknowledgements are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PolicyError("Acknowledgements are never deleted.")

    @property
    def shown_language(self) -> str:
        """The language of the text acknowledged (older records: the version's own)."""
        return self.language or self.version.language


class ChainHead(models.Model):
    """The end of the acknowledgement chain: locked by every append, so that people
    acknowledging at the same moment take turns and the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"#{self.sequence} {self.last_hash[:12]}"


class QuizQuestion(models.Model):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=500)
    choices = models.JSONField(help_text=_("A list of answers."))
    correct = models.PositiveSmallIntegerField(help_text=_("Index of the right answer."))

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class QuizAttempt(models.Model):
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    version = models.ForeignKey(
        PolicyVersion, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    answers = models.JSONField()
    score = models.PositiveSmallIntegerField()
    passed = models.BooleanField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.person} scored {self.score}% on {self.version}"


class Decline(models.Model):
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="policy_declines"
    )
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="declines")
    reason = models.TextField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.person} declined {self.version}"
