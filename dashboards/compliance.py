"""Reads for the compliance dashboard: acknowledgements by policy and department (a
heatmap), training coverage by department, the trend over the last 12 months, and the
people behind every figure.

Who is counted: policy admins and leadership see everyone; a line manager who is
neither sees only their team (direct and indirect reports). Every figure, list and
export goes through one `Scope`, so nobody outside it is ever counted.

Costs: a fixed number of queries however many people, departments or assignments
there are, and the counting is done by the database. The heatmap is one grouped query
for all cells. The acknowledgement trend is one query that counts assignments per
version, status and month of assignment and of completion (a few hundred rows), added
up per month here. Training coverage is one grouped query per active requirement (a
hashed `IN (attendance)`, not a subquery per person), and its trend one query for all
requirements (a flag per person, requirement and month, summed).

Acknowledgement figures follow `policies.queries.compliance_figures`: the current
version line (same policy, same major number: a minor version keeps its predecessors'
acknowledgements), assignments that are not closed, people counted once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    prefetch_related_objects,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from people import roles
from people.audience import DEPARTMENTS, GROUPS, team_ids, with_sub_departments
from people.models import Department
from policies.models import Assignment, Policy, PolicyVersion
from training.compliance import (
    CHECKIN_LEAD,
    _attendance,
    audience_of,
    joiner_due_by,
    period,
    period_start,
)
from training.models import Booking, Requirement, Session

NO_DEPARTMENT = "No department"
NONE = "none"  # the department parameter for people without one
PER_PAGE = 50
MONTHS = 12

ACK = Assignment.Status.ACKNOWLEDGED
OPEN = Assignment.Status.OPEN
CLOSED = Assignment.Status.CLOSED
DECLINED = Assignment.Status.DECLINED


# --- who is counted --------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Everyone, or the ids of the people a line manager may see."""

    everyone: bool
    person_ids: tuple[int, ...] = ()

    def people(self, queryset: QuerySet, key: str = "pk") -> QuerySet:
        if self.everyone:
            return queryset
        return queryset.filter(**{f"{key}__in": self.person_ids})


def scope_for(user) -> Scope | None:
    """What `user` may see on the compliance dashboard; None: nothing (a 403)."""
    if roles.is_policy_admin(user) or roles.is_leadership(user):
        return Scope(everyone=True)
    if roles.is_line_manager(user):
        return Scope(everyone=False, person_ids=tuple(team_ids(user)))
    return None


# --- filters ---------------------------------------------------------------------------


@dataclass
class Filters:
    """The page's filters, read from GET; a bad value is dropped with a note."""

    department: Department | None = None
    no_department: bool = False
    # The department and everything below it (None: no department filter).
    department_ids: frozenset[int] | None = None
    policy: Policy | None = None
    notes: list[str] = field(default_factory=list)

    def people(self, queryset: QuerySet, key: str = "department_id") -> QuerySet:
        if self.no_department:
            return queryset.filter(**{f"{key}__isnull": True})
        if self.department_ids is not None:
            return queryset.filter(**{f"{key}__in": self.department_ids})
        return queryset

    @property
    def department_value(self) -> str:
        if self.no_department:
            return NONE
        return str(self.department.pk) if self.department else ""

    def query(self, **extra) -> str:
        params = {}
        if self.department_value:
            params["department"] = self.department_value
        if self.policy:
            params["policy"] = self.policy.pk
        params.update({key: value for key, value in extra.items() if value not in ("", None)})
        return urlencode(params)


def _int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**31 else None


def _department(value: str | None, departments: dict[int, Department], notes: list[str]):
    """(department, no_department) from a parameter; a bad one is noted and ignored."""
    if not value:
        return None, False
    if value == NONE:
        return None, True
    department = departments.get(_int(value))
    if department is None:
        notes.append("That department does not exist; showing every department.")
    return department, False


def page_filters(params, *, departments: list[Department], lines: Lines) -> Filters:
    """Filters for the dashboard: a department includes its sub-departments."""
    notes: list[str] = []
    by_pk = {d.pk: d for d in departments}
    department, no_department = _department(params.get("department"), by_pk, notes)
    policy = None
    if params.get("policy"):
        version = lines.published.get(_int(params.get("policy")))
        if version is None:
            notes.append(
                "That policy does not exist or has no published version; showing every policy."
            )
        else:
            policy = version.policy
    ids = frozenset(with_sub_departments([department.pk])) if department else None
    return Filters(department, no_department, ids, policy, notes)


