"""Reads for the training pages: upcoming sessions, my bookings, rosters, catering.

Each function runs a fixed number of queries however many sessions or bookings
there are: counts are annotations, and lists are querysets the views page through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from training.compliance import CHECKIN_LEAD, months_period
from training.models import Booking, Requirement, Session
from training.services import HOLDS_SEAT

BookingStatus = Booking.Status
# Who holds a seat (and gets lunch): booked, or already checked in (walk-ins too).
SEATED = HOLDS_SEAT


def _with_counts(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """Sessions with `booked`, `waitlisted` and `present` counts (in the same query)."""
    return sessions.annotate(
        booked=Count("bookings", filter=Q(bookings__status__in=SEATED)),
        waitlisted=Count("bookings", filter=Q(bookings__status=BookingStatus.WAITLISTED)),
        present=Count("bookings", filter=Q(bookings__status__in=Booking.PRESENT)),
    )


def upcoming_with_seats(person, *, now: datetime) -> QuerySet[Session]:
    """Scheduled sessions not yet started that still have a free seat, soonest first,
    each with `seats_left` and `my_status` (the person's booking status, if any)."""
    mine = Booking.objects.filter(session=OuterRef("pk"), person=person).values("status")[:1]
    return (
        Session.objects.filter(status=Session.Status.SCHEDULED, starts_at__gt=now)
        .annotate(booked=Count("bookings", filter=Q(bookings__status__in=SEATED)))
        .filter(booked__lt=F("capacity"))
        .annotate(seats_left=F("capacity") - F("booked"), my_status=Subquery(mine))
        .select_related("topic")
        .order_by("starts_at", "pk")
    )


def upcoming_full(*, now: datetime, limit: int = 5) -> list[Session]:
    """The next scheduled sessions with no seat left: one can still join their waitlist."""
    return list(
        Session.objects.filter(status=Session.Status.SCHEDULED, starts_at__gt=now)
        .annotate(booked=Count("bookings", filter=Q(bookings__status__in=SEATED)))
        .filter(booked__gte=F("capacity"))
        .order_by("starts_at", "pk")[:limit]
    )


def _waitlist_rank():
    """A booking's place in its session's waiting line (1 = next to get a seat).

    Positions are never renumbered when someone is promoted or leaves the list,
    so the place is counted: the waiting bookings ahead, plus one.
    """
    ahead = (
        Booking.objects.filter(
            session=OuterRef("session"),
            status=BookingStatus.WAITLISTED,
            waitlist_position__lt=OuterRef("waitlist_position"),
        )
        .order_by()
        .values("session")
        .annotate(ahead=Count("pk"))
        .values("ahead")
    )
    return Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0)) + 1


def my_bookings(person, *, now: datetime) -> QuerySet[Booking]:
    """The person's booked and waitlisted places on sessions that have not ended."""
    return (
        Booking.objects.filter(
            person=person,
            status__in=Booking.ACTIVE,
            session__status=Session.Status.SCHEDULED,
            session__ends_at__gt=now,
        )
        .annotate(waitlist_rank=_waitlist_rank())
        .select_related("session__topic")
        .order_by("session__starts_at", "pk")
    )


def my_recent_attendance(person, *, limit: int = 5) -> list[Booking]:
    """Sessions the person attended lately, with their feedback (if given)."""
    return list(
        Booking.objects.filter(person=person, status__in=Booking.PRESENT)
        .select_related("session__topic", "feedback")
        .order_by("-session__starts_at", "-pk")[:limit]
    )


def waitlist_rank(booking: Booking) -> int | None:
    if booking.status != BookingStatus.WAITLISTED:
        return None
    ahead = Booking.objects.filter(
        session_id=booking.session_id,
        status=BookingStatus.WAITLISTED,
        waitlist_position__lt=booking.waitlist_position,
    ).count()
    return ahead + 1


@dataclass(frozen=True)
class Seats:
    capacity: int
    booked: int
    waitlisted: int

    @property
    def left(self) -> int:
        return max(0, self.capacity - self.booked)


def seats(session: Session) -> Seats:
    counts = session.bookings.aggregate(
        booked=Count("pk", filter=Q(status__in=SEATED)),
        waitlisted=Count("pk", filter=Q(status=BookingStatus.WAITLISTED)),
    )
    return Seats(session.capacity, counts["booked"], counts["waitlisted"])


# --- presenters and organisers ----------------------------------------------------


