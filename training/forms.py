"""Forms for the training pages. They validate input; the services do the work.

Times: an organiser types the wall-clock time of the place where the session
happens, and chooses that place's time zone; the form turns the two into an aware
datetime. A time the clocks skip in that zone is refused rather than guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from people import audience
from people.models import Department, known_time_zones, normalise_email
from policies.models import Policy
from training.models import Booking, Requirement, Series, Session, Topic

# --- fields -------------------------------------------------------------------------


class PersonByEmailField(forms.ModelChoiceField):
    """An active person, typed as their email address (the directory is too big for a list)."""

    default_error_messages = {"invalid_choice": _("No active person has that email address.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.EmailInput(attrs={"autocomplete": "off"}))
        super().__init__(
            queryset=get_user_model().objects.filter(is_active=True),
            to_field_name="email",
            **kwargs,
        )

    def to_python(self, value):
        return super().to_python(normalise_email(value) if value else value)


class WallClockField(forms.DateTimeField):
    """A date and time as a clock on the wall shows it: naive, without a zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value):
        # DateTimeField makes the value aware in the current zone; in UTC nothing is
        # ambiguous, so the wall-clock reading comes back unchanged.
        with timezone.override(UTC):
            result = super().to_python(value)
        return result.astimezone(UTC).replace(tzinfo=None) if result else result


def in_zone(wall_clock: datetime, zone_name: str) -> datetime:
    """The aware moment a wall clock in `zone_name` shows; a skipped time is refused."""
    zone = ZoneInfo(zone_name)
    if not 2000 <= wall_clock.year <= 2200:
        raise forms.ValidationError(gettext("Choose a date between the years 2000 and 2200."))
    moment = wall_clock.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall_clock:
        raise forms.ValidationError(
            gettext(
                "%(time)s does not exist on %(day)s in %(zone)s: the clocks go forward then. "
                "Choose another time."
            )
            % {
                "time": f"{wall_clock:%H:%M}",
                "day": formats.date_format(wall_clock, "j F Y"),
                "zone": zone_name,
            }
        )
    return moment


def wall_clock(moment: datetime, zone_name: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None)


def default_time_zone(user) -> str:
    return getattr(user, "time_zone", "") or settings.TIME_ZONE


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(known_time_zones())]


# --- organisers: sessions and series -------------------------------------------------


