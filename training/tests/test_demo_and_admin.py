from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from demo.players.training import (
    BASICS,
    MISTAKES,
    REQUIREMENT,
    ROOM,
    SOCIAL_MEDIA_POLICY,
    seed_demo_training,
)
from notifications.models import Notification
from people.models import User
from training import compliance, services
from training.models import (
    Booking,
    CheckInAttempt,
    Feedback,
    Requirement,
    Series,
    Session,
    Topic,
)

pytestmark = pytest.mark.django_db

Status = Booking.Status


# --- demo data ------------------------------------------------------------------


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _snapshot():
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in (Topic, Requirement, Session, Booking, Feedback, CheckInAttempt)
    } | {
        "bookings": sorted(Booking.objects.values_list("pk", "status", "waitlist_position")),
        "sessions": sorted(Session.objects.values_list("pk", "status", "starts_at")),
        "notifications": sorted(
            Notification.objects.filter(kind__startswith="training").values_list("pk", flat=True)
        ),
    }


def _demo_sessions():
    return Session.objects.filter(topic__name__in=(BASICS, MISTAKES)).annotate(
        booked=Count("bookings", filter=Q(bookings__status=Status.BOOKED)),
        waiting=Count("bookings", filter=Q(bookings__status=Status.WAITLISTED)),
    )


def test_seeding_twice_duplicates_nothing():
    first = _seed()
    assert "Demo training ready: 12 briefings (12 new, 4 upcoming)" in first
    before = _snapshot()
    second = _seed()
    assert "Demo training ready: 12 briefings (0 new, 4 upcoming)" in second
    assert _snapshot() == before
    assert Requirement.objects.filter(name=REQUIREMENT).count() == 1
    assert Topic.objects.filter(name__in=(BASICS, MISTAKES)).count() == 2


def test_demo_employee_is_still_required_and_not_booked_and_the_manager_attended():
    _seed()
    requirement = Requirement.objects.get(name=REQUIREMENT)
    assert requirement.every_months == 12 and requirement.new_joiners_within_days == 30
    assert requirement.audience == "everyone" and requirement.active
    assert set(requirement.accepted_topics.values_list("name", flat=True)) == {BASICS, MISTAKES}

    employee = User.objects.get(email="employee@example.com")
    (status,) = compliance.status_for(employee)
    assert status.requirement == requirement and not status.compliant and status.overdue
    # She attended last year's round, more than twelve months ago.
    assert status.last_attended < timezone.now() - timedelta(days=366)
    assert employee.pk in compliance.still_required_ids(requirement)
    assert not Booking.objects.filter(person=employee, status__in=Booking.ACTIVE).exists()

    manager = User.objects.get(email="manager@example.com")
    (status,) = compliance.status_for(manager)
    assert status.compliant and status.last_attended > timezone.now() - timedelta(days=60)
    # Some are compliant and some are not.
    people = compliance.requirement_people(requirement).count()
    assert 0.3 * people < len(compliance.still_required_ids(requirement)) < 0.8 * people


def test_upcoming_sessions_have_seats_and_one_is_full_with_a_waitlist():
    _seed()
    now = timezone.now()
    upcoming = list(_demo_sessions().filter(status=Session.Status.SCHEDULED, starts_at__gt=now))
    assert len(upcoming) == 4
    assert all(session.starts_at < now + timedelta(days=30) for session in upcoming)
    full = [s for s in upcoming if s.waiting]
    assert len(full) == 1 and full[0].booked == full[0].capacity and full[0].waiting == 2
    positions = (
        full[0]
        .bookings.filter(status=Status.WAITLISTED)
        .values_list("waitlist_position", flat=True)
    )
    assert sorted(positions) == [2, 3]  # the first waiting got the seat someone freed
    assert any(s.booked < s.capacity for s in upcoming)
    assert any(s.starts_at < now + timedelta(hours=1) for s in upcoming)  # check-in today
    assert any(s.room == ROOM for s in upcoming) and any(s.online_url for s in upcoming)
    for session in upcoming:
        assert session.presenter.email == "comms@example.com"
        assert session.organiser.email == "policyadmin@example.com"
        assert list(session.policies.values_list("title", flat=True)) == [SOCIAL_MEDIA_POLICY]
    # Booked seats were confirmed through the outbox, with an invite to come.
    booking = Booking.objects.filter(session=full[0], status=Status.BOOKED).first()
    assert Notification.objects.filter(
        kind="training-booking-confirmed", subject_id=booking.pk
    ).exists()


