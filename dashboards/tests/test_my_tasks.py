from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboards.queries import TASKS_PER_KIND
from incidents import services as incident_services
from incidents.models import Incident
from incidents.tests.factories import in_status
from people import roles
from policies import services
from policies.models import Assignment
from training import services as training_services
from training.models import Requirement
from training.tests.factories import schedule, topic

pytestmark = pytest.mark.django_db


def _published(title, owner, approver, body="## Rules\nBe kind."):
    policy = services.create_policy(title=title, owner=owner)
    version = services.create_draft(policy=policy, author=owner, body=body)
    services.submit_for_review(version=version, user=owner)
    services.approve(version=version, user=approver)
    return services.publish(version=version, user=approver)


def test_my_tasks_lists_outstanding_acknowledgements_soonest_first(
    client, employee, policy_admin, leader
):
    first = _published("Social media policy", policy_admin, leader)
    second = _published("Speaking to the press", policy_admin, leader)
    Assignment.objects.filter(person=employee, version=second).update(
        due_date=timezone.localdate() - timedelta(days=2)
    )
    client.force_login(employee)
    page = client.get(reverse("my_tasks")).content.decode()
    assert page.index("Speaking to the press 1.0") < page.index("Social media policy 1.0")
    assert "Overdue: was due" in page
    assert reverse("policies:detail", args=[first.policy.slug]) in page
    assert "You have nothing to do right now." not in page


def test_acknowledged_policies_leave_my_tasks(client, employee, policy_admin, leader):
    version = _published("Social media policy", policy_admin, leader)
    services.acknowledge(version=version, user=employee, full_name=employee.full_name)
    client.force_login(employee)
    assert "You have nothing to do right now." in client.get(reverse("my_tasks")).content.decode()


def test_my_tasks_lists_a_required_briefing_until_one_is_booked(client, employee, policy_admin):
    requirement = Requirement.objects.create(name="Social media lunch briefing")
    requirement.accepted_topics.add(topic())
    session = schedule(policy_admin, title="Lunch briefing")
    client.force_login(employee)
    page = client.get(reverse("my_tasks")).content.decode()
    assert "Social media lunch briefing" in page and "Due now" in page
    training_services.book(session=session, person=employee)
    page = client.get(reverse("my_tasks")).content.decode()
    assert "Lunch briefing," in page and "Attend the briefing you booked" in page
    assert "Book a briefing: you still have to attend" not in page


def _review_to_sign_off(person, comms) -> Incident:
    """A learning-track incident involving `person`, in review, written and not signed."""
    incident = in_status(Incident.Status.REVIEW, by=comms, people_involved=[person])
    incident_services.write_review(
        incident=incident,
        by=comms,
        summary="A screenshot showed a customer's name.",
        contributing_factors="Cropping was a manual step.",
        spotted_sooner="A checklist.",
    )
    return incident


def test_a_line_manager_in_comms_is_shown_the_review_they_owe(client, manager, employee, comms):
    manager.groups.add(Group.objects.get_or_create(name=roles.COMMS)[0])
    incident = _review_to_sign_off(employee, comms)
    client.force_login(manager)
    page = client.get(reverse("my_tasks")).content.decode()
    assert f"Review of {incident.reference}" in page
    assert "Read the review and sign it off" in page


def test_comms_without_reports_are_not_asked_to_sign_off(client, employee, comms, make_person):
    other = make_person(group=roles.COMMS)
    incident = _review_to_sign_off(employee, comms)
    client.force_login(other)
    assert incident.reference not in client.get(reverse("my_tasks")).content.decode()


# --- bounded: a few of each kind, and how many more --------------------------------------


def _add_tasks(person, report, *, count, policy_admin, leader, comms, start=0):
    """`count` more tasks of every kind for `person` (a line manager of `report`):
    policies to acknowledge, briefings booked, briefings still to book, open incident
    actions and reviews to sign off."""
    booked = topic("Booked briefings")
    incident = in_status(Incident.Status.REMEDIATION, by=comms)
    for number in range(start, start + count):
        _published(f"Policy {number:02}", policy_admin, leader)
        session = schedule(
            policy_admin,
            title=f"Briefing {number:02}",
            topic=booked,
            starts_in=timedelta(days=3 + number),
        )
        training_services.book(session=session, person=person)
        requirement = Requirement.objects.create(name=f"Requirement {number:02}")
        requirement.accepted_topics.add(topic(f"Required topic {number:02}"))
        incident_services.add_action(
            incident=incident,
            by=comms,
            title=f"Action {number:02}",
            owner=person,
            due_date=timezone.localdate() + timedelta(days=number),
        )
        _review_to_sign_off(report, comms)


def _shown(page: str, prefix: str) -> int:
    return page.count(f'class="fw-semibold">{prefix}')


