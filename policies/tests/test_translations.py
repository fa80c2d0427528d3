"""Translations of a policy version: the author adds them, the reader reads their own
language (the authoritative text named), and the acknowledgement records the text shown."""

import json
from datetime import UTC

import pytest
from django.urls import reverse

from people import roles
from policies import services
from policies.models import (
    Acknowledgement,
    PolicyError,
    PolicyTranslation,
    PolicyVersion,
    VersionEvent,
    sha256_text,
)
from policies.tests.factories import BODY_1, BODY_2, publish_version, published_policy

pytestmark = pytest.mark.django_db

GERMAN_1 = """\
Einleitung für alle.

## Private Konten

Sagen Sie, dass Ihre Ansichten Ihre eigenen sind.

## Vertrauliche Informationen

Veröffentlichen Sie nie Kundendaten oder unangekündigte Produkte.
"""

GERMAN_2 = GERMAN_1.replace("eigenen sind.", "eigenen sind, und nutzen Sie nicht das Firmenlogo.")


@pytest.fixture
def approver(make_person):
    return make_person(full_name="Arjun Patel", group=roles.POLICY_ADMIN)


@pytest.fixture
def draft(policy_admin):
    policy = services.create_policy(title="Social media policy", owner=policy_admin)
    return services.create_draft(policy=policy, author=policy_admin, body=BODY_1)


def translate(version, user, language="de", body=GERMAN_1, title="Social-Media-Richtlinie"):
    return services.add_translation(
        version=version, user=user, language=language, title=title, body=body
    )


def publish(version, author, approver):
    services.submit_for_review(version=version, user=author)
    services.approve(version=version, user=approver)
    return services.publish(version=version, user=approver)


def current(policy):
    return policy.versions.get(status=PolicyVersion.Status.PUBLISHED)