def test_past_sessions_are_completed_with_attendance_no_shows_and_feedback():
    _seed()
    past = list(_demo_sessions().filter(starts_at__lt=timezone.now() - timedelta(days=1)))
    assert len(past) == 8
    statuses = {s: 0 for s in Status.values}
    for session in past:
        assert session.status == Session.Status.COMPLETED
        counts = dict(session.bookings.values_list("status").annotate(n=Count("pk")))
        assert not counts.get(Status.BOOKED) and not counts.get(Status.WAITLISTED)
        assert counts[Status.ATTENDED] > counts.get(Status.ABSENT, 0)
        present = counts.get(Status.ATTENDED, 0) + counts.get(Status.LATE, 0)
        assert present <= session.capacity
        for status, count in counts.items():
            statuses[status] += count
    assert statuses[Status.ATTENDED] > 25
    assert statuses[Status.LATE] >= 3 and statuses[Status.ABSENT] >= 3
    assert statuses[Status.EXCUSED] == 1
    # Most checked in with the code, the presenter marked the rest.
    assert CheckInAttempt.objects.filter(succeeded=True).count() >= 10
    assert CheckInAttempt.objects.filter(succeeded=False).count() == 1  # a typo, then right
    assert Booking.objects.filter(status=Status.ATTENDED, marked_by__isnull=False).exists()
    # The latest session's no-shows were offered a make-up session.
    latest = max(past, key=lambda s: s.starts_at)
    no_shows = set(latest.bookings.filter(status=Status.ABSENT).values_list("pk", flat=True))
    offered = set(
        Notification.objects.filter(kind="training-makeup-offer").values_list(
            "subject_id", flat=True
        )
    )
    assert no_shows and no_shows <= offered
    # Everyone offered one was absent (marked on the roster or never checked in).
    assert set(Booking.objects.filter(pk__in=offered).values_list("status", flat=True)) == {
        Status.ABSENT
    }
    assert Feedback.objects.count() >= 5
    assert set(Feedback.objects.values_list("rating", flat=True)) <= {3, 4, 5}
    # The demo manager came to the latest one.
    assert latest.bookings.filter(person__email="manager@example.com", status=Status.ATTENDED)


def _coverage(at) -> dict[str, float]:
    """Per department, the share of people who attended within the twelve months up to `at`."""
    attended = set(
        Booking.objects.filter(
            status__in=(Status.ATTENDED, Status.LATE),
            session__starts_at__lte=at,
            session__starts_at__gt=at - timedelta(days=365),
        ).values_list("person_id", flat=True)
    )
    people: dict[str, list[int]] = {}
    for pk, department in User.objects.filter(is_active=True).values_list("pk", "department__name"):
        people.setdefault(department, []).append(pk)
    return {
        department: sum(pk in attended for pk in pks) / len(pks)
        for department, pks in people.items()
    }


def test_a_year_of_briefings_coverage_differs_by_department_and_changes_by_month():
    _seed()
    now = timezone.now()
    past = _demo_sessions().filter(starts_at__lt=now, starts_at__gt=now - timedelta(days=366))
    # Spread over the year (by days, not calendar months: those depend on today's date).
    days_ago = sorted((now - s.starts_at).days for s in past)
    assert len(days_ago) >= 6 and days_ago[-1] - days_ago[0] >= 270
    statuses = set(
        Booking.objects.filter(session__in=past).values_list("status", flat=True).distinct()
    )
    assert {Status.ATTENDED, Status.LATE, Status.ABSENT} <= statuses
    today = _coverage(now)
    assert max(today.values()) - min(today.values()) >= 0.4
    assert today["Communications"] > today["Engineering"]
    # Coverage grows over the months, and dips when last year's round lapses.
    overall = []
    for months_ago in range(12, -1, -1):
        figures = _coverage(now - timedelta(days=30 * months_ago))
        overall.append(sum(figures.values()) / len(figures))
    assert overall[-1] > overall[0] + 0.15
    assert any(later < earlier for earlier, later in zip(overall, overall[1:], strict=False))


