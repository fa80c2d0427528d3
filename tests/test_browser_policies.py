"""Policy journeys in the system Chromium (Playwright)."""

from io import StringIO

import pytest
from django.core.management import call_command

from people import roles
from people.models import User
from policies import services
from policies.models import Acknowledgement, Assignment, Policy, PolicyVersion
from tests.conftest import ARTIFACTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=StringIO())


def _log_in(page, base_url, email):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("policyhub-demo")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My tasks").wait_for()


def test_demo_employee_reads_what_changed_acknowledges_and_opens_the_receipt(
    live_server, demo, browser_page
):
    page = browser_page
    _log_in(page, live_server.url, "employee@example.com")
    # 2.0 is outstanding, on My tasks and on the Policies page.
    page.get_by_role("link", name="Social media policy 2.0").first.wait_for()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Policies").click()
    page.get_by_role("heading", name="Policies").first.wait_for()
    page.get_by_role("link", name="Social media policy").first.click()
    page.get_by_role("heading", name="What changed since version 1.0 you acknowledged").wait_for()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "policy-what-changed.png"), full_page=True)

    page.get_by_label("I have read and understood this policy").check()
    page.get_by_label("Full name").fill("emily   carter")
    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("SHA-256").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "policy-receipt.png"), full_page=True)

    employee = User.objects.get(email="employee@example.com")
    acknowledgement = Acknowledgement.objects.filter(person=employee).latest("sequence")
    assert acknowledgement.version.number == "2.0"
    assert acknowledgement.typed_name == "emily carter"
    assert acknowledgement.user_agent and acknowledgement.ip_address == "127.0.0.1"
    assert acknowledgement.record_hash in page.content()
    assert services.verify_chain().ok


def test_policy_admin_publishes_a_new_version_and_its_audience_is_assigned(
    live_server, demo, browser_page
):
    admin = User.objects.get(email="policyadmin@example.com")
    colleague = User.objects.create_user(
        "second.admin@example.com", "policyhub-demo", full_name="Nadia Okafor"
    )
    colleague.groups.add(roles_group(roles.POLICY_ADMIN))
    policy = Policy.objects.get(title="Speaking to the press")
    draft = services.create_draft(
        policy=policy,
        author=colleague,
        body=policy.versions.get(status="published").body + "\n\n## Podcasts\n\nThey count too.",
        change_summary="Podcasts count as press.",
    )
    services.submit_for_review(version=draft, user=colleague)
    audience = services.audience_ids(policy)

    page = browser_page
    _log_in(page, live_server.url, admin.email)
    page.goto(f"{live_server.url}/policies/manage/")
    page.get_by_role("link", name="Speaking to the press").click()
    page.get_by_role("link", name=f"Open draft {draft.number}").click()
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name="Publish now").click()
    page.get_by_text("Published").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "policy-published.png"), full_page=True)

    draft.refresh_from_db()
    assert draft.status == PolicyVersion.Status.PUBLISHED
    assigned = set(
        Assignment.objects.filter(version=draft, status="open").values_list("person_id", flat=True)
    )
    assert assigned == audience and len(assigned) > 50
    page.goto(f"{live_server.url}/policies/manage/versions/{draft.pk}/compliance/")
    assert "0%" in page.content()


def roles_group(name):
    from django.contrib.auth.models import Group

    return Group.objects.get_or_create(name=name)[0]
