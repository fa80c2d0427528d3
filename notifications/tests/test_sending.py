import smtplib
import threading
from datetime import date, datetime, timedelta
from email import message_from_bytes
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection

from notifications.emails import Attachment, build_email
from notifications.models import Notification, Preference
from notifications.services import (
    NotificationError,
    is_transient,
    notify,
    plan_due,
    resend,
    send_due,
    set_preferences,
)
from notifications.tests.backends import FlakyBackend

pytestmark = [pytest.mark.usefixtures("example_kinds")]
Status = Notification.Status


def at(text: str, zone: str = "UTC") -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


WEDNESDAY_NOON = at("2026-11-25 12:00")


def immediate(person):
    Preference.objects.update_or_create(
        user=person, defaults={"delivery": Preference.Delivery.IMMEDIATE}
    )
    return person


@pytest.mark.django_db
def test_due_reminder_is_sent_once_with_absolute_links(make_person, settings):
    settings.SITE_URL = "https://policyhub.example.com"
    person = immediate(make_person(job_title="", location="x", full_name="Ana Lopez"))
    plan_due(now=WEDNESDAY_NOON)
    result = send_due(now=WEDNESDAY_NOON)
    assert result.sent == 1
    assert send_due(now=WEDNESDAY_NOON).sent == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [person.email]
    assert message.subject == "Add a job title for Ana Lopez"
    assert f"https://policyhub.example.com/people/{person.pk}/" in message.body
    html = message.alternatives[0].content
    assert f'href="https://policyhub.example.com/people/{person.pk}/"' in html
    row = Notification.objects.get()
    assert row.status == Status.SENT and row.sent_at == WEDNESDAY_NOON and row.attempts == 1


@pytest.mark.django_db
def test_digest_combines_a_persons_reminders_at_their_nine(make_person):
    tokyo = make_person(job_title="", location="", time_zone="Asia/Tokyo")
    new_york = make_person(job_title="", location="", time_zone="America/New_York")
    plan_due(now=WEDNESDAY_NOON)  # 21:00 in Tokyo, 07:00 in New York
    assert send_due(now=WEDNESDAY_NOON).sent == 0
    # 09:00 in New York (14:00 UTC): only the New Yorker's digest goes.
    result = send_due(now=at("2026-11-25 09:00", "America/New_York"))
    assert (result.digests, result.sent) == (1, 2)
    assert [m.to for m in mail.outbox] == [[new_york.email]]
    digest = mail.outbox[0]
    assert digest.subject == "Your PolicyHub reminders: 2 items"
    assert (
        "Add a job title for" in digest.body and "Tips for filling in your profile" in digest.body
    )
    # 09:00 the next morning in Tokyo (00:00 UTC Thursday): the Tokyo digest.
    send_due(now=at("2026-11-26 09:00", "Asia/Tokyo"))
    assert [m.to for m in mail.outbox] == [[new_york.email], [tokyo.email]]


@pytest.mark.django_db
def test_no_digest_at_the_weekend(make_person):
    make_person(job_title="", location="x", time_zone="Europe/London")
    plan_due(now=at("2026-11-27 10:00"))  # Friday after nine
    assert send_due(now=at("2026-11-28 09:00")).sent == 0  # Saturday
    assert send_due(now=at("2026-11-29 09:00")).sent == 0  # Sunday
    assert send_due(now=at("2026-11-30 09:00")).digests == 1  # Monday


@pytest.mark.django_db
def test_urgent_event_goes_at_once_even_for_digest_people(
    make_person, django_capture_on_commit_callbacks
):
    person = make_person()
    with django_capture_on_commit_callbacks() as callbacks:
        row = notify(kind="example-urgent-event", subject=person, recipient=person, stage="event")
    assert len(callbacks) == 1  # sending enqueued after the commit
    assert not row.digest
    assert (
        notify(kind="example-urgent-event", subject=person, recipient=person, stage="event") == row
    )
    assert Notification.objects.count() == 1
    assert send_due().sent == 1


@pytest.mark.django_db
def test_notify_refuses_unknown_kinds_and_skips_inactive_people(make_person):
    person = make_person(is_active=False)
    assert (
        notify(kind="example-urgent-event", subject=person, recipient=person, stage="event") is None
    )
    with pytest.raises(NotificationError, match="no reminder kind"):
        notify(kind="no-such-kind", subject=person, recipient=person, stage="event")


