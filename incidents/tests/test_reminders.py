"""Incident reminders through the outbox: the owner told at once, the self-reporter
thanked and told how it ended, action owners told of their actions, due soon, overdue
(daily, then weekly), escalated to their manager, the review due; and nothing sent once
its reason has gone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from incidents import services
from incidents.models import ActionItem, Incident
from incidents.reminders import overdue_stage
from incidents.tests.factories import in_status, reported, review_manager
from notifications.models import Notification, Preference
from notifications.services import plan_due, send_due
from people import roles

pytestmark = pytest.mark.django_db
Status = Incident.Status
Sent = Notification.Status

DUE = date(2027, 3, 10)  # a Wednesday
THANKS = "Thank you — telling us quickly is what lets mistakes be fixed sooner."


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(settings.TIME_ZONE))


def rows(kind: str, **filters):
    return Notification.objects.filter(kind=kind, **filters).order_by("id")


def mail_carrying(row: Notification):
    """The one email that carried this outbox row (a digest carries several)."""
    (message,) = [
        m
        for m in mail.outbox
        if str(row.pk) in m.extra_headers.get("X-PolicyHub-Notification", "").split(",")
    ]
    return message


def html(message) -> str:
    (body,) = [body for body, kind in message.alternatives if kind == "text/html"]
    return body


@pytest.fixture
def owner(make_person):
    return make_person(full_name="Owen Price", email="owen@example.com", group=roles.COMMS)


def immediately(person) -> None:
    """This person wants each reminder as it comes, not in the daily digest."""
    Preference.objects.update_or_create(
        user=person, defaults={"delivery": Preference.Delivery.IMMEDIATE}
    )


# --- the incident's owner -------------------------------------------------------------


def test_the_owner_is_told_at_once_when_an_incident_is_assigned(comms, owner, employee):
    incident = reported(employee, what_happened="A slide with next year's prices went out.")
    services.assign_owner(incident=incident, owner=owner, by=comms)
    row = rows("incident-assigned").get()
    assert (row.recipient, row.subject, row.digest) == (owner, incident, False)
    send_due()
    row.refresh_from_db()
    assert row.status == Sent.SENT
    message = mail_carrying(row)
    assert message.to == [owner.email]
    assert message.subject == f"Assigned to you: {incident.reference} (medium severity)"
    link = f"{settings.SITE_URL}{reverse('incidents:detail', args=[incident.pk])}"
    assert link in message.body and f'href="{link}"' in html(message)
    assert "next year's prices" in message.body
    assert "next year&#x27;s prices" in html(message)  # escaped in HTML, not in text


def test_a_reassignment_before_the_mail_goes_tells_only_the_new_owner(comms, owner, hr, employee):
    incident = services.assign_owner(incident=reported(employee), owner=owner, by=comms)
    services.assign_owner(incident=incident, owner=hr, by=comms)
    send_due()
    assert {(r.recipient, r.status) for r in rows("incident-assigned")} == {
        (owner, Sent.CANCELLED),
        (hr, Sent.SENT),
    }
    assert [m.to for m in mail.outbox] == [[hr.email]]


# --- the self-reporter ----------------------------------------------------------------


def test_a_self_reporter_is_thanked_at_once(employee):
    incident = reported(employee, self_reported=True)
    row = rows("incident-self-report-thanks").get()
    assert (row.recipient, row.digest) == (employee, False)
    send_due()
    message = mail_carrying(row)
    assert message.to == [employee.email]
    assert message.subject == f"Thank you for telling us ({incident.reference})"
    assert THANKS in message.body and THANKS in html(message)
    assert incident.reference in message.body
    assert reverse("incidents:detail", args=[incident.pk]) in message.body


def test_someone_reporting_a_concern_is_not_thanked_for_a_mistake(employee):
    reported(employee)
    assert not rows("incident-self-report-thanks").exists()


def test_a_self_reporter_on_the_learning_track_hears_it_ended_without_blame(comms, owner, employee):
    incident = in_status(
        Status.CLOSED, by=comms, owner=owner, reporter=employee, self_reported=True
    )
    assert incident.track == Incident.Track.LEARNING
    send_due()
    row = rows("incident-self-report-closed").get()
    assert row.recipient == employee and row.status == Sent.SENT
    message = mail_carrying(row)
    assert message.subject == f"Closed: {incident.reference}, the mistake you reported"
    for body in (message.body, html(message)):
        assert "learning track" in body and "no blame attached to you" in body
        assert "The plan to put it right is complete" in body


def test_a_self_reporter_on_the_accountability_track_hears_it_closed_in_plain_words(
    comms, owner, employee
):
    incident = in_status(
        Status.CONTAINED, by=comms, owner=owner, reporter=employee, self_reported=True
    )
    run = services.start_assessment(incident=incident, person=employee, act="Posted", by=owner)
    for key in ("intended_actions", "intended_harm"):
        services.answer(assessment=run, by=owner, key=key, value="yes")
    services.finish_assessment(assessment=run, by=owner)  # deliberate
    incident = services.transition(incident=incident, to=Status.CLASSIFIED, user=comms)
    assert incident.track == Incident.Track.ACCOUNTABILITY
    incident = services.transition(incident=incident, to=Status.REMEDIATION, user=comms)
    services.fill_plan(incident=incident, by=comms)
    for action in incident.actions.all():
        services.complete_action(action=action, by=owner, status="done", note="Done.")
    incident = services.transition(incident=incident, to=Status.REVIEW, user=comms)
    review = services.write_review(
        incident=incident, by=comms, summary="s", contributing_factors="c", spotted_sooner="x"
    )
    services.sign_off_review(review=review, by=review_manager())
    services.transition(incident=incident, to=Status.CLOSED, user=comms)
    send_due()
    message = mail_carrying(rows("incident-self-report-closed").get())
    assert "Everything in the plan agreed for it is done." in message.body
    assert "blame" not in message.body and "learning track" not in message.body


def test_reopened_before_the_closing_mail_went_out_it_is_not_sent(comms, owner, employee):
    incident = in_status(
        Status.CLOSED, by=comms, owner=owner, reporter=employee, self_reported=True
    )
    services.reopen(incident=incident, user=comms, note="Reposted.")
    send_due()
    assert rows("incident-self-report-closed").get().status == Sent.CANCELLED
    assert not [m for m in mail.outbox if m.subject.startswith("Closed:")]


# --- actions --------------------------------------------------------------------------


@pytest.fixture
def action(comms, owner, employee, manager) -> ActionItem:
    """The employee's open action, due on DUE, the only one of its incident; the
    employee's manager is `manager`."""
    incident = in_status(Status.CLASSIFIED, by=comms, owner=owner)
    incident = services.transition(incident=incident, to=Status.REMEDIATION, user=comms)
    return services.add_action(
        incident=incident, by=comms, title="Rewrite the sharing guide", owner=employee, due_date=DUE
    )


