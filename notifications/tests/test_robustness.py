"""The engine keeps going when a row, a kind or a person goes wrong."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Notification, OptOut, Preference
from notifications.registry import ReminderKind, register, unregister
from notifications.services import plan_due, send_due, set_preferences
from notifications.tests.kinds import ProfileIncomplete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("example_kinds")]
Status = Notification.Status
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("UTC"))


def immediate(person):
    Preference.objects.create(user=person, delivery=Preference.Delivery.IMMEDIATE)
    return person


def test_a_row_that_cannot_be_rendered_fails_alone(make_person, monkeypatch):
    broken = immediate(make_person(job_title="", location="x", full_name="Broken"))
    fine = immediate(make_person(job_title="", location="x", full_name="Fine"))
    plan_due(now=NOON)
    original = ProfileIncomplete.title

    def title(self, notification):
        if notification.recipient_id == broken.pk:
            raise RuntimeError("no title")
        return original(self, notification)

    monkeypatch.setattr(ProfileIncomplete, "title", title)
    result = send_due(now=NOON)
    assert (result.sent, result.failed) == (1, 1)
    assert [m.to for m in mail.outbox] == [[fine.email]]
    row = Notification.objects.get(recipient=broken)
    assert row.status == Status.FAILED and "no title" in row.last_error


def test_reminders_to_someone_who_left_are_cancelled(make_person):
    person = immediate(make_person(job_title="", location="x"))
    plan_due(now=NOON)
    person.is_active = False
    person.save()
    assert send_due(now=NOON).cancelled == 1
    assert mail.outbox == []


def test_switching_a_kind_off_after_planning_still_stops_it(make_person):
    person = immediate(make_person(job_title="x", location=""))
    plan_due(now=NOON)
    OptOut.objects.create(user=person, kind="example-optional-tip")  # as a race would leave it
    assert send_due(now=NOON).cancelled == 1


def test_switching_a_kind_off_and_on_again_plans_it_again(make_person):
    person = make_person(job_title="x", location="")
    plan_due(now=NOON)
    set_preferences(user=person, delivery="immediate", switched_off={"example-optional-tip"})
    assert Notification.objects.get().status == Status.CANCELLED
    set_preferences(user=person, delivery="immediate", switched_off=set())
    assert plan_due(now=NOON).planned["example-optional-tip"] == 1
    assert send_due(now=NOON).sent == 1


def test_a_kind_this_worker_does_not_know_is_left_for_one_that_does(make_person):
    immediate(make_person(job_title="", location="x"))
    plan_due(now=NOON)
    unregister("example-profile-incomplete")
    result = send_due(now=NOON)
    row = Notification.objects.get()
    assert (result.sent, result.failed) == (0, 0)
    assert row.status == Status.PLANNED and row.attempts == 0


def test_a_row_claimed_again_and_again_by_dying_workers_is_given_up(make_person, settings):
    immediate(make_person(job_title="", location="x"))
    plan_due(now=NOON)
    Notification.objects.update(
        status=Status.SENDING, claimed_at=NOON, attempts=settings.NOTIFICATIONS_MAX_ATTEMPTS
    )
    result = send_due(now=NOON + timedelta(hours=1))
    assert result.failed == 1 and mail.outbox == []
    assert "too many attempts" in Notification.objects.get().last_error


def test_a_kind_whose_planning_breaks_does_not_stop_the_others(make_person):
    class Broken(ReminderKind):
        name = "aaa-broken"
        label = "Broken"

        def find_due(self, *, now):
            raise RuntimeError("database view missing")

    register(Broken)
    try:
        make_person(job_title="", location="x")
        result = plan_due(now=NOON)
        assert result.planned["example-profile-incomplete"] == 1
    finally:
        unregister("aaa-broken")


def test_a_claim_is_stamped_with_the_real_time(make_person):
    immediate(make_person(job_title="", location="x"))
    long_ago = timezone.now() - timedelta(days=3)
    plan_due(now=long_ago)
    from notifications.services.sending import _claim

    (row,) = _claim(Notification.objects.all(), now=long_ago + timedelta(minutes=1), limit=10)
    assert row.claimed_at >= timezone.now() - timedelta(seconds=5)


def test_staff_without_superuser_cannot_see_or_resend_the_outbox(client, make_person):
    from django.contrib.auth.models import Permission

    staff = make_person(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_notification", "change_notification"])
    )
    client.force_login(staff)
    assert client.get("/admin/notifications/notification/").status_code == 403
