"""A training requirement's page in few queries: its figures and both "still required"
tables from one grouped query (`breakdown`), and its list of people paged by picking
each page's ids first (`Listing`). The rules are `training.compliance`'s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Value
from django.utils import timezone

from people.models import Department
from training.compliance import (
    LISTED_ORDER,
    NO_DEPARTMENT,
    NO_MANAGER,
    Figures,
    GroupCount,
    attended_ids,
    audience_of,
    joiner_not_yet_due,
    period_start,
    with_details,
)
from training.models import Requirement


@dataclass(frozen=True)
class Breakdown:
    """A requirement page's numbers, from one query: the figures, still required by
    department and by manager (as `by_department` and `by_manager` give them), and how
    many are still required for each department and manager together (for the count of
    a narrowed list of people)."""

    figures: Figures
    departments: list[GroupCount]
    managers: list[GroupCount]
    pairs: dict[tuple[int | None, int | None], int]

    def still_required_in(self, *, department=None, manager=None) -> int:
        """How many are still required in a department and/or under a manager (an id,
        "none" for nobody's, or None for any), as `still_required` filtered on them."""

        def matches(value, wanted) -> bool:
            return wanted is None or value == (None if wanted == "none" else wanted)

        return sum(
            count
            for (department_id, manager_id), count in self.pairs.items()
            if matches(department_id, department) and matches(manager_id, manager)
        )


def _grouped_sql(people: QuerySet) -> tuple[str, tuple]:
    """The SQL of the breakdown over `people` (a grouped query of their department,
    manager, whether they attended and whether they are a new joiner not yet due, with
    how many share them): still required and compliant per department and manager
    together, with the department's name and its place in the order of the names
    (DENSE_RANK: the database's order, nulls last), and the manager's name, in the order
    of the managers' names (then ids; nobody's last).

    The people are counted by ids and names are joined to the few thousand groups
    afterwards, not to every person; whether a person attended is worked out once per
    person, as a grouping key of the inner query (a column that several counts read
    would be worked out again for each)."""
    quote = connections[people.db].ops.quote_name
    inner, params = people.query.sql_with_params()
    user, department = get_user_model()._meta, Department._meta
    departments, department_pk = quote(department.db_table), quote(department.pk.column)
    department_name = quote(department.get_field("name").column)
    users, user_pk = quote(user.db_table), quote(user.pk.column)
    full_name = quote(user.get_field("full_name").column)
    # Only quoted names from the models go into the text, around the ORM's own SQL (whose
    # values stay parameters).
    sql = f"""
        SELECT g.department_id, g.department_name,
            DENSE_RANK() OVER (ORDER BY g.department_name IS NULL, g.department_name),
            g.manager_id, g.manager_name, g.total, g.compliant, g.not_yet_due
        FROM (
            SELECT p.department_id, d.{department_name} AS department_name, p.manager_id,
                m.{full_name} AS manager_name,
                CAST(SUM(p.total) AS INTEGER) AS total,
                CAST(SUM(CASE WHEN p.attended THEN p.total ELSE 0 END) AS INTEGER)
                    AS compliant,
                CAST(
                    SUM(CASE WHEN p.attended THEN 0 WHEN p.joiner THEN p.total ELSE 0 END)
                    AS INTEGER
                ) AS not_yet_due
            FROM ({inner}) p
            LEFT OUTER JOIN {departments} d ON d.{department_pk} = p.department_id
            LEFT OUTER JOIN {users} m ON m.{user_pk} = p.manager_id
            GROUP BY p.department_id, d.{department_name}, p.manager_id, m.{full_name}
        ) g
        ORDER BY g.manager_name IS NULL, g.manager_name, g.manager_id IS NULL, g.manager_id
    """  # noqa: S608
    return sql, params


def breakdown(
    requirement: Requirement,
    *,
    now: datetime | None = None,
    today: date | None = None,
    reports_of=None,
) -> Breakdown:
    """`figures`, `by_department` and `by_manager` over `still_required`, in one query
    (see `_grouped_sql`): the audience counted per department and manager, with how many
    of them attended (a hashed `IN`) and how many of the others are new joiners not yet
    due; the tables come in the database's order of the names, as in those queries."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    start = period_start(requirement, now)
    attended = Q(pk__in=attended_ids(requirement, start, now=now))
    joiners = joiner_not_yet_due(requirement, today)
    people = (
        audience_of(requirement, reports_of=reports_of)
        .order_by()
        .annotate(
            attended=ExpressionWrapper(attended, output_field=BooleanField()),
            joiner=(
                Value(False)
                if joiners is None
                else ExpressionWrapper(joiners, output_field=BooleanField())
            ),
        )
        .values("department_id", "manager_id", "attended", "joiner")
        .annotate(total=Count("pk"))
    )
    try:
        sql, params = _grouped_sql(people)
    except EmptyResultSet:  # an audience of nobody (no department or group chosen)
        rows = []
    else:
        with connections[people.db].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    audience = compliant = 0
    pairs: dict[tuple[int | None, int | None], int] = {}
    departments: dict[int | None, list] = {}  # id: [rank, name, still required, joiners]
    managers: dict[int | None, list] = {}  # id: [name, still required, joiners], in order
    for (
        department_id,
        department_name,
        department_rank,
        manager_id,
        manager_name,
        total,
        attended_count,
        joiners_count,
    ) in rows:
        audience += total
        compliant += attended_count
        still = total - attended_count
        if not still:
            continue
        pairs[department_id, manager_id] = still
        group = departments.get(department_id)
        if group is None:
            departments[department_id] = [department_rank, department_name, still, joiners_count]
        else:
            group[2] += still
            group[3] += joiners_count
        group = managers.get(manager_id)
        if group is None:
            managers[manager_id] = [manager_name, still, joiners_count]
        else:
            group[1] += still
            group[2] += joiners_count
    by_department = sorted(
        departments.items(), key=lambda item: (item[1][0], item[0] is None, item[0] or 0)
    )
    return Breakdown(
        Figures(requirement, audience, compliant),
        [
            GroupCount(key, name or NO_DEPARTMENT, still, joiners)
            for key, (_rank, name, still, joiners) in by_department
        ],
        [
            GroupCount(key, name or NO_MANAGER, still, joiners)
            for key, (name, still, joiners) in managers.items()
        ],
        pairs,
    )


class Listing:
    """`with_details(people)` to page through, with its length known beforehand (from
    `Breakdown.still_required_in`, so the paginator asks no COUNT). A page is read in one
    query that picks its people first, `pk IN (the ids of people, in order, cut to the
    page)`, and only then joins their department and manager and looks up their
    attendance: the database sorts narrow rows rather than every person's whole row."""

    ordered = True

    def __init__(self, people: QuerySet, requirement: Requirement, *, count: int, now=None):
        self.people, self.requirement, self._count = people, requirement, count
        self.now = now or timezone.now()

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, key: slice) -> QuerySet:
        chosen = self.people.order_by(*LISTED_ORDER).values("pk")[key]
        return with_details(
            get_user_model().objects.filter(pk__in=chosen), self.requirement, now=self.now
        )
