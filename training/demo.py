"""The demo briefing programme that `manage.py seed_demo` adds (never in production).

A yearly "Social media lunch briefing" for all staff (new joiners within 30 days), met by
attending "Social media basics" or "Handling a mistake online". Chloe Summers
(Communications) presents, Priya Shah (policy admin) organises, Hannah Brooks (HR)
presents the session on mistakes. The sessions cover the social media policy.

- Last year's round, twelve and thirteen months ago: the demo employee attended it, so
  her briefing is due again and she has not booked yet; the others' lapse this month and
  last, so coverage dips at the end of the year.
- Sessions through the last twelve months with their attendance: most came (some
  checked in with the code, the presenter marked the rest), some late, a few no-shows
  and one excused, feedback afterwards. Some departments come more readily than others
  (Communications and Policy & Compliance more, Engineering less), so coverage differs
  by department and grows over the months. The demo manager attended the latest one;
  its two no-shows were marked absent when it was completed and offered a make-up
  session.
- Upcoming: a drop-in later today (check-in opens 15 minutes before), a full session next
  week with a waitlist (someone cancelled and the first waiting was promoted), one nearly
  full and one online with plenty of seats.

Everything goes through the services with their clock set to when it happened, so
bookings, check-ins, promotions and reminders are what the app itself would have made.
The history is created once; upcoming sessions are added again only when none is left,
so a second run duplicates nothing and a demo started weeks later still has sessions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from people import audience
from people.models import User
from policies.models import Policy
from training import compliance, services
from training.models import Booking, Requirement, Session, Topic, TrainingError

ZONE = "Europe/London"
ROOM = "Atrium, 2nd floor"
ONLINE = "https://meet.example.com/policyhub-briefing"
PRESENTER = "comms@example.com"  # Chloe Summers
HR_PRESENTER = "hr@example.com"  # Hannah Brooks
ORGANISER = "policyadmin@example.com"  # Priya Shah
DEMO_EMPLOYEE = "employee@example.com"
DEMO_MANAGER = "manager@example.com"
SOCIAL_MEDIA_POLICY = "Social media policy"

REQUIREMENT = "Social media lunch briefing"
BASICS = "Social media basics"
MISTAKES = "Handling a mistake online"
TOPICS = {
    BASICS: "What you may say about work in public, what stays confidential, and how a "
    "personal account differs from an official one. Forty-five minutes, with lunch.",
    MISTAKES: "What to do when a post goes wrong: take it down, report it yourself, and "
    "how we fix what made the mistake easy to make. Forty-five minutes, with lunch.",
}

# How readily each department comes to a briefing (1 is average): coverage differs.
KEENNESS = {
    "Communications": 1.8,
    "Policy & Compliance": 1.8,
    "HR & Legal": 1.4,
    "Customer Support": 1.2,
    "Sales": 1.0,
    "Finance": 0.9,
    "Executive": 0.8,
    "Engineering": 0.6,
}

DIETARY = ("No nuts, please", "Gluten free", "Halal", "Lactose free", "Pescatarian")
COMMENTS = (
    "Useful examples, especially the screenshots one.",
    "Clear and short. More time for questions next time, please.",
    "I didn't know we could report our own mistakes so easily.",
    "Good session; the quiz at the end was fun.",
    "",
)


def _share(email: str, salt: str) -> float:
    """A stable number in [0, 1) per person and purpose: the same people every run."""
    digest = hashlib.sha256(f"{salt}:{email}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000


@contextmanager
def _clock(at: datetime) -> Iterator[None]:
    """The services' clock (and the reminders they plan) at `at`, when it happened."""
    with mock.patch.object(timezone, "now", return_value=at):
        yield


def _on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _lunchtime(day: date) -> datetime:
    return datetime.combine(day, time(12, 30), tzinfo=ZoneInfo(ZONE))


def _lunch_choice(person: User) -> tuple[str, str]:
    share = _share(person.email, "lunch")
    if share < 0.55:
        lunch = Booking.Lunch.STANDARD
    elif share < 0.8:
        lunch = Booking.Lunch.VEGETARIAN
    elif share < 0.9:
        lunch = Booking.Lunch.VEGAN
    else:
        lunch = Booking.Lunch.NONE
    needs = _share(person.email, "dietary")
    dietary = DIETARY[int(needs * 100) % len(DIETARY)] if needs < 0.15 else ""
    return lunch, dietary if lunch != Booking.Lunch.NONE else ""


