"""The Django admin for site admins. Incidents are handled on their own pages, where
every change goes through the services and writes its history row; here the records can
be read, and only what no workflow depends on can be corrected: an action's title or due
date while it is open, a holding statement before it is approved, a review before it is
signed off, a lesson's wording (or taking it out of the library), a talking point.

Incidents, their evidence and the individual assessments are restricted records (the
people involved in an accountability-track case, a person's assessment): only superusers
see them, whatever model permissions a staff account has been given."""

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy

from incidents import services
from incidents.models import (
    ActionItem,
    Assessment,
    AuthorityReferral,
    Evidence,
    HoldingStatement,
    Incident,
    IncidentError,
    IncidentEvent,
    Lesson,
    Review,
    Takedown,
    TalkingPoint,
)
from policyhub import admin_helpers

ReadOnlyAdmin = admin_helpers.ReadOnlyAdmin
_short = admin_helpers.short


SiteAdminsOnly = admin_helpers.SiteAdminsOnly


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyInline):
    """The history: every transition and change, who, when, from, to, why."""

    model = IncidentEvent
    fields = ("at", "what", "from_value", "to_value", "by", "note")
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class TakedownInline(ReadOnlyInline):
    model = Takedown
    fields = ("what", "asked_of", "status", "requested_at", "resolved_at", "note")
    readonly_fields = fields


class ActionInline(ReadOnlyInline):
    model = ActionItem
    fields = ("title", "owner", "due_date", "status", "note", "completed_at")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")


@admin.register(Incident)
class IncidentAdmin(SiteAdminsOnly, ReadOnlyAdmin):
    """Status, owner, track and details change on the incident pages, which write the
    history; here an incident is read."""

    list_display = (
        "reference",
        "status",
        "severity",
        "track",
        "owner",
        "self_reported",
        "information",
        "noticed_at",
        "closed_at",
    )
    list_filter = (
        "status",
        "severity",
        "track",
        "self_reported",
        "information",
        "platform",
        ("owner", admin.RelatedOnlyFieldListFilter),
    )
    # Not in get_queryset: a select_related there makes the changelist ignore this.
    list_select_related = ("owner",)
    search_fields = ("reference", "what_happened", "account_handle", "url")
    date_hierarchy = "noticed_at"
    ordering = ("-year", "-number")
    list_per_page = 50
    fields = (
        "reference",
        "status",
        "track",
        "severity",
        "owner",
        "reporter",
        "self_reported",
        "what_happened",
        "platform",
        "url",
        "account_handle",
        "information",
        "estimated_reach",
        "people_involved",
        "no_individual_involved",
        "no_takedown_note",
        "posted_at",
        "noticed_at",
        "contained_at",
        "closed_at",
        "version",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (TakedownInline, ActionInline, EventInline)


@admin.register(Evidence)
class EvidenceAdmin(SiteAdminsOnly, ReadOnlyAdmin):
    """Evidence is never edited; it is withdrawn with a reason on the incident page.
    The file is named, not linked: it is served only through the permission-checked
    view, never from the media folder."""

    list_display = (
        "incident",
        "captured_at",
        "platform",
        "handle",
        "stored_file",
        "short_hash",
        "captured_by",
        "withdrawn",
    )
    list_filter = ("platform", "content_type", ("withdrawn_at", admin.EmptyFieldListFilter))
    list_select_related = ("incident", "captured_by")
    search_fields = ("incident__reference", "url", "handle", "sha256")
    date_hierarchy = "captured_at"
    fields = (
        "incident",
        "url",
        "platform",
        "handle",
        "captured_at",
        "captured_by",
        "stored_file",
        "original_name",
        "content_type",
        "size",
        "sha256",
        "note",
        "withdrawn_at",
        "withdrawn_by",
        "withdrawn_reason",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("File"))
    def stored_file(self, obj):
        return obj.original_name or (gettext_lazy("(stored)") if obj.file else "—")

    @admin.display(description="SHA-256")
    def short_hash(self, obj):
        return obj.sha256[:12] if obj.sha256 else "—"

    @admin.display(description=gettext_lazy("Withdrawn"), boolean=True)
    def withdrawn(self, obj):
        return obj.withdrawn_at is not None


@admin.register(Takedown)
class TakedownAdmin(ReadOnlyAdmin):
    """Requested and resolved on the incident page, which writes the history."""

    list_display = ("incident", "what", "asked_of", "status", "requested_at", "resolved_at")
    list_filter = ("status",)
    list_select_related = ("incident",)
    search_fields = ("incident__reference", "what", "asked_of")
    date_hierarchy = "requested_at"


@admin.register(HoldingStatement)
class HoldingStatementAdmin(admin.ModelAdmin):
    """The wording can be corrected until the statement is approved, not after."""

    list_display = ("incident", "short_text", "drafted_by", "drafted_at", "approved_by")
    list_filter = (("approved_at", admin.EmptyFieldListFilter),)
    list_select_related = ("incident", "drafted_by", "approved_by")
    search_fields = ("incident__reference", "text")
    fields = ("incident", "text", "drafted_by", "drafted_at", "approved_by", "approved_at")
    readonly_fields = ("incident", "drafted_by", "drafted_at", "approved_by", "approved_at")

    @admin.display(description=gettext_lazy("Text"))
    def short_text(self, obj):
        return _short(obj.text)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.approved_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class OverdueFilter(admin.SimpleListFilter):
    title = gettext_lazy("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", gettext_lazy("Overdue")),)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=ActionItem.Status.OPEN, due_date__lt=timezone.localdate())
        return queryset