def test_my_tasks_lists_a_few_of_each_kind_and_links_to_the_rest(
    client, manager, employee, policy_admin, leader, comms
):
    extra = 3
    _add_tasks(
        manager,
        employee,
        count=TASKS_PER_KIND + extra,
        policy_admin=policy_admin,
        leader=leader,
        comms=comms,
    )
    client.force_login(manager)
    page = client.get(reverse("my_tasks")).content.decode()
    for prefix in ("Policy ", "Briefing ", "Requirement ", "Action ", "Review of "):
        assert _shown(page, prefix) == TASKS_PER_KIND, prefix
    # Soonest first: the first ones are listed, the last ones are counted.
    assert "Action 00 (" in page and f"Action {TASKS_PER_KIND + extra - 1:02}" not in page
    assert "Briefing 00," in page and f"Briefing {TASKS_PER_KIND + extra - 1:02}" not in page
    policies = reverse("policies:index")
    assert f'<a href="{policies}">and {extra} more policies to acknowledge</a>' in page
    training = reverse("training:index")
    booked = f"and {extra} more briefings booked or waitlisted"
    assert f'<a href="{training}#my-bookings">{booked}</a>' in page
    assert f'<a href="{training}">and {extra} more briefings to book</a>' in page
    actions = reverse("incidents:my_actions")
    assert f'<a href="{actions}">and {extra} more incident actions</a>' in page
    assert f"and {extra} more reviews to sign off" in page


def test_one_more_is_said_in_the_singular(client, employee, policy_admin, leader):
    for number in range(TASKS_PER_KIND + 1):
        _published(f"Policy {number:02}", policy_admin, leader)
    client.force_login(employee)
    page = client.get(reverse("my_tasks")).content.decode()
    assert "and 1 more policy to acknowledge" in page


def test_my_tasks_query_count_does_not_grow_with_tasks_of_every_kind(
    client, manager, employee, policy_admin, leader, comms
):
    kinds = dict(policy_admin=policy_admin, leader=leader, comms=comms)
    _add_tasks(manager, employee, count=1, **kinds)
    client.force_login(manager)
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("my_tasks")).content.decode()
    assert 'aria-label="More tasks"' not in page
    _add_tasks(manager, employee, count=TASKS_PER_KIND + 5, start=1, **kinds)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("my_tasks")).content.decode()
    assert page.count("and 6 more") == 5  # every kind has more than it lists
    assert len(few.captured_queries) < len(many.captured_queries)
    # The same queries, and a COUNT for each kind that fills its places and is read a page
    # at a time (policies, actions, reviews to sign off; the briefings booked and to book are
    # counted from what the page reads): 3 for who is asking, 6 for the page, 3 COUNTs.
    assert len(many.captured_queries) <= len(few.captured_queries) + 3 <= 12


# --- post reviews: the answers to read, the drafts waiting, and for comms the queue ---------


def _post_reviews(*, asker, count: int, start: int = 0) -> None:
    """`count` drafts `asker` sent to comms, still waiting."""
    from prevention.models import PostReview

    now = timezone.now()
    PostReview.objects.bulk_create(
        PostReview(
            requester=asker,
            draft=f"Draft {number:02}",
            needed_by=now + timedelta(hours=number + 1),
            created_at=now,
        )
        for number in range(start, start + count)
    )


def test_post_reviews_on_my_tasks_are_a_few_of_each_and_cost_flat(
    client, manager, employee, policy_admin, leader, comms
):
    from prevention import review_services
    from prevention.models import PostReview

    manager.groups.add(Group.objects.get_or_create(name=roles.COMMS)[0])
    kinds = dict(policy_admin=policy_admin, leader=leader, comms=comms)
    _add_tasks(manager, employee, count=1, **kinds)
    answered = review_services.ask_comms(requester=manager, draft="My own draft")
    review_services.decide(review=answered, by=comms, decision=PostReview.Status.APPROVED)
    _post_reviews(asker=manager, count=1)
    _post_reviews(asker=employee, count=1)
    client.force_login(manager)
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("my_tasks")).content.decode()
    assert 'aria-label="More tasks"' not in page
    assert "Comms answered your post review" in page
    assert "Your post review is waiting for comms" in page
    assert "Post review for Emily Carter, needed by" in page

    _add_tasks(manager, employee, count=TASKS_PER_KIND + 5, start=1, **kinds)
    _post_reviews(asker=manager, count=TASKS_PER_KIND + 4, start=1)
    _post_reviews(asker=employee, count=TASKS_PER_KIND + 5, start=1)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("my_tasks")).content.decode()
    # The answer comes first, however many drafts wait.
    assert page.index("Comms answered your post review") < page.index("Policy 00")
    assert page.count("Your post review is waiting for comms") == TASKS_PER_KIND - 1
    assert page.count("Post review for Emily Carter") == TASKS_PER_KIND
    my_reviews = reverse("prevention:my_reviews")
    assert f'<a href="{my_reviews}">and 6 more post reviews of yours</a>' in page
    queue = reverse("prevention:queue")
    assert f'<a href="{queue}">and 6 more post reviews waiting</a>' in page
    assert page.count("and 6 more") == 7
    # The page's budget of 12 (test above), one more for the comms queue, and a COUNT for
    # each kind of post review.
    assert len(many.captured_queries) <= len(few.captured_queries) + 5 <= 15
