"""The matcher: what a check of a post or an intake item finds, and where."""

from __future__ import annotations

import logging
import time
import zoneinfo
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from incidents.models import Incident
from prevention import matching
from prevention.matching import (
    MAX_TEXT_CHARS,
    WatchList,
    check_text,
    current_watch_list,
    generic_findings,
    normalise_term,
    validate_pattern,
    validate_term,
)
from prevention.models import PreventionError, WatchTerm
from prevention.tests.factories import watch_term

_ids = iter(range(1, 100_000))


def entry(text: str, *, kind: str = "term", **fields) -> SimpleNamespace:
    """An unsaved watch-list entry: from_terms takes any object with these fields."""
    values = {
        "id": next(_ids),
        "kind": kind,
        "text": text,
        "category": Incident.Information.PRODUCT,
        "severity": Incident.Severity.HIGH,
        "explanation": f"{text} is not announced.",
        "policy_id": None,
        "policy_section": "",
    }
    values.update(fields)
    return SimpleNamespace(**values)


def found(text: str, *terms: str, kind: str = "term") -> list[str]:
    """What a watch list of `terms` finds in `text`, as it stands in the text."""
    watch_list = WatchList.from_terms(entry(term, kind=kind) for term in terms)
    findings = watch_list.match(text)
    for finding in findings:
        assert text[finding.start : finding.end] == finding.found
    return [finding.found for finding in findings]


def rules(text: str) -> list[tuple[str, str]]:
    return [(finding.rule, finding.found) for finding in generic_findings(text)]


# --- terms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "project atlas",
        "PROJECT ATLAS",
        "PROJECT ÁTLAS",
        "Projéct Àtlas",
        "Ｐｒｏｊｅｃｔ Ａｔｌａｓ",  # full-width letters
        "Project Atlas's",
        "Project Atlas’s",
        "Project Atlases",
        "Project-Atlas",
        "Project (Atlas)",
        "Project\nAtlas",
        "Project,\n  Atlas",
        "ProjectAtlas",
        "projectatlas",
        "#ProjectAtlas",
        "#projectatlas",
        "#PROJECTATLAS",
        "@project_atlas",
        "@Project_Atlas_Team",
        "#ProjectAtlasLaunch",
        "#BigProjectAtlas2026",
    ],
)
def test_a_phrase_matches_whatever_its_case_accents_spacing_or_tag(text):
    assert len(found(f"Look: {text}, soon.", "Project Atlas")) == 1


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Atlassian", "Atlas"),
        ("catalase", "Atlas"),
        ("Atlasing", "Atlas"),
        ("#atlaslaunch", "Atlas"),  # all lower case: no telling where words end
        ("#Atlassian", "Atlas"),
        ("Project Atlantis", "Project Atlas"),
        ("Projects Atlas", "Project Atlas"),  # plurals only on the last word
        ("Project.................... Atlas", "Project Atlas"),  # too far apart
        ("Atlas Project", "Project Atlas"),
    ],
)
def test_a_term_does_not_match_inside_other_words(text, term):
    assert found(text, term) == []


def test_underscores_separate_words():
    assert found("see atlas_team_notes", "Atlas team") == ["atlas_team"]
    assert found("see atlas_team_notes", "Atlas") == ["atlas"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Atlas", "Atlas"),
        ("ATLAS", "ATLAS"),
        ("Átlas", "Átlas"),
        ("Atlas's launch", "Atlas's"),
        ("Atlas’ launch", "Atlas"),
        ("two atlases", "atlases"),
        ("@atlas_team", "@atlas_team"),
        ("@AtlasTeam", "@AtlasTeam"),
        ("#AtlasLaunch", "#AtlasLaunch"),
        ("#Atlas2026", "#Atlas2026"),
        ("#atlas", "#atlas"),
        ("#Atlas's big day", "#Atlas"),
        ("mail@atlas.com", "atlas"),  # the domain of an address is a word
    ],
)
def test_a_word_matches_its_plural_possessive_and_tags(text, expected):
    assert found(text, "Atlas") == [expected]


def test_plural_forms_es_and_ies_and_possessive_plural():
    assert found("Two companies' plans", "Company") == ["companies"]
    assert found("The box and the boxes", "Box") == ["box", "boxes"]
    assert found("The company's plan", "Company") == ["company's"]
    assert found("A glass", "Glas") == []  # "ss" is not a plural


