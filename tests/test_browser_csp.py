"""The pages work under the Content-Security-Policy in the system Chromium (Playwright).

Each of the demo's people opens their main pages; the browser reports no violation of
the policy (a `securitypolicyviolation` event), no console error and no script error. The
behaviour and styles moved out of the pages into static files still work: the Print
buttons print, the check-in code is big, the compliance bars are drawn to their figure,
and the API documentation page (Swagger UI, under a nonce) lists the API.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from incidents.models import Incident
from people.models import User
from policies.models import Acknowledgement, Policy, PolicyVersion
from tests.test_browser_two_factor import set_up_second_factor
from training.models import Requirement, Session

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Reports each violation to the test as it happens, whatever page the browser is on, and
# counts prints instead of opening the print dialog.
WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline code"}` +
    ` at ${event.sourceFile || document.location.pathname}:${event.lineNumber}`
  );
});
window.print = () => { window.printed = (window.printed || 0) + 1; };
"""


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # the demo's evidence screenshots
    call_command("seed_demo", stdout=StringIO())


@pytest.fixture
def watched(browser_page):
    page = browser_page
    problems: list[str] = []
    page.expose_binding(
        "reportViolation", lambda source, text: problems.append(f"{page.url}: CSP {text}")
    )
    page.add_init_script(WATCH)
    # A failed load is reported with its address below; the browser's own favicon.ico
    # request (the admin's pages name no icon) is not a page's doing.
    page.on(
        "console",
        lambda message: (
            problems.append(f"{page.url}: console error: {message.text}")
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"{page.url}: script error: {error}"))
    page.on(
        "response",
        lambda response: (
            problems.append(f"{page.url}: {response.status} for {response.url}")
            if response.status >= 400
            else None
        ),
    )
    return page, problems


def _log_in(page, base_url, email):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("policyhub-demo")
    page.get_by_role("button", name="Log in").click()
    if email == "admin@example.com":  # a site admin sets up two-factor sign-in first
        set_up_second_factor(page)
        page.get_by_role("link", name="Continue").click()
    page.get_by_role("heading", name="My tasks").wait_for()


def _visit(page, base_url, paths):
    for path in paths:
        response = page.goto(f"{base_url}{path}")
        assert response.status == 200, f"{path}: {response.status}"
        page.wait_for_load_state("load")


def _printed(page) -> int:
    return page.evaluate("window.printed || 0")


def test_employees_pages_run_under_the_policy_and_the_receipt_prints(live_server, demo, watched):
    page, problems = watched
    employee = User.objects.get(email="employee@example.com")
    policy = Policy.objects.get(title="Social media policy")
    receipt = Acknowledgement.objects.filter(person=employee).latest("sequence")
    session = Session.objects.filter(status=Session.Status.SCHEDULED).order_by("starts_at")[0]

    _log_in(page, live_server.url, employee.email)
    _visit(
        page,
        live_server.url,
        [
            "/",
            reverse("policies:index"),
            reverse("policies:detail", args=[policy.slug]),
            reverse("training:index"),
            reverse("training:session", args=[session.pk]),
            reverse("incidents:index"),
            reverse("incidents:report"),
            reverse("prevention:check"),
            reverse("notifications:preferences"),
            reverse("policies:receipt", args=[receipt.pk]),
        ],
    )
    # The policy's styles reach it from policyhub.css: the receipt's hashes wrap.
    wrap = page.locator(".receipt-hash").first.evaluate("e => getComputedStyle(e).overflowWrap")
    assert wrap == "anywhere"
    page.get_by_role("button", name="Print").click()
    assert _printed(page) == 1
    # On paper: the receipt alone, without the site's header, footer or the button.
    page.emulate_media(media="print")
    assert page.locator("header").is_hidden() and page.locator("footer").is_hidden()
    assert page.get_by_role("button", name="Print").is_hidden()
    assert page.locator(".receipt-card").evaluate("e => getComputedStyle(e).borderStyle") == (
        "none"
    )
    page.emulate_media(media="screen")
    assert page.locator("header").is_visible()
    # The user menu is Bootstrap's script at work.
    page.get_by_role("button", name=employee.get_full_name()).click()
    page.get_by_role("button", name="Log out").wait_for(state="visible")
    assert problems == []


