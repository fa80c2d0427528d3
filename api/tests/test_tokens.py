"""Site admins make integration tokens (shown once, stored hashed), list them with when
each was last used, and revoke them; nobody else can, and the Django admin only reads."""

import hashlib

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from api import services
from api.models import IntegrationToken, TokenError
from api.tests.conftest import READ, READ_WRITE

pytestmark = pytest.mark.django_db

TOKENS = reverse("api:tokens")


def revoke_url(token):
    return reverse("api:token_revoke", args=[token.pk])


def create(client, **fields):
    data = {"owner": "policyadmin@example.com", "name": "GRC nightly", "scope": READ, **fields}
    return client.post(TOKENS, data)


# --- the service -----------------------------------------------------------------------


def test_a_new_token_is_stored_as_a_hash_and_its_prefix(site_admin, policy_admin):
    token, key = services.create_token(
        owner=policy_admin, name="  GRC   nightly ", scope=READ, by=site_admin
    )
    assert key.startswith("ph_") and len(key) > 40
    assert token.prefix == key[:12]
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {str(value) for value in IntegrationToken.objects.values_list()[0]}
    assert token.name == "GRC nightly"
    assert (token.owner, token.created_by, token.scope) == (policy_admin, site_admin, READ)
    assert token.last_used_at is None and token.revoked_at is None


def test_every_token_is_different(site_admin, policy_admin):
    keys = {
        services.create_token(owner=policy_admin, name=f"T{n}", scope=READ, by=site_admin)[1]
        for n in range(20)
    }
    assert len(keys) == 20
    assert len({key[:12] for key in keys}) == 20


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, "Give the token a name"),
        ({"name": "x" * 151}, "Keep the name to 150 characters."),
        ({"scope": "admin"}, "Choose read, or read and write."),
    ],
)
def test_bad_input_makes_no_token(site_admin, policy_admin, fields, message):
    arguments = {"owner": policy_admin, "name": "GRC", "scope": READ, **fields}
    with pytest.raises(TokenError, match=message):
        services.create_token(by=site_admin, **arguments)
    assert not IntegrationToken.objects.exists()


def test_only_site_admins_make_or_revoke_tokens(site_admin, policy_admin, leader):
    with pytest.raises(TokenError, match="Only site admins create API tokens."):
        services.create_token(owner=leader, name="GRC", scope=READ, by=policy_admin)
    token, _key = services.create_token(owner=leader, name="GRC", scope=READ, by=site_admin)
    with pytest.raises(TokenError, match="Only site admins revoke API tokens."):
        services.revoke_token(token=token, by=policy_admin)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_leaver_gets_no_token(site_admin, employee):
    employee.is_active = False
    employee.save()
    with pytest.raises(TokenError, match="has left"):
        services.create_token(owner=employee, name="GRC", scope=READ, by=site_admin)


def test_an_owner_has_one_active_token_of_a_name(site_admin, policy_admin):
    first, _key = services.create_token(owner=policy_admin, name="GRC", scope=READ, by=site_admin)
    with pytest.raises(TokenError, match="already has an active token named “grc”"):
        services.create_token(owner=policy_admin, name="grc", scope=READ, by=site_admin)
    services.revoke_token(token=first, by=site_admin)
    services.create_token(owner=policy_admin, name="GRC", scope=READ, by=site_admin)
    assert IntegrationToken.objects.count() == 2


def test_revoking_twice_is_refused_and_keeps_the_first_time(site_admin, policy_admin):
    token, _key = services.create_token(owner=policy_admin, name="GRC", scope=READ, by=site_admin)
    services.revoke_token(token=token, by=site_admin)
    first = IntegrationToken.objects.get(pk=token.pk).revoked_at
    with pytest.raises(TokenError, match="already revoked"):
        services.revoke_token(token=token, by=site_admin)
    assert IntegrationToken.objects.get(pk=token.pk).revoked_at == first


# --- the page -------------------------------------------------------------------------


NOT_SITE_ADMINS = ["employee", "manager", "comms", "hr", "policy_admin", "leader"]


