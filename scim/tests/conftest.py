"""A SCIM client with its token, and a small caller that speaks SCIM JSON to /scim/v2/."""

import json

import pytest
from django.test import Client

from scim import services

BASE = "/scim/v2"


class Scim:
    """Requests as an identity provider sends them: a bearer token, application/scim+json."""

    def __init__(self, token: str | None):
        self.http = Client()
        self.token = token

    def request(self, method: str, path: str, body=None, **extra):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra.pop("headers", {}))
        data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        call = getattr(self.http, method.lower())
        kwargs = {"headers": headers, **extra}
        if data is not None:
            kwargs.update(data=data, content_type="application/scim+json")
        return call(BASE + path, **kwargs)

    def get(self, path, params=None, **extra):
        if params:
            extra["data"] = params
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra.pop("headers", {}))
        return self.http.get(BASE + path, headers=headers, **extra)

    def post(self, path, body, **extra):
        return self.request("POST", path, body, **extra)

    def put(self, path, body, **extra):
        return self.request("PUT", path, body, **extra)

    def patch(self, path, body, **extra):
        return self.request("PATCH", path, body, **extra)

    def delete(self, path, **extra):
        return self.request("DELETE", path, **extra)


@pytest.fixture
def okta_client(site_admin):
    client, token = services.create_client(name="Okta", may_assign_roles=False, by=site_admin)
    client.token = token
    return client


@pytest.fixture
def scim(okta_client):
    return Scim(okta_client.token)


@pytest.fixture
def role_client(site_admin):
    client, token = services.create_client(
        name="Microsoft Entra ID", may_assign_roles=True, by=site_admin
    )
    client.token = token
    return client


@pytest.fixture
def scim_with_roles(role_client):
    return Scim(role_client.token)


def error_of(response) -> tuple[int, str | None]:
    """The status and scimType of a SCIM error response, checking its shape on the way."""
    assert response["Content-Type"] == "application/scim+json"
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == str(response.status_code)
    assert body["detail"]
    return response.status_code, body.get("scimType")
