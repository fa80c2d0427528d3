"""My team's list parameters. A value that is not valid (a null character, which
PostgreSQL refuses in a query; a search longer than the field) is never sent to the
database nor quietly shortened into another search: the form says what is wrong, and
the list leaves that filter out."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboards.team import SEARCH_MAX_LENGTH


class TeamFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False, max_length=SEARCH_MAX_LENGTH)
    direct = forms.TypedChoiceField(
        label=_("Direct reports only"),
        required=False,
        choices=[("1", _("Direct reports only"))],
        coerce=lambda value: value == "1",
        empty_value=False,
        error_messages={"invalid_choice": _("Tick the box or leave it empty.")},
    )
    overdue = forms.TypedChoiceField(
        label=_("Only people with something overdue"),
        required=False,
        choices=[("1", _("Only people with something overdue"))],
        coerce=lambda value: value == "1",
        empty_value=False,
        error_messages={"invalid_choice": _("Tick the box or leave it empty.")},
    )

    def __init__(self, data):
        super().__init__(data)
        self.is_valid()

    def filters(self) -> dict:
        """The arguments of `team_people`; a field with an error falls back to its default."""
        cleaned = self.cleaned_data
        return {
            "direct_only": bool(cleaned.get("direct", False)),
            "search": cleaned.get("q", ""),
            "overdue_only": bool(cleaned.get("overdue", False)),
        }

    def problems(self) -> list[str]:
        """What is wrong, one sentence per error, naming the field."""
        return [
            f"{self.fields[name].label}: {error}"
            for name, errors in self.errors.items()
            for error in errors
        ]