TITLE = "Rewrite the sharing guide"


def test_an_action_owner_is_told_at_once(action, employee):
    row = rows("incident-action-assigned", recipient=employee).get()
    assert not row.digest
    send_due()
    message = mail_carrying(row)
    assert message.to == [employee.email]
    reference = action.incident.reference
    assert message.subject == f"Action for you: {TITLE} ({reference})"
    assert "Wednesday 10 March 2027" in message.body
    link = f"{settings.SITE_URL}{reverse('incidents:my_actions')}"
    assert link in message.body and f'href="{link}"' in html(message)


def test_due_in_two_days_plans_one_reminder_for_the_digest(action, employee):
    plan_due(now=at(DUE - timedelta(days=3)))
    assert not rows("incident-action-due-soon").exists()
    plan_due(now=at(DUE - timedelta(days=2)))  # Monday
    row = rows("incident-action-due-soon").get()
    assert (row.recipient, row.subject, row.stage) == (employee, action, "due-soon-20270310")
    assert row.digest and row.send_after == at(DUE - timedelta(days=1), 9)  # Tuesday 09:00
    plan_due(now=at(DUE - timedelta(days=1)))
    plan_due(now=at(DUE))
    assert rows("incident-action-due-soon").count() == 1

    send_due(now=at(DUE - timedelta(days=1), 9))
    row.refresh_from_db()
    assert row.status == Sent.SENT
    digest = mail_carrying(row)
    assert digest.to == [employee.email]
    assert f"{TITLE} ({action.incident.reference})" in digest.body
    assert "An incident action is due in 2 days" in digest.body