def test_a_later_run_adds_upcoming_sessions_when_none_is_left():
    _seed()
    later = timezone.now() + timedelta(days=45)
    assert not Session.objects.filter(starts_at__gt=later).exists()
    counts = seed_demo_training(now=later)
    assert counts["created"] == 4
    upcoming = Session.objects.filter(starts_at__gt=later, status=Session.Status.SCHEDULED)
    assert upcoming.count() == 4
    assert Booking.objects.filter(session__in=upcoming, status=Status.WAITLISTED).exists()
    assert seed_demo_training(now=later)["created"] == 0


# --- the admin ------------------------------------------------------------------------


def _admin(model, view, *args):
    return reverse(f"admin:training_{model}_{view}", args=args)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200, url
    return len(queries)


@pytest.fixture
def topic():
    return Topic.objects.create(name="Social media basics")


def _held_session(*, topic, organiser, presenter, people, days_ago: int) -> Session:
    """A session that took place: booked, checked in, marked, completed, rated."""
    starts = timezone.now() - timedelta(days=days_ago)
    session = services.create_session(
        by=organiser,
        title=f"Briefing {days_ago}",
        topic=topic,
        presenter=presenter,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=45),
        time_zone="Europe/London",
        capacity=len(people),
        room=ROOM,
    )
    for person in people:
        services.book(session=session, person=person, now=starts - timedelta(days=2))
    first, *rest = people
    services.check_in(session=session, person=first, code=session.checkin_code, now=starts)
    services.mark_attendance(
        session=session,
        by=presenter,
        marks={b.pk: Status.LATE for b in session.bookings.filter(person__in=rest[:1])},
    )
    services.complete_session(session=session, by=presenter, now=starts + timedelta(hours=1))
    booking = session.bookings.get(person=first)
    services.leave_feedback(booking=booking, person=first, rating=4, comment="Good.")
    return session


@pytest.mark.parametrize(
    "model",
    ["session", "booking", "feedback", "checkinattempt", "requirement", "topic", "series"],
)
def test_admin_lists_do_not_query_per_row(
    client, site_admin, policy_admin, comms, make_person, topic, model
):
    requirement = Requirement.objects.create(name="Yearly")
    requirement.accepted_topics.add(topic)
    people = [make_person() for _ in range(3)]
    _held_session(topic=topic, organiser=policy_admin, presenter=comms, people=people, days_ago=3)
    client.force_login(site_admin)
    url = _admin(model, "changelist")
    few = _queries(client, url)

    people += [make_person() for _ in range(6)]
    for number in range(4, 9):
        other = Topic.objects.create(name=f"Topic {number}")
        requirement = Requirement.objects.create(name=f"Requirement {number}")
        requirement.accepted_topics.add(topic, other)
        _held_session(
            topic=other, organiser=policy_admin, presenter=comms, people=people, days_ago=number
        )
    services.create_series(
        by=policy_admin,
        pattern="weekly",
        count=3,
        starts_at=timezone.now() + timedelta(days=2),
        ends_at=timezone.now() + timedelta(days=2, hours=1),
        time_zone="Europe/London",
        title="Weekly",
        topic=topic,
        presenter=comms,
        capacity=5,
        room=ROOM,
    )
    assert _queries(client, url) <= few


def test_session_list_shows_seats_booked_and_the_waitlist(
    client, site_admin, policy_admin, comms, make_person, topic
):
    starts = timezone.now() + timedelta(days=3)
    session = services.create_session(
        by=policy_admin,
        title="Lunch briefing",
        topic=topic,
        presenter=comms,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=45),
        time_zone="Europe/London",
        capacity=2,
        room=ROOM,
    )
    for _ in range(3):
        services.book(session=session, person=make_person())
    client.force_login(site_admin)
    page = client.get(_admin("session", "changelist")).content.decode()
    bookings = _admin("booking", "changelist")
    assert f'<a href="{bookings}?session__id__exact={session.pk}">2</a>' in page
    assert '<td class="field-waitlisted">1</td>' in page
    listing = client.get(f"{bookings}?session__id__exact={session.pk}&status__exact=waitlisted")
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1


