"""Receipts and evidence packs for texts read in translation: the receipt compares the
record with the text it was given for (the version's own or its translation), names the
language and the authoritative one; the pack lists each version's fixed translations and
the language each person acknowledged in."""

import pytest
from django.urls import reverse

from evidence.tests.conftest import pdf_text
from policies import services as policy_services
from policies.models import Acknowledgement, ChainHead, PolicyTranslation

pytestmark = pytest.mark.django_db

GERMAN = """\
Einleitung für alle.

## Private Konten

Sagen Sie, dass Ihre Ansichten Ihre eigenen sind.
"""

FRENCH = """\
Introduction pour tous.

## Comptes personnels

Dites que vos opinions sont les vôtres.
"""


def _flat(text: str) -> str:
    """Hashes wrap across lines in narrow cells: compare without spaces."""
    return text.replace(" ", "")


@pytest.fixture
def german(social_media, policy_admin):
    """A German translation added to the published version: fixed at once."""
    return policy_services.add_translation(
        version=social_media,
        user=policy_admin,
        language="de",
        title="Social-Media-Richtlinie",
        body=GERMAN,
    )


def _acknowledge_in_german(version, person, translation):
    return policy_services.acknowledge(
        version=version,
        user=person,
        full_name=person.get_full_name(),
        language="de",
        text_sha256=translation.body_sha256,
    )


def _receipt_text(client, person, ack) -> str:
    client.force_login(person)
    response = client.get(reverse("evidence:receipt", args=[ack.pk]))
    assert response.status_code == 200
    return pdf_text(response.content)


def test_a_receipt_for_a_german_translation_says_the_german_text_is_held(
    client, zoe, social_media, german
):
    ack = _acknowledge_in_german(social_media, zoe, german)
    assert ack.text_sha256 == german.body_sha256 != social_media.body_sha256

    text = _receipt_text(client, zoe, ack)

    assert "Language of the text German (translation; English is authoritative)" in text
    assert "SHA-256 of the exact German text of version 1.0" in text
    assert (
        "The German text of version 1.0 that PolicyHub holds has the SHA-256 above: it is the "
        "text that was acknowledged." in text
    )
    assert "not the text that was acknowledged" not in text
    assert ack.text_sha256 in _flat(text)


def test_a_receipt_for_the_versions_own_text_names_its_language_only(
    client, zoe, zoes_acknowledgement, german
):
    text = _receipt_text(client, zoe, zoes_acknowledgement)

    assert "Language of the text English" in text
    assert "translation;" not in text
    assert (
        "The text of version 1.0 that PolicyHub holds has the SHA-256 above: it is the text "
        "that was acknowledged." in text
    )


def test_a_receipt_for_a_record_from_before_translations_still_says_the_text_is_held(
    client, zoe, zoes_acknowledgement, german
):
    # A record of the old kind: no language, hashed as the old code did (the canonical
    # form leaves an empty language out), at the end of the chain.
    Acknowledgement.objects.filter(pk=zoes_acknowledgement.pk).update(language="")
    old = Acknowledgement.objects.get(pk=zoes_acknowledgement.pk)
    old_hash = policy_services.record_hash(old)
    Acknowledgement.objects.filter(pk=old.pk).update(record_hash=old_hash)
    ChainHead.objects.filter(id=1).update(last_hash=old_hash)
    old.refresh_from_db()
    assert old.language == ""

    text = _receipt_text(client, zoe, old)

    assert "Language of the text English" in text
    assert "translation;" not in text
    assert (
        "The text of version 1.0 that PolicyHub holds has the SHA-256 above: it is the text "
        "that was acknowledged." in text
    )
    assert "the record is as it was written" in text


def test_a_receipt_says_plainly_when_the_translation_acknowledged_is_no_longer_held(
    client, zoe, social_media, german
):
    ack = _acknowledge_in_german(social_media, zoe, german)
    # Removed behind PolicyHub's back: the services never remove a fixed translation.
    PolicyTranslation.objects.filter(pk=german.pk).delete()

    text = _receipt_text(client, zoe, ack)

    assert (
        "PolicyHub no longer holds the German translation of version 1.0: the text that was "
        "acknowledged cannot be compared with the SHA-256 above." in text
    )
    assert "it is the text that was acknowledged" not in text