class ActionItemForm(forms.ModelForm):
    """A new due date follows the rules of `services.change_due_date`: a refusal is shown
    on the field and nothing is saved."""

    user = None  # set per request by ActionItemAdmin.get_form

    def clean_due_date(self):
        due_date = self.cleaned_data.get("due_date")
        if "due_date" in self.changed_data:
            try:
                services.check_due_date(action=self.instance, by=self.user, due_date=due_date)
            except IncidentError as error:
                raise forms.ValidationError(str(error)) from None
        return due_date


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    """An open action's title and due date can be corrected; it is done or waived (with
    a note) by its owner or the incident team, on their pages. The due date changes
    through the service, which writes the history row."""

    form = ActionItemForm

    list_display = ("title", "incident", "owner", "due_date", "status", "completed_at")
    list_filter = ("status", OverdueFilter, "incident__track", "due_date")
    list_select_related = ("incident", "owner")
    search_fields = ("title", "incident__reference", "owner__full_name", "owner__email")
    date_hierarchy = "due_date"
    fields = (
        "incident",
        "title",
        "owner",
        "due_date",
        "status",
        "note",
        "completed_at",
        "completed_by",
        "created_at",
    )
    readonly_fields = (
        "incident",
        "owner",
        "status",
        "note",
        "completed_at",
        "completed_by",
        "created_at",
    )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request, obj, form, change):
        if "title" in form.changed_data:
            obj.save(update_fields=["title"])
        if "due_date" in form.changed_data:
            services.change_due_date(action=obj, by=request.user, due_date=obj.due_date)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != ActionItem.Status.OPEN:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """The blameless review; fixed once a manager has signed it off."""

    list_display = ("incident", "written_by", "written_at", "signed_off_by", "signed_off_at")
    list_filter = (("signed_off_at", admin.EmptyFieldListFilter),)
    list_select_related = ("incident", "written_by", "signed_off_by")
    search_fields = ("incident__reference", "summary", "contributing_factors")
    date_hierarchy = "written_at"
    fields = (
        "incident",
        "summary",
        "contributing_factors",
        "spotted_sooner",
        "went_well",
        "effectiveness_check",
        "written_by",
        "written_at",
        "signed_off_by",
        "signed_off_at",
    )
    readonly_fields = ("incident", "written_by", "written_at", "signed_off_by", "signed_off_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.signed_off_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assessment)
class AssessmentAdmin(SiteAdminsOnly, ReadOnlyAdmin):
    """A person's assessment: every run and every answer is kept as it was given."""

    list_display = (
        "incident",
        "person",
        "final_outcome",
        "suggested_outcome",
        "assessor",
        "started_at",
        "finished_at",
        "current",
    )
    list_filter = ("final_outcome", "suggested_outcome", "referral", "question_set")
    list_select_related = ("incident", "person", "assessor")
    search_fields = ("incident__reference", "person__full_name", "person__email")
    date_hierarchy = "started_at"
    fields = (
        "incident",
        "person",
        "act",
        "question_set",
        "answers",
        "suggested_outcome",
        "final_outcome",
        "override_reason",
        "referral",
        "assessor",
        "started_at",
        "finished_at",
        "superseded_at",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("Current run"), boolean=True)
    def current(self, obj):
        return obj.current


@admin.register(AuthorityReferral)
class AuthorityReferralAdmin(SiteAdminsOnly, ReadOnlyAdmin):
    """Decisions to refer a deliberate act to the regulator or the police, as recorded."""

    list_display = ("assessment", "decision", "decided_by", "decided_at")
    list_filter = ("decision",)
    list_select_related = ("assessment__incident", "assessment__person", "decided_by")
    search_fields = ("assessment__incident__reference",)
    fields = ("assessment", "decision", "note", "decided_by", "decided_at")
    readonly_fields = fields


class TalkingPointInline(admin.TabularInline):
    model = TalkingPoint
    fields = ("topic", "text", "added_by", "added_at")
    readonly_fields = ("topic", "added_by", "added_at")
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("topic", "added_by")

    def has_add_permission(self, request, obj=None):
        return False  # "Add to briefing" on the lesson's page


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    """A lesson's wording can be corrected, and a lesson taken out of the library
    (unticking "published") if it turns out to identify someone."""

    list_display = ("title", "incident", "published", "published_at", "published_by")
    list_filter = ("published",)
    list_select_related = ("incident", "published_by")
    search_fields = ("title", "text", "incident__reference")
    date_hierarchy = "published_at"
    fields = ("incident", "title", "text", "published", "published_at", "published_by")
    readonly_fields = ("incident", "published_at", "published_by")
    inlines = (TalkingPointInline,)

    def has_add_permission(self, request):
        return False  # published from an incident, by its team

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TalkingPoint)
class TalkingPointAdmin(admin.ModelAdmin):
    list_display = ("topic", "short_text", "lesson", "added_by", "added_at")
    list_filter = ("topic",)
    list_select_related = ("topic", "lesson", "added_by")
    search_fields = ("text", "lesson__title", "topic__name")
    fields = ("topic", "lesson", "text", "added_by", "added_at")
    readonly_fields = ("topic", "lesson", "added_by", "added_at")

    @admin.display(description=gettext_lazy("Text"))
    def short_text(self, obj):
        return _short(obj.text)

    def has_add_permission(self, request):
        return False
