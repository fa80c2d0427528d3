"""The incident pages in the person's own language: the Incidents home with "Report an
incident" and "Report my own mistake", the report form, and the team's incident page
(workflow, status labels, the timeline built from stored codes). What people wrote (what
happened, notes) stays as written.

These need the German and French catalogs with incidents' part file merged
(`scripts/i18n.py extract` then `merge`)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents import services
from incidents.tests.factories import reported

pytestmark = pytest.mark.django_db


def _speaks(person, language: str):
    person.language = language
    person.save()
    return person


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "de",
            [
                ">Vorfall melden</a>",
                ">Eigenen Fehler melden</a>",
                "Meine Meldungen",
                "Ihr eigener Fehler",
                "Gemeldet",
            ],
        ),
        (
            "fr",
            [
                ">Signaler un incident</a>",
                ">Signaler ma propre erreur</a>",
                "Mes signalements",
                "Votre propre erreur",
                "Signalé",
            ],
        ),
    ],
)
def test_incidents_home_is_in_the_persons_language(client, employee, language, words):
    reported(employee, self_reported=True)
    client.force_login(_speaks(employee, language))
    page = client.get(reverse("incidents:index")).content.decode()
    for word in words:
        assert word in page
    assert ">Report an incident</a>" not in page
    assert "My reports" not in page


@pytest.mark.parametrize(
    ("language", "words", "english"),
    [
        (
            "de",
            ["Was ist passiert", "Link zum Beitrag", "Meldung senden", "Nicht sicher"],
            "Send report",
        ),
        (
            "fr",
            ["Ce qui s’est passé", "Lien vers la publication", "Envoyer le signalement"],
            "Send report",
        ),
    ],
)
def test_report_form_and_its_errors_are_in_the_persons_language(
    client, employee, language, words, english
):
    client.force_login(_speaks(employee, language))
    page = client.get(reverse("incidents:report")).content.decode()
    for word in words:
        assert word in page
    assert english not in page
    refused = client.post(reverse("incidents:report"), {"what_happened": ""})
    message = {
        "de": "Erzählen Sie uns in ein, zwei Sätzen, was passiert ist.",
        "fr": "Dites-nous ce qui s’est passé, en une phrase ou deux.",
    }[language]
    assert message in refused.content.decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "de",
            ["Ablauf", "In Triage", "Triage beginnen", "Zeitverlauf", "Schweregrad: Mittel → Hoch"],
        ),
        (
            "fr",
            [
                "Déroulement",
                "En tri",
                "Commencer le tri",
                "Chronologie",
                "Gravité : Moyenne → Élevée",
            ],
        ),
    ],
)
def test_the_teams_incident_page_is_in_the_persons_language(
    client, employee, comms, language, words
):
    incident = reported(employee, what_happened="Ein Foto der Roadmap wurde geteilt.")
    services.update_details(incident=incident, by=comms, severity=incident.Severity.HIGH)
    client.force_login(_speaks(comms, language))
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    for word in words:
        assert word in page
    # The reporter's words stay as written; the history is shown in the reader's words.
    assert "Ein Foto der Roadmap wurde geteilt." in page
    assert "Start triage" not in page


@pytest.mark.parametrize(
    ("language", "question", "answer"),
    [
        ("de", "Wollte die Person tun, was sie getan hat", ">Unsicher</button>"),
        ("fr", "La personne voulait-elle faire ce qu’elle a fait", ">Incertain</button>"),
    ],
)
def test_the_assessment_asks_its_own_question_set_in_the_persons_language(
    client, employee, hr, language, question, answer
):
    """The question set is stored in English with its version; it is translated when shown,
    and the answers keep their keys."""
    incident = reported(employee, self_reported=True)
    run = services.start_assessment(incident=incident, person=employee, act="Posted", by=hr)
    client.force_login(_speaks(hr, language))
    url = reverse("incidents:assessment", args=[incident.pk, run.pk])
    page = client.get(url).content.decode()
    assert question in page
    assert answer in page
    client.post(url, {"key": "intended_actions", "value": "unsure"})
    run.refresh_from_db()
    assert run.answers["intended_actions"]["value"] == "unsure"
    assert run.question_set == "2026.2"
