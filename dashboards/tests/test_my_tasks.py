from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from policies import services
from policies.models import Assignment

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


def test_my_tasks_query_count_does_not_grow(
    client, employee, policy_admin, leader, django_assert_max_num_queries
):
    client.force_login(employee)
    _published("Policy 0", policy_admin, leader)
    with django_assert_max_num_queries(16) as few:
        client.get(reverse("my_tasks"))
    for number in range(1, 8):
        _published(f"Policy {number}", policy_admin, leader)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("my_tasks"))


def test_my_tasks_lists_a_required_briefing_until_one_is_booked(client, employee, policy_admin):
    from training import services as training_services
    from training.models import Requirement
    from training.tests.factories import schedule, topic

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
