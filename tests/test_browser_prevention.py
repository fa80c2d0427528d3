"""Check a post and Ask comms in the system Chromium (Playwright): the demo employee
checks a draft with a code name in it, asks comms, comms approve with edits in their own
browser, and the employee reads the answer from My tasks."""

from io import StringIO

import pytest
from django.core.management import call_command

from notifications.models import Notification
from people.models import User
from policies.models import Policy
from prevention.models import PostReview
from prevention.tests.factories import watch_term
from tests.conftest import ARTIFACTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EXPLANATION = "Atlas is the code name of a product we have not announced yet."
DRAFT = "Proud of the team! Project Atlas launches on Monday, you will love it."
EDITED = "Proud of the team! Something new launches soon, you will love it."


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # the demo's evidence screenshots
    call_command("seed_demo", stdout=StringIO())


def _log_in(page, base_url, email):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("policyhub-demo")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My tasks").wait_for()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"prevention-{name}.png"), full_page=True)


def test_employee_checks_a_code_name_asks_comms_and_reads_their_edits(
    live_server, demo, browser_page
):
    policy = Policy.objects.get(title="Social media policy")
    watch_term(
        text="Project Atlas",
        explanation=EXPLANATION,
        policy=policy,
        policy_section="Confidential information",
    )
    employee = User.objects.get(email="employee@example.com")
    page = browser_page

    # The employee checks the draft: the code name is marked and explained.
    _log_in(page, live_server.url, employee.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Check a post").click()
    page.get_by_role("heading", name="Check a post").wait_for()
    page.get_by_text("Private: the check keeps nothing.").wait_for()
    page.get_by_label("Draft post").fill(DRAFT)
    page.get_by_label("Platform").select_option(label="LinkedIn")
    page.get_by_role("button", name="Check", exact=True).click()
    page.get_by_role("heading", name="1 thing to look at").wait_for()
    page.get_by_text(EXPLANATION).wait_for()
    assert page.locator("mark#mark-1").text_content() == "Finding 1, high severity: Project Atlas"
    section = page.get_by_role("link", name="Social media policy: Confidential information")
    assert section.get_attribute("href").endswith("#section-confidential-information")
    _shot(page, "check-result")
    mine = PostReview.objects.filter(requester=employee, draft=DRAFT)
    assert not mine.exists()  # checked, not kept

    # She asks comms, with the default time (the next working day).
    page.get_by_role("button", name="Ask comms").click()
    page.get_by_role("heading", name="Post review").wait_for()
    page.get_by_text("Waiting for comms.").wait_for()
    review = mine.get()
    assert (review.requester, review.draft, review.platform) == (employee, DRAFT, "linkedin")

    # Comms, in their own browser, find it in the queue and approve it with edits.
    comms_context = page.context.browser.new_context()
    try:
        comms_page = comms_context.new_page()
        _log_in(comms_page, live_server.url, "comms@example.com")
        comms_page.get_by_role("button", name="Chloe").click()
        comms_page.get_by_role("link", name="Post reviews").click()
        comms_page.get_by_role("heading", name="Post reviews").wait_for()
        _shot(comms_page, "queue")
        comms_page.get_by_role("link", name=DRAFT).click()
        comms_page.get_by_role("heading", name="Your answer").wait_for()
        comms_page.get_by_label("Approve with edits").check()
        comms_page.get_by_label("Suggested text").fill(EDITED)
        comms_page.get_by_label("Reason").fill("The name Atlas is not public until the launch.")
        comms_page.get_by_role("button", name="Send answer").click()
        comms_page.get_by_text("Your answer was sent.").wait_for()
        _shot(comms_page, "comms-answered")
    finally:
        comms_context.close()
    answered = Notification.objects.filter(kind="post-review-answered", recipient=employee)
    assert answered.filter(subject_id=review.pk).count() == 1

    # The employee sees the answer on My tasks and opens it: the edits, word by word.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tasks").click()
    answer_link = page.locator(f'a[href="/prevention/reviews/{review.pk}/"]')
    answer_link.filter(has_text="Comms answered your post review").click()
    page.get_by_role("heading", name="The answer: Approved with edits").wait_for()
    assert page.locator("#suggested-text").inner_text() == EDITED
    diff = page.locator("#suggested-diff")
    removed = [text.strip() for text in diff.locator("del").all_text_contents()]
    added = [text.strip() for text in diff.locator("ins").all_text_contents()]
    assert removed == [
        "Removed: Project Atlas (end of removed text)",
        "Removed: on Monday, (end of removed text)",
    ]
    assert added == [
        "Added: Something new (end of added text)",
        "Added: soon, (end of added text)",
    ]
    page.get_by_text("The name Atlas is not public until the launch.").wait_for()
    _shot(page, "review-answer")
    review.refresh_from_db()
    assert review.answer_seen_at is not None

    # Read: My tasks no longer lists it.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tasks").click()
    page.get_by_role("heading", name="My tasks").wait_for()
    assert answer_link.count() == 0  # (the demo's own answer to Emily stays listed)