# --- version lines ---------------------------------------------------------------------


@dataclass
class Line:
    """The versions of one policy with one major number, and when the line was the
    current one: from its first publication until the next major version was
    published or the policy was retired (None: still current)."""

    policy: Policy
    major: int
    version_ids: list[int] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None

    def current_at(self, moment: datetime) -> bool:
        return (
            self.start is not None
            and self.start < moment
            and (self.end is None or self.end >= moment)
        )


@dataclass
class Lines:
    published: dict[int, PolicyVersion]  # policy id -> its published version
    lines: list[Line]

    def current(self, policy_id: int | None = None) -> list[Line]:
        """The lines of the published versions (of one policy, or all), by policy title."""
        found = [
            line
            for line in self.lines
            if line.policy.pk in self.published
            and self.published[line.policy.pk].major == line.major
            and (policy_id is None or line.policy.pk == policy_id)
        ]
        return sorted(found, key=lambda line: (line.policy.title.casefold(), line.policy.pk))

    def current_version_ids(self, policy_id: int | None = None) -> list[int]:
        return [pk for line in self.current(policy_id) for pk in line.version_ids]

    def version_ids_at(self, moment: datetime, policy_id: int | None = None) -> list[int]:
        return [
            pk
            for line in self.lines
            if line.current_at(moment) and (policy_id is None or line.policy.pk == policy_id)
            for pk in line.version_ids
        ]


def version_lines() -> Lines:
    """Every version that was ever published, grouped into lines (one query)."""
    versions = (
        PolicyVersion.objects.filter(status__in=PolicyVersion.LOCKED)
        .select_related("policy")
        .defer("body", "change_summary")
        .annotate(
            retired_at=Max("events__at", filter=Q(events__to_status=PolicyVersion.Status.RETIRED))
        )
        .order_by("policy_id", "major", "minor")
    )
    published: dict[int, PolicyVersion] = {}
    lines: dict[tuple[int, int], Line] = {}
    for version in versions:
        if version.status == PolicyVersion.Status.PUBLISHED:
            published[version.policy_id] = version
        line = lines.setdefault(
            (version.policy_id, version.major), Line(version.policy, version.major)
        )
        line.version_ids.append(version.pk)
        if version.published_at and (line.start is None or version.published_at < line.start):
            line.start = version.published_at
        if version.retired_at:
            line.end = version.retired_at
    # A line ends when the next major version of the same policy is published.
    ordered = sorted(lines.values(), key=lambda line: (line.policy.pk, line.major))
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier.policy.pk == later.policy.pk and later.start is not None:
            earlier.end = min(filter(None, (earlier.end, later.start)))
    return Lines(published=published, lines=ordered)


def departments() -> list[Department]:
    return list(Department.objects.only("pk", "name", "parent_id").order_by("name"))


# --- acknowledgement heatmap -----------------------------------------------------------


def heat_class(acknowledged: int, total: int) -> str:
    """The colour of a cell: five bands of % acknowledged, or none when nobody is
    assigned. The bands are uneven on purpose: the difference that matters is near
    the top. Banded on the rounded % the cell shows, so that "50%" is never in the
    "under 50%" colour."""
    if not total:
        return "heat-none"
    shown = percent(acknowledged, total)
    for band, below in enumerate((50, 70, 85, 95)):
        if shown < below:
            return f"heat-{band}"
    return "heat-4"


HEAT_BANDS = [
    ("heat-0", "under 50%"),
    ("heat-1", "50–69%"),
    ("heat-2", "70–84%"),
    ("heat-3", "85–94%"),
    ("heat-4", "95% or more"),
    ("heat-none", "nobody assigned"),
]


def _department_params(value: str, with_sub_departments: bool) -> dict:
    if not value:
        return {}
    if with_sub_departments and value != NONE:
        return {"department": value, "sub": "1"}
    return {"department": value}


def percent(part: int, whole: int) -> int | None:
    return None if not whole else round(100 * part / whole)


