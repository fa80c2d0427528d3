"""The interface ships complete in every language of settings.LANGUAGES.

English is the source (the words in the code); German and French each have one catalog,
locale/<lang>/LC_MESSAGES/django.po, compiled to django.mo. Here: every string the code
marks is in each catalog and translated (makemessages finds nothing new), nothing is
fuzzy, placeholders survive translation, and the committed .mo says what the .po says.
"""

import importlib.util
import re
import shutil

import polib
import pytest
from django.conf import settings
from django.test import Client

from conftest import needs

spec = importlib.util.spec_from_file_location("i18n_script", settings.BASE_DIR / "scripts/i18n.py")
i18n = importlib.util.module_from_spec(spec)
spec.loader.exec_module(i18n)

TARGETS = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
PLACEHOLDER = re.compile(r"%\([a-zA-Z_][a-zA-Z0-9_]*\)[sdifr]|%[sdif]|\{[a-zA-Z_0-9]*\}")


def test_the_catalogs_cover_the_languages_offered():
    assert sorted(TARGETS) == sorted(i18n.TARGETS)
    for language in TARGETS:
        assert i18n.catalog_path(language).exists(), f"no catalog for {language}"


@pytest.mark.parametrize("language", TARGETS)
def test_every_string_is_translated_and_nothing_is_fuzzy(language):
    left = [i18n.key(entry) for entry in i18n.untranslated(language)]
    assert not left, f"{len(left)} strings not translated into {language}, e.g. {left[:5]}"


@pytest.mark.parametrize("language", TARGETS)
def test_placeholders_survive_translation(language):
    """Each translation uses exactly its English's placeholders. The first plural form
    follows the English singular (which may leave the number out, "Every minute"); the
    others follow the English plural. Any form may name a placeholder of either."""
    wrong = []
    for entry in polib.pofile(str(i18n.catalog_path(language))):
        if entry.msgid_plural:
            forms = sorted(entry.msgstr_plural.items())
            pairs = [
                (text, entry.msgid if index == 0 else entry.msgid_plural) for index, text in forms
            ]
            allowed = set(PLACEHOLDER.findall(entry.msgid + entry.msgid_plural))
        else:
            pairs = [(entry.msgstr, entry.msgid)]
            allowed = set(PLACEHOLDER.findall(entry.msgid))
        for text, english in pairs:
            used = set(PLACEHOLDER.findall(text))
            if used - allowed or set(PLACEHOLDER.findall(english)) - used:
                wrong.append((entry.msgid, text))
    assert not wrong, f"placeholders differ in {language}: {wrong[:5]}"


@pytest.mark.parametrize("language", TARGETS)
def test_the_compiled_catalog_matches_its_source(language):
    source = {
        i18n.key(e): (e.msgstr, dict(e.msgstr_plural))
        for e in polib.pofile(str(i18n.catalog_path(language)))
        if i18n.translated(e)
    }
    compiled = {
        i18n.key(e): (e.msgstr, dict(e.msgstr_plural))
        for e in polib.mofile(str(i18n.catalog_path(language).with_suffix(".mo")))
        if e.msgid
    }
    assert compiled == source, "django.mo is stale: run `python scripts/i18n.py compile`"


def test_makemessages_finds_nothing_new_or_gone(tmp_path):
    needs(bool(shutil.which("xgettext")), "GNU gettext (xgettext) is not installed")
    fresh = i18n.fresh_keys(tmp_path)
    committed = {i18n.key(e) for e in polib.pofile(str(i18n.catalog_path(TARGETS[0])))}
    new, gone = sorted(fresh - committed), sorted(committed - fresh)
    assert not new, f"{len(new)} strings are not in the catalogs yet, e.g. {new[:5]}"
    assert not gone, f"{len(gone)} strings in the catalogs are no longer used, e.g. {gone[:5]}"
    assert fresh, "the code marks no string for translation"


@pytest.mark.django_db
def test_a_stranger_gets_the_login_page_in_their_browsers_language():
    for header, words in (
        ("fr-FR,fr;q=0.9,en;q=0.5", "Mot de passe"),
        ("de-CH,de;q=0.9", "Passwort"),
        ("nl-NL,nl;q=0.9", "Password"),  # not offered: the site's language
    ):
        response = Client(headers={"accept-language": header}).get("/accounts/login/")
        assert words in response.content.decode(), header


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, words",
    [("de", ["Meine Aufgaben", "Richtlinien"]), ("fr", ["Mes tâches", "Politiques"])],
)
def test_a_signed_in_person_sees_their_own_language(client, employee, language, words):
    employee.language = language
    employee.save(update_fields=["language"])
    client.force_login(employee)
    # Their directory language wins over whatever the browser asks for.
    response = client.get("/", headers={"accept-language": "en-GB"})
    page = response.content.decode()
    for word in words:
        assert word in page
    assert f'lang="{language}"' in page
