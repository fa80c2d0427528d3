"""Reads for the compliance dashboard, part one: who is counted (`Scope`), the page's
filters, the policies' version lines, the acknowledgement heatmap and the months of
the trend. Training coverage and the 12-month trend are in `compliance_trend`, the
people behind every figure (the drill-down) in `compliance_people`; both build on
this module, never the other way round.

Who is counted: policy admins and leadership see everyone; a line manager who is
neither sees only their team (direct and indirect reports). Every figure, list and
export goes through one `Scope`, so nobody outside it is ever counted.

Costs: a fixed number of queries however many people, departments or assignments
there are, and the counting is done by the database. The heatmap is one grouped query
for all cells, per version and department, read from a covering index of assignments
(`assignment_heatmap_idx`) rather than the table.

Acknowledgement figures follow `policies.queries.compliance_figures`: the current
version line (same policy, same major number: a minor version keeps its predecessors'
acknowledgements), assignments that are not closed, people counted once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape

from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from people import roles
from people.audience import (
    heads_everyone_else,
    in_team,
    outside_team,
    team,
    with_sub_departments,
)
from people.models import Department, User
from policies.models import Assignment, Policy, PolicyVersion
from policies.queries import NO_DEPARTMENT

NONE = "none"  # the department parameter for people without one
MONTHS = 12

ACK = Assignment.Status.ACKNOWLEDGED
OPEN = Assignment.Status.OPEN
CLOSED = Assignment.Status.CLOSED
DECLINED = Assignment.Status.DECLINED

# The drill-down's kinds of list (see `compliance_people`): the heatmap and the
# training coverage link to them.
POLICY = "policy"
TRAINING = "training"


# --- who is counted --------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Everyone, or the people a line manager may see: their ids as a list, or as a
    subquery (a whole team is never one placeholder per id; the Dashboards page sends a
    team read once as one array parameter).

    The head of the whole line's team is every other active person (`head`: them).
    Their team is then tested on the person's row, which most of these queries join
    anyway for the department (`people.audience.in_team`), not matched against
    the whole company's ids; and the trend's finished months are everyone's kept
    figures less those of the few people outside the team (`rest`: for training counted
    live; for acknowledgements the leavers' kept ones and the head's own)."""

    everyone: bool
    person_ids: QuerySet | tuple[int, ...] = ()
    head: object | None = None  # the person at the top of the whole line, for their team

    def people(self, queryset: QuerySet, key: str = "pk", *, joined: bool = True) -> QuerySet:
        """`queryset` (of people, or of rows with a person: `key` "person_id") limited
        to the scope's people. `joined`: the query reads the person's row anyway; if
        not, the head of the whole line's team is "not one of the few outside it" (a
        hashed set, not a join to every person)."""
        if self.everyone:
            return queryset
        if self.head is not None:
            relation = "" if key == "pk" else key.removesuffix("_id")
            return queryset.filter(in_team(self.head, relation, joined=joined))
        return queryset.filter(**{f"{key}__in": self.person_ids})

    @classmethod
    def leavers(cls) -> Scope:
        """The people who have left (inactive), whose finished months are kept too."""
        return cls(everyone=False, person_ids=User.objects.filter(is_active=False).values("pk"))

    @property
    def rest(self) -> Scope | None:
        """The people outside the head of the whole line's team, as a scope of their
        own: everyone's figures less theirs are the team's (None for any other scope)."""
        if self.head is None:
            return None
        return Scope(everyone=False, person_ids=outside_team(self.head).values("pk"))


def scope_for(user) -> Scope | None:
    """What `user` may see on the compliance dashboard; None: nothing (a 403)."""
    if roles.is_policy_admin(user) or roles.is_leadership(user):
        return Scope(everyone=True)
    if roles.is_line_manager(user):
        head = user if heads_everyone_else(user) else None
        return Scope(everyone=False, person_ids=team(user).values("pk"), head=head)
    return None


# --- filters ---------------------------------------------------------------------------


@dataclass
class Filters:
    """The page's filters, read from GET. A value that is not valid is a problem: the
    page then shows nothing but the problems (never more than was asked for)."""

    department: Department | None = None
    no_department: bool = False
    # The department and everything below it (None: no department filter).
    department_ids: frozenset[int] | None = None
    policy: Policy | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

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


def parse_id(value: str | None) -> int | None:
    """A database id from a GET parameter; None for anything else."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**31 else None


def quoted(value: str, limit: int = 40) -> str:
    """A parameter's value as a message names it: quoted, and cut short."""
    value = " ".join(str(value).split())
    return f"“{value if len(value) <= limit else value[: limit - 1] + '…'}”"


def department_problem(value: str) -> str:
    return _("There is no department %(value)s.") % {"value": quoted(value)}


def policy_problem(value: str) -> str:
    return _("There is no published policy %(value)s.") % {"value": quoted(value)}


