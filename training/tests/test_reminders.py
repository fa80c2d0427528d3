"""Training's emails through the outbox: the invite in every booking email, updates and
cancellations, the waitlist, the day before and the morning of, still required, make-up.

The services stamp events with the real clock, so sessions here are placed relative to
today, and the planner and sender are run at chosen moments around them."""

from datetime import date, datetime, time, timedelta
from email import message_from_bytes
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from notifications.models import Notification, Preference
from notifications.services import plan_due, send_due
from training import services
from training.models import Booking, Requirement, Topic

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
SITE = "https://policyhub.example.com"
ONLINE = "https://meet.example.com/social-media"
TITLE = "Social media lunch briefing"
Status = Notification.Status


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def topic(db):
    return Topic.objects.create(name="Social media")


@pytest.fixture
def presenter(make_person):
    return make_person(full_name="Pat Presenter", email="presenter@example.com")


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def next_weekday(weekday: int, *, after_days: int = 9) -> date:
    """The first such weekday at least `after_days` from today: a week clear of now."""
    day = timezone.now().astimezone(LONDON).date() + timedelta(days=after_days)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


WEDNESDAY, MONDAY = 2, 0


def schedule(by, topic, presenter, *, starts_at=None, capacity=10, **fields):
    starts_at = starts_at or london(next_weekday(WEDNESDAY), 12, 30)
    fields.setdefault("room", "Room 4.01")
    return services.create_session(
        by=by,
        title=TITLE,
        topic=topic,
        presenter=presenter,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        time_zone="Europe/London",
        capacity=capacity,
        **fields,
    )


@pytest.fixture
def session(policy_admin, topic, presenter):
    start = london(next_weekday(WEDNESDAY), 12, 30)
    return schedule(
        policy_admin,
        topic,
        presenter,
        starts_at=start,
        capacity=2,
        online_url=ONLINE,
        lunch_cutoff=start - timedelta(days=1),
    )


def immediate(person):
    Preference.objects.update_or_create(
        user=person, defaults={"delivery": Preference.Delivery.IMMEDIATE}
    )
    return person


def send_now():
    return send_due(now=timezone.now())


def mails_to(person) -> list:
    return [message for message in mail.outbox if message.to == [person.email]]


def only_mail_to(person):
    [message] = mails_to(person)
    return message


def html(message) -> str:
    return message.alternatives[0].content


def invite(message):
    """The invite in a mail: its MIME method, and the calendar and event read back."""
    parsed = message_from_bytes(message.message().as_bytes())
    parts = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]
    assert parts, "the mail carries no calendar invite"
    methods = {part.get_param("method") for part in parts}
    assert len(methods) == 1
    calendar = Calendar.from_ical(parts[0].get_payload(decode=True))
    [event] = calendar.events
    return methods.pop(), calendar, event


def has_invite(message) -> bool:
    parsed = message_from_bytes(message.message().as_bytes())
    return any(part.get_content_type() == "text/calendar" for part in parsed.walk())


def rows(kind: str, **filters):
    return Notification.objects.filter(kind=kind, **filters)


def when_words(start: datetime) -> str:
    """How the emails write a session's time, e.g. "Wednesday 9 December 2026,
    12:30–13:30 Europe/London time (GMT)"."""
    end = start + timedelta(hours=1)
    return (
        f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M}–{end:%H:%M} "
        f"Europe/London time ({start.tzname()})"
    )


# --- booking emails and their invites -------------------------------------------------


def test_a_booking_confirmation_carries_a_request_invite_and_says_when_and_where(session, employee):
    booking = services.book(session=session, person=employee)
    send_now()
    message = only_mail_to(employee)
    start = session.starts_at.astimezone(LONDON)
    assert message.subject == f"Booked: {TITLE}, {start:%A} {start.day} {start:%B}, 12:30"
    page = f"{SITE}/training/sessions/{session.pk}/"
    assert when_words(start) in message.body
    assert "Room 4.01" in message.body and ONLINE in message.body
    assert "Lunch: standard." in message.body and "Lunch is ordered for everyone" in message.body
    assert "cancel your booking before the start" in message.body and page in message.body
    assert f'href="{page}"' in html(message) and f'href="{ONLINE}"' in html(message)

    method, calendar, event = invite(message)
    assert method == "REQUEST" and str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"booking-{booking.uid}@policyhub"
    assert [str(a).lower() for a in event.attendees] == ["mailto:employee@example.com"]
    assert event.start.astimezone(UTC) == session.starts_at.astimezone(UTC)


