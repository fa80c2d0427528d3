"""The OpenAPI schema generates with no warning and is valid; it is served to tokens and
logged-in people; the documentation page loads its scripts from this server only."""

import re
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SCHEMA = reverse("api:schema")
DOCS = reverse("api:docs")


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    # --fail-on-warn raises on any warning or error; --validate checks it against the
    # OpenAPI 3 specification.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(out), stdout=StringIO()
    )
    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert paths == {
        "/api/v1/people/",
        "/api/v1/people/{id}/",
        "/api/v1/policies/",
        "/api/v1/policies/{id}/",
        "/api/v1/compliance/policies/",
        "/api/v1/incidents/",
        "/api/v1/incidents/{id}/",
        "/api/v1/acknowledgements/on-behalf/",
    }
    assert schema["components"]["securitySchemes"]["integrationToken"]["scheme"] == "bearer"
    for path in schema["paths"].values():
        for operation in path.values():
            assert operation["security"] == [{"integrationToken": []}]
            assert {"401", "403"} <= set(operation["responses"])


def test_the_schema_is_for_tokens_and_logged_in_people(client, api_as, employee):
    response = APIClient().get(SCHEMA)
    assert response.status_code == 401
    assert "detail" in response.json()
    token_response = api_as(employee).get(SCHEMA)
    assert token_response.status_code == 200
    assert b"/api/v1/incidents/" in token_response.content
    client.force_login(employee)
    assert client.get(SCHEMA).status_code == 200


def test_the_documentation_page_needs_a_login(client):
    response = client.get(DOCS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_documentation_page_uses_only_this_servers_files(client, employee):
    client.force_login(employee)
    response = client.get(DOCS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html and "SwaggerUIBundle" in html
    assert f'url: "{SCHEMA}"' in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    for source in sources:
        assert source.startswith(
            ("/static/drf_spectacular_sidecar/", "/static/css/api-docs.css")
        ), source
    # Not a single outside address: no CDN, no fonts, no online validator.
    assert not re.search(r"https?://", html), re.findall(r"https?://[^\s\"']+", html)
    assert '"validatorUrl": null' in html


def test_the_documentation_assets_are_served_locally(client, employee):
    from django.contrib.staticfiles import finders

    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{name}"), name
