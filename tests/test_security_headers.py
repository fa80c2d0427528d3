"""Security headers on every response, and pages that work under the Content-Security-Policy.

Every response (pages, redirects, 403s, 404s, 405s, 500s, static files, /healthz, the
Django admin and the API) carries the Content-Security-Policy, Permissions-Policy,
Referrer-Policy, X-Content-Type-Options and X-Frame-Options. Every HTML page is also read
for what the policy would block in a browser: an inline script without the response's
nonce, an event-handler attribute, a style attribute or element, a javascript: link.
The browser test (test_browser_csp.py) then proves the pages run with no violation.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, deque
from datetime import timedelta
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone

from api import services as api_services
from api.models import IntegrationToken
from incidents.models import Incident
from people.models import User
from policyhub import security
from policyhub.urls import urlpatterns as site_urlpatterns
from tests.test_pages import _example_url, _named_routes

pytestmark = pytest.mark.django_db


def _explode(request):
    raise RuntimeError("An error the server did not expect.")


# This module doubles as a URLconf (pytest.mark.urls): the site plus a page that fails.
urlpatterns = [path("explode/", _explode), *site_urlpatterns]

DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")


def _directives(policy: str) -> dict[str, list[str]]:
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_security_headers(response, where: str) -> None:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"{where}: no Content-Security-Policy"
    csp = _directives(policy)
    if csp["default-src"] == ["'none'"]:
        # A view's own stricter policy (an uploaded evidence file): it allows nothing.
        assert all(sources in ([], ["'none'"]) for sources in csp.values()), where
    else:
        _assert_site_policy(csp, where)
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    features = response.headers.get("Permissions-Policy", "")
    for feature in DENIED_FEATURES:
        assert f"{feature}=()" in features, f"{where}: {feature} is not refused"


def _assert_site_policy(csp: dict[str, list[str]], where: str) -> None:
    assert csp["default-src"] == ["'self'"], where
    scripts = csp["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, where
    assert all(s == "'self'" or re.fullmatch(r"'nonce-[\w+/=]+'", s) for s in scripts), where
    assert csp["style-src"] == ["'self'"], where
    assert csp["img-src"] == ["'self'", "data:"], where
    assert csp["object-src"] == ["'none'"], where
    assert csp["base-uri"] == ["'self'"], where
    assert csp["frame-ancestors"] == ["'none'"], where
    assert csp["form-action"][0] == "'self'", where


class _BlockedByPolicy(HTMLParser):
    """Collects what a browser would refuse under the policy, and the page's links."""

    SCRIPT_DATA = {"application/json", "application/ld+json", "text/template"}

    def __init__(self, nonce: str | None):
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, _value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>: an inline event handler")
        if "style" in attributes:
            self.problems.append(f"<{tag} style={attributes['style']!r}>: a style attribute")
        href = (attributes.get("href") or "").strip()
        if href.lower().startswith("javascript:"):
            self.problems.append(f"<{tag} href={href!r}>: a javascript: link")
        if tag == "a" and href:
            self.links.append(href)
        if tag == "style":
            self.problems.append("<style>: an inline style element")
        if tag == "script" and "src" not in attributes:
            if (attributes.get("type") or "").lower() in self.SCRIPT_DATA:
                return
            if not self.nonce or attributes.get("nonce") != self.nonce:
                self.problems.append("<script>: an inline script without the response's nonce")


def page_problems(response) -> tuple[list[str], list[str]]:
    """What the policy would block on an HTML page, and the page's links."""
    if not response.headers.get("Content-Type", "").startswith("text/html"):
        return [], []
    policy = _directives(response.headers["Content-Security-Policy"])
    nonces = [s[7:-1] for s in policy.get("script-src", ()) if s.startswith("'nonce-")]
    parser = _BlockedByPolicy(nonces[0] if nonces else None)
    parser.feed(response.content.decode())
    return parser.problems, parser.links


def _check(response, where: str) -> list[str]:
    assert_security_headers(response, where)
    problems, links = page_problems(response)
    assert not problems, f"{where}: {problems}"
    return links


