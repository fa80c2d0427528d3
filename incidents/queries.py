"""Reads for the incident pages: My reports, the incident list and its filters, My
actions, the lessons library, and the counts beside the links.

Every list and count starts from `permissions.visible_incidents(user)` or
`permissions.visible_actions(user)`, so a restricted incident can never show up in a
list or a count for someone who may not open it.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Prefetch, Q, Value, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from incidents import permissions
from incidents.models import ActionItem, Incident, Lesson
from policies.models import PolicyVersion

# Closed actions stay on My actions this long, so that one can see what one just did.
RECENT_ACTIONS_DAYS = 30


def _overdue_actions(today):
    return ActionItem.objects.filter(
        incident=OuterRef("pk"), status=ActionItem.Status.OPEN, due_date__lt=today
    )


# --- My reports and the incident list -------------------------------------------------


def my_reports(user):
    """The person's own reports, newest first: reference and status only."""
    return (
        permissions.visible_incidents(user)
        .filter(reporter=user)
        .only("pk", "reference", "status", "self_reported", "created_at")
        .order_by("-created_at", "-id")
    )


def incident_list(user, *, filters: dict, today=None):
    """The incident list with its filters: status, severity, track, overdue (an open
    action past its due date) and a search by reference. Never the people involved."""
    today = today or timezone.localdate()
    incidents = (
        permissions.visible_incidents(user)
        .select_related("owner")
        .annotate(overdue=Exists(_overdue_actions(today)))
        .defer("what_happened", "url", "account_handle", "no_takedown_note")
        .order_by("-created_at", "-id")
    )
    for name in ("status", "severity", "track"):
        if filters.get(name):
            incidents = incidents.filter(**{name: filters[name]})
    if filters.get("overdue"):
        incidents = incidents.filter(overdue=True)
    reference = (filters.get("q") or "").strip().upper()
    if reference:
        incidents = incidents.filter(reference__icontains=reference)
    return incidents


def open_incident_count(user) -> int:
    """Incidents not yet closed that `user` may see."""
    return permissions.visible_incidents(user).exclude(status=Incident.Status.CLOSED).count()


# --- My actions -----------------------------------------------------------------------


def my_actions(user, *, now=None):
    """The person's own actions: open ones first by due date, then those closed in the
    last RECENT_ACTIONS_DAYS days."""
    now = now or timezone.now()
    closed_since = now - timedelta(days=RECENT_ACTIONS_DAYS)
    return (
        permissions.visible_actions(user)
        .filter(owner=user)
        .filter(Q(status=ActionItem.Status.OPEN) | Q(completed_at__gte=closed_since))
        .select_related("incident")
        .only(
            "pk",
            "title",
            "due_date",
            "status",
            "note",
            "completed_at",
            "owner_id",
            "incident__id",
            "incident__reference",
            "incident__status",
            "incident__platform",
            "incident__information",
            "incident__noticed_at",
        )
        .annotate(
            closed=Case(
                When(status=ActionItem.Status.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("closed", "due_date", "-completed_at", "id")
    )


def action_counts(user, *, today=None) -> dict[str, int]:
    """How many actions the person owns: in all, open, and open past due (one query)."""
    today = today or timezone.localdate()
    open_ = Q(status=ActionItem.Status.OPEN)
    return (
        permissions.visible_actions(user)
        .filter(owner=user)
        .aggregate(
            total=Count("pk"),
            open=Count("pk", filter=open_),
            overdue=Count("pk", filter=open_ & Q(due_date__lt=today)),
        )
    )


def summary_line(incident: Incident) -> str:
    """A one-line summary for an action owner, made only from what names nobody: the
    kind of information, the platform and when it was noticed (what happened, in the
    reporter's words, may name the people involved)."""
    what = (
        incident.get_information_display()
        if incident.information != Incident.Information.OTHER
        else _("A post")
    )
    if incident.platform != Incident.Platform.OTHER:
        # Translators: e.g. "Customer or personal data on LinkedIn".
        what = _("%(what)s on %(platform)s") % {
            "what": what,
            "platform": incident.get_platform_display(),
        }
    noticed = date_format(timezone.localtime(incident.noticed_at), "j M Y")
    return _("%(what)s, noticed %(date)s") % {"what": what, "date": noticed}


# --- the lessons library ----------------------------------------------------------------


def published_lessons():
    """The anonymised lessons every employee may read, with their links, newest first.
    Nothing of the incident is loaded: the library never shows it."""
    return (
        Lesson.objects.filter(published=True)
        .only("pk", "title", "text", "published_at")
        .prefetch_related(
            "topics",
            Prefetch(
                "policy_versions",
                queryset=PolicyVersion.objects.select_related("policy").order_by(
                    "policy__title", "major", "minor"
                ),
            ),
        )
        .order_by("-published_at", "-id")
    )
