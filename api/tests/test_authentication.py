"""Requests without a valid token are refused in JSON, a read token never changes
anything, and a token records when it was last used."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api import services
from api.models import IntegrationToken
from api.tests.conftest import READ, READ_WRITE
from incidents.models import Incident
from policies.models import Acknowledgement, Assignment
from policies.tests.factories import published_policy

pytestmark = pytest.mark.django_db

PEOPLE = reverse("api:people")
INCIDENTS = reverse("api:incidents")
ON_BEHALF = reverse("api:on_behalf")
READ_ENDPOINTS = ["api:people", "api:policies", "api:compliance", "api:incidents"]


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def report() -> dict:
    return {"what_happened": "A screenshot of the roadmap on LinkedIn.", "platform": "linkedin"}


@pytest.mark.parametrize("name", READ_ENDPOINTS)
def test_a_request_without_a_token_is_refused_with_401_in_json(name):
    response = APIClient().get(reverse(name))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == "Bearer"


def test_reporting_without_a_token_is_refused_and_stores_nothing():
    response = APIClient().post(INCIDENTS, report(), format="json")
    assert response.status_code == 401
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ph_one ph_two",
        "Bearer ph_notatoken",
        "Bearer ph_abcdefghi-not-the-right-secret",
        "Bearer \u00e9t\u00e9",
    ],
)
def test_a_malformed_or_unknown_token_is_refused(header, token_maker, policy_admin):
    token_maker(policy_admin)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))
    response = client.get(PEOPLE)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_token_with_the_right_prefix_and_a_wrong_secret_is_refused(token_maker, policy_admin):
    key = token_maker(policy_admin)
    forged = key[:12] + "x" * (len(key) - 12)
    assert bearer(forged).get(PEOPLE).status_code == 401
    assert bearer(key).get(PEOPLE).status_code == 200


def test_a_revoked_token_is_refused_with_401(token_maker, policy_admin, site_admin):
    key = token_maker(policy_admin)
    assert bearer(key).get(PEOPLE).status_code == 200
    token = IntegrationToken.objects.get(prefix=key[:12])
    services.revoke_token(token=token, by=site_admin)
    response = bearer(key).get(PEOPLE)
    assert response.status_code == 401
    assert response.json() == {"detail": "The token is not valid or has been revoked."}


def test_a_revoked_write_token_reports_nothing(token_maker, employee, site_admin):
    key = token_maker(employee, READ_WRITE)
    services.revoke_token(token=IntegrationToken.objects.get(prefix=key[:12]), by=site_admin)
    assert bearer(key).post(INCIDENTS, report(), format="json").status_code == 401
    assert not Incident.objects.exists()


def test_the_token_of_someone_who_has_left_is_refused(token_maker, policy_admin):
    key = token_maker(policy_admin)
    policy_admin.is_active = False
    policy_admin.save()
    response = bearer(key).get(PEOPLE)
    assert response.status_code == 401
    assert response.json() == {"detail": "The token's owner has left."}


def test_a_read_token_may_not_report_an_incident(api_as, employee):
    response = api_as(employee, READ).post(INCIDENTS, report(), format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "This token may only read."}
    assert not Incident.objects.exists()


def test_a_read_token_may_not_acknowledge_on_behalf(api_as, policy_admin, leader, employee):
    _policy, version = published_policy(title="Social media", owner=policy_admin, approver=leader)
    response = api_as(policy_admin, READ).post(
        ON_BEHALF,
        {"version": version.pk, "email": employee.email, "reason": "Signed on paper."},
        format="json",
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "This token may only read."}
    assert not Acknowledgement.objects.exists()
    assert Assignment.objects.get(person=employee).status == Assignment.Status.OPEN


def test_a_logged_in_browser_session_is_not_a_token(client, policy_admin):
    """The API takes tokens only: a page's session cookie (and so a cross-site request
    riding on it) gets nowhere."""
    client.force_login(policy_admin)
    response = client.get(PEOPLE)
    assert response.status_code == 401
    response = client.post(INCIDENTS, report(), content_type="application/json")
    assert response.status_code == 401
    assert not Incident.objects.exists()


def test_a_token_records_when_it_was_last_used(token_maker, policy_admin):
    key = token_maker(policy_admin)
    token = IntegrationToken.objects.get(prefix=key[:12])
    assert token.last_used_at is None
    before = timezone.now()
    assert bearer(key).get(PEOPLE).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at >= before


def test_last_used_is_written_at_most_once_a_minute(token_maker, policy_admin):
    key = token_maker(policy_admin)
    token = IntegrationToken.objects.get(prefix=key[:12])
    recent = timezone.now() - timedelta(seconds=10)
    IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    bearer(key).get(PEOPLE)
    token.refresh_from_db()
    assert token.last_used_at == recent
    old = timezone.now() - timedelta(minutes=5)
    IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=old)
    bearer(key).get(PEOPLE)
    token.refresh_from_db()
    assert token.last_used_at > old


def test_a_refused_token_is_not_marked_as_used(token_maker, policy_admin, site_admin):
    key = token_maker(policy_admin)
    token = IntegrationToken.objects.get(prefix=key[:12])
    services.revoke_token(token=token, by=site_admin)
    bearer(key).get(PEOPLE)
    token.refresh_from_db()
    assert token.last_used_at is None


def test_requests_are_json_only(api_as, employee):
    response = api_as(employee, READ_WRITE).post(INCIDENTS, report())  # a form post
    assert response.status_code == 415
    assert "detail" in response.json()
    assert not Incident.objects.exists()


@pytest.mark.parametrize("name", READ_ENDPOINTS)
def test_answers_are_json_whatever_a_browser_asks_for(api_as, leader, name):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = api_as(leader).get(reverse(name), HTTP_ACCEPT=browser)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    refused = api_as(leader).get(reverse(name), HTTP_ACCEPT="text/html")
    assert refused.status_code == 406
    assert "detail" in refused.json()


@pytest.mark.parametrize("name", [*READ_ENDPOINTS, "api:on_behalf"])
def test_options_describes_an_endpoint_without_changing_anything(api_as, policy_admin, name):
    response = api_as(policy_admin, READ_WRITE).options(reverse(name))
    assert response.status_code == 200
    assert response.json()["name"]
    assert not Incident.objects.exists() and not Acknowledgement.objects.exists()
