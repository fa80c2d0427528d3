"""Dashboard journeys in the system Chromium (Playwright)."""

import pytest

from incidents.models import Incident
from incidents.tests.factories import in_status
from tests.conftest import ARTIFACTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

Status = Incident.Status
PASSWORD = "correct-horse-battery"


def _log_in(page, base_url, email):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My tasks").wait_for()


def test_manager_clicks_a_remediation_figure_and_lands_on_its_incidents(
    live_server, browser_page, manager, employee, make_person, comms
):
    stranger = make_person(email="stranger@example.com")
    ours = in_status(Status.REMEDIATION, by=comms, people_involved=[employee])
    also_ours = in_status(Status.CLOSED, by=comms, people_involved=[employee])
    theirs = in_status(Status.REMEDIATION, by=comms, people_involved=[stranger])

    page = browser_page
    _log_in(page, live_server.url, manager.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboards").click()
    page.get_by_role("link", name="Remediation").click()
    page.get_by_role("heading", name="Remediation").wait_for()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-remediation-manager.png"), full_page=True)

    # The "In remediation" count in the open-now table: one incident of the manager's people.
    state = page.get_by_role("table").filter(has_text="By state")
    state.get_by_role("row", name="In remediation").get_by_role("link", name="1").click()
    page.get_by_role("heading", name="Incidents", exact=True).wait_for()
    page.screenshot(path=str(ARTIFACTS / "dashboard-remediation-drilldown.png"), full_page=True)
    assert "status=remediation" in page.url
    assert (
        "open now; status: in remediation" in page.get_by_test_id("described").inner_text().lower()
    )
    body = page.content()
    assert ours.reference in body
    assert also_ours.reference not in body
    assert theirs.reference not in body
