"""Training in the reader's language: the pages follow the signed-in person's language, and
a calendar invite follows the language of the person it is for, whoever builds it.

The tests that read German or French words need the catalogs to hold the translations of
locale/parts/training.json (`scripts/i18n.py merge`): until then they are skipped, and
under CI, where nothing may be skipped, they fail. The tests about which language is
active while an invite is made do not need the catalogs.
"""

from unittest import mock

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from icalendar import Calendar

from conftest import needs
from notifications.models import Notification
from training import calendar, reminders, services
from training.tests import factories

pytestmark = pytest.mark.django_db


def event_of(text: str):
    events = Calendar.from_ical(text).events
    assert len(events) == 1
    return events[0]


@pytest.fixture
def briefing(policy_admin, make_person):
    presenter = make_person(full_name="Pat Presenter", email="presenter@example.com")
    return factories.schedule(
        policy_admin, presenter=presenter, online_url="https://meet.example.com/briefing"
    )


def needs_catalog(language: str, msgid: str) -> None:
    with translation.override(language):
        translated = gettext(msgid) != msgid
    needs(translated, f"the {language} catalog has no translation of {msgid!r} yet")


def speaks(person, language: str):
    person.language = language
    person.save(update_fields=["language"])
    return person


# --- the pages (need the catalogs) ----------------------------------------------------


def test_training_page_is_in_german_for_a_german_reader(client, employee):
    needs_catalog("de", "Your training requirements")
    client.force_login(speaks(employee, "de"))

    page = client.get(reverse("training:index")).content.decode()

    assert "Ihre Schulungspflichten" in page
    assert "Ihre Buchungen" in page
    assert "Your bookings" not in page


def test_session_page_is_in_french_for_a_french_reader(client, employee, briefing):
    needs_catalog("fr", "Your place")
    client.force_login(speaks(employee, "fr"))
    services.book(session=briefing, person=employee)

    page = client.get(reverse("training:session", args=[briefing.pk])).content.decode()

    assert "Votre place" in page
    assert "Annuler la réservation" in page
    assert "Cancel booking" not in page


# --- invites: the recipient's language ---------------------------------------------------


def test_german_recipients_invite_has_german_description(employee, briefing):
    """Needs the catalogs: the invite's words are German for a German recipient, even when
    it is built while English is active (an English organiser's request, a worker)."""
    needs_catalog("de", "Presenter: %(name)s")
    booking = services.book(session=briefing, person=speaks(employee, "de"))

    with translation.override("en-gb"):
        event = event_of(calendar.build_invite(booking))

    description = str(event["DESCRIPTION"])
    assert "Vortragende Person: Pat Presenter" in description
    assert "Details und Stornierung Ihrer Buchung: " in description
    assert "Online teilnehmen: https://meet.example.com/briefing" in description
    assert "Presenter:" not in description
    assert str(event["SUMMARY"]) == "Social media lunch briefing"  # the title, as typed


def test_invite_is_rendered_in_the_recipients_language(employee, briefing):
    """Whatever language is active around it, the invite's words are worked out with the
    recipient's language active, and the event says which language they are in."""
    booking = services.book(session=briefing, person=speaks(employee, "de"))
    seen = []
    real_description = calendar._description

    def description(*args):
        seen.append(translation.get_language())
        return real_description(*args)

    with translation.override("fr"), mock.patch.object(calendar, "_description", description):
        text = calendar.build_invite(booking)
        cancel = calendar.build_invite(booking, method="CANCEL")
        still = translation.get_language()

    assert seen == ["de", "de"]
    assert still == "fr"  # the language around it is left as it was
    for invite in (text, cancel):
        event = event_of(invite)
        assert event["SUMMARY"].params["LANGUAGE"] == "de"
        assert event["DESCRIPTION"].params["LANGUAGE"] == "de"


def test_english_recipients_invite_stays_english_inside_a_german_request(employee, briefing):
    booking = services.book(session=briefing, person=speaks(employee, "en-gb"))

    with translation.override("de"):
        event = event_of(calendar.build_invite(booking))

    assert event["DESCRIPTION"].params["LANGUAGE"] == "en-gb"
    assert "Presenter: Pat Presenter" in str(event["DESCRIPTION"])


def test_ics_download_is_in_the_signed_in_persons_language(client, employee, briefing):
    client.force_login(speaks(employee, "fr"))

    response = client.get(reverse("training:session_ics", args=[briefing.pk]))

    assert response.status_code == 200
    event = event_of(response.content.decode())
    assert event["DESCRIPTION"].params["LANGUAGE"] == "fr"


def test_booking_reminder_words_are_worked_out_in_the_recipients_language(employee, briefing):
    """The email's "when" and the invite attached to it are made with the recipient's
    language active, whichever language the sending worker has."""
    booking = services.book(session=briefing, person=speaks(employee, "de"))
    notification = Notification.objects.get(kind="training-booking-confirmed")
    kind = reminders.BookingConfirmed()
    seen = []
    real_span = reminders._span

    def span(*args):
        seen.append(translation.get_language())
        return real_span(*args)

    with translation.override("en-gb"), mock.patch.object(reminders, "_span", span):
        kind.context(notification)
        (invite,) = kind.attachments(notification)

    assert seen and set(seen) == {"de"}
    assert notification.subject_id == booking.pk
    assert event_of(invite.content)["DESCRIPTION"].params["LANGUAGE"] == "de"
