"""Who has met a training requirement, and who still has to attend.

Compliant means: attended (or attended late) a session of one of the requirement's
accepted topics within the last `every_months`. A new joiner, whose start date is
less than `new_joiners_within_days` ago, is due by their start date plus that many
days; everyone else not compliant is due now. A cancelled session did not happen and
never counts.

The figures for many people are single grouped queries, so they cost the same for ten
people or ten thousand. Attendance is an uncorrelated subquery (`attended_ids`: the
people who attended in the period), which PostgreSQL runs once and hashes: as a filter
on the people (`still_required`) it becomes an anti-join, inside a count a hashed
lookup per person. (A subquery correlated to each person, `EXISTS (… person_id = id)`,
is planned as a join in a WHERE but runs once per person inside a COUNT's FILTER.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.services import notify_many
from people import audience, roles
from people.audience import DEPARTMENTS, GROUPS, audience_people, department_and_ancestors
from people.models import Department
from training.models import Booking, Requirement, Session, Topic, TrainingError
from training.services import next_sessions_with_seats

CHECKIN_LEAD = timedelta(minutes=15)  # check-in opens this long before a session starts

NO_DEPARTMENT = gettext_lazy("No department")
NO_MANAGER = gettext_lazy("No manager")


def period(requirement: Requirement) -> timedelta:
    return months_period(requirement.every_months)


def months_period(months: int) -> timedelta:
    return timedelta(days=round(months * 30.44))


def period_start(requirement: Requirement, now: datetime) -> datetime:
    return now - period(requirement)


def requirement_people(requirement: Requirement):
    """The active people in the requirement's audience (uses prefetched departments and
    groups when the requirement was loaded with them). Read once per requirement object:
    an audience of departments reads the department tree (one query) the first time."""
    groups = ()
    if requirement.audience == audience.GROUPS:
        groups = tuple(group.pk for group in requirement.audience_groups.all())
    key = (requirement.audience, _departments_within(requirement), groups)
    read = requirement.__dict__.get("_audience_people")
    if read is None or read[0] != key:
        if requirement.audience == GROUPS:
            people = audience_people(GROUPS, group_ids=groups)
        else:
            people = get_user_model().objects.filter(in_audience(requirement))
        read = requirement.__dict__["_audience_people"] = (key, people)
    return read[1].all()


def _departments_within(requirement: Requirement) -> tuple[int, ...]:
    """An audience of departments': the chosen departments and everything below them,
    read once per requirement object (one query); () for any other audience."""
    if requirement.audience != DEPARTMENTS:
        return ()
    chosen = tuple(sorted(department.pk for department in requirement.audience_departments.all()))
    read = requirement.__dict__.get("_departments_within")
    if read is None or read[0] != chosen:
        within = tuple(sorted(audience.with_sub_departments(chosen))) if chosen else ()
        read = requirement.__dict__["_departments_within"] = (chosen, within)
    return read[1]


def in_audience(requirement: Requirement, prefix: str = "") -> Q:
    """The requirement's audience as a condition on people, or on rows that lead to one
    (`prefix`, such as "person__"). Everyone's and chosen departments' are tested on
    the person's own columns (active; in one of the departments or below), so a query
    that reads the people anyway pays nothing more; chosen groups' are their members, a
    subquery (a join would repeat someone in two of them)."""
    if requirement.audience == GROUPS:
        return Q(**{f"{prefix}pk__in": requirement_people(requirement).order_by().values("pk")})
    found = Q(**{f"{prefix}is_active": True})
    if requirement.audience == DEPARTMENTS:
        # Without a department the test is false, never unknown (SQL's NULL IN (…)).
        found &= Q(
            **{
                f"{prefix}department_id__isnull": False,
                f"{prefix}department_id__in": _departments_within(requirement),
            }
        )
    return found


def topics_of(requirement: Requirement):
    """The accepted topics, for `topic__in=`: their ids when they were prefetched (no
    subquery for the database to plan in every query that counts attendance), else
    (or when there are none) a subquery."""
    prefetched = getattr(requirement, "_prefetched_objects_cache", {}).get("accepted_topics")
    if prefetched:
        return sorted(topic.pk for topic in prefetched)
    return requirement.accepted_topics.all()


def _attendance(requirement: Requirement, *, now: datetime | None = None):
    """Bookings that count towards the requirement: present at a session of an accepted
    topic that was not cancelled."""
    now = now or timezone.now()
    return Booking.objects.filter(
        status__in=Booking.PRESENT,
        session__topic__in=topics_of(requirement),
        # Attendance counts from check-in opening (15 minutes before the start), never
        # for a session that is still days away.
        session__starts_at__lte=now + CHECKIN_LEAD,
    ).exclude(session__status=Session.Status.CANCELLED)


def _attended_since(requirement: Requirement, start: datetime, *, now: datetime) -> Exists:
    """For a query over people: attended within the period that began at `start`."""
    return Exists(
        _attendance(requirement, now=now).filter(
            person=OuterRef("pk"), session__starts_at__gte=start
        )
    )


def attended_ids(requirement: Requirement, start: datetime, *, now: datetime) -> QuerySet:
    """The ids of the people who attended within the period that began at `start`: an
    uncorrelated subquery (`pk__in=`), which the database runs once and hashes."""
    return (
        _attendance(requirement, now=now)
        .filter(session__starts_at__gte=start)
        .order_by()
        .values("person_id")
    )


def last_attended(requirement: Requirement, person_ids=None) -> dict[int, datetime]:
    """When each person last attended a session of an accepted topic (one query)."""
    bookings = _attendance(requirement)
    if person_ids is not None:
        bookings = bookings.filter(person_id__in=person_ids)
    return dict(
        bookings.values("person_id")
        .annotate(last=Max("session__starts_at"))
        .values_list("person_id", "last")
    )


def compliant_ids(requirement: Requirement, *, now: datetime | None = None) -> set[int]:
    now = now or timezone.now()
    start = period_start(requirement, now)
    return {pk for pk, last in last_attended(requirement).items() if last >= start}


def audience_of(requirement: Requirement, *, reports_of=None) -> QuerySet:
    """The audience as a plain queryset of people (no DISTINCT, so it can be grouped);
    with `reports_of`, only that person's direct reports."""
    people = requirement_people(requirement)
    if requirement.audience == audience.GROUPS:
        # Membership of several chosen groups would repeat a person in a join.
        people = get_user_model().objects.filter(pk__in=people.values("pk"))
    if reports_of is not None:
        people = people.filter(manager=reports_of)
    return people