def detail(policy, **query):
    url = reverse("policies:detail", args=[policy.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def ack_post(client, policy, version, *, language, text_sha256, name="Emily Carter"):
    return client.post(
        reverse("policies:acknowledge", args=[policy.slug]),
        {
            "version": version.pk,
            "language": language,
            "text_sha256": text_sha256,
            "confirmed": "on",
            "full_name": name,
        },
    )


# --- the author's services ------------------------------------------------------------


def test_a_version_is_written_in_the_sites_language_unless_the_author_chooses(policy_admin):
    policy = services.create_policy(title="Press policy", owner=policy_admin)
    assert services.create_draft(policy=policy, author=policy_admin, body="x").language == "en-gb"
    other = services.create_policy(title="Presse", owner=policy_admin)
    draft = services.create_draft(policy=other, author=policy_admin, body="x", language="de")
    assert draft.language == "de"
    with pytest.raises(PolicyError, match="no language “xx”"):
        services.create_draft(
            policy=services.create_policy(title="Third", owner=policy_admin),
            author=policy_admin,
            body="x",
            language="xx",
        )


def test_a_draft_takes_translations_which_stay_editable_and_leave_a_trail(draft, policy_admin):
    translation = translate(draft, policy_admin)
    assert translation.language == "de" and not translation.is_fixed
    services.update_translation(
        translation=translation, user=policy_admin, title="Richtlinie", body=GERMAN_2
    )
    translation.refresh_from_db()
    assert translation.title == "Richtlinie" and translation.body == GERMAN_2
    notes = list(draft.events.values_list("note", flat=True))
    assert "Added the translation into de" in notes and "Edited the translation into de" in notes
    services.remove_translation(translation=translation, user=policy_admin)
    assert not draft.translations.exists()


@pytest.mark.parametrize(
    ("language", "title", "body", "message"),
    [
        ("xx", "Titel", GERMAN_1, "no language “xx”"),
        ("en-gb", "Title", BODY_1, "authoritative one, not a translation"),
        ("de", "Titel", "  \n ", "has no text"),
        ("de", "   ", GERMAN_1, "a title"),
    ],
)
def test_bad_translations_are_refused_and_change_nothing(
    draft, policy_admin, language, title, body, message
):
    events = VersionEvent.objects.count()
    with pytest.raises(PolicyError, match=message):
        translate(draft, policy_admin, language=language, title=title, body=body)
    assert not PolicyTranslation.objects.exists()
    assert VersionEvent.objects.count() == events


def test_one_translation_per_language(draft, policy_admin):
    translate(draft, policy_admin)
    with pytest.raises(PolicyError, match="already has a German translation"):
        translate(draft, policy_admin, body="Anders")
    assert draft.translations.get().body == GERMAN_1


def test_the_texts_language_cannot_become_one_it_is_translated_into(draft, policy_admin):
    translate(draft, policy_admin)
    with pytest.raises(PolicyError, match="has a German translation"):
        services.update_draft(
            version=draft,
            user=policy_admin,
            body=BODY_1,
            change_summary="",
            change=draft.change,
            language="de",
        )
    draft.refresh_from_db()
    assert draft.language == "en-gb"


def test_in_review_or_approved_translations_are_settled(draft, policy_admin, approver):
    translation = translate(draft, policy_admin)
    services.submit_for_review(version=draft, user=policy_admin)
    with pytest.raises(PolicyError, match="Return it to draft"):
        translate(draft, policy_admin, language="fr", body="Texte")
    with pytest.raises(PolicyError, match="Return it to draft"):
        services.update_translation(
            translation=translation, user=policy_admin, title="T", body="Anders"
        )
    services.approve(version=draft, user=approver)
    with pytest.raises(PolicyError, match="Return it to draft"):
        translate(draft, policy_admin, language="fr", body="Texte")
    assert draft.translations.count() == 1


def test_whoever_translates_someone_elses_draft_may_not_approve_it(draft, approver):
    translate(draft, approver)
    services.submit_for_review(version=draft, user=draft.author)
    with pytest.raises(PolicyError, match="You edited this draft"):
        services.approve(version=draft, user=approver)


def test_publishing_fixes_the_translations_like_the_text(draft, policy_admin, approver):
    translation = translate(draft, policy_admin)
    publish(draft, policy_admin, approver)
    translation.refresh_from_db()
    assert translation.is_fixed and translation.body_sha256 == sha256_text(GERMAN_1)
    with pytest.raises(PolicyError, match="published and cannot be changed"):
        services.update_translation(
            translation=translation, user=policy_admin, title="T", body="Anders"
        )
    with pytest.raises(PolicyError, match="published and cannot be changed"):
        services.remove_translation(translation=translation, user=policy_admin)
    translation.body = "Anders"
    with pytest.raises(PolicyError):
        translation.save()  # the model refuses it too, not only the services
    translation.refresh_from_db()
    assert translation.body == GERMAN_1


def test_a_published_version_takes_a_new_language_which_is_fixed_at_once(policy_admin, approver):
    policy, version = published_policy(
        title="Social media policy", owner=policy_admin, approver=approver
    )
    translation = translate(version, policy_admin, language="fr", body="Texte français")
    assert translation.is_fixed and translation.body_sha256 == sha256_text("Texte français")
    assert version.events.filter(note="Added the translation into fr").exists()
    with pytest.raises(PolicyError, match="published and cannot be changed"):
        services.update_translation(
            translation=translation, user=policy_admin, title="T", body="Autre"
        )
    publish_version(policy, author=policy_admin, approver=approver, body=BODY_2)
    version.refresh_from_db()
    with pytest.raises(PolicyError, match="superseded"):
        translate(version, policy_admin)


# --- the author's pages -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "outsider", "leader"])
def test_only_policy_admins_reach_the_translation_pages(client, request, role, draft, policy_admin):
    translate(draft, policy_admin)
    client.force_login(request.getfixturevalue(role))
    add = reverse("policies:manage_add_translation", args=[draft.pk])
    edit = reverse("policies:manage_edit_translation", args=[draft.pk, "de"])
    remove = reverse("policies:manage_remove_translation", args=[draft.pk, "de"])
    assert client.get(add).status_code == 403
    assert client.post(add, {"language": "fr", "title": "T", "body": "B"}).status_code == 403
    assert client.get(edit).status_code == 403
    assert client.post(edit, {"title": "T", "body": "B"}).status_code == 403
    assert client.post(remove).status_code == 403
    assert list(PolicyTranslation.objects.values_list("language", "body")) == [("de", GERMAN_1)]


def test_a_stranger_is_sent_to_log_in(client, draft):
    response = client.get(reverse("policies:manage_add_translation", args=[draft.pk]))
    assert response.status_code == 302 and "login" in response.url


def test_the_author_adds_edits_and_removes_a_translation_of_a_draft(client, draft, policy_admin):
    client.force_login(policy_admin)
    page = client.get(reverse("policies:manage_version", args=[draft.pk])).content.decode()
    assert "English (authoritative)" in page and "Add a translation" in page
    add = reverse("policies:manage_add_translation", args=[draft.pk])
    form = client.get(add).content.decode()
    assert 'value="de"' in form and 'value="fr"' in form and 'value="en-gb"' not in form
    response = client.post(
        add, {"language": "de", "title": "Social-Media-Richtlinie", "body": GERMAN_1}
    )
    assert response.status_code == 302
    assert draft.translations.get().title == "Social-Media-Richtlinie"
    page = client.get(reverse("policies:manage_version", args=[draft.pk])).content.decode()
    assert "German" in page and "Social-Media-Richtlinie" in page
    edit = reverse("policies:manage_edit_translation", args=[draft.pk, "de"])
    assert client.post(edit, {"title": "Richtlinie", "body": GERMAN_2}).status_code == 302
    assert draft.translations.get().body == GERMAN_2.strip()  # the form trims like a draft
    remove = reverse("policies:manage_remove_translation", args=[draft.pk, "de"])
    assert client.post(remove).status_code == 302
    assert not draft.translations.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"language": "xx", "title": "T", "body": "B"}, "PolicyHub has no language “xx”"),
        ({"language": "en-gb", "title": "T", "body": "B"}, "authoritative one"),
        ({"language": "fr", "title": "T", "body": ""}, "The translation has no text"),
        ({"language": "fr", "title": "", "body": "B"}, "Give the translation a title"),
        ({"language": "de", "title": "T", "body": "B"}, "already has a German translation"),
    ],
)
def test_bad_input_on_the_add_page_is_explained_and_changes_nothing(
    client, draft, policy_admin, data, message
):
    translate(draft, policy_admin)
    client.force_login(policy_admin)
    response = client.post(reverse("policies:manage_add_translation", args=[draft.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(PolicyTranslation.objects.values_list("language", "body")) == [("de", GERMAN_1)]


def test_a_fixed_translation_is_shown_but_not_changed(client, draft, policy_admin, approver):
    translate(draft, policy_admin)
    publish(draft, policy_admin, approver)
    client.force_login(policy_admin)
    edit = reverse("policies:manage_edit_translation", args=[draft.pk, "de"])
    page = client.get(edit).content.decode()
    assert "can no longer be changed" in page and sha256_text(GERMAN_1) in page
    assert 'name="body"' not in page
    response = client.post(edit, {"title": "T", "body": "Anders"}, follow=True)
    assert "published and cannot be changed" in response.content.decode()
    assert draft.translations.get().body == GERMAN_1
    remove = reverse("policies:manage_remove_translation", args=[draft.pk, "de"])
    client.post(remove)
    assert draft.translations.exists()


def test_unknown_translation_pages_are_not_found(client, draft, policy_admin):
    client.force_login(policy_admin)
    edit = reverse("policies:manage_edit_translation", args=[draft.pk, "fr"])
    assert client.get(edit).status_code == 404


# --- the reader -------------------------------------------------------------------------


@pytest.fixture
def translated(employee, outsider, policy_admin, approver):
    """The social media policy 1.0 (English, authoritative) with a German translation."""
    policy = services.create_policy(title="Social media policy", owner=policy_admin)
    version = services.create_draft(policy=policy, author=policy_admin, body=BODY_1)
    translate(version, policy_admin)
    publish(version, policy_admin, approver)
    return policy


def test_a_german_reader_reads_the_german_translation_with_the_authoritative_one_named(
    client, employee, translated
):
    employee.language = "de"
    employee.save()
    client.force_login(employee)
    page = client.get(detail(translated)).content.decode()
    assert "Social-Media-Richtlinie" in page and "Private Konten" in page
    assert "Say that your views are your own" not in page
    note = page[page.index('id="language-note"') :]
    note = note[: note.index("</p>")]
    # The note is in the reader's interface language; the language names follow it.
    assert ("Deutsch" in note or "German" in note) and ("Englisch" in note or "English" in note)
    assert "?lang=en-gb" in page


def test_the_reader_can_switch_to_the_authoritative_text(client, employee, translated):
    employee.language = "de"
    employee.save()
    client.force_login(employee)
    page = client.get(detail(translated, lang="en-gb")).content.decode()
    assert "Say that your views are your own" in page and "Private Konten" not in page
    assert "which is the authoritative one" in page or "maßgeblich" in page
    assert "?lang=de" in page


def test_an_english_reader_reads_the_authoritative_text_and_may_switch(
    client, employee, translated
):
    client.force_login(employee)
    page = client.get(detail(translated)).content.decode()
    assert "Say that your views are your own" in page
    assert "You are reading the English text, which is the authoritative one." in page
    assert "?lang=de" in page
    german = client.get(detail(translated, lang="de")).content.decode()
    assert "Private Konten" in german
    assert "You are reading the German translation. The English text is authoritative" in german
    assert "You acknowledge the German text shown on this page" in german


def test_a_language_without_translation_shows_the_authoritative_text(client, employee, translated):
    employee.language = "fr"
    employee.save()
    client.force_login(employee)
    page = client.get(detail(translated, lang="xx")).content.decode()
    assert "Say that your views are your own" in page


def test_without_translations_there_is_no_language_note(client, employee, policy_admin, approver):
    policy, _version = published_policy(title="Plain", owner=policy_admin, approver=approver)
    client.force_login(employee)
    page = client.get(detail(policy)).content.decode()
    assert 'id="language-note"' not in page


def test_the_acknowledge_form_names_the_text_shown(client, employee, translated):
    client.force_login(employee)
    page = client.get(detail(translated, lang="de")).content.decode()
    translation = current(translated).translations.get()
    assert 'name="language" value="de"' in page
    assert f'name="text_sha256" value="{translation.body_sha256}"' in page


def test_acknowledging_the_translation_records_its_language_and_hash(client, employee, translated):
    version = current(translated)
    translation = version.translations.get()
    client.force_login(employee)
    response = ack_post(
        client, translated, version, language="de", text_sha256=translation.body_sha256
    )
    assert response.status_code == 302
    ack = Acknowledgement.objects.get(person=employee)
    assert ack.language == "de" and ack.text_sha256 == sha256_text(GERMAN_1)
    assert ack.text_sha256 != version.body_sha256
    assert services.verify_chain().ok
    receipt = client.get(response.url).content.decode()
    assert "German translation" in receipt and ack.text_sha256 in receipt


def test_acknowledging_the_authoritative_text_records_its_language(client, employee, translated):
    version = current(translated)
    client.force_login(employee)
    ack_post(client, translated, version, language="en-gb", text_sha256=version.body_sha256)
    ack = Acknowledgement.objects.get(person=employee)
    assert (ack.language, ack.text_sha256) == ("en-gb", version.body_sha256)


@pytest.mark.parametrize(
    ("language", "text_sha256", "message"),
    [
        ("fr", "a" * 64, "has no French translation"),
        ("xx", "a" * 64, "has no"),
        ("de", sha256_text("Another text"), "is not the one your page showed"),
        ("en-gb", sha256_text("Another text"), "is not the one your page showed"),
    ],
)
def test_an_acknowledgement_of_a_text_that_is_not_there_is_refused(
    client, employee, translated, language, text_sha256, message
):
    version = current(translated)
    client.force_login(employee)
    response = ack_post(client, translated, version, language=language, text_sha256=text_sha256)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_an_acknowledgement_without_the_text_named_is_refused(client, employee, translated):
    client.force_login(employee)
    response = client.post(
        reverse("policies:acknowledge", args=[translated.slug]),
        {"version": current(translated).pk, "confirmed": "on", "full_name": "Emily Carter"},
    )
    assert "This page is out of date" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_on_behalf_records_the_authoritative_text(translated, employee, policy_admin):
    version = current(translated)
    ack = services.acknowledge_on_behalf(
        version=version, person=employee, by=policy_admin, reason="Signed on paper"
    )
    assert (ack.language, ack.text_sha256) == ("en-gb", version.body_sha256)


# --- the chain ----------------------------------------------------------------------------


def _old_canonical(ack) -> str:
    """The canonical form before translations came, written out as it was."""
    return json.dumps(
        {
            "sequence": ack.sequence,
            "person": ack.person_id,
            "version": ack.version_id,
            "at": ack.acknowledged_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "typed_name": ack.typed_name,
            "ip": ack.ip_address or "",
            "user_agent": ack.user_agent,
            "text_sha256": ack.text_sha256,
            "method": ack.method,
            "on_behalf_by": ack.on_behalf_by_id,
            "on_behalf_reason": ack.on_behalf_reason,
            "quiz_score": ack.quiz_score,
            "previous_hash": ack.previous_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def test_a_record_written_before_translations_still_verifies(translated, employee, outsider):
    version = current(translated)
    ack = services.acknowledge(version=version, user=employee, full_name="Emily Carter")
    # Make it a record of the old kind: no language, hashed in the old canonical form,
    # and the head moved to it as the old code did.
    ack.language = ""
    old_hash = sha256_text(ack.previous_hash + "\n" + _old_canonical(ack))
    Acknowledgement.objects.filter(pk=ack.pk).update(language="", record_hash=old_hash)
    from policies.models import ChainHead

    ChainHead.objects.filter(id=1).update(last_hash=old_hash)
    stored = Acknowledgement.objects.get(pk=ack.pk)
    assert services.canonical_record(stored) == _old_canonical(stored)
    assert services.record_hash(stored) == old_hash
    assert services.verify_chain().ok
    assert stored.shown_language == "en-gb"
    # A new record follows it, with its language covered by its hash.
    newer = services.acknowledge(version=version, user=outsider, full_name="Olivia Hughes")
    assert newer.previous_hash == old_hash and newer.language == "en-gb"
    assert '"language":"en-gb"' in services.canonical_record(newer)
    assert services.verify_chain().ok


@pytest.mark.parametrize("altered", ["en-gb", "fr", ""])
def test_altering_the_language_of_a_new_record_breaks_the_chain(translated, employee, altered):
    version = current(translated)
    services.acknowledge(
        version=version,
        user=employee,
        full_name="Emily Carter",
        language="de",
        text_sha256=version.translations.get().body_sha256,
    )
    assert services.verify_chain().ok
    Acknowledgement.objects.filter(person=employee).update(language=altered)
    verdict = services.verify_chain()
    assert not verdict.ok and verdict.first_broken == 1


# --- What changed -------------------------------------------------------------------------


def _second_version(policy, policy_admin, approver, *, german=True):
    draft = services.create_draft(policy=policy, author=policy_admin, body=BODY_2)
    if german:
        translate(draft, policy_admin, body=GERMAN_2)
    return publish(draft, policy_admin, approver)


def test_what_changed_compares_the_readers_language_when_both_versions_have_it(
    client, employee, translated, policy_admin, approver
):
    services.acknowledge(version=current(translated), user=employee, full_name="Emily Carter")
    _second_version(translated, policy_admin, approver)
    client.force_login(employee)
    page = client.get(detail(translated, lang="de")).content.decode()
    changed = page[
        page.index('id="what-changed"') : page.index("</section>", page.index('id="what-changed"'))
    ]
    assert "nutzen Sie nicht das Firmenlogo" in changed
    assert "do not use the company logo" not in changed
    assert "between the German texts" in changed


def test_what_changed_falls_back_to_the_authoritative_text(
    client, employee, translated, policy_admin, approver
):
    services.acknowledge(version=current(translated), user=employee, full_name="Emily Carter")
    _second_version(translated, policy_admin, approver, german=False)
    employee.language = "fr"
    employee.save()
    client.force_login(employee)
    page = client.get(detail(translated, lang="de")).content.decode()
    start = page.index('id="what-changed"')
    changed = page[start : page.index("</section>", start)]
    assert "do not use the company logo" in changed
    # Named in the reader's interface language (French), whatever the catalogs hold.
    assert "english" in changed.lower() or "anglais" in changed.lower()
    assert "german" not in changed.lower() and "allemand" not in changed.lower()


# --- lists do not grow a query per row ------------------------------------------------------


def test_the_policies_list_shows_translated_titles_without_a_query_per_row(
    client, django_assert_max_num_queries, employee, policy_admin, approver
):
    employee.language = "de"
    employee.save()

    def add(start, count):
        for number in range(start, start + count):
            policy = services.create_policy(title=f"Policy {number:03}", owner=policy_admin)
            version = services.create_draft(policy=policy, author=policy_admin, body=BODY_1)
            translate(version, policy_admin, title=f"Richtlinie {number:03}")
            publish(version, policy_admin, approver)

    add(1, 2)
    client.force_login(employee)
    with django_assert_max_num_queries(10) as few:
        page = client.get(reverse("policies:index")).content.decode()
    assert "Richtlinie 001" in page
    add(3, 20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("policies:index")).content.decode()
    assert page.count("Richtlinie 0") >= 2 * 20  # in both lists


def test_the_version_page_lists_translations_in_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, draft, policy_admin
):
    client.force_login(policy_admin)
    url = reverse("policies:manage_version", args=[draft.pk])
    translate(draft, policy_admin)
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    translate(draft, policy_admin, language="fr", body="Texte")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert "German" in page and "French" in page


def test_the_text_held_for_an_acknowledgement_is_the_one_shown(translated, employee, outsider):
    version = current(translated)
    german = services.acknowledge(
        version=version,
        user=employee,
        full_name="Emily Carter",
        language="de",
        text_sha256=version.translations.get().body_sha256,
    )
    english = services.acknowledge(version=version, user=outsider, full_name="Olivia Hughes")
    assert services.text_held(german) == ("de", german.text_sha256)
    assert services.text_held(english) == ("en-gb", english.text_sha256)