def test_the_recipients_own_time_is_added_when_it_differs(session, make_person):
    traveller = make_person(time_zone="America/New_York")
    services.book(session=session, person=traveller)
    send_now()
    body = only_mail_to(traveller).body
    start = session.starts_at.astimezone(ZoneInfo("America/New_York"))
    assert f"{start:%H:%M}–" in body and "in your time zone, America/New_York" in body


def test_booking_after_the_lunch_cutoff_says_lunch_is_not_guaranteed(session, employee):
    services.book(session=session, person=employee, now=session.lunch_cutoff + timedelta(minutes=5))
    send_now()
    message = only_mail_to(employee)
    assert "Lunch: not guaranteed." in message.body
    assert "Lunch is not guaranteed" in html(message)


def test_booking_on_someones_behalf_says_who_booked(session, employee, manager):
    services.book(session=session, person=employee, by=manager)
    send_now()
    assert "Marcus Reid booked it for you" in only_mail_to(employee).body


def test_a_change_sends_an_updated_invite_with_a_higher_sequence(
    session, employee, make_person, policy_admin
):
    colleague, waiting = make_person(), make_person()
    for person in (employee, colleague, waiting):
        services.book(session=session, person=person)
    send_now()
    _, _, before = invite(only_mail_to(employee))
    assert mails_to(waiting) == []  # the waitlist is no booking yet
    mail.outbox.clear()

    later = session.starts_at + timedelta(hours=1)
    services.change_session(
        session=session, by=policy_admin, starts_at=later, ends_at=later + timedelta(hours=1)
    )
    send_now()
    message = only_mail_to(employee)
    assert message.subject.startswith(f"Changed: {TITLE}")
    assert when_words(later.astimezone(LONDON)) in message.body
    method, _, after = invite(message)
    assert method == "REQUEST"
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after.start.astimezone(UTC) == later.astimezone(UTC)
    assert invite(only_mail_to(colleague))[0] == "REQUEST"
    # Someone on the waitlist is told, without an invite for a seat they do not have.
    told = only_mail_to(waiting)
    assert "number 1 on the waitlist" in told.body and not has_invite(told)


def test_cancelling_the_session_withdraws_every_invite(
    session, employee, make_person, policy_admin, topic, presenter
):
    colleague = make_person()
    for person in (employee, colleague):
        services.book(session=session, person=person)
    send_now()
    _, _, request = invite(only_mail_to(employee))
    mail.outbox.clear()
    other = schedule(
        policy_admin, topic, presenter, starts_at=session.starts_at + timedelta(days=14)
    )

    services.cancel_session(session=session, by=policy_admin, reason="The presenter is ill.")
    send_now()
    for person in (employee, colleague):
        message = only_mail_to(person)
        assert message.subject.startswith(f"Cancelled: {TITLE}")
        method, calendar, event = invite(message)
        assert method == "CANCEL" and str(calendar["METHOD"]) == "CANCEL"
        assert str(event["STATUS"]) == "CANCELLED"
    message = only_mail_to(employee)
    _, _, cancel = invite(message)
    assert cancel["UID"] == request["UID"] and cancel["SEQUENCE"] > request["SEQUENCE"]
    assert "The presenter is ill." in message.body
    assert f"{SITE}/training/sessions/{other.pk}/" in message.body


def test_cancelling_a_booking_withdraws_its_invite_and_promotes_the_waitlist(
    session, employee, make_person
):
    colleague, waiting = make_person(), immediate(make_person(full_name="Wanda Waiting"))
    booking = services.book(session=session, person=employee)
    services.book(session=session, person=colleague)
    services.book(session=session, person=waiting)
    send_now()
    _, _, request = invite(only_mail_to(employee))
    mail.outbox.clear()

    services.cancel_booking(booking=booking, by=employee)
    send_now()
    cancelled = only_mail_to(employee)
    assert cancelled.subject.startswith(f"Booking cancelled: {TITLE}")
    method, _, cancel = invite(cancelled)
    assert method == "CANCEL" and str(cancel["STATUS"]) == "CANCELLED"
    assert cancel["UID"] == request["UID"] and cancel["SEQUENCE"] > request["SEQUENCE"]

    promoted = only_mail_to(waiting)
    assert promoted.subject.startswith(f"A seat came free: you are booked on {TITLE}")
    assert "moved from the waitlist to booked" in promoted.body
    method, _, event = invite(promoted)
    assert method == "REQUEST"
    assert [str(a).lower() for a in event.attendees] == [f"mailto:{waiting.email}"]
    assert mails_to(colleague) == []


