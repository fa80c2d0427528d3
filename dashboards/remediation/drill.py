"""The lists the figures link to: the incidents or overdue actions behind a number,
found by the same rules as the figure, so the list and the number agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from dashboards.remediation.figures import (
    actions,
    current_assessments,
    first_classified,
    first_contained,
    in_months,
    last_closed,
    measured,
    overdue_window,
    review_ids,
)
from dashboards.remediation.noticing import noticed_through
from dashboards.remediation.periods import quarter_range
from dashboards.remediation.scope import Filters, Viewer, incidents
from incidents.models import ActionItem, Incident

Status = Incident.Status


@dataclass(frozen=True)
class Drill:
    """What a figure adds to the filters: validated values (see dashboards.forms)."""

    open: bool = False
    status: str = ""
    severity: str = ""
    track: str = ""
    information: str = ""
    outcome: str = ""
    quarter: str = ""
    contained: str = ""
    closed: str = ""
    late_review: bool = False
    review_due: bool = False
    exposure: str = ""  # an EXPOSURE slug: the incidents it measured
    overdue: str = ""  # an OVERDUE_BUCKETS name, or "all"
    noticed_by: str = ""  # a NoticedBy value: how the incidents were noticed


def drilled_incidents(viewer: Viewer, filters: Filters, drill: Drill, *, today: date):
    found = incidents(viewer, filters)
    if drill.open:
        found = found.exclude(status=Status.CLOSED)
    for name in ("status", "severity", "track", "information"):
        value = getattr(drill, name)
        if value:
            found = found.filter(**{name: value})
    if drill.quarter:
        start, end = quarter_range(drill.quarter)
        if drill.outcome:
            assessed = current_assessments(found).filter(
                final_outcome=drill.outcome, finished_at__gte=start, finished_at__lt=end
            )
            found = found.filter(pk__in=assessed.values("incident_id"))
        else:
            classified = first_classified(found).filter(at__gte=start, at__lt=end)
            found = found.filter(pk__in=classified.values("incident_id"))
    for month, events in (
        (drill.contained, first_contained),
        (drill.closed, last_closed),
    ):
        if month:
            found = found.filter(
                pk__in=in_months(events, found, month, month).values("incident_id")
            )
    if drill.late_review or drill.review_due:
        ids = review_ids(viewer, filters, today=today, late=drill.late_review)
        found = found.filter(pk__in=ids)
    if drill.exposure:
        found = measured(found, drill.exposure)
    if drill.noticed_by:
        found = found.filter(noticed_through(drill.noticed_by))
    return found


def incident_rows(found: QuerySet[Incident]) -> QuerySet[Incident]:
    """What the list shows: never the people involved nor what happened."""
    return (
        found.select_related("owner")
        .only(
            "pk",
            "reference",
            "status",
            "severity",
            "track",
            "platform",
            "information",
            "noticed_at",
            "posted_at",
            "contained_at",
            "closed_at",
            "owner__full_name",
            "owner__email",
        )
        .order_by("-noticed_at", "-pk")
    )


def drilled_actions(viewer: Viewer, filters: Filters, drill: Drill, *, today: date):
    found = actions(viewer, filters).filter(status=ActionItem.Status.OPEN)
    window = overdue_window(drill.overdue, today) if drill.overdue != "all" else None
    found = found.filter(due_date__lt=today)
    if window is not None:
        found = found.filter(window)
    return (
        found.select_related("incident", "owner")
        .only(
            "pk",
            "title",
            "due_date",
            "status",
            "owner__full_name",
            "owner__email",
            "incident__id",
            "incident__reference",
            "incident__platform",
            "incident__information",
            "incident__noticed_at",
            "incident__status",
        )
        .order_by("due_date", "pk")
    )
