"""Prevention's pages in the person's own language: Check a post, what the check found
(the generic checks' explanations are the product's words), and the watch list. The
words a watch-list keeper wrote (a term's name and explanation) stay as they were
written.

These need the German and French catalogs with prevention's part file merged
(`scripts/i18n.py extract` then `merge`)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from prevention.tests.factories import watch_term

pytestmark = pytest.mark.django_db

CHECK = reverse("prevention:check")


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
                "Beitrag prüfen",
                "Beitragsentwurf",
                ">Prüfen</button>",
                ">Kommunikation fragen</button>",
                "Vertraulich: Die Prüfung speichert nichts.",
            ],
        ),
        (
            "fr",
            [
                "Vérifier une publication",
                "Brouillon de publication",
                ">Vérifier</button>",
                ">Demander à la communication</button>",
                "Privé : la vérification ne conserve rien.",
            ],
        ),
    ],
)
def test_check_a_post_is_in_the_persons_language(client, employee, language, words):
    client.force_login(_speaks(employee, language))
    page = client.get(CHECK).content.decode()
    for word in words:
        assert word in page
    assert "Private: the check keeps nothing." not in page


@pytest.mark.parametrize(
    ("language", "label", "explanation", "heading"),
    [
        (
            "de",
            "E-Mail-Adresse",
            "Dies sieht nach einer E-Mail-Adresse aus.",
            "2 Punkte zum Ansehen",
        ),
        ("fr", "Adresse e-mail", "Cela ressemble à une adresse e-mail.", "2 points à examiner"),
    ],
)
def test_why_a_draft_was_marked_is_explained_in_the_persons_language(
    client, employee, language, label, explanation, heading
):
    watch_term(text="Project Atlas", explanation="Atlas is a code name we have not announced.")
    client.force_login(_speaks(employee, language))
    page = client.post(
        CHECK,
        {"draft": "Project Atlas ships soon, write to jo@example.com", "action": "check"},
    ).content.decode()
    assert heading in page
    assert label in page and explanation in page
    assert "This looks like an email address." not in page
    # The keepers' own words are data: shown as written.
    assert "Atlas is a code name we have not announced." in page


def test_the_watch_list_is_in_german_for_comms(client, comms):
    watch_term(text="Project Atlas", explanation="Atlas is a code name.")
    client.force_login(_speaks(comms, "de"))
    page = client.get(reverse("prevention:watchlist")).content.decode()
    assert '<h1 class="h3 mb-0">Beobachtungsliste</h1>' in page
    assert "Zur Beobachtungsliste hinzufügen" in page
    assert "Project Atlas" in page
