"""Every training service that records a moment takes it as `now=`: the demo, the bench and
these tests pass a clock instead of patching timezone.now."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.models import Notification
from training import compliance, services
from training.models import Booking, Feedback, Requirement, Series
from training.tests import factories

pytestmark = pytest.mark.django_db

# A moment far from the wall clock, so a service that reads the clock itself is caught.
START = datetime(2031, 3, 10, 12, 0, tzinfo=ZoneInfo("Europe/London"))
BEFORE = START - timedelta(days=10)


def test_scheduling_records_the_given_moment(policy_admin):
    session = factories.schedule(policy_admin, starts_at=START, now=BEFORE)
    session.refresh_from_db()
    assert session.created_at == BEFORE
    (first, *_rest) = services.create_series(
        by=policy_admin,
        pattern=Series.Pattern.WEEKLY,
        count=2,
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        time_zone="Europe/London",
        title="Weekly briefing",
        topic=factories.topic(),
        presenter=policy_admin,
        capacity=5,
        room="Room 1",
        now=BEFORE,
    )
    first.refresh_from_db()
    assert first.created_at == BEFORE and Series.objects.get().created_at == BEFORE


def test_cancelling_a_session_records_the_given_moment(policy_admin, employee):
    session = factories.schedule(policy_admin, starts_at=START, now=BEFORE)
    booking = services.book(session=session, person=employee, now=BEFORE)
    services.cancel_session(session=session, by=policy_admin, now=BEFORE + timedelta(days=1))
    booking.refresh_from_db()
    assert booking.cancelled_at == BEFORE + timedelta(days=1)


def test_the_roster_and_feedback_record_the_given_moment(policy_admin, employee):
    session = factories.schedule(policy_admin, starts_at=START, now=BEFORE)
    booking = services.book(session=session, person=employee, now=BEFORE)
    services.mark_attendance(
        session=session,
        by=policy_admin,
        marks={booking.pk: Booking.Status.ATTENDED},
        now=START + timedelta(minutes=5),
    )
    booking.refresh_from_db()
    assert booking.checked_in_at == START + timedelta(minutes=5)
    services.leave_feedback(
        booking=booking, person=employee, rating=4, now=START + timedelta(hours=2)
    )
    assert Feedback.objects.get().at == START + timedelta(hours=2)


def test_inviting_those_still_required_is_stamped_with_the_given_day(policy_admin, employee):
    topic = factories.topic()
    requirement = Requirement.objects.create(name="Social media", every_months=12)
    requirement.accepted_topics.add(topic)
    factories.schedule(policy_admin, topic=topic, starts_at=START, now=BEFORE)
    assert compliance.invite_still_required(requirement=requirement, by=policy_admin, now=BEFORE)
    stages = set(Notification.objects.filter(kind="training-invitation").values_list("stage"))
    assert stages == {(f"invite-{BEFORE:%Y%m%d}",)}
