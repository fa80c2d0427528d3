"""Reads for the compliance dashboard, part two: training coverage by department (now
and at each month end) and the 12-month trend of acknowledgements and coverage. The
scope, filters, version lines and months come from `compliance`; the attendance
helpers here also serve the drill-down (`compliance_people`).

Costs: training coverage is one query for all active requirements (for everyone, a
grouped count over each requirement's audience, joined by UNION ALL; for a team, one pass
over the team; a hashed `IN (attendance)`, not a subquery per person), and its trend one
query for all requirements (people counted per department, requirement and month). The
acknowledgement trend is one query that counts assignments per version, status and month
of assignment and of completion (a few hundred rows), added up per month here. For
everyone, and for the head of the whole line's team (everyone's less the few people
outside it), the finished months are kept (`summaries`); the head's own part is their
few attendance rows, counted here (`_counted_person_by_person`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.lookups import IsNull, LessThan
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from dashboards import summaries
from dashboards.compliance import (
    ACK,
    CLOSED,
    NONE,
    TRAINING,
    Filters,
    Lines,
    Month,
    Scope,
    department_params,
    department_rows,
    percent,
)
from people.audience import EVERYONE
from policies.models import Assignment
from training.compliance import (
    CHECKIN_LEAD,
    active_requirements,
    audience_of,
    in_audience,
    period,
    period_start,
    topics_of,
)
from training.models import Booking, Requirement, Session

# --- attendance ------------------------------------------------------------------------


def attendance_since(earliest: datetime | None, now: datetime, topics) -> QuerySet:
    """Attendance as `training.compliance` counts it (present, at a session of an
    accepted topic that was not cancelled and has begun, give or take check-in), from
    `earliest`. `topics`: topic ids (several requirements' at once) or a queryset."""
    bookings = Booking.objects.filter(
        status__in=Booking.PRESENT,
        session__topic__in=topics,
        session__starts_at__lte=now + CHECKIN_LEAD,
    ).exclude(session__status=Session.Status.CANCELLED)
    if earliest is not None:
        bookings = bookings.filter(session__starts_at__gte=earliest)
    return bookings


def attended_since(requirement: Requirement, start: datetime, now: datetime) -> QuerySet:
    """The people who attended a session of an accepted topic since `start`: an
    uncorrelated subquery, which the database runs once and hashes."""
    return attendance_since(start, now, requirement.accepted_topics.all()).values("person_id")


# --- training coverage -----------------------------------------------------------------


@dataclass
class Coverage:
    """People × requirement pairs for one department (or everyone)."""

    name: str
    department_value: str
    audience: int = 0
    compliant: int = 0
    with_sub_departments: bool = False  # the totals of a department filter
    # The drill-down page's address, when many rows are made at once (else reversed here).
    people_url: str | None = field(default=None, repr=False, compare=False)

    @property
    def percent(self) -> int | None:
        return percent(self.compliant, self.audience)

    @property
    def still_required(self) -> int:
        return self.audience - self.compliant

    @cached_property
    def url(self) -> str:
        params = {"kind": TRAINING, "status": "all"}
        params.update(department_params(self.department_value, self.with_sub_departments))
        base = self.people_url or reverse("dashboards:compliance_people")
        return f"{base}?{urlencode(params)}"


@dataclass(frozen=True)
class Training:
    requirements: list[Requirement]
    departments: list[Coverage]
    overall: Coverage
    # Per month of `months`: (compliant, audience) pairs summed over requirements.
    by_month: list[tuple[int, int]]


def coverage_counts(
    requirements: list[Requirement],
    *,
    months: list[Month],
    now: datetime,
    scope: Scope | None = None,
    filters: Filters | None = None,
) -> dict[tuple[int, int, int | None], int]:
    """People compliant at each month end, per (month index, requirement id, department
    id), in one query grouped by department: a distinct count of the people (in scope
    and filters; None: everyone) in the requirement's (today's) audience who attended
    within its period before that month end. What `summaries` keeps for the finished
    months; `_coverage_trend` adds it up for a line manager's team."""
    if not requirements or not months:
        return {}
    topics = {r.pk: [topic.pk for topic in r.accepted_topics.all()] for r in requirements}
    earliest = min(months[0].at - period(r) for r in requirements)
    bookings = attendance_since(earliest, now, sorted({t for ids in topics.values() for t in ids}))
    if scope is not None:
        bookings = scope.people(bookings, "person_id")
    if filters is not None:
        bookings = filters.people(bookings, "person__department_id")
    if scope is not None and _few(scope):
        return _counted_person_by_person(requirements, topics, bookings, months)
    counts = {}
    for j, requirement in enumerate(requirements):
        # On the person's row the query joins anyway (their department): one test, not
        # a subquery per month's count.
        member = in_audience(requirement, "person__")
        for k, month in enumerate(months):
            window = Q(
                session__topic_id__in=topics[requirement.pk],
                session__starts_at__gte=month.at - period(requirement),
            )
            if not month.to_date:  # this month: up to now, as today's figures count
                window &= Q(session__starts_at__lt=month.at)
            counts[f"m_{j}_{k}"] = Count("person_id", distinct=True, filter=window & member)
    rows = bookings.order_by().values("person__department_id").annotate(**counts)
    return {
        (k, requirement.pk, row["person__department_id"]): row[f"m_{j}_{k}"]
        for row in rows
        for j, requirement in enumerate(requirements)
        for k in range(len(months))
        if row[f"m_{j}_{k}"]
    }


FEW = 50  # people named one by one (`Scope.person_ids` a tuple): counted here


def _few(scope: Scope) -> bool:
    """Whether the scope is a few people named by id, such as the head of the whole
    line on their own (`training_coverage`)."""
    return (
        not scope.everyone
        and scope.head is None
        and isinstance(scope.person_ids, tuple)
        and len(scope.person_ids) <= FEW
    )


def _counted_person_by_person(
    requirements: list[Requirement],
    topics: dict[int, list[int]],
    bookings: QuerySet,
    months: list[Month],
) -> dict[tuple[int, int, int | None], int]:
    """`coverage_counts` for a few people: their attendance read as it is (a few rows,
    each with whether the person is in each requirement's audience) and counted here,
    rather than a query of requirements × months conditional counts, which takes the
    ORM far longer to build than the database to run for a few people. The same
    conditions, tested on the same rows."""
    members = {
        f"in_{j}": ExpressionWrapper(in_audience(requirement, "person__"), BooleanField())
        for j, requirement in enumerate(requirements)
    }
    rows = (
        bookings.order_by()
        .annotate(**members)
        .values_list(
            "person_id",
            "person__department_id",
            "session__topic_id",
            "session__starts_at",
            *members,
        )
    )
    accepted = [set(topics[requirement.pk]) for requirement in requirements]
    windows = [
        [
            (k, month.at - period(requirement), None if month.to_date else month.at)
            for k, month in enumerate(months)
        ]
        for requirement in requirements
    ]
    found: dict[tuple[int, int, int | None], set[int]] = {}
    for person_id, department_id, topic_id, starts_at, *member in rows:
        for j, requirement in enumerate(requirements):
            if not member[j] or topic_id not in accepted[j]:
                continue
            for k, start, end in windows[j]:
                if starts_at >= start and (end is None or starts_at < end):
                    found.setdefault((k, requirement.pk, department_id), set()).add(person_id)
    return {key: len(people) for key, people in found.items()}


def _coverage_trend(
    requirements: list[Requirement],
    *,
    scope: Scope,
    filters: Filters,
    months: list[Month],
    now: datetime,
) -> list[int]:
    """People × requirement pairs compliant at each month end (`coverage_counts` added
    up over requirements and departments)."""
    totals = [0 for _ in months]
    counts = coverage_counts(requirements, months=months, now=now, scope=scope, filters=filters)
    for (k, _requirement, _department), count in counts.items():
        totals[k] += count
    return totals


def _coverage_now(
    requirements: list[Requirement],
    *,
    scope: Scope,
    filters: Filters,
    now: datetime,
) -> dict[int | None, list[int]]:
    """[in audience, compliant] per department today, summed over `requirements`: one
    query, with a hashed `IN (attendance)` per requirement (not a subquery per person).

    For everyone, a grouped count per requirement over its own audience (every active
    person, or the audience's people), joined by UNION ALL: PostgreSQL counts them side
    by side, and nobody outside an audience is read for it; the same, less the few
    outside it, for the team of the head of the whole line (`Scope.head`). For a
    team, one pass over the team's people testing each audience on the person's row
    (`in_audience`): a few people, where starting a count per requirement would cost
    more than it saves."""
    totals: dict[int | None, list[int]] = {}
    if not requirements:
        return totals
    active = get_user_model().objects.filter(is_active=True)
    attended = {
        r.pk: Q(
            pk__in=attendance_since(period_start(r, now), now, topics_of(r)).values("person_id")
        )
        for r in requirements
    }
    if scope.everyone or scope.head is not None:
        counted = [
            filters.people(
                scope.people(
                    active if r.audience == EVERYONE else audience_of(r).filter(is_active=True)
                )
            )
            .order_by()
            .values_list("department_id")
            .annotate(audience=Count("pk"), compliant=Count("pk", filter=attended[r.pk]))
            for r in requirements
        ]
        rows = counted[0].union(*counted[1:], all=True) if len(counted) > 1 else counted[0]
    else:
        counts = {}
        for j, requirement in enumerate(requirements):
            if requirement.audience == EVERYONE:  # every active person: no test needed
                member = Q()
                counts[f"a_{j}"] = Count("pk")
            else:
                member = in_audience(requirement)
                counts[f"a_{j}"] = Count("pk", filter=member)
            counts[f"c_{j}"] = Count("pk", filter=member & attended[requirement.pk])
        grouped = filters.people(scope.people(active)).order_by().values("department_id")
        rows = (
            (
                row["department_id"],
                sum(row[f"a_{j}"] for j in range(len(requirements))),
                sum(row[f"c_{j}"] for j in range(len(requirements))),
            )
            for row in grouped.annotate(**counts)
        )
    for department_id, audience, compliant in rows:
        if audience:
            pair = totals.setdefault(department_id, [0, 0])
            pair[0] += audience
            pair[1] += compliant
    return totals


def training_coverage(
    *,
    scope: Scope,
    filters: Filters,
    names: dict[int, str],
    months: list[Month],
    now: datetime,
    requirements: list[Requirement] | None = None,
    finished: summaries.FinishedMonths | None = None,
) -> Training:
    """Coverage by department now (one query, `_coverage_now`) and at each month end
    (one query for all of them). A month end counts today's audience (who was in it
    then is not kept), compliant if they attended within the requirement's period
    before that date. With `finished` (and everyone in scope), the finished months are
    the kept ones (`summaries`); for the head of the whole line's team, the kept ones
    less the head's own, counted live."""
    requirements = active_requirements() if requirements is None else requirements
    totals = _coverage_now(requirements, scope=scope, filters=filters, now=now)
    people_url = reverse("dashboards:compliance_people")
    departments = [
        Coverage(name, NONE if pk is None else str(pk), *totals[pk], people_url=people_url)
        for pk, name in department_rows(set(totals), names)
    ]
    overall = Coverage(
        _("All departments") if not filters.department_value else _("Total"),
        filters.department_value,
        sum(row.audience for row in departments),
        sum(row.compliant for row in departments),
        with_sub_departments=True,
        people_url=people_url,
    )
    if finished is not None and (scope.everyone or scope.head is not None):
        kept = finished.training(
            lambda missing: coverage_counts(requirements, months=missing, now=now),
            [requirement.pk for requirement in requirements],
        )
        if scope.head is not None:
            # Everyone's, less the head's own: of the people outside their team, only
            # they can be in an audience (nobody who left is, `in_audience`).
            theirs = _coverage_trend(
                requirements,
                scope=Scope(everyone=False, person_ids=(scope.head.pk,)),
                filters=filters,
                months=finished.months,
                now=now,
            )
            kept = [count - less for count, less in zip(kept, theirs, strict=True)]
        # This month to date is today's coverage: the same people, attended within the
        # period before now.
        compliant = kept + [overall.compliant for month in months if month.to_date]
    else:
        compliant = _coverage_trend(
            requirements, scope=scope, filters=filters, months=months, now=now
        )
    # Today's audience throughout: the same number of pairs at every month end.
    by_month = [(count, overall.audience) for count in compliant]
    return Training(requirements, departments, overall, by_month)


TRAINING_HEADER = ["Department", "In audience", "Compliant", "% compliant", "Still required"]


def training_csv_rows(training: Training) -> Iterator[list]:
    for row in [*training.departments, training.overall]:
        yield [
            row.name,
            row.audience,
            row.compliant,
            "" if row.percent is None else row.percent,
            row.still_required,
        ]


# --- trend -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    month: Month
    acknowledged: int
    assigned: int
    compliant: int
    audience: int

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return None if not whole else round(100 * part / whole, 1)

    @property
    def acknowledgement(self) -> float | None:
        return self._share(self.acknowledged, self.assigned)

    @property
    def coverage(self) -> float | None:
        return self._share(self.compliant, self.audience)


NEVER = -1  # the bucket of a missing completion time


def _month_bucket(field_name: str, months: list[Month]) -> Case:
    """The first month at whose end the assignment's `field_name` had already happened
    (len(months): not by the last one; NEVER: no time). Its conditions are lookups on
    the column itself, not keyword filters: two dozen of those took the ORM longer to
    build than the database to count."""
    column = Assignment._meta.get_field(field_name).get_col(Assignment._meta.db_table)
    return Case(
        When(IsNull(column, True), then=Value(NEVER)),
        *[When(LessThan(column, m.at), then=Value(i)) for i, m in enumerate(months)],
        default=Value(len(months)),
        output_field=IntegerField(),
    )


def acknowledgement_counts(
    *,
    scope: Scope,
    filters: Filters,
    lines: Lines,
    months: list[Month],
    by_department: bool = False,
) -> dict[tuple[int, int, int | None], list[int]]:
    """[acknowledged, assigned] at each month end, per (month index, policy id,
    department id): the assignments of the version lines current then, assigned by then
    and not closed by then; acknowledged by then. The department is the person's (None:
    none), or always None unless `by_department`.

    One query: assignments counted per version, status, and the months in which they
    were assigned and completed (a few hundred rows however many assignments; times the
    departments when `by_department`), then added up per month here. Cheaper than a
    conditional count per month and row."""
    policy_id = filters.policy.pk if filters.policy else None
    current = [set(lines.version_ids_at(month.at, policy_id)) for month in months]
    version_ids = sorted(set().union(*current)) if current else []
    if not version_ids:
        return {}
    policy_of = {pk: line.policy.pk for line in lines.lines for pk in line.version_ids}
    assignments = filters.people(
        scope.people(Assignment.objects.all(), "person_id"), "person__department_id"
    )
    department = F("person__department_id") if by_department else Value(None, IntegerField())
    rows = (
        assignments.filter(version_id__in=version_ids, assigned_at__lt=months[-1].at)
        .annotate(
            assigned_in=_month_bucket("assigned_at", months),
            completed_in=_month_bucket("completed_at", months),
            department=department,
        )
        .values_list("version_id", "status", "assigned_in", "completed_in", "department")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts: dict[tuple[int, int, int | None], list[int]] = {}
    for version_id, status, assigned_in, completed_in, department_id, count in rows:
        for k in range(assigned_in, len(months)):
            if version_id not in current[k]:
                continue
            completed_by_then = completed_in != NEVER and completed_in <= k
            if status == CLOSED and (completed_in == NEVER or completed_by_then):
                continue  # closed by then (or closed at an unknown time)
            pair = counts.setdefault((k, policy_of[version_id], department_id), [0, 0])
            pair[1] += count
            if status == ACK and completed_by_then:
                pair[0] += count
    return counts


def kept_counts(lines: Lines, scope: Scope):
    """How the finished months of `scope` (everyone, or the people who have left) are
    counted to be kept: per department, with no filter (a filter adds up their rows)."""
    return lambda missing: acknowledgement_counts(
        scope=scope, filters=Filters(), lines=lines, months=missing, by_department=True
    )


def acknowledgement_trend(
    *,
    scope: Scope,
    filters: Filters,
    lines: Lines,
    months: list[Month],
    finished: summaries.FinishedMonths | None = None,
    this_month: tuple[int, int] | None = None,
) -> list[tuple[int, int]]:
    """(acknowledged, assigned) at each month end (see `acknowledgement_counts`). With
    `finished` (and everyone in scope), the finished months are the kept ones, and this
    month's figures `this_month` when the heatmap already counted them (its
    `assignments`: the same assignments, of today's version lines). For the head of the
    whole line's team, the kept months less the people outside it (`Scope.rest`): the
    kept months of the people who have left, and the head's own, counted live."""
    if finished is not None and (scope.everyone or scope.head is not None):
        policy_id = filters.policy.pk if filters.policy else None
        kept = finished.acknowledgements(kept_counts(lines, Scope(everyone=True)), policy_id)
        if scope.head is not None:  # everyone's, less the people outside the team
            leavers = finished.acknowledgements(
                kept_counts(lines, Scope.leavers()), policy_id, kind=summaries.LEAVERS
            )
            own = acknowledgement_trend(
                scope=Scope(everyone=False, person_ids=(scope.head.pk,)),
                filters=filters,
                lines=lines,
                months=finished.months,
            )
            kept = [
                (a - a_left - a_own, t - t_left - t_own)
                for (a, t), (a_left, t_left), (a_own, t_own) in zip(kept, leavers, own, strict=True)
            ]
        if this_month is not None and months and months[-1].to_date:
            return [*kept, this_month]
        return kept + acknowledgement_trend(
            scope=scope,
            filters=filters,
            lines=lines,
            months=[month for month in months if month.to_date],
        )
    points = [[0, 0] for _ in months]
    counts = acknowledgement_counts(scope=scope, filters=filters, lines=lines, months=months)
    for (k, _policy, _department), (acknowledged, assigned) in counts.items():
        points[k][0] += acknowledged
        points[k][1] += assigned
    return [(acknowledged, assigned) for acknowledged, assigned in points]


def trend(
    *, months: list[Month], acknowledgements: list[tuple[int, int]], training: Training
) -> list[TrendPoint]:
    return [
        TrendPoint(month, acknowledged, assigned, compliant, audience)
        for month, (acknowledged, assigned), (compliant, audience) in zip(
            months, acknowledgements, training.by_month, strict=True
        )
    ]


TREND_HEADER = [
    "Month",
    "Measured at",
    "Acknowledgement %",
    "Acknowledged",
    "Assigned",
    "Training coverage %",
    "Compliant",
    "In audience",
]


def trend_csv_rows(points: list[TrendPoint]) -> Iterator[list]:
    for point in points:
        yield [
            point.month.long_label,
            timezone.localtime(point.month.at).isoformat(timespec="minutes"),
            "" if point.acknowledgement is None else point.acknowledgement,
            point.acknowledged,
            point.assigned,
            "" if point.coverage is None else point.coverage,
            point.compliant,
            point.audience,
        ]
