"""The incident services: the workflow and its guards, references, two people at once,
the assessment, remediation plans, the review and lessons."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from incidents import assessment as guide
from incidents import services
from incidents.models import (
    ActionItem,
    Assessment,
    Evidence,
    Incident,
    IncidentError,
    IncidentEvent,
    Lesson,
    Takedown,
    TalkingPoint,
)
from incidents.tests.factories import HUMAN_ERROR_ANSWERS, in_status, reported
from notifications.models import Notification
from people import roles
from policies.models import PolicyVersion
from policies.tests.factories import published_policy
from training.models import Topic

Status = Incident.Status
Track = Incident.Track
Outcome = Assessment.Outcome
ORDER = list(Status.values)

pytestmark = pytest.mark.django_db

DELIBERATE_ANSWERS = {"intended_actions": guide.YES, "intended_harm": guide.YES}
RECKLESS_ANSWERS = {
    "intended_actions": guide.YES,
    "intended_harm": guide.NO,
    "impairment": guide.NO,
    "rule_broken_knowingly": guide.YES,
    "rules_workable": guide.YES,
    "substitution": guide.NO,
    "gaps": guide.NO,
    "history": guide.NO,
}


@pytest.fixture
def line_manager(manager, employee):
    """The employee's manager: a line manager, as the employee reports to them."""
    return manager


@pytest.fixture
def owner(make_person):
    """The incident's owner: in the communications team, not the `comms` fixture."""
    return make_person(full_name="Owen Price", group=roles.COMMS)


def status_events(incident) -> list[tuple[str, str]]:
    return list(
        IncidentEvent.objects.filter(incident=incident, what="status")
        .order_by("id")
        .values_list("from_value", "to_value")
    )