def test_organisers_pages_run_under_the_policy_and_draw_their_bars(live_server, demo, watched):
    page, problems = watched
    policy = Policy.objects.get(title="Social media policy")
    version = PolicyVersion.objects.filter(policy=policy, status="published").latest("pk")
    session = Session.objects.filter(status=Session.Status.SCHEDULED).order_by("starts_at")[0]
    requirement = Requirement.objects.order_by("pk")[0]

    _log_in(page, live_server.url, "policyadmin@example.com")
    _visit(
        page,
        live_server.url,
        [
            reverse("policies:manage_index"),
            reverse("policies:manage_policy", args=[policy.pk]),
            reverse("policies:manage_version", args=[version.pk]),
            reverse("policies:manage_diff", args=[policy.pk]),
            reverse("training:manage_index"),
            reverse("training:roster", args=[session.pk]),
            reverse("training:catering", args=[session.pk]),
            reverse("training:compliance"),
            reverse("training:compliance_requirement", args=[requirement.pk]),
            reverse("dashboards:index"),
            reverse("dashboards:compliance"),
            reverse("policies:manage_compliance", args=[version.pk]),
        ],
    )
    # Each department's bar is as long as its share of the row's cell.
    rows = page.locator("tbody tr").filter(has=page.locator(".progress-fill")).all()
    assert rows
    for row in rows[:5]:
        figure = row.locator("td.text-end").nth(2).inner_text()
        bar = row.locator(".progress-fill")
        # A bar of 0% has no box at all.
        drawn = bar.locator("rect").bounding_box() or {"width": 0}
        whole = bar.bounding_box()
        share = 0 if figure == "—" else int(figure.rstrip("%"))
        assert drawn["width"] == pytest.approx(whole["width"] * share / 100, abs=1.5), figure

    page.goto(f"{live_server.url}{reverse('training:checkin_sheet', args=[session.pk])}")
    size = page.locator(".checkin-code").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 48
    page.locator(".checkin-qr svg").wait_for()
    page.get_by_role("button", name="Print").click()
    assert _printed(page) == 1
    page.emulate_media(media="print")
    assert page.locator("header").is_hidden() and page.locator(".checkin-code").is_visible()
    assert problems == []


def test_comms_and_managers_pages_run_under_the_policy(live_server, demo, watched):
    page, problems = watched
    incident = Incident.objects.order_by("pk")[0]

    _log_in(page, live_server.url, "comms@example.com")
    _visit(
        page,
        live_server.url,
        [
            reverse("dashboards:index"),
            reverse("dashboards:remediation"),
            reverse("incidents:list"),
            reverse("incidents:detail", args=[incident.pk]),
            reverse("incidents:lessons"),
            reverse("prevention:queue"),
            reverse("prevention:watchlist"),
            reverse("prevention:examples"),
        ],
    )
    page.context.clear_cookies()

    _log_in(page, live_server.url, "manager@example.com")
    _visit(page, live_server.url, [reverse("dashboards:team"), reverse("dashboards:remediation")])
    page.locator("svg.chart").first.wait_for()
    assert problems == []


def test_site_admins_pages_run_under_the_policy_and_the_api_documentation_renders(
    live_server, demo, watched
):
    page, problems = watched
    employee = User.objects.get(email="employee@example.com")

    _log_in(page, live_server.url, "admin@example.com")
    _visit(
        page,
        live_server.url,
        [
            "/admin/",
            "/admin/people/user/",
            f"/admin/people/user/{employee.pk}/change/",
            "/admin/policies/policy/",
            reverse("api:tokens"),
            reverse("notifications:mailbox"),
            reverse("people:import"),
            reverse("api:docs"),
        ],
    )
    # Swagger UI ran its start-up script (with the nonce) and read the schema.
    page.get_by_role("heading", name="PolicyHub API").first.wait_for()
    page.get_by_text("/api/v1/people/", exact=True).first.wait_for()
    assert problems == []