# --- the day before and the morning of -------------------------------------------------


def test_the_day_before_comes_in_the_digest_and_the_day_itself_at_eight(session, employee):
    employee.time_zone = "Europe/London"
    employee.save()
    services.book(session=session, person=employee)
    send_now()
    mail.outbox.clear()
    day = session.starts_at.astimezone(LONDON).date()
    day_before = day - timedelta(days=1)

    plan_due(now=london(day_before - timedelta(days=2), 12))  # planned ahead
    [tomorrow] = rows("training-session-tomorrow")
    assert tomorrow.digest and tomorrow.send_after == london(day_before, 9)
    send_due(now=london(day_before, 8, 59))
    assert mail.outbox == []
    send_due(now=london(day_before, 9))
    digest = only_mail_to(employee)
    assert "Your briefing is coming up" in digest.body
    assert f"{TITLE}, {day:%A} {day.day} {day:%B}, 12:30" in digest.body
    mail.outbox.clear()

    plan_due(now=london(day_before, 23))
    plan_due(now=london(day, 0, 30))  # planning again adds nothing
    [today] = rows("training-session-today")
    assert not today.digest and today.send_after == london(day, 8)
    send_due(now=london(day, 7, 59))
    assert mail.outbox == []
    send_due(now=london(day, 8))
    message = only_mail_to(employee)
    assert message.subject == f"Today at 12:30: {TITLE}"
    assert ONLINE in message.body and "check in" in message.body
    assert rows("training-session-tomorrow").count() == 1


def test_a_monday_session_is_recalled_on_friday(policy_admin, topic, presenter, employee):
    immediate(employee)
    monday = next_weekday(MONDAY)
    session = schedule(policy_admin, topic, presenter, starts_at=london(monday, 12, 30))
    services.book(session=session, person=employee)
    send_now()
    mail.outbox.clear()
    friday = monday - timedelta(days=3)
    plan_due(now=london(friday - timedelta(days=1), 12))
    [row] = rows("training-session-tomorrow")
    assert row.send_after == london(friday, 8)
    send_due(now=london(friday, 8))
    message = only_mail_to(employee)
    assert message.subject.startswith(f"Coming up on Monday: {TITLE}")
    assert "booked on Social media lunch briefing on Monday" in message.body


def test_a_booking_cancelled_before_the_day_before_gets_no_reminder(session, employee):
    booking = services.book(session=session, person=employee)
    day_before = session.starts_at.astimezone(LONDON).date() - timedelta(days=1)
    plan_due(now=london(day_before, 0, 30))
    assert rows("training-session-tomorrow", status=Status.PLANNED).count() == 1
    services.cancel_booking(booking=booking, by=employee)
    send_now()
    mail.outbox.clear()

    send_due(now=london(day_before, 9))
    assert mail.outbox == []
    [row] = rows("training-session-tomorrow")
    assert row.status == Status.CANCELLED and row.cancelled_reason == "Its reason has gone."


def test_moving_a_session_to_another_day_drops_that_days_reminders(session, employee, policy_admin):
    services.book(session=session, person=employee)
    day = session.starts_at.astimezone(LONDON).date()
    plan_due(now=london(day, 0, 30))  # the day-before and the morning-of rows
    assert rows("training-session-today").count() == 1
    later = session.starts_at + timedelta(days=1)
    services.change_session(
        session=session, by=policy_admin, starts_at=later, ends_at=later + timedelta(hours=1)
    )
    send_now()
    mail.outbox.clear()
    send_due(now=london(day, 8))
    assert [m.subject for m in mail.outbox] == []
    assert set(rows("training-session-today").values_list("status", flat=True)) == {
        Status.CANCELLED
    }
    # The new day gets its own.
    plan_due(now=london(day + timedelta(days=1), 0, 30))
    assert rows("training-session-today", status=Status.PLANNED).get().send_after == london(
        day + timedelta(days=1), 8
    )