def fresh(incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


def assess(incident, person, *, by, answers, **finish) -> Assessment:
    run = services.start_assessment(incident=incident, person=person, act="Posted it", by=by)
    for key, value in answers.items():
        services.answer(assessment=run, by=by, key=key, value=value)
    return services.finish_assessment(assessment=run, by=by, **finish)


# --- the transition table ------------------------------------------------------------


def test_the_table_is_the_documented_workflow():
    assert services.TRANSITIONS == {
        Status.REPORTED: (Status.TRIAGE,),
        Status.TRIAGE: (Status.CONTAINED,),
        Status.CONTAINED: (Status.CLASSIFIED,),
        Status.CLASSIFIED: (Status.REMEDIATION,),
        Status.REMEDIATION: (Status.REVIEW,),
        # Back for more actions from review; reopen from closed.
        Status.REVIEW: (Status.CLOSED, Status.REMEDIATION),
        Status.CLOSED: (Status.REMEDIATION,),
    }


@pytest.fixture
def ready(comms, owner, manager, employee) -> Incident:
    """An incident every guard would let through to any status: no takedown needed,
    no individual involved, the learning track, its one action done, the review
    signed off by a manager who is not the owner. Tests put it in a status directly."""
    incident = reported(employee)
    incident = services.assign_owner(incident=incident, owner=owner, by=comms)
    incident = services.note_no_takedown(incident=incident, by=comms, note="Deleted at once.")
    incident = services.set_people_involved(
        incident=incident, by=comms, people=[], no_individual=True
    )
    incident = services.choose_track(incident=incident, by=comms, track=Track.LEARNING)
    action = services.add_action(incident=incident, by=comms, title="Fix it", owner=owner)
    services.complete_action(action=action, by=owner, status=ActionItem.Status.DONE, note="Ok")
    review = services.write_review(
        incident=incident,
        by=comms,
        summary="A post went too far.",
        contributing_factors="Unclear settings.",
        spotted_sooner="A second pair of eyes.",
    )
    services.sign_off_review(review=review, by=manager)
    return fresh(incident)


def put_in(incident: Incident, status: str) -> Incident:
    Incident.objects.filter(pk=incident.pk).update(status=status)
    return fresh(incident)


ALLOWED = [(start, to) for start, targets in services.TRANSITIONS.items() for to in targets]
REFUSED = [(start, to) for start in ORDER for to in ORDER if (start, to) not in ALLOWED]


def test_the_pairs_cover_every_status_pair():
    assert len(ALLOWED) == 8 and len(ALLOWED) + len(REFUSED) == 7 * 7


@pytest.mark.parametrize(("start", "to"), ALLOWED)
def test_each_transition_of_the_table_is_allowed(ready, comms, start, to):
    incident = put_in(ready, start)
    events = IncidentEvent.objects.count()
    moved = services.transition(
        incident=incident, to=to, user=comms, note="Why", expected_version=incident.version
    )
    stored = fresh(incident)
    assert stored.status == moved.status == to
    assert stored.version == incident.version + 1
    assert IncidentEvent.objects.count() == events + 1
    event = IncidentEvent.objects.latest("id")
    assert (event.what, event.from_value, event.to_value, event.by, event.note) == (
        "status",
        start,
        to,
        comms,
        "Why",
    )
    if to == Status.CONTAINED:
        assert stored.contained_at == event.at
    if to == Status.CLOSED:
        assert stored.closed_at == event.at
    else:
        assert stored.closed_at is None


@pytest.mark.parametrize(("start", "to"), REFUSED)
def test_every_other_transition_is_refused(ready, comms, start, to):
    incident = put_in(ready, start)
    events = IncidentEvent.objects.count()
    with pytest.raises(IncidentError, match="cannot move to"):
        services.transition(incident=incident, to=to, user=comms, note="Why")
    stored = fresh(incident)
    assert (stored.status, stored.version) == (start, incident.version)
    assert IncidentEvent.objects.count() == events


def test_an_unknown_status_is_refused_with_a_message(ready, comms):
    with pytest.raises(IncidentError, match="cannot move to “archived”"):
        services.transition(incident=ready, to="archived", user=comms)


@pytest.mark.parametrize("role", ["employee", "manager", "leader", "policy_admin", "site_admin"])
def test_only_the_incident_team_moves_an_incident(request, ready, role):
    incident = put_in(ready, Status.REPORTED)
    with pytest.raises(IncidentError, match="Only the communications team and HR/legal"):
        services.transition(incident=incident, to=Status.TRIAGE, user=request.getfixturevalue(role))
    assert fresh(incident).status == Status.REPORTED


def test_the_whole_way_writes_a_history_row_for_every_transition(comms, owner, employee):
    incident = in_status(Status.CLOSED, by=comms, owner=owner, reporter=employee)
    incident = services.reopen(incident=incident, user=comms, note="The post is back up.")
    assert status_events(incident) == [
        ("", Status.REPORTED),
        (Status.REPORTED, Status.TRIAGE),
        (Status.TRIAGE, Status.CONTAINED),
        (Status.CONTAINED, Status.CLASSIFIED),
        (Status.CLASSIFIED, Status.REMEDIATION),
        (Status.REMEDIATION, Status.REVIEW),
        (Status.REVIEW, Status.CLOSED),
        (Status.CLOSED, Status.REMEDIATION),
    ]
    events = list(IncidentEvent.objects.filter(incident=incident, what="status").order_by("id"))
    assert events[0].by == employee and all(e.by == comms for e in events[1:])
    assert events[-1].note == "The post is back up."
    assert [e.at for e in events] == sorted(e.at for e in events)


# --- the guards ----------------------------------------------------------------------


@pytest.fixture
def triaged(comms, owner, employee) -> Incident:
    incident = reported(employee, self_reported=True)
    incident = services.assign_owner(incident=incident, owner=owner, by=comms)
    return services.transition(incident=incident, to=Status.TRIAGE, user=comms)


def test_containing_needs_a_takedown_or_a_note_why_none_is_needed(triaged, comms):
    with pytest.raises(IncidentError) as refused:
        services.transition(incident=triaged, to=Status.CONTAINED, user=comms)
    assert str(refused.value) == "Record a takedown request, or note why no takedown is needed."
    incident = services.note_no_takedown(incident=triaged, by=comms, note="Deleted by them.")
    incident = services.transition(incident=incident, to=Status.CONTAINED, user=comms)
    assert incident.status == Status.CONTAINED and fresh(incident).contained_at is not None


def test_a_note_needs_words(triaged, comms):
    with pytest.raises(IncidentError, match="Say why no takedown is needed."):
        services.note_no_takedown(incident=triaged, by=comms, note="  ")


@pytest.mark.parametrize(
    "resolution", [Takedown.Status.REMOVED, Takedown.Status.REFUSED, Takedown.Status.NOT_NEEDED]
)
def test_containing_waits_for_every_takedown_to_be_resolved(triaged, comms, resolution):
    first = services.request_takedown(
        incident=triaged, by=comms, what="The post", asked_of="LinkedIn"
    )
    second = services.request_takedown(
        incident=triaged, by=comms, what="A repost", asked_of="The reposter"
    )
    with pytest.raises(IncidentError) as refused:
        services.transition(incident=triaged, to=Status.CONTAINED, user=comms)
    assert str(refused.value) == (
        "2 takedown request(s) are still waiting: mark them removed, refused or not needed first."
    )
    services.resolve_takedown(takedown=first, by=comms, status=resolution, note="Done")
    with pytest.raises(IncidentError, match="^1 takedown request"):
        services.transition(incident=triaged, to=Status.CONTAINED, user=comms)
    services.resolve_takedown(takedown=second, by=comms, status=Takedown.Status.REMOVED)
    incident = services.transition(incident=triaged, to=Status.CONTAINED, user=comms)
    assert incident.status == Status.CONTAINED
    assert fresh(incident).takedowns.filter(resolved_at__isnull=False).count() == 2


def test_a_takedown_is_resolved_only_as_removed_refused_or_not_needed(triaged, comms):
    takedown = services.request_takedown(incident=triaged, by=comms, what="The post", asked_of="X")
    with pytest.raises(IncidentError, match="removed, refused or not needed"):
        services.resolve_takedown(takedown=takedown, by=comms, status=Takedown.Status.REQUESTED)


def contained(incident, comms) -> Incident:
    incident = services.note_no_takedown(incident=incident, by=comms, note="Gone.")
    return services.transition(incident=incident, to=Status.CONTAINED, user=comms)


def test_classifying_needs_the_people_involved_or_no_individual(comms, owner, outsider):
    incident = services.assign_owner(incident=reported(outsider), owner=owner, by=comms)
    incident = services.transition(incident=incident, to=Status.TRIAGE, user=comms)
    incident = contained(incident, comms)
    with pytest.raises(IncidentError) as refused:
        services.transition(incident=incident, to=Status.CLASSIFIED, user=comms)
    assert str(refused.value) == (
        "Name the people involved, or record that no individual is involved."
    )


def test_classifying_needs_a_finished_assessment_of_each_person(triaged, comms, owner, employee):
    incident = contained(triaged, comms)
    with pytest.raises(IncidentError) as refused:
        services.transition(incident=incident, to=Status.CLASSIFIED, user=owner)
    assert str(refused.value) == "Finish the assessment for: Emily Carter."
    # A run started but not finished does not count.
    run = services.start_assessment(incident=incident, person=employee, act="Posted", by=owner)
    with pytest.raises(IncidentError, match="Finish the assessment for: Emily Carter."):
        services.transition(incident=incident, to=Status.CLASSIFIED, user=owner)
    for key, value in HUMAN_ERROR_ANSWERS.items():
        services.answer(assessment=run, by=owner, key=key, value=value)
    services.finish_assessment(assessment=run, by=owner)
    incident = services.transition(incident=fresh(incident), to=Status.CLASSIFIED, user=owner)
    assert (incident.status, incident.track) == (Status.CLASSIFIED, Track.LEARNING)


def test_the_classifying_message_names_no_one_to_those_who_may_not_see_who_was_involved(
    triaged, comms, owner, hr, employee, make_person
):
    colleague = make_person(full_name="Gary Doyle")
    incident = services.set_people_involved(
        incident=triaged, by=comms, people=[employee, colleague], no_individual=False
    )
    incident = contained(incident, comms)
    assess(incident, colleague, by=hr, answers=DELIBERATE_ANSWERS)
    assert fresh(incident).track == Track.ACCOUNTABILITY  # restricted now
    with pytest.raises(IncidentError) as refused:
        services.transition(incident=fresh(incident), to=Status.CLASSIFIED, user=comms)
    assert str(refused.value) == (
        "Finish the assessment for 1 of the people involved (HR/legal or the incident owner can)."
    )
    with pytest.raises(IncidentError, match="^Finish the assessment for: Emily Carter.$"):
        services.transition(incident=fresh(incident), to=Status.CLASSIFIED, user=hr)


def test_no_individual_involved_still_needs_a_track(triaged, comms):
    incident = services.set_people_involved(
        incident=triaged, by=comms, people=[], no_individual=True
    )
    incident = contained(incident, comms)
    with pytest.raises(IncidentError) as refused:
        services.transition(incident=incident, to=Status.CLASSIFIED, user=comms)
    assert str(refused.value) == "Choose the track (learning or accountability)."
    incident = services.choose_track(incident=incident, by=comms, track=Track.ACCOUNTABILITY)
    incident = services.transition(incident=incident, to=Status.CLASSIFIED, user=comms)
    assert incident.status == Status.CLASSIFIED


def test_naming_people_and_no_individual_at_once_is_refused(triaged, comms, employee):
    with pytest.raises(IncidentError, match="Either name the people involved"):
        services.set_people_involved(
            incident=triaged, by=comms, people=[employee], no_individual=True
        )


def test_review_needs_actions(comms, owner):
    incident = in_status(Status.CLASSIFIED, by=comms, owner=owner)
    incident = services.transition(incident=incident, to=Status.REMEDIATION, user=comms)
    with pytest.raises(IncidentError) as refused:
        services.transition(incident=incident, to=Status.REVIEW, user=comms)
    assert str(refused.value) == "The remediation plan has no actions yet."


@pytest.fixture
def in_review(comms, owner) -> Incident:
    """In review with two open actions and no review written."""
    incident = in_status(Status.CLASSIFIED, by=comms, owner=owner)
    incident = services.transition(incident=incident, to=Status.REMEDIATION, user=comms)
    services.add_action(incident=incident, by=comms, title="Fix the settings", owner=owner)
    services.add_action(incident=incident, by=comms, title="Brief the team", owner=owner)
    return services.transition(incident=incident, to=Status.REVIEW, user=comms)


def write_review(incident, by):
    return services.write_review(
        incident=incident,
        by=by,
        summary="A post went too far.",
        contributing_factors="Unclear settings.",
        spotted_sooner="A second pair of eyes.",
    )


def test_closing_needs_every_action_done_or_waived_with_a_reason(
    in_review, comms, owner, line_manager
):
    review = write_review(in_review, comms)
    services.sign_off_review(review=review, by=line_manager)
    with pytest.raises(IncidentError) as refused:
        services.transition(incident=in_review, to=Status.CLOSED, user=comms)
    assert str(refused.value) == (
        "2 action(s) are still open: mark them done, or waive them with a reason."
    )
    done, waived = in_review.actions.order_by("id")
    services.complete_action(action=done, by=owner, status=ActionItem.Status.DONE, note="Fixed.")
    with pytest.raises(IncidentError, match="^1 action"):
        services.transition(incident=in_review, to=Status.CLOSED, user=comms)
    with pytest.raises(IncidentError, match="Say why it is waived."):
        services.complete_action(action=waived, by=owner, status=ActionItem.Status.WAIVED, note="")
    services.complete_action(
        action=waived, by=owner, status=ActionItem.Status.WAIVED, note="The team left."
    )
    incident = services.transition(incident=in_review, to=Status.CLOSED, user=comms)
    assert incident.status == Status.CLOSED and fresh(incident).closed_at is not None


def close_actions(incident, by):
    for action in incident.actions.filter(status=ActionItem.Status.OPEN):
        services.complete_action(action=action, by=by, status=ActionItem.Status.DONE, note="Ok")


def test_closing_needs_a_review_signed_off_by_a_manager(in_review, comms, owner, line_manager):
    close_actions(in_review, owner)
    message = "The review must be signed off by a manager before closing."
    with pytest.raises(IncidentError, match=f"^{message}$"):
        services.transition(incident=in_review, to=Status.CLOSED, user=comms)
    review = write_review(in_review, comms)
    with pytest.raises(IncidentError, match=f"^{message}$"):
        services.transition(incident=in_review, to=Status.CLOSED, user=comms)
    services.sign_off_review(review=review, by=line_manager)
    assert services.transition(incident=in_review, to=Status.CLOSED, user=comms).closed_at


def test_closing_is_refused_when_the_manager_who_signed_off_has_become_the_owner(
    in_review, comms, owner, line_manager
):
    close_actions(in_review, owner)
    services.sign_off_review(review=write_review(in_review, comms), by=line_manager)
    line_manager.groups.add(Group.objects.get_or_create(name=roles.COMMS)[0])
    line_manager = type(line_manager).objects.get(pk=line_manager.pk)  # its roles are read afresh
    incident = services.assign_owner(incident=in_review, owner=line_manager, by=comms)
    with pytest.raises(IncidentError, match="signed off by the incident owner"):
        services.transition(incident=incident, to=Status.CLOSED, user=comms)


def test_reopening_needs_a_reason_and_clears_the_closing_time(comms, owner):
    incident = in_status(Status.CLOSED, by=comms, owner=owner)
    contained_at = fresh(incident).contained_at
    for attempt in (
        lambda: services.reopen(incident=incident, user=comms, note=" "),
        lambda: services.transition(incident=incident, to=Status.REMEDIATION, user=comms),
    ):
        with pytest.raises(IncidentError, match="Say why the incident is reopened."):
            attempt()
    assert fresh(incident).status == Status.CLOSED
    incident = services.reopen(incident=incident, user=comms, note="It was reposted.")
    stored = fresh(incident)
    assert (stored.status, stored.closed_at, stored.contained_at) == (
        Status.REMEDIATION,
        None,
        contained_at,
    )
    assert IncidentEvent.objects.filter(incident=incident).latest("id").note == "It was reposted."


# --- references ----------------------------------------------------------------------


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("UTC"))