def _walk_named_routes(client, who: str) -> Counter:
    statuses = Counter()
    for name, pattern in _named_routes():
        url = _example_url(name, pattern)
        response = client.get(url)
        _check(response, f"{who} GET {url} ({response.status_code})")
        statuses[response.status_code] += 1
    return statuses


def test_every_page_answers_a_stranger_with_the_security_headers():
    statuses = _walk_named_routes(Client(), "a stranger")
    # Pages, login redirects and the API's refusals were all among them.
    assert statuses[200] and statuses[302] and statuses[401]


@pytest.mark.parametrize("role", ["employee", "comms", "policy_admin", "hr", "site_admin"])
def test_every_page_answers_each_role_with_the_security_headers(client, role, request):
    client.force_login(request.getfixturevalue(role))
    statuses = _walk_named_routes(client, role)
    # Lists, refusals of others' pages, missing objects and GETs of POST-only actions.
    assert statuses[200] and statuses[404] and statuses[405]
    if role != "site_admin":
        assert statuses[403]


def test_a_form_sent_without_its_csrf_token_is_refused_with_the_headers(employee):
    client = Client(enforce_csrf_checks=True)
    client.force_login(employee)
    response = client.post(reverse("incidents:report"), {"summary": "x"})
    assert response.status_code == 403
    _check(response, "POST without a CSRF token")
    assert "Your form was not sent" in response.content.decode()
    assert not Incident.objects.exists()


