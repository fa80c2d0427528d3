"""The loop: lessons and incidents show the watch list they fed or tripped."""

import pytest
from django.urls import reverse

from incidents import services
from incidents.tests import factories
from prevention.tests.factories import watch_term

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(comms, outsider):
    incident = factories.reported(outsider)
    return services.publish_lesson(
        incident=incident,
        by=comms,
        title="Code names stay inside",
        text="A code name went out in a conference photo caption.",
    )


def test_a_lesson_page_lists_its_watch_terms_for_those_who_keep_the_list(
    client, comms, policy_admin, lesson
):
    watch_term(text="Project Atlas", lesson=lesson)
    add = reverse("prevention:watchlist_from_lesson", args=[lesson.pk])
    for keeper in (comms, policy_admin):
        client.force_login(keeper)
        html = client.get(reverse("incidents:lesson", args=[lesson.pk])).content.decode()
        assert "Project Atlas" in html and add in html


def test_a_lesson_page_never_shows_the_watch_list_to_everyone_else(
    client, employee, manager, hr, leader, lesson
):
    watch_term(text="Project Atlas", lesson=lesson)
    for person in (employee, manager, hr, leader):
        client.force_login(person)
        response = client.get(reverse("incidents:lesson", args=[lesson.pk]))
        html = response.content.decode()
        assert response.status_code == 200 and "Code names stay inside" in html
        assert "Project Atlas" not in html and "Add a term to the watch list" not in html