def still_required(
    requirement: Requirement, *, now: datetime | None = None, reports_of=None
) -> QuerySet:
    """Everyone in the audience who has not attended within the period (a queryset)."""
    now = now or timezone.now()
    start = period_start(requirement, now)
    return audience_of(requirement, reports_of=reports_of).exclude(
        _attended_since(requirement, start, now=now)
    )


def still_required_among(requirement: Requirement, *, now: datetime) -> Q:
    """`still_required` as a condition on people (active or not): in the audience and
    not among those who attended within the period. Uncorrelated semi-joins the database
    runs and hashes once for every person tested: those who attended are fewer to hash
    than the audience without them, and need no pass over everyone to be found."""
    return in_audience(requirement) & ~attended_within(requirement, now)


def attended_within(requirement: Requirement, now: datetime) -> Q:
    """For a query over people: attended within the period (`attended_ids`)."""
    return Q(pk__in=attended_ids(requirement, period_start(requirement, now), now=now))


def still_required_ids(requirement: Requirement, *, now: datetime | None = None) -> set[int]:
    """Everyone in the requirement's audience who has not attended within the period."""
    return set(still_required(requirement, now=now).values_list("pk", flat=True))


def joiner_due_by(requirement: Requirement, start_date: date | None, today: date) -> date | None:
    """A new joiner's deadline while it has not passed; None means "due now"."""
    days = requirement.new_joiners_within_days
    if days and start_date and start_date + timedelta(days=days) >= today:
        return start_date + timedelta(days=days)
    return None


def joiner_not_yet_due(requirement: Requirement, today: date) -> Q | None:
    """New joiners still within their window (the query form of `joiner_due_by`)."""
    days = requirement.new_joiners_within_days
    if not days:
        return None
    return Q(start_date__isnull=False, start_date__gte=today - timedelta(days=days))


def active_requirements() -> list[Requirement]:
    """Active requirements with their accepted topics, and their chosen departments and
    groups (two queries: the requirements, then everything they refer to at once)."""
    return with_related(list(Requirement.objects.filter(active=True)))


