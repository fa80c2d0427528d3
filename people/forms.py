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
