"""Each person has a language (en-gb, de, fr): they choose it on the Language page, the HR
import sets it with a language column, and the Django admin shows and edits it."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from people import forms
from people.importer import import_people
from people.models import User
from people.services import DirectoryError, language_code, set_language

pytestmark = pytest.mark.django_db

URL = reverse("people:language")


# The Language page -------------------------------------------------------------------------------


def test_a_stranger_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(URL, {"language": "de"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "hr", "leader", "outsider"])
def test_every_signed_in_person_sees_their_language_page(client, request, role):
    person = request.getfixturevalue(role)
    client.force_login(person)
    page = client.get(URL).content.decode()
    assert "<h1" in page and "Language" in page
    assert '<option value="de" lang="de">Deutsch</option>' in page
    assert '<option value="fr" lang="fr">Français</option>' in page
    assert '<option value="en-gb" selected lang="en-gb">English</option>' in page
    assert ">Save<" in page or 'value="Save"' in page


def test_saving_changes_only_the_persons_own_language(client, employee, manager):
    client.force_login(employee)
    response = client.post(URL, {"language": "fr"})
    assert response.status_code == 302 and response["Location"] == URL
    employee.refresh_from_db()
    manager.refresh_from_db()
    assert employee.language == "fr"
    assert manager.language == "en-gb"


def test_a_language_not_offered_is_refused_and_changes_nothing(client, employee):
    client.force_login(employee)
    response = client.post(URL, {"language": "es"})
    assert response.status_code == 400
    assert "is not a language PolicyHub offers" in response.content.decode()
    employee.refresh_from_db()
    assert employee.language == "en-gb"


def test_the_service_refuses_a_language_not_offered(employee):
    with pytest.raises(DirectoryError) as refused:
        set_language(person=employee, language="de-DE")
    assert "en-gb, de, fr" in refused.value.message
    employee.refresh_from_db()
    assert employee.language == "en-gb"
    assert set_language(person=employee, language="de") is True
    assert set_language(person=employee, language="de") is False
    employee.refresh_from_db()
    assert employee.language == "de"


# The mapping the import and SCIM share -----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("en-gb", "en-gb"),
        ("EN-GB", "en-gb"),
        ("en", "en-gb"),
        ("en_US", "en-gb"),
        ("de", "de"),
        ("de-DE", "de"),
        ("DE-at", "de"),
        ("fr", "fr"),
        ("fr-CH", "fr"),
        ("", None),
    ],
)
def test_language_values_are_read_as_their_language(given, stored):
    assert language_code(given) == stored


@pytest.mark.parametrize("given", ["es", "klingon", "d", "e-n", "english"])
def test_other_language_values_are_refused(given):
    with pytest.raises(ValidationError):
        language_code(given)


# The HR import -----------------------------------------------------------------------------------


def test_import_sets_languages_and_an_empty_cell_keeps_or_defaults():
    User.objects.create_user("kept@example.com", full_name="Kept", language="fr")
    report = import_people(
        source="email,full_name,language\n"
        "anna@example.com,Anna,de-DE\n"
        "ben@example.com,Ben,EN\n"
        "cleo@example.com,Cleo,\n"
        "kept@example.com,Kept,\n"
    )
    assert report.ok, report.errors
    languages = dict(User.objects.values_list("email", "language"))
    assert languages["anna@example.com"] == "de"
    assert languages["ben@example.com"] == "en-gb"
    assert languages["cleo@example.com"] == "en-gb"
    assert languages["kept@example.com"] == "fr"


def test_import_updates_a_persons_language_and_shows_the_change():
    User.objects.create_user("anna@example.com", full_name="Anna")
    report = import_people(
        source="email,full_name,language\nanna@example.com,Anna,fr-CH\n", dry_run=True
    )
    assert report.updated[0].changes == {"language": ("en-gb", "fr")}
    assert User.objects.get(email="anna@example.com").language == "en-gb"


def test_import_with_an_unknown_language_names_the_row_and_imports_nothing():
    User.objects.create_user("anna@example.com", full_name="Anna")
    before = list(User.objects.order_by("pk").values())
    report = import_people(
        source="email,full_name,language\nanna@example.com,Anna,de\nben@example.com,Ben,es\n"
    )
    assert not report.ok
    assert [(error.line, error.message) for error in report.errors] == [
        (3, "language “es” is not a language PolicyHub offers (use en-gb, de, fr).")
    ]
    assert list(User.objects.order_by("pk").values()) == before


def test_import_page_explains_the_language_column(client, site_admin):
    client.force_login(site_admin)
    page = client.get(reverse("people:import")).content.decode()
    assert "<code>language</code>" in page
    assert "en-gb, de, fr" in page
    assert "time_zone, start_date, active, language" in page


# The Django admin --------------------------------------------------------------------------------


def test_a_site_admin_sees_and_changes_a_persons_language(client, site_admin, employee):
    client.force_login(site_admin)
    url = reverse("admin:people_user_change", args=[employee.pk])
    page = client.get(url).content.decode()
    assert 'name="language"' in page
    joined = timezone.localtime(employee.date_joined)
    response = client.post(
        url,
        {
            "email": employee.email,
            "full_name": employee.full_name,
            "manager": employee.manager_id,
            "is_active": "on",
            "language": "de",
            "date_joined_0": joined.strftime("%d/%m/%Y"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    employee.refresh_from_db()
    assert employee.language == "de"


# Password reset emails ---------------------------------------------------------------------------


def test_a_password_reset_email_is_rendered_in_the_recipients_language(client, employee):
    seen = []
    employee.language = "fr"
    employee.save(update_fields=["language"])
    real_send = forms.auth_forms.PasswordResetForm.send_mail

    def spy(self, *args, **kwargs):
        seen.append(translation.get_language())
        return real_send(self, *args, **kwargs)

    forms.auth_forms.PasswordResetForm.send_mail = spy
    try:
        response = client.post(reverse("password_reset"), {"email": employee.email})
    finally:
        forms.auth_forms.PasswordResetForm.send_mail = real_send
    assert response.status_code == 302
    # Rendered under the recipient's language, whatever the page that asked was in.
    assert seen == ["fr"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [employee.email]
    assert translation.get_language() != "fr"
