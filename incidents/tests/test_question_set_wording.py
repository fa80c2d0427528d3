"""The assessment's words live in its versioned question sets, and only there: the pages
read them from the run's own set (or, before a run starts, from the current one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from incidents import assessment as guide
from incidents import services

pytestmark = pytest.mark.django_db

NUMBERS = {7: "Seven", 8: "Eight"}
PAGES = [
    *Path(settings.BASE_DIR, "templates", "incidents").glob("*.html"),
    *Path(settings.BASE_DIR, "incidents", "handling_views").glob("*.py"),
    Path(settings.BASE_DIR, "incidents", "handling_forms.py"),
]


def _words(question_set) -> set[str]:
    words = {question_set.introduction, *question_set.rules}
    for question in question_set.questions:
        words |= {question.question, question.guidance, question.unsure_note}
        words |= {option.description for option in question.options}
    return {text for text in words if text}


@pytest.mark.parametrize(
    "question_set", guide.QUESTION_SETS.values(), ids=lambda question_set: question_set.version
)
def test_each_question_set_introduces_its_own_number_of_steps(question_set):
    assert NUMBERS[question_set.total_steps] in question_set.introduction


@pytest.mark.parametrize(
    "question_set", guide.QUESTION_SETS.values(), ids=lambda question_set: question_set.version
)
def test_no_page_repeats_the_words_of_a_question_set(question_set):
    for page in PAGES:
        source = " ".join(page.read_text().split())
        for text in _words(question_set):
            # The first sentence is enough to find a copy.
            first = text.split(". ")[0]
            first += "." if first != text else ""
            assert first not in source, (page.name, text)


def test_the_incident_page_introduces_the_current_question_set(client, hr, employee):
    incident = services.report_incident(
        reporter=employee, what_happened="A post.", people_involved=[employee]
    )
    client.force_login(hr)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Eight short questions" in page and "Seven short questions" not in page