def test_camel_case_terms_match_their_parts_written_apart():
    assert found("the PlayStation 5 and the playstation5", "PlayStation 5") == [
        "PlayStation 5",
        "playstation5",
    ]
    assert found("Project Atlas, #ProjectAtlas, projectatlas", "ProjectAtlas") == [
        "Project Atlas",
        "#ProjectAtlas",
        "projectatlas",
    ]
    assert found("#HTMLParser and the parser", "Parser") == ["#HTMLParser", "parser"]


def test_a_plain_camel_case_word_is_not_split():
    # Without a # or @ it is one word: the single word "Atlas" is not in it.
    assert found("ProjectAtlas", "Atlas") == []
    assert found("#ProjectAtlas", "Atlas") == ["#ProjectAtlas"]


def test_a_terms_own_hash_and_at_sign_are_ignored():
    assert found("project atlas", "#ProjectAtlas") == ["project atlas"]
    assert normalise_term("#ProjectAtlas") == normalise_term("Project  ÁTLAS") == "project atlas"


def test_apostrophes_keep_a_word_whole():
    assert found("Don't say it", "Don") == []
    assert found("Ask O'Brien or OBrien", "O'Brien") == ["O'Brien", "OBrien"]
    assert found("#OBrien", "O'Brien") == ["#OBrien"]


def test_one_finding_per_term_and_place():
    findings = WatchList.from_terms([entry("Atlas")]).match("#AtlasAtlas and Atlas")
    assert [(f.found, f.start) for f in findings] == [("#AtlasAtlas", 0), ("Atlas", 16)]


def test_two_terms_at_one_place_are_two_findings_sorted_by_place():
    atlas, project = entry("Atlas"), entry("Project Atlas")
    findings = WatchList.from_terms([atlas, project]).match("We love it. Project Atlas!")
    assert [(f.term_id, f.start, f.end) for f in findings] == [
        (project.id, 12, 25),
        (atlas.id, 20, 25),
    ]


def test_a_finding_carries_the_entry():
    term = entry(
        "Orion",
        category=Incident.Information.CONFIDENTIAL,
        severity=Incident.Severity.CRITICAL,
        explanation="Orion is the merger's code name.",
        policy_id=7,
        policy_section="4.2 Confidential information",
    )
    [finding] = WatchList.from_terms([term]).match("About Orion.")
    assert finding == matching.Finding(
        rule="watch-term",
        label="Orion",
        found="Orion",
        start=6,
        end=11,
        explanation="Orion is the merger's code name.",
        category="confidential",
        severity="critical",
        term_id=term.id,
        policy_id=7,
        policy_section="4.2 Confidential information",
        entry="Orion",
    )
    assert finding.as_dict()["found"] == "Orion"


def test_an_employee_sees_an_entrys_name_or_their_own_words_never_the_entry_text():
    watch_list = WatchList.from_terms(
        [
            entry("Fang"),
            entry("Osprey", name="An unreleased product"),
            entry(r"\b(?:Globex|Initech)\b deal", kind="pattern", name="A customer under NDA"),
            entry(r"\bQ[1-4] revenue\b", kind="pattern"),  # kept before names: no name
        ]
    )
    findings = watch_list.match("Sharp fangs. The osprey nests. The Globex deal. Q3 revenue.")
    assert [(f.label, f.found, f.entry) for f in findings] == [
        ("fangs", "fangs", "Fang"),
        ("An unreleased product", "osprey", "Osprey"),
        ("A customer under NDA", "Globex deal", "A customer under NDA"),
        (matching.UNNAMED_PATTERN, "Q3 revenue", matching.UNNAMED_PATTERN),
    ]


def test_offsets_point_into_the_original_text_when_folding_changes_lengths():
    # "ß" folds to "ss", "ﬁ" to "fi", a decomposed accent is two characters, and
    # "İ" folds to two: the offsets are still those of the text given.
    text = "ﬁne Straße, İİ e\u0301te\u0301: Große Átlas and ÁTLAS"
    findings = WatchList.from_terms([entry("Atlas"), entry("Strasse"), entry("ete")]).match(text)
    assert [(f.found, text[f.start : f.end]) for f in findings] == [
        ("Straße", "Straße"),
        ("e\u0301te\u0301", "e\u0301te\u0301"),
        ("Átlas", "Átlas"),
        ("ÁTLAS", "ÁTLAS"),
    ]
    assert findings[0].start == 4


