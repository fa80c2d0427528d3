"""Forms for handling an incident. They validate input; the services do the work.

Forms that change the incident itself carry its `version`: the service refuses the
change when someone else changed the incident after the page was opened.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from incidents import assessment as guide
from incidents.models import ActionItem, Assessment, AuthorityReferral, Incident, Takedown
from incidents.services import DETAIL_FIELDS
from people import roles
from people.models import normalise_email
from policies.manage_forms import PersonByEmailField

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class VersionedForm(forms.Form):
    """A form about the incident as it was when the page was shown."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def handlers():
    """Everyone who may own an incident (the communications team and HR/legal)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=(roles.COMMS, roles.HR_LEGAL))
        .distinct()
        .order_by("full_name", "email")
    )


class OwnerForm(VersionedForm):
    owner = forms.ModelChoiceField(
        queryset=None, label=gettext_lazy("Assign to"), empty_label=gettext_lazy("Choose someone")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = handlers()
        self.fields["owner"].label_from_instance = lambda person: person.get_full_name()


class DetailsForm(VersionedForm):
    severity = forms.ChoiceField(label=gettext_lazy("Severity"), choices=Incident.Severity.choices)
    information = forms.ChoiceField(
        label=gettext_lazy("Kind of information"), choices=Incident.Information.choices
    )
    estimated_reach = forms.IntegerField(
        label=gettext_lazy("Estimated reach"),
        min_value=0,
        required=False,
        help_text=gettext_lazy("People who saw it."),
    )
    platform = forms.ChoiceField(label=gettext_lazy("Platform"), choices=Incident.Platform.choices)
    url = forms.URLField(
        label=gettext_lazy("Link to the post"),
        max_length=500,
        required=False,
        assume_scheme="https",
    )
    account_handle = forms.CharField(
        label=gettext_lazy("Account handle"), max_length=200, required=False
    )
    posted_at = forms.DateTimeField(
        label=gettext_lazy("Posted at"), required=False, widget=DATETIME_INPUT
    )
    noticed_at = forms.DateTimeField(label=gettext_lazy("Noticed at"), widget=DATETIME_INPUT)
    what_happened = forms.CharField(
        label=gettext_lazy("What happened"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10000,
    )

    SERVICE_FIELDS = DETAIL_FIELDS

    @classmethod
    def initial_for(cls, incident: Incident) -> dict:
        initial = {name: getattr(incident, name) for name in cls.SERVICE_FIELDS}
        for name in ("posted_at", "noticed_at"):
            if initial[name]:
                initial[name] = timezone.localtime(initial[name])
        return {**initial, "version": incident.version}

    def clean(self):
        cleaned = super().clean()
        posted, noticed = cleaned.get("posted_at"), cleaned.get("noticed_at")
        if posted and noticed and posted > noticed:
            self.add_error("posted_at", _("It cannot have been posted after it was noticed."))
        return cleaned

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.SERVICE_FIELDS}


class PeopleInvolvedForm(VersionedForm):
    emails = forms.CharField(
        label=gettext_lazy("People involved (email addresses, one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
    no_individual = forms.BooleanField(
        label=gettext_lazy("No individual involved (e.g. a system fault)"), required=False
    )

    def clean(self):
        cleaned = super().clean()
        emails = {
            normalise_email(line)
            for line in cleaned.get("emails", "").replace(",", "\n").splitlines()
            if line.strip()
        }
        people = list(get_user_model().objects.filter(email__in=emails, is_active=True))
        unknown = emails - {person.email for person in people}
        if unknown:
            self.add_error(
                "emails",
                _("No active person has the address %(emails)s.")
                % {"emails": ", ".join(sorted(unknown))},
            )
        if cleaned.get("no_individual") and people:
            self.add_error(None, _("Either name the people involved or say no individual is."))
        if not cleaned.get("no_individual") and not emails:
            self.add_error(
                "emails", _("Name the people involved, or tick “No individual involved”.")
            )
        cleaned["people"] = people
        return cleaned


class TransitionForm(VersionedForm):
    to = forms.ChoiceField(
        # Translators: the status an incident moves to.
        label=pgettext_lazy("incident status", "To"),
        choices=Incident.Status.choices,
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000)


class ReopenForm(VersionedForm):
    note = forms.CharField(
        label=gettext_lazy("Why reopen it"),
        max_length=2000,
        error_messages={"required": gettext_lazy("Say why the incident is reopened.")},
    )


class TakedownForm(forms.Form):
    what = forms.CharField(label=gettext_lazy("What should be taken down"), max_length=300)
    asked_of = forms.CharField(
        label=gettext_lazy("Asked of"),
        max_length=200,
        help_text=gettext_lazy("The platform, the author, a moderator."),
    )


class ResolveTakedownForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[(s.value, s.label) for s in Takedown.Status if s != Takedown.Status.REQUESTED],
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000)


class NoTakedownForm(VersionedForm):
    note = forms.CharField(label=gettext_lazy("Why no takedown is needed"), max_length=2000)


class StatementForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Holding statement"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Screenshot or file"),
        required=False,
        help_text=gettext_lazy(
            "PNG, JPEG, WebP, PDF or plain text. The content is checked, not the name."
        ),
    )
    url = forms.URLField(
        label=gettext_lazy("Link"), max_length=500, required=False, assume_scheme="https"
    )
    platform = forms.ChoiceField(
        label=gettext_lazy("Platform"),
        choices=[("", "—"), *Incident.Platform.choices],
        required=False,
    )
    handle = forms.CharField(label=gettext_lazy("Account handle"), max_length=200, required=False)
    captured_at = forms.DateTimeField(
        label=gettext_lazy("Captured at"),
        required=False,
        widget=DATETIME_INPUT,
        help_text=gettext_lazy("Now if empty."),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("file") and not cleaned.get("url") and not self.errors:
            raise forms.ValidationError(_("Evidence needs a file or a link to the post."))
        return cleaned


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why withdraw it"),
        max_length=2000,
        error_messages={"required": gettext_lazy("Say why this evidence is withdrawn.")},
    )


class TrackForm(VersionedForm):
    track = forms.ChoiceField(
        label=gettext_lazy("Track"),
        choices=[
            (Incident.Track.LEARNING.value, Incident.Track.LEARNING.label),
            (Incident.Track.ACCOUNTABILITY.value, Incident.Track.ACCOUNTABILITY.label),
        ],
        widget=forms.RadioSelect,
    )


class ActionForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("What needs doing"), max_length=300)
    owner = PersonByEmailField(label=gettext_lazy("Owner's email"))
    due_date = forms.DateField(
        label=gettext_lazy("Due date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("Defaults from the severity."),
    )


class DueDateForm(forms.Form):
    due_date = forms.DateField(
        label=gettext_lazy("New due date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": gettext_lazy("Choose the new due date.")},
    )


class CompleteActionForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[
            (ActionItem.Status.DONE.value, gettext_lazy("Done")),
            (ActionItem.Status.WAIVED.value, gettext_lazy("Waived")),
        ],
    )
    note = forms.CharField(
        label=gettext_lazy("How it was done, or why it is waived"), max_length=2000
    )


class ReviewForm(forms.Form):
    summary = forms.CharField(
        label=gettext_lazy("Summary"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )
    contributing_factors = forms.CharField(
        label=gettext_lazy("Contributing factors"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10000,
    )
    spotted_sooner = forms.CharField(
        label=gettext_lazy("What would have spotted it sooner"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=10000,
    )
    went_well = forms.CharField(
        label=gettext_lazy("What went well"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=10000,
    )
    effectiveness_check = forms.CharField(
        label=gettext_lazy("Effectiveness check"),
        required=False,
        help_text=gettext_lazy("How we know the fix works."),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=10000,
    )

    FIELDS = (
        "summary",
        "contributing_factors",
        "spotted_sooner",
        "went_well",
        "effectiveness_check",
    )

    @classmethod
    def initial_for(cls, review) -> dict:
        return {name: getattr(review, name) for name in cls.FIELDS} if review else {}


class LessonForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Lesson title"), max_length=200)
    text = forms.CharField(
        label=gettext_lazy("The lesson, anonymised"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=20000,
        help_text=gettext_lazy("No names, handles or links: every employee can read it."),
    )
    keep_identifying = forms.BooleanField(
        label=gettext_lazy("Keep the names, handles or links on purpose"), required=False
    )


class PolicyRevisionForm(forms.Form):
    policy = forms.IntegerField(label=gettext_lazy("Policy"))


class BriefingForm(forms.Form):
    topic = forms.IntegerField(label=gettext_lazy("Training topic"))
    text = forms.CharField(
        label=gettext_lazy("Talking point"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        help_text=gettext_lazy("The lesson's text if empty."),
    )


# --- the assessment -------------------------------------------------------------


class StartAssessmentForm(forms.Form):
    person = forms.ModelChoiceField(
        queryset=None, label=gettext_lazy("Person"), empty_label=gettext_lazy("Choose a person")
    )
    act = forms.CharField(
        label=gettext_lazy("The one act you are assessing, in a sentence"),
        max_length=300,
        help_text=gettext_lazy(
            "One person and one act at a time, e.g. “Posted the launch date on X”."
        ),
    )

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = incident.people_involved.order_by("full_name")
        self.fields["person"].label_from_instance = lambda person: person.get_full_name()


class AnswerForm(forms.Form):
    """One answer to a question of the run's own question set."""

    # Checked together in clean(), with one message for any wrong answer.
    key = forms.CharField(max_length=40, required=False)
    value = forms.CharField(max_length=40, required=False)

    def __init__(self, *args, question_set: guide.QuestionSet, asked: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.question_set = question_set
        self.asked = asked

    def clean(self):
        cleaned = super().clean()
        key, value = cleaned.get("key"), cleaned.get("value")
        if key not in self.asked:
            raise forms.ValidationError(_("Answer the question shown: that one is not asked now."))
        question = self.question_set.question(key)
        if value not in question.values:
            choices = ", ".join(f"“{guide.shown(option.label)}”" for option in question.options)
            raise forms.ValidationError(
                _("Answer the question shown with one of %(choices)s.") % {"choices": choices}
            )
        return cleaned


class AuthorityReferralForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Regulator or police"),
        choices=AuthorityReferral.Decision.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy(
                "Choose: refer to the regulator, refer to the police, or not referred."
            )
        },
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text=gettext_lazy("Which authority, whom you told and their reference; or why not."),
        error_messages={
            "required": gettext_lazy("Add a note: which authority and its reference, or why not.")
        },
    )


class FinishAssessmentForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Final outcome"),
        choices=Assessment.Outcome.choices,
        widget=forms.RadioSelect,
    )
    override_reason = forms.CharField(
        label=gettext_lazy("Why a different outcome from the suggested one"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )

    def __init__(self, *args, suggested: str, **kwargs):
        kwargs.setdefault("initial", {"outcome": suggested})
        super().__init__(*args, **kwargs)
        self.suggested = suggested

    def clean(self):
        cleaned = super().clean()
        outcome = cleaned.get("outcome")
        if outcome and outcome != self.suggested and not cleaned.get("override_reason", "").strip():
            self.add_error(
                "override_reason",
                _("You chose a different outcome from the suggested one: write down why."),
            )
        return cleaned