@dataclass(frozen=True)
class Cell:
    policy: Policy
    acknowledged: int
    total: int
    url: str | None  # the drill-down to its people (None when nobody is assigned)
    percent: int | None = field(init=False)
    heat: str = field(init=False)
    label: str = field(init=False)  # "72% · 36/50"

    def __post_init__(self):
        # Worked out once: a heatmap has hundreds of cells, each read by the template.
        share = percent(self.acknowledged, self.total)
        object.__setattr__(self, "percent", share)
        object.__setattr__(self, "heat", heat_class(self.acknowledged, self.total))
        label = f"{share}% · {self.acknowledged}/{self.total}" if self.total else "—"
        object.__setattr__(self, "label", label)


def _people_url(base: str, params: dict) -> str:
    return f"{base}?{urlencode(params)}"


@dataclass(frozen=True)
class HeatRow:
    name: str
    department_value: str
    cells: list[Cell]


@dataclass(frozen=True)
class Heatmap:
    columns: list[PolicyVersion]  # the published version of each policy shown
    rows: list[HeatRow]
    totals: HeatRow


def _department_rows(keys, names: dict[int, str]) -> list[tuple[int | None, str]]:
    """Departments by name, "No department" last."""
    named = sorted((names.get(pk, "?"), pk) for pk in keys if pk is not None)
    rows = [(pk, name) for name, pk in named]
    if None in keys:
        rows.append((None, NO_DEPARTMENT))
    return rows


def heatmap(*, scope: Scope, filters: Filters, lines: Lines, names: dict[int, str]) -> Heatmap:
    """% acknowledged of each policy's current version line, per department: one
    grouped query for every cell. The lines are given as their versions' ids (the
    same rows as an OR of `version_line` (policy, major) pairs, without a join)."""
    policy_id = filters.policy.pk if filters.policy else None
    columns = [lines.published[line.policy.pk] for line in lines.current(policy_id)]
    counts: dict[tuple[int, int | None], tuple[int, int]] = {}
    version_ids = lines.current_version_ids(policy_id)
    if version_ids:
        assignments = filters.people(
            scope.people(Assignment.objects.all(), "person_id"), "person__department_id"
        )
        rows = (
            assignments.filter(version_id__in=version_ids)
            .exclude(status=CLOSED)
            .values("policy_id", "person__department_id")
            .annotate(
                total=Count("person_id", distinct=True),
                acknowledged=Count("person_id", distinct=True, filter=Q(status=ACK)),
            )
            .order_by()
        )
        for row in rows:
            key = (row["policy_id"], row["person__department_id"])
            counts[key] = (row["acknowledged"], row["total"])
    departments = {department for _, department in counts}

    base = reverse("dashboards:compliance_people")

    def cells(department_value: str, pick, sub: bool = False) -> list[Cell]:
        department = _department_params(department_value, sub)
        made = []
        for column in columns:
            acknowledged, total = pick(column.policy_id)
            params = {"kind": POLICY, "policy": column.policy_id, "status": "all", **department}
            url = _people_url(base, params) if total else None
            made.append(Cell(column.policy, acknowledged, total, url))
        return made

    rows = [
        HeatRow(
            name,
            NONE if pk is None else str(pk),
            cells(NONE if pk is None else str(pk), lambda p, pk=pk: counts.get((p, pk), (0, 0))),
        )
        for pk, name in _department_rows(departments, names)
    ]

    def total(policy_pk: int) -> tuple[int, int]:
        # A person has one department (or none), so the departments add up.
        pairs = [value for (p, _), value in counts.items() if p == policy_pk]
        return sum(a for a, _ in pairs), sum(t for _, t in pairs)

    everyone = HeatRow(
        "All departments" if not filters.department_value else "Total",
        filters.department_value,
        cells(filters.department_value, total, sub=True),
    )
    return Heatmap(columns, rows, everyone)


def heatmap_csv_rows(heat: Heatmap) -> Iterator[list]:
    for row in [*heat.rows, heat.totals]:
        for column, cell in zip(heat.columns, row.cells, strict=True):
            yield [
                row.name,
                column.policy.title,
                column.number,
                cell.acknowledged,
                cell.total,
                "" if cell.percent is None else cell.percent,
            ]


HEATMAP_HEADER = ["Department", "Policy", "Version", "Acknowledged", "Assigned", "% acknowledged"]


