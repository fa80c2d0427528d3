"""My team: a line manager's direct and indirect reports and what each still has to do.

Two queries make the page, however big the team:

- the team's summary (`team_summary`): every report's yes/no for each kind of thing
  outstanding (an open acknowledgement, one overdue, an open action, one overdue, each
  active requirement not met: `Flags`, each a semi-join the database runs once for
  everyone), grouped and counted in the database, and each set of flags judged by the
  rules of `Outstanding` (the very rules each row's figures follow). The overdue filter
  is the same rule as a condition (`Flags.overdue`), so the summary and the list never
  disagree;
- the page of people (or a CSV chunk) with each one's figures as correlated subqueries
  (`with_figures`), run for the rows shown only.

The active requirements and each one's "still required" people are built once
(`Moment`), so a department audience reads the department tree once per page.

A briefing not yet attended counts as outstanding whether or not the person has a seat
on an upcoming session; the seat is told apart ("booked" rather than "to book") by the
rule of training.compliance that the nudge and My tasks use, so the page never offers
a reminder the nudge would not send.

Privacy: actions of accountability-track incidents are left out everywhere here (not
counted, not listed, not nudged). The list shows action counts and due dates; a member's
page (`dashboards.team_member`) shows more only to a manager who may open the incident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, partial

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from incidents.models import ActionItem, Incident
from people.audience import EVERYONE, team
from policies.models import Assignment
from training.compliance import (
    accepted_topics,
    active_requirements,
    attended_within,
    in_audience,
    joiner_due_by,
    joiner_not_yet_due,
    seated_topics,
    still_required,
    still_required_among,
    upcoming_seats,
)
from training.models import Requirement

SEARCH_MAX_LENGTH = 100


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


@dataclass(frozen=True)
class Moment:
    """When figures are taken, and the active requirements they are taken against, each
    with the people who still have to attend it (`unmet`: `still_required`, a queryset
    built once: a department audience reads the department tree once, however many
    queries then use it), the topics whose sessions count for it (`accepted`), and
    `flags`: each built when first read, since the Dashboards page reads none of
    `unmet`."""

    now: datetime
    today: date
    requirements: tuple[Requirement, ...]

    @cached_property
    def unmet(self) -> tuple[QuerySet, ...]:
        return tuple(still_required(r, now=self.now) for r in self.requirements)

    @cached_property
    def accepted(self) -> tuple[frozenset[int], ...]:
        return tuple(frozenset(accepted_topics(r)) for r in self.requirements)

    @cached_property
    def flags(self) -> Flags:
        return Flags.of(self)

    @classmethod
    def of(cls, *, now: datetime | None = None, requirements=None) -> Moment:
        now = now or timezone.now()
        if requirements is None:
            requirements = active_requirements()
        return cls(now=now, today=timezone.localdate(now), requirements=tuple(requirements))

    def overdue_training(self, unmet: Iterable[bool], start_date: date | None) -> int:
        """Of the requirements not met (`unmet`: one flag per requirement), those due: all
        but a new joiner's still within their window."""
        today = self.today
        return sum(
            1
            for requirement, not_met in zip(self.requirements, unmet, strict=True)
            if not_met and joiner_due_by(requirement, start_date, today) is None
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
# Counted by `with_figures` in the database; the training figures are added up from
# one flag per requirement.
COUNTED = tuple(name for name in FIELDS if not name.startswith("training_"))
UNMET, SEATED, JOINER = "unmet_%d", "seated_%d", "joiner_%d"
OPEN = ("policies_open", "actions_open")  # flags that `Flags.overdue` does not read


def with_figures(people: QuerySet, moment: Moment) -> QuerySet:
    """`people` with what each still has to do, as correlated subqueries run for each
    person fetched: meant for a few (a page, a CSV chunk; see `figured`)."""
    late = Q(due_date__lt=moment.today)
    figures = {}
    for queryset, key, prefix in (
        (open_assignments(), "person", "policies"),
        (visible_open_actions(), "owner", "actions"),
    ):
        theirs = queryset.filter(**{key: OuterRef("pk")}).order_by().values(key)
        figures[f"{prefix}_open"] = Coalesce(
            Subquery(theirs.annotate(n=Count("pk")).values("n")), Value(0)
        )
        figures[f"{prefix}_overdue"] = Coalesce(
            Subquery(theirs.annotate(n=Count("pk", filter=late)).values("n")), Value(0)
        )
        figures[f"{prefix}_earliest_due"] = Subquery(
            theirs.annotate(first=Min("due_date")).values("first")
        )
    # A seat on an upcoming session of an accepted topic takes a requirement out of
    # `requirements_to_book`: the same rule.
    seats = upcoming_seats(now=moment.now).filter(person=OuterRef("pk"))
    for number, (unmet, accepted) in enumerate(zip(moment.unmet, moment.accepted, strict=True)):
        figures[UNMET % number] = _first(unmet.filter(pk=OuterRef("pk")))
        figures[SEATED % number] = _first(seats.filter(session__topic__in=accepted))
    return people.annotate(**figures)


def _first(rows: QuerySet) -> Subquery:
    """The id of the first of `rows` (correlated to the person), or None: a yes/no the
    database tests for each person fetched. Not an EXISTS, which PostgreSQL may turn into
    one hashed pass over all of the rows, for everyone, when it expects many people
    before the page's LIMIT cuts them to fifty."""
    return Subquery(rows.order_by().values("pk")[:1])


def figures_of(person, moment: Moment) -> Outstanding:
    """The figures of a person fetched through `with_figures`."""
    found = Outstanding(**{name: getattr(person, name) for name in COUNTED})
    unmet = [getattr(person, UNMET % n) is not None for n in range(len(moment.requirements))]
    found.training_unmet = sum(unmet)
    found.training_booked = sum(
        1 for n, not_met in enumerate(unmet) if not_met and getattr(person, SEATED % n) is not None
    )
    found.training_overdue = moment.overdue_training(unmet, person.start_date)
    return found


def with_outstanding(people: Iterable, moment: Moment) -> list:
    """`people` fetched through `with_figures` (a page of the list, a CSV chunk), with
    their figures set on each: `outstanding`, and each figure as an attribute."""
    rows = list(people)
    for person in rows:
        person.outstanding = figures = figures_of(person, moment)
        for name in FIELDS:
            setattr(person, name, getattr(figures, name))
        person.training_not_yet_due = figures.training_not_yet_due
        person.training_to_book = figures.training_to_book
        person.nudgeable = figures.nudgeable
    return rows


ORDER = ("full_name", "email", "pk")


def figured(people: QuerySet | list[int], moment: Moment) -> list:
    """`people` (a few: a slice of an ordered queryset, or ids) by name, with what each
    still has to do set on them (`with_outstanding`), in one query. The people are
    picked first and their figures read for them alone."""
    found = get_user_model().objects.filter(pk__in=people)
    found = with_figures(found.select_related("department", "manager").order_by(*ORDER), moment)
    return with_outstanding(found, moment)


def outstanding(
    person_ids: list[int], *, now: datetime, requirements: list[Requirement]
) -> dict[int, Outstanding]:
    """Each person's outstanding items, by id."""
    return grouped(person_ids, Moment.of(now=now, requirements=requirements))


def grouped(person_ids: list[int], moment: Moment) -> dict[int, Outstanding]:
    """Each person's outstanding items, by id, for many people at once (a CSV chunk):
    grouped queries, two for policies and actions, one for seats on upcoming briefings
    and one per active requirement, rather than `with_figures`'s subqueries per person.
    The same rules: the figures agree with `with_figures`'s (the tests compare them)."""
    found = {pk: Outstanding() for pk in person_ids}
    if not found:
        return found
    overdue = Q(due_date__lt=moment.today)
    for queryset, key, prefix in (
        (open_assignments(), "person_id", "policies"),
        (visible_open_actions(), "owner_id", "actions"),
    ):
        rows = (
            queryset.filter(**{f"{key}__in": person_ids})
            .order_by()
            .values(key)
            .annotate(n=Count("pk"), late=Count("pk", filter=overdue), first=Min("due_date"))
        )
        for row in rows:
            figures = found[row[key]]
            setattr(figures, f"{prefix}_open", row["n"])
            setattr(figures, f"{prefix}_overdue", row["late"])
            setattr(figures, f"{prefix}_earliest_due", row["first"])
    seats = seated_topics(person_ids, now=moment.now) if moment.requirements else {}
    for requirement, unmet, accepted in zip(
        moment.requirements, moment.unmet, moment.accepted, strict=True
    ):
        booked = {pk for pk, topics in seats.items() if topics & accepted}
        for pk, start_date in unmet.filter(pk__in=person_ids).values_list("pk", "start_date"):
            figures = found[pk]
            figures.training_unmet += 1
            if pk in booked:
                figures.training_booked += 1
            if joiner_due_by(requirement, start_date, moment.today) is None:
                figures.training_overdue += 1
    return found


# --- the whole team -------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    people: int
    overdue: int  # with something overdue
    all_clear: int  # nothing outstanding at all

    @property
    def outstanding_not_overdue(self) -> int:
        return self.people - self.overdue - self.all_clear


def _among(queryset: QuerySet, column: str) -> ExpressionWrapper:
    """For a query over people: one of `queryset`'s `column` (one semi-join for all)."""
    return ExpressionWrapper(Q(pk__in=queryset.values(column)), output_field=BooleanField())


@dataclass(frozen=True)
class Flags:
    """Where a person stands as yes/no columns (semi-joins run once for everyone): each
    kind of thing open or overdue, each requirement not met, and being a new joiner
    within a requirement's window. `overdue`: `Outstanding.overdue`'s rule as a filter."""

    columns: dict
    requirements: int  # how many active requirements (an `unmet_` column each)
    windows: tuple[int, ...]  # the requirements (by number) with a joiner's window

    @classmethod
    def of(cls, moment: Moment, *, whole: bool = True) -> Flags:
        """`whole`: False leaves out the columns `team_headline` does not read, the open
        flags (`OPEN`) and each requirement's "not met" (`UNMET`, which it tests in
        two parts), not to build them for nothing."""
        late = Q(due_date__lt=moment.today)
        assignments, actions = open_assignments(), visible_open_actions()
        columns = {
            "policies_overdue": _among(assignments.filter(late), "person_id"),
            "actions_overdue": _among(actions.filter(late), "owner_id"),
        }
        if whole:
            columns = {
                "policies_open": _among(assignments, "person_id"),
                "policies_overdue": columns["policies_overdue"],
                "actions_open": _among(actions, "owner_id"),
                "actions_overdue": columns["actions_overdue"],
                **{
                    UNMET % n: ExpressionWrapper(
                        still_required_among(r, now=moment.now), output_field=BooleanField()
                    )
                    for n, r in enumerate(moment.requirements)
                },
            }
        # A requirement not met is overdue unless the person is a new joiner still
        # within its window: `joiner_not_yet_due`, the query form of `joiner_due_by`.
        windows = []
        for n, requirement in enumerate(moment.requirements):
            joiner = joiner_not_yet_due(requirement, moment.today)
            if joiner is not None:
                columns[JOINER % n] = ExpressionWrapper(joiner, output_field=BooleanField())
                windows.append(n)
        return cls(columns=columns, requirements=len(moment.requirements), windows=tuple(windows))

    @property
    def overdue(self) -> Q:
        """Something overdue: a policy or an action past its due date, or a requirement
        not met by someone who is not a new joiner within its window."""
        return self._overdue(lambda name: Q(**{name: True}))

    def _overdue(self, yes) -> Q:
        found = yes("policies_overdue") | yes("actions_overdue")
        for n in range(self.requirements):
            unmet = yes(UNMET % n)
            found |= unmet & Q(**{JOINER % n: False}) if n in self.windows else unmet
        return found

    def one_by_one(self, moment: Moment) -> tuple[dict, Q]:
        """`overdue`'s columns and condition as correlated subqueries (`_first`: an id or
        None), which the database tests for each person it reads rather than hashing
        everyone's first: for a walk through the people in order that stops at a page's
        end (`Listing`)."""
        late = Q(due_date__lt=moment.today)
        columns = {
            "policies_overdue": _first(open_assignments().filter(late, person=OuterRef("pk"))),
            "actions_overdue": _first(visible_open_actions().filter(late, owner=OuterRef("pk"))),
            **{UNMET % n: _first(u.filter(pk=OuterRef("pk"))) for n, u in enumerate(moment.unmet)},
            **{JOINER % n: self.columns[JOINER % n] for n in self.windows},
        }
        return columns, self._overdue(lambda name: Q(**{f"{name}__isnull": False}))

    def verdict(self, row: dict) -> Outstanding:
        """The figures of a person with these flags (`row`: each column's value by name),
        the same for everyone with them, by the rules of `Outstanding`. A row without the
        open flags (`OPEN`: `team_headline` does not read them) gives only the overdue
        figures right."""
        unmet = [row[UNMET % n] for n in range(self.requirements)]
        due = [not_met and not row.get(JOINER % n, False) for n, not_met in enumerate(unmet)]
        return Outstanding(
            policies_open=row.get("policies_open", False),
            policies_overdue=row["policies_overdue"],
            actions_open=row.get("actions_open", False),
            actions_overdue=row["actions_overdue"],
            training_unmet=sum(unmet),
            training_overdue=sum(due),
        )


def _count_by(people: QuerySet, columns: dict) -> QuerySet:
    """How many of `people` have each combination of `columns`' values that occurs, as
    rows of the values (in the order of `columns`) and the count: grouped in the
    database, a few dozen rows however many people."""
    return (
        people.order_by()
        .annotate(**columns)
        .values(*columns)
        .annotate(n=Count("pk"))
        .values_list(*columns, "n")
    )


def team_summary(people: QuerySet, moment: Moment) -> Summary:
    """Counts over the whole team (`people`: a queryset) in one query: the people are
    grouped by their flags in the database (a few dozen sets of flags, however big the
    team), and each set is judged once by the rules of `Outstanding`."""
    flags = moment.flags
    total = overdue = all_clear = 0
    for *found, n in _count_by(people, flags.columns):
        figures = flags.verdict(dict(zip(flags.columns, found, strict=True)))
        total += n
        if figures.all_clear:
            all_clear += n
        elif figures.overdue:
            overdue += n
    return Summary(people=total, overdue=overdue, all_clear=all_clear)


@dataclass(frozen=True)
class Headline:
    """A line manager's team as the Dashboards page counts it: how many people, how many
    with something overdue (the My team card), and training coverage, pairs of a person
    and an active requirement whose audience they are in, and how many of those are met
    (the Compliance card's, for a manager who sees their team)."""

    people: int
    overdue: int
    audience: int
    compliant: int


MEMBER, ATTENDED = "member_%d", "attended_%d"


def team_headline(people: QuerySet, moment: Moment) -> Headline:
    """`Headline` of `people` (a queryset of active people) in one query, grouped by
    flags as `team_summary` is: only the flags `Flags.overdue` reads, with each
    requirement's "not met" (`UNMET`) in two parts: whether the person is in its
    audience (everyone active is in an audience of everyone) and whether they attended
    within its period, each tested once. A requirement is met by those in its audience
    who attended (new joiners included), the rule of
    `compliance_trend.training_coverage`; the tests hold both equal, and the overdue
    count equal to `team_summary`'s."""
    flags = Flags.of(moment, whole=False)
    columns = dict(flags.columns)
    for n, requirement in enumerate(moment.requirements):
        columns[ATTENDED % n] = ExpressionWrapper(
            attended_within(requirement, moment.now), output_field=BooleanField()
        )
        if requirement.audience != EVERYONE:
            columns[MEMBER % n] = ExpressionWrapper(
                in_audience(requirement), output_field=BooleanField()
            )
    total = overdue = pairs = compliant = 0
    for *found, n in _count_by(people, columns):
        row = dict(zip(columns, found, strict=True))
        for number in range(flags.requirements):
            row[UNMET % number] = row.get(MEMBER % number, True) and not row[ATTENDED % number]
        total += n
        overdue += n if flags.verdict(row).overdue else 0
        for number in range(flags.requirements):
            if row.get(MEMBER % number, True):
                pairs += n
                compliant += 0 if row[UNMET % number] else n
    return Headline(people=total, overdue=overdue, audience=pairs, compliant=compliant)


def with_overdue(people: QuerySet, moment: Moment, *, one_by_one: bool = False) -> QuerySet:
    """Those of `people` with something overdue: the rule `team_summary` counts by,
    applied in the database, for everyone at once (semi-joins), or `one_by_one` (see
    `Flags.one_by_one`)."""
    flags = moment.flags
    if one_by_one:
        columns, overdue = flags.one_by_one(moment)
        return people.annotate(**columns).filter(overdue)
    return people.annotate(**flags.columns).filter(flags.overdue)


# --- the list ---------------------------------------------------------------------------


def team_people(
    manager,
    *,
    direct_only: bool = False,
    search: str = "",
    overdue_only: bool = False,
    moment: Moment | None = None,
    one_by_one: bool = False,
) -> QuerySet:
    """The manager's active reports (direct and indirect, or direct only), optionally
    those whose name or email contains `search`, and those with something overdue (at
    `moment`, by the rule the summary counts by: `with_overdue`, `one_by_one` or not),
    by name."""
    search = search.strip()[:SEARCH_MAX_LENGTH]
    people = team(manager)
    if direct_only:
        people = people.filter(manager=manager)
    if search:
        people = people.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    if overdue_only:
        people = with_overdue(people, moment or Moment.of(), one_by_one=one_by_one)
    return people.order_by(*ORDER)


# A walk through the team in name order that tests each person (`one_by_one`) costs
# about ten times as much per person as the semi-joins that test everyone at once; it
# reads about (the page's end) × (team) / (overdue) people, if those overdue are spread
# through the alphabet as they are in a team. So it is taken while the people with
# something overdue number at least this many times the page's end. Were they bunched
# at the end of the alphabet, a page would cost more (at worst about ten times the
# semi-joins), never be wrong: both ways apply the same rule in the same order.
WALK = 10


class Listing:
    """The list's people for a Paginator: how many (`count`, when the team's summary
    already knows it, costs no query) and a page of them with their figures (`figured`).
    `walked`: the same people, found `one_by_one`, for the pages near the start of a long
    list of people with something overdue (see `WALK`). Both are given as functions that
    make them, called when a page first reads one: a page reads one of the two, and
    either costs about a millisecond to make."""

    def __init__(
        self,
        people: Callable[[], QuerySet],
        moment: Moment,
        *,
        count: int | None = None,
        walked: Callable[[], QuerySet] | None = None,
    ):
        self._people, self.moment, self._count, self._walked = people, moment, count, walked

    @cached_property
    def people(self) -> QuerySet:
        return self._people()

    @cached_property
    def walked(self) -> QuerySet:
        return self._walked()

    def count(self) -> int:
        if self._count is None:
            self._count = self.people.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list:
        walk = self._walked is not None and index.stop is not None
        people = self.walked if walk and index.stop * WALK <= self.count() else self.people
        return figured(people[index].values("pk"), self.moment)


def listing(
    manager,
    *,
    summary: Summary,
    moment: Moment,
    direct_only: bool = False,
    search: str = "",
    overdue_only: bool = False,
) -> Listing:
    """The list for `team_people`'s filters. Its length is the team's `summary` (the
    whole team, or those with something overdue) unless the direct-reports filter or a
    search narrows it; then one query counts it."""
    people = partial(
        team_people,
        manager,
        direct_only=direct_only,
        search=search,
        overdue_only=overdue_only,
        moment=moment,
    )
    if direct_only or search.strip():
        return Listing(people, moment)
    if not overdue_only:
        return Listing(people, moment, count=summary.people)
    walked = partial(team_people, manager, overdue_only=True, moment=moment, one_by_one=True)
    return Listing(people, moment, count=summary.overdue, walked=walked)
