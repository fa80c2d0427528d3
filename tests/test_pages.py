"""Cross-app page rules: login everywhere, navigation by role, the layout's promises."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

# The only pages a stranger may open.
PUBLIC = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
}


def _named_routes(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django's admin has its own login page, checked below
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_routes(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def _example_url(name, pattern):
    kwargs = {key: "1" for key in pattern.pattern.converters}
    if name == "password_reset_confirm":
        kwargs = {"uidb64": "MQ", "token": "set-password"}
    return reverse(name, kwargs=kwargs or None)


# Endpoints for machines, not people: they take a token or a signature instead of a
# login, and refuse a stranger with their own answer rather than the login page.
MACHINE = {
    "prevention:intake_webhook": {405},  # POST only, signed with the source's secret
    "api:schema": {401, 403},
    "api:people": {401, 403},
    "api:person": {401, 403},
    "api:policies": {401, 403},
    "api:policy": {401, 403},
    "api:compliance": {401, 403},
    "api:incidents": {401, 403},
    "api:incident": {401, 403},
    "api:on_behalf": {401, 403},
    # SCIM: the identity provider's bearer token (scim/).
    **{
        f"scim:{name}": {401}
        for name in (
            "service_provider_config",
            "resource_types",
            "resource_type",
            "schemas",
            "schema",
            "users",
            "user",
            "groups",
            "group",
        )
    },
}


def test_every_page_but_login_reset_and_healthz_needs_login(client):
    checked = 0
    for name, pattern in _named_routes():
        url = _example_url(name, pattern)
        response = client.get(url)
        if name in MACHINE:
            assert response.status_code in MACHINE[name], f"{name} answered {response.status_code}"
        elif name in PUBLIC:
            assert response.status_code in (200, 302), name
            if response.status_code == 302:
                assert not response.url.startswith(reverse("login")), name
        else:
            assert response.status_code == 302, f"{name} answered {response.status_code}"
            assert response.url.startswith(reverse("login") + "?next="), name
        checked += 1
    assert checked >= 10
    assert client.get("/admin/").url.startswith("/admin/login/")


def _nav_labels(client) -> list[str]:
    page = client.get(reverse("my_tasks")).content.decode()
    nav = re.search(r'<nav[^>]*aria-label="Main".*?</nav>', page, re.S).group(0)
    return re.findall(r'class="nav-link[^"]*"[^>]*>([^<]+)</a>', nav)


def test_employee_sees_the_navigation_without_dashboards(client, employee):
    client.force_login(employee)
    assert _nav_labels(client) == ["My tasks", "Policies", "Training", "Incidents", "Check a post"]


@pytest.mark.parametrize("role", ["manager", "comms", "hr", "policy_admin", "leader"])
def test_roles_with_dashboards_see_them_in_the_navigation(client, role, request, employee):
    client.force_login(request.getfixturevalue(role))
    assert _nav_labels(client) == [
        "My tasks",
        "Policies",
        "Training",
        "Incidents",
        "Dashboards",
        "Check a post",
    ]
    assert client.get(reverse("dashboards:index")).status_code == 200


@pytest.mark.parametrize("role", ["employee", "outsider", "site_admin"])
def test_dashboards_are_refused_to_roles_without_them(client, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("dashboards:index")).status_code == 403


@pytest.mark.parametrize(
    "url_name", ["my_tasks", "policies:index", "training:index", "incidents:index"]
)
def test_everyone_can_open_the_employee_pages(client, employee, url_name):
    client.force_login(employee)
    assert client.get(reverse(url_name)).status_code == 200


def test_my_tasks_has_an_honest_empty_state(client, employee):
    client.force_login(employee)
    page = client.get(reverse("my_tasks")).content.decode()
    assert "<h1" in page and "My tasks" in page
    assert "You have nothing to do right now." in page


def test_layout_has_landmarks_skip_link_and_local_bootstrap(client, employee):
    client.force_login(employee)
    page = client.get(reverse("my_tasks")).content.decode()
    assert '<a class="skip-link" href="#main">Skip to main content</a>' in page
    assert '<main id="main"' in page and "<header>" in page and "<footer" in page
    assert '<html lang="en-gb">' in page and 'name="viewport"' in page
    assert "/static/vendor/bootstrap-5.3.9.min.css" in page
    assert "/static/vendor/bootstrap-5.3.9.bundle.min.js" in page
    assert "cdn" not in page.lower()


def test_vendored_bootstrap_is_served(client):
    response = client.get("/static/vendor/bootstrap-5.3.9.min.css")
    assert response.status_code == 200


def test_user_menu_offers_import_only_to_admins(client, employee, policy_admin, site_admin):
    client.force_login(employee)
    assert "Import people" not in client.get(reverse("my_tasks")).content.decode()
    for user in (policy_admin, site_admin):
        client.force_login(user)
        assert "Import people" in client.get(reverse("my_tasks")).content.decode()


def test_pages_use_the_persons_time_zone_during_the_request(rf, make_person):
    from django.utils import timezone

    from people.middleware import UserTimeZoneMiddleware

    seen = []
    middleware = UserTimeZoneMiddleware(
        lambda request: seen.append(timezone.get_current_timezone_name())
    )
    request = rf.get("/")
    request.user = make_person(time_zone="America/New_York")
    middleware(request)
    request.user = make_person(time_zone="")
    middleware(request)
    assert seen == ["America/New_York", "UTC"]
    assert timezone.get_current_timezone_name() == "UTC"