@pytest.mark.django_db
def test_reminder_whose_reason_has_gone_is_cancelled_not_sent(make_person):
    person = immediate(make_person(job_title="", location="x"))
    plan_due(now=WEDNESDAY_NOON)
    person.job_title = "Analyst"
    person.save()
    result = send_due(now=WEDNESDAY_NOON)
    assert (result.sent, result.cancelled) == (0, 1)
    assert mail.outbox == []
    assert Notification.objects.get().status == Status.CANCELLED


@pytest.mark.django_db
def test_backend_failing_twice_then_succeeding_sends_once(make_person, settings):
    settings.EMAIL_BACKEND = "notifications.tests.backends.FlakyBackend"
    FlakyBackend.calls, FlakyBackend.failures = 0, 2
    immediate(make_person(job_title="", location="x"))
    plan_due(now=WEDNESDAY_NOON)
    first = send_due(now=WEDNESDAY_NOON)
    row = Notification.objects.get()
    assert first.retrying == 1 and row.status == Status.PLANNED and row.attempts == 1
    assert "SMTPServerDisconnected" in row.last_error
    assert row.send_after == WEDNESDAY_NOON + timedelta(seconds=60)
    assert send_due(now=WEDNESDAY_NOON + timedelta(seconds=30)).sent == 0  # backing off
    second_try = WEDNESDAY_NOON + timedelta(seconds=60)
    send_due(now=second_try)
    row.refresh_from_db()
    assert row.attempts == 2 and row.send_after == second_try + timedelta(seconds=120)
    send_due(now=second_try + timedelta(seconds=120))
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 3
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_transient_errors_fail_the_row_after_the_last_attempt(make_person, settings):
    settings.EMAIL_BACKEND = "notifications.tests.backends.FlakyBackend"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    FlakyBackend.calls, FlakyBackend.failures = 0, 99
    immediate(make_person(job_title="", location="x"))
    plan_due(now=WEDNESDAY_NOON)
    now = WEDNESDAY_NOON
    for _ in range(3):
        send_due(now=now)
        now += timedelta(hours=1)
    row = Notification.objects.get()
    assert row.status == Status.FAILED and row.attempts == 3
    assert send_due(now=now + timedelta(days=1)).sent == 0


@pytest.mark.django_db
def test_permanent_error_fails_at_once(make_person, settings):
    settings.EMAIL_BACKEND = "notifications.tests.backends.FlakyBackend"
    FlakyBackend.calls, FlakyBackend.failures = 0, 1
    FlakyBackend.error = smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"No such user")})
    try:
        immediate(make_person(job_title="", location="x"))
        plan_due(now=WEDNESDAY_NOON)
        assert send_due(now=WEDNESDAY_NOON).failed == 1
        row = Notification.objects.get()
        assert row.status == Status.FAILED and row.attempts == 1
        assert "SMTPRecipientsRefused" in row.last_error
    finally:
        FlakyBackend.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.mark.parametrize(
    "error, transient",
    [
        (smtplib.SMTPServerDisconnected(), True),
        (smtplib.SMTPConnectError(421, b"busy"), True),
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (smtplib.SMTPDataError(451, b"try later"), True),
        (smtplib.SMTPDataError(554, b"rejected"), False),
        (smtplib.SMTPRecipientsRefused({"a@x": (450, b"busy")}), True),
        (smtplib.SMTPRecipientsRefused({"a@x": (550, b"unknown")}), False),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), False),
        (ValueError("bad header"), False),
    ],
)
def test_which_mail_errors_are_worth_retrying(error, transient):
    assert is_transient(error) is transient


@pytest.mark.django_db
def test_escalation_reaches_the_managers_digest_listing_the_overdue_person(make_person):
    boss = make_person(job_title="Head", location="x", time_zone="Europe/London")
    make_person(
        job_title="",
        location="x",
        manager=boss,
        start_date=date(2026, 11, 2),
        full_name="Olu Late",
    )
    plan_due(now=at("2026-11-25 07:00"))
    send_due(now=at("2026-11-25 09:00", "Europe/London"))
    to_boss = [m for m in mail.outbox if m.to == [boss.email]]
    assert len(to_boss) == 1
    assert to_boss[0].subject == "Overdue in your team: 1 item"
    assert "Overdue in your team:" in to_boss[0].body
    assert "Olu Late: Add a job title for Olu Late (due 2 Nov 2026)" in to_boss[0].body


@pytest.mark.django_db
def test_escalation_for_an_immediate_manager_is_its_own_email(make_person):
    boss = immediate(make_person(job_title="Head", location="x"))
    make_person(
        job_title="", location="x", manager=boss, start_date=date(2026, 11, 2), full_name="Olu Late"
    )
    plan_due(now=WEDNESDAY_NOON)
    send_due(now=WEDNESDAY_NOON)
    (to_boss,) = [m for m in mail.outbox if m.to == [boss.email]]
    assert to_boss.subject == "Overdue in your team: Olu Late, Add a job title for Olu Late"