# What `with_related` reads: a relation of Requirement, its target model and the fields it
# fills in; each target model's default ordering (by name), then by id.
_RELATED = (
    ("accepted_topics", Topic, ("id", "name", "description")),
    ("audience_departments", Department, ("id", "name", "parent_id")),
    ("audience_groups", Group, ("id", "name")),
)


def with_related(requirements: list[Requirement]) -> list[Requirement]:
    """Fill in `requirements`' accepted topics, chosen departments and chosen groups, as
    `prefetch_related` would (so `.all()` on them makes no query), in one query: the
    three link tables read together (UNION ALL), with the names they show."""
    if not requirements:
        return requirements
    ids = [requirement.pk for requirement in requirements]
    parts = []
    for kind, (relation, _model, fields) in enumerate(_RELATED):
        through = getattr(Requirement, relation).through
        target = getattr(Requirement, relation).field.m2m_reverse_field_name()
        columns = {
            "kind": Value(kind),
            "owner": F("requirement_id"),
            "key": F(f"{target}_id"),
            "label": F(f"{target}__name"),
        }
        for extra, output in (("description", TextField()), ("parent_id", IntegerField())):
            columns[extra] = F(f"{target}__{extra}") if extra in fields else Value(None, output)
        parts.append(through.objects.filter(requirement_id__in=ids).values(**columns))
    rows = parts[0].union(*parts[1:], all=True).order_by("kind", "label", "key")
    found: dict[tuple[int, int], list] = {}
    for row in rows:
        relation, model, fields = _RELATED[row["kind"]]
        values = {
            "id": row["key"],
            "name": row["label"],
            "description": row["description"],
            "parent_id": row["parent_id"],
        }
        instance = model.from_db(rows.db, fields, [values[field] for field in fields])
        found.setdefault((row["kind"], row["owner"]), []).append(instance)
    for requirement in requirements:
        cache = requirement.__dict__.setdefault("_prefetched_objects_cache", {})
        for kind, (relation, _model, _fields) in enumerate(_RELATED):
            manager = getattr(requirement, relation)
            cache.pop(manager.prefetch_cache_name, None)
            queryset = manager.get_queryset()
            queryset._result_cache = found.get((kind, requirement.pk), [])
            queryset._prefetch_done = True
            cache[manager.prefetch_cache_name] = queryset
    return requirements


# --- figures ----------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """A requirement's standing over an audience (everyone, or a manager's reports)."""

    requirement: Requirement
    audience: int
    compliant: int

    @property
    def still_required(self) -> int:
        return self.audience - self.compliant

    @property
    def percent(self) -> int | None:
        """Rounded down, so that 100% means everyone."""
        return None if not self.audience else self.compliant * 100 // self.audience


def _audience_within(requirement: Requirement) -> Q | None:
    """Among the active people: those in the requirement's audience (None: all of them)."""
    if requirement.audience in (DEPARTMENTS, GROUPS):
        return in_audience(requirement)
    return None


def figures(requirement: Requirement, *, now: datetime | None = None, reports_of=None) -> Figures:
    """Audience and compliant counts in one query."""
    now = now or timezone.now()
    start = period_start(requirement, now)
    counts = audience_of(requirement, reports_of=reports_of).aggregate(
        audience=Count("pk"),
        compliant=Count("pk", filter=Q(pk__in=attended_ids(requirement, start, now=now))),
    )
    return Figures(requirement, counts["audience"], counts["compliant"])


