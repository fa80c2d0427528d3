from django.contrib import admin, messages

from notifications import webhooks
from notifications.models import Notification, WebhookDelivery
from notifications.services import NotificationError, resend


class _SiteAdminsOnly:
    # The outboxes hold who is reminded of what: site admins (superusers) only.
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


@admin.register(Notification)
class OutboxAdmin(_SiteAdminsOnly, admin.ModelAdmin):
    """The outbox, for site admins: filter, inspect, resend failed rows. A reminder whose
    chat delivery failed for good shows its chat error and went by email."""

    list_display = (
        "id",
        "kind",
        "stage",
        "recipient",
        "status",
        "channel",
        "digest",
        "send_after",
        "attempts",
        "sent_at",
        "chat_failed",
    )
    # No filter on stage: its values grow without bound (dates, weeks).
    list_filter = ("status", "channel", "kind", "digest")
    show_full_result_count = False
    list_select_related = ("recipient",)
    search_fields = ("recipient__email", "recipient__full_name", "kind")
    date_hierarchy = "created_at"
    actions = ["resend_failed"]
    list_per_page = 50
    readonly_fields = [field.name for field in Notification._meta.fields]

    @admin.display(boolean=True, description="Chat failed")
    def chat_failed(self, notification):
        return bool(notification.chat_error)

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


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_SiteAdminsOnly, admin.ModelAdmin):
    """The outgoing webhooks' outbox: each event for each subscription, with its errors;
    failed ones can be sent again (also from the subscription's page)."""

    list_display = (
        "id",
        "event",
        "subscription",
        "status",
        "occurred_at",
        "attempts",
        "response_code",
        "sent_at",
    )
    list_filter = ("status", "event", "subscription")
    show_full_result_count = False
    list_select_related = ("subscription",)
    search_fields = ("event", "event_id", "subscription__name")
    date_hierarchy = "created_at"
    actions = ["resend_failed"]
    list_per_page = 50
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    @admin.action(description="Send the selected failed deliveries again")
    def resend_failed(self, request, queryset):
        resent = 0
        for delivery in queryset:
            try:
                webhooks.resend(delivery=delivery)
            except NotificationError:
                continue
            resent += 1
        skipped = queryset.count() - resent
        self.message_user(request, f"{resent} put back in the outbox.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} skipped: only failed deliveries can be sent again.",
                messages.WARNING,
            )
