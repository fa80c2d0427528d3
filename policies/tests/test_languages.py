"""The policy pages in the reader's own language (German, French). These read the
compiled catalogs, so they pass once locale/parts/policies.json is merged into them."""

import pytest
from django.urls import reverse

from people import roles
from policies.tests.factories import published_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def social(employee, policy_admin, make_person):
    approver = make_person(full_name="Arjun Patel", group=roles.POLICY_ADMIN)
    policy, _version = published_policy(
        title="Social media policy", owner=policy_admin, approver=approver
    )
    return policy


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "de",
            [
                "Zu bestätigen",
                "Alle Richtlinien für Sie",
                "Ihr Status",
            ],
        ),
        (
            "fr",
            [
                "À confirmer",
                "Toutes les politiques qui vous concernent",
                "Votre statut",
            ],
        ),
    ],
)
def test_the_policies_list_speaks_the_readers_language(client, employee, social, language, words):
    employee.language = language
    employee.save()
    client.force_login(employee)
    page = client.get(reverse("policies:index")).content.decode()
    for word in words:
        assert word in page
    assert "To acknowledge" not in page


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "de",
            [
                "Ich habe diese Richtlinie gelesen und verstanden",
                "Vollständiger Name",
                ">Bestätigen</button>",
                "Sie können diese Richtlinie nicht bestätigen?",
            ],
        ),
        (
            "fr",
            [
                "J’ai lu et compris cette politique",
                "Nom complet",
                ">Confirmer</button>",
                "Vous ne pouvez pas confirmer cette politique ?",
            ],
        ),
    ],
)
def test_the_acknowledge_form_speaks_the_readers_language(
    client, employee, social, language, words
):
    employee.language = language
    employee.save()
    client.force_login(employee)
    page = client.get(reverse("policies:detail", args=[social.slug])).content.decode()
    for word in words:
        assert word in page
    assert "I have read and understood this policy" not in page


def test_a_refusal_comes_in_the_readers_language(client, employee, social):
    employee.language = "de"
    employee.save()
    client.force_login(employee)
    version = social.versions.get()
    response = client.post(
        reverse("policies:acknowledge", args=[social.slug]),
        {
            "version": version.pk,
            "language": version.language,
            "text_sha256": version.body_sha256,
            "confirmed": "on",
            "full_name": "Somebody Else",
        },
    )
    page = response.content.decode()
    assert "Der eingegebene Name stimmt nicht mit dem Namen überein" in page
