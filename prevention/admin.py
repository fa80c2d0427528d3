"""The Django admin for site admins. The watch list, reviews and intake change on their
own pages, where the services check the rules and write the audit; here the records can
be read, and only what nothing depends on can be corrected: an example's wording, whether
an intake source is switched on.

- The watch list and its audit are read here; an entry changes on the Watch list page,
  so that every change is audited (a change made here would not be).
- A post review's draft is private to its author and comms: the admin shows only who
  asked, when, and what became of it; never the draft, the suggested text or the reason.
- A source's webhook secret is never shown.
"""

from django.contrib import admin

from policyhub import admin_helpers
from prevention.models import (
    IntakeItem,
    PostReview,
    ReviewExample,
    Source,
    WatchTerm,
    WatchTermChange,
    WebhookDelivery,
)

ReadOnlyAdmin = admin_helpers.ReadOnlyAdmin
_short = admin_helpers.short


class SiteAdminsOnly(admin_helpers.SiteAdminsOnly):
    """Records about people: superusers only, and the section hidden from everyone else."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser


class ChangeInline(admin.TabularInline):
    model = WatchTermChange
    extra = 0
    can_delete = False
    fields = ("at", "action", "by", "before", "after", "note")
    readonly_fields = fields
    verbose_name_plural = "history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


@admin.register(WatchTerm)
class WatchTermAdmin(ReadOnlyAdmin):
    list_display = (
        "text",
        "name",
        "kind",
        "category",
        "severity",
        "policy",
        "policy_section",
        "expires_on",
        "active",
        "updated_at",
    )
    list_filter = ("kind", "category", "severity", "active")
    list_select_related = ("policy",)
    search_fields = ("text", "name", "explanation", "policy_section")
    fields = (
        "kind",
        "text",
        "name",
        "category",
        "severity",
        "explanation",
        "policy",
        "policy_section",
        "expires_on",
        "active",
        "lesson",
        "created_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = [ChangeInline]


@admin.register(WatchTermChange)
class WatchTermChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "term_text", "action", "by")
    list_filter = ("action",)
    list_select_related = ("by",)
    search_fields = ("term_text", "note", "by__full_name", "by__email")
    date_hierarchy = "at"
    fields = ("term", "term_text", "action", "before", "after", "by", "at", "note")
    readonly_fields = fields


@admin.register(PostReview)
class PostReviewAdmin(SiteAdminsOnly, ReadOnlyAdmin):
    """Metadata only: the draft and everything written about it stay on the review pages."""

    list_display = (
        "pk",
        "requester",
        "status",
        "platform",
        "needed_by",
        "created_at",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status", "platform")
    list_select_related = ("requester", "decided_by")
    search_fields = ("requester__full_name", "requester__email")
    fields = (
        "requester",
        "platform",
        "status",
        "needed_by",
        "created_at",
        "decided_by",
        "decided_at",
        "answer_seen_at",
    )
    readonly_fields = fields


@admin.register(ReviewExample)
class ReviewExampleAdmin(admin.ModelAdmin):
    """An anonymised example: its wording can be corrected, or it can be taken out."""

    list_display = ("short_text", "decision", "policy", "policy_section", "topic", "created_at")
    list_filter = ("decision",)
    list_select_related = ("policy", "topic")
    search_fields = ("text", "reason", "policy_section")
    fields = (
        "text",
        "decision",
        "reason",
        "policy",
        "policy_section",
        "topic",
        "created_by",
        "created_at",
    )
    readonly_fields = ("decision", "policy", "policy_section", "topic", "created_by", "created_at")

    @admin.display(description="example")
    def short_text(self, obj):
        return _short(obj.text)

    def has_add_permission(self, request):
        return False


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    """Sources are registered on the intake pages (which make the webhook secret); here one
    can be switched off. The secret is never shown."""

    list_display = (
        "name",
        "kind",
        "platform",
        "active",
        "last_success_at",
        "consecutive_failures",
        "items_seen",
        "items_matched",
    )
    list_filter = ("kind", "platform", "active")
    search_fields = ("name", "slug", "feed_url")
    fields = (
        "name",
        "slug",
        "kind",
        "platform",
        "feed_url",
        "active",
        "created_by",
        "created_at",
        *Source.FETCHING,
    )
    readonly_fields = tuple(name for name in fields if name != "active")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IntakeItem)
class IntakeItemAdmin(SiteAdminsOnly, ReadOnlyAdmin):
    list_display = ("noticed_at", "source", "incident", "url", "handle", "posted_at")
    list_filter = (("source", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("source", "incident")
    search_fields = ("dedupe_key", "url", "handle", "incident__reference")
    fields = (
        "source",
        "incident",
        "dedupe_key",
        "url",
        "handle",
        "posted_at",
        "noticed_at",
        "text_sha256",
        "matched",
    )
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "source", "short_signature")
    list_filter = (("source", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("source",)
    fields = ("source", "signature", "received_at")
    readonly_fields = fields

    @admin.display(description="signature")
    def short_signature(self, obj):
        return f"{obj.signature[:12]}…"
