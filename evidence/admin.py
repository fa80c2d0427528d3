from django.contrib import admin

from evidence.models import EvidenceDocument


@admin.register(EvidenceDocument)
class EvidenceDocumentAdmin(admin.ModelAdmin):
    """The manifest, read-only: a row is what an issued file is checked against."""

    list_display = ("reference", "kind", "title", "generated_at", "generated_by", "restricted")
    list_filter = ("kind", "restricted")
    search_fields = ("reference", "sha256", "title")
    date_hierarchy = "generated_at"
    list_select_related = ("generated_by",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