# --- patterns ------------------------------------------------------------------------


def test_a_pattern_matches_case_insensitively_and_accent_insensitively():
    assert found("Our Q3 revenue, our q4 RÉVENUE", r"\bQ[1-4] revenue\b", kind="pattern") == [
        "Q3 revenue",
        "q4 RÉVENUE",
    ]


def test_a_patterns_offsets_survive_text_that_changes_length_when_unaccented():
    text = "ﬁﬁ e\u0301 Ｑ3 Ｒｅｖｅｎｕｅ and Q4 revenue"
    watch_list = WatchList.from_terms([entry(r"\bq[1-4] revenue\b", kind="pattern")])
    assert [(f.start, f.end, f.found) for f in watch_list.match(text)] == [
        (6, 16, "Ｑ3 Ｒｅｖｅｎｕｅ"),
        (21, 31, "Q4 revenue"),
    ]


def test_a_pattern_written_with_accents_matches_without_them():
    assert found("Le cafe et le CAFÉ", "café", kind="pattern") == ["cafe", "CAFÉ"]


def test_every_pattern_is_found_whatever_it_holds_and_however_they_overlap():
    watch_list = WatchList.from_terms(
        [
            entry(r"\b(\w+) \1\b", kind="pattern"),  # a backreference
            entry(r"(?x) Q [1-4] \s revenue", kind="pattern"),  # a global flag
            entry(r"orion", kind="pattern"),
            entry(r"orion launch", kind="pattern"),  # the same place as the one above
            entry(r"(?P<n>\d+) customers", kind="pattern"),
            entry(r"(?P<n>\d+) users", kind="pattern"),  # the same group name
        ]
    )
    text = "the the Q3 revenue of Orion launch: 40 customers, 12 users"
    assert [f.found for f in watch_list.match(text)] == [
        "the the",
        "Q3 revenue",
        "Orion",
        "Orion launch",
        "40 customers",
        "12 users",
    ]
    assert watch_list.match("nothing to see") == []


def test_a_pattern_that_runs_out_of_time_is_skipped_and_logged(caplog):
    slow = entry(r"(a|aa)+$", kind="pattern")  # refused by validation; stored before it
    watch_list = WatchList.from_terms([slow, entry("Atlas")])
    text = "Atlas " + "a" * 60 + "!"
    began = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="prevention.matching"):
        findings = watch_list.match(text)
    assert time.perf_counter() - began < 1
    assert [f.found for f in findings] == ["Atlas"]
    assert f"pattern {slow.id} ran out of time" in caplog.text
    assert "aaaa" not in caplog.text  # never the text itself


def test_a_stored_pattern_that_does_not_compile_is_left_out(caplog):
    broken = entry("(unclosed", kind="pattern")
    with caplog.at_level(logging.WARNING, logger="prevention.matching"):
        watch_list = WatchList.from_terms([broken, entry("Atlas")])
    assert found("(unclosed Atlas", "Atlas") == ["Atlas"]
    assert [f.found for f in watch_list.match("(unclosed Atlas")] == ["Atlas"]
    assert f"pattern {broken.id} does not compile" in caplog.text


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "Enter a regular expression."),
        ("(ab", "This is not a valid regular expression: missing ) at position 4."),
        ("[a-", "This is not a valid regular expression"),
        ("x" * 301, "at most 300 characters long (this one has 301)"),
        ("a*", "matches an empty text"),
        ("(?:)", "matches an empty text"),
        (r"\b", "can match nothing at all"),
        ("(?=atlas)", "can match nothing at all"),
        ("(a+)+", "repeats a part that itself repeats"),
        (r"(\w+\s?)+$", "repeats a part that itself repeats"),
        (r"(?:[a-z]+,?){2,}x", "repeats a part that itself repeats"),
        ("(a|aa)+$", "takes too long on some texts"),
        ("(x|x)+y", "takes too long on some texts"),
        ("a\x00b", "cannot contain a NUL character"),
    ],
)
def test_a_bad_pattern_is_refused_with_a_message(pattern, message):
    with pytest.raises(PreventionError) as refused:
        validate_pattern(pattern)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    "pattern",
    [
        r"\bQ[1-4] revenue\b",
        r"\d+ ?million",
        r"[a-z]+\d",
        r"(\d{3}[- ]?){2}\d{4}",
        r"\bPRJ-\d{4}\b",
        r"(?:atlas|orion) launch",
        r"\$\d+(?:\.\d+)?[mb]\b",
        "x" * 300,
    ],
)
def test_a_good_pattern_is_accepted(pattern):
    validate_pattern(pattern)


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ("", "Enter a word or phrase."),
        ("   ", "Enter a word or phrase."),
        ("!!! ?", "needs at least one letter or digit"),
        ("#@", "needs at least one letter or digit"),
        ("Atlas\x00", "cannot contain a NUL character"),
        ("a" * 301, "at most 300 characters long (this one has 301)"),
    ],
)
def test_a_bad_term_is_refused_with_a_message(term, message):
    with pytest.raises(PreventionError) as refused:
        validate_term(term)
    assert message in str(refused.value)


