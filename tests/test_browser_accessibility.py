"""Every page meets WCAG 2.1 AA as axe-core checks it, for every one of the demo's people.

With the demo data, each demo account signs in and the browser walks every page that person
can reach: from My tasks it follows the links on each page it opens, one page per route
(links to a route already seen are not followed again), plus the pages no link leads to
(e.g. a form's own page after an action), filled with real objects of the demo. A stranger
walks the sign-in and password-reset pages. axe-core (vendored, tests/vendor/axe-core/)
checks each page against the WCAG 2.0/2.1 A and AA rules, none switched off; the test fails
on any violation, naming the rule, the page, the person and the elements.

The routes seen by all the walks together must be every named page of the site: a new page
is checked as soon as it is linked, and a page nobody can reach fails here until it is
either linked or listed below as not a page (downloads, POST-only actions, machine
endpoints, redirects).
"""

from __future__ import annotations

from collections import defaultdict
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from api.models import IntegrationToken
from api.services import create_token
from incidents.models import Incident
from notifications.models import WebhookSubscription
from people.models import User
from policies.models import Policy
from policies.services import add_translation, create_draft
from tests.a11y_support import DEMO_PASSWORD, add_axe, axe_violations, describe, log_in
from tests.conftest import ARTIFACTS
from tests.test_pages import _named_routes
from training.models import Booking

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# The demo's people, each with what they can open (PRODUCT.md "Demo accounts").
ROLES = {
    "employee": "employee@example.com",
    "manager": "manager@example.com",
    "comms": "comms@example.com",
    "hr": "hr@example.com",
    "policy admin": "policyadmin@example.com",
    "leader": "leader@example.com",
    "site admin": "admin@example.com",
}

# Pages whose content a script draws after the load: the scan waits for it.
DRAWN_BY_SCRIPT = {"api:docs": ".swagger-ui .opblock"}

# Named routes that are not pages a person reads in the browser; the walk never opens them.
NOT_PAGES = {
    # Downloads: CSV, calendar, PDF, an uploaded file.
    "policies:manage_compliance_csv",
    "training:compliance_csv",
    "training:session_ics",
    "dashboards:team_csv",
    "dashboards:remediation_csv",
    "dashboards:compliance_csv",
    "incidents:evidence_file",
    "evidence:receipt",
    "evidence:evidence_pack",
    "evidence:closure_report",
    # For machines: JSON, SCIM and the intake webhook (tests/test_pages.py MACHINE).
    "healthz",
    "api:schema",
    "api:people",
    "api:person",
    "api:policies",
    "api:policy",
    "api:compliance",
    "api:incidents",
    "api:incident",
    "api:on_behalf",
    "prevention:intake_webhook",
    "scim:service_provider_config",
    "scim:resource_types",
    "scim:resource_type",
    "scim:schemas",
    "scim:schema",
    "scim:users",
    "scim:user",
    "scim:groups",
    "scim:group",
    # Actions: POST only (require_POST), each a form or button on a page checked here.
    "logout",
    "two_factor:renew_codes",
    "two_factor:turn_off",
    "policies:acknowledge",
    "policies:quiz",
    "policies:decline",
    "policies:manage_remind",
    "policies:manage_reopen_decline",
    "policies:manage_on_behalf",
    "policies:manage_transition",
    "policies:manage_remove_translation",
    "training:book",
    "training:book_for",
    "training:cancel_booking",
    "training:check_in",
    "training:feedback",
    "training:complete_session",
    "training:compliance_invite",
    "training:manage_session_cancel",
    "incidents:close_action",
    "incidents:assign_owner",
    "incidents:edit_details",
    "incidents:people_involved",
    "incidents:transition",
    "incidents:reopen",
    "incidents:takedown_request",
    "incidents:takedown_resolve",
    "incidents:no_takedown",
    "incidents:statement_draft",
    "incidents:statement_approve",
    "incidents:evidence_upload",
    "incidents:evidence_withdraw",
    "incidents:choose_track",
    "incidents:fill_plan",
    "incidents:add_action",
    "incidents:change_due_date",
    "incidents:complete_action",
    "incidents:write_review",
    "incidents:sign_off_review",
    "incidents:publish_lesson",
    "incidents:lesson_policy_revision",
    "incidents:lesson_briefing",
    "incidents:assessment_new",
    "incidents:assessment_finish",
    "incidents:assessment_authority_referral",
    "dashboards:team_nudge",
    "prevention:decide",
    "prevention:withdraw",
    "prevention:keep_example",
    "prevention:attach_example",
    "prevention:remove_example",
    "prevention:source_deactivate",
    "prevention:source_activate",
    "prevention:source_fetch",
    "prevention:source_secret",
    "notifications:webhook_secret",
    "notifications:webhook_resend",
}


