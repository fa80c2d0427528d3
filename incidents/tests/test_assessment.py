"""Question set 2026.1, kept as it was: runs answered with it are read and decided with
it, so its logic must never change. Every path through its questions is checked against a
table written here, and the rule that "unsure" leans towards the person. Then the
services: a run keeps the question set it was started with, and the decision on a
referral to the regulator or the police. (The current question set's tree is tested in
test_assessment_tree.py.)"""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from incidents import assessment as guide
from incidents import services
from incidents.models import Assessment, AuthorityReferral, Incident, IncidentError, IncidentEvent
from incidents.tests.factories import reported
from people import roles

V1 = guide.question_set("2026.1")

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
    pending = [key for key in V1.needed_keys(answers) if key not in answers]
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
    assert V1.is_complete(answers)
    # The questions come in the order of the question set.
    order = [V1.keys.index(key) for key in answers]
    assert order == sorted(order)
    _pattern, outcome, referral = EXPECTED[expected_row(answers)]
    decision = V1.decide(answers)
    assert (decision.outcome, decision.referral) == (outcome, referral)
    assert decision.track == (
        Incident.Track.ACCOUNTABILITY
        if outcome in (Outcome.RECKLESS, Outcome.DELIBERATE)
        else Incident.Track.LEARNING
    )
    assert decision.reasons  # the assessor is told why


def test_every_row_of_the_table_is_reached_and_every_outcome_too():
    assert {expected_row(p) for p in PATHS} == set(range(len(EXPECTED)))
    assert {V1.decide(p).outcome for p in PATHS} == set(Outcome.values)


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
    assert not V1.is_complete({})
    assert not V1.is_complete({"intended_actions": YES})
    with pytest.raises(ValueError):
        V1.decide({"intended_actions": NO, "impairment": NO})


# --- "unsure" leans towards the person ---------------------------------------------------

EVERY_ANSWER_SET = [
    dict(zip(V1.keys, values, strict=True))
    for values in itertools.product(guide.ANSWERS, repeat=len(V1.keys))
]


def severity(answers: dict[str, str]) -> int:
    return SEVERITY.index(V1.decide(answers).outcome)


@pytest.mark.parametrize("key", V1.keys)
def test_unsure_is_never_harsher_than_the_kinder_of_yes_and_no(key):
    checked = 0
    for answers in EVERY_ANSWER_SET:
        if answers[key] != UNSURE:
            continue
        kinder = min(severity({**answers, key: YES}), severity({**answers, key: NO}))
        assert severity(answers) <= kinder, answers
        checked += 1
    assert checked == 3 ** (len(V1.keys) - 1)


def test_unsure_about_impairment_offers_support_not_discipline():
    answers = {
        "intended_actions": YES,
        "intended_harm": NO,
        "impairment": UNSURE,
    }
    decision = V1.decide(answers)
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
    decision = V1.decide(answers)
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
    assert V1.version == "2026.1" and guide.QUESTION_SET_VERSION != V1.version
    # Seven steps; the last asks two things, stored as two answers.
    assert [q.number for q in V1.questions] == [1, 2, 3, 4, 5, 6, 7, 7]
    assert V1.total_steps == 7
    assert len(set(V1.keys)) == 8
    for question in V1.questions:
        assert question.question.strip().endswith("?")
        assert len(question.guidance.strip()) > 20
        assert question.values == guide.ANSWERS
    # The step about rules shows what PolicyHub knows about the person.
    assert [q.key for q in V1.questions if q.shows_facts] == [
        "rule_broken_knowingly",
        "rules_workable",
    ]
    # Every answer the decision can ask for belongs to a step, read as the table says.
    assert set(V1.keys) == set(UNSURE_READS_AS)
    assert {q.key: q.reading(UNSURE) for q in V1.questions} == UNSURE_READS_AS
    assert guide.ANSWERS == (YES, NO, UNSURE)


def test_answers_it_does_not_offer_are_not_read():
    # "substance" and "shortcut" belong to a later question set.
    answers = {"intended_actions": NO, "impairment": "substance"}
    assert V1.needed_keys(answers) == [
        "intended_actions",
        "impairment",
        "rule_broken_knowingly",
        "substitution",
        "gaps",
        "history",
    ]
    assert not V1.is_complete(answers)


# --- a run keeps its question set ---------------------------------------------------------


