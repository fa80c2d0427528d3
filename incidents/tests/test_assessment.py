"""The guided assessment's decision logic: every path through the questions, checked
against a table written here, and the rule that "unsure" leans towards the person."""

from __future__ import annotations

import itertools

import pytest

from incidents import assessment as guide
from incidents.models import Assessment, Incident

YES, NO, UNSURE = "yes", "no", "unsure"
Outcome = Assessment.Outcome

# How each "unsure" is read, question by question: the reading that favours the person.
UNSURE_READS_AS = {
    "intended_actions": NO,  # a slip rather than a choice
    "intended_harm": NO,
    "impairment": YES,  # support (a referral) rather than discipline
    "rule_broken_knowingly": NO,
    "rules_workable": NO,  # the rule or the training may be at fault
    "substitution": YES,  # a colleague would have done the same: a system issue
    "gaps": YES,
    "history": NO,
}

# The expected outcome, read top to bottom: the first row whose answers all match wins.
# Answers are as read (after "unsure" is read as above); ANY matches any answer, or a
# question that was not asked.
ANY = "*"
COLUMNS = (
    "intended_actions",
    "intended_harm",
    "impairment",
    "rule_broken_knowingly",
    "rules_workable",
    "substitution",
    "gaps",
    "history",
)
# fmt: off
EXPECTED = [
    # meant it harm impaired knowingly workable others too gaps history    outcome, referral
    ((YES,     YES, ANY,     ANY,      ANY,     ANY,       ANY, ANY),  Outcome.DELIBERATE, False),
    ((ANY,     ANY, YES,     ANY,      ANY,     ANY,       ANY, ANY),  Outcome.HUMAN_ERROR, True),
    ((ANY,     ANY, NO,      YES,      NO,      ANY,       ANY, ANY),  Outcome.AT_RISK, False),
    ((ANY,     ANY, NO,      YES,      YES,     YES,       ANY, ANY),  Outcome.AT_RISK, False),
    ((ANY,     ANY, NO,      YES,      YES,     NO,        YES, ANY),  Outcome.AT_RISK, False),
    ((ANY,     ANY, NO,      YES,      YES,     NO,        NO,  ANY),  Outcome.RECKLESS, False),
    ((ANY,     ANY, NO,      NO,       ANY,     NO,        ANY, YES),  Outcome.AT_RISK, False),
    ((ANY,     ANY, NO,      NO,       ANY,     ANY,       ANY, ANY),  Outcome.HUMAN_ERROR, False),
]
# fmt: on

# From most favourable to the person to least.
SEVERITY = [Outcome.HUMAN_ERROR, Outcome.AT_RISK, Outcome.RECKLESS, Outcome.DELIBERATE]


def read(answers: dict[str, str]) -> dict[str, str]:
    return {
        key: UNSURE_READS_AS[key] if value == UNSURE else value for key, value in answers.items()
    }


def expected_row(answers: dict[str, str]) -> int:
    as_read = read(answers)
    for number, (pattern, _outcome, _referral) in enumerate(EXPECTED):
        matches = zip(COLUMNS, pattern, strict=True)
        if all(want == ANY or as_read.get(key) == want for key, want in matches):
            return number
    raise AssertionError(f"No row of the table covers {answers}")


def walk(answers: dict[str, str] | None = None):
    """Every complete path through the questions, asking at each step only what
    `needed_keys` asks for next, with each of yes, no and unsure."""
    answers = answers or {}
    pending = [key for key in guide.needed_keys(answers) if key not in answers]
    if not pending:
        yield answers
        return
    for value in guide.ANSWERS:
        yield from walk({**answers, pending[0]: value})


PATHS = list(walk())


