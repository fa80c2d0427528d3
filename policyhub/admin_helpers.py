"""Pieces the apps' Django admin pages share (no domain code)."""

from django.contrib import admin


def short(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the services only: view, never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SiteAdminsOnly:
    """Restricted records: superusers only, not staff given the view permission."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