def _department(value: str | None, departments: dict[int, Department], problems: list[str]):
    """(department, no_department) from a parameter; a bad one is a problem."""
    if not value:
        return None, False
    if value == NONE:
        return None, True
    department = departments.get(parse_id(value))
    if department is None:
        problems.append(department_problem(value))
    return department, False


def page_filters(params, *, departments: list[Department], lines: Lines) -> Filters:
    """Filters for the dashboard: a department includes its sub-departments."""
    problems: list[str] = []
    by_pk = {d.pk: d for d in departments}
    department, no_department = _department(params.get("department"), by_pk, problems)
    policy = None
    if params.get("policy"):
        version = lines.published.get(parse_id(params.get("policy")))
        if version is None:
            problems.append(policy_problem(params.get("policy")))
        else:
            policy = version.policy
    ids = frozenset(with_sub_departments([department.pk])) if department else None
    return Filters(department, no_department, ids, policy, problems)


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
    ("heat-0", gettext_lazy("under 50%")),
    ("heat-1", "50–69%"),
    ("heat-2", "70–84%"),
    ("heat-3", "85–94%"),
    ("heat-4", gettext_lazy("95% or more")),
    ("heat-none", gettext_lazy("nobody assigned")),
]


def department_params(value: str, with_sub_departments: bool) -> dict:
    """The drill-down's department parameters for a row (or the totals) of a table."""
    if not value:
        return {}
    if with_sub_departments and value != NONE:
        return {"department": value, "sub": "1"}
    return {"department": value}


def percent(part: int, whole: int) -> int | None:
    return None if not whole else round(100 * part / whole)


@dataclass(frozen=True)
class CellWords:
    """What a heatmap's cells say besides their figures, translated once for all of
    them (gettext per cell added up over hundreds of cells)."""

    spoken: str
    nobody: str

    @classmethod
    def translated(cls) -> CellWords:
        return cls(_("(%(acknowledged)s of %(total)s acknowledged)"), _("Nobody assigned"))


@dataclass(slots=True)
class Cell:
    """One cell of the heatmap: its figures, its colour, its label ("72% · 36/50") and
    its drill-down link (None when nobody is assigned), worked out once on creation (a
    heatmap has hundreds of cells; not frozen, which would cost a setattr each)."""

    policy: Policy
    acknowledged: int
    total: int
    url: str | None
    words: CellWords | None = field(default=None, compare=False, repr=False)
    percent: int | None = field(init=False)
    heat: str = field(init=False)
    label: str = field(init=False)

    def __post_init__(self):
        self.percent = percent(self.acknowledged, self.total)
        self.heat = heat_class(self.acknowledged, self.total)
        self.label = f"{self.percent}% · {self.acknowledged}/{self.total}" if self.total else "—"

    @property
    def html(self) -> str:
        """The cell's <td>, drawn here rather than by an included template: a heatmap
        has hundreds of cells. The figure is text (the colour only repeats it), in the
        body colour on every band (4.5:1 or more)."""
        # The same markup as format_html gives, escaped by `html.escape` directly (as
        # Django's `escape` does): hundreds of calls through its lazy wrappers added up.
        words = self.words or CellWords.translated()
        if self.url:
            spoken = words.spoken % {"acknowledged": self.acknowledged, "total": self.total}
            return mark_safe(  # noqa: S308 -- every value escaped here
                f'<td class="heat {escape(self.heat)}"><a href="{escape(self.url)}" '
                f'class="text-body">{escape(self.label)}'
                f'<span class="visually-hidden"> {escape(spoken)}</span></a></td>'
            )
        nobody = escape(words.nobody)
        return mark_safe(  # noqa: S308 -- every value escaped here
            f'<td class="heat {escape(self.heat)}" title="{nobody}"><span class="text-body" '
            f'aria-hidden="true">{escape(self.label)}</span><span class="visually-hidden">'
            f"{nobody}</span></td>"
        )


@dataclass(frozen=True)
class HeatRow:
    name: str
    department_value: str
    cells: list[Cell]

    @property
    def html(self) -> str:
        """The row's cells' <td>s, joined here: the template writes one string per row
        rather than looping over hundreds of cells."""
        return mark_safe("".join([cell.html for cell in self.cells]))  # noqa: S308 -- each escaped


@dataclass(frozen=True)
class Heatmap:
    columns: list[PolicyVersion]  # the published version of each policy shown
    rows: list[HeatRow]
    totals: HeatRow
    # (acknowledged, assigned) counted in assignments rather than people, as the trend
    # counts this month: the same rows, so the trend needs no query of its own for it.
    assignments: tuple[int, int] = (0, 0)


