from django.contrib import admin, messages

from notifications.models import Notification
from notifications.services import NotificationError, resend


@admin.register(Notification)
class OutboxAdmin(admin.ModelAdmin):
    """The outbox, for site admins: filter, inspect, resend failed rows."""

    list_display = (
        "id",
        "kind",
        "stage",
        "recipient",
        "status",
        "digest",
        "send_after",
        "attempts",
        "sent_at",
    )
    # No filter on stage: its values grow without bound (dates, weeks).
    list_filter = ("status", "kind", "digest")
    show_full_result_count = False
    list_select_related = ("recipient",)
    search_fields = ("recipient__email", "recipient__full_name", "kind")
    date_hierarchy = "created_at"
    actions = ["resend_failed"]
    list_per_page = 50
    readonly_fields = [field.name for field in Notification._meta.fields]

    # The outbox holds who is reminded of what: site admins (superusers) only.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the outbox is changed by the engine only; resend is an action

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Send the selected failed reminders again")
    def resend_failed(self, request, queryset):
        resent = 0
        for notification in queryset:
            try:
                resend(notification=notification)
            except NotificationError:
                continue
            resent += 1
        skipped = queryset.count() - resent
        self.message_user(request, f"{resent} put back in the outbox.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} skipped: only failed reminders can be resent.",
                messages.WARNING,
            )
