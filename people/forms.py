from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from people.models import normalise_email


class LoginForm(auth_forms.AuthenticationForm):
    """Django's login form with the words of PRODUCT.md: "Email", "Password", "Log in"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Email")
        self.fields["username"].widget.input_type = "email"
        self.fields["username"].widget.attrs["autocomplete"] = "email"
        self.fields["password"].label = _("Password")
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Log in")))

    def clean_username(self):
        return normalise_email(self.cleaned_data.get("username"))


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Reset also works for people who never had a password (imported from HR):
    it is how they set their first one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Email")
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Send reset link")))

    def get_users(self, email):
        return (
            get_user_model()
            ._default_manager.filter(email=normalise_email(email), is_active=True)
            .iterator()
        )

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        # The link goes out in the language of the person it is for, not of whoever asked.
        language = getattr(context.get("user"), "language", "") or settings.LANGUAGE_CODE
        with translation.override(language):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class SetPasswordForm(auth_forms.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Set password")))


class ImportPeopleForm(forms.Form):
    MAX_BYTES = 10 * 1024 * 1024

    file = forms.FileField(
        label=gettext_lazy("HR export (CSV)"),
        help_text=gettext_lazy(
            "Columns: email, full_name, employee_id, department, manager_email, "
            "job_title, location, time_zone, start_date, active, language. Only email and "
            "full_name are required; language is en-gb, de or fr (see Columns below)."
        ),
    )
    deactivate_missing = forms.BooleanField(
        label=gettext_lazy("Deactivate active people who are not in the file"),
        required=False,
        help_text=gettext_lazy("Site admin accounts are never deactivated by an import."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError(_("Upload a .csv file exported from your HR system."))
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."))
        return upload


class SecondFactorForm(forms.Form):
    """A code from the authenticator app, or a recovery code (two-factor sign-in)."""

    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=20,
        help_text=gettext_lazy(
            "The 6-digit code your authenticator app shows for PolicyHub, or one of "
            "your recovery codes."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split()).replace("-", "").lower()
        if not (code.isascii() and code.isdigit() and len(code) == 6) and not (
            len(code) == 8 and code.isalnum() and code.isascii()
        ):
            raise forms.ValidationError(
                _("Enter the 6 digits from your app, or a recovery code of 8 letters and digits.")
            )
        return code


class EnrolForm(forms.Form):
    """The first code from a newly set up authenticator app, which turns it on."""

    code = forms.CharField(
        label=gettext_lazy("Code from your app"),
        max_length=20,
        help_text=gettext_lazy("The 6 digits your authenticator app shows for PolicyHub now."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split()).replace("-", "")
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Enter the 6 digits your app shows, without letters."))
        return code


class LanguageSelect(forms.Select):
    """Each option carries its own lang, as its name is in that language (WCAG 3.1.2)."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value:
            option["attrs"]["lang"] = value
        return option


class LanguageForm(forms.Form):
    """A person's own language: settings.LANGUAGES, each named in its own language."""

    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=settings.LANGUAGES,
        widget=LanguageSelect,
        help_text=gettext_lazy("The language of your pages and of the emails PolicyHub sends you."),
        error_messages={
            "invalid_choice": gettext_lazy(
                "“%(value)s” is not a language PolicyHub offers: choose one from the list."
            ),
            "required": gettext_lazy("Choose a language."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save")))
