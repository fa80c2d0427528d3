"""The API tokens page's forms: they validate; the services make and revoke tokens."""

from django import forms
from django.utils.translation import gettext_lazy

from api.models import IntegrationToken
from api.services import NAME_MAX_LENGTH
from policies.manage_forms import PersonByEmailField


class TokenForm(forms.Form):
    owner = PersonByEmailField(
        label=gettext_lazy("Owner's email"),
        help_text=gettext_lazy(
            "The token acts as this person: it sees and changes only what they may on the "
            "pages. For an integration, a person (or a service account in the directory) "
            "with just the roles it needs."
        ),
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy("The integration that will use it, e.g. “HR system nightly sync”."),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Scope"),
        choices=IntegrationToken.Scope.choices,
        initial=IntegrationToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Read and write lets it report incidents and, for a policy admin, acknowledge on "
            "someone's behalf."
        ),
    )
