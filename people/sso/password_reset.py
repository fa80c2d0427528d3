"""Password resets with OIDC_ONLY=true: links for site admins only, as nobody else signs in
with a password."""

from __future__ import annotations

from django.shortcuts import render

from people.auth_urls import PasswordResetConfirmView as _PasswordResetConfirmView
from people.auth_urls import PasswordResetView as _PasswordResetView
from people.forms import PasswordResetForm
from people.sso.options import passwords_off, provider_name, sso_enabled


class SiteAdminPasswordResetForm(PasswordResetForm):
    """With OIDC_ONLY=true a reset link goes to site admins only: anyone else would set a
    password that no login accepts."""

    def get_users(self, email):
        users = super().get_users(email)
        if not passwords_off():
            return users
        return (user for user in users if user.is_superuser)


class PasswordResetView(_PasswordResetView):
    form_class = SiteAdminPasswordResetForm

    def get_template_names(self):
        if passwords_off():
            return ["registration/sso_password_reset_form.html"]
        return super().get_template_names()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if sso_enabled():
            context["provider_name"] = provider_name()
        return context


class PasswordResetConfirmView(_PasswordResetConfirmView):
    """A link sent before OIDC_ONLY was turned on sets no password for anyone but a site admin."""

    def dispatch(self, *args, **kwargs):
        if passwords_off():
            person = self.get_user(kwargs["uidb64"])
            if person is not None and not person.is_superuser:
                return render(
                    self.request,
                    "registration/sso_passwords_off.html",
                    {"provider_name": provider_name()},
                    status=403,
                )
        return super().dispatch(*args, **kwargs)
