"""Edges found in review: addresses, declines, quizzes, digest cost."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from notifications.services import send_due
from policies import services
from policies.models import PolicyError
from policies.tests.factories import published_policy

pytestmark = pytest.mark.django_db


def test_policy_addresses_are_unique_and_never_a_page_of_their_own(policy_admin):
    first = services.create_policy(title="A & B", owner=policy_admin)
    second = services.create_policy(title="A B", owner=policy_admin)
    manage = services.create_policy(title="Manage", owner=policy_admin)
    assert (first.slug, second.slug, manage.slug) == ("a-b", "a-b-2", "manage-2")


def test_someone_who_declined_is_told_so_when_trying_to_acknowledge(employee, policy_admin, leader):
    _, version = published_policy(title="Press", owner=policy_admin, approver=leader)
    services.decline(version=version, user=employee, reason="I speak at conferences.")
    with pytest.raises(PolicyError, match="You declined version 1.0 on .*Priya Shah"):
        services.acknowledge(version=version, user=employee, full_name="Emily Carter")


def test_a_quiz_only_counts_for_someone_who_has_to_acknowledge(
    employee, outsider, policy_admin, leader
):
    _, version = published_policy(
        title="Accounts",
        owner=policy_admin,
        approver=leader,
        questions=[("Who may post?", ["Anyone", "The comms team"], 1)],
    )
    question = version.questions.get()
    assert services.submit_quiz(version=version, user=employee, answers={question.pk: 1}).passed
    services.retire(version=version, user=leader)
    version.refresh_from_db()
    with pytest.raises(PolicyError, match="not the current version"):
        services.submit_quiz(version=version, user=outsider, answers={question.pk: 1})


def test_a_digest_of_policy_reminders_costs_the_same_for_few_and_many(
    make_person, policy_admin, leader, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people = [make_person(time_zone="Europe/London") for _ in range(3)]
    for number in range(6):
        published_policy(title=f"Policy {number}", owner=policy_admin, approver=leader)
    nine = datetime(2030, 1, 7, 9, 0, tzinfo=ZoneInfo("Europe/London"))  # a Monday
    Notification.objects.update(send_after=nine)

    def queries_for(person) -> int:
        others = Notification.objects.exclude(recipient=person)
        held = list(others.values_list("pk", "send_after"))
        others.update(send_after=datetime(2031, 1, 1, tzinfo=ZoneInfo("UTC")))
        with CaptureQueriesContext(connection) as queries:
            result = send_due(now=nine)
        assert result.digests == 1
        for pk, send_after in held:
            Notification.objects.filter(pk=pk).update(send_after=send_after)
        return len(queries.captured_queries)

    few_rows = people[0]
    # Leave only two rows for the first person, all six for the second.
    keep = list(Notification.objects.filter(recipient=few_rows).values_list("pk", flat=True))[:2]
    Notification.objects.filter(recipient=few_rows).exclude(pk__in=keep).delete()
    assert queries_for(few_rows) == queries_for(people[1])


def test_someone_who_edited_a_draft_cannot_approve_it(make_person, policy_admin, leader):
    from django.contrib.auth.models import Group

    from people import roles

    other_admin = make_person()
    other_admin.groups.add(Group.objects.get_or_create(name=roles.POLICY_ADMIN)[0])
    policy = services.create_policy(title="Press", owner=policy_admin)
    draft = services.create_draft(policy=policy, author=policy_admin, body="## A\nText")
    services.update_draft(
        version=draft,
        user=other_admin,
        body="## A\nOther text",
        change_summary="",
        change="material",
    )
    services.submit_for_review(version=draft, user=other_admin)
    with pytest.raises(PolicyError, match="You edited this draft"):
        services.approve(version=draft, user=other_admin)
    assert services.approve(version=draft, user=leader).status == "approved"


def test_a_quiz_is_refused_to_someone_with_nothing_to_acknowledge(
    make_person, policy_admin, leader
):
    from people.models import Department
    from policies.models import Policy

    sales = Department.objects.create(name="Sales")
    _, version = published_policy(
        title="Sales only",
        owner=policy_admin,
        approver=leader,
        audience=Policy.Audience.DEPARTMENTS,
        departments=[sales],
        questions=[("Who may post?", ["Anyone", "The comms team"], 1)],
    )
    stranger = make_person()
    with pytest.raises(PolicyError, match="not waiting for your acknowledgement"):
        services.submit_quiz(
            version=version, user=stranger, answers={version.questions.get().pk: 1}
        )


def test_a_declined_assignment_can_be_reopened_by_the_owner(client, employee, policy_admin, leader):
    from django.urls import reverse

    from policies.models import Assignment, Decline

    _, version = published_policy(title="Press", owner=policy_admin, approver=leader)
    decline = services.decline(version=version, user=employee, reason="I do talks.")
    client.force_login(employee)
    assert (
        client.post(
            reverse("policies:manage_reopen_decline", args=[version.pk, decline.pk])
        ).status_code
        == 403
    )
    client.force_login(policy_admin)
    client.post(reverse("policies:manage_reopen_decline", args=[version.pk, decline.pk]))
    assert Assignment.objects.get(person=employee, version=version).status == "open"
    assert Decline.objects.filter(pk=decline.pk).exists()  # the decline stays on record
    services.acknowledge(version=version, user=employee, full_name="Emily Carter")
