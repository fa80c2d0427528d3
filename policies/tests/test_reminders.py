"""Policy reminders through the outbox: due soon, due today, overdue weekly, escalated to
the manager, declined to the owner; acknowledging cancels what was planned."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail

from notifications.models import Notification
from notifications.services import plan_due, send_due
from people import roles
from people.models import Department
from policies import services
from policies.models import Assignment, Policy

pytestmark = pytest.mark.django_db
Status = Notification.Status

# Friday 27 November 2026; the policy takes effect two weeks before.
DUE = date(2026, 11, 27)
WINDOW = 14


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(settings.TIME_ZONE))


@pytest.fixture
def assignment(make_person, policy_admin, employee) -> Assignment:
    """The employee's open assignment, due on DUE; the employee alone is the audience."""
    reviewer = make_person(full_name="Ravi Patel", group=roles.POLICY_ADMIN)
    marketing = Department.objects.create(name="Marketing")
    employee.department = marketing
    employee.save()
    policy = services.create_policy(
        title="Speaking to the press",
        owner=policy_admin,
        audience=Policy.Audience.DEPARTMENTS,
        departments=[marketing],
        acknowledgement_window_days=WINDOW,
    )
    version = services.create_draft(
        policy=policy,
        author=policy_admin,
        body="## Rules\nRefer journalists to comms.\n",
        effective_from=DUE - timedelta(days=WINDOW),
    )
    services.submit_for_review(version=version, user=policy_admin)
    services.approve(version=version, user=reviewer)
    services.publish(version=version, user=reviewer)
    # The publication's own reminder is timed by the real clock; these tests move the
    # clock themselves, so it is left out of their way.
    Notification.objects.filter(kind="policy-published").delete()
    found = Assignment.objects.get(person=employee, policy=policy)
    assert found.due_date == DUE
    return found


TITLE = "Speaking to the press 1.0"


def policy_rows(**filters):
    return Notification.objects.filter(kind__startswith="policy-", **filters).order_by("id")


def mail_to(person, containing: str = "") -> list:
    return [m for m in mail.outbox if m.to == [person.email] and containing in m.subject]


def mail_carrying(row: Notification):
    """The one email that carried this outbox row (a digest carries several)."""
    (message,) = [
        m
        for m in mail.outbox
        if str(row.pk) in m.extra_headers.get("X-PolicyHub-Notification", "").split(",")
    ]
    return message


def test_due_in_three_days_plans_a_due_soon_reminder_for_the_digest(assignment, employee):
    assert settings.POLICY_DUE_SOON_DAYS == 3
    plan_due(now=at(DUE - timedelta(days=4)))
    assert not policy_rows().exists()

    plan_due(now=at(DUE - timedelta(days=3)))  # Tuesday
    row = policy_rows().get()
    assert (row.kind, row.recipient, row.subject) == ("policy-due-soon", employee, assignment)
    assert row.stage == "due-soon-20261127"
    assert row.digest and row.send_after == at(DUE - timedelta(days=2), 9)  # Wednesday 09:00
    plan_due(now=at(DUE - timedelta(days=2)))
    assert policy_rows().count() == 1  # planned once

    send_due(now=at(DUE - timedelta(days=2), 9))
    row.refresh_from_db()
    assert row.status == Status.SENT
    digest = mail_carrying(row)
    assert digest.to == [employee.email]
    assert TITLE in digest.body and "A policy acknowledgement is due soon" in digest.body


def test_due_today_is_urgent_and_sent_at_once(assignment, employee):
    now = at(DUE)
    plan_due(now=now)
    row = policy_rows(kind="policy-due-today").get()
    assert row.recipient == employee and row.subject == assignment
    assert not row.digest and row.send_after == now
    send_due(now=now)
    row.refresh_from_db()
    assert row.status == Status.SENT
    message = mail_carrying(row)
    assert message.to == [employee.email]
    assert message.subject == f"Due today: acknowledge {TITLE}"
    assert f"/policies/{assignment.policy.slug}/" in message.body


