"""Journeys in the system Chromium, driven by Playwright (never a downloaded browser)."""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_data(transactional_db):
    call_command("seed_demo", stdout=StringIO())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_demo_employee_logs_in_and_sees_my_tasks(live_server, demo_data, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Email").fill("employee@example.com")
    page.get_by_label("Password").fill("policyhub-demo")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My tasks").wait_for()
    navigation = page.get_by_role("navigation", name="Main")
    for label in ("My tasks", "Policies", "Training", "Incidents"):
        assert navigation.get_by_role("link", name=label).is_visible()
    assert navigation.get_by_role("link", name="Dashboards").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "my-tasks-employee.png"), full_page=True)
    # The stylesheet really came from our own server.
    assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_wrong_password_shows_a_message_in_the_browser(live_server, demo_data, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("employee@example.com")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_text("Please enter a correct email and password").is_visible()