@pytest.fixture
def to_assess(db, employee, comms):
    """Self-reported by the employee, owned by comms."""
    incident = reported(employee, self_reported=True)
    return services.assign_owner(incident=incident, owner=comms, by=comms)


def run_with(incident, person, by, version: str) -> Assessment:
    run = services.start_assessment(incident=incident, person=person, act="Posted", by=by)
    if version != run.question_set:
        # As if it had been started before the question set changed.
        Assessment.objects.filter(pk=run.pk).update(question_set=version)
        run.refresh_from_db()
    return run


def answer_all(run, by, answers):
    for key, value in answers.items():
        services.answer(assessment=run, by=by, key=key, value=value)


NEGLIGENT_SLIP = {
    "intended_actions": NO,
    "impairment": NO,
    "rule_broken_knowingly": NO,
    "substitution": NO,
    "gaps": NO,
    "history": NO,
}


def test_new_runs_use_the_current_question_set(to_assess, hr, employee):
    run = services.start_assessment(incident=to_assess, person=employee, act="Posted", by=hr)
    assert run.question_set == guide.QUESTION_SET_VERSION == "2026.2"


@pytest.mark.parametrize(
    ("version", "outcome"), [("2026.1", Outcome.HUMAN_ERROR), ("2026.2", Outcome.AT_RISK)]
)
def test_a_run_is_decided_with_its_own_question_set(to_assess, hr, employee, version, outcome):
    run = run_with(to_assess, employee, hr, version)
    answer_all(run, hr, NEGLIGENT_SLIP)
    run = services.finish_assessment(assessment=run, by=hr)
    run.refresh_from_db()
    assert (run.question_set, run.suggested_outcome, run.final_outcome) == (
        version,
        outcome,
        outcome,
    )
    # Read again later, with its own set, it says the same.
    assert services.suggested_decision(run).outcome == run.suggested_outcome


def test_answers_are_checked_against_the_runs_own_question_set(to_assess, hr, employee):
    earlier = run_with(to_assess, employee, hr, "2026.1")
    services.answer(assessment=earlier, by=hr, key="intended_actions", value=NO)
    with pytest.raises(IncidentError, match="^Answer yes, no or unsure.$"):
        services.answer(assessment=earlier, by=hr, key="impairment", value="substance")
    with pytest.raises(IncidentError, match="^Answer yes, no or unsure.$"):
        services.answer(assessment=earlier, by=hr, key="rule_broken_knowingly", value="shortcut")
    current = run_with(to_assess, employee, hr, "2026.2")
    services.answer(assessment=current, by=hr, key="impairment", value="substance")
    services.answer(assessment=current, by=hr, key="rule_broken_knowingly", value="shortcut")
    with pytest.raises(IncidentError, match="Answer one of “Ill health”, “Substance misuse”"):
        services.answer(assessment=current, by=hr, key="impairment", value="drunk")
    earlier.refresh_from_db()
    current.refresh_from_db()
    assert set(earlier.answers) == {"intended_actions"}
    assert current.answers["impairment"]["value"] == "substance"


def test_a_run_of_a_question_set_no_longer_known_is_kept_but_not_continued(to_assess, hr, employee):
    run = run_with(to_assess, employee, hr, "v0")
    with pytest.raises(IncidentError, match="question set v0, which PolicyHub no longer has"):
        services.answer(assessment=run, by=hr, key="intended_actions", value=NO)
    with pytest.raises(IncidentError, match="question set v0"):
        services.finish_assessment(assessment=run, by=hr)
    assert services.suggested_decision(run) is None


def test_finishing_decides_on_the_answers_as_they_are_now(to_assess, hr, employee):
    run = services.start_assessment(incident=to_assess, person=employee, act="Posted", by=hr)
    answer_all(run, hr, {**NEGLIGENT_SLIP, "substitution": YES})
    stale = Assessment.objects.get(pk=run.pk)
    services.answer(assessment=run, by=hr, key="substitution", value=NO)
    # The assessor's copy still says "yes"; the suggestion follows what is stored.
    finished = services.finish_assessment(assessment=stale, by=hr)
    assert finished.suggested_outcome == Outcome.AT_RISK


# --- regulator or police ----------------------------------------------------------------

DELIBERATE = {"intended_actions": YES, "intended_harm": YES}


