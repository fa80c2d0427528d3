"""My team: a line manager's direct and indirect reports and what each still has to do.

Each person's figures are grouped queries over a list of people (a page of the list, a
chunk of the CSV): two queries for policies and actions, one for seats on upcoming
briefings and one per active training requirement, however many people there are. The
summary over the whole team is one COUNT whose tests are semi-joins the database runs
once, so a team of ten thousand costs neither ten thousand correlated subqueries nor
ten thousand rows brought into Python. "Only people with something overdue" filters the
list (and its CSV) by the very condition the summary counts with (`conditions`).

A briefing not yet attended counts as outstanding whether or not the person has a seat
on an upcoming session; the seat is told apart ("booked" rather than "to book") by the
rule of training.compliance that the nudge and My tasks use, so the page never offers
a reminder the nudge would not send.

Privacy: actions of accountability-track incidents are left out everywhere here (not
counted, not listed, not nudged). The list shows action counts and due dates; a member's
page shows an action's title and its incident's reference only when the manager may
open that incident (see incidents.permissions), and never what the incident was about.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from incidents.models import ActionItem, Incident
from incidents.permissions import visible_incidents
from people.audience import team
from policies.models import Assignment
from training.compliance import Status as Standing
from training.compliance import (
    accepted_topics,
    active_requirements,
    joiner_due_by,
    joiner_not_yet_due,
    seated_topics,
    status_for,
    still_required,
    upcoming_seats,
)
from training.models import Requirement, Session

SEARCH_MAX_LENGTH = 100
CSV_CHUNK = 500

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
    "Briefings booked",
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


@dataclass
class Outstanding:
    """What one person still has to do."""

    policies_open: int = 0
    policies_overdue: int = 0
    policies_earliest_due: date | None = None
    training_unmet: int = 0  # not attended within the period
    training_booked: int = 0  # of those, with a seat on an upcoming session
    training_overdue: int = 0  # not met, and not a new joiner still within their window
    actions_open: int = 0
    actions_overdue: int = 0
    actions_earliest_due: date | None = None

    @property
    def training_not_yet_due(self) -> int:
        return self.training_unmet - self.training_overdue

    @property
    def training_to_book(self) -> int:
        return self.training_unmet - self.training_booked

    @property
    def overdue(self) -> bool:
        return bool(self.policies_overdue or self.training_overdue or self.actions_overdue)

    @property
    def nudgeable(self) -> bool:
        """Something a nudge would remind them of (a booked briefing is not)."""
        return bool(self.policies_open or self.training_to_book or self.actions_open)

    @property
    def all_clear(self) -> bool:
        return not (self.policies_open or self.training_unmet or self.actions_open)


FIELDS = tuple(Outstanding.__dataclass_fields__)


def outstanding(
    person_ids: list[int], *, now: datetime, requirements: list[Requirement]
) -> dict[int, Outstanding]:
    """Each person's outstanding items, by id (a page or a CSV chunk of people; the
    whole team's figures are `summary`'s): 3 + one query per requirement."""
    today = timezone.localdate(now)
    found = {pk: Outstanding() for pk in person_ids}
    if not found:
        return found
    overdue = Q(due_date__lt=today)
    for queryset, field, prefix in (
        (open_assignments(), "person_id", "policies"),
        (visible_open_actions(), "owner_id", "actions"),
    ):
        rows = (
            queryset.filter(**{f"{field}__in": person_ids})
            .order_by()
            .values(field)
            .annotate(n=Count("pk"), late=Count("pk", filter=overdue), first=Min("due_date"))
        )
        for row in rows:
            figures = found[row[field]]
            setattr(figures, f"{prefix}_open", row["n"])
            setattr(figures, f"{prefix}_overdue", row["late"])
            setattr(figures, f"{prefix}_earliest_due", row["first"])
    # A seat on an upcoming session of an accepted topic takes a requirement out of
    # `requirements_to_book`: the same rule, for the whole team in one query.
    seats = seated_topics(person_ids, now=now) if requirements else {}
    for requirement in requirements:
        accepted = accepted_topics(requirement)
        booked = {pk for pk, topics in seats.items() if topics & accepted}
        unmet = still_required(requirement, now=now).filter(pk__in=person_ids)
        for pk, start_date in unmet.order_by().values_list("pk", "start_date"):
            figures = found[pk]
            figures.training_unmet += 1
            if pk in booked:
                figures.training_booked += 1
            if joiner_due_by(requirement, start_date, today) is None:
                figures.training_overdue += 1
    return found


def with_outstanding(people: Iterable, *, now: datetime, requirements) -> list:
    """`people` (a page of the list) with their figures set on each as attributes."""
    rows = list(people)
    figures = outstanding([p.pk for p in rows], now=now, requirements=requirements)
    for person in rows:
        person.outstanding = figures[person.pk]
        for name in FIELDS:
            setattr(person, name, getattr(person.outstanding, name))
        person.training_not_yet_due = person.outstanding.training_not_yet_due
        person.training_to_book = person.outstanding.training_to_book
        person.nudgeable = person.outstanding.nudgeable
    return rows


# --- the list ---------------------------------------------------------------------------


def team_people(
    manager,
    *,
    direct_only: bool = False,
    search: str = "",
    overdue_only: bool = False,
    now: datetime | None = None,
    requirements: list[Requirement] | None = None,
) -> QuerySet:
    """The manager's active reports (direct and indirect, or direct only), optionally
    those whose name or email contains `search`, and those with something overdue at
    `now` (by the summary's own test, so the list is exactly the people it counts), by
    name."""
    people = team(manager)
    if direct_only:
        people = people.filter(manager=manager)
    search = search.strip()[:SEARCH_MAX_LENGTH]
    if search:
        people = people.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    if overdue_only:
        if requirements is None:
            requirements = active_requirements()
        people = people.filter(
            conditions(now=now or timezone.now(), requirements=requirements).overdue
        )
    return people.select_related("department", "manager").order_by("full_name", "email", "pk")


@dataclass(frozen=True)
class Conditions:
    """Who has what, as conditions on people: the tests of `Outstanding.overdue` and
    `.all_clear`, each a semi-join that the database runs once for everyone rather
    than per person. The summary counts with them and the list filters with them, so
    the two never disagree."""

    overdue: Q  # something overdue
    outstanding: Q  # anything outstanding (not all clear)


def conditions(*, now: datetime, requirements) -> Conditions:
    """An open acknowledgement or action, or an active requirement not met, is
    outstanding; it is overdue past its due date, and a requirement not met is overdue
    unless the person is a new joiner still within its window."""
    today = timezone.localdate(now)
    assignments, actions = open_assignments(), visible_open_actions()
    overdue = Q(pk__in=assignments.filter(due_date__lt=today).values("person_id")) | Q(
        pk__in=actions.filter(due_date__lt=today).values("owner_id")
    )
    outstanding = Q(pk__in=assignments.values("person_id")) | Q(pk__in=actions.values("owner_id"))
    for requirement in requirements:
        unmet = Q(pk__in=still_required(requirement, now=now).values("pk"))
        outstanding |= unmet
        not_yet_due = joiner_not_yet_due(requirement, today)
        overdue |= unmet & ~not_yet_due if not_yet_due is not None else unmet
    return Conditions(overdue=overdue, outstanding=outstanding)


@dataclass(frozen=True)
class Summary:
    people: int
    overdue: int  # with something overdue
    all_clear: int  # nothing outstanding at all

    @property
    def outstanding_not_overdue(self) -> int:
        return self.people - self.overdue - self.all_clear


def summary(people: QuerySet, *, now: datetime, requirements) -> Summary:
    """Counts over the whole team (`people`: a queryset), in one query, by `conditions`."""
    test = conditions(now=now, requirements=requirements)
    counts = people.order_by().aggregate(
        people=Count("pk"),
        overdue=Count("pk", filter=test.overdue),
        all_clear=Count("pk", filter=~test.outstanding),
    )
    return Summary(**counts)


def csv_rows(
    people: QuerySet, manager, *, now: datetime | None = None, requirements=None
) -> Iterator[list]:
    """The CSV lines of the list, streamed a chunk of people at a time (their figures at
    `now`, by default when streaming starts)."""
    now = now or timezone.now()
    if requirements is None:
        requirements = active_requirements()
    rows = people.iterator(chunk_size=CSV_CHUNK)
    while chunk := list(islice(rows, CSV_CHUNK)):
        for person in with_outstanding(chunk, now=now, requirements=requirements):
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
                person.training_booked,
                person.training_overdue,
                person.actions_open,
                person.actions_overdue,
                person.actions_earliest_due,
            ]


# --- one member ------------------------------------------------------------------------


def team_member(manager, pk: int):
    """One of the manager's active reports, or None."""
    return team(manager).filter(pk=pk).select_related("department", "manager").first()


@dataclass(frozen=True)
class Briefing:
    """Where one person stands against one training requirement."""

    status: Standing  # from training.compliance.status_for
    to_book: bool  # not attended and no seat: what a nudge reminds them of
    seat: Session | None  # when booked: the earliest upcoming session of an accepted topic

    @property
    def requirement(self) -> Requirement:
        return self.status.requirement

    @property
    def booked(self) -> bool:
        return not self.status.compliant and not self.to_book


@dataclass(frozen=True)
class Member:
    """Everything one person still has to do, item by item."""

    assignments: list  # open acknowledgements, with `overdue` set on each
    briefings: list[Briefing]
    actions: list  # open actions of incidents that are not restricted, `overdue` set

    @property
    def briefings_not_attended(self) -> list[Briefing]:
        return [b for b in self.briefings if not b.status.compliant]

    @property
    def nudgeable(self) -> bool:
        return bool(self.assignments or any(b.to_book for b in self.briefings) or self.actions)


def member_items(person, *, now: datetime, viewer) -> Member:
    """The person's open acknowledgements, training standing and open actions: a fixed
    number of queries however many of each they have. An action's title and incident
    are shown (`shown`) only when `viewer` may open that incident; otherwise it is just
    an action with a due date, as on the list."""
    today = timezone.localdate(now)
    assignments = list(
        open_assignments()
        .filter(person=person)
        .select_related("policy", "version")
        .order_by("due_date", "pk")
    )
    actions = list(
        visible_open_actions()
        .filter(owner=person)
        .select_related("incident")
        .order_by("due_date", "pk")
    )
    for item in (*assignments, *actions):
        item.overdue = item.due_date < today
    may_open = set(
        visible_incidents(viewer)
        .filter(pk__in={action.incident_id for action in actions})
        .values_list("pk", flat=True)
    )
    for action in actions:
        action.shown = action.incident_id in may_open
    # The rule of `requirements_to_book`: a requirement not met is booked when one of
    # these seats is on a session of an accepted topic (the earliest is shown).
    seats = list(
        upcoming_seats(now=now)
        .filter(person=person)
        .select_related("session")
        .order_by("session__starts_at", "pk")
    )
    briefings = []
    for status in status_for(person, now=now):
        seat = None
        if not status.compliant:
            accepted = accepted_topics(status.requirement)
            seat = next((b.session for b in seats if b.session.topic_id in accepted), None)
        briefings.append(Briefing(status, not status.compliant and seat is None, seat))
    briefings.sort(key=lambda b: (b.status.compliant, b.requirement.name.lower()))
    return Member(assignments=assignments, briefings=briefings, actions=actions)
