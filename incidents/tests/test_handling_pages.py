"""The incident page for every role, the guided assessment pages and the team's forms,
and one incident walked from triage to closed through the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from incidents import assessment as guide
from incidents import evidence as evidence_files
from incidents import facts as person_facts
from incidents import services
from incidents.models import (
    ActionItem,
    Assessment,
    Evidence,
    HoldingStatement,
    Incident,
    IncidentEvent,
    Lesson,
    Review,
    Takedown,
    TalkingPoint,
)
from people import roles
from policies import services as policy_services
from policies.tests.factories import BODY_1, BODY_2, publish_version, published_policy
from training.models import Booking, Session, Topic

pytestmark = pytest.mark.django_db

Status = Incident.Status
CHANGED = "This incident changed while you were working on it."
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

HUMAN_ERROR = {
    "intended_actions": guide.NO,
    "impairment": guide.NO,
    "rule_broken_knowingly": guide.NO,
    "substitution": guide.YES,
    "gaps": guide.NO,
    "history": guide.NO,
}
DELIBERATE = {"intended_actions": guide.YES, "intended_harm": guide.YES}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def detail_url(incident) -> str:
    return reverse("incidents:detail", args=[incident.pk])


def assess(incident, person, by, answers, **finish):
    run = services.start_assessment(incident=incident, person=person, act="Posted it", by=by)
    for key, value in answers.items():
        services.answer(assessment=run, by=by, key=key, value=value)
    return services.finish_assessment(assessment=run, by=by, **finish)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def reporter(make_person):
    return make_person(full_name="Rowan Reporter")


@pytest.fixture
def action_owner(make_person):
    return make_person(full_name="Aisha Actions")


@pytest.fixture
def incident(reporter, employee, comms, action_owner):
    """Reported by someone else about the employee; owned by comms, in triage, with an
    action for someone outside the team and a piece of evidence."""
    incident = services.report_incident(
        reporter=reporter,
        what_happened="A photo of the roadmap slide was posted on LinkedIn.\nSecond line.",
        platform=Incident.Platform.LINKEDIN,
        url="https://www.linkedin.com/posts/emily-carter-roadmap",
        account_handle="@emily_c",
        posted_at=timezone.now() - timedelta(hours=5),
        noticed_at=timezone.now() - timedelta(hours=2),
        people_involved=[employee],
    )
    incident = services.assign_owner(incident=incident, owner=comms, by=comms)
    incident = services.transition(incident=incident, to=Status.TRIAGE, user=comms)
    services.add_action(
        incident=incident, by=comms, title="Check the team's slides", owner=action_owner
    )
    evidence_files.capture(
        incident=incident,
        by=comms,
        upload=SimpleUploadedFile("shot.png", PNG),
        url="https://www.linkedin.com/posts/emily-carter-roadmap",
    )
    return incident


@pytest.fixture
def accountability_case(incident, hr, employee):
    """The same incident, after HR assessed a deliberate act: the accountability track."""
    assess(incident, employee, hr, DELIBERATE)
    incident.refresh_from_db()
    assert incident.track == Incident.Track.ACCOUNTABILITY
    return incident


# --- the incident page by role --------------------------------------------------------


def test_an_employee_not_involved_gets_404_everywhere(client, outsider, full_incident):
    incident = full_incident
    run = incident.assessments.get()
    evidence = incident.evidence.get()
    client.force_login(outsider)
    for url in (
        detail_url(incident),
        reverse("incidents:assessment", args=[incident.pk, run.pk]),
        reverse("incidents:evidence_file", args=[incident.pk, evidence.pk]),
    ):
        assert client.get(url).status_code == 404
    for name, args in POSTS:
        response = client.post(reverse(name, args=[incident.pk, *args(incident)]), {})
        assert response.status_code == 404, name


def test_the_reporter_sees_only_their_report_and_its_status(client, reporter, incident):
    client.force_login(reporter)
    response = client.get(detail_url(incident))
    assert response.status_code == 200
    page = response.content.decode()
    assert incident.reference in page
    assert "A photo of the roadmap slide" in page
    assert "In triage" in page
    for hidden in ("Emily Carter", "Evidence", "Check the team", "Timeline", "Chloe Summers"):
        assert hidden not in page


def test_an_action_owner_sees_the_summary_and_their_actions_only(
    client, action_owner, incident, comms, make_person
):
    services.add_action(
        incident=incident, by=comms, title="Someone else's action", owner=make_person()
    )
    client.force_login(action_owner)
    page = client.get(detail_url(incident)).content.decode()
    assert incident.reference in page
    assert "A photo of the roadmap slide was posted on LinkedIn." in page
    assert "Second line" not in page  # a one-line summary
    assert "Check the team&#x27;s slides" in page
    assert "Someone else" not in page
    for hidden in ("Emily Carter", "Evidence", "SHA-256", "Assessment", "emily_c", "Timeline"):
        assert hidden not in page


def test_an_action_owner_closes_their_action_from_the_page(client, action_owner, incident):
    action = incident.actions.get(owner=action_owner)
    client.force_login(action_owner)
    response = client.post(
        reverse("incidents:complete_action", args=[incident.pk, action.pk]),
        {"status": "done", "note": "Checked every deck."},
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == ActionItem.Status.DONE


def test_comms_sees_an_accountability_case_but_not_who_or_the_assessments(
    client, make_person, accountability_case, employee
):
    other_comms = make_person(full_name="Colin Comms", group=roles.COMMS)
    # The person involved also took part in the history: their name is masked there too.
    action = services.add_action(
        incident=accountability_case, by=other_comms, title="Help fix it", owner=employee
    )
    services.complete_action(action=action, by=employee, status="done", note="Helped.")
    client.force_login(other_comms)
    response = client.get(detail_url(accountability_case))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Accountability track" in page
    assert "Restricted: HR/legal and the incident owner only" in page
    assert "Emily Carter" not in page
    assert "A person involved (restricted)" in page
    assert "Deliberate" not in page
    assert "Start the assessment" not in page
    run = accountability_case.assessments.get()
    url = reverse("incidents:assessment", args=[accountability_case.pk, run.pk])
    assert client.get(url).status_code == 403


def test_hr_sees_the_people_involved_and_the_assessments(client, hr, accountability_case):
    client.force_login(hr)
    page = client.get(detail_url(accountability_case)).content.decode()
    assert "Emily Carter" in page
    assert "Deliberate" in page
    assert "Restricted: HR/legal" not in page
    assert "Start the assessment" in page


def test_the_team_reads_that_a_referral_was_decided_but_only_hr_and_the_owner_read_it(
    client, hr, make_person, accountability_case
):
    run = accountability_case.assessments.get()
    services.decide_authority_referral(
        assessment=run, by=hr, decision="police", note="Emily Carter's case, ref CR-88."
    )
    link = reverse("incidents:assessment", args=[accountability_case.pk, run.pk]) + "#authority"
    client.force_login(hr)
    page = client.get(detail_url(accountability_case)).content.decode()
    assert f'href="{link}"' in page
    assert "Regulator or police: refer to the police" in page
    client.force_login(make_person(full_name="Colin Comms", group=roles.COMMS))
    page = client.get(detail_url(accountability_case)).content.decode()
    assert "Regulator or police: refer to the police" in page
    assert link not in page
    assert "CR-88" not in page and "Emily Carter" not in page


def test_the_team_sees_everything_on_a_learning_case(client, comms, incident):
    client.force_login(comms)
    page = client.get(detail_url(incident)).content.decode()
    evidence = incident.evidence.get()
    for shown in (
        "Emily Carter",
        "Exposure window",
        "Timeline",
        evidence.sha256,
        "image/png",
        "Check the team&#x27;s slides",
        "Mark as contained",
        "Request a takedown",
        "Rowan Reporter",
    ):
        assert shown in page, shown


def test_leadership_reads_the_page_without_forms(client, leader, incident):
    client.force_login(leader)
    page = client.get(detail_url(incident)).content.decode()
    assert "Emily Carter" in page
    assert "Mark as contained" not in page
    assert "Read only" in page
    assert (
        client.post(
            reverse("incidents:transition", args=[incident.pk]),
            {"to": Status.CONTAINED, "version": incident.version},
        ).status_code
        == 403
    )


# Every POST of the page, with the extra URL arguments it needs.
POSTS = [
    ("incidents:assign_owner", lambda i: []),
    ("incidents:edit_details", lambda i: []),
    ("incidents:people_involved", lambda i: []),
    ("incidents:transition", lambda i: []),
    ("incidents:reopen", lambda i: []),
    ("incidents:takedown_request", lambda i: []),
    ("incidents:takedown_resolve", lambda i: [i.takedowns.first().pk]),
    ("incidents:no_takedown", lambda i: []),
    ("incidents:statement_draft", lambda i: []),
    ("incidents:statement_approve", lambda i: [i.statements.first().pk]),
    ("incidents:evidence_upload", lambda i: []),
    ("incidents:evidence_withdraw", lambda i: [i.evidence.first().pk]),
    ("incidents:choose_track", lambda i: []),
    ("incidents:fill_plan", lambda i: []),
    ("incidents:add_action", lambda i: []),
    ("incidents:write_review", lambda i: []),
    ("incidents:publish_lesson", lambda i: []),
    ("incidents:assessment_new", lambda i: []),
    ("incidents:assessment", lambda i: [i.assessments.first().pk]),
    ("incidents:assessment_finish", lambda i: [i.assessments.first().pk]),
    ("incidents:assessment_authority_referral", lambda i: [i.assessments.first().pk]),
]


@pytest.fixture
def full_incident(incident, comms, hr, employee, make_person):
    """The incident with one of everything a POST can point at."""
    takedown = services.request_takedown(incident=incident, by=comms, what="Post", asked_of="X")
    assert takedown
    services.draft_statement(incident=incident, by=comms, text="We are aware.")
    services.start_assessment(incident=incident, person=employee, act="Posted", by=hr)
    return incident


@pytest.mark.parametrize("role", ["reporter", "action_owner", "leader"])
def test_people_outside_the_team_cannot_post_anything(request, client, role, full_incident):
    client.force_login(request.getfixturevalue(role))
    before = IncidentEvent.objects.count()
    for name, args in POSTS:
        url = reverse(name, args=[full_incident.pk, *args(full_incident)])
        response = client.post(
            url,
            {
                "version": full_incident.version,
                "to": Status.CONTAINED,
                "note": "x",
                "what": "x",
                "asked_of": "x",
                "text": "x",
                "reason": "x",
                "title": "x",
                "track": "learning",
                "key": "intended_actions",
                "value": "no",
            },
        )
        assert response.status_code == 403, name
    assert IncidentEvent.objects.count() == before
    full_incident.refresh_from_db()
    assert full_incident.status == Status.TRIAGE


def test_comms_who_does_not_own_the_incident_cannot_assess(client, make_person, full_incident):
    other = make_person(group=roles.COMMS)
    client.force_login(other)
    run = full_incident.assessments.first()
    assert (
        client.get(reverse("incidents:assessment", args=[full_incident.pk, run.pk])).status_code
        == 403
    )
    response = client.post(
        reverse("incidents:assessment_new", args=[full_incident.pk]),
        {"person": run.person_id, "act": "Posted"},
    )
    assert response.status_code == 403
    assert Assessment.objects.count() == 1


def test_the_owner_assesses_but_a_reader_of_the_case_cannot_answer(client, comms, full_incident):
    run = full_incident.assessments.first()
    client.force_login(comms)  # the owner
    url = reverse("incidents:assessment", args=[full_incident.pk, run.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"key": "intended_actions", "value": "no"})
    run.refresh_from_db()
    assert run.answers["intended_actions"]["value"] == "no"
    assert run.answers["intended_actions"]["by"] == comms.pk


# --- the whole path through the pages -------------------------------------------------


def test_an_incident_walks_from_triage_to_closed_through_the_pages(
    client, comms, employee, manager, policy_admin, make_person, reporter
):
    approver = make_person(group=roles.POLICY_ADMIN)
    _policy, version = published_policy(
        title="Social media policy", owner=policy_admin, approver=approver
    )
    version.policy.category = "social-media"
    version.policy.save()
    policy_services.acknowledge(version=version, user=employee, full_name="Emily Carter")
    topic = Topic.objects.create(name="Social media basics")
    start = timezone.now() - timedelta(days=40)
    session = Session.objects.create(
        title="Lunch briefing: posting safely",
        topic=topic,
        presenter=policy_admin,
        organiser=policy_admin,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone="Europe/London",
        room="Room 1",
        capacity=20,
        status=Session.Status.COMPLETED,
    )
    Booking.objects.create(
        session=session,
        person=employee,
        status=Booking.Status.ATTENDED,
        booked_by=employee,
        booked_at=start - timedelta(days=2),
    )
    incident = services.report_incident(
        reporter=employee,
        self_reported=True,
        what_happened="I posted our launch date by mistake.",
        platform=Incident.Platform.X,
    )
    client.force_login(comms)

    def post(name, data=None, *args, follow=True):
        incident.refresh_from_db()
        payload = {"version": incident.version, **(data or {})}
        return client.post(reverse(name, args=[incident.pk, *args]), payload, follow=follow)

    def status():
        incident.refresh_from_db()
        return incident.status

    post("incidents:assign_owner", {"owner": comms.pk})
    post("incidents:transition", {"to": Status.TRIAGE})
    assert status() == Status.TRIAGE

    post("incidents:takedown_request", {"what": "The post", "asked_of": "X support"})
    refused = post("incidents:transition", {"to": Status.CONTAINED})
    assert any("still waiting" in m for m in messages_of(refused))
    takedown = incident.takedowns.get()
    post("incidents:takedown_resolve", {"status": "removed"}, takedown.pk)
    post("incidents:transition", {"to": Status.CONTAINED})
    assert status() == Status.CONTAINED

    response = post(
        "incidents:assessment_new", {"person": employee.pk, "act": "Posted the launch date on X"}
    )
    run = Assessment.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "incidents:assessment", args=[incident.pk, run.pk]
    )
    url = reverse("incidents:assessment", args=[incident.pk, run.pk])
    seen_facts = False
    for key, value in HUMAN_ERROR.items():
        page = client.get(url).content.decode()
        assert escape(guide.CURRENT.question(key).question) in page
        if key == "rule_broken_knowingly":
            assert "What PolicyHub knows about Emily Carter" in page
            assert "Social media policy" in page
            assert f"Current version {version.number}" in page
            assert "Acknowledged" in page
            assert "Lunch briefing: posting safely" in page
            seen_facts = True
        client.post(url, {"key": key, "value": value})
    assert seen_facts
    page = client.get(url).content.decode()
    assert "Suggested outcome" in page
    assert "Human error" in page
    assert "learning track" in page
    client.post(
        reverse("incidents:assessment_finish", args=[incident.pk, run.pk]),
        {"outcome": Assessment.Outcome.HUMAN_ERROR, "override_reason": ""},
    )
    run.refresh_from_db()
    assert run.final_outcome == Assessment.Outcome.HUMAN_ERROR
    incident.refresh_from_db()
    assert incident.track == Incident.Track.LEARNING

    post("incidents:transition", {"to": Status.CLASSIFIED})
    assert status() == Status.CLASSIFIED
    page = client.get(detail_url(incident)).content.decode()
    assert "Fill the plan from the learning track template" in page
    post("incidents:fill_plan")
    assert incident.actions.count() == 5
    post("incidents:transition", {"to": Status.REMEDIATION})
    assert status() == Status.REMEDIATION

    # The line manager has the coaching conversation: their action lets them open the page.
    post(
        "incidents:add_action",
        {"title": "Coaching conversation with Emily", "owner": manager.email, "due_date": ""},
    )
    coaching = incident.actions.get(owner=manager)
    assert coaching.due_date == services.default_due(incident.severity)
    for action in incident.actions.exclude(owner=manager):
        post("incidents:complete_action", {"status": "done", "note": "Done."}, action.pk)
    # The review starts with the coaching conversation still open: closing waits for it.
    post("incidents:transition", {"to": Status.REVIEW})
    assert status() == Status.REVIEW
    review_fields = {
        "summary": "The launch date went out early.",
        "contributing_factors": "Drafts and scheduled posts look alike.",
        "spotted_sooner": "A second pair of eyes on scheduled posts.",
        "went_well": "Self-reported within minutes.",
        "effectiveness_check": "No early posts for a quarter.",
    }
    post("incidents:write_review", review_fields)
    assert Review.objects.get(incident=incident).summary == review_fields["summary"]

    client.force_login(manager)
    page = client.get(detail_url(incident)).content.decode()
    assert "Coaching conversation with Emily" in page
    assert "Sign off the review" in page
    assert "The launch date went out early." in page
    client.post(
        reverse("incidents:complete_action", args=[incident.pk, coaching.pk]),
        {"status": "done", "note": "We talked; no blame."},
    )
    client.post(reverse("incidents:sign_off_review", args=[incident.pk]))
    assert Review.objects.get(incident=incident).signed_off_by == manager

    client.force_login(comms)
    page = client.get(detail_url(incident)).content.decode()
    assert "Close the incident" in page
    response = post("incidents:transition", {"to": Status.CLOSED, "note": "All done."})
    assert status() == Status.CLOSED, messages_of(response)
    assert incident.closed_at is not None
    page = client.get(detail_url(incident)).content.decode()
    assert "Reopen" in page
    assert "Closed" in page


def test_the_owner_cannot_sign_off_their_own_review(client, make_person, comms, employee):
    owner = make_person(full_name="Owen Owner", group=roles.COMMS)
    make_person(manager=owner)  # the owner is a line manager too
    incident = services.report_incident(reporter=employee, what_happened="A post.")
    incident = services.assign_owner(incident=incident, owner=owner, by=comms)
    services.write_review(
        incident=incident, by=comms, summary="s", contributing_factors="c", spotted_sooner="x"
    )
    client.force_login(owner)
    assert "Sign off the review" not in client.get(detail_url(incident)).content.decode()
    response = client.post(reverse("incidents:sign_off_review", args=[incident.pk]), follow=True)
    assert any("cannot sign off" in m for m in messages_of(response))
    assert Review.objects.get(incident=incident).signed_off_at is None


# --- stale forms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, data",
    [
        ("incidents:transition", {"to": Status.CONTAINED, "note": ""}),
        ("incidents:no_takedown", {"note": "Nothing to take down."}),
        ("incidents:edit_details", None),
        ("incidents:people_involved", {"emails": "", "no_individual": "on"}),
    ],
)
def test_a_stale_form_is_told_and_writes_nothing(client, comms, hr, incident, name, data):
    client.force_login(comms)
    stale = incident.version
    if data is None:
        data = {
            "severity": "high",
            "information": "product",
            "platform": "linkedin",
            "noticed_at": "2026-01-02T10:00",
            "what_happened": "Changed meanwhile?",
        }
    services.note_no_takedown(incident=incident, by=hr, note="Someone else was quicker.")
    events = IncidentEvent.objects.count()
    incident.refresh_from_db()
    before = {f: getattr(incident, f) for f in ("status", "severity", "no_takedown_note")}
    response = client.post(
        reverse(name, args=[incident.pk]), {"version": stale, **data}, follow=True
    )
    assert CHANGED in messages_of(response)
    assert IncidentEvent.objects.count() == events
    incident.refresh_from_db()
    assert {f: getattr(incident, f) for f in before} == before
    assert incident.people_involved.count() == 1


# --- the assessment pages -------------------------------------------------------------


@pytest.fixture
def answered_run(incident, hr, employee):
    run = services.start_assessment(incident=incident, person=employee, act="Posted", by=hr)
    for key, value in HUMAN_ERROR.items():
        services.answer(assessment=run, by=hr, key=key, value=value)
    return run


def test_overriding_the_suggested_outcome_needs_a_reason(client, hr, incident, answered_run):
    client.force_login(hr)
    url = reverse("incidents:assessment_finish", args=[incident.pk, answered_run.pk])
    response = client.post(url, {"outcome": Assessment.Outcome.AT_RISK, "override_reason": " "})
    assert response.status_code == 400
    assert "write down why" in response.content.decode()
    answered_run.refresh_from_db()
    assert answered_run.finished_at is None

    client.post(
        url,
        {"outcome": Assessment.Outcome.AT_RISK, "override_reason": "A second warning this year."},
    )
    answered_run.refresh_from_db()
    assert answered_run.suggested_outcome == Assessment.Outcome.HUMAN_ERROR
    assert answered_run.final_outcome == Assessment.Outcome.AT_RISK
    assert answered_run.override_reason == "A second warning this year."


def test_the_assessment_shows_one_step_at_a_time_and_skips_what_is_not_needed(
    client, hr, incident, employee
):
    run = services.start_assessment(incident=incident, person=employee, act="Posted", by=hr)
    url = reverse("incidents:assessment", args=[incident.pk, run.pk])
    client.force_login(hr)
    page = client.get(url).content.decode()
    assert "Question 1 of 8" in page
    assert "question set 2026.2" in page
    assert guide.STEPS[0].guidance.split(".")[0] in page
    client.post(url, {"key": "intended_actions", "value": "no"})
    page = client.get(url).content.decode()
    # A slip: the question about harm is not asked.
    assert "Question 3 of 8" in page
    assert "Not needed with these answers: question 2." in page
    # An answer to a question not asked is refused, and so is an answer not offered.
    response = client.post(url, {"key": "intended_harm", "value": "yes"}, follow=True)
    assert "Answer the question shown: that one is not asked now." in messages_of(response)
    response = client.post(url, {"key": "impairment", "value": "maybe"}, follow=True)
    assert (
        "Answer the question shown with one of “Ill health”, “Substance misuse”, “No”, "
        "“Unsure”." in messages_of(response)
    )
    run.refresh_from_db()
    assert set(run.answers) == {"intended_actions"}


def test_unsure_about_the_actions_still_asks_about_harm(client, hr, incident, employee):
    run = services.start_assessment(incident=incident, person=employee, act="Posted", by=hr)
    url = reverse("incidents:assessment", args=[incident.pk, run.pk])
    client.force_login(hr)
    client.post(url, {"key": "intended_actions", "value": "unsure"})
    page = client.get(url).content.decode()
    assert "Question 2 of 8" in page
    assert "(read as a slip, but the question about harm is still asked)" in page
    client.post(url, {"key": "intended_harm", "value": "yes"})
    page = client.get(url).content.decode()
    assert "Suggested outcome" in page and "They meant to cause harm." in page
    assert "regulator or the police" in page


def test_an_answer_a_changed_answer_no_longer_needs_is_shown_not_dropped(
    client, hr, incident, employee
):
    run = services.start_assessment(incident=incident, person=employee, act="Posted", by=hr)
    url = reverse("incidents:assessment", args=[incident.pk, run.pk])
    client.force_login(hr)
    client.post(url, {"key": "intended_actions", "value": "yes"})
    client.post(url, {"key": "intended_harm", "value": "yes"})
    client.post(url, {"key": "intended_actions", "value": "no"})
    page = client.get(url).content.decode()
    assert "Not used with these answers" in page
    assert escape(guide.CURRENT.question("intended_harm").question) in page
    assert "Question 3 of 8" in page
    # Unsure again: the harm answer counts again.
    client.post(url, {"key": "intended_actions", "value": "unsure"})
    page = client.get(url).content.decode()
    assert "Not used with these answers" not in page
    assert "Suggested outcome" in page and "Deliberate" in page


def answer_through_the_page(client, url, answers: dict[str, str]) -> str:
    for key, value in answers.items():
        response = client.post(url, {"key": key, "value": value}, follow=True)
        assert not [m for m in messages_of(response)], (key, value)
    return client.get(url).content.decode()


def test_impairment_offers_described_answers_and_substance_misuse_is_its_own_answer(
    client, hr, incident, employee
):
    run = services.start_assessment(incident=incident, person=employee, act="Posted", by=hr)
    url = reverse("incidents:assessment", args=[incident.pk, run.pk])
    client.force_login(hr)
    page = answer_through_the_page(client, url, {"intended_actions": "no"})
    # Each answer is a button named by its label and described by the line beside it.
    for value, label in (
        ("yes", "Ill health"),
        ("substance", "Substance misuse"),
        ("no", "No"),
        ("unsure", "Unsure"),
    ):
        assert (
            f'value="{value}" class="btn w-100 btn-outline-primary" '
            f'aria-describedby="answer-{value}-help">{label}</button>'
        ) in page
        assert f'id="answer-{value}-help"' in page
    assert "Alcohol or drugs taken by choice, without mitigation" in page
    page = answer_through_the_page(client, url, {"impairment": "substance"})
    assert "Suggested outcome" in page and "Reckless behaviour" in page
    assert escape("The organisation's substance policy applies") in page
    assert "accountability track" in page
    client.post(
        reverse("incidents:assessment_finish", args=[incident.pk, run.pk]),
        {"outcome": Assessment.Outcome.RECKLESS, "override_reason": ""},
    )
    run.refresh_from_db()
    assert run.final_outcome == Assessment.Outcome.RECKLESS and run.referral


def test_unsure_about_impairment_records_a_referral_and_goes_on_to_the_act(
    client, hr, incident, employee
):
    run = services.start_assessment(incident=incident, person=employee, act="Posted", by=hr)
    url = reverse("incidents:assessment", args=[incident.pk, run.pk])
    client.force_login(hr)
    page = answer_through_the_page(
        client, url, {"intended_actions": "yes", "intended_harm": "no", "impairment": "unsure"}
    )
    assert "Question 4 of 8" in page
    page = answer_through_the_page(
        client,
        url,
        {
            "rule_broken_knowingly": "shortcut",
            "substitution": "yes",
            "gaps": "no",
            "history": "no",
        },
    )
    assert "At-risk behaviour" in page
    assert "A shortcut whose risk they did not see" in page
    assert "Offer a referral to HR or occupational health" in page
    client.post(
        reverse("incidents:assessment_finish", args=[incident.pk, run.pk]),
        {"outcome": Assessment.Outcome.AT_RISK, "override_reason": ""},
    )
    run.refresh_from_db()
    assert (run.final_outcome, run.referral) == (Assessment.Outcome.AT_RISK, True)
    page = client.get(url).content.decode()
    assert "Offer a referral to HR or occupational health" in page


def test_a_run_of_the_earlier_question_set_keeps_its_questions_and_its_outcome(
    client, hr, incident, employee
):
    run = services.start_assessment(incident=incident, person=employee, act="Posted", by=hr)
    Assessment.objects.filter(pk=run.pk).update(question_set="2026.1")
    run.refresh_from_db()
    url = reverse("incidents:assessment", args=[incident.pk, run.pk])
    client.force_login(hr)
    page = client.get(url).content.decode()
    assert "Question 1 of 7" in page
    assert "keeps the questions of question set 2026.1" in page
    assert "uses question set 2026.2" in page
    # Its impairment question is answered yes, no or unsure: "unsure" ends the walk there.
    page = answer_through_the_page(client, url, {"intended_actions": "no"})
    assert "Substance misuse" not in page
    response = client.post(url, {"key": "impairment", "value": "substance"}, follow=True)
    assert messages_of(response)
    page = answer_through_the_page(client, url, {"impairment": "unsure"})
    assert "Suggested outcome" in page and "Human error" in page
    client.post(
        reverse("incidents:assessment_finish", args=[incident.pk, run.pk]),
        {"outcome": Assessment.Outcome.HUMAN_ERROR, "override_reason": ""},
    )
    run.refresh_from_db()
    assert (run.question_set, run.final_outcome, run.referral) == (
        "2026.1",
        Assessment.Outcome.HUMAN_ERROR,
        True,
    )
    page = client.get(url).content.decode()
    assert "The rules of question set 2026.1" in page
    assert "Ill health or impairment: support, not discipline." in page


# --- regulator or police ---------------------------------------------------------------


@pytest.fixture
def deliberate_run(incident, hr, employee):
    return assess(incident, employee, hr, DELIBERATE)


def referral_url(run) -> str:
    return reverse("incidents:assessment_authority_referral", args=[run.incident_id, run.pk])


def test_a_deliberate_outcome_offers_the_regulator_or_police_decision(
    client, hr, incident, deliberate_run
):
    client.force_login(hr)
    url = reverse("incidents:assessment", args=[incident.pk, deliberate_run.pk])
    page = client.get(url).content.decode()
    assert 'aria-labelledby="authority-heading"' in page and "No decision recorded yet." in page
    # Every field labelled, each radio by its own label.
    for number, label in enumerate(
        ("Refer to the regulator", "Refer to the police", "Not referred")
    ):
        assert (
            f'<label class="form-check-label" for="referral_decision_{number}">{label}</label>'
            in page
        )
    assert '<label class="form-label" for="referral_note">Note</label>' in page
    response = client.post(
        referral_url(deliberate_run),
        {"decision": "police", "note": "Reported to the police, reference CR-2026-114."},
        follow=True,
    )
    assert "Recorded: refer to the police." in messages_of(response)
    decision = deliberate_run.authority_referrals.get()
    assert (decision.decision, decision.decided_by, decision.note) == (
        "police",
        hr,
        "Reported to the police, reference CR-2026-114.",
    )
    page = response.content.decode()
    assert "Reported to the police, reference CR-2026-114." in page
    assert "A further decision" in page
    # The incident's history says it was decided, by whom and when; the note stays here.
    event = IncidentEvent.objects.get(incident=incident, what="regulator or police")
    assert (event.to_value, event.by, event.note) == ("refer to the police", hr, "")
    assert event.at == decision.decided_at


def test_a_referral_decision_needs_a_choice_and_a_note(client, hr, deliberate_run):
    client.force_login(hr)
    response = client.post(referral_url(deliberate_run), {"decision": "police", "note": " "})
    assert response.status_code == 400
    assert "Add a note: which authority and its reference, or why not." in (
        response.content.decode()
    )
    response = client.post(referral_url(deliberate_run), {"decision": "press", "note": "x"})
    assert response.status_code == 400
    assert not deliberate_run.authority_referrals.exists()
    assert not IncidentEvent.objects.filter(what="regulator or police").exists()


def test_no_referral_decision_on_an_outcome_that_is_not_deliberate(client, hr, incident, employee):
    run = assess(incident, employee, hr, HUMAN_ERROR)
    client.force_login(hr)
    page = client.get(reverse("incidents:assessment", args=[incident.pk, run.pk])).content
    assert b"authority-heading" not in page
    response = client.post(referral_url(run), {"decision": "police", "note": "x"}, follow=True)
    assert any("finished as deliberate" in m for m in messages_of(response))
    assert not IncidentEvent.objects.filter(what="regulator or police").exists()


@pytest.mark.parametrize(("role", "status"), [("outsider", 404), ("reporter", 403)])
def test_only_who_may_assess_records_a_referral_decision(
    request, client, role, status, deliberate_run
):
    client.force_login(request.getfixturevalue(role))
    response = client.post(referral_url(deliberate_run), {"decision": "police", "note": "x"})
    assert response.status_code == status
    assert not deliberate_run.authority_referrals.exists()


def test_comms_who_does_not_own_the_case_cannot_record_a_referral_decision(
    client, make_person, incident, comms, deliberate_run
):
    client.force_login(make_person(group=roles.COMMS))
    response = client.post(referral_url(deliberate_run), {"decision": "police", "note": "x"})
    assert response.status_code == 403
    # The owner may.
    client.force_login(comms)
    client.post(referral_url(deliberate_run), {"decision": "not_referred", "note": "Internal."})
    assert deliberate_run.authority_referrals.get().decided_by == comms


def test_earlier_runs_stay_readable(client, hr, incident, employee):
    first = assess(incident, employee, hr, HUMAN_ERROR)
    second = assess(incident, employee, hr, DELIBERATE)
    first.refresh_from_db()
    assert first.superseded_at is not None
    client.force_login(hr)
    page = client.get(
        reverse("incidents:assessment", args=[incident.pk, first.pk])
    ).content.decode()
    assert "superseded" in page
    assert "Human error" in page
    assert reverse("incidents:assessment", args=[incident.pk, second.pk]) in page
    # A finished run cannot be finished again.
    response = client.post(
        reverse("incidents:assessment_finish", args=[incident.pk, first.pk]),
        {"outcome": "human_error"},
        follow=True,
    )
    assert "cannot be finished" in " ".join(messages_of(response))


# --- containment, plan, review and lessons --------------------------------------------


def test_a_holding_statement_is_approved_by_someone_else(client, comms, hr, incident):
    client.force_login(comms)
    client.post(reverse("incidents:statement_draft", args=[incident.pk]), {"text": "We know."})
    statement = HoldingStatement.objects.get()
    response = client.post(
        reverse("incidents:statement_approve", args=[incident.pk, statement.pk]), follow=True
    )
    assert "Someone other than the author" in " ".join(messages_of(response))
    client.force_login(hr)
    client.post(reverse("incidents:statement_approve", args=[incident.pk, statement.pk]))
    statement.refresh_from_db()
    assert statement.approved_by == hr


def test_no_takedown_note_lets_the_incident_be_contained(client, comms, incident):
    client.force_login(comms)
    client.post(
        reverse("incidents:no_takedown", args=[incident.pk]),
        {"version": incident.version, "note": "The post was never public."},
    )
    incident.refresh_from_db()
    client.post(
        reverse("incidents:transition", args=[incident.pk]),
        {"version": incident.version, "to": Status.CONTAINED},
    )
    incident.refresh_from_db()
    assert incident.status == Status.CONTAINED
    assert incident.contained_at is not None


def test_reopening_needs_a_reason(client, comms, incident):
    Incident.objects.filter(pk=incident.pk).update(status=Status.CLOSED)
    incident.refresh_from_db()
    client.force_login(comms)
    url = reverse("incidents:reopen", args=[incident.pk])
    response = client.post(url, {"version": incident.version, "note": ""}, follow=True)
    assert "Say why" in " ".join(messages_of(response))
    incident.refresh_from_db()
    assert incident.status == Status.CLOSED
    client.post(url, {"version": incident.version, "note": "It was posted again."})
    incident.refresh_from_db()
    assert incident.status == Status.REMEDIATION


def test_the_track_is_chosen_only_when_no_individual_is_involved(client, comms, incident):
    client.force_login(comms)
    url = reverse("incidents:choose_track", args=[incident.pk])
    client.post(url, {"version": incident.version, "track": "learning"})
    incident.refresh_from_db()
    assert incident.track == Incident.Track.NONE
    client.post(
        reverse("incidents:people_involved", args=[incident.pk]),
        {"version": incident.version, "emails": "", "no_individual": "on"},
    )
    incident.refresh_from_db()
    assert incident.no_individual_involved
    assert "Choose track" in client.get(detail_url(incident)).content.decode()
    client.post(url, {"version": incident.version, "track": "learning"})
    incident.refresh_from_db()
    assert incident.track == Incident.Track.LEARNING


def test_a_lesson_with_names_is_refused_unless_kept_on_purpose(client, comms, incident):
    client.force_login(comms)
    url = reverse("incidents:publish_lesson", args=[incident.pk])
    data = {"title": "Slides leak", "text": "Emily Carter posted a slide as @emily_c."}
    response = client.post(url, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "This text identifies the incident" in page
    assert "Emily Carter" in page
    assert not Lesson.objects.exists()
    client.post(url, {**data, "keep_identifying": "on"})
    assert Lesson.objects.get().text == data["text"]
    client.post(url, {"title": "Check slides", "text": "Slides with roadmaps stay inside."})
    assert Lesson.objects.count() == 2


def test_a_lesson_opens_a_policy_revision_and_a_talking_point(
    client, comms, policy_admin, make_person, incident
):
    approver = make_person(group=roles.POLICY_ADMIN)
    policy, _version = published_policy(title="Social media", owner=policy_admin, approver=approver)
    topic = Topic.objects.create(name="Posting safely")
    lesson = services.publish_lesson(
        incident=incident, by=comms, title="Check slides", text="Roadmap slides stay inside."
    )
    client.force_login(comms)
    response = client.post(
        reverse("incidents:lesson_policy_revision", args=[lesson.pk]), {"policy": policy.pk}
    )
    assert response.status_code == 403
    client.post(reverse("incidents:lesson_briefing", args=[lesson.pk]), {"topic": topic.pk})
    point = TalkingPoint.objects.get()
    assert point.topic == topic and point.text == lesson.text

    client.force_login(policy_admin)
    response = client.post(
        reverse("incidents:lesson_policy_revision", args=[lesson.pk]), {"policy": policy.pk}
    )
    draft = policy.versions.get(status="draft")
    assert response.url == reverse("policies:manage_version", args=[draft.pk])
    assert list(lesson.policy_versions.all()) == [draft]


def test_the_review_form_keeps_what_was_typed_when_incomplete(client, comms, incident):
    client.force_login(comms)
    response = client.post(
        reverse("incidents:write_review", args=[incident.pk]),
        {"summary": "Half written", "contributing_factors": "", "spotted_sooner": ""},
    )
    assert response.status_code == 400
    assert "Half written" in response.content.decode()
    assert not Review.objects.exists()


def test_evidence_is_withdrawn_from_the_page_and_shown_struck_through(client, comms, incident):
    evidence = incident.evidence.get()
    client.force_login(comms)
    url = reverse("incidents:evidence_withdraw", args=[incident.pk, evidence.pk])
    client.post(url, {"reason": "Wrong post captured."})
    page = client.get(detail_url(incident)).content.decode()
    assert "<del" in page
    assert "Wrong post captured." in page


# --- queries --------------------------------------------------------------------------


def _grow(incident, comms, n):
    for i in range(n):
        services.add_action(incident=incident, by=comms, title=f"Action {i}", owner=comms)
        services.request_takedown(incident=incident, by=comms, what=f"Post {i}", asked_of="X")
        services.draft_statement(incident=incident, by=comms, text=f"Statement {i}")
        Evidence.objects.create(
            incident=incident,
            url=f"https://example.com/{i}",
            captured_at=timezone.now(),
            captured_by=comms,
        )
        services.publish_lesson(incident=incident, by=comms, title=f"Lesson {i}", text="Text.")


def test_the_detail_page_query_count_stays_flat(client, hr, comms, incident, employee):
    assess(incident, employee, hr, HUMAN_ERROR)
    Topic.objects.create(name="Posting safely")
    _grow(incident, comms, 1)
    client.force_login(hr)
    url = detail_url(incident)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _grow(incident, comms, 12)
    assess(incident, employee, hr, HUMAN_ERROR)
    assert IncidentEvent.objects.filter(incident=incident).count() > 40
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few) <= 25, [q["sql"] for q in many]


def test_the_summary_page_query_count_stays_flat(client, comms, action_owner, incident):
    client.force_login(action_owner)
    url = detail_url(incident)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(10):
        services.add_action(incident=incident, by=comms, title=f"More {i}", owner=action_owner)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert "More 9" in page
    assert len(many) == len(few) <= 12, [q["sql"] for q in many]


def test_the_takedown_of_another_incident_is_not_found(client, comms, incident, reporter):
    other = services.report_incident(reporter=reporter, what_happened="Another.")
    takedown = services.request_takedown(incident=other, by=comms, what="Post", asked_of="X")
    client.force_login(comms)
    response = client.post(
        reverse("incidents:takedown_resolve", args=[incident.pk, takedown.pk]),
        {"status": "removed"},
    )
    assert response.status_code == 404
    takedown.refresh_from_db()
    assert takedown.status == Takedown.Status.REQUESTED


# --- what PolicyHub knows about a person ----------------------------------------------


def _held(topic, presenter, days_ago, status=Session.Status.COMPLETED):
    start = timezone.now() - timedelta(days=days_ago)
    return Session.objects.create(
        title=f"Briefing {days_ago} days ago",
        topic=topic,
        presenter=presenter,
        organiser=presenter,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone="Europe/London",
        room="Room 1",
        capacity=20,
        status=status,
    )


def _booked(session, person, status):
    return Booking.objects.create(
        session=session,
        person=person,
        status=status,
        booked_by=person,
        booked_at=session.starts_at - timedelta(days=1),
    )


def test_facts_follow_the_social_media_policy_through_its_versions(
    policy_admin, make_person, employee, incident
):
    approver = make_person(group=roles.POLICY_ADMIN)
    social, first = published_policy(title="Social media", owner=policy_admin, approver=approver)
    social.category = "social-media"
    social.save()
    published_policy(title="Expenses", owner=policy_admin, approver=approver)
    policy_services.acknowledge(version=first, user=employee, full_name="Emily Carter")

    facts = person_facts.for_person(employee, incident)
    assert [item.policy.title for item in facts.policies] == ["Social media"]
    assert facts.related_category
    item = facts.policies[0]
    assert item.current == first and item.current_acknowledged is not None
    # Acknowledged after the post (today), so nothing was acknowledged when it was posted.
    assert item.before_post is None

    minor = publish_version(
        social, author=policy_admin, approver=approver, body=BODY_2, change="minor"
    )
    item = person_facts.for_person(employee, incident).policies[0]
    assert item.current == minor
    assert item.current_acknowledged is not None  # a minor change keeps acknowledgements

    publish_version(social, author=policy_admin, approver=approver, body=BODY_1 + "\nMore.")
    item = person_facts.for_person(employee, incident).policies[0]
    assert item.current.number == "2.0"
    assert item.current_acknowledged is None
    assert [ack.version.number for ack in item.acknowledgements] == ["1.0"]


def test_facts_show_every_published_policy_when_there_is_no_social_media_policy(
    policy_admin, make_person, employee, incident
):
    approver = make_person(group=roles.POLICY_ADMIN)
    published_policy(title="Expenses", owner=policy_admin, approver=approver)
    published_policy(title="Security", owner=policy_admin, approver=approver)
    facts = person_facts.for_person(employee, incident)
    assert not facts.related_category
    assert [item.policy.title for item in facts.policies] == ["Expenses", "Security"]
    assert all(item.current_acknowledged is None for item in facts.policies)


def test_the_last_briefing_is_the_latest_one_attended(policy_admin, employee, incident):
    topic = Topic.objects.create(name="Posting safely")
    _booked(_held(topic, policy_admin, 200), employee, Booking.Status.ATTENDED)
    late = _booked(_held(topic, policy_admin, 100), employee, Booking.Status.LATE)
    _booked(_held(topic, policy_admin, 50), employee, Booking.Status.ABSENT)
    _booked(
        _held(topic, policy_admin, 20, status=Session.Status.CANCELLED),
        employee,
        Booking.Status.ATTENDED,
    )
    assert person_facts.for_person(employee, incident).last_briefing == late