def path_id(answers: dict[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in answers.items())


def test_the_walk_covers_every_path_once():
    assert len(PATHS) == len({path_id(p) for p in PATHS})
    # After impairment read as no (1 way): a rule broken knowingly (1 way) asks 4 more
    # questions (3**4 paths); not knowingly (2 ways) asks 3 more (3**3 each). Impairment
    # read as yes (2 ways) ends the walk.
    rest = 2 + 3**4 + 2 * 3**3
    # Harm meant (1 way, after actions meant) ends the walk; otherwise (2 ways after
    # actions meant, and 2 ways of not meaning the actions) the rest follows.
    assert len(PATHS) == 1 + 2 * rest + 2 * rest == 549


@pytest.mark.parametrize("answers", PATHS, ids=path_id)
def test_every_path_gives_the_outcome_of_the_table(answers):
    assert guide.is_complete(answers)
    # The questions come in the order of the question set.
    order = [guide.ANSWER_KEYS.index(key) for key in answers]
    assert order == sorted(order)
    _pattern, outcome, referral = EXPECTED[expected_row(answers)]
    decision = guide.decide(answers)
    assert (decision.outcome, decision.referral) == (outcome, referral)
    assert decision.track == (
        Incident.Track.ACCOUNTABILITY
        if outcome in (Outcome.RECKLESS, Outcome.DELIBERATE)
        else Incident.Track.LEARNING
    )
    assert decision.reasons  # the assessor is told why


def test_every_row_of_the_table_is_reached_and_every_outcome_too():
    assert {expected_row(p) for p in PATHS} == set(range(len(EXPECTED)))
    assert {guide.decide(p).outcome for p in PATHS} == set(Outcome.values)


def questions_asked(path: dict[str, str]) -> list[str]:
    """The questions the tree asks on this path, in order, from the tree's shape: meant
    harm and impairment end it; "was the rule workable?" only follows a rule broken
    knowingly."""
    as_read = read(path)
    asked = ["intended_actions"]
    if as_read["intended_actions"] == YES:
        asked.append("intended_harm")
        if as_read["intended_harm"] == YES:
            return asked
    asked.append("impairment")
    if as_read["impairment"] == YES:
        return asked
    asked.append("rule_broken_knowingly")
    if as_read["rule_broken_knowingly"] == YES:
        asked.append("rules_workable")
    return [*asked, "substitution", "gaps", "history"]


def test_the_walk_asks_only_what_the_decision_needs():
    for path in PATHS:
        assert list(path) == questions_asked(path), path


def test_an_incomplete_assessment_has_no_outcome():
    assert not guide.is_complete({})
    assert not guide.is_complete({"intended_actions": YES})
    with pytest.raises(ValueError):
        guide.decide({"intended_actions": NO, "impairment": NO})


# --- "unsure" leans towards the person ---------------------------------------------------

EVERY_ANSWER_SET = [
    dict(zip(guide.ANSWER_KEYS, values, strict=True))
    for values in itertools.product(guide.ANSWERS, repeat=len(guide.ANSWER_KEYS))
]


def severity(answers: dict[str, str]) -> int:
    return SEVERITY.index(guide.decide(answers).outcome)


@pytest.mark.parametrize("key", guide.ANSWER_KEYS)
def test_unsure_is_never_harsher_than_the_kinder_of_yes_and_no(key):
    checked = 0
    for answers in EVERY_ANSWER_SET:
        if answers[key] != UNSURE:
            continue
        kinder = min(severity({**answers, key: YES}), severity({**answers, key: NO}))
        assert severity(answers) <= kinder, answers
        checked += 1
    assert checked == 3 ** (len(guide.ANSWER_KEYS) - 1)


def test_unsure_about_impairment_offers_support_not_discipline():
    answers = {
        "intended_actions": YES,
        "intended_harm": NO,
        "impairment": UNSURE,
    }
    decision = guide.decide(answers)
    assert decision.outcome == Outcome.HUMAN_ERROR and decision.referral


@pytest.mark.parametrize(("impairment", "referral"), [(YES, True), (NO, False), (UNSURE, True)])
def test_impairment_refers_to_hr_or_occupational_health(impairment, referral):
    answers = {
        "intended_actions": NO,
        "impairment": impairment,
        "rule_broken_knowingly": YES,
        "rules_workable": YES,
        "substitution": NO,
        "gaps": NO,
        "history": YES,
    }
    decision = guide.decide(answers)
    assert decision.referral is referral
    assert decision.outcome == (Outcome.HUMAN_ERROR if referral else Outcome.RECKLESS)


# --- tracks and the question set ----------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "track"),
    [
        (Outcome.HUMAN_ERROR, Incident.Track.LEARNING),
        (Outcome.AT_RISK, Incident.Track.LEARNING),
        (Outcome.RECKLESS, Incident.Track.ACCOUNTABILITY),
        (Outcome.DELIBERATE, Incident.Track.ACCOUNTABILITY),
    ],
)
def test_each_outcome_has_its_track(outcome, track):
    assert guide.track_for(outcome) == track


def test_the_question_set_has_seven_steps_with_guidance_and_a_version():
    assert guide.QUESTION_SET_VERSION
    assert [step.number for step in guide.STEPS] == [1, 2, 3, 4, 5, 6, 7]
    assert len({step.key for step in guide.STEPS}) == 7
    for step in guide.STEPS:
        assert step.question.strip().endswith("?")
        assert len(step.guidance.strip()) > 20
    # The step about rules shows what PolicyHub knows about the person.
    assert [step.key for step in guide.STEPS if step.shows_facts] == [
        "rule_broken_knowingly",
        "rules_workable",
    ]
    # Every answer the decision can ask for belongs to a step.
    assert set(guide.ANSWER_KEYS) == set(UNSURE_READS_AS)
    assert guide.ANSWERS == (YES, NO, UNSURE)