def test_every_training_admin_page_opens_for_a_site_admin(
    client, site_admin, policy_admin, comms, make_person, topic
):
    Requirement.objects.create(name="Yearly").accepted_topics.add(topic)
    session = _held_session(
        topic=topic,
        organiser=policy_admin,
        presenter=comms,
        people=[make_person(), make_person()],
        days_ago=2,
    )
    (series_session,) = services.create_series(
        by=policy_admin,
        pattern="monthly",
        count=1,
        starts_at=timezone.now() + timedelta(days=2),
        ends_at=timezone.now() + timedelta(days=2, hours=1),
        time_zone="Europe/London",
        title="Monthly",
        topic=topic,
        presenter=comms,
        capacity=5,
        room=ROOM,
    )
    objects = {
        "topic": topic,
        "requirement": Requirement.objects.get(),
        "series": Series.objects.get(),
        "session": session,
        "booking": session.bookings.first(),
        "feedback": Feedback.objects.get(),
        "checkinattempt": CheckInAttempt.objects.first(),
    }
    client.force_login(site_admin)
    for model, obj in objects.items():
        assert client.get(_admin(model, "changelist")).status_code == 200, model
        assert client.get(_admin(model, "change", obj.pk)).status_code == 200, model
    for model in ("topic", "requirement", "session"):
        assert client.get(_admin(model, "add")).status_code == 200, model
    assert client.get(_admin("session", "change", series_session.pk)).status_code == 200


def test_session_time_place_and_capacity_change_only_through_the_services(
    client, site_admin, policy_admin, comms, make_person, topic
):
    session = _held_session(
        topic=topic, organiser=policy_admin, presenter=comms, people=[make_person()], days_ago=1
    )
    client.force_login(site_admin)
    page = client.get(_admin("session", "change", session.pk)).content.decode()
    assert 'name="title"' in page and 'name="presenter"' in page
    for fixed in ("starts_at_0", "room", "capacity", "status", "checkin_code", "sequence"):
        assert f'name="{fixed}"' not in page, fixed
    assert session.checkin_code in page  # shown, for a presenter who lost it


def test_bookings_feedback_and_check_in_attempts_are_records(
    client, site_admin, policy_admin, comms, make_person, topic
):
    person = make_person()
    session = _held_session(
        topic=topic, organiser=policy_admin, presenter=comms, people=[person], days_ago=1
    )
    booking = session.bookings.get()
    feedback = Feedback.objects.get()
    attempt = CheckInAttempt.objects.get()
    client.force_login(site_admin)

    assert client.get(_admin("booking", "add")).status_code == 403
    assert client.post(_admin("booking", "delete", booking.pk), {"post": "yes"}).status_code == 403
    page = client.get(_admin("booking", "change", booking.pk)).content.decode()
    assert 'name="dietary_needs"' in page and 'name="status"' not in page
    client.post(
        _admin("booking", "change", booking.pk),
        {"lunch": "vegan", "dietary_needs": "No nuts", "status": "absent"},
    )
    booking.refresh_from_db()
    assert booking.lunch == "vegan" and booking.dietary_needs == "No nuts"
    assert booking.status == Status.ATTENDED

    for model, obj in (("feedback", feedback), ("checkinattempt", attempt)):
        view = client.get(_admin(model, "change", obj.pk))
        assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
        assert client.post(_admin(model, "change", obj.pk), {}).status_code == 403
        assert client.get(_admin(model, "add")).status_code == 403
        assert client.post(_admin(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    feedback.refresh_from_db()
    assert feedback.rating == 4


def test_non_staff_people_cannot_open_the_training_admin(client, policy_admin, employee):
    for person in (policy_admin, employee):
        client.force_login(person)
        response = client.get(_admin("session", "changelist"))
        assert response.status_code == 302 and "/admin/login/" in response.url
