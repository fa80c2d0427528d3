"""Forms for the policy admin pages. They validate input; the services do the work."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from people.models import Department, normalise_email
from policies.models import Policy, PolicyVersion, language_codes, language_name


def form_errors(form) -> str:
    """A form's errors in one line, for a message after a redirect."""
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


class PersonByEmailField(forms.ModelChoiceField):
    """An active person, typed as their email address.

    A text field rather than a list of everyone: the directory can hold thousands
    of people, and a page listing them all would be slow to load and to use.
    """

    default_error_messages = {
        "invalid_choice": _("No active person has that email address."),
    }

    def __init__(self, *, queryset=None, **kwargs):
        if queryset is None:
            queryset = get_user_model().objects.filter(is_active=True)
        kwargs.setdefault("widget", forms.EmailInput(attrs={"autocomplete": "off"}))
        super().__init__(queryset=queryset, to_field_name="email", **kwargs)

    def to_python(self, value):
        return super().to_python(normalise_email(value) if value else value)


class PolicySettingsForm(forms.Form):
    """Owner, category, audience, acknowledgement window, re-acknowledgement period."""

    category = forms.ChoiceField(label=_("Category"), choices=Policy.Category.choices)
    owner = PersonByEmailField(
        label=_("Owner's email"),
        help_text=_(
            "The owner answers questions about the policy and is told when someone declines it."
        ),
    )
    audience = forms.ChoiceField(
        label=_("Who must read and acknowledge it"),
        choices=Policy.Audience.choices,
        widget=forms.RadioSelect,
    )
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For “Chosen departments”. Sub-departments are included."),
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For “Chosen groups”."),
    )
    acknowledgement_window_days = forms.IntegerField(
        label=_("Acknowledgement window (days)"),
        min_value=1,
        max_value=365,
        initial=14,
        help_text=_("Days people have to acknowledge a version once it takes effect."),
    )
    reacknowledge_months = forms.IntegerField(
        label=_("Acknowledge again after (months)"),
        min_value=1,
        max_value=120,
        required=False,
        help_text=_("Leave empty if one acknowledgement per version is enough."),
    )

    def clean(self):
        cleaned = super().clean()
        audience = cleaned.get("audience")
        if audience == Policy.Audience.DEPARTMENTS and not cleaned.get("departments"):
            self.add_error("departments", _("Choose at least one department."))
        if audience == Policy.Audience.GROUPS and not cleaned.get("groups"):
            self.add_error("groups", _("Choose at least one group."))
        return cleaned

    @classmethod
    def initial_for(cls, policy: Policy) -> dict:
        return {
            "category": policy.category,
            "owner": policy.owner,
            "audience": policy.audience,
            "departments": list(policy.audience_departments.all()),
            "groups": list(policy.audience_groups.all()),
            "acknowledgement_window_days": policy.acknowledgement_window_days,
            "reacknowledge_months": policy.reacknowledge_months,
        }

    def service_kwargs(self) -> dict:
        """The cleaned data in the words of create_policy and update_policy."""
        data = self.cleaned_data
        return {
            "owner": data["owner"],
            "category": data["category"],
            "audience": data["audience"],
            "departments": data["departments"],
            "groups": data["groups"],
            "acknowledgement_window_days": data["acknowledgement_window_days"],
            "reacknowledge_months": data["reacknowledge_months"],
        }


