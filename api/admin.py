"""Integration tokens in the Django admin: to read, never to make, change or see a key
(tokens are made and revoked on the API tokens page, where a key is shown once)."""

from django.contrib import admin

from api.models import IntegrationToken


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "scope", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope",)
    search_fields = ("name", "prefix", "owner__email", "owner__full_name")
    list_select_related = ("owner",)
    # Never the key's hash: nothing here helps to find or test a key.
    fields = (
        "name",
        "owner",
        "scope",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
