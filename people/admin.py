from axes.admin import AccessAttemptAdmin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from people import two_factor
from people.login_protection import cool_off_minutes, lift_login_lock, recent_failures
from people.models import Department, User
from people.services import directory_changed

# A person's fields that change who they are in the directory (an audience, a team, a
# joiner): saved in the admin, what follows the directory is told, as the services do.
DIRECTORY_FIELDS = {"is_active", "department", "manager", "start_date"}


class DeletesFromTheDirectory:
    """An admin page whose deletions change the directory (people, departments): what
    follows the directory is told, as after the services' changes."""

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        directory_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        directory_changed()


class PersonChangeForm(UserChangeForm):
    lift_login_lock = forms.BooleanField(
        label=gettext_lazy("Lift login lock"),
        required=False,
        help_text=gettext_lazy(
            "Forget this person's failed logins, so that they can log in again now."
        ),
    )
    reset_two_factor = forms.BooleanField(
        label=gettext_lazy("Reset two-factor sign-in"),
        required=False,
        help_text=gettext_lazy(
            "Remove their authenticator app and recovery codes (a lost phone). If their "
            "role requires two-factor sign-in, they set up a new app at their next login."
        ),
    )

    class Meta:
        model = User
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "language" in self.fields:
            # A form sent without it (an older page, a script) keeps the person's language.
            self.fields["language"].required = False

    def clean_language(self):
        return self.cleaned_data.get("language") or self.instance.language or settings.LANGUAGE_CODE


class PersonCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "language")


@admin.register(User)
class UserAdmin(DeletesFromTheDirectory, DjangoUserAdmin):
    form = PersonChangeForm
    add_form = PersonCreationForm
    ordering = ("full_name", "email")
    list_display = (
        "full_name",
        "email",
        "department",
        "manager",
        "job_title",
        "language",
        "is_active",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "groups", "department", "language")
    list_select_related = ("department", "manager")
    search_fields = ("full_name", "email", "employee_id")
    autocomplete_fields = ("manager", "department")
    readonly_fields = ("login_lock", "two_factor_status")
    actions = ("lift_login_locks", "reset_two_factor_sign_in")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            gettext_lazy("Directory"),
            {
                "fields": (
                    "full_name",
                    "employee_id",
                    "department",
                    "manager",
                    "job_title",
                    "location",
                    "time_zone",
                    "language",
                    "start_date",
                )
            },
        ),
        (
            gettext_lazy("Access"),
            {
                "fields": (
                    "is_active",
                    "login_lock",
                    "lift_login_lock",
                    "two_factor_status",
                    "reset_two_factor",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (gettext_lazy("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "language",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    @admin.display(description=gettext_lazy("Login lock"))
    def login_lock(self, person):
        failures = recent_failures(email=person.email)
        minutes = cool_off_minutes()
        attempts = (
            reverse("admin:axes_accessattempt_changelist") + "?" + urlencode({"q": person.email})
        )
        counted = ngettext(
            "%(failures)s failed login in the last %(minutes)s minutes",
            "%(failures)s failed logins in the last %(minutes)s minutes",
            failures,
        ) % {"failures": failures, "minutes": minutes}
        if failures >= settings.AXES_FAILURE_LIMIT:
            state = _("Account locked: %(counted)s.") % {"counted": counted}
        else:
            state = _("Account not locked: %(counted)s.") % {"counted": counted}
        return format_html('{} <a href="{}">{}</a>', state, attempts, _("Access attempts"))

    @admin.action(description=gettext_lazy("Lift login lock"), permissions=("change",))
    def lift_login_locks(self, request, queryset):
        people = list(queryset)
        for person in people:
            lift_login_lock(email=person.email)
        self.message_user(
            request,
            ngettext(
                "Login lock lifted for %(count)s person: they can log in again now.",
                "Login lock lifted for %(count)s people: they can log in again now.",
                len(people),
            )
            % {"count": len(people)},
            messages.SUCCESS,
        )

    @admin.display(description=gettext_lazy("Two-factor sign-in"))
    def two_factor_status(self, person):
        state = two_factor.status(person)
        if state["on"]:
            return ngettext(
                "On since %(since)s, %(count)s recovery code left.",
                "On since %(since)s, %(count)s recovery codes left.",
                state["codes_left"],
            ) % {
                "since": formats.date_format(state["since"], "d M Y"),
                "count": state["codes_left"],
            }
        if state["required"]:
            return _("Off: required for their role, so they set it up at their next login.")
        return _("Off.")

    @admin.action(description=gettext_lazy("Reset two-factor sign-in"), permissions=("change",))
    def reset_two_factor_sign_in(self, request, queryset):
        people = list(queryset)
        for person in people:
            self._reset_two_factor(request, person)
        self.message_user(
            request,
            ngettext(
                "Two-factor sign-in reset for %(count)s person: their authenticator apps and "
                "recovery codes no longer work.",
                "Two-factor sign-in reset for %(count)s people: their authenticator apps and "
                "recovery codes no longer work.",
                len(people),
            )
            % {"count": len(people)},
            messages.SUCCESS,
        )

    def _reset_two_factor(self, request, person):
        removed = two_factor.reset(person=person)
        # The admin's history of the person is the audit trail of who reset it, and when.
        self.log_change(
            request,
            person,
            "Reset two-factor sign-in: authenticator app and recovery codes removed."
            if removed
            else "Reset two-factor sign-in: it was already off.",
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or DIRECTORY_FIELDS & set(form.changed_data):
            directory_changed()
        if form.cleaned_data.get("lift_login_lock"):
            lift_login_lock(email=obj.email)
            self.message_user(
                request,
                _("Login lock lifted: %(email)s can log in again now.") % {"email": obj.email},
                messages.SUCCESS,
            )
        if change and form.cleaned_data.get("reset_two_factor"):
            self._reset_two_factor(request, obj)
            self.message_user(
                request,
                _(
                    "Two-factor sign-in reset: %(email)s's authenticator app and recovery codes "
                    "no longer work."
                )
                % {"email": obj.email},
                messages.SUCCESS,
            )


@admin.register(Department)
class DepartmentAdmin(DeletesFromTheDirectory, admin.ModelAdmin):
    """A department added, renamed, moved under another or deleted changes who is in
    an audience of departments (and a deleted one's people are left without one): what
    follows the directory is told, as after a change to people."""

    list_display = ("name", "parent")
    list_select_related = ("parent",)
    search_fields = ("name",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        directory_changed()


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LoginAttemptAdmin(AccessAttemptAdmin):
    """django-axes' Access attempts, where a site admin also lifts a lock on an address
    (delete its attempts)."""

    @admin.action(description=gettext_lazy("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request, queryset):
        # axes 8.3.1's action reads the time of the request, which axes records only on
        # login requests: without it the action fails with an error page.
        AxesProxyHandler.update_request(request)
        return super().cleanup_expired_attempts(request, queryset)