@pytest.mark.parametrize("term", ["Atlas", "Project Atlas", "#ProjectAtlas", "Ωmega", "7"])
def test_a_good_term_is_accepted(term):
    validate_term(term)


# --- long texts ----------------------------------------------------------------------


def test_a_long_text_with_nul_bytes_is_checked_up_to_the_limit():
    head = "Project\x00Atlas " + "\x00filler " * 3000
    text = head + "x" * (MAX_TEXT_CHARS - len(head)) + " Orion " + "\x00" * 80_000
    assert len(text) > 100_000
    watch_list = WatchList.from_terms([entry("Project Atlas"), entry("Orion")])
    began = time.perf_counter()
    findings = check_text(text, watch_list=watch_list)
    assert time.perf_counter() - began < 2
    # NUL separates words like a space; Orion lies after the limit and is not checked.
    assert [(f.found, f.start) for f in findings] == [("Project\x00Atlas", 0)]


def test_the_limit_never_cuts_a_word_into_a_match():
    text = "x " * ((MAX_TEXT_CHARS - 3) // 2) + "Atlassian and more"
    assert text.index("Atlassian") < MAX_TEXT_CHARS < text.index("Atlassian") + 9
    assert found(text, "Atlas") == []


# --- the current watch list ----------------------------------------------------------


@pytest.fixture
def fresh_cache():
    matching.forget_current_watch_list()
    yield
    matching.forget_current_watch_list()


@pytest.mark.django_db
def test_current_watch_list_holds_only_active_unexpired_entries(fresh_cache):
    today = timezone.localdate()
    watch_term(text="Atlas")
    watch_term(text="Orion", active=False)
    watch_term(text="Vega", expires_on=today - timedelta(days=1))
    watch_term(text="Lyra", expires_on=today)
    watch_term(kind=WatchTerm.Kind.PATTERN, text=r"\bQ[1-4] revenue\b")
    text = "Atlas, Orion, Vega, Lyra, Q3 revenue"
    assert [f.entry for f in check_text(text, generic=False)] == [
        "Atlas",
        "Lyra",
        "Figures not yet published",  # the pattern's name
    ]
    # The next day Lyra has expired too.
    tomorrow = current_watch_list(today=today + timedelta(days=1))
    assert [f.entry for f in tomorrow.match(text)] == ["Atlas", "Figures not yet published"]


@pytest.mark.django_db
def test_current_watch_list_is_one_query_until_the_list_changes(
    fresh_cache, django_assert_num_queries
):
    term = watch_term(text="Atlas")
    with django_assert_num_queries(2):  # has it changed; the live entries
        first = current_watch_list()
    with django_assert_num_queries(1):
        assert current_watch_list() is first
    with django_assert_num_queries(1):
        assert [f.found for f in check_text("Atlas", generic=False)] == ["Atlas"]

    term.text, term.updated_at = "Orion", timezone.now()
    term.save()
    with django_assert_num_queries(2):
        changed = current_watch_list()
    assert changed is not first
    assert [f.found for f in changed.match("Atlas and Orion")] == ["Orion"]

    added = watch_term(text="Vega")
    assert [f.found for f in current_watch_list().match("Orion, Vega")] == ["Orion", "Vega"]
    added.delete()
    assert [f.found for f in current_watch_list().match("Orion, Vega")] == ["Orion"]

    term.active, term.updated_at = False, timezone.now()
    term.save()
    assert current_watch_list().match("Orion") == []


@pytest.mark.django_db
def test_current_watch_list_goes_by_the_sites_day_not_the_viewers(fresh_cache):
    site_day = timezone.localdate(timezone=timezone.get_default_timezone())
    # At any moment one of these is on another day than the site.
    zone = next(
        zoneinfo.ZoneInfo(name)
        for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago")
        if timezone.localdate(timezone=zoneinfo.ZoneInfo(name)) != site_day
    )
    watch_term(text="Lyra", expires_on=site_day)  # still watched today
    watch_term(text="Vega", expires_on=site_day - timedelta(days=1))  # no longer
    with timezone.override(zone):
        assert [f.found for f in current_watch_list().match("Lyra, Vega")] == ["Lyra"]


@pytest.mark.django_db
def test_current_watch_list_is_rebuilt_on_a_new_day(fresh_cache, django_assert_num_queries):
    watch_term(text="Atlas", expires_on=timezone.localdate())
    today = current_watch_list()
    with django_assert_num_queries(2):
        tomorrow = current_watch_list(today=timezone.localdate() + timedelta(days=1))
    assert today.match("Atlas") and not tomorrow.match("Atlas")


# --- generic checks ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "write to jane.doe@example.co.uk today",
        "JANE+news@Example.COM",
        "a.b-c_d@mail.server.example.org.",
    ],
)
def test_an_email_address_is_found(text):
    [(rule, _found)] = rules(text)
    assert rule == "email"