@pytest.fixture
def deliberate(to_assess, hr, employee) -> Assessment:
    run = services.start_assessment(incident=to_assess, person=employee, act="Posted", by=hr)
    answer_all(run, hr, DELIBERATE)
    return services.finish_assessment(assessment=run, by=hr)


@pytest.mark.parametrize("decider", ["hr", "comms"])  # comms owns the incident
def test_hr_legal_and_the_owner_decide_on_a_referral(request, deliberate, decider):
    by = request.getfixturevalue(decider)
    at = timezone.now()
    decision = services.decide_authority_referral(
        assessment=deliberate, by=by, decision="regulator", note=" Told the ICO, ref 7. ", now=at
    )
    assert (decision.decision, decision.note, decision.decided_by, decision.decided_at) == (
        AuthorityReferral.Decision.REGULATOR,
        "Told the ICO, ref 7.",
        by,
        at,
    )
    event = IncidentEvent.objects.get(what="regulator or police")
    assert (event.incident_id, event.to_value, event.by, event.at, event.note) == (
        deliberate.incident_id,
        "refer to the regulator",
        by,
        at,
        "",
    )


@pytest.mark.parametrize("role", ["leader", "manager", "policy_admin", "employee"])
def test_no_one_else_decides_on_a_referral(request, deliberate, role):
    with pytest.raises(IncidentError, match="Only HR/legal and the incident owner decide"):
        services.decide_authority_referral(
            assessment=deliberate, by=request.getfixturevalue(role), decision="police", note="x"
        )
    assert not AuthorityReferral.objects.exists()


def test_comms_who_does_not_own_the_incident_does_not_decide(deliberate, make_person):
    other = make_person(group=roles.COMMS)
    with pytest.raises(IncidentError, match="Only HR/legal and the incident owner decide"):
        services.decide_authority_referral(
            assessment=deliberate, by=other, decision="police", note="x"
        )


def test_a_referral_decision_is_one_of_three_with_a_note(deliberate, hr):
    with pytest.raises(IncidentError, match="Choose: refer to the regulator"):
        services.decide_authority_referral(assessment=deliberate, by=hr, decision="press", note="x")
    with pytest.raises(IncidentError, match="Add a note"):
        services.decide_authority_referral(
            assessment=deliberate, by=hr, decision="police", note="  "
        )
    assert not AuthorityReferral.objects.exists()
    assert not IncidentEvent.objects.filter(what="regulator or police").exists()


def test_only_a_current_run_finished_as_deliberate_is_referred(to_assess, hr, employee):
    run = services.start_assessment(incident=to_assess, person=employee, act="Posted", by=hr)
    answer_all(run, hr, DELIBERATE)
    with pytest.raises(IncidentError, match="finished as deliberate"):
        services.decide_authority_referral(assessment=run, by=hr, decision="police", note="x")
    services.finish_assessment(
        assessment=run, by=hr, final_outcome=Outcome.RECKLESS, override_reason="No intent shown."
    )
    with pytest.raises(IncidentError, match="finished as deliberate"):
        services.decide_authority_referral(assessment=run, by=hr, decision="police", note="x")
    # An override to deliberate is a deliberate outcome too.
    second = services.start_assessment(incident=to_assess, person=employee, act="Posted", by=hr)
    answer_all(second, hr, NEGLIGENT_SLIP)
    services.finish_assessment(
        assessment=second, by=hr, final_outcome=Outcome.DELIBERATE, override_reason="Emails."
    )
    services.decide_authority_referral(assessment=second, by=hr, decision="police", note="x")
    third = services.start_assessment(incident=to_assess, person=employee, act="Posted", by=hr)
    answer_all(third, hr, DELIBERATE)
    services.finish_assessment(assessment=third, by=hr)
    second.refresh_from_db()
    with pytest.raises(IncidentError, match="superseded"):
        services.decide_authority_referral(assessment=second, by=hr, decision="police", note="y")
    assert AuthorityReferral.objects.count() == 1


def test_later_decisions_are_added_not_overwritten(deliberate, hr):
    services.decide_authority_referral(
        assessment=deliberate, by=hr, decision="not_referred", note="Internal matter."
    )
    services.decide_authority_referral(
        assessment=deliberate, by=hr, decision="police", note="New evidence: reported."
    )
    assert list(deliberate.authority_referrals.values_list("decision", flat=True)) == [
        "police",
        "not_referred",
    ]
    assert IncidentEvent.objects.filter(what="regulator or police").count() == 2