def requirements_with_figures(*, now: datetime | None = None, reports_of=None) -> list[Figures]:
    """Every active requirement with its figures: one query for all of them, however many
    people and requirements. Each person's standing against each requirement (not in its
    audience, still required, or attended) is worked out once, in one pass of the people,
    and the people are counted per combination of standings that occurs (a dozen rows for
    three requirements), which are added up here."""
    now = now or timezone.now()
    requirements = active_requirements()
    if not requirements:
        return []
    people = get_user_model().objects.filter(is_active=True)
    if reports_of is not None:
        people = people.filter(manager=reports_of)
    standings = {}
    for j, requirement in enumerate(requirements):
        within = _audience_within(requirement)
        attended = ExpressionWrapper(attended_within(requirement, now), output_field=BooleanField())
        # True: attended; False: still required; None: not in the audience.
        standings[f"standing_{j}"] = (
            attended
            if within is None
            else Case(When(within, then=attended), default=None, output_field=BooleanField())
        )
    rows = (
        people.order_by()
        .annotate(**standings)
        .values(*standings)
        .annotate(count=Count("pk"))
        .values_list(*standings, "count")
    )
    audience = [0] * len(requirements)
    compliant = [0] * len(requirements)
    for *standing, count in rows:
        for j, attended in enumerate(standing):
            if attended is not None:
                audience[j] += count
                if attended:
                    compliant[j] += count
    return [
        Figures(requirement, audience[j], compliant[j])
        for j, requirement in enumerate(requirements)
    ]


@dataclass(frozen=True)
class GroupCount:
    """How many people of one department (or one manager's reports) still have to attend."""

    pk: int | None
    name: str
    still_required: int
    not_yet_due: int  # new joiners still within their first N days

    @property
    def due_now(self) -> int:
        return self.still_required - self.not_yet_due


def _grouped(
    people: QuerySet, requirement: Requirement, today: date, key: str, name: str, empty: str
) -> list[GroupCount]:
    joiners = joiner_not_yet_due(requirement, today)
    counts = {"total": Count("pk")}
    if joiners is not None:
        counts["not_yet_due"] = Count("pk", filter=joiners)
    rows = (
        people.order_by()
        .values(key, name)
        .annotate(**counts)
        .order_by(F(name).asc(nulls_last=True), key)
    )
    return [
        GroupCount(row[key], row[name] or empty, row["total"], row.get("not_yet_due", 0))
        for row in rows
    ]


def by_department(
    people: QuerySet, requirement: Requirement, *, today: date | None = None
) -> list[GroupCount]:
    """Still required per department, in one query. `people`: from `still_required`."""
    today = today or timezone.localdate()
    return _grouped(people, requirement, today, "department_id", "department__name", NO_DEPARTMENT)


def by_manager(
    people: QuerySet, requirement: Requirement, *, today: date | None = None
) -> list[GroupCount]:
    """Still required per direct manager, in one query. `people`: from `still_required`."""
    today = today or timezone.localdate()
    return _grouped(people, requirement, today, "manager_id", "manager__full_name", NO_MANAGER)


LISTED_ORDER = ("full_name", "email", "pk")  # how `with_details` lists people


def with_details(
    people: QuerySet, requirement: Requirement, *, now: datetime | None = None
) -> QuerySet:
    """People still required with what a list shows: department, manager, when they last
    attended and their next booked session of an accepted topic, alphabetically."""
    now = now or timezone.now()
    attendance = _attendance(requirement, now=now).filter(person=OuterRef("pk"))
    next_booking = Booking.objects.filter(
        person=OuterRef("pk"),
        status=Booking.Status.BOOKED,
        session__status=Session.Status.SCHEDULED,
        session__starts_at__gt=now,
        session__topic__in=topics_of(requirement),
    )
    return (
        people.select_related("department", "manager")
        .annotate(
            last_attended=Subquery(
                attendance.order_by("-session__starts_at").values("session__starts_at")[:1]
            ),
            booked_for=Subquery(
                next_booking.order_by("session__starts_at").values("session__starts_at")[:1]
            ),
        )
        .order_by(*LISTED_ORDER)
    )


# --- one person -------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    requirement: Requirement
    compliant: bool
    last_attended: datetime | None
    due_by: date | None  # when not compliant: the joiner deadline, or None for "now"
    valid_until: date | None  # when compliant: when it must be renewed

    @property
    def overdue(self) -> bool:
        return not self.compliant and (self.due_by is None or self.due_by < timezone.localdate())


def _is_in(requirement: Requirement, person, departments: set[int], groups: set[int]) -> bool:
    """Audience membership from what is already loaded (no query per requirement)."""
    if not person.is_active:
        return False
    if requirement.audience == audience.DEPARTMENTS:
        chosen = {d.pk for d in requirement.audience_departments.all()}
        return bool(chosen & departments)
    if requirement.audience == audience.GROUPS:
        return bool({g.pk for g in requirement.audience_groups.all()} & groups)
    return True


