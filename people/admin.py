from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from people.models import Department, User


class PersonChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class PersonCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = PersonChangeForm
    add_form = PersonCreationForm
    ordering = ("full_name", "email")
    list_display = ("full_name", "email", "department", "manager", "job_title", "is_active")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups", "department")
    list_select_related = ("department", "manager")
    search_fields = ("full_name", "email", "employee_id")
    autocomplete_fields = ("manager", "department")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            "Directory",
            {
                "fields": (
                    "full_name",
                    "employee_id",
                    "department",
                    "manager",
                    "job_title",
                    "location",
                    "time_zone",
                    "start_date",
                )
            },
        ),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "parent")
    list_select_related = ("parent",)
    search_fields = ("name",)
