"""Sessions, series, bookings and the waitlist, check-in, the roster, completing a session
and feedback: every rule of the briefing programme and its refusals."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from notifications.models import Notification
from people import roles
from training import services
from training.models import Booking, CheckInAttempt, Feedback, Series, Session, Topic, TrainingError

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
BOOKED = Booking.Status.BOOKED
WAITLISTED = Booking.Status.WAITLISTED
CANCELLED = Booking.Status.CANCELLED
ATTENDED = Booking.Status.ATTENDED


@pytest.fixture
def topic(db):
    return Topic.objects.create(name="Social media")


@pytest.fixture
def presenter(make_person):
    return make_person(full_name="Pat Presenter", email="presenter@example.com")


def schedule(by, topic, presenter, *, starts_at=None, hours=1, capacity=10, **fields):
    """A session through the service: a week ahead, an hour long, unless told."""
    starts_at = starts_at or timezone.now() + timedelta(days=7)
    fields.setdefault("room", "Room 4.01")
    return services.create_session(
        by=by,
        title="Social media lunch briefing",
        topic=topic,
        presenter=presenter,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        time_zone="Europe/London",
        capacity=capacity,
        **fields,
    )


@pytest.fixture
def session(policy_admin, topic, presenter):
    return schedule(policy_admin, topic, presenter, capacity=2)


def planned(kind, **filters):
    return Notification.objects.filter(kind=kind, **filters)


def refresh(*objects):
    for obj in objects:
        obj.refresh_from_db()


# --- sessions -------------------------------------------------------------------


def test_a_policy_admin_schedules_a_session_with_a_check_in_code(policy_admin, topic, presenter):
    session = schedule(policy_admin, topic, presenter, online_url="https://meet.example.com/x")
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED
    assert session.organiser == policy_admin and session.presenter == presenter
    assert session.sequence == 0
    assert len(session.checkin_code) == 6 and session.checkin_code.isalnum()
    assert (session.room, session.online_url) == ("Room 4.01", "https://meet.example.com/x")


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "hr", "leader", "site_admin"])
def test_only_policy_admins_schedule_sessions(request, role, topic, presenter):
    with pytest.raises(TrainingError, match="Only policy admins can schedule briefings"):
        schedule(request.getfixturevalue(role), topic, presenter)
    assert not Session.objects.exists()


def test_a_session_must_end_after_it_starts(policy_admin, topic, presenter):
    with pytest.raises(TrainingError, match="must end after it starts"):
        schedule(policy_admin, topic, presenter, hours=0)
    with pytest.raises(TrainingError, match="must end after it starts"):
        schedule(policy_admin, topic, presenter, hours=-1)
    assert not Session.objects.exists()


def test_a_session_needs_a_room_or_an_online_link(policy_admin, topic, presenter):
    with pytest.raises(TrainingError, match="Give a room, an online link, or both"):
        schedule(policy_admin, topic, presenter, room="")
    online = schedule(
        policy_admin, topic, presenter, room="", online_url="https://meet.example.com"
    )
    assert online.room == "" and online.online_url


@pytest.mark.parametrize("zone", ["Europe/Londres", "Mars/Olympus_Mons", "", "../../etc/passwd"])
def test_an_unknown_time_zone_is_refused(policy_admin, topic, presenter, zone):
    start = timezone.now() + timedelta(days=3)
    with pytest.raises(TrainingError, match="is not a known time zone"):
        services.create_session(
            by=policy_admin,
            title="Briefing",
            topic=topic,
            presenter=presenter,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            time_zone=zone,
            capacity=5,
            room="Room 1",
        )
    assert not Session.objects.exists()


def test_a_session_needs_a_seat(policy_admin, topic, presenter):
    with pytest.raises(TrainingError, match="at least one seat"):
        schedule(policy_admin, topic, presenter, capacity=0)


def local_times(sessions):
    return [(s.starts_at.astimezone(LONDON), s.ends_at.astimezone(LONDON)) for s in sessions]


@pytest.mark.parametrize(
    ("pattern", "first", "dates"),
    [
        # The clocks go back in London on Sunday 25 October 2026 (BST → GMT).
        ("weekly", (2026, 10, 13), ["2026-10-13", "2026-10-20", "2026-10-27", "2026-11-03"]),
        ("fortnightly", (2026, 10, 6), ["2026-10-06", "2026-10-20", "2026-11-03", "2026-11-17"]),
        # Monthly keeps the day of the month, or the month's last day when it is shorter.
        ("monthly", (2026, 8, 31), ["2026-08-31", "2026-09-30", "2026-10-31", "2026-11-30"]),
    ],
)
def test_a_series_keeps_the_local_time_across_the_clocks_going_back(
    policy_admin, topic, presenter, pattern, first, dates
):
    starts_at = datetime(*first, 12, 30, tzinfo=LONDON)
    sessions = services.create_series(
        by=policy_admin,
        pattern=pattern,
        count=4,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        time_zone="Europe/London",
        title="Social media lunch briefing",
        topic=topic,
        presenter=presenter,
        capacity=20,
        room="Auditorium",
        lunch_cutoff=starts_at - timedelta(days=2),
    )
    sessions = list(Session.objects.filter(pk__in=[s.pk for s in sessions]))
    assert [f"{s.starts_at.astimezone(LONDON):%Y-%m-%d}" for s in sessions] == dates
    for start, end in local_times(sessions):
        assert (start.hour, start.minute, end.hour, end.minute) == (12, 30, 13, 15)
    utc_hours = [s.starts_at.astimezone(UTC).hour for s in sessions]
    assert utc_hours == [11, 11, 12, 12]  # BST is UTC+1, GMT is UTC
    # Each session's lunch order closes the same time before it.
    assert {s.starts_at - s.lunch_cutoff for s in sessions} == {timedelta(days=2)}
    series = Series.objects.get()
    assert (series.pattern, series.count, series.created_by) == (pattern, 4, policy_admin)
    assert {s.series_id for s in sessions} == {series.pk}


def test_a_series_is_all_or_nothing(policy_admin, employee, topic, presenter):
    start = timezone.now() + timedelta(days=1)
    common = {
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
        "time_zone": "Europe/London",
        "title": "Briefing",
        "topic": topic,
        "presenter": presenter,
        "capacity": 10,
        "room": "Room 1",
    }
    with pytest.raises(TrainingError, match="Only policy admins"):
        services.create_series(by=employee, pattern="weekly", count=3, **common)
    with pytest.raises(TrainingError, match="weekly, every second week or monthly"):
        services.create_series(by=policy_admin, pattern="daily", count=3, **common)
    with pytest.raises(TrainingError, match="between 1 and 52"):
        services.create_series(by=policy_admin, pattern="weekly", count=0, **common)
    with pytest.raises(TrainingError, match="Give a room"):
        services.create_series(by=policy_admin, pattern="weekly", count=3, **{**common, "room": ""})
    assert not Series.objects.exists() and not Session.objects.exists()


def test_changing_time_or_place_raises_the_sequence_and_tells_everyone_booked_or_waiting(
    policy_admin, session, make_person
):
    booked = [make_person(), make_person()]
    waiting = make_person()
    gone = make_person()
    bookings = [services.book(session=session, person=p) for p in [*booked, waiting]]
    gone_booking = services.book(session=session, person=gone)
    services.cancel_booking(booking=gone_booking, by=gone)
    assert bookings[2].status == WAITLISTED

    later = session.starts_at + timedelta(hours=2)
    services.change_session(
        session=session, by=policy_admin, starts_at=later, ends_at=later + timedelta(hours=1)
    )
    session.refresh_from_db()
    assert session.sequence == 1 and session.starts_at == later
    changed = planned("training-session-changed", stage="changed-1")
    assert set(changed.values_list("recipient_id", flat=True)) == {p.pk for p in [*booked, waiting]}
    assert set(changed.values_list("subject_id", flat=True)) == {b.pk for b in bookings}

    services.change_session(session=session, by=policy_admin, room="Room 2.10")
    session.refresh_from_db()
    assert (session.sequence, session.room) == (2, "Room 2.10")
    assert planned("training-session-changed", stage="changed-2").count() == 3
    assert {b.invite_sequence for b in Booking.objects.filter(pk__in=[b.pk for b in bookings])} == {
        2
    }


def test_changing_nothing_keeps_the_sequence(policy_admin, session, employee):
    services.book(session=session, person=employee)
    services.change_session(session=session, by=policy_admin, room=session.room)
    session.refresh_from_db()
    assert session.sequence == 0
    assert not planned("training-session-changed").exists()


def test_change_refusals(policy_admin, presenter, session):
    with pytest.raises(TrainingError, match="Only policy admins can change"):
        services.change_session(session=session, by=presenter, room="Elsewhere")
    with pytest.raises(TrainingError, match="must end after it starts"):
        services.change_session(session=session, by=policy_admin, ends_at=session.starts_at)
    with pytest.raises(TrainingError, match="Give a room"):
        services.change_session(session=session, by=policy_admin, room="", online_url="")
    services.cancel_session(session=session, by=policy_admin)
    with pytest.raises(TrainingError, match="This session is cancelled"):
        services.change_session(session=session, by=policy_admin, room="Elsewhere")
    session.refresh_from_db()
    assert session.room == "Room 4.01"


def test_cancelling_a_session_cancels_every_booking_and_tells_everyone(
    policy_admin, session, make_person
):
    people = [make_person() for _ in range(3)]
    for person in people:
        services.book(session=session, person=person)
    services.cancel_session(session=session, by=policy_admin, reason=" The presenter is ill. ")
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    assert session.cancelled_reason == "The presenter is ill."
    assert session.sequence == 1
    bookings = Booking.objects.filter(session=session)
    assert set(bookings.values_list("status", flat=True)) == {CANCELLED}
    assert not bookings.filter(waitlist_position__isnull=False).exists()
    assert not bookings.filter(cancelled_at__isnull=True).exists()
    told = planned("training-session-cancelled", stage="cancelled-1")
    assert set(told.values_list("recipient_id", flat=True)) == {p.pk for p in people}


def test_cancel_session_refusals(policy_admin, presenter, session):
    with pytest.raises(TrainingError, match="Only policy admins can cancel"):
        services.cancel_session(session=session, by=presenter)
    services.cancel_session(session=session, by=policy_admin)
    with pytest.raises(TrainingError, match="already cancelled"):
        services.cancel_session(session=session, by=policy_admin)


# --- booking ----------------------------------------------------------------------


def test_booking_takes_a_seat_and_plans_the_confirmation(session, employee):
    booking = services.book(
        session=session, person=employee, lunch="vegan", dietary_needs="  No nuts  "
    )
    booking.refresh_from_db()
    assert booking.status == BOOKED and booking.waitlist_position is None
    assert (booking.lunch, booking.dietary_needs) == ("vegan", "No nuts")
    assert booking.booked_by == employee and not booking.lunch_not_guaranteed
    confirmed = planned("training-booking-confirmed").get()
    assert (confirmed.recipient_id, confirmed.subject_id) == (employee.pk, booking.pk)


def test_a_full_session_puts_people_on_the_waitlist_in_order(session, make_person):
    people = [make_person() for _ in range(5)]
    bookings = [services.book(session=session, person=p) for p in people]
    assert [b.status for b in bookings] == [BOOKED, BOOKED, WAITLISTED, WAITLISTED, WAITLISTED]
    assert [b.waitlist_position for b in bookings] == [None, None, 1, 2, 3]
    # Only a seat is confirmed (with an invite); the waitlist is not.
    assert planned("training-booking-confirmed").count() == 2


def test_an_unknown_lunch_choice_is_refused(session, employee):
    with pytest.raises(TrainingError, match="Choose a lunch option"):
        services.book(session=session, person=employee, lunch="steak")


def test_nobody_is_booked_twice(session, make_person, employee):
    services.book(session=session, person=employee)
    with pytest.raises(TrainingError, match="You are already booked for this session"):
        services.book(session=session, person=employee)
    services.book(session=session, person=make_person())  # the last seat
    waiting = make_person(full_name="Wanda Waiting")
    services.book(session=session, person=waiting)
    with pytest.raises(TrainingError, match="already on the waitlist"):
        services.book(session=session, person=waiting)
    assert Booking.objects.filter(session=session).count() == 3


def test_no_booking_of_a_started_or_past_session(session, employee):
    with pytest.raises(TrainingError, match="already started"):
        services.book(session=session, person=employee, now=session.starts_at)
    with pytest.raises(TrainingError, match="already started"):
        services.book(session=session, person=employee, now=session.ends_at + timedelta(days=1))
    assert services.book(
        session=session, person=employee, now=session.starts_at - timedelta(minutes=1)
    )


def test_no_booking_of_a_cancelled_or_completed_session(
    policy_admin, topic, presenter, session, employee
):
    services.cancel_session(session=session, by=policy_admin)
    with pytest.raises(TrainingError, match="has been cancelled"):
        services.book(session=session, person=employee)
    other = schedule(policy_admin, topic, presenter)
    services.complete_session(session=other, by=presenter, now=other.starts_at)
    with pytest.raises(TrainingError, match="already started"):
        services.book(session=other, person=employee, now=other.starts_at - timedelta(days=1))
    assert not Booking.objects.filter(person=employee).exists()


def test_booking_after_the_lunch_cut_off_is_marked_lunch_not_guaranteed(
    policy_admin, topic, presenter, make_person
):
    start = timezone.now() + timedelta(days=3)
    session = schedule(
        policy_admin, topic, presenter, starts_at=start, lunch_cutoff=start - timedelta(days=1)
    )
    early = services.book(session=session, person=make_person(), now=start - timedelta(days=2))
    late = services.book(session=session, person=make_person(), now=start - timedelta(hours=2))
    assert not early.lunch_not_guaranteed
    assert late.lunch_not_guaranteed and late.status == BOOKED


def test_cancelling_frees_the_seat_for_the_first_on_the_waitlist(session, make_person):
    people = [make_person() for _ in range(4)]
    bookings = [services.book(session=session, person=p) for p in people]
    services.cancel_booking(booking=bookings[0], by=people[0])
    refresh(*bookings)
    assert bookings[0].status == CANCELLED and bookings[0].cancelled_at is not None
    assert bookings[0].sequence == 1
    assert (bookings[2].status, bookings[2].waitlist_position) == (BOOKED, None)
    assert (bookings[3].status, bookings[3].waitlist_position) == (WAITLISTED, 2)
    assert Booking.objects.filter(session=session, status=BOOKED).count() == 2
    promoted = planned("training-booking-promoted").get()
    assert (promoted.recipient_id, promoted.subject_id) == (people[2].pk, bookings[2].pk)
    withdrawn = planned("training-booking-cancelled").get()
    assert withdrawn.recipient_id == people[0].pk


def test_promotion_happens_in_the_cancelling_transaction(session, make_person, monkeypatch):
    """If telling the promoted person fails, the cancellation is undone with it."""
    people = [make_person() for _ in range(3)]
    bookings = [services.book(session=session, person=p) for p in people]
    real_notify = services.notify

    def failing_notify(**kwargs):
        if kwargs["kind"] == "training-booking-promoted":
            raise RuntimeError("outbox unavailable")
        return real_notify(**kwargs)

    monkeypatch.setattr(services, "notify", failing_notify)
    with pytest.raises(RuntimeError):
        services.cancel_booking(booking=bookings[0], by=people[0])
    refresh(*bookings)
    assert [b.status for b in bookings] == [BOOKED, BOOKED, WAITLISTED]


def test_leaving_the_waitlist_promotes_nobody(session, make_person):
    people = [make_person() for _ in range(4)]
    bookings = [services.book(session=session, person=p) for p in people]
    services.cancel_booking(booking=bookings[2], by=people[2])
    refresh(*bookings)
    assert [b.status for b in bookings] == [BOOKED, BOOKED, CANCELLED, WAITLISTED]
    assert bookings[2].waitlist_position is None
    assert not planned("training-booking-promoted").exists()
    assert not planned("training-booking-cancelled").exists()


def test_a_booking_can_be_cancelled_until_the_start_only(session, employee):
    booking = services.book(session=session, person=employee)
    with pytest.raises(TrainingError, match="has started"):
        services.cancel_booking(booking=booking, by=employee, now=session.starts_at)
    services.cancel_booking(
        booking=booking, by=employee, now=session.starts_at - timedelta(seconds=1)
    )
    with pytest.raises(TrainingError, match="not active"):
        services.cancel_booking(booking=booking, by=employee)


def test_nobody_cancels_another_persons_booking(session, employee, outsider, manager):
    booking = services.book(session=session, person=employee)
    with pytest.raises(TrainingError, match="your own bookings"):
        services.cancel_booking(booking=booking, by=outsider)
    services.cancel_booking(booking=booking, by=manager)  # their line manager may
    booking.refresh_from_db()
    assert booking.status == CANCELLED


def test_booking_again_after_cancelling_reuses_the_booking_with_a_newer_invite(session, employee):
    first = services.book(session=session, person=employee)
    services.cancel_booking(booking=first, by=employee)
    again = services.book(session=session, person=employee, lunch="vegetarian")
    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.uid == first.uid  # the same calendar event, updated
    assert (again.status, again.cancelled_at, again.lunch) == (BOOKED, None, "vegetarian")
    assert again.sequence == 2 and again.invite_sequence == 2
    stages = set(planned("training-booking-confirmed").values_list("stage", flat=True))
    assert stages == {"confirmed-0", "confirmed-2"}


def test_a_line_manager_books_for_a_direct_report(session, employee, manager):
    booking = services.book(session=session, person=employee, by=manager)
    assert booking.person == employee and booking.booked_by == manager
    assert planned("training-booking-confirmed", recipient=employee).exists()


def test_a_line_manager_cannot_book_for_someone_elses_report(
    session, make_person, manager, employee
):
    other_manager = make_person(full_name="Other Manager")
    their_report = make_person(manager=other_manager)
    with pytest.raises(TrainingError, match="line managers for their reports"):
        services.book(session=session, person=their_report, by=manager)
    with pytest.raises(TrainingError, match="line managers for their reports"):
        services.book(session=session, person=employee, by=their_report)
    assert not Booking.objects.exists()


@pytest.mark.parametrize("role", ["comms", "hr", "leader", "outsider", "site_admin"])
def test_other_roles_cannot_book_for_someone_else(request, session, employee, role):
    with pytest.raises(TrainingError, match="line managers for their reports"):
        services.book(session=session, person=employee, by=request.getfixturevalue(role))


def test_a_policy_admin_books_for_anyone(session, policy_admin, make_person):
    person = make_person()
    booking = services.book(session=session, person=person, by=policy_admin)
    assert booking.booked_by == policy_admin and booking.person == person


def test_nobody_books_for_someone_who_has_left(session, policy_admin, make_person):
    leaver = make_person(is_active=False)
    with pytest.raises(TrainingError, match="no longer in the directory"):
        services.book(session=session, person=leaver, by=policy_admin)


# --- check-in -------------------------------------------------------------------


@pytest.fixture
def running(policy_admin, topic, presenter):
    """A session at 12:00–13:00 London time, with the clock controlled through `now=`."""
    start = datetime(2026, 10, 27, 12, 0, tzinfo=LONDON)
    return schedule(policy_admin, topic, presenter, starts_at=start, capacity=3)


def booked_on(session, person):
    """A booking made while the session was still in the future."""
    return services.book(session=session, person=person, now=session.starts_at - timedelta(days=1))


def test_check_in_opens_fifteen_minutes_before_the_start_and_closes_at_the_end(
    running, make_person
):
    people = [make_person() for _ in range(3)]
    for person in people:
        booked_on(running, person)
    code = running.checkin_code
    with pytest.raises(TrainingError, match="opens 15 minutes before the start"):
        services.check_in(
            session=running,
            person=people[0],
            code=code,
            now=running.starts_at - timedelta(minutes=16),
        )
    opens = running.starts_at - timedelta(minutes=15)
    assert services.check_in(session=running, person=people[0], code=code, now=opens).status == (
        ATTENDED
    )
    assert (
        services.check_in(
            session=running, person=people[1], code=code, now=running.ends_at
        ).checked_in_at
        == running.ends_at
    )
    with pytest.raises(TrainingError, match="has ended; check-in is closed"):
        services.check_in(
            session=running,
            person=people[2],
            code=code,
            now=running.ends_at + timedelta(seconds=1),
        )
    assert Booking.objects.get(session=running, person=people[2]).status == BOOKED


def test_a_wrong_code_gets_a_clear_message(running, employee):
    booked_on(running, employee)
    with pytest.raises(TrainingError, match="That is not this session's check-in code"):
        services.check_in(session=running, person=employee, code="ZZZZZZ", now=running.starts_at)
    assert Booking.objects.get(person=employee).status == BOOKED
    # Case and spaces do not matter: the code is read off a screen.
    code = running.checkin_code.lower()
    spaced = f" {code[:3]} {code[3:]} "
    booking = services.check_in(
        session=running, person=employee, code=spaced, now=running.starts_at
    )
    assert booking.status == ATTENDED


def test_five_wrong_codes_in_ten_minutes_lock_check_in_for_a_while(running, employee, outsider):
    booked_on(running, employee)
    during = running.starts_at + timedelta(minutes=5)
    for attempt in range(5):
        with pytest.raises(TrainingError, match="not this session's check-in code"):
            services.check_in(
                session=running,
                person=employee,
                code="WRONG1",
                now=during + timedelta(seconds=attempt),
            )
    assert CheckInAttempt.objects.filter(person=employee, succeeded=False).count() == 5
    # Even the right code waits now: guessing must not pay off.
    with pytest.raises(TrainingError, match="Too many wrong codes"):
        services.check_in(
            session=running,
            person=employee,
            code=running.checkin_code,
            now=during + timedelta(minutes=1),
        )
    # Someone else is not held up by it.
    assert services.check_in(
        session=running, person=outsider, code=running.checkin_code, now=during
    ).walk_in
    # Ten minutes after the wrong codes, the right one works.
    booking = services.check_in(
        session=running,
        person=employee,
        code=running.checkin_code,
        now=during + timedelta(minutes=10, seconds=5),
    )
    assert booking.status == ATTENDED


def test_a_walk_in_without_a_booking_is_recorded_as_attended(running, employee):
    booking = services.check_in(
        session=running, person=employee, code=running.checkin_code, now=running.starts_at
    )
    booking.refresh_from_db()
    assert booking.status == ATTENDED and booking.walk_in
    assert booking.booked_by == employee and booking.checked_in_at == running.starts_at
    assert CheckInAttempt.objects.filter(person=employee, succeeded=True).count() == 1


def test_a_waitlisted_person_who_comes_is_recorded_as_attended(
    policy_admin, topic, presenter, make_person
):
    start = datetime(2026, 10, 27, 12, 0, tzinfo=LONDON)
    session = schedule(policy_admin, topic, presenter, starts_at=start, capacity=1)
    booked_on(session, make_person())
    waiting = booked_on(session, make_person())
    assert waiting.status == WAITLISTED
    services.check_in(session=session, person=waiting.person, code=session.checkin_code, now=start)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.waitlist_position, waiting.walk_in) == (ATTENDED, None, False)


def test_checking_in_twice_keeps_the_first_time(running, employee):
    booked_on(running, employee)
    first = services.check_in(
        session=running, person=employee, code=running.checkin_code, now=running.starts_at
    )
    again = services.check_in(
        session=running,
        person=employee,
        code=running.checkin_code,
        now=running.starts_at + timedelta(minutes=5),
    )
    assert again.pk == first.pk and again.checked_in_at == running.starts_at


def test_no_check_in_to_a_cancelled_session(running, policy_admin, employee):
    services.cancel_session(session=running, by=policy_admin)
    with pytest.raises(TrainingError, match="was cancelled"):
        services.check_in(
            session=running, person=employee, code=running.checkin_code, now=running.starts_at
        )


def test_someone_who_checked_in_early_keeps_their_seat_from_late_bookers(
    policy_admin, topic, presenter, make_person
):
    """Check-in opens before booking closes: a person checked in still holds a seat."""
    start = datetime(2026, 10, 27, 12, 0, tzinfo=LONDON)
    session = schedule(policy_admin, topic, presenter, starts_at=start, capacity=1)
    early = booked_on(session, make_person())
    services.check_in(
        session=session,
        person=early.person,
        code=session.checkin_code,
        now=start - timedelta(minutes=10),
    )
    late = services.book(session=session, person=make_person(), now=start - timedelta(minutes=5))
    assert (late.status, late.waitlist_position) == (WAITLISTED, 1)
    # A walk-in before the start takes a seat too.
    services.check_in(
        session=session,
        person=make_person(),
        code=session.checkin_code,
        now=start - timedelta(minutes=4),
    )
    later = services.book(session=session, person=make_person(), now=start - timedelta(minutes=3))
    assert (later.status, later.waitlist_position) == (WAITLISTED, 2)


def test_a_seat_freed_in_a_room_filled_by_walk_ins_promotes_nobody(
    policy_admin, topic, presenter, make_person
):
    start = datetime(2026, 10, 27, 12, 0, tzinfo=LONDON)
    session = schedule(policy_admin, topic, presenter, starts_at=start, capacity=2)
    first, second = booked_on(session, make_person()), booked_on(session, make_person())
    waiting = booked_on(session, make_person())
    for _ in range(2):  # two walk-ins before the start: four people for two seats
        services.check_in(
            session=session,
            person=make_person(),
            code=session.checkin_code,
            now=start - timedelta(minutes=10),
        )
    services.cancel_booking(booking=first, by=first.person, now=start - timedelta(minutes=5))
    refresh(second, waiting)
    assert (second.status, waiting.status) == (BOOKED, WAITLISTED)
    assert not planned("training-booking-promoted").exists()


def test_booking_after_checking_in_does_not_undo_the_attendance(running, employee):
    booked_on(running, employee)
    opens = running.starts_at - timedelta(minutes=15)
    services.check_in(session=running, person=employee, code=running.checkin_code, now=opens)
    with pytest.raises(TrainingError, match="already checked in"):
        services.book(session=running, person=employee, now=opens + timedelta(minutes=1))
    assert Booking.objects.get(person=employee).status == ATTENDED


# --- the roster -------------------------------------------------------------------


@pytest.fixture
def roster(running, make_person):
    """Three booked people and one on the waitlist."""
    bookings = [booked_on(running, make_person()) for _ in range(4)]
    assert bookings[3].status == WAITLISTED
    return bookings


def test_the_presenter_marks_attendance_in_bulk(running, presenter, roster):
    marks = {roster[0].pk: "attended", roster[1].pk: "late", roster[2].pk: "excused"}
    assert services.mark_attendance(session=running, by=presenter, marks=marks) == 3
    refresh(*roster)
    assert [b.status for b in roster] == ["attended", "late", "excused", WAITLISTED]
    assert {b.marked_by for b in roster[:3]} == {presenter}
    assert roster[0].checked_in_at and roster[1].checked_in_at and not roster[2].checked_in_at
    # Corrections are possible: absent after all.
    services.mark_attendance(session=running, by=presenter, marks={roster[2].pk: "absent"})
    roster[2].refresh_from_db()
    assert roster[2].status == "absent"


def test_an_organiser_marks_attendance_too(running, policy_admin, roster):
    services.mark_attendance(session=running, by=policy_admin, marks={roster[0].pk: "attended"})
    roster[0].refresh_from_db()
    assert roster[0].status == ATTENDED


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "hr", "leader", "site_admin"])
def test_only_the_presenter_and_organisers_mark_attendance(request, running, roster, role):
    with pytest.raises(TrainingError, match="Only the presenter and the organisers"):
        services.mark_attendance(
            session=running, by=request.getfixturevalue(role), marks={roster[0].pk: "attended"}
        )
    roster[0].refresh_from_db()
    assert roster[0].status == BOOKED


@pytest.mark.parametrize("status", ["booked", "waitlisted", "cancelled", "present", ""])
def test_roster_marks_are_validated(running, presenter, roster, status):
    with pytest.raises(TrainingError, match="attended, late, absent or excused"):
        services.mark_attendance(
            session=running,
            by=presenter,
            marks={roster[0].pk: "attended", roster[1].pk: status},
        )
    refresh(*roster)
    assert [b.status for b in roster[:2]] == [BOOKED, BOOKED]  # nothing half-done


def test_the_roster_only_marks_this_sessions_bookings(
    running, presenter, policy_admin, topic, roster, make_person
):
    other = schedule(policy_admin, topic, presenter)
    stranger = services.book(session=other, person=make_person())
    for pk in (stranger.pk, roster[3].pk):  # another session's booking; the waitlist
        with pytest.raises(TrainingError, match="not booked on this session"):
            services.mark_attendance(
                session=running, by=presenter, marks={roster[0].pk: "attended", pk: "attended"}
            )
    roster[0].refresh_from_db()
    assert roster[0].status == BOOKED


# --- completing a session ---------------------------------------------------------


def test_completing_a_session_marks_no_shows_absent_and_offers_them_a_make_up(
    running, presenter, roster
):
    services.check_in(
        session=running, person=roster[0].person, code=running.checkin_code, now=running.starts_at
    )
    services.mark_attendance(session=running, by=presenter, marks={roster[1].pk: "excused"})
    finished = running.ends_at + timedelta(minutes=5)
    no_shows = services.complete_session(session=running, by=presenter, now=finished)
    assert [b.pk for b in no_shows] == [roster[2].pk]
    refresh(running, *roster)
    assert running.status == Session.Status.COMPLETED
    assert [b.status for b in roster] == [ATTENDED, "excused", "absent", CANCELLED]
    assert roster[3].waitlist_position is None and roster[3].cancelled_at == finished
    offer = planned("training-makeup-offer").get()
    assert (offer.recipient_id, offer.subject_id) == (roster[2].person_id, roster[2].pk)
    assert offer.due_at == finished + timedelta(days=1)


def test_complete_session_refusals(running, presenter, employee, roster):
    with pytest.raises(TrainingError, match="Only the presenter and the organisers"):
        services.complete_session(session=running, by=employee, now=running.ends_at)
    with pytest.raises(TrainingError, match="once it has started"):
        services.complete_session(
            session=running, by=presenter, now=running.starts_at - timedelta(minutes=1)
        )
    services.complete_session(session=running, by=presenter, now=running.ends_at)
    with pytest.raises(TrainingError, match="is completed"):
        services.complete_session(session=running, by=presenter, now=running.ends_at)
    assert planned("training-makeup-offer").count() == 3


# --- feedback -------------------------------------------------------------------


def test_attendees_rate_the_session_from_one_to_five(running, employee):
    booking = services.check_in(
        session=running, person=employee, code=running.checkin_code, now=running.starts_at
    )
    feedback = services.leave_feedback(
        booking=booking, person=employee, rating=4, comment="  Useful examples. "
    )
    assert (feedback.rating, feedback.comment) == (4, "Useful examples.")
    services.leave_feedback(booking=booking, person=employee, rating="5")
    assert Feedback.objects.get().rating == 5  # a second go replaces the first


@pytest.mark.parametrize("rating", [0, 6, -1, "", "five", None])
def test_a_rating_outside_one_to_five_is_refused(running, employee, rating):
    booking = services.check_in(
        session=running, person=employee, code=running.checkin_code, now=running.starts_at
    )
    with pytest.raises(TrainingError, match="from 1 to 5"):
        services.leave_feedback(booking=booking, person=employee, rating=rating)
    assert not Feedback.objects.exists()


def test_feedback_is_only_for_attendees_about_their_own_attendance(
    running, presenter, employee, outsider
):
    booking = booked_on(running, employee)
    with pytest.raises(TrainingError, match="after attending"):
        services.leave_feedback(booking=booking, person=employee, rating=5)
    services.mark_attendance(session=running, by=presenter, marks={booking.pk: "absent"})
    booking.refresh_from_db()
    with pytest.raises(TrainingError, match="after attending"):
        services.leave_feedback(booking=booking, person=employee, rating=5)
    services.mark_attendance(session=running, by=presenter, marks={booking.pk: "late"})
    booking.refresh_from_db()
    with pytest.raises(TrainingError, match="your own attendance"):
        services.leave_feedback(booking=booking, person=outsider, rating=5)
    assert services.leave_feedback(booking=booking, person=employee, rating=3).rating == 3


# --- seats offered in invitations ------------------------------------------------------


def test_next_sessions_with_seats_skips_full_cancelled_and_other_topics(
    policy_admin, topic, presenter, make_person
):
    soon = timezone.now() + timedelta(days=2)
    full = schedule(policy_admin, topic, presenter, starts_at=soon, capacity=1)
    services.book(session=full, person=make_person())
    free = schedule(policy_admin, topic, presenter, starts_at=soon + timedelta(days=1))
    cancelled = schedule(policy_admin, topic, presenter, starts_at=soon + timedelta(days=2))
    services.cancel_session(session=cancelled, by=policy_admin)
    other_topic = Topic.objects.create(name="Expenses")
    schedule(policy_admin, other_topic, presenter, starts_at=soon)
    assert list(services.next_sessions_with_seats(topics=[topic])) == [free]


# --- the last seat, taken by many at once --------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("seats_left", [1, 2])
def test_many_people_booking_the_last_seats_at_once_never_overfill_the_session(
    make_person, seats_left
):
    admin = make_person(full_name="Race Organiser", group=roles.POLICY_ADMIN)
    topic = Topic.objects.create(name="Race topic")
    session = schedule(admin, topic, admin, capacity=3)
    for _ in range(3 - seats_left):
        services.book(session=session, person=make_person())
    people = [make_person(full_name=f"Racer {i}") for i in range(8)]
    barrier = threading.Barrier(len(people))
    errors: list[BaseException] = []

    def book_at_once(person):
        try:
            barrier.wait(timeout=60)
            services.book(session=Session.objects.get(pk=session.pk), person=person)
        except BaseException as error:  # reported below, in the test's own thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=book_at_once, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    racers = Booking.objects.filter(session=session, person__in=people)
    assert Booking.objects.filter(session=session, status=BOOKED).count() == 3
    assert racers.filter(status=BOOKED).count() == seats_left
    positions = sorted(racers.filter(status=WAITLISTED).values_list("waitlist_position", flat=True))
    assert positions == list(range(1, len(people) - seats_left + 1))
    assert racers.count() == len(people)


@pytest.mark.django_db
def test_dates_far_in_the_future_are_refused_not_crashed_on(policy_admin):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from training.tests.factories import topic

    start = datetime(9999, 12, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))
    with pytest.raises(TrainingError, match="between the years 2000 and 2200"):
        services.create_series(
            by=policy_admin,
            pattern="monthly",
            count=3,
            starts_at=start,
            ends_at=start.replace(hour=13),
            time_zone="Europe/London",
            title="Far",
            topic=topic(),
            presenter=policy_admin,
            capacity=5,
            room="A",
        )