def test_a_due_soon_reminder_on_its_own_names_the_day(action, employee):
    immediately(employee)
    plan_due(now=at(DUE - timedelta(days=2)))
    send_due(now=at(DUE - timedelta(days=2)))
    message = mail_carrying(rows("incident-action-due-soon").get())
    assert message.subject == f"Due Wednesday 10 March: {TITLE} ({action.incident.reference})"


@pytest.mark.parametrize(
    ("days", "stage"),
    [(1, "day-1"), (2, "day-2"), (3, "day-3"), (4, "day-3"), (9, "day-3"), (10, "week-1")]
    + [(16, "week-1"), (17, "week-2"), (24, "week-3")],
)
def test_overdue_stages(days, stage):
    assert overdue_stage(days) == stage


def test_overdue_reminders_come_daily_for_three_days_then_weekly(action, employee):
    planned_on = {}
    for days_late in range(0, 25):
        for hour in (8, 12, 16):  # the planner runs many times a day
            plan_due(now=at(DUE + timedelta(days=days_late), hour))
        for row in rows("incident-action-overdue", recipient=employee):
            planned_on.setdefault(row.stage, days_late)
    assert planned_on == {
        "overdue-20270310-day-1": 1,
        "overdue-20270310-day-2": 2,
        "overdue-20270310-day-3": 3,
        "overdue-20270310-week-1": 10,
        "overdue-20270310-week-2": 17,
        "overdue-20270310-week-3": 24,
    }
    assert {row.overdue_since for row in rows("incident-action-overdue")} == {DUE}


def test_an_overdue_reminder_says_how_late_it_is(action, employee, manager):
    immediately(employee)
    plan_due(now=at(DUE + timedelta(days=2)))
    send_due(now=at(DUE + timedelta(days=2)))
    message = mail_carrying(rows("incident-action-overdue", recipient=employee).get())
    assert message.subject == f"Overdue: {TITLE} ({action.incident.reference})"
    assert "was due Wednesday 10 March 2027, 2 days ago" in message.body
    assert "your manager will be asked to help once it is 7 days overdue" in message.body


def test_seven_days_overdue_escalates_to_the_owners_manager(action, employee, manager):
    assert settings.INCIDENT_ESCALATE_AFTER_DAYS == 7
    plan_due(now=at(DUE + timedelta(days=6)))
    assert not rows("incident-action-overdue", stage=Notification.ESCALATION).exists()

    plan_due(now=at(DUE + timedelta(days=7)))  # Wednesday 17 March
    escalation = rows("incident-action-overdue", stage=Notification.ESCALATION).get()
    assert (escalation.recipient, escalation.about_person, escalation.subject) == (
        manager,
        employee,
        action,
    )
    assert escalation.digest and escalation.send_after == at(DUE + timedelta(days=8), 9)
    for days_late in (8, 14, 21):
        plan_due(now=at(DUE + timedelta(days=days_late)))
    assert rows("incident-action-overdue", stage=Notification.ESCALATION).count() == 1

    send_due(now=at(DUE + timedelta(days=8), 9))
    escalation.refresh_from_db()
    assert escalation.status == Sent.SENT
    digest = mail_carrying(escalation)
    assert digest.to == [manager.email]
    assert "Overdue in your team" in digest.body
    assert f"Emily Carter: {TITLE} ({action.incident.reference}) (due 10 Mar 2027)" in digest.body


def test_an_action_done_before_its_reminders_go_out_cancels_them(action, employee, manager):
    plan_due(now=at(DUE - timedelta(days=2)))
    plan_due(now=at(DUE + timedelta(days=7)))
    planned = Notification.objects.filter(kind__startswith="incident-action-", status=Sent.PLANNED)
    assert {row.kind for row in planned} == {
        "incident-action-assigned",
        "incident-action-due-soon",
        "incident-action-overdue",
    }
    assert planned.filter(recipient=manager, stage=Notification.ESCALATION).exists()

    services.complete_action(action=action, by=employee, status="done", note="Rewritten.")
    send_due(now=at(DUE + timedelta(days=30)))
    send_due()
    assert set(
        Notification.objects.filter(kind__startswith="incident-action-").values_list(
            "status", flat=True
        )
    ) == {Sent.CANCELLED}
    assert not [m for m in mail.outbox if TITLE in m.body]
    # Nothing more is planned for a done action.
    plan_due(now=at(DUE + timedelta(days=31)))
    assert not Notification.objects.filter(
        kind__startswith="incident-action-", status=Sent.PLANNED
    ).exists()