@pytest.mark.parametrize("role", NOT_SITE_ADMINS)
def test_only_site_admins_open_the_tokens_page(client, request, role, site_admin, policy_admin):
    token, _key = services.create_token(owner=policy_admin, name="GRC", scope=READ, by=site_admin)
    client.force_login(request.getfixturevalue(role))
    assert client.get(TOKENS).status_code == 403
    assert create(client, name="Sneaky").status_code == 403
    assert client.get(revoke_url(token)).status_code == 403
    assert client.post(revoke_url(token)).status_code == 403
    assert IntegrationToken.objects.count() == 1
    token.refresh_from_db()
    assert token.revoked_at is None


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get(TOKENS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_site_admin_creates_a_token_and_sees_it_once(client, site_admin, policy_admin):
    client.force_login(site_admin)
    response = create(client, scope=READ_WRITE)
    assert response.status_code == 200
    key = response.context["key"]
    html = response.content.decode()
    assert key in html and "it is shown only this once" in html
    assert "no-store" in response["Cache-Control"]
    token = IntegrationToken.objects.get()
    assert (token.owner, token.name, token.scope) == (policy_admin, "GRC nightly", READ_WRITE)
    # Never again: not on the list, not in the admin.
    listing = client.get(TOKENS).content.decode()
    assert "GRC nightly" in listing and token.prefix in listing and key not in listing
    admin_page = client.get(reverse("admin:api_integrationtoken_change", args=[token.pk]))
    assert admin_page.status_code == 200
    assert key not in admin_page.content.decode()
    assert token.key_hash not in admin_page.content.decode()
    # And it works.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get(reverse("api:people")).status_code == 200


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"owner": "nobody@example.com"}, "No active person has that email address."),
        ({"owner": ""}, "This field is required."),
        ({"name": ""}, "This field is required."),
        ({"scope": "admin"}, "Select a valid choice."),
        ({"name": "x" * 151}, "Ensure this value has at most 150 characters"),
        ({"name": "Bad\x00name"}, "Null characters are not allowed."),
    ],
)
def test_the_form_refuses_bad_input_and_makes_nothing(
    client, site_admin, policy_admin, fields, message
):
    client.force_login(site_admin)
    response = create(client, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not IntegrationToken.objects.exists()


def test_the_form_shows_the_services_refusal(client, site_admin, policy_admin):
    services.create_token(owner=policy_admin, name="GRC nightly", scope=READ, by=site_admin)
    client.force_login(site_admin)
    response = create(client)
    assert response.status_code == 400
    assert "already has an active token named" in response.content.decode()
    assert IntegrationToken.objects.count() == 1


def test_the_list_shows_last_use_and_who_revoked(client, site_admin, policy_admin, leader):
    used, key = services.create_token(owner=leader, name="Used", scope=READ, by=site_admin)
    services.create_token(owner=policy_admin, name="Unused", scope=READ, by=site_admin)
    gone, _key = services.create_token(owner=policy_admin, name="Gone", scope=READ, by=site_admin)
    services.revoke_token(token=gone, by=site_admin)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    api.get(reverse("api:policies"))
    client.force_login(site_admin)
    html = client.get(TOKENS).content.decode()
    assert "Never" in html
    assert "Revoked" in html and f"by {site_admin.get_full_name()}" in html
    assert html.count("Revoke<span") == 2  # the two active ones


def test_revoking_asks_first_then_refuses_the_token(client, site_admin, policy_admin):
    token, key = services.create_token(owner=policy_admin, name="GRC", scope=READ, by=site_admin)
    client.force_login(site_admin)
    page = client.get(revoke_url(token))
    assert page.status_code == 200
    assert "Revoke “GRC”?" in page.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None  # asking changes nothing
    response = client.post(revoke_url(token), follow=True)
    assert "is revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == site_admin
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get(reverse("api:people")).status_code == 401


def test_revoking_an_unknown_token_is_404(client, site_admin):
    client.force_login(site_admin)
    assert client.get(reverse("api:token_revoke", args=[999])).status_code == 404
    assert client.post(reverse("api:token_revoke", args=[999])).status_code == 404


def test_revoking_a_revoked_token_says_so(client, site_admin, policy_admin):
    token, _key = services.create_token(owner=policy_admin, name="GRC", scope=READ, by=site_admin)
    services.revoke_token(token=token, by=site_admin)
    client.force_login(site_admin)
    assert "already revoked" in client.get(revoke_url(token)).content.decode()
    response = client.post(revoke_url(token), follow=True)
    assert "already revoked" in response.content.decode()


def test_the_tokens_list_is_paged_with_a_fixed_number_of_queries(
    client, site_admin, make_person, django_assert_max_num_queries
):
    def fill(count):
        for _ in range(count):
            owner = make_person()
            token, _key = services.create_token(owner=owner, name="T", scope=READ, by=site_admin)
            if token.pk % 2:
                services.revoke_token(token=token, by=site_admin)

    fill(2)
    client.force_login(site_admin)
    client.get(TOKENS)
    with django_assert_max_num_queries(12) as few:
        client.get(TOKENS)
    fill(40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(TOKENS).content.decode()
    assert "Page 1 of 2" in html


def test_the_django_admin_cannot_add_change_or_delete_tokens(client, site_admin, policy_admin):
    token, _key = services.create_token(owner=policy_admin, name="GRC", scope=READ, by=site_admin)
    client.force_login(site_admin)
    assert client.get(reverse("admin:api_integrationtoken_changelist")).status_code == 200
    assert client.get(reverse("admin:api_integrationtoken_add")).status_code == 403
    assert (
        client.get(reverse("admin:api_integrationtoken_delete", args=[token.pk])).status_code == 403
    )
    response = client.post(
        reverse("admin:api_integrationtoken_change", args=[token.pk]),
        {"name": "Changed", "scope": READ_WRITE},
    )
    assert response.status_code == 403
    token.refresh_from_db()
    assert (token.name, token.scope) == ("GRC", READ)
