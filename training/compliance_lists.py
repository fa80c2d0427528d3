"""A training requirement's page in few queries: its figures and both "still required"
tables from one grouped query (`breakdown`), and its list of people paged by picking
each page's ids first (`Listing`). The rules are `training.compliance`'s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, QuerySet, Window
from django.db.models.functions import DenseRank
from django.utils import timezone

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


class _Rank(Window):
    """DENSE_RANK() OVER (ORDER BY …) in a grouped query: computed over the groups, so it
    must stay out of the GROUP BY (where Django would otherwise put it; what it orders
    by is grouped on already)."""

    def __init__(self, order_by):
        super().__init__(DenseRank(), order_by=order_by)

    def get_group_by_cols(self):
        return []


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


def breakdown(
    requirement: Requirement,
    *,
    now: datetime | None = None,
    today: date | None = None,
    reports_of=None,
) -> Breakdown:
    """`figures`, `by_department` and `by_manager` over `still_required`, in one query:
    the audience counted per department, manager and whether they attended (a hashed
    `IN`), with each department's and manager's place in the order of their names (a
    rank the database gives, so the order is the database's, as in those queries)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    start = period_start(requirement, now)
    attended = Q(pk__in=attended_ids(requirement, start, now=now))
    joiners = joiner_not_yet_due(requirement, today)
    counts = {"total": Count("pk")}
    if joiners is not None:
        counts["not_yet_due"] = Count("pk", filter=joiners)
    rows = (
        audience_of(requirement, reports_of=reports_of)
        .order_by()
        .annotate(attended=ExpressionWrapper(attended, output_field=BooleanField()))
        .values("department_id", "department__name", "manager_id", "manager__full_name", "attended")
        .annotate(
            **counts,
            department_rank=_Rank(F("department__name").asc(nulls_last=True)),
            manager_rank=_Rank(F("manager__full_name").asc(nulls_last=True)),
        )
    )
    audience = compliant = 0
    pairs: dict[tuple[int | None, int | None], int] = {}
    groups: dict[str, dict] = {"department": {}, "manager": {}}
    names = {"department": "department__name", "manager": "manager__full_name"}
    for row in rows:
        audience += row["total"]
        if row["attended"]:
            compliant += row["total"]
            continue
        pair = (row["department_id"], row["manager_id"])
        pairs[pair] = pairs.get(pair, 0) + row["total"]
        for kind, name in names.items():
            key = row[f"{kind}_id"]
            group = groups[kind].setdefault(
                key, {"rank": row[f"{kind}_rank"], "name": row[name], "total": 0, "joiners": 0}
            )
            group["total"] += row["total"]
            group["joiners"] += row.get("not_yet_due", 0)
    empty = {"department": NO_DEPARTMENT, "manager": NO_MANAGER}
    tables = {
        kind: [
            GroupCount(key, group["name"] or empty[kind], group["total"], group["joiners"])
            for key, group in sorted(
                found.items(), key=lambda item: (item[1]["rank"], item[0] is None, item[0] or 0)
            )
        ]
        for kind, found in groups.items()
    }
    return Breakdown(
        Figures(requirement, audience, compliant),
        tables["department"],
        tables["manager"],
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