def test_an_action_given_to_someone_else_is_reminded_to_them_only(action, employee, outsider):
    plan_due(now=at(DUE + timedelta(days=1)))
    ActionItem.objects.filter(pk=action.pk).update(owner=outsider)
    plan_due(now=at(DUE + timedelta(days=1), 16))
    send_due(now=at(DUE + timedelta(days=2), 9))
    overdue = rows("incident-action-overdue")
    assert {(r.recipient, r.status) for r in overdue} == {
        (employee, Sent.CANCELLED),
        (outsider, Sent.SENT),
    }


# --- the review -----------------------------------------------------------------------

LAST_DONE = datetime(2026, 11, 27, 15, tzinfo=ZoneInfo(settings.TIME_ZONE))  # a Friday
REVIEW_DUE = date(2026, 12, 4)  # 5 working days later, a Friday


@pytest.fixture
def awaiting_review(comms, owner) -> Incident:
    """Every action closed (the last on LAST_DONE), no review written yet."""
    incident = in_status(Status.REMEDIATION, by=comms, owner=owner)
    for item in incident.actions.all():
        services.complete_action(action=item, by=owner, status="done", note="Done.")
    incident.actions.update(completed_at=LAST_DONE - timedelta(days=1))
    incident.actions.filter(pk=incident.actions.last().pk).update(completed_at=LAST_DONE)
    return incident


def test_the_review_is_due_five_working_days_after_the_last_action_is_done(awaiting_review, owner):
    plan_due(now=at(REVIEW_DUE - timedelta(days=1), 23))
    assert not rows("incident-review-due").exists()
    plan_due(now=at(REVIEW_DUE))
    row = rows("incident-review-due").get()
    assert (row.recipient, row.subject, row.stage) == (
        owner,
        awaiting_review,
        "review-due-20261204",
    )
    assert row.digest and row.send_after == at(REVIEW_DUE + timedelta(days=3), 9)  # Monday
    plan_due(now=at(REVIEW_DUE + timedelta(days=1)))
    services.transition(incident=awaiting_review, to=Status.REVIEW, user=owner)
    plan_due(now=at(REVIEW_DUE + timedelta(days=2)))
    assert rows("incident-review-due").count() == 1  # once, whatever changes meanwhile

    send_due(now=at(REVIEW_DUE + timedelta(days=3), 9))
    row.refresh_from_db()
    assert row.status == Sent.SENT
    digest = mail_carrying(row)
    assert digest.to == [owner.email]
    assert awaiting_review.reference in digest.body and "An incident review is due" in digest.body


def test_a_review_due_reminder_on_its_own(awaiting_review, owner):
    immediately(owner)
    plan_due(now=at(REVIEW_DUE))
    send_due(now=at(REVIEW_DUE))
    message = mail_carrying(rows("incident-review-due").get())
    assert message.subject == f"Review due: {awaiting_review.reference}"
    assert "closed by Friday 27 November 2026" in message.body
    assert "due Friday 4 December 2026, 5 working days later" in message.body
    assert reverse("incidents:detail", args=[awaiting_review.pk]) in message.body


def test_no_review_reminder_once_a_review_is_written(awaiting_review, owner, comms):
    plan_due(now=at(REVIEW_DUE))  # planned…
    services.write_review(
        incident=awaiting_review,
        by=comms,
        summary="s",
        contributing_factors="c",
        spotted_sooner="x",
    )
    send_due(now=at(REVIEW_DUE + timedelta(days=3), 9))  # …and cancelled
    assert rows("incident-review-due").get().status == Sent.CANCELLED
    plan_due(now=at(REVIEW_DUE + timedelta(days=5)))
    assert rows("incident-review-due").count() == 1
    assert not [m for m in mail.outbox if "review is due" in m.body]


def test_no_review_reminder_while_an_action_is_open(awaiting_review, comms, owner):
    services.add_action(incident=awaiting_review, by=comms, title="One more thing", owner=owner)
    plan_due(now=at(REVIEW_DUE + timedelta(days=10)))
    assert not rows("incident-review-due").exists()
