from django import forms

from notifications.models import Preference
from notifications.registry import all_kinds


class PreferencesForm(forms.Form):
    delivery = forms.ChoiceField(
        label="Non-urgent reminders",
        choices=Preference.Delivery.choices,
        widget=forms.RadioSelect,
    )
    receive = forms.MultipleChoiceField(
        label="Optional reminders I receive",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Untick a reminder to switch it off.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.optional_kinds = [kind for kind in all_kinds() if not kind.mandatory]
        self.mandatory_kinds = [kind for kind in all_kinds() if kind.mandatory]
        self.fields["receive"].choices = [(kind.name, kind.label) for kind in self.optional_kinds]
        if not self.optional_kinds:
            del self.fields["receive"]

    def switched_off(self) -> set[str]:
        receive = set(self.cleaned_data.get("receive", []))
        return {kind.name for kind in self.optional_kinds} - receive
