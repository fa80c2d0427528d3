"""Incident journeys in the system Chromium (Playwright)."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from incidents import assessment as guide
from incidents import services
from incidents.models import ActionItem, Assessment, Incident, Takedown
from notifications.models import Notification
from people.models import User
from tests.conftest import ARTIFACTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

Status = Incident.Status


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # the demo's evidence screenshots
    call_command("seed_demo", stdout=StringIO())


def _user(email: str) -> User:
    return User.objects.get(email=email)


def _log_in(page, base_url, email):
    page.context.clear_cookies()  # whoever was logged in before
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("policyhub-demo")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My tasks").wait_for()


def _open_incidents(page):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Incidents").click()
    page.get_by_role("heading", name="Incidents", exact=True).wait_for()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"incident-{name}.png"), full_page=True)


def _contained_incident(*, comms: User, employee: User, what: str) -> Incident:
    """Reported by a colleague with the employee named, owned by comms, the post taken
    down and the incident contained: ready to be classified."""
    incident = services.report_incident(
        reporter=_user("olivia.hughes@example.com"),
        what_happened=what,
        platform=Incident.Platform.LINKEDIN,
        url="https://www.linkedin.com/posts/emily-carter_kickoff-activity-7401",
        account_handle="emily-carter",
        information=Incident.Information.PERSONAL,
        estimated_reach=300,
        people_involved=[employee],
    )
    incident = services.assign_owner(incident=incident, owner=comms, by=comms)
    incident = services.transition(incident=incident, to=Status.TRIAGE, user=comms)
    takedown = services.request_takedown(
        incident=incident, by=comms, what="The LinkedIn post", asked_of="The author"
    )
    services.resolve_takedown(takedown=takedown, by=comms, status=Takedown.Status.REMOVED)
    return services.transition(incident=incident, to=Status.CONTAINED, user=comms)


# --- (a) the demo employee reports her own mistake ---------------------------------------


def test_demo_employee_reports_her_own_mistake_and_is_thanked_with_the_reference(
    live_server, demo, browser_page
):
    employee = _user("employee@example.com")
    page = browser_page
    _log_in(page, live_server.url, employee.email)
    _open_incidents(page)
    page.get_by_role("link", name="Report my own mistake").click()
    page.get_by_role("heading", name="Report my own mistake").wait_for()

    page.get_by_label("What happened").fill(
        "I posted a photo from the kick-off on LinkedIn and a customer's name is readable "
        "on the whiteboard behind us. I have deleted it."
    )
    page.get_by_label("Platform").select_option(label="LinkedIn")
    page.get_by_label("Link to the post").fill(
        "https://www.linkedin.com/posts/emily-carter_kickoff-activity-7402"
    )
    page.get_by_label("What kind of information").select_option(label="Customer or personal data")
    page.get_by_label("Estimated reach").fill("120")
    _shot(page, "report-own-form")
    page.get_by_role("button", name="Send report").click()

    page.get_by_role("heading", name="Thank you for telling us").wait_for()
    _shot(page, "report-own-thanks")
    incident = Incident.objects.filter(reporter=employee).order_by("-created_at").first()
    assert page.locator("#reference").inner_text().strip() == incident.reference
    assert re.fullmatch(r"INC-\d{4}-\d{4}", incident.reference)
    assert incident.self_reported and incident.status == Status.REPORTED
    assert incident.platform == Incident.Platform.LINKEDIN and incident.estimated_reach == 120
    assert list(incident.people_involved.all()) == [employee]
    assert Notification.objects.filter(
        kind="incident-self-report-thanks", subject_id=incident.pk, recipient=employee
    ).exists()

    # Her report and its status are under My reports.
    page.get_by_role("link", name="Back to Incidents").click()
    reports = page.get_by_role("region", name="My reports")
    row = reports.get_by_role("row").filter(has_text=incident.reference)
    row.get_by_text("Reported").wait_for()
    assert "Your own mistake" in row.inner_text()


# --- (b) comms runs the assessment to human error and fills the learning plan -----------


HUMAN_ERROR = (  # (the question asked, the answer given) in the order they are asked
    ("intended_actions", "No"),
    ("impairment", "No"),
    ("rule_broken_knowingly", "No"),
    ("substitution", "Yes"),
    ("gaps", "Yes"),
    ("history", "No"),
)
QUESTIONS = {step.key: step.question for step in guide.STEPS} | {
    "gaps": "Were there gaps in training or supervision?",
    "history": "Is there a history of similar events",
}


def test_comms_assesses_human_error_and_sees_the_learning_plan(live_server, demo, browser_page):
    comms, employee = _user("comms@example.com"), _user("employee@example.com")
    incident = _contained_incident(
        comms=comms,
        employee=employee,
        what="A kick-off photo on LinkedIn shows a customer's name on the whiteboard.",
    )
    page = browser_page
    _log_in(page, live_server.url, comms.email)
    _open_incidents(page)
    page.get_by_role("link", name="All incidents").click()
    page.get_by_role("link", name=incident.reference).click()
    page.get_by_role("heading", name=incident.reference).wait_for()
    banner = page.get_by_role("region", name="Human error or deliberate?")
    assert "Not assessed yet" in banner.inner_text()

    page.get_by_label(re.compile(r"^\s*Person\*?\s*$")).select_option(label="Emily Carter")
    page.get_by_label("The one act you are assessing").fill(
        "Posted a team photo with a customer's name readable in the background."
    )
    page.get_by_role("button", name="Start the assessment").click()
    page.get_by_role("heading", name="Assessment of Emily Carter").wait_for()

    for key, answer in HUMAN_ERROR:
        question = page.locator("#question-heading")
        question.get_by_text(QUESTIONS[key]).wait_for()
        if key == "rule_broken_knowingly":
            # At the step about rules, what PolicyHub knows about her is shown.
            _shot(page, "assessment-rules-step")
        page.get_by_role("button", name=answer, exact=True).click()
    suggested = page.get_by_role("region", name="Suggested outcome")
    suggested.get_by_text("Human error").wait_for()
    assert "learning track" in suggested.inner_text()
    _shot(page, "assessment-suggested")
    page.get_by_role("button", name="Finish the assessment").click()

    page.get_by_role("heading", name=incident.reference).wait_for()
    banner = page.get_by_role("region", name="Human error or deliberate?")
    banner.get_by_text("Human error", exact=True).wait_for()
    assert "Learning track" in banner.inner_text()
    page.get_by_role("button", name="Mark as classified").click()
    page.get_by_role("button", name="Start remediation").click()
    page.get_by_role("button", name="Fill the plan from the learning track template").click()
    plan = page.get_by_role("region", name="Remediation plan", exact=True)
    for title in services.PLAN_TEMPLATES[Incident.Track.LEARNING]:
        plan.get_by_text(title).wait_for()
    _shot(page, "learning-plan")

    incident.refresh_from_db()
    assert incident.status == Status.REMEDIATION
    assert incident.track == Incident.Track.LEARNING
    run = Assessment.objects.get(incident=incident)
    assert run.person == employee and run.assessor == comms
    assert run.suggested_outcome == run.final_outcome == Assessment.Outcome.HUMAN_ERROR
    assert {key: entry["value"] for key, entry in run.answers.items()} == {
        key: answer.lower() for key, answer in HUMAN_ERROR
    }
    titles = list(incident.actions.order_by("id").values_list("title", flat=True))
    assert titles == list(services.PLAN_TEMPLATES[Incident.Track.LEARNING])
    statuses = list(incident.events.filter(what="status").values_list("to_value", flat=True))
    assert statuses[-2:] == [Status.CLASSIFIED, Status.REMEDIATION]


# --- (c) a manager signs off the review and the incident closes ------------------------


def _incident_in_review(*, comms: User, employee: User, manager: User) -> Incident:
    """Classified human error, every action done (the manager's coaching conversation
    among them) and the blameless review written: waiting for a manager's sign-off."""
    incident = _contained_incident(
        comms=comms,
        employee=employee,
        what="A customer's meeting link was pasted into a public LinkedIn comment.",
    )
    run = services.start_assessment(
        incident=incident, person=employee, act="Pasted a meeting link in public.", by=comms
    )
    for key, answer in HUMAN_ERROR:
        services.answer(assessment=run, by=comms, key=key, value=answer.lower())
    services.finish_assessment(assessment=run, by=comms)
    incident = services.transition(incident=incident, to=Status.CLASSIFIED, user=comms)
    incident = services.transition(incident=incident, to=Status.REMEDIATION, user=comms)
    services.fill_plan(incident=incident, by=comms)
    coaching = services.add_action(
        incident=incident, by=comms, title="Coaching conversation with Emily", owner=manager
    )
    for action in incident.actions.exclude(pk=coaching.pk):
        services.complete_action(
            action=action, by=comms, status=ActionItem.Status.DONE, note="Done."
        )
    services.complete_action(
        action=coaching, by=manager, status=ActionItem.Status.DONE, note="We talked it through."
    )
    incident = services.transition(incident=incident, to=Status.REVIEW, user=comms)
    services.write_review(
        incident=incident,
        by=comms,
        summary="A meeting link with its passcode was pasted into a public comment.",
        contributing_factors="The chat and LinkedIn sit side by side on the same screen.",
        spotted_sooner="A warning when a meeting link is pasted outside the chat.",
        went_well="Deleted within minutes; the customer changed the passcode.",
    )
    return incident