@dataclass(frozen=True)
class Roster:
    seated: list[Booking]  # booked, and everyone marked (walk-ins included)
    waiting: list[Booking]  # the waitlist, in order
    cancelled: int

    @property
    def unmarked(self) -> int:
        return sum(1 for b in self.seated if b.status == BookingStatus.BOOKED)

    @property
    def present(self) -> int:
        return sum(1 for b in self.seated if b.status in Booking.PRESENT)


def roster(session: Session) -> Roster:
    """Everyone on the session (one query): seat holders by name, then the waitlist."""
    bookings = list(
        session.bookings.select_related("person__department", "booked_by").order_by(
            "person__full_name", "pk"
        )
    )
    seated = [
        b for b in bookings if b.status not in (BookingStatus.WAITLISTED, BookingStatus.CANCELLED)
    ]
    waiting = sorted(
        (b for b in bookings if b.status == BookingStatus.WAITLISTED),
        key=lambda b: (b.waitlist_position, b.booked_at),
    )
    for rank, booking in enumerate(waiting, start=1):
        booking.waitlist_rank = rank
    cancelled = sum(1 for b in bookings if b.status == BookingStatus.CANCELLED)
    return Roster(seated=seated, waiting=waiting, cancelled=cancelled)


@dataclass(frozen=True)
class Catering:
    by_lunch: list[tuple[str, str, int]]  # (choice, label, count) for every choice, menu order
    total: int
    dietary: list[Booking]  # seat holders with dietary needs
    after_cutoff: list[Booking]  # seat holders who booked after the lunch cut-off
    waitlisted: int

    @property
    def lunches(self) -> int:
        return sum(count for value, _, count in self.by_lunch if value != Booking.Lunch.NONE)


def catering(session: Session) -> Catering:
    """What to order: lunches by choice for those holding a seat (one grouped query),
    their dietary needs, and who booked too late for the order (one query)."""
    seated = session.bookings.filter(status__in=SEATED)
    counts = dict(
        seated.order_by().values("lunch").annotate(n=Count("pk")).values_list("lunch", "n")
    )
    by_lunch = [(value, label, counts.get(value, 0)) for value, label in Booking.Lunch.choices]
    notable = list(
        seated.filter(Q(lunch_not_guaranteed=True) | ~Q(dietary_needs=""))
        .select_related("person")
        .order_by("person__full_name", "pk")
    )
    waitlisted = session.bookings.filter(status=BookingStatus.WAITLISTED).count()
    return Catering(
        by_lunch=by_lunch,
        total=sum(counts.values()),
        dietary=[b for b in notable if b.dietary_needs],
        after_cutoff=[b for b in notable if b.lunch_not_guaranteed],
        waitlisted=waitlisted,
    )


def sessions_for_manage(*, past: bool, now: datetime) -> QuerySet[Session]:
    """The organiser's list: upcoming (not yet ended) soonest first, or past ones latest
    first, each with booked and waitlisted counts (one query per page)."""
    sessions = _with_counts(Session.objects.select_related("topic", "presenter"))
    if past:
        return sessions.filter(ends_at__lte=now).order_by("-starts_at", "-pk")
    return sessions.filter(ends_at__gt=now).order_by("starts_at", "pk")


def next_change(now: datetime) -> datetime | None:
    """The next moment the clock alone changes a training figure (a kept page lasts until
    then, policyhub/kept.py): a session's check-in opens (its attendance starts to count),
    it starts (its seats are no longer upcoming) or ends, or an attendance's period runs
    out (a start plus one of the requirements' periods). Any session and any requirement,
    which can only make it sooner. Two queries."""
    periods = {
        months_period(months)
        for months in Requirement.objects.order_by()
        .values_list("every_months", flat=True)
        .distinct()
    }
    moments = {
        "opens": (Min("starts_at", filter=Q(starts_at__gt=now + CHECKIN_LEAD)), -CHECKIN_LEAD),
        "starts": (Min("starts_at", filter=Q(starts_at__gt=now)), timedelta(0)),
        "ends": (Min("ends_at", filter=Q(ends_at__gt=now)), timedelta(0)),
    }
    for number, length in enumerate(sorted(periods)):
        first = Min("starts_at", filter=Q(starts_at__gt=now - length))
        moments[f"runs_out_{number}"] = (first, length)
    found = Session.objects.aggregate(**{name: first for name, (first, _) in moments.items()})
    upcoming = [found[name] + shift for name, (_, shift) in moments.items() if found[name]]
    return min(upcoming, default=None)