class _Programme:
    """The people, topics and policy the demo sessions are made of."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.today = timezone.localdate(now, ZoneInfo(ZONE))
        self.people = list(
            User.objects.filter(is_active=True)
            .select_related("manager", "department")
            .order_by("email")
        )
        self.users = {person.email: person for person in self.people}
        self.organiser = self.users[ORGANISER]
        self.topics = {
            name: Topic.objects.get_or_create(name=name, defaults={"description": text})[0]
            for name, text in TOPICS.items()
        }
        self.policies = list(Policy.objects.filter(title=SOCIAL_MEDIA_POLICY))
        self.created = 0

    # --- sessions ---------------------------------------------------------------

    def create(
        self,
        *,
        topic: str,
        starts_at: datetime,
        minutes: int = 45,
        capacity: int = 12,
        room: str = ROOM,
        online_url: str = "",
        presenter: str = PRESENTER,
        title: str | None = None,
        lunch: bool = True,
        created_at: datetime,
    ) -> Session:
        # Lunch is ordered at noon two days before.
        cutoff_day = timezone.localtime(starts_at, ZoneInfo(ZONE)).date() - timedelta(days=2)
        cutoff = datetime.combine(cutoff_day, time(12), tzinfo=ZoneInfo(ZONE)) if lunch else None
        with _clock(created_at):
            session = services.create_session(
                by=self.organiser,
                title=title or topic,
                topic=self.topics[topic],
                presenter=self.users[presenter],
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                time_zone=ZONE,
                capacity=capacity,
                room=room,
                online_url=online_url,
                lunch_cutoff=cutoff,
                policies=self.policies,
            )
        self.created += 1
        return session

    def book_all(self, session: Session, people: list[User], *, start: datetime, end: datetime):
        """Bookings in this order, spread between `start` and `end`. Managers book for
        some of their reports, and the organiser for one person."""
        step = (end - start) / max(len(people), 1)
        for index, person in enumerate(people):
            by = person
            if person.manager and _share(person.email, "on-behalf") < 0.1:
                by = person.manager
            elif index == 2:
                by = self.organiser
            lunch, dietary = _lunch_choice(person)
            with _clock(start + step * index):
                services.book(
                    session=session, person=person, by=by, lunch=lunch, dietary_needs=dietary
                )

    def cancel_one(self, session: Session, *, at: datetime, salt: str) -> None:
        """Someone booked cannot come after all: the first on the waitlist gets the seat."""
        booked = session.bookings.filter(status=Booking.Status.BOOKED).select_related("person")
        leaving = min(booked, key=lambda b: _share(b.person.email, f"{salt}-cancel"))
        with _clock(at):
            services.cancel_booking(booking=leaving, by=leaving.person)

    def take_place(
        self,
        session: Session,
        *,
        absent: int,
        excused: int,
        late: int,
        no_shows: int = 0,
        wrong_code: bool = False,
        salt: str,
    ) -> None:
        """The session happens: self check-in with the code, the presenter's roster for
        the rest, completion (anyone left only booked is a no-show) and feedback."""
        presenter = session.presenter
        # The demo accounts came: their story depends on it.
        booked = sorted(
            session.bookings.filter(status=Booking.Status.BOOKED).select_related("person"),
            key=lambda b: (
                b.person.email in (DEMO_EMPLOYEE, DEMO_MANAGER),
                _share(b.person.email, f"{salt}-attendance"),
            ),
        )
        left_booked = booked[:no_shows]
        rest = booked[no_shows:]
        marks: dict[int, str] = {}
        for status, count in (
            (Booking.Status.ABSENT, absent),
            (Booking.Status.EXCUSED, excused),
            (Booking.Status.LATE, late),
        ):
            for booking in rest[:count]:
                marks[booking.pk] = status
            rest = rest[count:]
        self_checkins = [b for b in rest if _share(b.person.email, f"{salt}-code") < 0.6]
        for booking in rest:
            if booking not in self_checkins:
                marks[booking.pk] = Booking.Status.ATTENDED
        for minute, booking in enumerate(self_checkins):
            at = session.starts_at - timedelta(minutes=8) + timedelta(minutes=minute)
            if wrong_code and minute == 0:
                with _clock(at - timedelta(seconds=40)), transaction.atomic():
                    try:  # a typo first; the attempt is kept
                        services.check_in(session=session, person=booking.person, code="ABC123")
                    except TrainingError:
                        pass
            with _clock(at):
                services.check_in(
                    session=session, person=booking.person, code=session.checkin_code.lower()
                )
        with _clock(session.ends_at - timedelta(minutes=5)):
            services.mark_attendance(session=session, by=presenter, marks=marks)
        with _clock(session.ends_at + timedelta(minutes=20)):
            services.complete_session(session=session, by=presenter)
        present = [b for b in booked if b not in left_booked and marks.get(b.pk) != "absent"]
        for index, booking in enumerate(present):
            share = _share(booking.person.email, f"{salt}-feedback")
            if share >= 0.5 or marks.get(booking.pk) == Booking.Status.EXCUSED:
                continue
            booking.refresh_from_db(fields=["status"])
            with _clock(session.ends_at + timedelta(hours=20, minutes=index * 7)):
                services.leave_feedback(
                    booking=booking,
                    person=booking.person,
                    rating=5 if share < 0.3 else 4 if share < 0.45 else 3,
                    comment=COMMENTS[index % len(COMMENTS)],
                )

    # --- the story --------------------------------------------------------------

    def pick(self, pool: list[User], count: int, salt: str, *, first=()) -> list[User]:
        """`count` people of the pool, the same every run; some departments are keener."""
        chosen = [self.users[email] for email in first]

        def keenness(person: User) -> float:
            weight = KEENNESS.get(person.department.name if person.department else "", 1.0)
            return _share(person.email, salt) / weight

        others = sorted((p for p in pool if p.email not in first), key=keenness)
        return chosen + others[: count - len(chosen)]

    def history(self) -> None:
        # The presenters attend each other's session rather than their own.
        everyone = [p for p in self.people if p.email not in (DEMO_EMPLOYEE, DEMO_MANAGER)]
        attended: set[str] = set()  # booked on a session this year: not booked again

        def pool(presenter: str) -> list[User]:
            return [p for p in everyone if p.email != presenter and p.email not in attended]

        def past(day: date, count: int, salt: str, *, first=(), **session) -> Session:
            presenter = session.get("presenter", PRESENTER)
            people = self.pick(pool(presenter), count, salt, first=first)
            starts = _lunchtime(day)
            created = self.create(
                starts_at=starts, created_at=starts - timedelta(days=30), **session
            )
            self.book_all(
                created,
                people,
                start=starts - timedelta(days=24),
                end=starts - timedelta(days=3),
            )
            attended.update(p.email for p in people)
            return created

        # Last year's round: the demo employee came, so she is due again now.
        last_year = past(
            _on_or_after(self.today - timedelta(days=400), 3),
            11,
            "last-year",
            first=(DEMO_EMPLOYEE,),
            topic=BASICS,
            capacity=15,
        )
        self.take_place(last_year, absent=1, excused=0, late=1, salt="last-year")
        year_end = past(
            _on_or_after(self.today - timedelta(days=378), 1),
            6,
            "year-end",
            topic=MISTAKES,
            presenter=HR_PRESENTER,
        )
        self.take_place(year_end, absent=0, excused=0, late=1, salt="year-end")
        attended.clear()  # last year's attendees are due again too

        january = past(
            _on_or_after(self.today - timedelta(days=318), 3),
            5,
            "january",
            topic=MISTAKES,
            presenter=HR_PRESENTER,
        )
        self.take_place(january, absent=1, excused=0, late=0, salt="january")
        march = past(
            _on_or_after(self.today - timedelta(days=250), 1),
            4,
            "march",
            topic=BASICS,
        )
        self.take_place(march, absent=0, excused=0, late=1, salt="march")

        spring = past(
            _on_or_after(self.today - timedelta(days=155), 1),
            11,
            "spring",
            topic=BASICS,
            capacity=10,
        )
        self.cancel_one(spring, at=spring.starts_at - timedelta(days=2), salt="spring")
        self.take_place(spring, absent=1, excused=0, late=1, salt="spring")

        summer = past(
            _on_or_after(self.today - timedelta(days=90), 3),
            9,
            "summer",
            first=(PRESENTER,),
            topic=MISTAKES,
            presenter=HR_PRESENTER,
            online_url=ONLINE,
        )
        self.take_place(summer, absent=1, excused=1, late=2, wrong_code=True, salt="summer")

        september = past(
            _on_or_after(self.today - timedelta(days=62), 3),
            3,
            "september",
            topic=BASICS,
            online_url=ONLINE,
        )
        self.take_place(september, absent=1, excused=0, late=0, salt="september")

        autumn = past(
            _on_or_after(self.today - timedelta(days=35), 1),
            10,
            "autumn",
            first=(DEMO_MANAGER,),
            topic=BASICS,
        )
        self.take_place(autumn, absent=0, excused=0, late=1, no_shows=2, salt="autumn")

    def upcoming(self) -> None:
        requirement = Requirement.objects.get(name=REQUIREMENT)
        required = compliance.still_required_ids(requirement, now=self.now)
        # Nobody books for the demo employee: booking is hers to do in the demo.
        pool = [p for p in self.people if p.pk in required and p.email != DEMO_EMPLOYEE]
        booked_since = self.now - timedelta(days=12)
        booked_until = self.now - timedelta(hours=2)

        def plan(people: list[User], **session) -> Session:
            created = self.create(created_at=self.now - timedelta(days=14), **session)
            self.book_all(created, people, start=booked_since, end=booked_until)
            for person in people:
                pool.remove(person)
            return created

        # Next week: full, with a waitlist; one person cancelled and the first waiting
        # moved up, so two are still waiting.
        full = plan(
            self.pick(pool, 15, "next-week"),
            topic=BASICS,
            starts_at=_lunchtime(_on_or_after(self.today + timedelta(days=5), 1)),
        )
        self.cancel_one(full, at=self.now - timedelta(hours=1), salt="next-week")
        plan(
            self.pick(pool, 6, "in-two-weeks"),
            topic=MISTAKES,
            starts_at=_lunchtime(_on_or_after(self.today + timedelta(days=12), 3)),
            online_url=ONLINE,
        )
        # Later today, so that check-in (from 15 minutes before the start) can be shown.
        soon = self.now.astimezone(ZoneInfo(ZONE)) + timedelta(minutes=30)
        soon = soon.replace(minute=soon.minute - soon.minute % 15, second=0, microsecond=0)
        plan(
            self.pick(pool, 4, "today"),
            topic=BASICS,
            title=f"{BASICS}: drop-in",
            starts_at=soon,
            lunch=False,
            online_url=ONLINE,
        )
        plan(
            self.pick(pool, 3, "online"),
            topic=BASICS,
            title=f"{BASICS} (online)",
            starts_at=_lunchtime(_on_or_after(self.today + timedelta(days=19), 1)),
            room="",
            online_url=ONLINE,
            capacity=30,
        )


@transaction.atomic
def seed_demo_training(*, now: datetime | None = None) -> dict[str, int]:
    """Create the demo requirement, topics and sessions; running it again duplicates
    nothing, and only tops up upcoming sessions when none is left."""
    now = now or timezone.now()
    programme = _Programme(now)
    requirement, created = Requirement.objects.get_or_create(
        name=REQUIREMENT,
        defaults={
            "audience": audience.EVERYONE,
            "every_months": 12,
            "new_joiners_within_days": 30,
        },
    )
    if created:
        requirement.accepted_topics.set(programme.topics.values())
    demo_sessions = Session.objects.filter(topic__in=programme.topics.values())
    if not demo_sessions.filter(starts_at__lt=now).exists():
        programme.history()
    if not demo_sessions.filter(status=Session.Status.SCHEDULED, starts_at__gt=now).exists():
        programme.upcoming()
    return {
        "sessions": demo_sessions.count(),
        "created": programme.created,
        "upcoming": demo_sessions.filter(
            status=Session.Status.SCHEDULED, starts_at__gt=now
        ).count(),
        "bookings": Booking.objects.filter(session__in=demo_sessions).count(),
        "required": len(compliance.still_required_ids(requirement, now=now)),
        "audience": compliance.requirement_people(requirement).count(),
    }