class _SessionTimes(forms.Form):
    """Start, length and time zone, cleaned into `starts_at` and `ends_at`."""

    starts = WallClockField(
        label=_("Starts"),
        help_text=_("As the clocks show it where the session happens: in the time zone below."),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    length_minutes = forms.IntegerField(
        label=_("Length (minutes)"), min_value=5, max_value=8 * 60, initial=60
    )
    room = forms.CharField(label=_("Room"), max_length=200, required=False)
    online_url = forms.URLField(
        label=_("Online link"),
        required=False,
        assume_scheme="https",
        help_text=_("For a hybrid or online session."),
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("room") and not cleaned.get("online_url"):
            if "room" not in self.errors and "online_url" not in self.errors:
                self.add_error("room", gettext("Give a room, an online link, or both."))
        starts, zone = cleaned.get("starts"), cleaned.get("time_zone")
        if starts and zone:
            try:
                cleaned["starts_at"] = in_zone(starts, zone)
            except forms.ValidationError as error:
                self.add_error("starts", error)
            else:
                if cleaned["starts_at"] <= timezone.now():
                    self.add_error("starts", gettext("Choose a time in the future."))
                elif cleaned.get("length_minutes"):
                    cleaned["ends_at"] = cleaned["starts_at"] + timedelta(
                        minutes=cleaned["length_minutes"]
                    )
        return cleaned


class SessionForm(_SessionTimes):
    title = forms.CharField(label=_("Title"), max_length=200)
    topic = forms.ModelChoiceField(
        label=_("Topic"),
        queryset=Topic.objects.all(),
        help_text=_("Requirements accept sessions by topic."),
    )
    policies = forms.ModelMultipleChoiceField(
        label=_("Policies covered"),
        queryset=Policy.objects.order_by("title"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Attendance shows on the compliance page of these policies."),
    )
    presenter = PersonByEmailField(
        label=_("Presenter's email"),
        help_text=_("The presenter sees the roster and takes attendance."),
    )
    capacity = forms.IntegerField(label=_("Seats"), min_value=1, max_value=1000, initial=20)
    lunch_cutoff_hours = forms.IntegerField(
        label=_("Lunch order closes (hours before the start)"),
        min_value=0,
        max_value=24 * 14,
        initial=48,
        required=False,
        help_text=_(
            "People who book later are told lunch is not guaranteed. Empty: no lunch order."
        ),
    )
    field_order = [
        "title",
        "topic",
        "policies",
        "presenter",
        "starts",
        "time_zone",
        "length_minutes",
        "room",
        "online_url",
        "capacity",
        "lunch_cutoff_hours",
    ]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        hours = data["lunch_cutoff_hours"]
        return {
            "title": data["title"],
            "topic": data["topic"],
            "policies": data["policies"],
            "presenter": data["presenter"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "time_zone": data["time_zone"],
            "room": data["room"],
            "online_url": data["online_url"],
            "capacity": data["capacity"],
            "lunch_cutoff": None if hours is None else data["starts_at"] - timedelta(hours=hours),
        }


class SeriesForm(SessionForm):
    pattern = forms.ChoiceField(
        label=_("Repeats"),
        choices=Series.Pattern.choices,
        initial=Series.Pattern.FORTNIGHTLY,
        widget=forms.RadioSelect,
        help_text=_("At the same local time each time, across clock changes."),
    )
    count = forms.IntegerField(label=_("Number of sessions"), min_value=2, max_value=52, initial=6)
    field_order = [*SessionForm.field_order[:7], "pattern", "count"]


class SessionChangeForm(_SessionTimes):
    """Time and place of a scheduled session: everyone booked gets an updated invite."""

    @classmethod
    def initial_for(cls, session: Session) -> dict:
        return {
            "starts": wall_clock(session.starts_at, session.time_zone),
            "length_minutes": int((session.ends_at - session.starts_at).total_seconds() // 60),
            "time_zone": session.time_zone,
            "room": session.room,
            "online_url": session.online_url,
        }

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "time_zone": data["time_zone"],
            "room": data["room"],
            "online_url": data["online_url"],
        }


class CancelSessionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Everyone booked or waiting is told, with this reason."),
        error_messages={"required": _("Say why the session is cancelled.")},
    )


class RequirementForm(forms.ModelForm):
    class Meta:
        model = Requirement
        fields = [
            "name",
            "audience",
            "audience_departments",
            "audience_groups",
            "accepted_topics",
            "every_months",
            "new_joiners_within_days",
            "active",
        ]
        labels = {
            "name": _("Name"),
            "audience": _("Who must attend"),
            "audience_departments": _("Departments"),
            "audience_groups": _("Groups"),
            "accepted_topics": _("Accepted topics"),
            "every_months": _("Every (months)"),
            "new_joiners_within_days": _("New joiners within (days)"),
            "active": _("Active"),
        }
        help_texts = {
            "audience_departments": _("For “Chosen departments”. Sub-departments are included."),
            "audience_groups": _("For “Chosen groups”."),
            "accepted_topics": _("A session of any of these topics counts."),
            "every_months": _("Attend again after this many months."),
            "new_joiners_within_days": _(
                "Optional: new joiners attend within this many days of their start date."
            ),
            "active": _("An inactive requirement asks nobody to attend."),
        }
        widgets = {
            "audience": forms.RadioSelect,
            "audience_departments": forms.CheckboxSelectMultiple,
            "audience_groups": forms.CheckboxSelectMultiple,
            "accepted_topics": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audience"].choices = audience.CHOICES
        self.fields["audience_departments"].queryset = Department.objects.all()
        self.fields["audience_groups"].queryset = Group.objects.order_by("name")
        self.fields["accepted_topics"].error_messages["required"] = _("Choose at least one topic.")

    def validate_unique(self):
        """The service refuses a duplicate name, in any case, with its own message."""


class TopicForm(forms.ModelForm):
    """Fields only: requirement_services.add_topic checks and saves."""

    class Meta:
        model = Topic
        fields = ["name", "description"]
        labels = {"name": _("Name"), "description": _("Description")}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def validate_unique(self):
        """The service refuses a duplicate name, in any case, with its own message."""


# --- everyone: booking, check-in, feedback --------------------------------------------


class BookingForm(forms.Form):
    lunch = forms.ChoiceField(
        label=_("Lunch"),
        choices=Booking.Lunch.choices,
        initial=Booking.Lunch.STANDARD,
        widget=forms.RadioSelect,
    )
    dietary_needs = forms.CharField(
        label=_("Dietary needs"),
        max_length=300,
        required=False,
        help_text=_("Allergies or anything else the caterer should know."),
    )


class BookForForm(BookingForm):
    """Book for someone else: a line manager chooses one of their reports, a policy admin
    types anyone's email address."""

    prefix = "for"  # the page also holds the booker's own form, with the same fields
    field_order = ["person", "lunch", "dietary_needs"]

    def __init__(self, *args, reports=None, **kwargs):
        super().__init__(*args, **kwargs)
        if reports is None:
            self.fields["person"] = PersonByEmailField(
                label=_("Person's email"), help_text=_("Anyone in the directory.")
            )
        else:
            self.fields["person"] = forms.ModelChoiceField(
                label=_("Person"),
                queryset=reports,
                empty_label=_("Choose one of your reports"),
                error_messages={
                    "invalid_choice": _("You can book for your direct reports only."),
                    "required": _("Choose one of your reports."),
                },
            )
        self.order_fields(self.field_order)


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=_("Check-in code"),
        max_length=12,
        help_text=_("Shown in the room by the presenter."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        error_messages={"required": _("Type the code shown in the room.")},
    )


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How was it?"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "form-check-inline"}),
        help_text=_("1 is poor, 5 is excellent."),
        error_messages={"required": _("Choose from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What worked, and what would make it better."),
    )


ROSTER_MARKS = [
    (Booking.Status.ATTENDED, _("Attended")),
    (Booking.Status.LATE, _("Late")),
    (Booking.Status.ABSENT, _("Absent")),
    (Booking.Status.EXCUSED, _("Excused")),
]


class RosterForm(forms.Form):
    """One mark per person, and one for everyone still unmarked: one submit."""

    everyone_else = forms.ChoiceField(
        label=_("Everyone still unmarked"),
        choices=[("", _("Leave unmarked")), *ROSTER_MARKS],
        required=False,
    )

    def __init__(self, *args, bookings, **kwargs):
        super().__init__(*args, **kwargs)
        self.bookings = list(bookings)
        for booking in self.bookings:
            unmarked = booking.status == Booking.Status.BOOKED
            self.fields[self.field_name(booking)] = forms.ChoiceField(
                label=gettext("Attendance of %(name)s") % {"name": booking.person.get_full_name()},
                choices=[("", gettext("Not marked")), *ROSTER_MARKS] if unmarked else ROSTER_MARKS,
                initial="" if unmarked else booking.status,
                required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    @staticmethod
    def field_name(booking: Booking) -> str:
        return f"mark_{booking.pk}"

    def bound_rows(self):
        return [(booking, self[self.field_name(booking)]) for booking in self.bookings]

    def marks(self) -> dict[int, str]:
        marks = {}
        rest = self.cleaned_data.get("everyone_else")
        for booking in self.bookings:
            chosen = self.cleaned_data.get(self.field_name(booking))
            if chosen and chosen != booking.status:
                marks[booking.pk] = chosen
            elif not chosen and rest and booking.status == Booking.Status.BOOKED:
                marks[booking.pk] = rest
        return marks