# --- months ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    first: date
    at: datetime  # the end of the month (the start of the next), or now for this month
    to_date: bool

    @property
    def label(self) -> str:
        """Short, for a chart's axis: "Mar ’26"."""
        return f"{self.first:%b ’%y}"

    @property
    def long_label(self) -> str:
        return f"{self.first:%B %Y}" + (" (to date)" if self.to_date else "")


def last_months(now: datetime, count: int = MONTHS) -> list[Month]:
    """The last `count` months, this one last, each with the moment it ended (this
    month: now), in the site's time zone."""
    local = timezone.localtime(now)
    this_month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months = []
    for back in range(count - 1, -1, -1):
        index = this_month.year * 12 + this_month.month - 1 - back
        start = this_month.replace(year=index // 12, month=index % 12 + 1)
        following = this_month.replace(year=(index + 1) // 12, month=(index + 1) % 12 + 1)
        months.append(Month(start.date(), following if back else now, to_date=not back))
    return months


# --- training coverage -----------------------------------------------------------------


def _attended_between(requirement: Requirement, start: datetime, end: datetime | None):
    """The people who attended a session of an accepted topic in [start, end): an
    uncorrelated subquery, which the database runs once and hashes."""
    bookings = _attendance(requirement).filter(session__starts_at__gte=start)
    if end is not None:
        bookings = bookings.filter(session__starts_at__lt=end)
    return bookings.values("person_id")


@dataclass
class Coverage:
    """People × requirement pairs for one department (or everyone)."""

    name: str
    department_value: str
    audience: int = 0
    compliant: int = 0
    with_sub_departments: bool = False  # the totals of a department filter

    @property
    def percent(self) -> int | None:
        return percent(self.compliant, self.audience)

    @property
    def still_required(self) -> int:
        return self.audience - self.compliant

    @cached_property
    def url(self) -> str:
        params = {"kind": "training", "status": "all"}
        params.update(_department_params(self.department_value, self.with_sub_departments))
        return f"{reverse('dashboards:compliance_people')}?{urlencode(params)}"


@dataclass(frozen=True)
class Training:
    requirements: list[Requirement]
    departments: list[Coverage]
    overall: Coverage
    # Per month of `months`: (compliant, audience) pairs summed over requirements.
    by_month: list[tuple[int, int]]


def active_requirements() -> list[Requirement]:
    """Active requirements with their accepted topics, and the chosen departments or
    groups of those whose audience needs them (no query for the others)."""
    requirements = list(Requirement.objects.filter(active=True).prefetch_related("accepted_topics"))
    for kind, lookup in ((DEPARTMENTS, "audience_departments"), (GROUPS, "audience_groups")):
        chosen = [r for r in requirements if r.audience == kind]
        if chosen:
            prefetch_related_objects(chosen, lookup)
    return requirements


def _attendance_since(earliest: datetime | None, now: datetime, topic_ids) -> QuerySet:
    """Attendance as `training.compliance` counts it (present, at a session of an
    accepted topic that was not cancelled and has begun, give or take check-in), from
    `earliest`, for several requirements' topics at once."""
    bookings = Booking.objects.filter(
        status__in=Booking.PRESENT,
        session__topic_id__in=topic_ids,
        session__starts_at__lte=now + CHECKIN_LEAD,
    ).exclude(session__status=Session.Status.CANCELLED)
    if earliest is not None:
        bookings = bookings.filter(session__starts_at__gte=earliest)
    return bookings


def _coverage_trend(
    requirements: list[Requirement],
    audiences: dict[int, QuerySet],
    *,
    scope: Scope,
    filters: Filters,
    months: list[Month],
    now: datetime,
) -> list[int]:
    """People × requirement pairs compliant at each month end, in one query for every
    requirement: per person (in scope), a flag per requirement and month, summed.
    A flag counts only when the person is in the requirement's (today's) audience."""
    if not requirements or not months:
        return [0 for _ in months]
    topics = {r.pk: [topic.pk for topic in r.accepted_topics.all()] for r in requirements}
    earliest = min(months[0].at - period(r) for r in requirements)
    bookings = _attendance_since(earliest, now, sorted({t for ids in topics.values() for t in ids}))
    bookings = filters.people(scope.people(bookings, "person_id"), "person__department_id")
    flags, sums = {}, {}
    for j, requirement in enumerate(requirements):
        flags[f"in_{j}"] = Max(
            Case(
                When(Q(person_id__in=audiences[requirement.pk].values("pk")), then=Value(1)),
                default=Value(0),
            )
        )
        for k, month in enumerate(months):
            window = Q(
                session__topic_id__in=topics[requirement.pk],
                session__starts_at__gte=month.at - period(requirement),
            )
            if not month.to_date:  # this month: up to now, as today's figures count
                window &= Q(session__starts_at__lt=month.at)
            flags[f"f_{j}_{k}"] = Max(Case(When(window, then=Value(1)), default=Value(0)))
            sums[f"m_{j}_{k}"] = Sum(F(f"f_{j}_{k}") * F(f"in_{j}"))
    totals = bookings.order_by().values("person_id").annotate(**flags).aggregate(**sums)
    return [
        sum(totals[f"m_{j}_{k}"] or 0 for j in range(len(requirements))) for k in range(len(months))
    ]


def training_coverage(
    *,
    scope: Scope,
    filters: Filters,
    names: dict[int, str],
    months: list[Month],
    now: datetime,
    requirements: list[Requirement] | None = None,
) -> Training:
    """Coverage by department now (one grouped query per active requirement, with a
    hashed `IN (attendance)`) and at each month end (one query for all of them). A
    month end counts today's audience (who was in it then is not kept), compliant if
    they attended within the requirement's period before that date."""
    requirements = active_requirements() if requirements is None else requirements
    audiences = {r.pk: audience_of(r) for r in requirements}
    totals: dict[int | None, list[int]] = {}
    for requirement in requirements:
        people = filters.people(scope.people(audiences[requirement.pk]))
        attended = _attended_between(requirement, period_start(requirement, now), None)
        rows = (
            people.order_by()
            .values("department_id")
            .annotate(audience=Count("pk"), compliant=Count("pk", filter=Q(pk__in=attended)))
        )
        for row in rows:
            pair = totals.setdefault(row["department_id"], [0, 0])
            pair[0] += row["audience"]
            pair[1] += row["compliant"]
    departments = [
        Coverage(name, NONE if pk is None else str(pk), *totals[pk])
        for pk, name in _department_rows(set(totals), names)
    ]
    overall = Coverage(
        "All departments" if not filters.department_value else "Total",
        filters.department_value,
        sum(row.audience for row in departments),
        sum(row.compliant for row in departments),
        with_sub_departments=True,
    )
    compliant = _coverage_trend(
        requirements, audiences, scope=scope, filters=filters, months=months, now=now
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
    """The first month at whose end `field_name` had already happened (len(months):
    not by the last one; NEVER: no time)."""
    return Case(
        When(**{f"{field_name}__isnull": True}, then=Value(NEVER)),
        *[When(**{f"{field_name}__lt": m.at}, then=Value(i)) for i, m in enumerate(months)],
        default=Value(len(months)),
        output_field=IntegerField(),
    )


def acknowledgement_trend(
    *, scope: Scope, filters: Filters, lines: Lines, months: list[Month]
) -> list[tuple[int, int]]:
    """(acknowledged, assigned) at each month end: the assignments of the version lines
    current then, assigned by then and not closed by then; acknowledged by then.

    One query: assignments counted per version, status, and the months in which they
    were assigned and completed (a few hundred rows however many assignments), then
    added up per month here. Cheaper than a conditional count per month and row."""
    policy_id = filters.policy.pk if filters.policy else None
    current = [set(lines.version_ids_at(month.at, policy_id)) for month in months]
    version_ids = sorted(set().union(*current)) if current else []
    if not version_ids:
        return [(0, 0) for _ in months]
    assignments = filters.people(
        scope.people(Assignment.objects.all(), "person_id"), "person__department_id"
    )
    rows = (
        assignments.filter(version_id__in=version_ids, assigned_at__lt=months[-1].at)
        .annotate(
            assigned_in=_month_bucket("assigned_at", months),
            completed_in=_month_bucket("completed_at", months),
        )
        .values_list("version_id", "status", "assigned_in", "completed_in")
        .annotate(count=Count("pk"))
        .order_by()
    )
    points = [[0, 0] for _ in months]
    for version_id, status, assigned_in, completed_in, count in rows:
        for k in range(assigned_in, len(months)):
            if version_id not in current[k]:
                continue
            completed_by_then = completed_in != NEVER and completed_in <= k
            if status == CLOSED and (completed_in == NEVER or completed_by_then):
                continue  # closed by then (or closed at an unknown time)
            points[k][1] += count
            if status == ACK and completed_by_then:
                points[k][0] += count
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


# --- drill-down: the people behind a figure --------------------------------------------

POLICY = "policy"
TRAINING = "training"
STATUSES = {
    POLICY: [
        ("all", "Everyone (outstanding first)"),
        ("outstanding", "Outstanding"),
        ("overdue", "Overdue"),
        ("acknowledged", "Acknowledged"),
        ("declined", "Declined"),
    ],
    TRAINING: [
        ("all", "Everyone (still required first)"),
        ("outstanding", "Still required"),
        ("overdue", "Overdue"),
        ("acknowledged", "Compliant"),
    ],
}


@dataclass
class PeopleQuery:
    """What the drill-down lists, from GET; bad values are dropped with a note."""

    kind: str = POLICY
    status: str = "all"
    policy: Policy | None = None
    requirement: Requirement | None = None
    department: Department | None = None
    no_department: bool = False
    # With `sub`, the department and everything below it (a filtered page's totals).
    department_ids: frozenset[int] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def department_name(self) -> str | None:
        if self.no_department:
            return NO_DEPARTMENT
        if self.department is None:
            return None
        if self.department_ids is not None:
            return f"{self.department.name} and its sub-departments"
        return self.department.name

    def people(self, queryset: QuerySet, key: str = "department_id") -> QuerySet:
        """The department alone unless `sub` was asked for: the dashboard's cells and
        rows are per department, and a link must list exactly the people counted."""
        if self.no_department:
            return queryset.filter(**{f"{key}__isnull": True})
        if self.department_ids is not None:
            return queryset.filter(**{f"{key}__in": self.department_ids})
        if self.department is not None:
            return queryset.filter(**{key: self.department.pk})
        return queryset

    def params(self) -> dict:
        params = {"kind": self.kind, "status": self.status}
        if self.policy:
            params["policy"] = self.policy.pk
        if self.requirement:
            params["requirement"] = self.requirement.pk
        if self.no_department:
            params["department"] = NONE
        elif self.department:
            params["department"] = self.department.pk
            if self.department_ids is not None:
                params["sub"] = "1"
        return params


def people_query(params, *, lines: Lines | None = None) -> PeopleQuery:
    query = PeopleQuery(notes=[])
    kind = params.get("kind") or POLICY
    if kind not in STATUSES:
        query.notes.append("Unknown kind of list; showing policy acknowledgements.")
        kind = POLICY
    query.kind = kind
    status = params.get("status") or "all"
    if status not in dict(STATUSES[kind]):
        query.notes.append("Unknown status; showing everyone.")
        status = "all"
    query.status = status
    value = params.get("department")
    if value == NONE:
        query.no_department = True
    elif value:
        query.department = Department.objects.filter(pk=_int(value) or 0).first()
        if query.department is None:
            query.notes.append("That department does not exist; showing every department.")
        elif params.get("sub") == "1":
            query.department_ids = frozenset(with_sub_departments([query.department.pk]))
    if kind == POLICY and params.get("policy"):
        version = (lines or version_lines()).published.get(_int(params.get("policy")))
        if version is None:
            query.notes.append(
                "That policy does not exist or has no published version; showing every policy."
            )
        else:
            query.policy = version.policy
    if kind == TRAINING and params.get("requirement"):
        query.requirement = Requirement.objects.filter(
            pk=_int(params.get("requirement")) or 0, active=True
        ).first()
        if query.requirement is None:
            query.notes.append(
                "That training requirement does not exist or is not active; "
                "showing every active requirement."
            )
    return query


def _policy_people(scope: Scope, query: PeopleQuery, lines: Lines, today: date) -> QuerySet:
    """Assignments of the current version lines (as counted in the heatmap), overdue
    first, then outstanding, declined, acknowledged."""
    version_ids = lines.current_version_ids(query.policy.pk if query.policy else None)
    assignments = query.people(
        scope.people(Assignment.objects.all(), "person_id"), "person__department_id"
    ).filter(version_id__in=version_ids)
    assignments = assignments.exclude(status=CLOSED)
    if query.status == "outstanding":
        assignments = assignments.filter(status=OPEN)
    elif query.status == "overdue":
        assignments = assignments.filter(status=OPEN, due_date__lt=today)
    elif query.status == "acknowledged":
        assignments = assignments.filter(status=ACK)
    elif query.status == "declined":
        assignments = assignments.filter(status=DECLINED)
    return (
        assignments.annotate(
            rank=Case(
                When(status=OPEN, due_date__lt=today, then=Value(0)),
                When(status=OPEN, then=Value(1)),
                When(status=DECLINED, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "due_date", "person__full_name", "person__email", "pk")
        .values(
            "pk",
            "status",
            "due_date",
            "completed_at",
            "policy__title",
            "version__major",
            "version__minor",
            "person__full_name",
            "person__email",
            "person__department__name",
            "person__manager__full_name",
        )
    )


def _training_part(scope: Scope, query: PeopleQuery, requirement: Requirement, now: datetime):
    today = timezone.localdate(now)
    attended = _attended_between(requirement, period_start(requirement, now), None)
    people = query.people(scope.people(audience_of(requirement)))
    if query.status in ("outstanding", "overdue"):
        people = people.exclude(pk__in=attended)
    elif query.status == "acknowledged":
        people = people.filter(pk__in=attended)
    if query.status == "overdue" and requirement.new_joiners_within_days:
        # New joiners still within their first days are not overdue yet.
        people = people.exclude(
            start_date__gte=today - timedelta(days=requirement.new_joiners_within_days)
        )
    return (
        people.order_by()
        .annotate(
            requirement_id=Value(requirement.pk, output_field=IntegerField()),
            compliant=ExpressionWrapper(Q(pk__in=attended), output_field=BooleanField()),
        )
        .values(
            "pk",
            "full_name",
            "email",
            "start_date",
            "department__name",
            "manager__full_name",
            "requirement_id",
            "compliant",
        )
    )


def _training_people(scope: Scope, query: PeopleQuery, requirements, now: datetime):
    """People × requirement pairs (one requirement, or every active one), still
    required first, then by name."""
    chosen = [query.requirement] if query.requirement else requirements
    parts = [_training_part(scope, query, requirement, now) for requirement in chosen]
    if not parts:
        return None
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return combined.order_by("compliant", "full_name", "email", "pk", "requirement_id")


@dataclass(frozen=True)
class PersonRow:
    name: str
    email: str
    department: str
    manager: str
    subject: str  # the policy (and version) or the requirement
    status: str
    outstanding: bool
    due: date | None
    due_note: str  # "now", "new joiner", "valid until" ...
    days_overdue: int | None
    done_at: datetime | date | None


def _policy_row(row: dict, today: date) -> PersonRow:
    status = row["status"]
    overdue = status == OPEN and row["due_date"] < today
    return PersonRow(
        name=row["person__full_name"],
        email=row["person__email"],
        department=row["person__department__name"] or NO_DEPARTMENT,
        manager=row["person__manager__full_name"] or "",
        subject=f"{row['policy__title']} {row['version__major']}.{row['version__minor']}",
        status="Overdue" if overdue else Assignment.Status(status).label,
        outstanding=status == OPEN,
        due=row["due_date"],
        due_note="",
        days_overdue=(today - row["due_date"]).days if overdue else None,
        done_at=row["completed_at"],
    )


def _training_row(
    row: dict,
    requirements: dict[int, Requirement],
    today: date,
    last_by_topic: dict[tuple[int, int], datetime],
) -> PersonRow:
    requirement = requirements[row["requirement_id"]]
    times = [
        last_by_topic[row["pk"], topic.pk]
        for topic in requirement.accepted_topics.all()
        if (row["pk"], topic.pk) in last_by_topic
    ]
    last = max(times) if times else None
    if row["compliant"]:
        valid_until = (last + period(requirement)).date() if last else None
        return PersonRow(
            name=row["full_name"],
            email=row["email"],
            department=row["department__name"] or NO_DEPARTMENT,
            manager=row["manager__full_name"] or "",
            subject=requirement.name,
            status="Compliant",
            outstanding=False,
            due=valid_until,
            due_note="attend again by",
            days_overdue=None,
            done_at=last,
        )
    joiner_due = joiner_due_by(requirement, row["start_date"], today)
    if joiner_due is not None:
        due, note, overdue = joiner_due, "new joiner", None
    else:
        # Due since the later of: the joiner deadline, and the last attendance expiring.
        known = []
        if requirement.new_joiners_within_days and row["start_date"]:
            known.append(row["start_date"] + timedelta(days=requirement.new_joiners_within_days))
        if last:
            known.append((last + period(requirement)).date())
        due = max(known) if known else None
        note = "due now"
        overdue = max(0, (today - due).days) if due else None
    return PersonRow(
        name=row["full_name"],
        email=row["email"],
        department=row["department__name"] or NO_DEPARTMENT,
        manager=row["manager__full_name"] or "",
        subject=requirement.name,
        status="Still required" if joiner_due else "Overdue",
        outstanding=True,
        due=due,
        due_note=note,
        days_overdue=overdue,
        done_at=last,
    )


@dataclass
class People:
    """The drill-down's rows (a lazy queryset) and how to turn each into a PersonRow."""

    query: PeopleQuery
    rows: QuerySet | None
    requirements: dict[int, Requirement]
    now: datetime

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    def describe(self, rows) -> list[PersonRow]:
        """PersonRows for a page (or a chunk) of rows: one query for the last
        attendances of a training page, none for a policy page."""
        rows = list(rows)
        if self.query.kind == POLICY:
            return [_policy_row(row, self.today) for row in rows]
        last = self._last_attended({row["pk"] for row in rows})
        return [_training_row(row, self.requirements, self.today, last) for row in rows]

    def _last_attended(self, person_ids) -> dict[tuple[int, int], datetime]:
        """When each person last attended a session of each topic (one query)."""
        if not person_ids:
            return {}
        topics = {t.pk for r in self.requirements.values() for t in r.accepted_topics.all()}
        rows = (
            _attendance_since(None, self.now, sorted(topics))
            .filter(person_id__in=person_ids)
            .values("person_id", "session__topic_id")
            .annotate(last=Max("session__starts_at"))
            .order_by()
            .values_list("person_id", "session__topic_id", "last")
        )
        return {(person, topic): last for person, topic, last in rows}

    def chunks(self, size: int = 1000) -> Iterator[list[PersonRow]]:
        """Every row, streamed from the database, described a chunk at a time."""
        if self.rows is None:
            return
        chunk = []
        for row in self.rows.iterator(chunk_size=size):
            chunk.append(row)
            if len(chunk) == size:
                yield self.describe(chunk)
                chunk = []
        if chunk:
            yield self.describe(chunk)


def people(*, scope: Scope, query: PeopleQuery, lines: Lines | None = None, now=None) -> People:
    now = now or timezone.now()
    if query.kind == POLICY:
        rows = _policy_people(scope, query, lines or version_lines(), timezone.localdate(now))
        return People(query, rows, {}, now)
    requirements = active_requirements()
    by_pk = {requirement.pk: requirement for requirement in requirements}
    if query.requirement is not None:
        query.requirement = by_pk.get(query.requirement.pk, query.requirement)
    rows = _training_people(scope, query, requirements, now)
    return People(query, rows, by_pk, now)


PEOPLE_HEADER = [
    "Name",
    "Email",
    "Department",
    "Manager",
    "Policy or requirement",
    "Status",
    "Due date",
    "Days overdue",
    "Acknowledged, declined or last attended",
]


def people_csv_rows(found: People) -> Iterator[list]:
    for chunk in found.chunks():
        yield from (_person_csv_row(row) for row in chunk)


def _person_csv_row(row: PersonRow) -> list:
    done = row.done_at
    if isinstance(done, datetime):
        done = timezone.localtime(done).isoformat(timespec="minutes")
    return [
        row.name,
        row.email,
        row.department,
        row.manager,
        row.subject,
        row.status,
        row.due.isoformat() if row.due else "",
        "" if row.days_overdue is None else row.days_overdue,
        done or "",
    ]