def test_a_receipt_for_an_altered_translation_says_it_is_not_the_text_acknowledged(
    client, zoe, social_media, german
):
    ack = _acknowledge_in_german(social_media, zoe, german)
    # Edited behind PolicyHub's back (the model refuses to), hash and all.
    altered = "0" * 64
    PolicyTranslation.objects.filter(pk=german.pk).update(body="Anders.", body_sha256=altered)

    text = _receipt_text(client, zoe, ack)

    assert "The German text of version 1.0 that PolicyHub holds has another SHA-256" in text
    assert altered in _flat(text)
    assert "it is not the text that was acknowledged" in text


def test_a_german_readers_receipt_names_the_languages_in_german(client, zoe, social_media, german):
    ack = _acknowledge_in_german(social_media, zoe, german)
    zoe.language = "de"
    zoe.save()

    text = _receipt_text(client, zoe, ack)

    assert "Sprache des Textes" in text
    assert "Deutsch" in text and "Englisch" in text


# --- the evidence pack ---------------------------------------------------------------------


def _pack_text(client, policy_admin, version) -> str:
    client.force_login(policy_admin)
    response = client.get(reverse("evidence:evidence_pack", args=[version.pk]))
    assert response.status_code == 200
    return pdf_text(response.content)


def test_the_pack_lists_each_translation_and_the_language_of_each_acknowledgement(
    client, policy_admin, social_media, german, zoe, employee, zoes_acknowledgement
):
    french = policy_services.add_translation(
        version=social_media,
        user=policy_admin,
        language="fr",
        title="Politique des réseaux sociaux",
        body=FRENCH,
    )
    in_german = _acknowledge_in_german(social_media, employee, german)

    text = _pack_text(client, policy_admin, social_media)

    assert "Language of the text English (authoritative)" in text
    translations = text.split("Translations", 1)[1].split("Acknowledgements", 1)[0]
    assert "1.0 French" in translations and "1.0 German" in translations
    assert german.body_sha256 in _flat(translations)
    assert french.body_sha256 in _flat(translations)
    acknowledgements = text.split("Acknowledgements", 1)[1]
    zoes_row = acknowledgements.split("Zoë Ångström-Müller", 1)[1][:200]
    assert "1.0 English" in zoes_row
    employees_row = acknowledgements.split(employee.email, 1)[1][:200]
    assert "1.0 German" in employees_row
    assert in_german.record_hash in _flat(acknowledgements)


def test_a_pack_without_translations_says_so(client, policy_admin, social_media):
    text = _pack_text(client, policy_admin, social_media)

    translations = text.split("Translations", 1)[1].split("Acknowledgements", 1)[0]
    assert translations.strip().startswith("None.")


def test_the_packs_query_count_holds_with_translations_and_acknowledgements_in_them(
    client,
    policy_admin,
    social_media,
    german,
    make_person,
    django_assert_max_num_queries,
):
    def acknowledged_by(count, *, in_german):
        people = [make_person() for _ in range(count)]
        policy_services.reconcile_assignments(policies=[social_media.policy])
        for person in people:
            if in_german:
                _acknowledge_in_german(social_media, person, german)
            else:
                policy_services.acknowledge(
                    version=social_media, user=person, full_name=person.full_name
                )

    acknowledged_by(2, in_german=True)
    client.force_login(policy_admin)
    url = reverse("evidence:evidence_pack", args=[social_media.pk])
    with django_assert_max_num_queries(30) as few:
        response = client.get(url)
    assert "2 acknowledgement(s) listed" in pdf_text(response.content)

    policy_services.add_translation(
        version=social_media, user=policy_admin, language="fr", title="Politique", body=FRENCH
    )
    acknowledged_by(60, in_german=True)
    acknowledged_by(60, in_german=False)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    text = pdf_text(response.content)
    assert "122 acknowledgement(s) listed" in text
    assert "1.0 French" in text
