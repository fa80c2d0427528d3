"""Time is an argument: a service given `now` records that moment, everywhere it records
one (the demo and the bench replay months of incidents without patching the clock)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from incidents import evidence as evidence_files
from incidents import services
from incidents.models import ActionItem, Incident, IncidentEvent, Takedown
from incidents.tests.factories import HUMAN_ERROR_ANSWERS, review_manager

pytestmark = pytest.mark.django_db

START = timezone.make_aware(datetime(2025, 6, 2, 9, 30))


def test_an_incident_walked_with_a_clock_records_only_that_clock(
    settings, comms, hr, employee, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    at = iter(START + timedelta(hours=hour) for hour in range(100))
    clock = {}

    def now(step: str):
        clock[step] = next(at)
        return clock[step]

    incident = services.report_incident(
        reporter=employee, what_happened="A post.", people_involved=[employee], now=now("report")
    )
    incident = services.assign_owner(incident=incident, owner=hr, by=comms, now=now("owner"))
    incident = services.update_details(
        incident=incident, by=comms, severity=Incident.Severity.HIGH, now=now("details")
    )
    incident = services.transition(incident=incident, to="triage", user=comms, now=now("triage"))
    takedown = services.request_takedown(
        incident=incident, by=comms, what="The post", asked_of="LinkedIn", now=now("takedown")
    )
    takedown = services.resolve_takedown(
        takedown=takedown, by=comms, status=Takedown.Status.REMOVED, now=now("removed")
    )
    statement = services.draft_statement(
        incident=incident, by=comms, text="We are aware.", now=now("drafted")
    )
    statement = services.approve_statement(statement=statement, by=hr, now=now("approved"))
    item = evidence_files.capture(
        incident=incident, by=comms, url="https://example.com/post", now=now("evidence")
    )
    item = evidence_files.withdraw(evidence=item, by=comms, reason="Wrong post", now=now("out"))
    incident = services.transition(
        incident=incident, to="contained", user=comms, now=now("contained")
    )
    run = services.start_assessment(
        incident=incident, person=employee, act="Posted it", by=hr, now=now("started")
    )
    for key, value in HUMAN_ERROR_ANSWERS.items():
        services.answer(assessment=run, by=hr, key=key, value=value, now=now(key))
    run = services.finish_assessment(assessment=run, by=hr, now=now("finished"))
    incident.refresh_from_db()
    incident = services.transition(
        incident=incident, to="classified", user=hr, now=now("classified")
    )
    incident = services.transition(
        incident=incident, to="remediation", user=hr, now=now("remediation")
    )
    actions = services.fill_plan(incident=incident, by=hr, now=now("plan"))
    done_at = now("done")
    for action in actions:
        services.complete_action(
            action=action, by=hr, status=ActionItem.Status.DONE, note="Done.", now=done_at
        )
    incident.refresh_from_db()
    incident = services.transition(incident=incident, to="review", user=hr, now=now("review"))
    review = services.write_review(
        incident=incident,
        by=hr,
        summary="A post went further than intended.",
        contributing_factors="Unclear settings.",
        spotted_sooner="A check before posting.",
        now=now("written"),
    )
    review = services.sign_off_review(review=review, by=review_manager(), now=now("signed"))
    incident = services.transition(incident=incident, to="closed", user=hr, now=now("closed"))
    lesson = services.publish_lesson(
        incident=incident, by=hr, title="Check settings", text="Look first.", now=now("lesson")
    )

    incident.refresh_from_db()
    run.refresh_from_db()
    assert incident.created_at == clock["report"]
    assert incident.updated_at == clock["closed"]
    assert (incident.contained_at, incident.closed_at) == (clock["contained"], clock["closed"])
    assert (takedown.requested_at, takedown.resolved_at) == (clock["takedown"], clock["removed"])
    assert (statement.drafted_at, statement.approved_at) == (clock["drafted"], clock["approved"])
    assert (item.captured_at, item.withdrawn_at) == (clock["evidence"], clock["out"])
    assert (run.started_at, run.finished_at) == (clock["started"], clock["finished"])
    assert run.answers["history"]["at"] == clock["history"].isoformat()
    plan_day = timezone.localdate(clock["plan"])
    assert {a.due_date for a in actions} == {services.default_due(incident.severity, plan_day)}
    assert {a.completed_at for a in incident.actions.all()} == {clock["done"]}
    assert (review.written_at, review.signed_off_at) == (clock["written"], clock["signed"])
    assert lesson.published_at == clock["lesson"]
    # Every history row is at one of the clock's moments, none at the real time.
    assert set(IncidentEvent.objects.values_list("at", flat=True)) <= set(clock.values())