@pytest.mark.parametrize(
    "text", ["follow @atlas_team", "user@localhost", "email me at jane at example dot com"]
)
def test_handles_and_half_addresses_are_not_email_addresses(text):
    assert rules(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +44 20 7946 0958 now", "+44 20 7946 0958"),
        ("Tel:+44 (0)20 7946 0958", "+44 (0)20 7946 0958"),
        ("ring 0044 20 7946 0958", "0044 20 7946 0958"),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
        ("+4915112345678", "+4915112345678"),
        ("(020) 7946 0958", "(020) 7946 0958"),
        ("(020 7946 0958)", "020 7946 0958"),
        ("mobile 07700 900123", "07700 900123"),
        ("mobile 07700900123.", "07700900123"),
        ("01.23.45.67.89", "01.23.45.67.89"),
        ("call 415-555-2671", "415-555-2671"),
        ("call (415) 555-2671", "(415) 555-2671"),
        ("030 12345678", "030 12345678"),
    ],
)
def test_a_phone_number_is_found(text, expected):
    assert rules(text) == [("phone", expected)]


@pytest.mark.parametrize(
    "text",
    [
        "on 2024-01-15 at 10:30",
        "15.01.2024 10.30",
        "from 2019 2020 2021 to 2022",
        "it cost $123 456 789",
        "it cost 123 456 789 EUR",
        "€ 1 234 567 890",
        "a population of 100 000 000",
        "pi is 3.14159265358",
        "server 192.168.100.100",
        "ISBN 0-306-40615-2",
        "order 123456789",
        "ref 1234 5678 9012 34",  # too long for a national number
        "call 0800 123",  # too short
        "it grew 12 345 678 %",
    ],
)
def test_dates_years_prices_and_other_numbers_are_not_phone_numbers(text):
    assert rules(text) == []


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "DE89 3704 0044 0532 0130 00",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91 ABNA 0417 1643 00",
        "be68539007547034",
    ],
)
def test_an_iban_with_a_valid_checksum_is_found(iban):
    assert rules(f"Pay into {iban} please") == [("iban", iban)]


@pytest.mark.parametrize(
    "text",
    [
        "GB83 WEST 1234 5698 7654 32",  # checksum off by one
        "DE89 3704 0044 0532 0130 01",
        "ZZ82 WEST 1234 5698 7654 32",  # no such country
        "GB82 WEST 1234 5698 7654",  # too short for GB
        "GB82WEST12345698765432X",  # runs on
    ],
)
def test_an_iban_with_a_wrong_checksum_country_or_length_is_not_found(text):
    assert [rule for rule, _ in rules(text)] != ["iban"]
    assert "iban" not in [rule for rule, _ in rules(text)]


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "5500 0000 0000 0004",
        "3782 822463 10005",
        "6011 0009 9013 9424",
    ],
)
def test_a_card_number_passing_luhn_is_found(card):
    assert rules(f"my card: {card}.") == [("card", card)]


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # fails Luhn
        "0000 0000 0000 0000",  # passes Luhn, but is no card
        "9111 1111 1111 1116",  # no card network starts with 9
        "4111 1111 1111-1111",  # mixed separators
        "tracking 1234567890128",
    ],
)
def test_numbers_failing_luhn_or_without_a_card_prefix_are_not_cards(text):
    assert "card" not in [rule for rule, _ in rules(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "I work at Acme and we're about to launch something huge.",
            "I work at Acme and we're about to",
        ),
        ("At my company we're launching a new app next week", "At my company we're launching"),
        (
            "As an employee of Acme I can say the merger is happening.",
            "As an employee of Acme I can say the merger",
        ),
        ("I'm employed at Acme. Layoffs are coming.", "I'm employed at Acme. Layoffs"),
        (
            "My boss showed us the internal memo today",
            "My boss showed us the internal memo",
        ),
        (
            "Not public yet, but I work for Globex",
            "Not public yet, but I work for ",
        ),
    ],
)
def test_saying_where_you_work_with_internal_matters_is_a_disclosure(text, expected):
    [finding] = generic_findings(text)
    assert (finding.rule, finding.found) == ("disclosure", expected)
    assert finding.category == Incident.Information.CONFIDENTIAL


