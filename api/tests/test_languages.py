"""The API tokens page in the reader's language, the API itself in English whatever the
caller asks for, and the documentation page saying its language (issue 13.2). The tests
that read German words pass once locale/parts/evidence.json is merged (scripts/i18n.py)."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from api import services
from api.models import IntegrationToken

pytestmark = pytest.mark.django_db


def test_the_api_tokens_page_speaks_german_to_a_german_site_admin(client, site_admin):
    # Passes once locale/parts/evidence.json is merged into the catalogs.
    site_admin.language = "de"
    site_admin.save()
    client.force_login(site_admin)
    html = client.get(reverse("api:tokens")).content.decode()

    assert "Lesen und schreiben" in html
    assert "E-Mail der verantwortlichen Person" in html


def test_revoking_a_token_says_so_in_french_to_a_french_site_admin(
    client, site_admin, policy_admin
):
    # Passes once locale/parts/evidence.json is merged into the catalogs.
    token, _key = services.create_token(
        owner=policy_admin, name="GRC", scope=IntegrationToken.Scope.READ, by=site_admin
    )
    site_admin.language = "fr"
    site_admin.save()
    client.force_login(site_admin)
    response = client.post(reverse("api:token_revoke", args=[token.pk]), follow=True)

    assert "« GRC » est révoqué" in response.content.decode()


def test_the_api_answers_in_english_whatever_accept_language_asks(site_admin):
    """DRF would answer a German Accept-Language in German (its own catalogs): the API's
    messages are for developers and stay English, as its schema is."""
    response = APIClient().get(reverse("api:people"), HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 401
    assert response.json()["detail"] == "Authentication credentials were not provided."
    assert response["Content-Language"] == "en-gb"


def test_the_documentation_page_names_the_readers_language(client, employee):
    employee.language = "de"
    employee.save()
    client.force_login(employee)
    html = client.get(reverse("api:docs")).content.decode()

    assert re.match(r'\s*<!DOCTYPE html>\s*<html lang="de">', html)
    assert "SwaggerUIBundle" in html
