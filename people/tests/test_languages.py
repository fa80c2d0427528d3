"""Pages of sign-in and the directory in German and French. These pass once the lead has
merged locale/parts/people.json into the catalogs (scripts/i18n.py merge)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_language_page_switches_the_interface_to_german(client, employee):
    client.force_login(employee)
    response = client.post(reverse("people:language"), {"language": "de"}, follow=True)
    page = response.content.decode()
    assert "<h1" in page and "Sprache" in page and "Speichern" in page
    assert "Ihre Sprache ist gespeichert." in page


def test_a_french_speaker_sees_the_language_page_in_french(client, employee):
    employee.language = "fr"
    employee.save()
    client.force_login(employee)
    page = client.get(reverse("people:language")).content.decode()
    assert "Langue" in page and "Enregistrer" in page


def test_a_german_browser_sees_the_login_page_in_german(client):
    page = client.get(reverse("login"), headers={"accept-language": "de"}).content.decode()
    assert "Anmelden" in page and "E-Mail" in page and "Passwort" in page


def test_two_factor_page_in_french(client, employee):
    employee.language = "fr"
    employee.save()
    client.force_login(employee)
    page = client.get(reverse("two_factor:manage")).content.decode()
    assert "Authentification à deux facteurs" in page