class PolicyCreateForm(PolicySettingsForm):
    """A new policy and, if a body is given, its first draft (version 1.0)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("First draft (Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "class": "font-monospace"}),
        help_text=_(
            "Optional: leave it empty to write the draft on the next page. "
            "Headings (## Heading) divide the policy into sections."
        ),
    )
    change_summary = forms.CharField(
        label=_("Summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What this version is about, shown to readers."),
    )
    field_order = ["title", "category", "owner", "audience"]

    def clean_title(self):
        title = " ".join(self.cleaned_data["title"].split())
        if not slugify(title):
            raise forms.ValidationError(_("Use some letters or digits in the title."))
        if (
            Policy.objects.filter(title__iexact=title).exists()
            or Policy.objects.filter(slug=slugify(title)[:200]).exists()
        ):
            raise forms.ValidationError(_("A policy with this title already exists."))
        return title


class DraftForm(forms.Form):
    """The text of a draft. A first version is always material, so the choice is hidden."""

    body = forms.CharField(
        label=_("Policy text (Markdown)"),
        widget=forms.Textarea(attrs={"rows": 22, "class": "font-monospace"}),
        help_text=_(
            "Headings (## Heading) divide the policy into sections; readers of an "
            "earlier version see what changed section by section."
        ),
    )
    change_summary = forms.CharField(
        label=_("Change summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What changed and why, in a sentence or two, shown to readers."),
    )
    change = forms.ChoiceField(
        label=_("Kind of change"),
        choices=PolicyVersion.Change.choices,
        initial=PolicyVersion.Change.MATERIAL,
        widget=forms.RadioSelect,
    )
    language = forms.ChoiceField(
        label=_("Language of the text"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=_(
            "The text in this language is the authoritative one. Translations into "
            "other languages are added on the version's page."
        ),
    )
    effective_from = forms.DateField(
        label=_("Effective from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Due dates count from this day; empty means the day it is published."),
    )

    def __init__(self, *args, first_version: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.first_version = first_version
        if first_version:
            del self.fields["change"]

    @classmethod
    def initial_for(cls, version: PolicyVersion) -> dict:
        return {
            "body": version.body,
            "change_summary": version.change_summary,
            "change": version.change,
            "effective_from": version.effective_from,
            "language": version.language,
        }

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "body": data["body"],
            "change_summary": data["change_summary"],
            "change": data.get("change") or PolicyVersion.Change.MATERIAL,
            "effective_from": data["effective_from"],
            # Left out (an older page): the language stays as it is.
            "language": data.get("language") or None,
        }


class NoteForm(forms.Form):
    """An optional note kept in the version's audit trail."""

    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class ScheduleForm(NoteForm):
    at = forms.DateTimeField(
        label=_("Publish on"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": "form-control form-control-sm"},
            format="%Y-%m-%dT%H:%M",
        ),
        help_text=_("In your time zone."),
    )

    def clean_at(self):
        at = self.cleaned_data["at"]
        if at <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future, or use “Publish now”."))
        return at


class CompareForm(forms.Form):
    """Two versions of one policy to compare (`?from=&to=`); the choices are its versions."""

    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(v.pk, f"{v.number} ({v.get_status_display().lower()})") for v in versions]
        invalid = {"invalid_choice": _("That is not a version of this policy.")}
        for name, label in (("from", _("From")), ("to", _("To"))):
            self.fields[name] = forms.TypedChoiceField(
                label=label,
                choices=choices,
                coerce=int,
                error_messages=invalid,
                widget=forms.Select(attrs={"class": "form-select"}),
            )


class OnBehalfForm(forms.Form):
    person = PersonByEmailField(
        label=_("Person's email"),
        help_text=_("Someone who still has to acknowledge this version."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text=_("How they acknowledged (a signed paper copy, say). Kept in the record."),
    )

    def __init__(self, *args, outstanding=None, **kwargs):
        super().__init__(*args, **kwargs)
        if outstanding is not None:
            self.fields["person"].queryset = outstanding
            self.fields["person"].error_messages["invalid_choice"] = _(
                "That person has nothing outstanding for this version."
            )


class TranslationForm(forms.Form):
    """A translation of a version's title, summary and text. The language is chosen
    when it is added; the services refuse the authoritative language and a second
    translation into the same one."""

    language = forms.CharField(label=_("Language"), widget=forms.Select)
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        help_text=_("The policy's title in this language."),
        error_messages={"required": _("Give the translation a title.")},
    )
    change_summary = forms.CharField(
        label=_("Summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The change summary in this language; empty shows the authoritative one."),
    )
    body = forms.CharField(
        label=_("Translated text (Markdown)"),
        widget=forms.Textarea(attrs={"rows": 22, "class": "font-monospace"}),
        help_text=_("Keep the headings (## Heading) of the authoritative text, translated."),
        error_messages={"required": _("The translation has no text. Write or paste it.")},
    )

    def __init__(self, *args, version: PolicyVersion, adding: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not adding:
            del self.fields["language"]
            return
        taken = {version.language, *version.translations.values_list("language", flat=True)}
        self.fields["language"].widget.choices = [
            (code, language_name(code)) for code in language_codes() if code not in taken
        ]

    def clean_language(self):
        language = self.cleaned_data["language"]
        if language not in language_codes():
            raise forms.ValidationError(
                _("PolicyHub has no language “%(language)s”. Choose one of its languages."),
                params={"language": language},
            )
        return language

    @classmethod
    def initial_for(cls, translation) -> dict:
        return {
            "title": translation.title,
            "change_summary": translation.change_summary,
            "body": translation.body,
        }