def test_references_are_sequential_per_year_and_restart_in_a_new_year(employee, settings):
    settings.TIME_ZONE = "UTC"
    made = [
        reported(employee, now=utc(2026, 3, 1, 10)).reference,
        reported(employee, now=utc(2026, 12, 31, 23, 59)).reference,
        reported(employee, now=utc(2027, 1, 1, 0, 1)).reference,
        reported(employee, now=utc(2027, 6, 1)).reference,
        reported(employee, now=utc(2026, 12, 31, 12)).reference,  # late entry for last year
    ]
    assert made == [
        "INC-2026-0001",
        "INC-2026-0002",
        "INC-2027-0001",
        "INC-2027-0002",
        "INC-2026-0003",
    ]
    assert set(Incident.objects.values_list("year", "number")) == {
        (2026, 1),
        (2026, 2),
        (2027, 1),
        (2027, 2),
        (2026, 3),
    }


def test_a_report_needs_words_and_a_sensible_time(employee):
    with pytest.raises(IncidentError, match="Tell us what happened"):
        services.report_incident(reporter=employee, what_happened="  ")
    noticed = timezone.now()
    with pytest.raises(IncidentError, match="noticed before it was posted"):
        services.report_incident(
            reporter=employee,
            what_happened="A post",
            posted_at=noticed + timedelta(hours=1),
            noticed_at=noticed,
        )
    assert not Incident.objects.exists()


