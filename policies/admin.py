"""The Django admin for site admins. Policy admins work on their own pages; here the
records that prove something (acknowledgements, declines, the workflow history) can be
read but never changed, and a published version is read-only like everywhere else."""

from django.contrib import admin

from policies import services
from policies.models import (
    Acknowledgement,
    Assignment,
    Decline,
    Policy,
    PolicyVersion,
    QuizAttempt,
    QuizQuestion,
    VersionEvent,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are written by the services only: view, never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VersionInline(admin.TabularInline):
    """The policy's versions, for reading; a draft is edited on its own page."""

    model = PolicyVersion
    fk_name = "policy"
    fields = ("number", "status", "change", "effective_from", "published_at", "author")
    readonly_fields = fields
    show_change_link = True
    extra = 0
    ordering = ("-major", "-minor")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("policy", "author")

    def has_add_permission(self, request, obj=None):
        return False  # drafts are numbered by the services (policy pages)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "owner", "audience", "acknowledgement_window_days")
    list_filter = ("category", "audience")
    list_select_related = ("owner",)
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("owner",)
    filter_horizontal = ("audience_departments", "audience_groups")
    inlines = (VersionInline,)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # A changed audience changes who must acknowledge: joiners get assignments,
        # people no longer in it have theirs closed, as on the policy pages.
        services.reconcile_assignments(policies=[form.instance])

    def has_delete_permission(self, request, obj=None):
        # Acknowledgements protect published versions; a policy with any is retired, not
        # deleted. A policy that never went beyond drafts can go.
        if obj is not None and obj.versions.filter(status__in=PolicyVersion.LOCKED).exists():
            return False
        return super().has_delete_permission(request, obj)


class QuizQuestionInline(admin.TabularInline):
    """A version's quiz; fixed once the draft goes for review, like its text."""

    model = QuizQuestion
    fields = ("position", "text", "choices", "correct")
    extra = 0

    @staticmethod
    def _fixed(obj) -> bool:
        return obj is not None and obj.status != PolicyVersion.Status.DRAFT

    def has_add_permission(self, request, obj=None):
        return not self._fixed(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._fixed(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._fixed(obj) and super().has_delete_permission(request, obj)


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = (
        "policy",
        "number",
        "status",
        "change",
        "effective_from",
        "published_at",
        "author",
        "approver",
    )
    list_filter = ("status", "change", "policy")
    list_select_related = ("policy", "author", "approver")
    search_fields = ("policy__title", "change_summary")
    date_hierarchy = "published_at"
    inlines = (QuizQuestionInline,)
    fields = (
        "policy",
        "number",
        "status",
        "change",
        "change_summary",
        "body",
        "effective_from",
        "scheduled_for",
        "pass_mark",
        "author",
        "approver",
        "approved_at",
        "published_at",
        "body_sha256",
    )
    # The status moves only through the workflow (submit, approve, publish, retire).
    readonly_fields = (
        "policy",
        "number",
        "status",
        "scheduled_for",
        "author",
        "approver",
        "approved_at",
        "published_at",
        "body_sha256",
    )

    @admin.display(description="Version", ordering="major")
    def number(self, obj):
        return obj.number

    def has_add_permission(self, request):
        return False  # drafts are numbered by the services (policy pages)

    def has_change_permission(self, request, obj=None):
        # Only a draft changes: a version in review or approved is the text the approver
        # read, and a published one is what people acknowledged.
        if obj is not None and obj.status != PolicyVersion.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # Through the service, which renumbers the draft when material becomes minor.
        services.update_draft(
            version=obj,
            user=request.user,
            body=obj.body,
            change_summary=obj.change_summary,
            change=obj.change,
            effective_from=obj.effective_from,
        )
        obj.save(update_fields=["pass_mark"])

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("person", "policy", "version_number", "status", "due_date", "completed_at")
    list_filter = ("status", "policy", "person__department", "due_date")
    list_select_related = ("person", "policy", "version")
    search_fields = ("person__full_name", "person__email", "policy__title")
    date_hierarchy = "due_date"
    # Assignments come from publishing and the audience; an admin may move a due date.
    fields = (
        "person",
        "policy",
        "version",
        "status",
        "due_date",
        "assigned_at",
        "completed_at",
    )
    readonly_fields = ("person", "policy", "version", "status", "assigned_at", "completed_at")

    @admin.display(description="Version", ordering="version__major")
    def version_number(self, obj):
        return obj.version.number

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    """Append-only and chained: any change would break the chain, so none is offered."""

    list_display = (
        "sequence",
        "person",
        "version",
        "acknowledged_at",
        "method",
        "short_hash",
    )
    list_filter = ("method", "version__policy")
    # Not in get_queryset: a select_related there makes the changelist ignore this.
    list_select_related = ("person", "version__policy")
    search_fields = ("person__full_name", "person__email", "record_hash")
    date_hierarchy = "acknowledged_at"
    list_per_page = 50

    @admin.display(description="Hash")
    def short_hash(self, obj):
        return obj.record_hash[:12]


@admin.register(Decline)
class DeclineAdmin(ReadOnlyAdmin):
    list_display = ("person", "version", "at", "short_reason")
    list_filter = ("version__policy",)
    list_select_related = ("person", "version__policy")
    search_fields = ("person__full_name", "person__email", "reason")
    date_hierarchy = "at"

    @admin.display(description="Reason")
    def short_reason(self, obj):
        return obj.reason if len(obj.reason) <= 80 else obj.reason[:79] + "…"


@admin.register(VersionEvent)
class VersionEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "version", "from_status", "to_status", "by", "note")
    list_filter = ("to_status", "version__policy")
    list_select_related = ("version__policy", "by")
    date_hierarchy = "at"


@admin.register(QuizAttempt)
class QuizAttemptAdmin(ReadOnlyAdmin):
    list_display = ("at", "person", "version", "score", "passed")
    list_filter = ("passed", "version__policy")
    list_select_related = ("person", "version__policy")
    search_fields = ("person__full_name", "person__email")
