"""Briefing sessions and bookings built the way people build them: through the services."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from training import services
from training.models import Booking, Session, Topic


def topic(name: str = "Social media basics") -> Topic:
    return Topic.objects.get_or_create(name=name)[0]


def schedule(
    by,
    *,
    presenter=None,
    starts_in: timedelta = timedelta(days=7),
    starts_at: datetime | None = None,
    minutes: int = 60,
    capacity: int = 10,
    title: str = "Social media lunch briefing",
    time_zone: str = "Europe/London",
    **fields,
) -> Session:
    """A session scheduled by `by` (a policy admin): a week ahead and an hour long unless
    told; `starts_in` may be negative for one that has begun or ended."""
    starts_at = starts_at or timezone.now() + starts_in
    fields.setdefault("room", "Room 4.01")
    fields.setdefault("topic", topic())
    return services.create_session(
        by=by,
        title=title,
        presenter=presenter or by,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        time_zone=time_zone,
        capacity=capacity,
        **fields,
    )


def book_all(session: Session, people, **fields) -> list[Booking]:
    return [services.book(session=session, person=person, **fields) for person in people]


def attend(session: Session, person) -> Booking:
    """`person` checks in with the code, at the start (works for a session in the past)."""
    return services.check_in(
        session=session, person=person, code=session.checkin_code, now=session.starts_at
    )


def held_session(topic: Topic, presenter, *, starts_at: datetime) -> Session:
    """A session that took place, made directly: the services schedule only ahead, and
    the past is fixed."""
    return Session.objects.create(
        title=f"{topic.name} briefing",
        topic=topic,
        presenter=presenter,
        organiser=presenter,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        time_zone="Europe/London",
        room="Room 1",
        capacity=500,
        status=Session.Status.COMPLETED,
    )


def upcoming_session(
    topic: Topic, presenter, *, days: int = 7, title: str = "Social media lunch briefing"
) -> Session:
    """A scheduled session `days` ahead, made directly (no capacity or mail to mind)."""
    starts_at = timezone.now() + timedelta(days=days)
    return Session.objects.create(
        title=title,
        topic=topic,
        presenter=presenter,
        organiser=presenter,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        time_zone="Europe/London",
        room="Room 2",
        capacity=500,
    )


def seat(session: Session, person) -> Booking:
    """`person` has a seat on `session` (a booking made directly)."""
    return Booking.objects.create(
        session=session,
        person=person,
        status=Booking.Status.BOOKED,
        booked_by=person,
        booked_at=timezone.now(),
    )


def attended(session: Session, person) -> Booking:
    """`person` was there (a booking made directly, for a session in the past)."""
    return Booking.objects.create(
        session=session,
        person=person,
        status=Booking.Status.ATTENDED,
        booked_by=person,
        booked_at=session.starts_at - timedelta(days=3),
    )