def test_overdue_reminders_come_weekly_not_every_planner_run(assignment, employee):
    planned_on = {}
    for days_late in range(1, 16):
        day = DUE + timedelta(days=days_late)
        for hour in (8, 12, 16):  # the planner runs many times a day
            plan_due(now=at(day, hour))
        for row in policy_rows(kind="policy-overdue", recipient=employee):
            planned_on.setdefault(row.stage, days_late)
    assert planned_on == {
        "overdue-20261127-week-0": 1,
        "overdue-20261127-week-1": 7,
        "overdue-20261127-week-2": 14,
    }
    rows = policy_rows(kind="policy-overdue", recipient=employee)
    assert {row.overdue_since for row in rows} == {DUE}


def test_seven_days_overdue_escalates_to_the_manager_in_their_digest(assignment, employee, manager):
    assert settings.POLICY_ESCALATE_AFTER_DAYS == 7
    plan_due(now=at(DUE + timedelta(days=6)))
    assert not policy_rows(stage=Notification.ESCALATION).exists()

    escalated_at = at(DUE + timedelta(days=7))  # Friday 4 December
    plan_due(now=escalated_at)
    escalation = policy_rows(stage=Notification.ESCALATION).get()
    assert (escalation.kind, escalation.recipient, escalation.about_person) == (
        "policy-overdue",
        manager,
        employee,
    )
    assert escalation.subject == assignment and escalation.overdue_since == DUE
    assert escalation.digest
    monday_nine = at(date(2026, 12, 7), 9)
    assert escalation.send_after == monday_nine
    for days_late in (8, 14, 21):
        plan_due(now=at(DUE + timedelta(days=days_late)))
    assert policy_rows(stage=Notification.ESCALATION).count() == 1  # escalated once

    send_due(now=monday_nine)
    escalation.refresh_from_db()
    assert escalation.status == Status.SENT
    digest = mail_carrying(escalation)
    assert digest.to == [manager.email]
    assert "Overdue in your team" in digest.body
    assert f"Emily Carter: {TITLE} (due 27 Nov 2026)" in digest.body


def test_acknowledging_cancels_planned_reminders_before_they_are_sent(
    assignment, employee, manager
):
    plan_due(now=at(DUE - timedelta(days=3)))
    plan_due(now=at(DUE + timedelta(days=7)))
    planned = list(policy_rows(status=Status.PLANNED))
    assert {row.kind for row in planned} == {"policy-due-soon", "policy-overdue"}
    assert any(row.recipient == manager for row in planned)  # the escalation

    services.acknowledge(
        version=assignment.version, user=employee, full_name="Emily Carter", request_meta={}
    )
    send_due(now=at(DUE + timedelta(days=30)))
    assert set(policy_rows().values_list("status", flat=True)) == {Status.CANCELLED}
    assert all(
        TITLE not in m.body for m in mail.outbox if m.to in ([employee.email], [manager.email])
    )
    # Nothing more is planned for a done assignment.
    plan_due(now=at(DUE + timedelta(days=31)))
    assert not policy_rows(status=Status.PLANNED).exists()


def test_an_urgent_reminder_is_cancelled_too_if_acknowledged_first(assignment, employee):
    plan_due(now=at(DUE))
    services.acknowledge(
        version=assignment.version, user=employee, full_name="Emily Carter", request_meta={}
    )
    send_due(now=at(DUE))
    assert policy_rows(kind="policy-due-today").get().status == Status.CANCELLED
    assert mail_to(employee, "Due today") == []


def test_a_decline_is_sent_to_the_owner_at_once(assignment, employee, policy_admin):
    services.decline(version=assignment.version, user=employee, reason="I cannot agree to rule 2.")
    send_due()
    row = policy_rows(kind="policy-declined").get()
    message = mail_carrying(row)
    assert message.to == [policy_admin.email]
    assert message.subject == f"Emily Carter declined {TITLE}"
    assert "I cannot agree to rule 2." in message.body
    assert f"/policies/manage/versions/{assignment.version_id}/compliance/" in message.body
    row.refresh_from_db()
    assert row.status == Status.SENT and not row.digest
