"""The Remediation dashboard's filters, and what a figure's link adds to them.

A value that is not valid is never silently widened into "everything": the filter form
says what is wrong and the page falls back to its defaults for that field; a link with
a bad value lists nothing and says why.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dashboards import remediation
from dashboards.remediation import EXPOSURE
from incidents.models import Assessment, Incident
from people.audience import with_sub_departments

MAX_PERIOD = timedelta(days=3 * 366)
EARLIEST = date(2000, 1, 1)
QUARTER = re.compile(r"^\d{4}-Q[1-4]$")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


class RemediationFilterForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("Noticed from"), required=False, widget=DateInput())
    end = forms.DateField(label=gettext_lazy("to"), required=False, widget=DateInput())
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("All departments"),
        error_messages={"invalid_choice": gettext_lazy("Choose one of the departments listed.")},
    )
    platform = forms.ChoiceField(
        label=gettext_lazy("Platform"),
        required=False,
        choices=[("", gettext_lazy("All platforms")), *Incident.Platform.choices],
        error_messages={"invalid_choice": gettext_lazy("Choose one of the platforms listed.")},
    )

    def __init__(self, data, *, viewer: remediation.Viewer, default_period: bool = True):
        super().__init__(data)
        self.default_period = default_period
        self.fields["department"].queryset = viewer.departments()

    def _bounded(self, name: str):
        day = self.cleaned_data.get(name)
        latest = timezone.localdate() + timedelta(days=366)
        if day is not None and not EARLIEST <= day <= latest:
            raise forms.ValidationError(
                _("Choose a date between %(earliest)s and %(latest)s.")
                % {
                    "earliest": date_format(EARLIEST, "j M Y"),
                    "latest": date_format(latest, "j M Y"),
                }
            )
        return day

    def clean_start(self):
        return self._bounded("start")

    def clean_end(self):
        return self._bounded("end")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The start of the period is after its end."))
        # The dashboard draws a column a month: a start alone runs to today.
        last = end or (timezone.localdate() if self.default_period else None)
        if start and last and last - start > MAX_PERIOD:
            raise forms.ValidationError(_("Choose a period of at most three years."))
        return cleaned

    def filters(self) -> remediation.Filters:
        """The valid filters; a field with an error falls back to its default."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        start, end = data.get("start"), data.get("end")
        if self.non_field_errors():
            start = end = None
        if self.default_period:
            default_start, default_end = remediation.default_period(timezone.localdate())
            start, end = (
                start or (end and end - timedelta(days=365)) or default_start,
                (end or default_end),
            )
            if start > end:
                start = end - timedelta(days=365)
            start = max(start, EARLIEST)  # a year before an early end goes no further back
        department = data.get("department")
        return remediation.Filters(
            start=start,
            end=end,
            department=department,
            platform=data.get("platform") or "",
            department_ids=frozenset(with_sub_departments([department.pk]) if department else ()),
        )


class DrillForm(forms.Form):
    """What a figure's link adds: the bucket the figure counted."""

    open = forms.BooleanField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", ""), *Incident.Status.choices])
    severity = forms.ChoiceField(required=False, choices=[("", ""), *Incident.Severity.choices])
    track = forms.ChoiceField(required=False, choices=[("", ""), *Incident.Track.choices])
    information = forms.ChoiceField(
        required=False, choices=[("", ""), *Incident.Information.choices]
    )
    outcome = forms.ChoiceField(required=False, choices=[("", ""), *Assessment.Outcome.choices])
    quarter = forms.RegexField(QUARTER, required=False)
    contained = forms.RegexField(MONTH, required=False)
    closed = forms.RegexField(MONTH, required=False)
    late_review = forms.BooleanField(required=False)
    review_due = forms.BooleanField(required=False)
    exposure = forms.ChoiceField(
        required=False, choices=[("", ""), *((slug, name) for slug, name, _, _ in EXPOSURE)]
    )
    overdue = forms.ChoiceField(
        required=False,
        choices=[("", ""), ("all", ""), *((n, n) for n, _, _ in remediation.OVERDUE_BUCKETS)],
    )
    noticed_by = forms.ChoiceField(
        required=False, choices=[("", ""), *remediation.NoticedBy.choices]
    )

    def __init__(self, data, *, sees_outcomes: bool):
        super().__init__(data)
        self.sees_outcomes = sees_outcomes

    def clean_quarter(self):
        quarter = self.cleaned_data["quarter"]
        if quarter and remediation.quarter_range(quarter) is None:
            raise forms.ValidationError(_("No such quarter."))
        return quarter

    def _month(self, name: str):
        month = self.cleaned_data[name]
        if month and remediation.month_range(month) is None:
            raise forms.ValidationError(_("No such month."))
        return month

    def clean_contained(self):
        return self._month("contained")

    def clean_closed(self):
        return self._month("closed")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") and not cleaned.get("quarter"):
            raise forms.ValidationError(_("An outcome goes with a quarter."))
        if cleaned.get("outcome") and not self.sees_outcomes:
            # Outcomes are about one person: only HR/legal list incidents by them.
            raise forms.ValidationError(_("This list is not available to you."))
        return cleaned

    def drill(self) -> remediation.Drill | None:
        """The drill-down, or None when the link is not valid."""
        if not self.is_valid():
            return None
        return remediation.Drill(**self.cleaned_data)

    def problem(self) -> str:
        names = [name for name in self.errors if name != "__all__"]
        if names:
            return _("This link has a value that is not valid (%(names)s).") % {
                "names": ", ".join(sorted(names))
            }
        return " ".join(self.non_field_errors())
