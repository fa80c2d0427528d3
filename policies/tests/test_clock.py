"""Every policy service that records a time takes the caller's clock (`now=`): the demo,
the bench and tests pass a moment instead of patching timezone.now."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from people import roles
from policies import services
from policies.models import Assignment, PolicyVersion, QuizQuestion, VersionEvent

pytestmark = pytest.mark.django_db

Status = PolicyVersion.Status
BODY = "## Why\nSpeak with care.\n"


@pytest.fixture
def reviewer(make_person):
    return make_person(full_name="Ravi Patel", group=roles.POLICY_ADMIN)


def moment(day: int, hour: int = 9) -> datetime:
    """A fixed moment in 2024, far from the wall clock."""
    return timezone.make_aware(datetime(2024, 3, day, hour))


def test_the_version_workflow_records_the_moments_it_is_given(policy_admin, reviewer, employee):
    policy = services.create_policy(title="Clock", owner=policy_admin, now=moment(1))
    draft = services.create_draft(policy=policy, author=policy_admin, body=BODY, now=moment(2))
    services.update_draft(
        version=draft,
        user=reviewer,
        body=BODY + "More.\n",
        change_summary="",
        change=PolicyVersion.Change.MATERIAL,
        now=moment(3),
    )
    services.submit_for_review(version=draft, user=policy_admin, now=moment(4))
    services.return_to_draft(version=draft, user=policy_admin, now=moment(5))
    services.submit_for_review(version=draft, user=policy_admin, now=moment(6))
    other = services.create_policy(title="Clock 2", owner=policy_admin, now=moment(1))
    second = services.create_draft(policy=other, author=policy_admin, body=BODY, now=moment(2))
    services.submit_for_review(version=second, user=policy_admin, now=moment(4))
    services.approve(version=second, user=reviewer, now=moment(7))
    services.publish(version=second, user=reviewer, now=moment(8))
    services.retire(version=second, user=reviewer, now=moment(9))

    policy.refresh_from_db()
    draft.refresh_from_db()
    second.refresh_from_db()
    assert policy.created_at == moment(1)
    assert draft.created_at == moment(2)
    assert [e.at for e in VersionEvent.objects.filter(version=draft).order_by("at")] == [
        moment(2),
        moment(3),
        moment(4),
        moment(5),
        moment(6),
    ]
    assert second.approved_at == moment(7)
    assert second.published_at == moment(8)
    assert second.effective_from == moment(8).date()
    assignment = Assignment.objects.get(version=second, person=employee)
    assert assignment.assigned_at == moment(8)
    assert assignment.due_date == moment(8).date() + timedelta(days=14)
    assert assignment.completed_at == moment(9)
    assert VersionEvent.objects.filter(version=second).latest("at").at == moment(9)


def test_scheduling_is_judged_against_the_given_moment(policy_admin, reviewer):
    policy = services.create_policy(title="Later", owner=policy_admin)
    version = services.create_draft(policy=policy, author=policy_admin, body=BODY)
    services.submit_for_review(version=version, user=policy_admin)
    services.approve(version=version, user=reviewer)
    # A moment before the clock is scheduled, one after it would be published at once.
    version = services.publish(version=version, user=reviewer, at=moment(10), now=moment(8))
    assert version.status == Status.APPROVED
    assert version.scheduled_for == moment(10)
    assert services.publish_due_versions(now=moment(9)) == 0
    assert services.publish_due_versions(now=moment(11)) == 1
    version.refresh_from_db()
    assert version.published_at == moment(11)


def test_reading_acknowledging_and_declining_record_the_given_moments(
    policy_admin, reviewer, employee, make_person
):
    policy = services.create_policy(title="Read", owner=policy_admin, now=moment(1))
    version = services.create_draft(policy=policy, author=policy_admin, body=BODY, now=moment(1))
    QuizQuestion.objects.create(
        version=version, position=0, text="Who speaks?", choices=["Me", "Us"], correct=0
    )
    services.submit_for_review(version=version, user=policy_admin, now=moment(1))
    services.approve(version=version, user=reviewer, now=moment(1))
    services.publish(version=version, user=reviewer, now=moment(2))
    attempt = services.submit_quiz(
        version=version,
        user=employee,
        answers={version.questions.get().pk: 0},
        now=moment(3),
    )
    assert attempt.at == moment(3)
    ack = services.acknowledge(
        version=version, user=employee, full_name=employee.get_full_name(), now=moment(4)
    )
    assert ack.acknowledged_at == moment(4)
    assert Assignment.objects.get(version=version, person=employee).completed_at == moment(4)

    paper = make_person(full_name="Paula Paper")
    services.reconcile_assignments(policies=[policy], now=moment(5))
    assert Assignment.objects.get(version=version, person=paper).assigned_at == moment(5)
    on_paper = services.acknowledge_on_behalf(
        version=version, person=paper, by=policy_admin, reason="Signed on paper", now=moment(6)
    )
    assert on_paper.acknowledged_at == moment(6)

    doubter = make_person(full_name="Dana Doubt")
    services.reconcile_assignments(policies=[policy], now=moment(6))
    declined = services.decline(version=version, user=doubter, reason="Unclear", now=moment(7))
    assert declined.at == moment(7)
    assignment = Assignment.objects.get(version=version, person=doubter)
    assert assignment.completed_at == moment(7)
    services.reopen_declined(assignment=assignment, by=policy_admin, now=moment(8))
    assignment.refresh_from_db()
    assert assignment.due_date == moment(8).date() + timedelta(days=14)
    assert services.verify_chain().ok


def test_translations_record_the_given_moments(policy_admin):
    policy = services.create_policy(title="Words", owner=policy_admin)
    version = services.create_draft(policy=policy, author=policy_admin, body=BODY)
    translation = services.add_translation(
        version=version,
        user=policy_admin,
        language="de",
        title="Worte",
        body="## Warum\nMit Sorgfalt.\n",
        now=moment(2),
    )
    assert (translation.created_at, translation.updated_at) == (moment(2), moment(2))
    services.update_translation(
        translation=translation,
        user=policy_admin,
        title="Worte",
        body="## Warum\nMit viel Sorgfalt.\n",
        now=moment(3),
    )
    translation.refresh_from_db()
    assert (translation.created_at, translation.updated_at) == (moment(2), moment(3))
    services.remove_translation(translation=translation, user=policy_admin, now=moment(4))
    assert [
        e.at for e in VersionEvent.objects.filter(version=version, note__contains="translation")
    ] == [moment(2), moment(3), moment(4)]
