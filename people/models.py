import zoneinfo
from functools import cache

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value and value not in known_time_zones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone (use a name like Europe/London).")
            % {"value": value}
        )


def normalise_email(email: str) -> str:
    """Email addresses are compared without regard to case or surrounding spaces."""
    return (email or "").strip().lower()


def default_language() -> str:
    return settings.LANGUAGE_CODE


class Department(models.Model):
    name = models.CharField(max_length=150, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email=normalise_email(username))

    def _create_user(self, email, password, **extra_fields):
        email = normalise_email(email)
        if not email:
            raise ValueError("A person needs an email address.")
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person in the directory; logs in with their email address."""

    email = models.EmailField(gettext_lazy("email"), max_length=254, unique=True)
    full_name = models.CharField(gettext_lazy("full name"), max_length=200)
    employee_id = models.CharField(gettext_lazy("employee id"), max_length=50, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="direct_reports"
    )
    job_title = models.CharField(gettext_lazy("job title"), max_length=200, blank=True)
    location = models.CharField(gettext_lazy("location"), max_length=200, blank=True)
    time_zone = models.CharField(
        gettext_lazy("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=gettext_lazy("Empty means the site's time zone."),
    )
    language = models.CharField(
        gettext_lazy("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=default_language,
        help_text=gettext_lazy("The language of the pages and emails this person gets."),
    )
    start_date = models.DateField(gettext_lazy("start date"), null=True, blank=True)
    is_active = models.BooleanField(gettext_lazy("active"), default=True)
    is_staff = models.BooleanField(
        gettext_lazy("staff status"),
        default=False,
        help_text=gettext_lazy("May log in to the Django admin site."),
    )
    date_joined = models.DateTimeField(gettext_lazy("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="people_user_email_ci_unique"),
            models.UniqueConstraint(
                fields=["employee_id"],
                condition=~models.Q(employee_id=""),
                name="people_user_employee_id_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(manager=models.F("pk")),
                name="people_user_not_own_manager",
            ),
        ]
        # Lists of people are in this order: a page of 50 is an index scan that stops
        # after 50 rows, however many people there are.
        indexes = [
            models.Index(fields=["full_name", "email", "id"], name="user_listed_order_idx"),
            # The people who have left, a few of everyone: the head of the whole line's
            # team is everyone else, and its figures are everyone's less these
            # (`people.audience.outside_team`), read here rather than from every row.
            models.Index(
                fields=["id"], condition=models.Q(is_active=False), name="user_inactive_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = normalise_email(self.email)
        self._check_management_chain()

    def _check_management_chain(self) -> None:
        """Refuse a manager who already reports to this person, directly or not."""
        if self.manager_id is None:
            return
        if self.pk is not None and self.manager_id == self.pk:
            raise ValidationError({"manager": _("A person cannot be their own manager.")})
        seen = {self.pk}
        current = self.manager
        while current is not None:
            if current.pk in seen:
                raise ValidationError(
                    {
                        "manager": _(
                            "%(manager)s reports to %(person)s, directly or through others: "
                            "that would make a loop in the management chain."
                        )
                        % {"manager": self.manager, "person": self}
                    }
                )
            seen.add(current.pk)
            current = current.manager

    def get_full_name(self) -> str:
        return self.full_name.strip() or self.email

    def get_short_name(self) -> str:
        return self.get_full_name().split()[0]


class ReportingLine(models.Model):
    """One row for each person and each of the managers above them: `person` reports to
    `manager` directly or through others (every manager up the line, never the person
    themself), whether either is active or not. "Who is in X's team" is then one index
    range, however deep the line.

    The database keeps this table: triggers on people_user (made by migration 0007, on
    PostgreSQL and SQLite) rewrite the rows of whoever is below a person whose manager
    changes, who joins or who is deleted, whatever wrote the change (a service, the
    admin, the import's bulk writes, a queryset update, raw SQL, COPY, loaddata). Nothing
    in Python writes it. On another database the table stays empty and
    `people.audience.team` walks the line instead."""

    # No foreign key constraints, no cascade: the triggers remove a deleted person's
    # rows, and Django's delete collector never reads this table. The two indexes below
    # serve both directions, so neither column has an index of its own.
    manager = models.ForeignKey(
        User, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    person = models.ForeignKey(
        User, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )

    class Meta:
        constraints = [
            # "X's team" is a range of this index, read without the table.
            models.UniqueConstraint(
                fields=["manager", "person"], name="people_reportingline_unique"
            ),
        ]
        # "X's managers".
        indexes = [models.Index(fields=["person", "manager"], name="people_reportingline_person")]

    def __str__(self) -> str:
        return f"{self.person_id} reports to {self.manager_id}"