def department_rows(keys, names: dict[int, str]) -> list[tuple[int | None, str]]:
    """Departments by name, "No department" last."""
    named = sorted((names.get(pk, "?"), pk) for pk in keys if pk is not None)
    rows = [(pk, name) for name, pk in named]
    if None in keys:
        rows.append((None, NO_DEPARTMENT))
    return rows


def heatmap(
    *,
    scope: Scope,
    filters: Filters,
    lines: Lines,
    names: dict[int, str],
    by_department: bool = True,
) -> Heatmap:
    """% acknowledged of each policy's current version line, per department: one
    grouped query for every cell. The lines are given as their versions' ids (the
    same rows as an OR of `version_line` (policy, major) pairs, without a join).

    Not `by_department`: the totals only (no department rows), counted without
    reading anyone's department."""
    policy_id = filters.policy.pk if filters.policy else None
    columns = [lines.published[line.policy.pk] for line in lines.current(policy_id)]
    counts: dict[tuple[int, int | None], tuple[int, int]] = {}
    assignments = [0, 0]
    policy_of = {pk: line.policy.pk for line in lines.current(policy_id) for pk in line.version_ids}
    if policy_of:
        counted = filters.people(
            scope.people(Assignment.objects.all(), "person_id", joined=by_department),
            "person__department_id",
        )
        rows = (
            counted.filter(version_id__in=sorted(policy_of))
            .exclude(status=CLOSED)
            # Per version (its policy is known here), so that the count reads only the
            # columns of `assignment_heatmap_idx`: an index-only scan, not the table.
            .values_list("version_id", *(["person__department_id"] if by_department else []))
            .annotate(
                # People: a person has at most one assignment that is not closed in a
                # version line (see policies.queries.compliance_figures), so no DISTINCT
                # (which sorted every row, on disk at 10,000 people).
                total=Count("*"),
                acknowledged=Count("status", filter=Q(status=ACK)),
                acknowledgements=Count("status", filter=Q(status=ACK, completed_at__isnull=False)),
            )
            .order_by()
        )
        for version_id, *department, total, acknowledged, acknowledgements in rows:
            key = (policy_of[version_id], department[0] if department else None)
            before = counts.get(key, (0, 0))
            counts[key] = (before[0] + acknowledged, before[1] + total)
            assignments[0] += acknowledgements
            assignments[1] += total
    departments = {department for _, department in counts} if by_department else set()

    # Each cell's drill-down link: its column's parameters, then its row's (as one
    # urlencode of both would give them), each encoded once rather than per cell.
    base = reverse("dashboards:compliance_people")
    links = {
        column.policy_id: f"{base}?"
        + urlencode({"kind": POLICY, "policy": column.policy_id, "status": "all"})
        for column in columns
    }

    words = CellWords.translated()

    def cells(department_value: str, pick, sub: bool = False) -> list[Cell]:
        department = urlencode(department_params(department_value, sub))
        made = []
        for column in columns:
            acknowledged, total = pick(column.policy_id)
            url = None
            if total:
                url = (
                    f"{links[column.policy_id]}&{department}"
                    if department
                    else links[column.policy_id]
                )
            made.append(Cell(column.policy, acknowledged, total, url, words))
        return made

    rows = [
        HeatRow(
            name,
            NONE if pk is None else str(pk),
            cells(NONE if pk is None else str(pk), lambda p, pk=pk: counts.get((p, pk), (0, 0))),
        )
        for pk, name in department_rows(departments, names)
    ]

    # A person has one department (or none), so the departments add up.
    totals: dict[int, tuple[int, int]] = {}
    for (policy_pk, _department), (acknowledged, total) in counts.items():
        before = totals.get(policy_pk, (0, 0))
        totals[policy_pk] = (before[0] + acknowledged, before[1] + total)

    everyone = HeatRow(
        _("All departments") if not filters.department_value else _("Total"),
        filters.department_value,
        cells(filters.department_value, lambda p: totals.get(p, (0, 0)), sub=True),
    )
    return Heatmap(columns, rows, everyone, (assignments[0], assignments[1]))


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
        return date_format(self.first, "M ’y")

    @property
    def long_label(self) -> str:
        month = date_format(self.first, "F Y")
        return _("%(month)s (to date)") % {"month": month} if self.to_date else month


def last_months(now: datetime, count: int = MONTHS) -> list[Month]:
    """The last `count` months, this one last, each with the moment it ended (this
    month: now), in the site's time zone (not the viewer's: the finished months are
    kept once for everyone, `summaries`)."""
    local = timezone.localtime(now, timezone.get_default_timezone())
    this_month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months = []
    for back in range(count - 1, -1, -1):
        index = this_month.year * 12 + this_month.month - 1 - back
        start = this_month.replace(year=index // 12, month=index % 12 + 1)
        following = this_month.replace(year=(index + 1) // 12, month=(index + 1) % 12 + 1)
        months.append(Month(start.date(), following if back else now, to_date=not back))
    return months
