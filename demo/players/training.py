"""Plays the briefings demo (demo/training.json) through the training services.

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
  (the story's `keenness`), so coverage differs by department and grows over the months.
  The demo manager attended the latest one; its two no-shows were marked absent when it
  was completed and offered a make-up session.
- Upcoming: a drop-in later today (check-in opens 15 minutes before), a full session next
  week with a waitlist (someone cancelled and the first waiting was promoted), one nearly
  full and one online with plenty of seats.

Every service is given the moment it happened (`now=`), so bookings, check-ins,
promotions and reminders are what the app itself would have made. The history is created
once; upcoming sessions are added again only when none is left, so a second run
duplicates nothing and a demo started weeks later still has sessions.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from demo.players import load_story, share
from people import audience
from people.models import User
from policies.models import Policy
from training import compliance, services
from training.models import Booking, Requirement, Session, Topic, TrainingError

STORY = load_story("training")
BASICS, MISTAKES = STORY["topics"]
REQUIREMENT = STORY["requirement"]["name"]
ROOM = STORY["room"]
SOCIAL_MEDIA_POLICY = STORY["policy"]


def _on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


class _Programme:
    """The people, topics and policy the demo sessions are made of, and the steps that
    tell them."""

    def __init__(self, story: dict, now: datetime) -> None:
        self.story = story
        self.zone = ZoneInfo(story["zone"])
        self.now = now
        self.today = timezone.localdate(now, self.zone)
        self.people = list(
            User.objects.filter(is_active=True)
            .select_related("manager", "department")
            .order_by("email")
        )
        self.users = {person.email: person for person in self.people}
        self.organiser = self.users[story["organiser"]]
        self.topics = {
            name: Topic.objects.get_or_create(name=name, defaults={"description": text})[0]
            for name, text in story["topics"].items()
        }
        self.policies = list(Policy.objects.filter(title=story["policy"]))
        self.created = 0

    def lunchtime(self, day: date) -> datetime:
        hour, minute = (int(part) for part in self.story["lunchtime"].split(":"))
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone)

    # --- sessions ---------------------------------------------------------------

    def create(self, spec: dict, *, starts_at: datetime, created_at: datetime) -> Session:
        # Lunch is ordered at noon two days before.
        lunch = spec.get("lunch", True)
        cutoff_day = timezone.localtime(starts_at, self.zone).date() - timedelta(days=2)
        cutoff = datetime.combine(cutoff_day, time(12), tzinfo=self.zone) if lunch else None
        session = services.create_session(
            by=self.organiser,
            title=spec.get("title", spec["topic"]),
            topic=self.topics[spec["topic"]],
            presenter=self.users[spec.get("presenter", self.story["presenter"])],
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=45),
            time_zone=self.story["zone"],
            capacity=spec.get("capacity", 12),
            room=spec.get("room", self.story["room"]),
            online_url=self.story["online_url"] if spec.get("online") else "",
            lunch_cutoff=cutoff,
            policies=self.policies,
            now=created_at,
        )
        self.created += 1
        return session

    def lunch_choice(self, person: User) -> tuple[str, str]:
        choice = share(person.email, "lunch")
        if choice < 0.55:
            lunch = Booking.Lunch.STANDARD
        elif choice < 0.8:
            lunch = Booking.Lunch.VEGETARIAN
        elif choice < 0.9:
            lunch = Booking.Lunch.VEGAN
        else:
            lunch = Booking.Lunch.NONE
        needs = share(person.email, "dietary")
        dietary_list = self.story["dietary"]
        dietary = dietary_list[int(needs * 100) % len(dietary_list)] if needs < 0.15 else ""
        return lunch, dietary if lunch != Booking.Lunch.NONE else ""

    def book_all(self, session: Session, people: list[User], *, start: datetime, end: datetime):
        """Bookings in this order, spread between `start` and `end`. Managers book for
        some of their reports, and the organiser for one person."""
        step = (end - start) / max(len(people), 1)
        for index, person in enumerate(people):
            by = person
            if person.manager and share(person.email, "on-behalf") < 0.1:
                by = person.manager
            elif index == 2:
                by = self.organiser
            lunch, dietary = self.lunch_choice(person)
            services.book(
                session=session,
                person=person,
                by=by,
                lunch=lunch,
                dietary_needs=dietary,
                now=start + step * index,
            )

    def cancel_one(self, session: Session, *, at: datetime, salt: str) -> None:
        """Someone booked cannot come after all: the first on the waitlist gets the seat."""
        booked = session.bookings.filter(status=Booking.Status.BOOKED).select_related("person")
        leaving = min(booked, key=lambda b: share(b.person.email, f"{salt}-cancel"))
        services.cancel_booking(booking=leaving, by=leaving.person, now=at)

    def take_place(self, session: Session, attendance: dict, *, salt: str) -> None:
        """The session happens: self check-in with the code, the presenter's roster for
        the rest, completion (anyone left only booked is a no-show) and feedback."""
        presenter = session.presenter
        demo_accounts = (self.story["demo_employee"], self.story["demo_manager"])
        # The demo accounts came: their story depends on it.
        booked = sorted(
            session.bookings.filter(status=Booking.Status.BOOKED).select_related("person"),
            key=lambda b: (
                b.person.email in demo_accounts,
                share(b.person.email, f"{salt}-attendance"),
            ),
        )
        no_shows = attendance.get("no_shows", 0)
        left_booked = booked[:no_shows]
        rest = booked[no_shows:]
        marks: dict[int, str] = {}
        for status in (Booking.Status.ABSENT, Booking.Status.EXCUSED, Booking.Status.LATE):
            count = attendance[status]
            for booking in rest[:count]:
                marks[booking.pk] = status
            rest = rest[count:]
        self_checkins = [b for b in rest if share(b.person.email, f"{salt}-code") < 0.6]
        for booking in rest:
            if booking not in self_checkins:
                marks[booking.pk] = Booking.Status.ATTENDED
        for minute, booking in enumerate(self_checkins):
            at = session.starts_at - timedelta(minutes=8) + timedelta(minutes=minute)
            if attendance.get("wrong_code") and minute == 0:
                with transaction.atomic():
                    try:  # a typo first; the attempt is kept
                        services.check_in(
                            session=session,
                            person=booking.person,
                            code=self.story["wrong_code"],
                            now=at - timedelta(seconds=40),
                        )
                    except TrainingError:
                        pass
            services.check_in(
                session=session,
                person=booking.person,
                code=session.checkin_code.lower(),
                now=at,
            )
        services.mark_attendance(
            session=session, by=presenter, marks=marks, now=session.ends_at - timedelta(minutes=5)
        )
        services.complete_session(
            session=session, by=presenter, now=session.ends_at + timedelta(minutes=20)
        )
        self.feedback(session, booked, left_booked, marks, salt=salt)

    def feedback(self, session: Session, booked, left_booked, marks, *, salt: str) -> None:
        comments = self.story["comments"]
        present = [b for b in booked if b not in left_booked and marks.get(b.pk) != "absent"]
        for index, booking in enumerate(present):
            rating = share(booking.person.email, f"{salt}-feedback")
            if rating >= 0.5 or marks.get(booking.pk) == Booking.Status.EXCUSED:
                continue
            booking.refresh_from_db(fields=["status"])
            services.leave_feedback(
                booking=booking,
                person=booking.person,
                rating=5 if rating < 0.3 else 4 if rating < 0.45 else 3,
                comment=comments[index % len(comments)],
                now=session.ends_at + timedelta(hours=20, minutes=index * 7),
            )

    # --- the story --------------------------------------------------------------

    def pick(self, pool: list[User], count: int, salt: str, *, first=()) -> list[User]:
        """`count` people of the pool, the same every run; some departments are keener."""
        chosen = [self.users[email] for email in first]
        keenness = self.story["keenness"]

        def order(person: User) -> float:
            weight = keenness.get(person.department.name if person.department else "", 1.0)
            return share(person.email, salt) / weight

        others = sorted((p for p in pool if p.email not in first), key=order)
        return chosen + others[: count - len(chosen)]

    def history(self) -> None:
        # The presenters attend each other's session rather than their own.
        demo_accounts = (self.story["demo_employee"], self.story["demo_manager"])
        everyone = [p for p in self.people if p.email not in demo_accounts]
        attended: set[str] = set()  # booked on a session this year: not booked again
        for spec in self.story["history"]:
            if spec.get("new_year"):
                attended.clear()  # last year's attendees are due again too
            presenter = spec.get("presenter", self.story["presenter"])
            pool = [p for p in everyone if p.email != presenter and p.email not in attended]
            people = self.pick(pool, spec["count"], spec["salt"], first=spec.get("first", ()))
            day = _on_or_after(self.today - timedelta(days=spec["days_ago"]), spec["weekday"])
            starts = self.lunchtime(day)
            session = self.create(spec, starts_at=starts, created_at=starts - timedelta(days=30))
            self.book_all(
                session, people, start=starts - timedelta(days=24), end=starts - timedelta(days=3)
            )
            attended.update(p.email for p in people)
            if "cancel_days_before" in spec:
                at = session.starts_at - timedelta(days=spec["cancel_days_before"])
                self.cancel_one(session, at=at, salt=spec["salt"])
            self.take_place(session, spec["attendance"], salt=spec["salt"])

    def starts_at(self, spec: dict) -> datetime:
        if spec.get("later_today"):
            # Later today, so that check-in (from 15 minutes before the start) can be shown.
            soon = self.now.astimezone(self.zone) + timedelta(minutes=30)
            return soon.replace(minute=soon.minute - soon.minute % 15, second=0, microsecond=0)
        day = _on_or_after(self.today + timedelta(days=spec["in_days"]), spec["weekday"])
        return self.lunchtime(day)

    def upcoming(self) -> None:
        requirement = Requirement.objects.get(name=self.story["requirement"]["name"])
        required = compliance.still_required_ids(requirement, now=self.now)
        # Nobody books for the demo employee: booking is hers to do in the demo.
        employee = self.story["demo_employee"]
        pool = [p for p in self.people if p.pk in required and p.email != employee]
        for spec in self.story["upcoming"]:
            people = self.pick(pool, spec["count"], spec["salt"])
            session = self.create(
                spec, starts_at=self.starts_at(spec), created_at=self.now - timedelta(days=14)
            )
            self.book_all(
                session,
                people,
                start=self.now - timedelta(days=12),
                end=self.now - timedelta(hours=2),
            )
            for person in people:
                pool.remove(person)
            if "cancel_hours_ago" in spec:
                # Full, with a waitlist: one person cancelled and the first waiting moved up.
                at = self.now - timedelta(hours=spec["cancel_hours_ago"])
                self.cancel_one(session, at=at, salt=spec["salt"])


@transaction.atomic
def seed_demo_training(*, now: datetime | None = None, story: dict | None = None) -> dict[str, int]:
    """Create the demo requirement, topics and sessions; running it again duplicates
    nothing, and only tops up upcoming sessions when none is left."""
    now = now or timezone.now()
    programme = _Programme(story or STORY, now)
    spec = programme.story["requirement"]
    requirement, created = Requirement.objects.get_or_create(
        name=spec["name"],
        defaults={
            "audience": audience.EVERYONE,
            "every_months": spec["every_months"],
            "new_joiners_within_days": spec["new_joiners_within_days"],
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
