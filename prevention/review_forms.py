"""Forms for Check a post, Ask comms, the comms answer and kept examples. They check
input with the same rules as the services (`review_services.clean_text`), so a page
refuses what a service would, in the same words, before anything is done."""

from __future__ import annotations

from django import forms
from django.core import validators
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.forms import LocalDateTimeField
from incidents.models import Incident
from policies.models import Policy, PolicyVersion
from policies.rendering import split_sections
from prevention import review_services as services
from prevention.models import PostReview, PreventionError
from training.models import Topic

Status = PostReview.Status


class PlainTextField(forms.CharField):
    """Text checked by `clean_text`: its own message for a NUL byte or a text too long
    (Django's generic "Null characters are not allowed." says too little), and no
    `maxlength` attribute, which would cut a pasted draft short without a word."""

    def __init__(self, *, label: str, limit: int, noun: str, **kwargs):
        kwargs.setdefault("strip", False)
        super().__init__(label=label, **kwargs)
        self.limit, self.noun = limit, noun
        self.validators = [
            v
            for v in self.validators
            if not isinstance(v, validators.ProhibitNullCharactersValidator)
        ]

    def clean(self, value):
        value = super().clean(value)
        try:
            return services.clean_text(
                value, label=self.noun, limit=self.limit, required=self.required
            )
        except PreventionError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


def _up_to_text(limit: int) -> str:
    return _("Up to %(count)s characters.") % {"count": number_format(limit, force_grouping=True)}


_up_to = lazy(_up_to_text, str)


class CheckForm(forms.Form):
    """Check a post: the draft, and optionally where and with what image. "Needed by"
    counts only when the employee chooses Ask comms."""

    draft = PlainTextField(
        label=gettext_lazy("Draft post"),
        noun="draft",
        limit=services.MAX_DRAFT_CHARACTERS,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "true"}),
        help_text=_up_to(services.MAX_DRAFT_CHARACTERS),
        error_messages={"required": gettext_lazy("Paste the draft first.")},
    )
    platform = forms.ChoiceField(
        label=gettext_lazy("Platform"),
        choices=[("", gettext_lazy("Not decided")), *Incident.Platform.choices],
        required=False,
    )
    image_text = PlainTextField(
        label=gettext_lazy("Image alt text or file name"),
        noun="image text",
        limit=services.MAX_IMAGE_TEXT_CHARACTERS,
        required=False,
        help_text=gettext_lazy(
            "If the post has an image: its description or file name is checked too."
        ),
    )
    needed_by = LocalDateTimeField(
        label=gettext_lazy("Needed by"),
        required=False,
        help_text=gettext_lazy(
            "Only if you ask comms: when you need their answer. Left empty, it is "
            "the same time on the next working day."
        ),
        error_messages={
            "invalid": gettext_lazy("Enter a date and time, for example 2025-05-14 15:30.")
        },
    )

    def __init__(self, *args, asking: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.asking = asking

    def clean_needed_by(self):
        needed_by = self.cleaned_data["needed_by"]
        if not self.asking:
            return None  # a check alone does not need it, and does not refuse it
        try:
            return services.checked_needed_by(needed_by, now=timezone.now())
        except PreventionError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


DECISION_CHOICES = [
    (Status.APPROVED, gettext_lazy("Approve")),
    (Status.APPROVED_WITH_EDITS, gettext_lazy("Approve with edits")),
    (Status.ADVISED_AGAINST, gettext_lazy("Advise against")),
]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=DECISION_CHOICES,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose approve, approve with edits or advise against.")
        },
    )
    suggested_text = PlainTextField(
        label=gettext_lazy("Suggested text"),
        noun="suggested text",
        limit=services.MAX_DRAFT_CHARACTERS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "For Approve with edits: the post as you would publish it. The employee "
            "sees what you changed."
        ),
    )
    reason = PlainTextField(
        label=gettext_lazy("Reason"),
        noun="reason",
        limit=services.MAX_DRAFT_CHARACTERS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Needed to advise against; a note for the employee otherwise."),
    )


def section_choices() -> list:
    """Every section of every policy's current version, grouped by policy: one query."""
    versions = (
        PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED)
        .select_related("policy")
        .only("body", "policy__title", "policy__slug")
        .order_by("policy__title")
    )
    choices: list = [("", _("No policy"))]
    for version in versions:
        policy = version.policy
        sections = [
            (f"{policy.pk}:{section.heading}", section.heading)
            for section in split_sections(version.body)
            if section.heading
        ]
        choices.append((policy.title, [(f"{policy.pk}:", _("The policy as a whole")), *sections]))
    return choices


class _AttachFields(forms.Form):
    """Where an example is shown: a policy section and a briefing topic."""

    section = forms.ChoiceField(label=gettext_lazy("Policy section"), required=False)
    topic = forms.ModelChoiceField(
        label=gettext_lazy("Briefing topic"),
        queryset=Topic.objects.all(),
        required=False,
        empty_label=gettext_lazy("No briefing topic"),
        help_text=gettext_lazy("A talking point for the briefings on this topic."),
    )

    def __init__(self, *args, sections: list | None = None, topics: list | None = None, **kwargs):
        """`sections` and `topics` (lists read once) spare a page of forms a query each."""
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = sections if sections is not None else section_choices()
        if topics is not None:
            self.fields["topic"].choices = [
                ("", self.fields["topic"].empty_label),
                *((topic.pk, topic.name) for topic in topics),
            ]

    def clean_section(self) -> tuple[Policy | None, str]:
        value = self.cleaned_data["section"]
        if not value:
            return None, ""
        pk, _colon, heading = value.partition(":")
        policy = Policy.objects.filter(pk=pk).first() if pk.isdigit() else None
        if policy is None:
            raise forms.ValidationError(_("That policy no longer exists: choose another."))
        return policy, heading

    def attachment(self) -> dict:
        policy, heading = self.cleaned_data["section"]
        return {"policy": policy, "policy_section": heading, "topic": self.cleaned_data["topic"]}


class KeepExampleForm(_AttachFields):
    text = PlainTextField(
        label=gettext_lazy("Example text"),
        noun="example",
        limit=services.MAX_DRAFT_CHARACTERS,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "The draft with names, handles, places and anything else that could tell "
            "who wrote it taken out, and watch-list terms replaced (“[unreleased product]”). "
            "Everyone can read examples."
        ),
    )
    reason = PlainTextField(
        label=gettext_lazy("Why"),
        noun="reason",
        limit=services.MAX_DRAFT_CHARACTERS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("What the answer was based on, without names."),
    )

    field_order = ["text", "reason", "section", "topic"]


class AttachExampleForm(_AttachFields):
    pass


def initial_section(example) -> str:
    if example.policy_id is None:
        return ""
    return f"{example.policy_id}:{example.policy_section}"