@pytest.mark.django_db
def test_switching_to_immediate_moves_planned_reminders_to_now(make_person):
    person = make_person(job_title="", location="")
    plan_due(now=WEDNESDAY_NOON)
    assert all(row.digest for row in Notification.objects.all())
    set_preferences(user=person, delivery="immediate", switched_off=set())
    assert not any(row.digest for row in Notification.objects.all())
    assert send_due().sent == 2


@pytest.mark.django_db
def test_switching_off_an_optional_kind_cancels_what_was_planned(make_person):
    person = make_person(job_title="x", location="")
    plan_due(now=WEDNESDAY_NOON)
    set_preferences(user=person, delivery="digest", switched_off={"example-optional-tip"})
    assert Notification.objects.get().status == Status.CANCELLED


@pytest.mark.django_db
def test_mandatory_reminders_cannot_be_switched_off(make_person):
    person = make_person()
    with pytest.raises(NotificationError, match="Mandatory reminders cannot be switched off"):
        set_preferences(user=person, delivery="digest", switched_off={"example-profile-incomplete"})
    assert not Preference.objects.exists()


@pytest.mark.django_db
def test_resend_puts_only_a_failed_row_back(make_person, settings):
    settings.EMAIL_BACKEND = "notifications.tests.backends.FlakyBackend"
    FlakyBackend.calls, FlakyBackend.failures = 0, 1
    FlakyBackend.error = smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"No such user")})
    try:
        immediate(make_person(job_title="", location="x"))
        plan_due(now=WEDNESDAY_NOON)
        send_due(now=WEDNESDAY_NOON)
        row = Notification.objects.get()
        assert row.status == Status.FAILED
        resend(notification=row)
        row.refresh_from_db()
        assert (row.status, row.attempts, row.last_error) == (Status.PLANNED, 0, "")
        assert send_due().sent == 1
        with pytest.raises(NotificationError, match="Only a failed reminder"):
            resend(notification=row)
    finally:
        FlakyBackend.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.mark.django_db
def test_worker_that_died_holding_rows_releases_them_after_the_timeout(make_person, settings):
    immediate(make_person(job_title="", location="x"))
    plan_due(now=WEDNESDAY_NOON)
    Notification.objects.update(status=Status.SENDING, claimed_at=WEDNESDAY_NOON)
    assert send_due(now=WEDNESDAY_NOON + timedelta(seconds=599)).sent == 0
    assert send_due(now=WEDNESDAY_NOON + timedelta(seconds=601)).sent == 1


def test_calendar_attachment_carries_its_method():
    message = build_email(
        to="ana@example.com",
        template_prefix="emails/example-reminder",
        context={"title": "Lunch briefing", "url": "https://x/", "recipient": None},
        attachments=[
            Attachment(
                "invite.ics",
                "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                "text/calendar",
                {"method": "REQUEST"},
            )
        ],
    )
    parsed = message_from_bytes(message.message().as_bytes())
    parts = {part.get_content_type(): part for part in parsed.walk()}
    assert set(parts) >= {"text/plain", "text/html", "text/calendar"}
    calendar = parts["text/calendar"]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_filename() == "invite.ics"
    assert "BEGIN:VCALENDAR" in calendar.get_payload(decode=True).decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_senders_at_once_send_each_row_once(make_person, settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 7
    people = [immediate(make_person(job_title="", location="x")) for _ in range(60)]
    plan_due(now=WEDNESDAY_NOON)
    start = threading.Barrier(3)
    errors = []

    def sender():
        try:
            start.wait()
            send_due(now=WEDNESDAY_NOON)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted(p.email for p in people)
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


def test_an_inline_calendar_invite_is_also_an_alternative_part():
    invite = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    message = build_email(
        to="ana@example.com",
        template_prefix="emails/example-reminder",
        context={"title": "Lunch briefing", "url": "https://x/", "recipient": None},
        attachments=[
            Attachment("invite.ics", invite, "text/calendar", {"method": "REQUEST"}, inline=True)
        ],
    )
    parsed = message_from_bytes(message.message().as_bytes())
    calendars = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]
    assert len(calendars) == 2
    assert all(part.get_param("method") == "REQUEST" for part in calendars)
    inline = [part for part in calendars if part.get_filename() is None]
    assert len(inline) == 1
    # Line ends travel as the transport writes them; the lines are the same.
    assert inline[0].get_payload(decode=True).decode().splitlines() == invite.splitlines()
