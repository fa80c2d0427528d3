"""Forms of the watch-list pages. They read and check the input; the services
(`prevention.watchlist_services`) check the rules (a valid and safe regular expression,
no duplicate, a section of the policy's current version) and make the change."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.models import Incident
from prevention.models import WatchTerm
from prevention.watchlist_services import (
    EXPLANATION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    current_sections,
)

SEARCH_MAX_LENGTH = 100


def _section_value(policy_pk: int, heading: str) -> str:
    return f"{policy_pk}:{heading}"


class WatchTermForm(forms.Form):
    """An entry of the watch list. The policy and its section are one choice, grouped by
    published policy, so that only a heading of the policy's current version can be
    chosen (without a script to fill a second list)."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=WatchTerm.Kind.choices,
        widget=forms.RadioSelect,
        initial=WatchTerm.Kind.TERM,
    )
    text = forms.CharField(
        label=gettext_lazy("Word, phrase or regular expression"),
        max_length=TEXT_MAX_LENGTH,
        strip=True,
        help_text=gettext_lazy(
            "A word or phrase is found whatever its case. A regular expression finds "
            r"figures and variants, for example \b(Q[1-4]|H[12]) revenue\b."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(
        label=gettext_lazy("Name shown to employees"),
        max_length=NAME_MAX_LENGTH,
        required=False,
        strip=True,
        help_text=gettext_lazy(
            "Needed for a regular expression, e.g. “Unpublished quarterly figures”: "
            "employees see this name, never the expression. Optional for a word or phrase: "
            "without it, employees see the words they wrote."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    category = forms.ChoiceField(
        label=gettext_lazy("What kind of information"), choices=Incident.Information.choices
    )
    severity = forms.ChoiceField(
        label=gettext_lazy("Severity"),
        choices=Incident.Severity.choices,
        initial=Incident.Severity.MEDIUM,
    )
    explanation = forms.CharField(
        label=gettext_lazy("Explanation for employees"),
        max_length=EXPLANATION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Shown to an employee whose draft contains it: why it must not be posted."
        ),
    )
    section = forms.ChoiceField(
        label=gettext_lazy("Policy section"),
        required=False,
        help_text=gettext_lazy(
            "The published policy, and the section of its current version, it comes from."
        ),
    )
    expires_on = forms.DateField(
        label=gettext_lazy("Watched until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy(
            "After this day it is no longer watched: a code name stops being secret at "
            "launch. Leave it empty to keep watching."
        ),
    )
    active = forms.BooleanField(
        label=gettext_lazy("Watched"),
        required=False,
        initial=True,
        help_text=gettext_lazy("Untick to keep the entry without matching it."),
    )

    def __init__(self, *args, term: WatchTerm | None = None, **kwargs):
        self.term = term
        if term is not None:
            kwargs.setdefault("initial", {})
            kwargs["initial"] = {**self.initial_of(term), **kwargs["initial"]}
        super().__init__(*args, **kwargs)
        self.sections = current_sections()
        self.fields["section"].choices = self._section_choices()

    @staticmethod
    def initial_of(term: WatchTerm) -> dict:
        return {
            "kind": term.kind,
            "text": term.text,
            "name": term.name,
            "category": term.category,
            "severity": term.severity,
            "explanation": term.explanation,
            "section": _section_value(term.policy_id, term.policy_section)
            if term.policy_id
            else "",
            "expires_on": term.expires_on,
            "active": term.active,
        }

    def _section_choices(self) -> list:
        choices: list = [("", _("No policy"))]
        for policy_pk, (policy, headings) in self.sections.items():
            options = [
                (
                    _section_value(policy_pk, ""),
                    _("%(policy)s: the whole policy") % {"policy": policy.title},
                )
            ]
            options += [(_section_value(policy_pk, heading), heading) for heading in headings]
            choices.append((policy.title, options))
        term = self.term
        if term is not None and term.policy_id:
            # The entry's own section, when its policy changed since: shown as it is, so
            # the page says what it was; the service asks for one that exists.
            current = _section_value(term.policy_id, term.policy_section)
            known = {value for _group, options in choices[1:] for value, _label in options}
            if current not in known:
                if term.policy_section:
                    label = f"{term.policy.title}: {term.policy_section}"
                else:
                    label = _("%(policy)s: the whole policy") % {"policy": term.policy.title}
                choices.append((_("No longer in a published version"), [(current, label)]))
        return choices

    def policy_and_section(self) -> tuple[object, str]:
        value = self.cleaned_data.get("section") or ""
        if not value:
            return None, ""
        policy_pk, _colon, heading = value.partition(":")
        found = self.sections.get(int(policy_pk))
        if found is not None:
            return found[0], heading
        # Only the entry's own, no longer published, policy gets here.
        return self.term.policy, heading

    def service_kwargs(self) -> dict:
        """The keyword arguments of add_term, change_term and term_from_lesson."""
        data = self.cleaned_data
        policy, section = self.policy_and_section()
        return {
            "kind": data["kind"],
            "text": data["text"],
            "name": data["name"],
            "category": data["category"],
            "severity": data["severity"],
            "explanation": data["explanation"],
            "policy": policy,
            "policy_section": section,
            "expires_on": data["expires_on"],
            "active": data["active"],
        }

    def add_service_error(self, error) -> None:
        """A refusal of the service, under the field it is about."""
        field = getattr(error, "field", None)
        field = {"policy": "section", "policy_section": "section"}.get(field, field)
        self.add_error(field if field in self.fields else None, str(error))


class DeleteTermForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Why (optional)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Kept in the watch list's history."),
    )


class WatchListFilterForm(forms.Form):
    """The list's filters. A value that is not valid is never widened into "everything":
    the page says what is wrong and lists nothing."""

    STATES = [
        ("watched", gettext_lazy("Watched now")),
        ("expired", gettext_lazy("Expired")),
        ("off", gettext_lazy("Not watched (unticked)")),
    ]

    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=SEARCH_MAX_LENGTH)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("Any kind")), *WatchTerm.Kind.choices],
    )
    category = forms.ChoiceField(
        label=gettext_lazy("What kind of information"),
        required=False,
        choices=[("", gettext_lazy("Any kind of information")), *Incident.Information.choices],
    )
    state = forms.ChoiceField(
        label=gettext_lazy("Watched"), required=False, choices=[("", gettext_lazy("Any")), *STATES]
    )

    def __init__(self, data):
        super().__init__(data)
        self.is_valid()

    def choice_fields(self):
        return [self["kind"], self["category"], self["state"]]

    def filters(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value}

    def problems(self) -> list[str]:
        return [
            _("%(field)s: %(error)s") % {"field": self.fields[name].label, "error": error}
            for name, errors in self.errors.items()
            for error in errors
        ]
