"""My team: a line manager's direct and indirect reports and what each still has to do.

Every figure is an annotation on one queryset of people (subqueries per person, one
CASE per active training requirement), so a page costs the same number of queries for
three reports or three hundred.

Privacy: actions of accountability-track incidents are left out everywhere here (not
counted, not nudged); a manager sees action counts and due dates, never what an
incident was about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from incidents.models import ActionItem, Incident
from people import audience
from people.audience import team_ids
from policies.models import Assignment
from training.compliance import (
    _attended_since,
    _joiner_not_yet_due,
    audience_of,
    period_start,
)
from training.models import Requirement

SEARCH_MAX_LENGTH = 100

HEADER = [
    "Name",
    "Email",
    "Department",
    "Job title",
    "Direct manager",
    "Policies outstanding",
    "Policies overdue",
    "Earliest policy due",
    "Briefings not attended",
    "Briefings overdue",
    "Actions open",
    "Actions overdue",
    "Earliest action due",
]


# --- what counts ----------------------------------------------------------------------


def open_assignments() -> QuerySet:
    return Assignment.objects.filter(status=Assignment.Status.OPEN)


def visible_open_actions() -> QuerySet:
    """Open actions of incidents still running, never those of accountability-track
    (restricted) incidents: a manager learns nothing about those."""
    return (
        ActionItem.objects.filter(status=ActionItem.Status.OPEN)
        .exclude(incident__status=Incident.Status.CLOSED)
        .exclude(incident__track=Incident.Track.ACCOUNTABILITY)
    )


def _per_person(queryset: QuerySet, field: str, aggregate):
    """A scalar subquery: `aggregate` over the rows of `queryset` whose `field` is the
    outer person (grouped by that field, so it is one value per person)."""
    return Subquery(
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(value=aggregate)
        .values("value")[:1]
    )


def _count(queryset: QuerySet, field: str):
    return Coalesce(_per_person(queryset, field, Count("pk")), Value(0))


def active_requirements() -> list[Requirement]:
    return list(
        Requirement.objects.filter(active=True).prefetch_related(
            "accepted_topics", "audience_departments", "audience_groups"
        )
    )


def _training_counts(requirements: list[Requirement], *, now: datetime, today: date):
    """Two expressions over people: how many of these requirements they are in the
    audience of and have not met, and how many of those are overdue (not a new joiner
    still within their window). One CASE per requirement, none per person."""
    unmet, overdue = [], []
    for requirement in requirements:
        in_audience = (
            Q()
            if requirement.audience == audience.EVERYONE
            else Q(pk__in=audience_of(requirement).values("pk"))
        )
        not_met = in_audience & ~Q(_attended_since(requirement, period_start(requirement, now)))
        joiner = _joiner_not_yet_due(requirement, today)
        late = not_met & ~joiner if joiner is not None else not_met
        unmet.append(Case(When(not_met, then=Value(1)), default=Value(0)))
        overdue.append(Case(When(late, then=Value(1)), default=Value(0)))
    zero = Value(0, output_field=IntegerField())
    add = lambda left, right: left + right  # noqa: E731
    return (
        reduce(add, unmet, zero) if unmet else zero,
        reduce(add, overdue, zero) if overdue else zero,
    )


def with_status(
    people: QuerySet, *, now: datetime | None = None, requirements: list | None = None
) -> QuerySet:
    """`people` with every figure the team list shows, annotated. `requirements`: the
    active ones, when the caller has them loaded already."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    assignments = open_assignments()
    actions = visible_open_actions()
    if requirements is None:
        requirements = active_requirements()
    training_unmet, training_overdue = _training_counts(requirements, now=now, today=today)
    return (
        people.select_related("department", "manager")
        .annotate(
            policies_open=_count(assignments, "person"),
            policies_overdue=_count(assignments.filter(due_date__lt=today), "person"),
            policies_earliest_due=_per_person(assignments, "person", Min("due_date")),
            training_unmet=training_unmet,
            training_overdue=training_overdue,
            actions_open=_count(actions, "owner"),
            actions_overdue=_count(actions.filter(due_date__lt=today), "owner"),
            actions_earliest_due=_per_person(actions, "owner", Min("due_date")),
        )
        # New joiners still within their window: not met, but not yet due either.
        .annotate(training_not_yet_due=F("training_unmet") - F("training_overdue"))
    )


# --- the list ---------------------------------------------------------------------------


def team_people(
    manager,
    *,
    direct_only: bool = False,
    search: str = "",
    now: datetime | None = None,
    ids: list[int] | None = None,
    requirements: list | None = None,
) -> QuerySet:
    """The manager's active reports (direct and indirect, or direct only), optionally
    those whose name or email contains `search`, by name, with their figures. `ids`
    and `requirements`: the team and the active requirements, when already loaded."""
    people = get_user_model().objects.filter(pk__in=team_ids(manager) if ids is None else ids)
    if direct_only:
        people = people.filter(manager=manager)
    search = search.strip()[:SEARCH_MAX_LENGTH]
    if search:
        people = people.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    people = with_status(people, now=now, requirements=requirements)
    return people.order_by("full_name", "email", "pk")


def team_and_list(
    manager, *, direct_only: bool = False, search: str = ""
) -> tuple[QuerySet, QuerySet]:
    """The whole team (for the summary) and the list as filtered, looking the team and
    the requirements up once for both."""
    now = timezone.now()
    ids, requirements = team_ids(manager), active_requirements()
    whole = team_people(manager, now=now, ids=ids, requirements=requirements)
    if not direct_only and not search.strip():
        return whole, whole
    listed = team_people(
        manager,
        direct_only=direct_only,
        search=search,
        now=now,
        ids=ids,
        requirements=requirements,
    )
    return whole, listed


@dataclass(frozen=True)
class Summary:
    people: int
    overdue: int  # with something overdue
    all_clear: int  # nothing outstanding at all

    @property
    def outstanding_not_overdue(self) -> int:
        return self.people - self.overdue - self.all_clear


def summary(people: QuerySet) -> Summary:
    """Counts over the whole of `people` (from `team_people`), in one query."""
    overdue = Q(policies_overdue__gt=0) | Q(training_overdue__gt=0) | Q(actions_overdue__gt=0)
    clear = Q(policies_open=0, training_unmet=0, actions_open=0)
    figures = people.order_by().aggregate(
        people=Count("pk"),
        overdue=Count("pk", filter=overdue),
        all_clear=Count("pk", filter=clear),
    )
    return Summary(figures["people"], figures["overdue"], figures["all_clear"])


def csv_rows(people: QuerySet, manager):
    """The CSV lines of the list, streamed (people from `team_people`)."""
    for person in people.iterator(chunk_size=500):
        indirect = person.manager_id != manager.pk and person.manager is not None
        yield [
            person.get_full_name(),
            person.email,
            person.department.name if person.department else "",
            person.job_title,
            person.manager.get_full_name() if indirect else "",
            person.policies_open,
            person.policies_overdue,
            person.policies_earliest_due,
            person.training_unmet,
            person.training_overdue,
            person.actions_open,
            person.actions_overdue,
            person.actions_earliest_due,
        ]


# --- one member ------------------------------------------------------------------------


def team_member(manager, pk: int):
    """One of the manager's active reports, or None."""
    if pk not in set(team_ids(manager)):
        return None
    return get_user_model().objects.filter(pk=pk, is_active=True).first()
