"""Reads for the policy admin pages: the policy list and compliance figures.

Every function here runs a fixed number of queries, however many people or
assignments there are: figures are aggregated in the database (one grouped query
for all departments), and lists are querysets the views page through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet, Window
from django.utils import timezone
from django.utils.translation import gettext as _

from policies.models import Assignment, Decline, Policy, PolicyVersion, VersionEvent
from training.models import Booking, Session

Status = PolicyVersion.Status
PENDING = (Status.DRAFT, Status.IN_REVIEW, Status.APPROVED)


def policies_for_index() -> QuerySet[Policy]:
    """All policies with what the list shows: owner, the published version, the
    version on its way (draft, in review or approved) and the audience."""
    return Policy.objects.select_related("owner").prefetch_related(
        Prefetch(
            "versions",
            queryset=PolicyVersion.objects.filter(status=Status.PUBLISHED),
            to_attr="published_versions",
        ),
        Prefetch(
            "versions",
            queryset=PolicyVersion.objects.filter(status__in=PENDING),
            to_attr="pending_versions",
        ),
        "audience_departments",
        "audience_groups",
    )


def version_history(policy: Policy) -> QuerySet[PolicyVersion]:
    return policy.versions.select_related("author", "approver").order_by("-major", "-minor")


def policy_events(policy: Policy) -> list[VersionEvent]:
    """The audit trail of every version of a policy, newest first, each event with
    `change` saying what happened in words."""
    events = (
        VersionEvent.objects.filter(version__policy=policy)
        .select_related("version", "by")
        .order_by("-at", "-id")
    )
    return describe_events(events)


def describe_events(events) -> list[VersionEvent]:
    def label(status: str) -> str:
        return Status(status).label if status in Status.values else status

    rows = list(events)
    for event in rows:
        if not event.from_status:
            event.change = _("Created as %(status)s") % {"status": label(event.to_status).lower()}
        elif event.from_status == event.to_status:
            # The note says what: when it is scheduled, or what was edited.
            scheduled = event.note.startswith("Scheduled for")
            event.change = _("Publication scheduled") if scheduled else _("Edited")
        else:
            event.change = f"{label(event.from_status)} → {label(event.to_status)}"
    return rows


# --- compliance -----------------------------------------------------------------


def version_line(version: PolicyVersion) -> QuerySet[Assignment]:
    """The assignments that count for a version: the same policy and major number.

    A minor version (2.1) keeps the acknowledgements of its predecessors (2.0), and
    open assignments move to it, so 2.0 and 2.1 share one set of assignments.
    """
    return Assignment.objects.filter(policy_id=version.policy_id, version__major=version.major)


@dataclass(frozen=True)
class Figures:
    """Acknowledgement figures for a group of people (a department, or everyone).

    `total` is everyone who has to acknowledge (assignments that are not closed);
    people are counted once each.
    """

    name: str
    total: int
    acknowledged: int
    outstanding: int
    overdue: int
    declined: int

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return round(100 * self.acknowledged / self.total)


@dataclass(frozen=True)
class Compliance:
    overall: Figures
    departments: list[Figures]
    # The latest briefings that covered the policy, each with `attendees` (see below).
    briefings: list[Session] = field(default_factory=list)
    briefings_held: int = 0


NO_DEPARTMENT = "No department"


def compliance_figures(version: PolicyVersion, *, today: date) -> Compliance:
    """% acknowledged overall and by department: one grouped query (and the briefings,
    `briefing_attendance`).

    Each person has at most one assignment in a version line that is not closed:
    publishing and `reconcile_assignments` only assign people who have none, a minor
    version moves the open ones instead of adding, and reopening (a decline, an expired
    acknowledgement, a returning person) reuses the same assignment. So counting those
    assignments counts people, once each, without a COUNT(DISTINCT …) per figure (which
    made PostgreSQL sort every row of the line five times over).
    """
    ack = Assignment.Status.ACKNOWLEDGED
    open_ = Assignment.Status.OPEN
    rows = (
        version_line(version)
        .exclude(status=Assignment.Status.CLOSED)
        .values("person__department_id", "person__department__name")
        .annotate(
            total=Count("pk"),
            acknowledged=Count("pk", filter=Q(status=ack)),
            outstanding=Count("pk", filter=Q(status=open_)),
            overdue=Count("pk", filter=Q(status=open_, due_date__lt=today)),
            declined=Count("pk", filter=Q(status=Assignment.Status.DECLINED)),
        )
        .order_by("person__department__name")
    )
    departments = [
        Figures(
            name=row["person__department__name"] or _("No department"),
            total=row["total"],
            acknowledged=row["acknowledged"],
            outstanding=row["outstanding"],
            overdue=row["overdue"],
            declined=row["declined"],
        )
        for row in rows
    ]
    # Each person belongs to one department (or none), so the groups add up to everyone.
    overall = Figures(
        name=_("Everyone"),
        total=sum(d.total for d in departments),
        acknowledged=sum(d.acknowledged for d in departments),
        outstanding=sum(d.outstanding for d in departments),
        overdue=sum(d.overdue for d in departments),
        declined=sum(d.declined for d in departments),
    )
    briefings, held = briefing_attendance(version)
    return Compliance(
        overall=overall, departments=departments, briefings=briefings, briefings_held=held
    )


BRIEFINGS_SHOWN = 10


def briefing_attendance(version: PolicyVersion, *, limit: int = BRIEFINGS_SHOWN):
    """The latest briefing sessions that covered the version's policy and have taken
    place, each with `attendees` (bookings attended or late, by name), and how many such
    sessions there are: two queries (one when there is none), however many sessions or
    people. The number held comes with the latest ones (a window count over all of
    them), not from a second query."""
    covering = Session.policies.through.objects.filter(policy_id=version.policy_id)
    held = Session.objects.filter(
        pk__in=covering.values("session_id"), starts_at__lte=timezone.now()
    ).exclude(status=Session.Status.CANCELLED)
    attendees = (
        Booking.objects.filter(status__in=Booking.PRESENT)
        .select_related("person__department")
        .order_by("person__full_name", "pk")
    )
    sessions = list(
        held.select_related("presenter")
        .annotate(held_count=Window(Count("pk")))
        .prefetch_related(Prefetch("bookings", queryset=attendees, to_attr="attendees"))
        .order_by("-starts_at", "-pk")[:limit]
    )
    effective = version.published_at
    for session in sessions:
        session.before_version = bool(effective and session.starts_at < effective)
    return sessions, sessions[0].held_count if sessions else 0


# The columns the outstanding and overdue lists show: a page of them is read without
# everyone's password hash, settings and so on.
LISTED = ("due_date", "status", "person__full_name", "person__email", "person__department__name")


def outstanding_assignments(version: PolicyVersion) -> QuerySet[Assignment]:
    """People who still have to acknowledge, soonest due first."""
    return (
        version_line(version)
        .filter(status=Assignment.Status.OPEN)
        .select_related("person__department")
        .only(*LISTED)
        .order_by("due_date", "person__full_name", "pk")
    )


def overdue_assignments(version: PolicyVersion, *, today: date) -> QuerySet[Assignment]:
    """Those past their due date: the first of `outstanding_assignments`, in its order."""
    return outstanding_assignments(version).filter(due_date__lt=today)


def with_days_overdue(assignments, *, today: date) -> list[Assignment]:
    """Mark each assignment of a page with `days_overdue` (0 when not yet due)."""
    rows = list(assignments)
    for assignment in rows:
        assignment.days_overdue = max(0, (today - assignment.due_date).days)
    return rows


class Counted:
    """A queryset whose number of rows is already known (from the figures), for a
    Paginator: the page is still read from the database, its COUNT(*) is not."""

    def __init__(self, queryset: QuerySet, count: int):
        self.queryset = queryset
        self._count = count

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, key):
        return self.queryset[key]


def declines(version: PolicyVersion) -> QuerySet[Decline]:
    return (
        Decline.objects.filter(version__policy_id=version.policy_id, version__major=version.major)
        .select_related("person__department", "version")
        .order_by("-at", "-pk")
    )


def compliance_export_rows(version: PolicyVersion) -> QuerySet[Assignment]:
    """Everyone counted in the figures, for the CSV export, by department and name."""
    return (
        version_line(version)
        .exclude(status=Assignment.Status.CLOSED)
        .select_related("person__department", "version")
        .order_by("person__department__name", "person__full_name", "pk")
    )