def _route_name(url: str, base_url: str) -> str | None:
    """The route a link of this site leads to; None for other sites, the admin and unknowns."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or f"{parts.scheme}://{parts.netloc}" != base_url:
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if "admin" in match.namespaces or not match.url_name:
        return None
    return match.view_name


class Walk:
    """One browser context walking the pages of one person, checking each with axe-core."""

    def __init__(self, browser, base_url: str, who: str):
        self.base_url = base_url
        self.who = who
        self.context = browser.new_context()
        add_axe(self.context)
        self.page = self.context.new_page()
        self.seen: dict[str, str] = {}  # route name -> the path checked
        self.violations: list[str] = []
        self.problems: list[str] = []

    def check(self, path: str, *, expect_status: int = 200, again: bool = False) -> None:
        """Open a page, check it with axe-core, and queue what it links to. `again`: check
        this page even if its route was seen (the same page in another state)."""
        queue = [path]
        first = True
        while queue:
            path = queue.pop(0)
            name = _route_name(self.base_url + path, self.base_url)
            if not first:
                again, expect_status = False, 200
            first = False
            if name is not None and (name in self.seen or name in NOT_PAGES) and not again:
                continue
            response = self.page.goto(self.base_url + path)
            self.page.wait_for_load_state("load")
            if response.status != expect_status:
                self.problems.append(f"{self.who}: {path} answered {response.status}")
                continue
            landed = urlsplit(self.page.url)
            landed_path = landed.path + (f"?{landed.query}" if landed.query else "")
            landed_name = _route_name(self.page.url, self.base_url)
            if landed_name != name and landed_name in self.seen:
                continue  # a redirect to a page already checked
            if landed_name is not None:
                self.seen[landed_name] = landed_path
            if landed_name in DRAWN_BY_SCRIPT:  # check what the script draws, not a blank page
                self.page.wait_for_selector(DRAWN_BY_SCRIPT[landed_name])
            for violation in axe_violations(self.page):
                self.violations.append(describe(violation, where=f"{landed_path} ({self.who})"))
            queue += self._links()

    def _links(self) -> list[str]:
        hrefs = self.page.eval_on_selector_all(
            "a[href]",  # SVG charts' links too, whose .href is not a string
            "links => links.map(l => new URL(l.getAttribute('href'), document.baseURI).href)",
        )
        paths = []
        for href in hrefs:
            name = _route_name(href, self.base_url)
            if name is None or name in self.seen or name in NOT_PAGES:
                continue
            parts = urlsplit(href)
            paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        return paths

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # the demo's evidence screenshots
    # Mail is written to files, so the site admin's mailbox lists a message to open.
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    call_command("seed_demo", stdout=StringIO())
    admin = User.objects.get(email="admin@example.com")
    message = EmailMultiAlternatives(
        "Booking confirmed: Social media basics",
        "You are booked.",
        "PolicyHub <policyhub@example.com>",
        ["employee@example.com"],
    )
    message.attach_alternative("<p>You are booked.</p>", "text/html")
    message.send()
    # What the demo has none of, made as a person would: an API token, an outgoing webhook
    create_token(owner=admin, name="GRC tool", scope="read", by=admin)
    WebhookSubscription.objects.create(
        name="GRC tool",
        url="https://grc.example.com/hooks/policyhub",
        events=["incident.closed"],
        secret="a-secret-for-the-test",
        created_by=admin,
    )
    # and a draft of the social media policy; a German translation of the published
    # version (fixed at once: the employee reads the policy in a choice of languages) and
    # one of the draft (its edit page).
    policy = Policy.objects.get(title="Social media policy")
    policy_admin = User.objects.get(email="policyadmin@example.com")
    published = policy.versions.filter(status="published").latest("pk")
    add_translation(
        version=published,
        user=policy_admin,
        language="de",
        title="Social-Media-Richtlinie",
        body="## Zweck\n\nDiese Richtlinie gilt für alle Beiträge in sozialen Medien.",
    )
    draft = create_draft(
        policy=policy,
        author=policy_admin,
        body=published.body + "\n\nA new line.",
        change_summary="A new line.",
    )
    add_translation(
        version=draft,
        user=policy_admin,
        language="fr",
        title="Politique des réseaux sociaux",
        body="## Objet\n\nCette politique s’applique à toutes les publications.",
    )


def _stranger(browser, base_url) -> Walk:
    walk = Walk(browser, base_url, "a stranger")
    employee = User.objects.get(email="employee@example.com")
    uid = urlsafe_base64_encode(force_bytes(employee.pk))
    token = default_token_generator.make_token(employee)
    for path in (
        reverse("login"),
        reverse("password_reset"),
        reverse("password_reset_done"),
        reverse("password_reset_confirm", args=[uid, token]),
        reverse("password_reset_complete"),
    ):
        walk.check(path)
    walk.check("/no-such-page/", expect_status=404)
    return walk


def _pages_no_link_leads_to(who: str) -> list[str]:
    """Pages of this person that the walk from My tasks does not reach by a link, or that
    it reaches in another state: each with a real object of the demo."""
    policy = Policy.objects.get(title="Social media policy")
    if who == "employee":
        employee = User.objects.get(email="employee@example.com")
        reported = Incident.objects.filter(reporter=employee).order_by("pk")[0]
        booked = Booking.objects.filter(person=employee, session__starts_at__gt=timezone.now())
        return [
            # The policy waiting for the employee's acknowledgement, with its form.
            reverse("policies:detail", args=[policy.slug]),
            reverse("incidents:thanks", args=[reported.pk]),
            reverse("evidence:issued"),
            reverse("evidence:verify"),
            *[reverse("training:session", args=[b.session_id]) for b in booked[:1]],
            reverse("dashboards:index"),  # refused: the 403 page
        ]
    if who == "policy admin":
        draft = policy.versions.get(status="draft")
        return [
            reverse("policies:manage_diff", args=[policy.pk]),
            reverse("policies:manage_edit_draft", args=[draft.pk]),
            reverse("policies:manage_version", args=[draft.pk]),
        ]
    if who == "hr":
        return [reverse("two_factor:recovery_codes")]
    if who == "site admin":
        return [
            reverse("two_factor:recovery_codes"),
            reverse("api:token_revoke", args=[IntegrationToken.objects.get().pk]),
        ]
    return []


def _signed_in(browser, base_url, who, email) -> Walk:
    walk = Walk(browser, base_url, who)
    log_in(walk.page, base_url, email)
    walk.check(reverse("my_tasks"))
    for path in _pages_no_link_leads_to(who):
        walk.check(path, again=True, expect_status=403 if "dashboards" in path else 200)
    if who == "hr":
        # Signing in again, with the second factor set up: the code page.
        walk.context.clear_cookies()
        walk.page.goto(base_url + reverse("login"))
        walk.page.get_by_label("Email").fill(email)
        walk.page.get_by_label("Password").fill(DEMO_PASSWORD)
        walk.page.get_by_role("button", name="Log in").click()
        walk.page.get_by_role("heading", name="Two-factor sign-in").wait_for()
        walk.check(reverse("two_factor:verify"), again=True)
    return walk


def test_every_page_meets_wcag_21_aa_for_every_demo_person(live_server, demo, browser_page):
    browser = browser_page.context.browser
    base_url = live_server.url
    walks = [_stranger(browser, base_url)]
    walks[0].close()
    for who, email in ROLES.items():
        walks.append(_signed_in(browser, base_url, who, email))
        walks[-1].close()

    seen_by = defaultdict(list)
    for walk in walks:
        for name in walk.seen:
            seen_by[name].append(walk.who)
    pages = {name for name, _ in _named_routes()} - NOT_PAGES
    missing = sorted(pages - set(seen_by))
    violations = [line for walk in walks for line in walk.violations]
    problems = [line for walk in walks for line in walk.problems]

    report = "\n".join(
        [f"{len(seen_by)} routes checked; {len(violations)} violations"]
        + violations
        + ["Routes nobody reached:"]
        + missing
        + ["Problems:"]
        + problems
        + [f"{name}: {', '.join(whos)}" for name, whos in sorted(seen_by.items())]
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "accessibility.txt").write_text(report)
    print(report)
    assert not problems, "\n".join(problems)
    assert not missing, f"pages no walk reached: {missing}"
    assert not violations, "\n\n".join(violations)
