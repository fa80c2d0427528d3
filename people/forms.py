from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model

from people.models import normalise_email


class LoginForm(auth_forms.AuthenticationForm):
    """Django's login form with the words of PRODUCT.md: "Email", "Password", "Log in"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.input_type = "email"
        self.fields["username"].widget.attrs["autocomplete"] = "email"
        self.fields["password"].label = "Password"
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Log in"))

    def clean_username(self):
        return normalise_email(self.cleaned_data.get("username"))


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Reset also works for people who never had a password (imported from HR):
    it is how they set their first one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "Email"
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Send reset link"))

    def get_users(self, email):
        return (
            get_user_model()
            ._default_manager.filter(email=normalise_email(email), is_active=True)
            .iterator()
        )


class SetPasswordForm(auth_forms.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Set password"))


class ImportPeopleForm(forms.Form):
    MAX_BYTES = 10 * 1024 * 1024

    file = forms.FileField(
        label="HR export (CSV)",
        help_text="Columns: email, full_name, employee_id, department, manager_email, "
        "job_title, location, time_zone, start_date, active. Only email and full_name are "
        "required.",
    )
    deactivate_missing = forms.BooleanField(
        label="Deactivate active people who are not in the file",
        required=False,
        help_text="Site admin accounts are never deactivated by an import.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError("Upload a .csv file exported from your HR system.")
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 10 MB.")
        return upload


class SecondFactorForm(forms.Form):
    """A code from the authenticator app, or a recovery code (two-factor sign-in)."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code your authenticator app shows for PolicyHub, or one of "
        "your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split()).replace("-", "").lower()
        if not (code.isascii() and code.isdigit() and len(code) == 6) and not (
            len(code) == 8 and code.isalnum() and code.isascii()
        ):
            raise forms.ValidationError(
                "Enter the 6 digits from your app, or a recovery code of 8 letters and digits."
            )
        return code


class EnrolForm(forms.Form):
    """The first code from a newly set up authenticator app, which turns it on."""

    code = forms.CharField(
        label="Code from your app",
        max_length=20,
        help_text="The 6 digits your authenticator app shows for PolicyHub now.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split()).replace("-", "")
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Enter the 6 digits your app shows, without letters.")
        return code
