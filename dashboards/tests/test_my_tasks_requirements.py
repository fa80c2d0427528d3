"""My tasks' briefings to book: read with the page's own bookings and the roles every page reads,
they are the same as training.compliance.requirements_to_book says, audience by audience."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from dashboards.queries import my_tasks
from people import audience
from people.models import Department, User
from training.compliance import requirements_to_book
from training.models import Booking, Requirement, Session
from training.tests.factories import held_session, topic, upcoming_session

pytestmark = pytest.mark.django_db


def _requirement(name, *topics, kind=audience.EVERYONE, departments=(), groups=(), **fields):
    requirement = Requirement.objects.create(name=name, audience=kind, **fields)
    requirement.accepted_topics.add(*topics)
    requirement.audience_departments.add(*departments)
    requirement.audience_groups.add(*groups)
    return requirement


def _booking(session, person, status):
    return Booking.objects.create(
        session=session,
        person=person,
        status=status,
        waitlist_position=1 if status == Booking.Status.WAITLISTED else None,
        booked_by=person,
        booked_at=timezone.now(),
    )


@pytest.fixture
def world(make_person, policy_admin):
    """A person in a sub-department and a group, and a requirement of every kind around them."""
    now = timezone.now()
    parent = Department.objects.create(name="Sales")
    child = Department.objects.create(name="Field sales", parent=parent)
    other = Department.objects.create(name="Finance")
    theirs, not_theirs = Group.objects.create(name="Shop floor"), Group.objects.create(name="Board")
    person = make_person(department=child)
    person.groups.add(theirs)
    topics = {name: topic(name) for name in "abcdefgh"}

    _requirement("Everyone, never attended", topics["a"])
    _requirement("Their parent department", topics["b"], kind="departments", departments=[parent])
    _requirement("Another department", topics["c"], kind=audience.DEPARTMENTS, departments=[other])
    _requirement("Their group", topics["d"], kind=audience.GROUPS, groups=[theirs])
    _requirement("Another group", topics["d"], kind=audience.GROUPS, groups=[not_theirs])
    _requirement("Switched off", topics["a"], active=False)
    _requirement("Attended lately", topics["e"], topics["f"])
    _requirement("Attended long ago", topics["g"], every_months=12)
    _requirement("Seat booked", topics["h"])
    _requirement("Only waitlisted", topics["c"])
    _requirement("No topic yet")

    _booking(
        held_session(topics["f"], policy_admin, starts_at=now - timedelta(days=30)),
        person,
        "attended",
    )
    _booking(
        held_session(topics["g"], policy_admin, starts_at=now - timedelta(days=500)), person, "late"
    )
    cancelled = held_session(topics["a"], policy_admin, starts_at=now - timedelta(days=3))
    Session.objects.filter(pk=cancelled.pk).update(status=Session.Status.CANCELLED)
    _booking(cancelled, person, "attended")  # a cancelled session never counts
    _booking(upcoming_session(topics["h"], policy_admin), person, Booking.Status.BOOKED)
    _booking(upcoming_session(topics["c"], policy_admin), person, Booking.Status.WAITLISTED)
    return person


EXPECTED = [
    "Attended long ago",
    "Everyone, never attended",
    "No topic yet",
    "Only waitlisted",
    "Their group",
    "Their parent department",
]


def _to_book(person) -> list[tuple[str, object]]:
    return [(task.title, task.due) for task in my_tasks(person).tasks if task.kind == "requirement"]


def _compliance_says(person) -> list[tuple[str, object]]:
    statuses = requirements_to_book(person)
    statuses.sort(key=lambda status: (status.due_by is not None, status.due_by))
    return [(status.requirement.name, status.due_by) for status in statuses]


def test_the_briefings_to_book_are_those_compliance_counts(world):
    person = User.objects.get(pk=world.pk)
    assert [name for name, _ in _to_book(person)] == EXPECTED
    assert _to_book(User.objects.get(pk=world.pk)) == _compliance_says(person)


def test_a_new_joiner_is_given_their_deadline_as_compliance_gives_it(world):
    User.objects.filter(pk=world.pk).update(start_date=timezone.localdate() - timedelta(days=3))
    Requirement.objects.update(new_joiners_within_days=30)
    person = User.objects.get(pk=world.pk)
    found = _to_book(person)
    assert found == _compliance_says(User.objects.get(pk=world.pk))
    assert {due for _, due in found} == {timezone.localdate() + timedelta(days=27)}


def test_without_a_department_or_groups_only_everyones_count(world):
    User.objects.filter(pk=world.pk).update(department=None)
    world.groups.clear()
    person = User.objects.get(pk=world.pk)
    found = [name for name, _ in _to_book(person)]
    assert "Their group" not in found and "Their parent department" not in found
    assert _to_book(User.objects.get(pk=world.pk)) == _compliance_says(person)


def test_someone_in_the_other_department_and_group_sees_those(world, make_person):
    other = make_person(department=Department.objects.get(name="Finance"))
    other.groups.add(Group.objects.get(name="Board"))
    found = [name for name, _ in _to_book(User.objects.get(pk=other.pk))]
    assert "Another department" in found and "Another group" in found
    assert "Their group" not in found
    assert _to_book(User.objects.get(pk=other.pk)) == _compliance_says(other)


def test_the_page_reads_requirements_in_two_queries_however_many(
    client, world, django_assert_max_num_queries
):
    """The department tree and the requirements with their topics; every other read of the
    page is the same whatever the requirements (counted in test_my_tasks.py)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world)
    with CaptureQueriesContext(connection) as few:
        assert "Their group" in client.get(reverse("my_tasks")).text
    for number in range(20):
        _requirement(
            f"More {number:02}",
            topic(f"More {number:02}"),
            kind=audience.GROUPS,
            groups=list(world.groups.all()),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("my_tasks")).text
    assert "and 16 more briefings to book" in page
    requirement_reads = [
        q["sql"] for q in few.captured_queries if "training_requirement" in q["sql"]
    ]
    assert len(requirement_reads) == 1, requirement_reads
