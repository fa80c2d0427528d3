"""Forms for handling an incident. They validate input; the services do the work.

Forms that change the incident itself carry its `version`: the service refuses the
change when someone else changed the incident after the page was opened.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents import assessment as guide
from incidents.models import ActionItem, Assessment, AuthorityReferral, Incident, Takedown
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
    owner = forms.ModelChoiceField(queryset=None, label="Assign to", empty_label="Choose someone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = handlers()
        self.fields["owner"].label_from_instance = lambda person: person.get_full_name()


class DetailsForm(VersionedForm):
    severity = forms.ChoiceField(choices=Incident.Severity.choices)
    information = forms.ChoiceField(
        label="Kind of information", choices=Incident.Information.choices
    )
    estimated_reach = forms.IntegerField(
        label="Estimated reach", min_value=0, required=False, help_text="People who saw it."
    )
    platform = forms.ChoiceField(choices=Incident.Platform.choices)
    url = forms.URLField(
        label="Link to the post", max_length=500, required=False, assume_scheme="https"
    )
    account_handle = forms.CharField(label="Account handle", max_length=200, required=False)
    posted_at = forms.DateTimeField(label="Posted at", required=False, widget=DATETIME_INPUT)
    noticed_at = forms.DateTimeField(label="Noticed at", widget=DATETIME_INPUT)
    what_happened = forms.CharField(
        label="What happened", widget=forms.Textarea(attrs={"rows": 4}), max_length=10000
    )

    SERVICE_FIELDS = (
        "severity",
        "information",
        "estimated_reach",
        "platform",
        "url",
        "account_handle",
        "posted_at",
        "noticed_at",
        "what_happened",
    )

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
            self.add_error("posted_at", "It cannot have been posted after it was noticed.")
        return cleaned

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.SERVICE_FIELDS}


class PeopleInvolvedForm(VersionedForm):
    emails = forms.CharField(
        label="People involved (email addresses, one per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
    no_individual = forms.BooleanField(
        label="No individual involved (e.g. a system fault)", required=False
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
                "emails", f"No active person has the address {', '.join(sorted(unknown))}."
            )
        if cleaned.get("no_individual") and people:
            self.add_error(None, "Either name the people involved or say no individual is.")
        if not cleaned.get("no_individual") and not emails:
            self.add_error("emails", "Name the people involved, or tick “No individual involved”.")
        cleaned["people"] = people
        return cleaned


class TransitionForm(VersionedForm):
    to = forms.ChoiceField(choices=Incident.Status.choices)
    note = forms.CharField(required=False, max_length=2000)


class ReopenForm(VersionedForm):
    note = forms.CharField(
        label="Why reopen it",
        max_length=2000,
        error_messages={"required": "Say why the incident is reopened."},
    )


class TakedownForm(forms.Form):
    what = forms.CharField(label="What should be taken down", max_length=300)
    asked_of = forms.CharField(
        label="Asked of", max_length=200, help_text="The platform, the author, a moderator."
    )


class ResolveTakedownForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in Takedown.Status if s != Takedown.Status.REQUESTED]
    )
    note = forms.CharField(required=False, max_length=2000)


class NoTakedownForm(VersionedForm):
    note = forms.CharField(label="Why no takedown is needed", max_length=2000)


class StatementForm(forms.Form):
    text = forms.CharField(
        label="Holding statement", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label="Screenshot or file",
        required=False,
        help_text="PNG, JPEG, WebP, PDF or plain text. The content is checked, not the name.",
    )
    url = forms.URLField(label="Link", max_length=500, required=False, assume_scheme="https")
    platform = forms.ChoiceField(choices=[("", "—"), *Incident.Platform.choices], required=False)
    handle = forms.CharField(label="Account handle", max_length=200, required=False)
    captured_at = forms.DateTimeField(
        label="Captured at", required=False, widget=DATETIME_INPUT, help_text="Now if empty."
    )
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("file") and not cleaned.get("url") and not self.errors:
            raise forms.ValidationError("Evidence needs a file or a link to the post.")
        return cleaned


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why withdraw it",
        max_length=2000,
        error_messages={"required": "Say why this evidence is withdrawn."},
    )


class TrackForm(VersionedForm):
    track = forms.ChoiceField(
        choices=[
            (Incident.Track.LEARNING.value, Incident.Track.LEARNING.label),
            (Incident.Track.ACCOUNTABILITY.value, Incident.Track.ACCOUNTABILITY.label),
        ],
        widget=forms.RadioSelect,
    )


class ActionForm(forms.Form):
    title = forms.CharField(label="What needs doing", max_length=300)
    owner = PersonByEmailField(label="Owner's email")
    due_date = forms.DateField(
        label="Due date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Defaults from the severity.",
    )


class CompleteActionForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (ActionItem.Status.DONE.value, "Done"),
            (ActionItem.Status.WAIVED.value, "Waived"),
        ]
    )
    note = forms.CharField(label="How it was done, or why it is waived", max_length=2000)


class ReviewForm(forms.Form):
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
    contributing_factors = forms.CharField(
        label="Contributing factors", widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )
    spotted_sooner = forms.CharField(
        label="What would have spotted it sooner",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=10000,
    )
    went_well = forms.CharField(
        label="What went well",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=10000,
    )
    effectiveness_check = forms.CharField(
        label="Effectiveness check",
        required=False,
        help_text="How we know the fix works.",
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
    title = forms.CharField(label="Lesson title", max_length=200)
    text = forms.CharField(
        label="The lesson, anonymised",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=20000,
        help_text="No names, handles or links: every employee can read it.",
    )
    keep_identifying = forms.BooleanField(
        label="Keep the names, handles or links on purpose", required=False
    )


class PolicyRevisionForm(forms.Form):
    policy = forms.IntegerField(label="Policy")


class BriefingForm(forms.Form):
    topic = forms.IntegerField(label="Training topic")
    text = forms.CharField(
        label="Talking point",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        help_text="The lesson's text if empty.",
    )


# --- the assessment -------------------------------------------------------------


class StartAssessmentForm(forms.Form):
    person = forms.ModelChoiceField(queryset=None, empty_label="Choose a person")
    act = forms.CharField(
        label="The one act you are assessing, in a sentence",
        max_length=300,
        help_text="One person and one act at a time, e.g. “Posted the launch date on X”.",
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
            raise forms.ValidationError("Answer the question shown: that one is not asked now.")
        question = self.question_set.question(key)
        if value not in question.values:
            choices = ", ".join(f"“{option.label}”" for option in question.options)
            raise forms.ValidationError(f"Answer the question shown with one of {choices}.")
        return cleaned


class AuthorityReferralForm(forms.Form):
    decision = forms.ChoiceField(
        label="Regulator or police",
        choices=AuthorityReferral.Decision.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose: refer to the regulator, refer to the police, or not referred."
        },
    )
    note = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text="Which authority, whom you told and their reference; or why not.",
        error_messages={"required": "Add a note: which authority and its reference, or why not."},
    )


class FinishAssessmentForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Final outcome", choices=Assessment.Outcome.choices, widget=forms.RadioSelect
    )
    override_reason = forms.CharField(
        label="Why a different outcome from the suggested one",
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
                "You chose a different outcome from the suggested one: write down why.",
            )
        return cleaned