def test_static_files_and_healthz_carry_the_headers(client):
    for url in (
        "/healthz",
        "/static/css/policyhub.css",
        "/static/js/policyhub.js",
        "/static/vendor/bootstrap-5.3.9.bundle.min.js",
        "/static/admin/css/base.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        _check(response, url)
    missing = client.get("/static/css/no-such-file.css")
    assert missing.status_code == 404
    _check(missing, "a missing static file")


def test_healthz_answers_a_probe_by_address_over_http_with_the_headers(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200
    _check(response, "/healthz by address")


def test_https_redirect_and_refused_host_carry_the_headers(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    redirect = client.get(reverse("login"))
    assert redirect.status_code == 301 and redirect.url.startswith("https://")
    _check(redirect, "the https redirect")
    settings.SECURE_SSL_REDIRECT = False
    refused = client.get(reverse("login"), HTTP_HOST="evil.example")
    assert refused.status_code == 400
    _check(refused, "a refused host")


@pytest.mark.urls(__name__)
def test_the_server_error_page_carries_the_headers(client, employee):
    client.force_login(employee)
    client.raise_request_exception = False
    response = client.get("/explode/")
    assert response.status_code == 500
    _check(response, "the 500 page")


def test_every_admin_page_carries_the_headers(client, site_admin, employee):
    client.force_login(site_admin)
    urls = ["/admin/", "/admin/password_change/", "/admin/no-such-page/"]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:app_list", args=[info[0]]))
        for view in ("changelist", "add"):
            try:
                urls.append(reverse(f"admin:{info[0]}_{info[1]}_{view}"))
            except NoReverseMatch:
                pass
    person = reverse("admin:people_user_change", args=[employee.pk])
    urls += [person, person.replace("change/", "history/"), person.replace("change/", "delete/")]
    for url in dict.fromkeys(urls):
        response = client.get(url)
        assert response.status_code in (200, 302, 403, 404), f"{url}: {response.status_code}"
        _check(response, f"admin {url}")
    anonymous = Client().get("/admin/login/")
    _check(anonymous, "the admin's login page")


def test_the_api_documentation_runs_its_start_up_script_under_a_nonce(client, employee):
    client.force_login(employee)
    first = client.get(reverse("api:docs"))
    second = client.get(reverse("api:docs"))
    _check(first, "/api/docs/")
    nonces = []
    for response in (first, second):
        page = response.content.decode()
        nonce = re.search(r"<script nonce=\"([^\"]+)\">", page).group(1)
        assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
        assert "SwaggerUIBundle(" in page.split(nonce, 1)[1]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    # Other pages get no nonce: script-src is the site's own files only.
    other = client.get(reverse("my_tasks"))
    assert _directives(other.headers["Content-Security-Policy"])["script-src"] == ["'self'"]


def test_the_sign_in_providers_origin_may_receive_forms(client, settings):
    settings.OIDC_ENABLED = True
    settings.OIDC_ISSUER = "https://login.example.com/realms/staff/"
    settings.OIDC_OP_LOGOUT_ENDPOINT = "https://sso.example.com:8443/logout?x=1"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = ""
    csp = _directives(client.get(reverse("login")).headers["Content-Security-Policy"])
    assert csp["form-action"] == [
        "'self'",
        "https://login.example.com",
        "https://sso.example.com:8443",
    ]
    settings.OIDC_ENABLED = False
    csp = _directives(client.get(reverse("login")).headers["Content-Security-Policy"])
    assert csp["form-action"] == ["'self'"]


# --- the demo, page by page, as each of its people ------------------------------------------

# Links followed from each person's My tasks; of addresses that differ only by their
# numbers (one incident or another), the first few.
SAME_SHAPE = 3
CRAWL_LIMIT = 400


def _shape(url_path: str) -> str:
    return re.sub(r"/\d+(?=/|$)", "/N", url_path)


def _crawl(client, who: str, start: list[str]) -> int:
    queue, seen, shapes, pages = deque(start), set(), Counter(), 0
    while queue and pages < CRAWL_LIMIT:
        url = queue.popleft()
        url_path = urlsplit(url).path
        if url_path in seen or shapes[_shape(url_path)] >= SAME_SHAPE:
            continue
        seen.add(url_path)
        shapes[_shape(url_path)] += 1
        response = client.get(url)
        pages += 1
        for link in _check(response, f"{who} GET {url} ({response.status_code})"):
            target = urlsplit(urljoin(url, link))
            if target.scheme or target.netloc or target.path.startswith(("/static/", "/media/")):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return pages


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # the demo's evidence screenshots
    call_command("seed_demo", stdout=StringIO())


def test_every_page_of_the_demo_carries_the_headers_and_nothing_the_policy_blocks(client, demo):
    visited = 0
    for email in (
        "employee@example.com",
        "manager@example.com",
        "comms@example.com",
        "hr@example.com",
        "policyadmin@example.com",
        "leader@example.com",
        "admin@example.com",
    ):
        client.force_login(User.objects.get(email=email))
        visited += _crawl(client, email, ["/", "/api/docs/", "/admin/"])
    assert visited > 300


# --- sessions that end ----------------------------------------------------------------------


def _stored(client) -> dict:
    return Session.objects.get(session_key=client.session.session_key).get_decoded()


def test_a_login_starts_both_limits_and_the_session_lasts_the_idle_limit(client, employee):
    response = client.post(
        reverse("login"), {"username": employee.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == settings.SESSION_IDLE_MINUTES * 60 == 480 * 60
    stored = Session.objects.get(session_key=cookie.value)
    idle = stored.expire_date - timezone.now()
    assert timedelta(minutes=479) < idle <= timedelta(minutes=480)
    data = stored.get_decoded()
    assert data[security.SIGNED_IN_AT] == data[security.SEEN_AT]
    assert abs(data[security.SIGNED_IN_AT] - time.time()) < 5


def test_use_pushes_the_expiry_back_at_most_once_a_minute(client, employee, monkeypatch):
    client.force_login(employee)
    logged_in_at = _stored(client)[security.SIGNED_IN_AT]
    monkeypatch.setattr(security, "_now", lambda: logged_in_at + 59)
    quiet = client.get(reverse("my_tasks"))
    assert settings.SESSION_COOKIE_NAME not in quiet.cookies
    assert _stored(client)[security.SEEN_AT] == logged_in_at

    monkeypatch.setattr(security, "_now", lambda: logged_in_at + 60)
    pushed = client.get(reverse("my_tasks"))
    assert pushed.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 480 * 60
    assert _stored(client)[security.SEEN_AT] == logged_in_at + 60
    assert _stored(client)[security.SIGNED_IN_AT] == logged_in_at


def test_a_session_left_idle_past_its_limit_asks_for_a_login(client, employee):
    client.force_login(employee)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(reverse("training:index"))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse('training:index')}"


def test_the_absolute_limit_logs_out_however_active_and_the_login_page_says_why(
    client, employee, monkeypatch
):
    client.force_login(employee)
    key = client.session.session_key
    logged_in_at = _stored(client)[security.SIGNED_IN_AT]
    monkeypatch.setattr(security, "_now", lambda: logged_in_at + 12 * 3600 - 1)
    assert client.get(reverse("my_tasks")).status_code == 200

    monkeypatch.setattr(security, "_now", lambda: logged_in_at + 12 * 3600)
    response = client.get(reverse("training:index"), follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("login") + "?next=")
    page = response.content.decode()
    assert "You were logged out 12 hours after you logged in. Log in again to go on." in page
    assert not Session.objects.filter(session_key=key).exists()

    # A new login starts the clock again.
    client.post(reverse("login"), {"username": employee.email, "password": "correct-horse-battery"})
    assert client.get(reverse("my_tasks")).status_code == 200


def test_the_absolute_limit_follows_the_setting(client, employee, monkeypatch, settings):
    settings.SESSION_MAX_HOURS = 2
    client.force_login(employee)
    logged_in_at = _stored(client)[security.SIGNED_IN_AT]
    monkeypatch.setattr(security, "_now", lambda: logged_in_at + 2 * 3600)
    response = client.get(reverse("my_tasks"), follow=True)
    assert "You were logged out 2 hours after you logged in." in response.content.decode()


def test_a_session_from_before_the_limits_gets_them_on_its_next_request(client, employee):
    client.force_login(employee)
    session = client.session
    del session[security.SIGNED_IN_AT]
    del session[security.SEEN_AT]
    session.save()
    assert client.get(reverse("my_tasks")).status_code == 200
    data = _stored(client)
    assert abs(data[security.SIGNED_IN_AT] - time.time()) < 5
    assert data[security.SEEN_AT] == data[security.SIGNED_IN_AT]


def test_an_api_request_with_a_token_starts_no_session(employee, site_admin):
    _token, key = api_services.create_token(
        owner=employee, name="Intranet", scope=IntegrationToken.Scope.READ, by=site_admin
    )
    response = Client().get(reverse("api:policies"), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert not Session.objects.exists()


# --- the settings, read from the environment ------------------------------------------------


def _settings_in_a_fresh_process(**env) -> subprocess.CompletedProcess:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'age': s.SESSION_COOKIE_AGE, 'max': s.SESSION_MAX_HOURS, "
        "'report': s.CONTENT_SECURITY_POLICY['DIRECTIVES'].get('report-uri')}))"
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS", "CSP_REPORT_URI"}
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env={**clean, "DJANGO_SETTINGS_MODULE": "policyhub.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_session_limits_and_the_report_address_come_from_the_environment():
    result = _settings_in_a_fresh_process(
        SESSION_IDLE_MINUTES="30",
        SESSION_MAX_HOURS="8",
        CSP_REPORT_URI="https://errors.example.com/csp",
    )
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout.strip().splitlines()[-1])
    assert read == {"age": 1800, "max": 8, "report": ["https://errors.example.com/csp"]}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SESSION_IDLE_MINUTES", "half an hour", "SESSION_IDLE_MINUTES must be a whole number"),
        ("SESSION_IDLE_MINUTES", "2", "SESSION_IDLE_MINUTES must be at least 5, not 2."),
        ("SESSION_MAX_HOURS", "0", "SESSION_MAX_HOURS must be at least 1, not 0."),
    ],
)
def test_a_bad_session_limit_stops_the_start_with_a_clear_message(name, value, message):
    result = _settings_in_a_fresh_process(**{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
