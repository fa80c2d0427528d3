"""The reader's forms. Each carries the id of the version on the page, so that a
page left open while a new version was published acknowledges nothing by mistake."""

from django import forms
from django.utils.translation import gettext_lazy as _


class _ForVersion(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    HIDDEN = ("version",)

    def clean(self):
        if any(name in self.errors for name in self.HIDDEN):
            # A hidden field's error would be shown nowhere: say it for the form.
            for name in self.HIDDEN:
                self.errors.pop(name, None)
            raise forms.ValidationError(_("This page is out of date. Reload it and try again."))
        return super().clean()

    def point_at(self, version, text=None) -> None:
        """Show a refused form again, now for the version on the page (it may have
        changed since the reader opened it). A tick given for other text is cleared."""
        posted = self.data.get("version")
        self.data = self.data.copy()
        self.data["version"] = str(version.pk)
        if posted != str(version.pk):
            self.data.pop("confirmed", None)


class AcknowledgeForm(_ForVersion):
    """Also names the text the reader was shown: its language and SHA-256, which the
    acknowledgement records (and which must still be that version's text)."""

    HIDDEN = ("version", "language", "text_sha256")

    language = forms.CharField(widget=forms.HiddenInput, max_length=10)
    text_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    confirmed = forms.BooleanField(
        label=_("I have read and understood this policy"),
        error_messages={"required": _("Tick the box to confirm you have read and understood it.")},
    )
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        help_text=_(
            "Type your full name as the directory has it (case and spacing do not matter)."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Type your full name.")},
    )

    def point_at(self, version, text=None) -> None:
        """Also for the text on the page now: a tick given for another text is cleared."""
        posted = (self.data.get("language"), self.data.get("text_sha256"))
        super().point_at(version)
        if text is not None:
            self.data["language"], self.data["text_sha256"] = text.language, text.sha256
            if posted != (text.language, text.sha256):
                self.data.pop("confirmed", None)


class QuizForm(_ForVersion):
    """One set of radio buttons per question of the version."""

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"question_{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                choices=list(enumerate(question.choices)),
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": _("Choose an answer.")},
            )

    def answers(self) -> dict[int, int]:
        return {q.pk: self.cleaned_data[f"question_{q.pk}"] for q in self.questions}


class DeclineForm(_ForVersion):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The policy owner reads this and will follow up with you."),
        error_messages={"required": _("Tell the policy owner why you decline.")},
    )
