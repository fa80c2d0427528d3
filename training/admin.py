"""The Django admin for site admins. Policy admins run the programme on their own pages;
here topics and requirements can be edited (without the set-up history the organiser
pages keep, which is listed here read-only), and a session's title, topic, presenter and
policies. What people are told about (time, place, capacity, cancelling) changes through
the organiser pages, so that everyone booked gets an updated invite; bookings, check-in
attempts and feedback are records of what happened."""

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from training.models import (
    Booking,
    CheckInAttempt,
    Feedback,
    Requirement,
    Series,
    Session,
    SetupChange,
    Topic,
)
from training.services import HOLDS_SEAT


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the services only: view, never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "session_count")
    search_fields = ("name", "description")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(session_count=Count("sessions"))

    @admin.display(description="Sessions", ordering="session_count")
    def session_count(self, obj):
        return obj.session_count


@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "audience",
        "topics",
        "every_months",
        "new_joiners_within_days",
        "active",
    )
    list_filter = ("active", "audience")
    search_fields = ("name",)
    filter_horizontal = ("accepted_topics", "audience_departments", "audience_groups")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("accepted_topics")

    @admin.display(description="Accepted topics")
    def topics(self, obj):
        return ", ".join(topic.name for topic in obj.accepted_topics.all())


@admin.register(Series)
class SeriesAdmin(ReadOnlyAdmin):
    """Created with its sessions on the organiser pages."""

    list_display = ("title", "pattern", "count", "created_by", "created_at")
    list_filter = ("pattern",)
    list_select_related = ("created_by",)
    search_fields = ("title",)


# Changed through the services only, which raise the sequence and tell everyone booked.
SESSION_FIXED_ONCE_CREATED = (
    "starts_at",
    "ends_at",
    "time_zone",
    "room",
    "online_url",
    "capacity",
    "status",
    "cancelled_reason",
    "organiser",
)


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "topic",
        "starts_at",
        "status",
        "capacity",
        "booked",
        "waitlisted",
        "presenter",
    )
    list_filter = ("status", "topic")
    list_select_related = ("topic", "presenter")
    search_fields = ("title", "room", "topic__name", "presenter__full_name")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at", "-id")  # the next and latest sessions first
    autocomplete_fields = ("topic", "presenter", "organiser")
    filter_horizontal = ("policies",)
    formfield_overrides = {
        models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"}
    }
    fields = (
        "title",
        "topic",
        "policies",
        "presenter",
        "organiser",
        "series",
        "starts_at",
        "ends_at",
        "time_zone",
        "room",
        "online_url",
        "capacity",
        "lunch_cutoff",
        "status",
        "cancelled_reason",
        "sequence",
        "checkin_code",
        "created_at",
    )
    readonly_fields = ("series", "sequence", "checkin_code", "created_at")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                booked_count=Count("bookings", filter=Q(bookings__status__in=HOLDS_SEAT)),
                waitlisted_count=Count(
                    "bookings", filter=Q(bookings__status=Booking.Status.WAITLISTED)
                ),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return self.readonly_fields + SESSION_FIXED_ONCE_CREATED

    @admin.display(description="Seats taken", ordering="booked_count")
    def booked(self, obj):
        url = reverse("admin:training_booking_changelist")
        return format_html(
            '<a href="{}?session__id__exact={}">{}</a>', url, obj.pk, obj.booked_count
        )

    @admin.display(description="Waitlist", ordering="waitlisted_count")
    def waitlisted(self, obj):
        return obj.waitlisted_count


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Who booked, waited, came or not. Only the lunch order may be corrected here."""

    list_display = (
        "person",
        "session",
        "status",
        "waitlist_position",
        "lunch",
        "dietary_needs",
        "lunch_not_guaranteed",
        "walk_in",
        "booked_by",
        "booked_at",
    )
    list_filter = ("status", "session", "session__topic", "lunch", "walk_in")
    # Not in get_queryset: a select_related there makes the changelist ignore this.
    list_select_related = ("person", "session", "booked_by")
    search_fields = ("person__full_name", "person__email", "session__title")
    date_hierarchy = "booked_at"
    ordering = ("-session__starts_at", "status", "waitlist_position", "booked_at")
    list_per_page = 100
    fields = (
        "session",
        "person",
        "status",
        "waitlist_position",
        "lunch",
        "dietary_needs",
        "lunch_not_guaranteed",
        "walk_in",
        "booked_by",
        "booked_at",
        "cancelled_at",
        "checked_in_at",
        "marked_by",
        "uid",
        "sequence",
    )
    readonly_fields = tuple(f for f in fields if f not in ("lunch", "dietary_needs"))

    def has_add_permission(self, request):
        return False  # booked on the session page, where capacity and the waitlist apply

    def has_delete_permission(self, request, obj=None):
        return False  # attendance counts towards requirements; cancel instead


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("at", "person", "session", "rating", "short_comment")
    list_filter = ("rating", "booking__session__topic")
    list_select_related = ("booking__person", "booking__session")
    search_fields = ("booking__person__full_name", "booking__session__title", "comment")
    date_hierarchy = "at"

    @admin.display(description="Person", ordering="booking__person__full_name")
    def person(self, obj):
        return obj.booking.person

    @admin.display(description="Session", ordering="booking__session__starts_at")
    def session(self, obj):
        return obj.booking.session

    @admin.display(description="Comment")
    def short_comment(self, obj):
        return obj.comment if len(obj.comment) <= 80 else obj.comment[:79] + "…"


@admin.register(CheckInAttempt)
class CheckInAttemptAdmin(ReadOnlyAdmin):
    list_display = ("at", "person", "session", "succeeded")
    list_filter = ("succeeded",)
    list_select_related = ("person", "session")
    search_fields = ("person__full_name", "person__email", "session__title")
    date_hierarchy = "at"


@admin.register(SetupChange)
class SetupChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "name", "kind", "action", "by")
    list_filter = ("kind", "action")
    list_select_related = ("by",)
    search_fields = ("name", "by__full_name", "by__email")
    date_hierarchy = "at"
