"""Reads for the compliance dashboard, part three: the drill-down, the people behind a
figure (a heatmap cell, a training coverage row), paged on the page and streamed to
the CSV export. What it lists is exactly what the figure counted: the same `Scope`,
version lines and attendance as `compliance` and `compliance_trend`.

Costs: a fixed number of queries however many people there are. A list is one lazy
queryset that the view pages or the export streams (a training list: a union of one
select per active requirement); a page or chunk of a training list costs one more
query, for the last attendances.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dashboards.compliance import (
    ACK,
    CLOSED,
    DECLINED,
    NO_DEPARTMENT,
    NONE,
    OPEN,
    POLICY,
    TRAINING,
    Lines,
    Scope,
    department_problem,
    parse_id,
    policy_problem,
    quoted,
    version_lines,
)
from dashboards.compliance_trend import active_requirements, attendance_since, attended_since
from people.audience import with_sub_departments
from people.models import Department
from policies.models import Assignment, Policy
from training.compliance import audience_of, joiner_due_by, period, period_start
from training.models import Requirement

PER_PAGE = 50

# --- drill-down: the people behind a figure --------------------------------------------

STATUSES = {
    POLICY: [
        ("all", gettext_lazy("Everyone (outstanding first)")),
        ("outstanding", gettext_lazy("Outstanding")),
        ("overdue", gettext_lazy("Overdue")),
        ("acknowledged", gettext_lazy("Acknowledged")),
        ("declined", gettext_lazy("Declined")),
    ],
    TRAINING: [
        ("all", gettext_lazy("Everyone (still required first)")),
        ("outstanding", gettext_lazy("Still required")),
        ("overdue", gettext_lazy("Overdue")),
        ("acknowledged", gettext_lazy("Compliant")),
    ],
}


@dataclass
class PeopleQuery:
    """What the drill-down lists, from GET. A value that is not valid is a problem:
    the list is then empty and its export refused, never wider than was asked for."""

    kind: str = POLICY
    status: str = "all"
    policy: Policy | None = None
    requirement: Requirement | None = None
    department: Department | None = None
    no_department: bool = False
    # With `sub`, the department and everything below it (a filtered page's totals).
    department_ids: frozenset[int] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def department_name(self) -> str | None:
        if self.no_department:
            return NO_DEPARTMENT
        if self.department is None:
            return None
        if self.department_ids is not None:
            return _("%(department)s and its sub-departments") % {
                "department": self.department.name
            }
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
    query = PeopleQuery(problems=[])
    problems = query.problems
    kind = params.get("kind") or POLICY
    if kind not in STATUSES:
        problems.append(
            _("There is no list of %(kind)s: choose policy or training.") % {"kind": quoted(kind)}
        )
        kind = POLICY
    query.kind = kind
    status = params.get("status") or "all"
    if status not in dict(STATUSES[kind]):
        problems.append(
            _("There is no status %(status)s in this list.") % {"status": quoted(status)}
        )
        status = "all"
    query.status = status
    value = params.get("department")
    if value == NONE:
        query.no_department = True
    elif value:
        query.department = Department.objects.filter(pk=parse_id(value) or 0).first()
        if query.department is None:
            problems.append(department_problem(value))
    sub = params.get("sub")
    if sub not in (None, "", "1"):
        problems.append(
            _("%(value)s is not a value for sub-departments: use 1.") % {"value": quoted(sub)}
        )
    elif sub == "1" and query.department is not None:
        query.department_ids = frozenset(with_sub_departments([query.department.pk]))
    value = params.get("policy")
    if value and kind != POLICY:
        problems.append(_("A policy narrows a list of acknowledgements, not of training."))
    elif value:
        version = (lines or version_lines()).published.get(parse_id(value))
        if version is None:
            problems.append(policy_problem(value))
        else:
            query.policy = version.policy
    value = params.get("requirement")
    if value and kind != TRAINING:
        problems.append(_("A training requirement narrows a list of training, not of policies."))
    elif value:
        query.requirement = Requirement.objects.filter(pk=parse_id(value) or 0, active=True).first()
        if query.requirement is None:
            problems.append(
                _("There is no active training requirement %(value)s.") % {"value": quoted(value)}
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
    attended = attended_since(requirement, period_start(requirement, now), now)
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
    overdue: bool = False  # shown in red (besides its words and days overdue)


def _policy_row(row: dict, today: date) -> PersonRow:
    status = row["status"]
    overdue = status == OPEN and row["due_date"] < today
    return PersonRow(
        name=row["person__full_name"],
        email=row["person__email"],
        department=row["person__department__name"] or NO_DEPARTMENT,
        manager=row["person__manager__full_name"] or "",
        subject=f"{row['policy__title']} {row['version__major']}.{row['version__minor']}",
        status=_("Overdue") if overdue else Assignment.Status(status).label,
        overdue=overdue,
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
    joiner_due = None if row["compliant"] else joiner_due_by(requirement, row["start_date"], today)
    if row["compliant"]:
        status, note, overdue = _("Compliant"), _("attend again by"), None
        due = (last + period(requirement)).date() if last else None
    elif joiner_due is not None:
        status, due, note, overdue = _("Still required"), joiner_due, _("new joiner"), None
    else:
        # Due since the later of: the joiner deadline, and the last attendance expiring.
        known = []
        if requirement.new_joiners_within_days and row["start_date"]:
            known.append(row["start_date"] + timedelta(days=requirement.new_joiners_within_days))
        if last:
            known.append((last + period(requirement)).date())
        due = max(known) if known else None
        status, note = _("Overdue"), _("due now")
        overdue = max(0, (today - due).days) if due else None
    return PersonRow(
        name=row["full_name"],
        email=row["email"],
        department=row["department__name"] or NO_DEPARTMENT,
        manager=row["manager__full_name"] or "",
        subject=requirement.name,
        status=status,
        outstanding=not row["compliant"],
        due=due,
        due_note=note,
        days_overdue=overdue,
        done_at=last,
        overdue=not row["compliant"] and joiner_due is None,
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
            attendance_since(None, self.now, sorted(topics))
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
    """The people `query` asks for; none at all when it is not valid."""
    now = now or timezone.now()
    if not query.valid:
        return People(query, None, {}, now)
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