# --- still required and make-up ---------------------------------------------------------


@pytest.fixture
def requirement(topic):
    requirement = Requirement.objects.create(name="Social media lunch briefing (yearly)")
    requirement.accepted_topics.add(topic)
    return requirement


def attended(person, session, by):
    """Booked before the session and marked present on the roster."""
    booking = services.book(
        session=session, person=person, now=session.starts_at - timedelta(days=1)
    )
    services.mark_attendance(session=session, by=by, marks={booking.pk: Booking.Status.ATTENDED})
    return booking


def test_still_required_comes_monthly_to_those_who_have_not_attended(
    requirement, policy_admin, topic, presenter, employee, make_person
):
    immediate(employee)
    went = make_person(full_name="Walter Went")
    past = schedule(policy_admin, topic, presenter, starts_at=timezone.now() - timedelta(days=40))
    attended(went, past, policy_admin)
    upcoming = schedule(policy_admin, topic, presenter, capacity=5)
    full = schedule(
        policy_admin,
        topic,
        presenter,
        capacity=1,
        starts_at=upcoming.starts_at + timedelta(days=1),
    )
    has_seat = make_person(full_name="Bea Booked")
    services.book(session=full, person=has_seat)
    send_now()
    mail.outbox.clear()

    now = timezone.now()
    plan_due(now=now)
    plan_due(now=now + timedelta(minutes=15))
    reminded = set(rows("training-still-required").values_list("recipient_id", flat=True))
    assert employee.pk in reminded
    assert went.pk not in reminded and has_seat.pk not in reminded
    assert rows("training-still-required", recipient=employee).count() == 1

    send_due(now=now + timedelta(minutes=15))
    message = only_mail_to(employee)
    assert message.subject == f"Still to attend: {requirement.name}"
    assert f"{SITE}/training/sessions/{upcoming.pk}/" in message.body
    assert f"{SITE}/training/sessions/{full.pk}/" not in message.body  # no seat left
    assert "5 seats left" in message.body
    assert f'href="{SITE}/training/sessions/{upcoming.pk}/"' in html(message)

    next_month = now + timedelta(days=32)
    plan_due(now=next_month)
    assert rows("training-still-required", recipient=employee).count() == 2
    assert not rows("training-still-required", recipient=went).exists()


def test_a_no_show_is_offered_a_make_up_the_day_after(
    requirement, policy_admin, topic, presenter, employee, make_person
):
    immediate(employee)
    came = immediate(make_person(full_name="Carl Came"))
    now = timezone.now()
    missed = schedule(policy_admin, topic, presenter, starts_at=now - timedelta(hours=2))
    services.book(session=missed, person=employee, now=missed.starts_at - timedelta(days=3))
    attended(came, missed, policy_admin)
    later = schedule(policy_admin, topic, presenter, capacity=3)
    full = schedule(
        policy_admin, topic, presenter, capacity=1, starts_at=later.starts_at + timedelta(days=1)
    )
    services.book(session=full, person=make_person())
    send_now()
    mail.outbox.clear()

    services.complete_session(session=missed, by=policy_admin, now=now)
    assert rows("training-makeup-offer").count() == 1
    send_due(now=now + timedelta(hours=23))
    assert mail.outbox == []
    send_due(now=now + timedelta(days=1, minutes=1))
    message = only_mail_to(employee)
    assert message.subject == f"We missed you at {TITLE}: book another session"
    assert f"{SITE}/training/sessions/{later.pk}/" in message.body
    assert f"{SITE}/training/sessions/{full.pk}/" not in message.body
    assert "Pat Presenter" in message.body  # to put the roster right
    assert mails_to(came) == []


def test_no_make_up_offer_once_another_session_is_booked(policy_admin, topic, presenter, employee):
    immediate(employee)
    now = timezone.now()
    missed = schedule(policy_admin, topic, presenter, starts_at=now - timedelta(hours=2))
    services.book(session=missed, person=employee, now=missed.starts_at - timedelta(days=3))
    later = schedule(policy_admin, topic, presenter)
    services.complete_session(session=missed, by=policy_admin, now=now)
    services.book(session=later, person=employee)
    send_due(now=now + timedelta(days=1, minutes=1))
    assert not [m for m in mails_to(employee) if "missed" in m.subject]
    assert rows("training-makeup-offer").get().status == Status.CANCELLED
