"""Every /scim/v2/ endpoint takes a client's bearer token and nothing else: no token, a
wrong one or a revoked one is refused with a SCIM error (401); a login session does not
count; no CSRF token is needed; tokens are stored as hashes and managed by site admins."""

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from people.models import User
from scim import services
from scim.models import ScimClient
from scim.tests.conftest import Scim, error_of

pytestmark = pytest.mark.django_db

CREATE = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "new.joiner@example.com",
    "displayName": "New Joiner",
}
ENDPOINTS = [
    ("GET", "/ServiceProviderConfig"),
    ("GET", "/ResourceTypes"),
    ("GET", "/Schemas"),
    ("GET", "/Users"),
    ("POST", "/Users"),
    ("GET", "/Users/1"),
    ("PUT", "/Users/1"),
    ("PATCH", "/Users/1"),
    ("DELETE", "/Users/1"),
    ("GET", "/Groups"),
    ("POST", "/Groups"),
    ("PATCH", "/Groups/1"),
    ("DELETE", "/Groups/1"),
    ("POST", "/Bulk"),
    ("GET", "/no-such-endpoint"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_refuses_a_request_without_a_token(okta_client, employee, method, path):
    response = Scim(None).request(method, path, CREATE if method in ("POST", "PUT") else None)
    assert error_of(response) == (401, None)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert User.objects.filter(email="new.joiner@example.com").exists() is False
    assert User.objects.get(pk=employee.pk).is_active


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ",
        "Bearer scim_not-a-real-token-at-all",
        "Basic b2t0YTpzZWNyZXQ=",
        "Token {token}",
        "Bearer {token}x",
        "Bearer {token_prefix}",
    ],
)
def test_a_wrong_token_or_scheme_is_refused(okta_client, header):
    value = header.format(token=okta_client.token, token_prefix=okta_client.token[:16])
    response = Scim(None).get("/Users", headers={"Authorization": value})
    assert error_of(response) == (401, None)


def test_a_revoked_token_is_refused_from_then_on(scim, okta_client, site_admin):
    assert scim.get("/Users").status_code == 200
    services.revoke_client(client=okta_client, by=site_admin)
    assert error_of(scim.get("/Users")) == (401, None)
    assert error_of(scim.post("/Users", CREATE)) == (401, None)
    assert not User.objects.filter(email="new.joiner@example.com").exists()


def test_a_login_session_is_no_substitute_for_a_token(site_admin):
    browser = Client()
    browser.force_login(site_admin)
    response = browser.get("/scim/v2/Users")
    assert error_of(response) == (401, None)


def test_no_csrf_token_is_needed(okta_client):
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(
        "/scim/v2/Users",
        CREATE,
        content_type="application/scim+json",
        headers={"Authorization": f"Bearer {okta_client.token}"},
    )
    assert response.status_code == 201


def test_two_clients_each_use_their_own_token(scim, scim_with_roles, okta_client, role_client):
    assert scim.get("/Users").status_code == 200
    assert scim_with_roles.get("/Users").status_code == 200
    assert okta_client.token != role_client.token


def test_using_a_token_records_when_at_most_once_a_minute(scim, okta_client):
    scim.get("/Users")
    first = ScimClient.objects.get(pk=okta_client.pk).last_used_at
    assert first is not None
    scim.get("/Users")
    assert ScimClient.objects.get(pk=okta_client.pk).last_used_at == first
    ScimClient.objects.filter(pk=okta_client.pk).update(last_used_at=first - timedelta(minutes=2))
    scim.get("/Users")
    assert ScimClient.objects.get(pk=okta_client.pk).last_used_at > first - timedelta(minutes=1)


# Tokens -----------------------------------------------------------------------------------------


def test_a_token_is_stored_only_as_its_hash_and_prefix(site_admin):
    client, token = services.create_client(
        name="  Okta   prod ", may_assign_roles=False, by=site_admin
    )
    assert token.startswith("scim_") and len(token) > 40
    assert client.prefix == token[:16]
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = {str(value) for value in ScimClient.objects.values_list().get(pk=client.pk)}
    assert token not in stored
    assert (client.name, client.created_by, client.may_assign_roles) == (
        "Okta prod",
        site_admin,
        False,
    )


def test_every_token_is_different(site_admin):
    tokens = {
        services.create_client(name=f"C{n}", may_assign_roles=False, by=site_admin)[1]
        for n in range(20)
    }
    assert len(tokens) == 20 and len({token[:16] for token in tokens}) == 20


def test_a_client_needs_a_name(site_admin):
    with pytest.raises(services.ClientError):
        services.create_client(name="   ", may_assign_roles=False, by=site_admin)
    assert not ScimClient.objects.exists()


def test_revoking_twice_is_refused_with_a_message(okta_client, site_admin):
    services.revoke_client(client=okta_client, by=site_admin)
    with pytest.raises(services.ClientError, match="already revoked"):
        services.revoke_client(client=okta_client, by=site_admin)


def test_a_site_admin_makes_a_client_in_the_admin_and_sees_its_token_once(site_admin):
    browser = Client()
    browser.force_login(site_admin)
    response = browser.post(
        "/admin/scim/scimclient/add/", {"name": "Microsoft Entra ID", "may_assign_roles": "on"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    client = ScimClient.objects.get()
    token = response.context["token"]
    assert token.startswith(client.prefix)
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert client.may_assign_roles and client.created_by == site_admin
    assert token in response.content.decode()
    assert "http://127.0.0.1:8000/scim/v2" in response.content.decode()
    # Never again: not on the client's page, not in the list.
    assert token not in browser.get(f"/admin/scim/scimclient/{client.pk}/change/").content.decode()
    assert token not in browser.get("/admin/scim/scimclient/").content.decode()
    assert Scim(token).get("/Users").status_code == 200


def test_a_site_admin_revokes_clients_in_the_admin(site_admin, okta_client):
    browser = Client()
    browser.force_login(site_admin)
    response = browser.post(
        "/admin/scim/scimclient/",
        {"action": "revoke", "_selected_action": [okta_client.pk]},
        follow=True,
    )
    assert "1 token(s) revoked" in response.content.decode()
    okta_client.refresh_from_db()
    assert okta_client.revoked_at is not None and okta_client.revoked_by == site_admin
    assert error_of(Scim(okta_client.token).get("/Users")) == (401, None)


def test_only_site_admins_see_scim_clients_in_the_admin(make_person, okta_client):
    staff = make_person(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="scim"))
    browser = Client()
    browser.force_login(staff)
    assert browser.get("/admin/scim/scimclient/").status_code == 403
    assert browser.post("/admin/scim/scimclient/add/", {"name": "Mine"}).status_code == 403
    assert ScimClient.objects.count() == 1


def test_nobody_deletes_a_client_in_the_admin(site_admin, okta_client):
    browser = Client()
    browser.force_login(site_admin)
    response = browser.post(f"/admin/scim/scimclient/{okta_client.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert ScimClient.objects.filter(pk=okta_client.pk).exists()


def test_a_revoked_client_keeps_its_record(okta_client, site_admin):
    services.revoke_client(client=okta_client, by=site_admin)
    okta_client.refresh_from_db()
    assert not okta_client.active and okta_client.revoked_at <= timezone.now()