def test_a_manager_signs_off_the_review_and_comms_closes_the_incident(
    live_server, demo, browser_page
):
    comms, employee = _user("comms@example.com"), _user("employee@example.com")
    manager = _user("manager@example.com")
    incident = _incident_in_review(comms=comms, employee=employee, manager=manager)
    page = browser_page

    # The manager (not the owner) finds the incident through his action and signs off.
    _log_in(page, live_server.url, manager.email)
    _open_incidents(page)
    page.get_by_role("link", name="My actions").click()
    page.get_by_role("heading", name="My actions").wait_for()
    page.get_by_role("link", name=incident.reference).click()
    review = page.get_by_role("region", name="Review", exact=True)
    review.get_by_text("Awaiting sign-off").wait_for()
    assert "A meeting link with its passcode" in review.inner_text()
    _shot(page, "review-to-sign-off")
    review.get_by_role("button", name="Sign off the review").click()
    page.get_by_text("You signed off the review.").wait_for()
    _shot(page, "review-signed-off")
    review = incident.review
    review.refresh_from_db()
    assert review.signed_off_by == manager and review.signed_off_at

    # Comms, the owner, closes it.
    _log_in(page, live_server.url, comms.email)
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    page.get_by_role("heading", name=incident.reference).wait_for()
    page.get_by_role("button", name="Close the incident").click()
    page.locator("h1 + .badge", has_text="Closed").wait_for()
    _shot(page, "closed")

    incident.refresh_from_db()
    assert incident.status == Status.CLOSED and incident.closed_at
    assert incident.review.signed_off_by == manager and incident.review.signed_off_at
    last = incident.events.filter(what="status").last()
    assert (last.from_value, last.to_value, last.by) == (Status.REVIEW, Status.CLOSED, comms)
