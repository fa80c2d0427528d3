"""Calendar invites and the session's .ics download, read back with icalendar as a calendar
client would: method, identity, sequence, times with their zone, and who is invited."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from training import services
from training.calendar import build_invite, session_ics
from training.models import Session, Topic

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
SITE = "https://policyhub.example.com"
ONLINE = "https://meet.example.com/social-media"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = "PolicyHub <policyhub@example.com>"


@pytest.fixture
def topic(db):
    return Topic.objects.create(name="Social media")


@pytest.fixture
def presenter(make_person):
    return make_person(full_name="Pat Presenter", email="presenter@example.com")


def schedule(by, topic, presenter, *, starts_at, zone="Europe/London", **fields):
    fields.setdefault("room", "Room 4.01")
    fields.setdefault("capacity", 10)
    return services.create_session(
        by=by,
        title="Social media lunch briefing",
        topic=topic,
        presenter=presenter,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        time_zone=zone,
        **fields,
    )


def book(session, person):
    """Booked a week before the start, whenever the test runs."""
    return services.book(session=session, person=person, now=session.starts_at - timedelta(days=7))


def parse(text: str):
    """The calendar and its one event, as a client reads them."""
    calendar = Calendar.from_ical(text)
    events = calendar.events
    assert len(events) == 1
    return calendar, events[0]


def emails(addresses) -> list[str]:
    return [str(address).lower() for address in addresses]


@pytest.fixture
def session(policy_admin, topic, presenter):
    # A winter Tuesday: London is on GMT, so the local time is the UTC time.
    return schedule(
        policy_admin,
        topic,
        presenter,
        starts_at=datetime(2027, 1, 12, 12, 30, tzinfo=LONDON),
        online_url=ONLINE,
    )


def test_an_invite_is_a_request_to_the_recipient_alone(session, employee, make_person):
    booking = book(session, employee)
    book(session, make_person(email="colleague@example.com"))
    text = build_invite(booking)
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    calendar, event = parse(text)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["VERSION"]) == "2.0"
    assert "PolicyHub" in str(calendar["PRODID"])
    assert str(event["UID"]) == f"booking-{booking.uid}@policyhub"
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Social media lunch briefing"
    assert event["DTSTAMP"].dt.tzinfo is not None

    [attendee] = event.attendees
    assert str(attendee).lower() == "mailto:employee@example.com"
    assert attendee.params["CN"] == "Emily Carter"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["RSVP"] == "FALSE"
    organizer = event["ORGANIZER"]
    assert str(organizer).lower() == "mailto:policyhub@example.com"
    assert organizer.params["CN"] == "PolicyHub"

    page = f"{SITE}/training/sessions/{session.pk}/"
    assert str(event["URL"]) == page
    assert str(event["LOCATION"]) == f"Room 4.01, or online: {ONLINE}"
    description = str(event["DESCRIPTION"])
    assert "Social media" in description and ONLINE in description and page in description


def test_times_carry_the_session_zone_and_the_right_instant(session, employee):
    calendar, event = parse(build_invite(book(session, employee)))
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event["DTEND"].params["TZID"] == "Europe/London"
    assert event.start.astimezone(UTC) == datetime(2027, 1, 12, 12, 30, tzinfo=UTC)
    assert event.end.astimezone(UTC) == datetime(2027, 1, 12, 13, 30, tzinfo=UTC)
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/London"]


def test_a_session_elsewhere_keeps_its_own_zone(policy_admin, topic, presenter, employee):
    # 09:00 in New York in summer is 13:00 UTC.
    start = datetime(2027, 7, 6, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    session = schedule(policy_admin, topic, presenter, starts_at=start, zone="America/New_York")
    calendar, event = parse(build_invite(book(session, employee)))
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert (event.start.hour, event.start.minute) == (9, 0)
    assert event.start.astimezone(UTC) == datetime(2027, 7, 6, 13, 0, tzinfo=UTC)
    # The VTIMEZONE itself (what clients without a zone database use) gives the same instant.
    [zone] = calendar.timezones
    own = zone.to_tz()
    assert datetime(2027, 7, 6, 9, 0, tzinfo=own).astimezone(UTC).hour == 13


def test_a_change_keeps_the_uid_and_raises_the_sequence(session, employee, policy_admin):
    booking = book(session, employee)
    _, before = parse(build_invite(booking))
    later = session.starts_at + timedelta(days=1, hours=1)
    services.change_session(
        session=session, by=policy_admin, starts_at=later, ends_at=later + timedelta(hours=1)
    )
    booking.refresh_from_db()
    _, moved = parse(build_invite(booking))
    assert moved["UID"] == before["UID"]
    assert moved["SEQUENCE"] > before["SEQUENCE"]
    assert moved.start.astimezone(UTC) == datetime(2027, 1, 13, 13, 30, tzinfo=UTC)

    services.change_session(session=session, by=policy_admin, room="Room 5.02")
    booking.refresh_from_db()
    _, new_room = parse(build_invite(booking))
    assert new_room["UID"] == before["UID"]
    assert new_room["SEQUENCE"] > moved["SEQUENCE"]
    assert str(new_room["LOCATION"]).startswith("Room 5.02")


def test_cancelling_a_booking_sends_a_cancel_above_the_last_request(session, employee):
    booking = book(session, employee)
    _, request = parse(build_invite(booking))
    booking = services.cancel_booking(
        booking=booking, by=employee, now=session.starts_at - timedelta(days=1)
    )
    calendar, cancel = parse(build_invite(booking, method="CANCEL"))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert cancel["UID"] == request["UID"]
    assert cancel["SEQUENCE"] > request["SEQUENCE"]
    assert str(cancel["STATUS"]) == "CANCELLED"
    assert emails(cancel.attendees) == ["mailto:employee@example.com"]
    assert str(cancel["ORGANIZER"]).lower() == "mailto:policyhub@example.com"

    # Booking again revives the same event in the calendar, with a newer sequence.
    again = services.book(
        session=session, person=employee, now=session.starts_at - timedelta(hours=20)
    )
    assert again.pk == booking.pk
    _, revived = parse(build_invite(again))
    assert revived["UID"] == request["UID"]
    assert revived["SEQUENCE"] > cancel["SEQUENCE"]


def test_cancelling_the_session_sends_a_cancel_above_the_last_request(
    session, employee, policy_admin
):
    booking = book(session, employee)
    _, request = parse(build_invite(booking))
    services.cancel_session(session=session, by=policy_admin, reason="The presenter is ill.")
    booking.refresh_from_db()
    calendar, cancel = parse(build_invite(booking, method="CANCEL"))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert (cancel["UID"], str(cancel["STATUS"])) == (request["UID"], "CANCELLED")
    assert cancel["SEQUENCE"] > request["SEQUENCE"]
    assert "The presenter is ill." in str(cancel["DESCRIPTION"])


def test_only_request_and_cancel_are_invites(session, employee):
    with pytest.raises(ValueError):
        build_invite(book(session, employee), method="PUBLISH")


def test_a_weekly_series_keeps_its_local_time_across_the_clocks_going_back(
    policy_admin, topic, presenter, employee
):
    # British Summer Time ends on Sunday 25 October 2026: 12:30 is 11:30 UTC before, 12:30 after.
    start = datetime(2026, 10, 20, 12, 30, tzinfo=LONDON)
    sessions = services.create_series(
        by=policy_admin,
        pattern="weekly",
        count=3,
        title="Social media lunch briefing",
        topic=topic,
        presenter=presenter,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone="Europe/London",
        capacity=10,
        room="Room 4.01",
    )
    invites = [parse(build_invite(book(session, employee))) for session in sessions]
    expected_utc = [
        datetime(2026, 10, 20, 11, 30, tzinfo=UTC),
        datetime(2026, 10, 27, 12, 30, tzinfo=UTC),
        datetime(2026, 11, 3, 12, 30, tzinfo=UTC),
    ]
    for (calendar, event), instant in zip(invites, expected_utc, strict=True):
        assert event["DTSTART"].params["TZID"] == "Europe/London"
        assert (event.start.hour, event.start.minute) == (12, 30)
        assert event.start.astimezone(UTC) == instant
        assert event.end.astimezone(UTC) == instant + timedelta(hours=1)
        [zone] = calendar.timezones
        assert zone.tz_name == "Europe/London"
        assert zone.standard and zone.daylight
        # The zone as written in the file, not the receiver's own database, moves the clock.
        own = zone.to_tz()
        local = event.start.replace(tzinfo=None)
        assert local.replace(tzinfo=own).astimezone(UTC) == instant
    # Each booking is its own event.
    assert len({str(event["UID"]) for _, event in invites}) == 3


def test_the_session_download_is_published_per_session(session, employee, policy_admin):
    calendar, event = parse(session_ics(session))
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(event["UID"]) == f"session-{session.pk}@policyhub"
    assert event["SEQUENCE"] == 0
    assert event.attendees == []
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert str(event["URL"]) == f"{SITE}/training/sessions/{session.pk}/"

    _, personal = parse(session_ics(session, person=employee))
    assert emails(personal.attendees) == ["mailto:employee@example.com"]

    services.change_session(session=session, by=policy_admin, room="Room 5.02")
    session.refresh_from_db()
    _, changed = parse(session_ics(session))
    assert changed["UID"] == event["UID"] and changed["SEQUENCE"] == 1

    services.cancel_session(session=session, by=policy_admin)
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    _, cancelled = parse(session_ics(session))
    assert str(cancelled["STATUS"]) == "CANCELLED" and cancelled["SEQUENCE"] == 2