@pytest.mark.parametrize(
    "text",
    [
        "I work at a bakery and love it.",
        "I work at Acme and we're hiring!",
        "I work at Acme and we launched our app last year.",
        "We're about to launch our new album!",  # no employment said
        "I'm about to go on holiday, and I work at Acme",
        "I work at Acme.\n\nSeparately: the merger of two bands is great news.",
    ],
)
def test_employment_alone_or_plans_alone_are_not_a_disclosure(text):
    assert rules(text) == []


def test_generic_findings_say_why_and_what_to_do():
    text = "Call +44 20 7946 0958, mail a@b.com, card 4111 1111 1111 1111"
    findings = generic_findings(text)
    assert [(f.rule, f.label, f.category, f.severity) for f in findings] == [
        ("phone", "Phone number", "personal", "medium"),
        ("email", "Email address", "personal", "medium"),
        ("card", "Payment card number", "personal", "critical"),
    ]
    for finding in findings:
        assert finding.term_id is None and finding.policy_id is None
        assert len(finding.explanation) > 80
        assert text[finding.start : finding.end] == finding.found


def test_a_number_is_reported_once_as_its_strongest_kind():
    # An IBAN holds digit groups that look like a phone number; a card's digits too.
    assert rules("IBAN GB82 WEST 1234 5698 7654 32") == [("iban", "GB82 WEST 1234 5698 7654 32")]
    assert rules("card 3782 822463 10005") == [("card", "3782 822463 10005")]
    assert rules("mail 07700900123@example.com") == [("email", "07700900123@example.com")]


def test_a_text_full_of_findings_is_still_checked_quickly():
    text = "a@b.co 07700 900123 " * 1000
    began = time.perf_counter()
    findings = generic_findings(text[:MAX_TEXT_CHARS])
    assert time.perf_counter() - began < 2
    assert len(findings) == 2000


def test_check_text_merges_watch_list_and_generic_findings_sorted():
    watch_list = WatchList.from_terms([entry("Project Atlas")])
    text = "Mail jane@example.com about #ProjectAtlas"
    findings = check_text(text, watch_list=watch_list)
    assert [(f.rule, f.found) for f in findings] == [
        ("email", "jane@example.com"),
        ("watch-term", "#ProjectAtlas"),
    ]
    assert [f.rule for f in check_text(text, watch_list=watch_list, generic=False)] == [
        "watch-term"
    ]


@pytest.mark.django_db
def test_check_text_uses_the_current_watch_list_by_default(fresh_cache):
    watch_term(text="Orion")
    assert [f.found for f in check_text("Orion's launch")] == ["Orion's"]


def test_a_checked_text_leaves_none_of_its_words_in_a_cache():
    """ "Check a post" keeps nothing: only the watch list is cached, never a draft's
    words (an lru_cache per word would keep the last drafts in memory)."""
    watch_list = WatchList.from_terms([entry("Café Atlas"), entry(r"\bQ[1-4]\b", kind="pattern")])
    draft = "Zürich naïveté: the Café Atlas’s plans for Q3, #SecretLaunch @team_atlas"
    assert watch_list.match(draft) and check_text(draft, watch_list=watch_list)
    caches = {
        name: value.cache_info().currsize
        for name, value in vars(matching).items()
        if hasattr(value, "cache_info")
    }
    assert not any(caches.values()), caches
