"""Forms for the reporting pages, the incident list's filters and My actions. They
validate input; the services do the work."""

from __future__ import annotations

import re
from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.models import ActionItem, Incident
from people.models import normalise_email

Platform = Incident.Platform
Information = Incident.Information

# A clock a little fast is not a report from the future.
CLOCK_LEEWAY = timedelta(minutes=5)


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed in the browser's picker, read in the person's time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ReportForm(forms.Form):
    """ "Report an incident": what happened, where, when, what kind, how far, and who."""

    what_happened = forms.CharField(
        label=gettext_lazy("What happened"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "A sentence or two is enough. You do not need to be sure it is a problem."
        ),
        error_messages={"required": gettext_lazy("Tell us what happened, in a sentence or two.")},
    )
    platform = forms.TypedChoiceField(
        label=gettext_lazy("Platform"),
        choices=[("", gettext_lazy("Not sure")), *Platform.choices],
        required=False,
        empty_value=Platform.OTHER,
    )
    url = forms.URLField(
        label=gettext_lazy("Link to the post"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("Copy the address from the browser, if you have it."),
        error_messages={"invalid": gettext_lazy("Enter the full link, starting with https://.")},
    )
    account_handle = forms.CharField(
        label=gettext_lazy("Account handle"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("The account that posted it, for example @name."),
    )
    posted_at = LocalDateTimeField(
        label=gettext_lazy("When was it posted?"),
        required=False,
        help_text=gettext_lazy("Leave it empty if you do not know."),
    )
    noticed_at = LocalDateTimeField(
        label=gettext_lazy("When was it noticed?"),
        required=False,
        help_text=gettext_lazy("Leave it as it is if that was just now."),
    )
    information = forms.TypedChoiceField(
        label=gettext_lazy("What kind of information"),
        choices=[("", gettext_lazy("Not sure")), *Information.choices],
        required=False,
        empty_value=Information.OTHER,
    )
    estimated_reach = forms.IntegerField(
        label=gettext_lazy("Estimated reach"),
        required=False,
        min_value=0,
        max_value=2_000_000_000,
        help_text=gettext_lazy(
            "Roughly how many people could have seen it (followers, views). A guess is fine."
        ),
    )
    people_involved = forms.CharField(
        label=gettext_lazy("People involved (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        help_text=gettext_lazy(
            "Email addresses of colleagues involved, separated by commas. Leave it "
            "empty if you do not know."
        ),
    )

    self_reported = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("noticed_at", timezone.localtime().replace(second=0))

    def clean_people_involved(self):
        """Each address must belong to an active person in the directory."""
        emails = []
        for part in re.split(r"[\s,;]+", self.cleaned_data.get("people_involved") or ""):
            email = normalise_email(part)
            if email and email not in emails:
                emails.append(email)
        if not emails:
            return []
        people = list(get_user_model().objects.filter(is_active=True, email__in=emails))
        unknown = sorted(set(emails) - {person.email for person in people})
        if unknown:
            raise forms.ValidationError(
                _("No active person has the email address %(emails)s."),
                params={"emails": ", ".join(unknown)},
            )
        return people

    def clean(self):
        cleaned = super().clean()
        limit = timezone.now() + CLOCK_LEEWAY
        for name in ("posted_at", "noticed_at"):
            moment = cleaned.get(name)
            if moment and moment > limit:
                self.add_error(
                    name, _("That is in the future: give the date and time it happened.")
                )
        return cleaned

    def report_fields(self) -> dict:
        """The keyword arguments of services.report_incident."""
        data = self.cleaned_data
        return {
            "what_happened": data["what_happened"],
            "self_reported": self.self_reported,
            "platform": data["platform"],
            "url": data["url"],
            "account_handle": data["account_handle"].strip(),
            "posted_at": data["posted_at"],
            "noticed_at": data["noticed_at"],
            "information": data["information"],
            "estimated_reach": data["estimated_reach"],
            "people_involved": data.get("people_involved") or [],
        }


class SelfReportForm(ReportForm):
    """ "Report my own mistake": the same questions; the reporter is the person involved."""

    self_reported = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["people_involved"]
        self.fields["what_happened"].label = _("What happened")
        self.fields["what_happened"].help_text = _(
            "In your own words: what you posted or shared, and where. A sentence or two is enough."
        )
        self.fields["account_handle"].help_text = _(
            "The account you posted from, for example @name."
        )


class IncidentFilterForm(forms.Form):
    """The incident list's filters; every one is optional and a bad value is ignored."""

    q = forms.CharField(
        label=gettext_lazy("Reference"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "INC-2026-0042", "type": "search"}),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *Incident.Status.choices],
    )
    severity = forms.ChoiceField(
        label=gettext_lazy("Severity"),
        required=False,
        choices=[("", gettext_lazy("Any severity")), *Incident.Severity.choices],
    )
    track = forms.ChoiceField(
        label=gettext_lazy("Track"),
        required=False,
        choices=[("", gettext_lazy("Any track")), *Incident.Track.choices],
    )
    overdue = forms.BooleanField(label=gettext_lazy("Only with overdue actions"), required=False)

    def choice_fields(self):
        return [self["status"], self["severity"], self["track"]]

    def filters(self) -> dict:
        """The valid filters as given (empty ones left out)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: value for name, value in data.items() if value and name not in self.errors}


class CloseActionForm(forms.Form):
    """Mark an action done (saying how) or, for the incident team, waived (saying why).
    The button pressed gives the status."""

    status = forms.ChoiceField(
        choices=[
            (ActionItem.Status.DONE, gettext_lazy("Done")),
            (ActionItem.Status.WAIVED, gettext_lazy("Waived")),
        ],
        widget=forms.HiddenInput,
        error_messages={
            "required": gettext_lazy("Choose done or waived."),
            "invalid_choice": gettext_lazy("Choose done."),
        },
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("How it was done, or why it is waived."),
    )

    def __init__(self, *args, may_waive: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.may_waive = may_waive
        if not may_waive:
            self.fields["status"].choices = [(ActionItem.Status.DONE, _("Done"))]
            self.fields["note"].help_text = _("How it was done.")

    def clean(self):
        cleaned = super().clean()
        if "status" in self.errors:
            # A hidden field's error would be shown nowhere: say it for the form.
            raise forms.ValidationError(self.errors.pop("status")[0])
        status = cleaned.get("status")
        if status and not (cleaned.get("note") or "").strip():
            done = status == ActionItem.Status.DONE
            self.add_error(
                "note", _("Say how it was done.") if done else _("Say why it is waived.")
            )
        return cleaned