def test_a_self_report_involves_the_reporter(employee, outsider):
    incident = reported(employee, self_reported=True, people_involved=[outsider])
    assert incident.self_reported
    assert set(incident.people_involved.all()) == {employee, outsider}
    assert status_events(incident) == [("", Status.REPORTED)]
    assert IncidentEvent.objects.get(incident=incident).note == "Self-reported"


# --- two people at once --------------------------------------------------------------


def run_at_once(calls) -> tuple[list, list[BaseException]]:
    """Run the calls in threads released together; return results and errors."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait(timeout=30)
            results.append(call())
        except BaseException as error:  # reported in the test's own thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_people_moving_the_same_incident_at_once_one_wins(make_person, employee):
    handlers = [
        make_person(full_name=f"Handler {i}", group=roles.COMMS if i % 2 else roles.HR_LEGAL)
        for i in range(4)
    ]
    incident = reported(employee)
    version = incident.version
    events_before = IncidentEvent.objects.count()

    def move(user):
        # Each one loaded the incident on their own page, at the same version.
        mine = Incident.objects.get(pk=incident.pk)
        return lambda: services.transition(
            incident=mine,
            to=Status.TRIAGE,
            user=user,
            note=f"Taken by {user.full_name}",
            expected_version=version,
        )

    results, errors = run_at_once([move(user) for user in handlers])

    assert len(results) == 1, errors
    assert len(errors) == 3
    assert all(isinstance(error, IncidentError) for error in errors), errors
    assert {str(error) for error in errors} == {
        "This incident changed while you were working on it."
    }
    stored = fresh(incident)
    assert (stored.status, stored.version) == (Status.TRIAGE, version + 1)
    # Only the winner's history row was written.
    assert IncidentEvent.objects.count() == events_before + 1
    event = IncidentEvent.objects.latest("id")
    assert event.note == f"Taken by {event.by.full_name}"
    assert event.by in handlers


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_people_reporting_at_the_same_moment_get_consecutive_references(make_person):
    reporters = [make_person() for _ in range(6)]
    now = timezone.now()
    results, errors = run_at_once(
        [lambda person=person: reported(person, now=now) for person in reporters]
    )
    assert errors == []
    year = timezone.localdate(now).year
    assert sorted(i.reference for i in results) == [f"INC-{year}-{n:04d}" for n in range(1, 7)]


def test_a_form_opened_before_someone_else_saved_is_refused_and_writes_nothing(triaged, comms, hr):
    opened_at = triaged.version
    services.note_no_takedown(incident=triaged, by=hr, note="Gone.", expected_version=opened_at)
    events = IncidentEvent.objects.count()
    for stale in (
        lambda: services.transition(
            incident=triaged, to=Status.CONTAINED, user=comms, expected_version=opened_at
        ),
        lambda: services.update_details(
            incident=triaged, by=comms, expected_version=opened_at, severity="high"
        ),
        lambda: services.choose_track(
            incident=triaged, by=comms, track=Track.LEARNING, expected_version=opened_at
        ),
    ):
        with pytest.raises(IncidentError, match="^This incident changed while you were working"):
            stale()
    stored = fresh(triaged)
    assert (stored.status, stored.severity, stored.track, stored.version) == (
        Status.TRIAGE,
        Incident.Severity.MEDIUM,
        Track.NONE,
        opened_at + 1,
    )
    assert IncidentEvent.objects.count() == events


def test_triage_edits_write_a_history_row_per_change(triaged, comms):
    services.update_details(incident=triaged, by=comms, severity="critical", estimated_reach=900)
    changes = IncidentEvent.objects.filter(incident=triaged).exclude(what="status")
    assert set(changes.values_list("what", "from_value", "to_value")) >= {
        ("severity", "medium", "critical"),
        ("estimated_reach", "", "900"),
    }
    with pytest.raises(IncidentError, match="cannot be changed here"):
        services.update_details(incident=triaged, by=comms, status=Status.CLOSED)


def test_the_owner_is_in_the_incident_team(triaged, comms, employee):
    with pytest.raises(IncidentError, match="communications team or HR/legal"):
        services.assign_owner(incident=triaged, owner=employee, by=comms)


# --- the remediation plan ------------------------------------------------------------


def plan_for(track, *, comms, owner, severity="medium"):
    incident = in_status(Status.CLASSIFIED, by=comms, owner=owner, severity=severity)
    if track != incident.track:
        incident = services.choose_track(incident=incident, by=comms, track=track)
    incident = services.transition(incident=incident, to=Status.REMEDIATION, user=comms)
    return incident, services.fill_plan(incident=incident, by=comms)


def test_the_learning_plan(comms, owner):
    incident, actions = plan_for(Track.LEARNING, comms=comms, owner=owner)
    assert [a.title for a in actions] == [
        "Correct or remove the post",
        "Fix the process that allowed it",
        "Have a coaching conversation (support, not blame)",
        "Update the policy or the briefing material",
        "Invite the person to help design the fix",
    ]
    assert {a.owner for a in actions} == {owner}
    assert {a.status for a in actions} == {ActionItem.Status.OPEN}
    # Each owner hears of each action at once.
    assert (
        Notification.objects.filter(kind="incident-action-assigned", recipient=owner).count() == 5
    )
    assert IncidentEvent.objects.filter(incident=incident, what="action").count() == 5


def test_the_accountability_plan(comms, owner):
    _incident, actions = plan_for(Track.ACCOUNTABILITY, comms=comms, owner=owner)
    assert [a.title for a in actions] == [
        "Preserve the evidence",
        "Open an HR case",
        "Legal review",
        "Review the person's access to company accounts and systems",
        "Complete containment",
    ]


def test_due_dates_default_from_severity_in_the_settings(settings):
    assert settings.INCIDENT_ACTION_DUE_DAYS == {"critical": 2, "high": 5, "medium": 10, "low": 20}


@pytest.mark.parametrize(
    ("severity", "days"), [("critical", 2), ("high", 5), ("medium", 10), ("low", 20)]
)
def test_the_plan_is_due_by_severity(comms, owner, severity, days):
    _incident, actions = plan_for(Track.LEARNING, comms=comms, owner=owner, severity=severity)
    assert {a.due_date for a in actions} == {timezone.localdate() + timedelta(days=days)}


def test_due_days_follow_the_settings(comms, owner, settings):
    settings.INCIDENT_ACTION_DUE_DAYS = {"critical": 1, "high": 3, "medium": 7, "low": 30}
    _incident, actions = plan_for(Track.LEARNING, comms=comms, owner=owner, severity="high")
    assert {a.due_date for a in actions} == {timezone.localdate() + timedelta(days=3)}


def test_a_due_date_can_be_chosen_and_another_owner_given(comms, owner, employee):
    incident, _ = plan_for(Track.LEARNING, comms=comms, owner=owner)
    action = services.add_action(
        incident=incident,
        by=comms,
        title="Talk to the team",
        owner=employee,
        due_date=date(2027, 1, 8),
    )
    assert (action.due_date, action.owner) == (date(2027, 1, 8), employee)


def test_the_plan_follows_a_track_and_is_filled_once(comms, owner):
    incident = in_status(Status.CONTAINED, by=comms, owner=owner)
    with pytest.raises(IncidentError, match="Choose the track first"):
        services.fill_plan(incident=incident, by=comms)
    incident, _ = plan_for(Track.LEARNING, comms=comms, owner=owner)
    with pytest.raises(IncidentError, match="The plan already has actions."):
        services.fill_plan(incident=incident, by=comms)
    assert incident.actions.count() == 5


def test_an_action_is_closed_by_its_owner_or_the_team_with_a_note(comms, owner, outsider):
    incident, (action, *_rest) = plan_for(Track.LEARNING, comms=comms, owner=owner)
    with pytest.raises(IncidentError, match="Only the action's owner or the incident team"):
        services.complete_action(action=action, by=outsider, status="done", note="Did it")
    with pytest.raises(IncidentError, match="Say how it was done."):
        services.complete_action(action=action, by=owner, status="done", note=" ")
    with pytest.raises(IncidentError, match="An action is done or waived."):
        services.complete_action(action=action, by=owner, status="open", note="x")
    done = services.complete_action(action=action, by=owner, status="done", note="Removed.")
    assert (done.status, done.note, done.completed_by) == ("done", "Removed.", owner)
    assert done.completed_at is not None
    with pytest.raises(IncidentError, match="already closed"):
        services.complete_action(action=action, by=owner, status="waived", note="x")


# --- the assessment ------------------------------------------------------------------


@pytest.fixture
def to_assess(triaged) -> Incident:
    """Self-reported by the employee (so they are involved), owned by `owner`."""
    return triaged


@pytest.mark.parametrize("role", ["comms", "leader", "manager", "policy_admin", "employee"])
def test_only_hr_legal_and_the_owner_assess(request, to_assess, employee, role):
    with pytest.raises(IncidentError, match="Only HR/legal and the incident owner"):
        services.start_assessment(
            incident=to_assess, person=employee, act="Posted", by=request.getfixturevalue(role)
        )


@pytest.mark.parametrize("assessor", ["hr", "owner"])
def test_hr_legal_and_the_owner_assess(request, to_assess, employee, assessor):
    by = request.getfixturevalue(assessor)
    run = assess(to_assess, employee, by=by, answers=HUMAN_ERROR_ANSWERS)
    run.refresh_from_db()
    assert run.question_set == guide.QUESTION_SET_VERSION
    assert (run.suggested_outcome, run.final_outcome, run.override_reason) == (
        Outcome.HUMAN_ERROR,
        Outcome.HUMAN_ERROR,
        "",
    )
    assert run.assessor == by and run.finished_at and run.current and not run.referral
    # Every answer is stored with who and when.
    assert set(run.answers) == set(HUMAN_ERROR_ANSWERS)
    assert {entry["by"] for entry in run.answers.values()} == {by.pk}
    assert all(entry["at"] for entry in run.answers.values())


def test_only_people_involved_are_assessed_one_act_at_a_time(to_assess, hr, outsider, employee):
    with pytest.raises(IncidentError, match="Olivia Hughes is not among the people involved."):
        services.start_assessment(incident=to_assess, person=outsider, act="Posted", by=hr)
    with pytest.raises(IncidentError, match="Describe the one act"):
        services.start_assessment(incident=to_assess, person=employee, act=" ", by=hr)


def test_answers_are_yes_no_or_unsure_and_all_needed(to_assess, hr, employee):
    run = services.start_assessment(incident=to_assess, person=employee, act="Posted", by=hr)
    with pytest.raises(IncidentError, match="Answer yes, no or unsure."):
        services.answer(assessment=run, by=hr, key="intended_actions", value="maybe")
    with pytest.raises(IncidentError, match="Answer yes, no or unsure."):
        services.answer(assessment=run, by=hr, key="shoe_size", value="yes")
    services.answer(assessment=run, by=hr, key="intended_actions", value="no")
    with pytest.raises(IncidentError, match="Answer every question first."):
        services.finish_assessment(assessment=run, by=hr)


def test_overriding_the_suggestion_needs_a_written_reason(to_assess, hr, employee):
    run = services.start_assessment(incident=to_assess, person=employee, act="Posted", by=hr)
    for key, value in HUMAN_ERROR_ANSWERS.items():
        services.answer(assessment=run, by=hr, key=key, value=value)
    with pytest.raises(IncidentError, match="write down why"):
        services.finish_assessment(assessment=run, by=hr, final_outcome=Outcome.AT_RISK)
    with pytest.raises(IncidentError, match="Choose one of the four outcomes."):
        services.finish_assessment(
            assessment=run, by=hr, final_outcome="blameless", override_reason="x"
        )
    services.finish_assessment(
        assessment=run, by=hr, final_outcome=Outcome.AT_RISK, override_reason="Third time."
    )
    run.refresh_from_db()
    assert (run.suggested_outcome, run.final_outcome, run.override_reason) == (
        Outcome.HUMAN_ERROR,
        Outcome.AT_RISK,
        "Third time.",
    )
    assert fresh(to_assess).track == Track.LEARNING


def test_a_new_run_supersedes_the_earlier_one_which_is_kept_and_the_track_follows(
    to_assess, hr, employee
):
    first = assess(to_assess, employee, by=hr, answers=HUMAN_ERROR_ANSWERS)
    assert fresh(to_assess).track == Track.LEARNING
    second = assess(to_assess, employee, by=hr, answers=DELIBERATE_ANSWERS)
    first.refresh_from_db()
    assert first.superseded_at is not None and second.current
    assert fresh(to_assess).track == Track.ACCOUNTABILITY
    third = assess(to_assess, employee, by=hr, answers=RECKLESS_ANSWERS)
    assert third.final_outcome == Outcome.RECKLESS
    assert fresh(to_assess).track == Track.ACCOUNTABILITY
    fourth = assess(to_assess, employee, by=hr, answers=HUMAN_ERROR_ANSWERS)
    assert fresh(to_assess).track == Track.LEARNING
    runs = Assessment.objects.filter(incident=to_assess, person=employee)
    assert runs.count() == 4
    assert list(runs.filter(superseded_at__isnull=True)) == [fourth]
    tracks = IncidentEvent.objects.filter(incident=to_assess, what="track").order_by("id")
    assert list(tracks.values_list("from_value", "to_value")) == [
        (Track.NONE, Track.LEARNING),
        (Track.LEARNING, Track.ACCOUNTABILITY),
        (Track.ACCOUNTABILITY, Track.LEARNING),
    ]


def test_a_finished_or_superseded_run_cannot_be_finished_again(to_assess, hr, employee):
    first = assess(to_assess, employee, by=hr, answers=DELIBERATE_ANSWERS)
    with pytest.raises(IncidentError, match="This assessment is finished"):
        services.finish_assessment(
            assessment=first, by=hr, final_outcome=Outcome.HUMAN_ERROR, override_reason="Hm"
        )
    second = assess(to_assess, employee, by=hr, answers=HUMAN_ERROR_ANSWERS)
    first.refresh_from_db()
    with pytest.raises(IncidentError, match="This assessment is finished"):
        services.finish_assessment(assessment=first, by=hr)
    with pytest.raises(IncidentError, match="This assessment is finished"):
        services.answer(assessment=second, by=hr, key="history", value="yes")
    second.refresh_from_db()
    assert second.current and second.final_outcome == Outcome.HUMAN_ERROR
    assert fresh(to_assess).track == Track.LEARNING


def test_one_person_on_the_accountability_track_puts_the_incident_there(
    to_assess, comms, hr, employee, make_person
):
    colleague = make_person(full_name="Gary Doyle")
    incident = services.set_people_involved(
        incident=to_assess, by=comms, people=[employee, colleague], no_individual=False
    )
    assess(incident, employee, by=hr, answers=HUMAN_ERROR_ANSWERS)
    assert fresh(incident).track == Track.LEARNING
    assess(incident, colleague, by=hr, answers=DELIBERATE_ANSWERS)
    assert fresh(incident).track == Track.ACCOUNTABILITY and fresh(incident).restricted


def test_impairment_is_recorded_as_a_referral(to_assess, hr, employee):
    run = assess(
        to_assess,
        employee,
        by=hr,
        answers={"intended_actions": "no", "impairment": "yes"},
    )
    assert run.referral and run.final_outcome == Outcome.HUMAN_ERROR


# --- the review ----------------------------------------------------------------------


def test_a_review_needs_its_three_parts_and_only_review_fields(in_review, comms):
    with pytest.raises(IncidentError, match="A review needs a summary"):
        services.write_review(incident=in_review, by=comms, summary="Only this")
    with pytest.raises(IncidentError, match="cannot be written here"):
        services.write_review(
            incident=in_review,
            by=comms,
            summary="s",
            contributing_factors="c",
            spotted_sooner="x",
            signed_off_at=timezone.now(),
        )
    review = write_review(in_review, comms)
    assert review.signed_off_at is None and review.written_by == comms


def test_a_review_is_signed_off_by_a_line_manager(in_review, comms, outsider, leader):
    review = write_review(in_review, comms)
    for not_a_manager in (outsider, leader, comms):
        with pytest.raises(IncidentError, match="^A review is signed off by a manager.$"):
            services.sign_off_review(review=review, by=not_a_manager)
    review.refresh_from_db()
    assert review.signed_off_at is None


def test_the_owner_cannot_sign_off_their_own_review(in_review, comms, make_person):
    line_manager = make_person(full_name="Olga Boss", group=roles.COMMS)
    make_person(full_name="Olga's Report", manager=line_manager)
    incident = services.assign_owner(incident=in_review, owner=line_manager, by=comms)
    review = write_review(incident, comms)
    with pytest.raises(IncidentError, match="The incident owner cannot sign off their own"):
        services.sign_off_review(review=review, by=line_manager)


def test_a_signed_off_review_is_final(in_review, comms, line_manager):
    review = services.sign_off_review(review=write_review(in_review, comms), by=line_manager)
    assert review.signed_off_by == line_manager and review.signed_off_at
    with pytest.raises(IncidentError, match="already signed off"):
        services.sign_off_review(review=review, by=line_manager)
    with pytest.raises(IncidentError, match="can no longer change"):
        write_review(in_review, comms)
    assert IncidentEvent.objects.filter(
        incident=in_review, what="review", to_value="signed off", by=line_manager
    ).exists()


# --- lessons -------------------------------------------------------------------------


@pytest.fixture
def closed_incident(comms, owner, employee) -> Incident:
    return in_status(
        Status.CLOSED,
        by=comms,
        owner=owner,
        reporter=employee,
        self_reported=True,
        url="https://www.linkedin.com/posts/emily-carter-roadmap",
        account_handle="@emily_c",
    )


def test_publishing_an_anonymised_lesson(closed_incident, comms):
    lesson = services.publish_lesson(
        incident=closed_incident,
        by=comms,
        title="Check who can see a post",
        text="A roadmap slide was shared publicly because the audience setting was unclear.",
    )
    assert lesson.published and lesson.published_at and lesson.published_by == comms
    assert Lesson.objects.filter(published=True).get() == lesson
    assert IncidentEvent.objects.filter(incident=closed_incident, what="lesson").exists()


@pytest.mark.parametrize(
    "text",
    [
        "Emily shared the slide.",
        "Ms carter shared it.",
        "The account @emily_c shared it.",
        "The account emily_c shared it.",
        "See https://www.linkedin.com/posts/emily-carter-roadmap for the post.",
        "See linkedin.com/posts/emily-carter-roadmap.",
    ],
)
def test_a_lesson_that_identifies_the_incident_is_refused_unless_kept_on_purpose(
    closed_incident, comms, text
):
    with pytest.raises(IncidentError, match="still identifies the incident"):
        services.publish_lesson(incident=closed_incident, by=comms, title="A lesson", text=text)
    assert not Lesson.objects.exists()
    services.publish_lesson(
        incident=closed_incident, by=comms, title="A lesson", text=text, keep_identifying=True
    )
    assert Lesson.objects.get().text == text


def test_a_lesson_needs_a_title_text_and_the_incident_team(closed_incident, comms, leader):
    with pytest.raises(IncidentError, match="needs a title and its text"):
        services.publish_lesson(incident=closed_incident, by=comms, title=" ", text="x")
    with pytest.raises(IncidentError, match="Only the communications team"):
        services.publish_lesson(incident=closed_incident, by=leader, title="t", text="x")


def test_identifying_details_finds_names_handles_and_links(closed_incident, comms):
    Evidence.objects.create(
        incident=closed_incident,
        url="https://x.com/someone/status/42",
        handle="@someone_else",
        captured_at=timezone.now(),
        captured_by=comms,
    )
    text = (
        "Emily Carter's post at https://www.linkedin.com/posts/emily-carter-roadmap by "
        "@emily_c was reposted by someone_else (x.com/someone/status/42)."
    )
    assert services.identifying_details(closed_incident, text) == sorted(
        [
            "@emily_c",
            "Carter",
            "emily_c",
            "Emily",
            "Emily Carter",
            "https://www.linkedin.com/posts/emily-carter-roadmap",
            "linkedin.com/posts/emily-carter-roadmap",
            "someone_else",
            "x.com/someone/status/42",
        ],
        key=str.casefold,
    )
    # Whole words only: a name inside another word is not a name.
    assert services.identifying_details(closed_incident, "Emilyanne Cartered it.") == []
    assert services.identifying_details(closed_incident, "Check the audience setting.") == []


def test_the_reporters_name_is_identifying_too(comms, owner, outsider):
    incident = in_status(Status.CLOSED, by=comms, owner=owner, reporter=outsider)
    assert services.identifying_details(incident, "Olivia Hughes spotted it.") == ["Olivia Hughes"]


@pytest.fixture
def lesson(closed_incident, comms) -> Lesson:
    return services.publish_lesson(
        incident=closed_incident, by=comms, title="Check the audience", text="Check it."
    )


def test_a_lesson_opens_a_policy_revision_linked_to_it(lesson, policy_admin, make_person):
    approver = make_person(full_name="Ravi Patel", group=roles.POLICY_ADMIN)
    policy, published = published_policy(
        title="Social media policy", owner=policy_admin, approver=approver
    )
    draft = services.open_policy_revision(lesson=lesson, policy=policy, by=policy_admin)
    assert draft.status == PolicyVersion.Status.DRAFT and draft.policy == policy
    assert (draft.major, draft.minor) == (published.major + 1, 0)
    assert draft.body == published.body
    assert "Check the audience" in draft.change_summary
    assert list(lesson.policy_versions.all()) == [draft]
    assert list(draft.lessons.all()) == [lesson]
    # One revision at a time: the policy's own rule, in words.
    with pytest.raises(IncidentError, match="still draft"):
        services.open_policy_revision(lesson=lesson, policy=policy, by=policy_admin)


def test_only_policy_admins_open_policy_revisions(lesson, comms, policy_admin, make_person):
    approver = make_person(group=roles.POLICY_ADMIN)
    policy, _ = published_policy(title="Press policy", owner=policy_admin, approver=approver)
    with pytest.raises(IncidentError, match="Policy admins open policy revisions."):
        services.open_policy_revision(lesson=lesson, policy=policy, by=comms)
    assert policy.versions.count() == 1


@pytest.mark.parametrize("by", ["comms", "policy_admin"])
def test_a_lesson_adds_a_talking_point_to_a_briefing_topic(request, lesson, by):
    topic = Topic.objects.create(name="Posting safely")
    person = request.getfixturevalue(by)
    point = services.add_to_briefing(lesson=lesson, topic=topic, by=person)
    assert (point.topic, point.lesson, point.text, point.added_by) == (
        topic,
        lesson,
        "Check it.",
        person,
    )
    own = services.add_to_briefing(lesson=lesson, topic=topic, by=person, text="Ask first.")
    assert own.text == "Ask first."
    assert list(lesson.topics.all()) == [topic]
    assert list(topic.talking_points.order_by("id")) == [point, own]


def test_others_do_not_add_talking_points(lesson, outsider, leader):
    topic = Topic.objects.create(name="Posting safely")
    for person in (outsider, leader):
        with pytest.raises(IncidentError, match="add talking points"):
            services.add_to_briefing(lesson=lesson, topic=topic, by=person)
    assert not TalkingPoint.objects.exists()


def test_a_report_can_carry_its_severity_and_refuses_an_unknown_one(outsider):
    incident = services.report_incident(
        reporter=outsider, what_happened="A code name in a post.", severity="high"
    )
    assert incident.severity == "high"
    with pytest.raises(IncidentError, match="severity"):
        services.report_incident(
            reporter=outsider, what_happened="Another post.", severity="apocalyptic"
        )
    assert Incident.objects.count() == 1


def test_a_report_made_on_a_clock_is_dated_by_it(outsider):
    then = timezone.now() - timedelta(days=40)
    incident = services.report_incident(reporter=outsider, what_happened="A post.", now=then)
    assert incident.created_at == then == incident.events.get().at