def status_for(person, *, now: datetime | None = None) -> list[Status]:
    """The person's standing against every active requirement whose audience they are in,
    in a fixed number of queries however many requirements there are."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    requirements = list(
        Requirement.objects.filter(active=True).prefetch_related(
            "accepted_topics", "audience_departments", "audience_groups"
        )
    )
    # The person's department and everything above it: a requirement for a department
    # includes its sub-departments.
    departments = department_and_ancestors(person.department_id)
    groups = set(person.groups.values_list("pk", flat=True))
    last_by_topic = dict(
        Booking.objects.filter(
            person=person,
            status__in=Booking.PRESENT,
            session__starts_at__lte=now + CHECKIN_LEAD,
        )
        .exclude(session__status=Session.Status.CANCELLED)
        .values("session__topic_id")
        .annotate(last=Max("session__starts_at"))
        .values_list("session__topic_id", "last")
    )
    statuses = []
    for requirement in requirements:
        if not _is_in(requirement, person, departments, groups):
            continue
        times = [
            last_by_topic[t.pk] for t in requirement.accepted_topics.all() if t.pk in last_by_topic
        ]
        last = max(times) if times else None
        months = period(requirement)
        if last is not None and last >= now - months:
            statuses.append(Status(requirement, True, last, None, (last + months).date()))
            continue
        due_by = joiner_due_by(requirement, person.start_date, today)
        statuses.append(Status(requirement, False, last, due_by, None))
    return statuses


def upcoming_seats(*, now: datetime) -> QuerySet[Booking]:
    """Seats on sessions still to come: a requirement not yet met is booked (nothing
    left to book) when one is on a session of an accepted topic."""
    return Booking.objects.filter(
        status=Booking.Status.BOOKED,
        session__status=Session.Status.SCHEDULED,
        session__starts_at__gt=now,
    )


def seated_topics(people, *, now: datetime) -> dict[int, set[int]]:
    """For many people at once (ids, or a queryset of them): the topics of the upcoming
    sessions each has a seat on (one query; see `upcoming_seats`)."""
    topics: dict[int, set[int]] = {}
    rows = upcoming_seats(now=now).filter(person_id__in=people).order_by()
    for person_id, topic_id in rows.values_list("person_id", "session__topic_id").distinct():
        topics.setdefault(person_id, set()).add(topic_id)
    return topics


def accepted_topics(requirement: Requirement) -> set[int]:
    """The ids of the topics whose sessions count for `requirement` (prefetched by
    `active_requirements`)."""
    return {topic.pk for topic in requirement.accepted_topics.all()}


def requirements_to_book(person, *, now: datetime | None = None) -> list[Status]:
    """The person's requirements not met, leaving out those they already have a seat
    for on an upcoming session of an accepted topic: what they still have to book."""
    now = now or timezone.now()
    topics = set(
        upcoming_seats(now=now).filter(person=person).values_list("session__topic_id", flat=True)
    )
    return [
        status
        for status in status_for(person, now=now)
        if not status.compliant and not accepted_topics(status.requirement) & topics
    ]


# --- inviting -------------------------------------------------------------------


def invite_still_required(*, requirement: Requirement, by, now: datetime | None = None) -> int:
    """ "Invite everyone still required": an invitation to the next sessions with free
    seats, through the outbox, at most once a day per person. People already booked on
    an upcoming session of an accepted topic are left out. Returns how many were invited."""
    now = now or timezone.now()
    if not roles.is_policy_admin(by):
        raise TrainingError(_("Only policy admins can invite people to briefings."))
    if not requirement.active:
        raise TrainingError(_("This requirement is not active; nobody is invited to it."))
    accepted = requirement.accepted_topics.all()
    if not list(next_sessions_with_seats(topics=accepted, after=now, limit=1)):
        raise TrainingError(
            _("No upcoming session of an accepted topic has a free seat. Schedule one first.")
        )
    today = timezone.localdate(now)
    person_ids = (
        with_details(still_required(requirement, now=now), requirement, now=now)
        .filter(booked_for__isnull=True)
        .values_list("pk", flat=True)
    )
    return notify_many(
        kind="training-invitation",
        items=[(requirement, pk) for pk in person_ids],
        stage=f"invite-{today:%Y%m%d}",
    )
