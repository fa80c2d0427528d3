"""The current question set's decision tree (2026.2), branch by branch: a table of short
cases, each with the answers given in the order they are asked, the outcome expected and
why. Then the rules that hold across every path: what "unsure" does, what a history may
move, and that every branch of the tree is one of the cases here."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from incidents import assessment as guide
from incidents.models import Assessment, Incident

YES, NO, UNSURE = "yes", "no", "unsure"
SHORTCUT, SUBSTANCE = "shortcut", "substance"
Outcome = Assessment.Outcome
HE, AR, RE, DE = Outcome.HUMAN_ERROR, Outcome.AT_RISK, Outcome.RECKLESS, Outcome.DELIBERATE
V2 = guide.question_set("2026.2")
KEYS = (
    "intended_actions",
    "intended_harm",
    "impairment",
    "rule_broken_knowingly",
    "rules_workable",
    "substitution",
    "gaps",
    "history",
)


@dataclass(frozen=True)
class Case:
    story: str
    answers: str  # one letter or word per question asked, in KEYS order; "-" not asked
    outcome: str
    referral: bool
    why: str

    def as_dict(self) -> dict[str, str]:
        words = {"y": YES, "n": NO, "?": UNSURE, "short": SHORTCUT, "subst": SUBSTANCE}
        given = self.answers.split()
        assert len(given) == len(KEYS), self.story
        return {key: words[a] for key, a in zip(KEYS, given, strict=True) if a != "-"}


# fmt: off
CASES = [
    # answers: actions harm impairment rule workable peers gaps history
    # --- harm
    Case("Posted the leaked memo 'so everyone sees what they are like'",
         "y y - - - - - -", DE, False, "Meant harm makes it deliberate."),
    Case("Posted the salary list; says it was a mis-click, but wrote a threat the day before",
         "? y - - - - - -", DE, False, "Unsure actions still ask about harm; harm is meant."),
    Case("Shared a roadmap slide, cannot say whether on purpose; no sign of malice",
         "? n n n - y n n", HE, False, "Unsure actions with no harm meant: an honest slip."),
    Case("Replied angrily to a customer in public; harm meant is not clear",
         "y ? n n - y n n", HE, False, "Unsure about harm is read as no."),
    # --- health
    Case("Posted from the company account on strong painkillers after surgery",
         "n - y - - - - -", HE, True, "Ill health: support, not discipline; the walk ends."),
    Case("Posted customer data from the company account after drinking at a party",
         "y n subst - - - - -", RE, True, "Substance misuse without mitigation: substance policy."),
    Case("Maybe exhausted; knowingly posted a figure a workable rule forbids, unlike colleagues",
         "y n ? y y n n n", RE, True, "Unsure impairment: referral; the outcome follows the act."),
    Case("Might have been unwell; pasted a link into the wrong, public channel as others have",
         "n - ? n - y n n", HE, True, "Unsure impairment: referral recorded, walk goes on."),
    # --- foresight: a rule broken knowingly
    Case("Posted the launch date knowing the embargo; a workable rule, colleagues would not",
         "y n n y y n n n", RE, False, "A known, workable rule broken; peers would not: reckless."),
    Case("Shared a sales figure knowing the rule; the whole team does it",
         "y n n y y y n n", AR, False, "Knowing, but peers would too: at-risk."),
    Case("Broke the approval rule knowingly; their manager never checked posts",
         "y n n y y n y n", AR, False, "Knowing, with a supervision gap: at-risk."),
    Case("Broke a rule knowingly that no one could follow (no approver on weekends)",
         "y n n y n n n n", AR, False, "The rule fell short: at-risk."),
    Case("Broke the rule knowingly, not sure it was ever workable",
         "y n n y ? n n n", AR, False, "Unsure whether workable is read as no: at-risk."),
    Case("Broke a workable rule knowingly; cannot tell whether others would have",
         "y n n y y ? n n", AR, False, "Unsure substitution is read as yes: at-risk."),
    # --- foresight: a shortcut whose risk they did not see
    Case("Posted event photos without checking the whiteboards: the team always does",
         "y n n short - y n n", AR, False, "A normalised shortcut: at-risk, to coach."),
    Case("Skipped the second review of a post, a practice that had drifted; unsupervised",
         "y n n short - n y n", AR, False, "A shortcut stays at-risk even with a gap."),
    Case("Took the same drifted shortcut again after coaching; answered as a shortcut",
         "y n n short - n n y", AR, False, "History lifts at-risk only on a knowing violation."),
    Case("The team's usual shortcut again, after support",
         "y n n short - y n y", AR, False, "A normalised shortcut again: still not knowing."),
    Case("The team's usual shortcut again; nobody ever supervised posting",
         "y n n short - y y y", AR, False, "A shortcut with a gap: history does not count."),
    Case("A drifted practice only they follow, again; training never covered it",
         "y n n short - n y y", AR, False, "A shortcut with a training gap: history not counted."),
    # --- foresight: a slip, a lapse or an honest mistake
    Case("Posted to the company account instead of their own; anyone could have",
         "n - n n - y n n", HE, False, "Peers would have done the same: human error."),
    Case("Pasted a draft into a public forum; never shown the tool's public default",
         "n - n n - n y n", HE, False, "A training gap keeps it at human error."),
    Case("Forgot to blur a customer name that every colleague checks for, and was trained",
         "n - n n - n n n", AR, False, "Peers would not, no gap: possibly negligent, at-risk."),
    Case("Not sure they knew the rule; a slip others would make",
         "n - n ? - y n n", HE, False, "Unsure about knowing is read as a slip."),
    Case("A slip nobody else makes, but training may have missed it",
         "n - n n - n ? n", HE, False, "Unsure about gaps is read as yes: human error."),
    # --- history
    Case("The same slip others make, a third time after support",
         "n - n n - y n y", AR, False, "Blameless error, but corrective coaching: one step up."),
    Case("The same slip a third time, but the briefing never covered it",
         "n - n n - y y y", HE, False, "History does not outweigh a training gap."),
    Case("A slip colleagues avoid, made again, but the briefing never covered it",
         "n - n n - n y y", HE, False, "A training gap keeps it at human error, history or not."),
    Case("A negligent slip again after support",
         "n - n n - n n y", AR, False, "At-risk without a knowing violation stays at-risk."),
    Case("Knowingly broke a workable rule the team breaks too, again after support",
         "y n n y y y n y", RE, False, "A repeated knowing violation: at-risk up to reckless."),
    Case("Knowingly broke a workable rule again, but supervision was missing",
         "y n n y y n y y", AR, False, "History does not outweigh a supervision gap."),
    Case("Knowingly broke a workable rule the team breaks, again, with no supervision",
         "y n n y y y y y", AR, False, "Peers and a gap: history does not count."),
    Case("Knowingly broke an unworkable rule again",
         "y n n y n y n y", AR, False, "The rule fell short: history does not count."),
    Case("Reckless before and reckless again",
         "y n n y y n n y", RE, False, "Reckless is as far as a history goes."),
    Case("A slip others make; a history nobody can confirm",
         "n - n n - y n ?", HE, False, "Unsure history is read as no."),
]
# fmt: on


def case_id(case: Case) -> str:
    return case.story[:60]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_each_case_gives_its_outcome(case):
    answers = case.as_dict()
    # The tree asks exactly these questions, in this order, and no more.
    assert V2.needed_keys(answers) == list(answers), case.why
    assert V2.is_complete(answers)
    decision = V2.decide(answers)
    assert (decision.outcome, decision.referral) == (case.outcome, case.referral), case.why
    assert decision.track == guide.track_for(case.outcome)
    assert decision.reasons
    assert bool(decision.referral_note) == case.referral
    assert decision.offers_authority_referral == (case.outcome == DE)


def test_there_are_at_least_twenty_cases_and_every_outcome_is_among_them():
    assert len(CASES) >= 20
    assert {case.outcome for case in CASES} == set(Outcome.values)
    assert len({case.answers for case in CASES}) == len(CASES)


# --- every path ---------------------------------------------------------------------------


def walk(answers: dict[str, str] | None = None):
    """Every complete path: at each step the question the tree asks next, with each of
    its answers."""
    answers = answers or {}
    pending = [key for key in V2.needed_keys(answers) if key not in answers]
    if not pending:
        yield answers
        return
    for value in V2.question(pending[0]).values:
        yield from walk({**answers, pending[0]: value})


PATHS = list(walk())


def branch(decision: guide.Decision) -> tuple:
    """A branch of the tree: its outcome, the referral and the reasons given."""
    return decision.outcome, decision.referral, decision.reasons


def test_every_branch_of_the_tree_is_one_of_the_cases():
    """A branch is what the tree says (outcome, referral, reasons); the cases above
    reach every one, apart from the reason a referral for "unsure" impairment adds
    to a branch (checked on its own: two cases carry it)."""

    def without_unsure_impairment(decision):
        reasons = tuple(r for r in decision.reasons if not r.startswith("Impairment could not"))
        return decision.outcome, reasons

    in_the_tree = {without_unsure_impairment(V2.decide(path)) for path in PATHS}
    in_the_cases = {without_unsure_impairment(V2.decide(case.as_dict())) for case in CASES}
    assert in_the_tree == in_the_cases
    assert sum(case.as_dict().get("impairment") == UNSURE for case in CASES) >= 2


def test_questions_come_in_the_order_harm_health_foresight_substitution_history():
    for path in PATHS:
        order = [KEYS.index(key) for key in path]
        assert order == sorted(order), path
    assert V2.keys == KEYS


def severity(answers: dict[str, str]) -> int:
    return [HE, AR, RE, DE].index(V2.decide(answers).outcome)


def complete(answers: dict[str, str]):
    """Every complete path that starts with these answers (changing one answer can
    change which questions come next)."""
    return list(walk(answers))


@pytest.mark.parametrize(
    "key", ["intended_harm", "rule_broken_knowingly", "rules_workable", "substitution", "gaps"]
)
def test_unsure_is_never_harsher_than_any_other_answer(key):
    """With every other answer the same, "unsure" is as kind as the kindest answer."""
    checked = 0
    for path in PATHS:
        if path.get(key) != UNSURE:
            continue
        rest = {k: v for k, v in path.items() if k != key}
        for other in V2.question(key).values:
            for alternative in complete({**rest, key: other}):
                assert severity(path) <= severity(alternative), (path, alternative)
                checked += 1
    assert checked


def test_unsure_history_is_read_as_no():
    for path in PATHS:
        if path.get("history") == UNSURE:
            assert V2.decide(path) == V2.decide({**path, "history": NO})


def test_unsure_impairment_records_a_referral_and_the_walk_goes_on():
    for path in PATHS:
        if path.get("impairment") != UNSURE:
            continue
        as_no = V2.decide({**path, "impairment": NO})
        decision = V2.decide(path)
        assert decision.referral and decision.outcome == as_no.outcome
        assert "history" in path  # every question after it was asked


def test_unsure_actions_still_ask_about_harm_and_meant_harm_is_deliberate():
    for path in PATHS:
        if path["intended_actions"] == UNSURE:
            assert "intended_harm" in path
            if path["intended_harm"] == YES:
                assert V2.decide(path).outcome == DE
            else:
                # Otherwise it is read as a slip: the same as "no".
                as_slip = {k: v for k, v in path.items() if k != "intended_harm"}
                assert V2.decide(path) == V2.decide({**as_slip, "intended_actions": NO})
        if path["intended_actions"] == NO:
            assert "intended_harm" not in path


def test_a_harm_answer_is_not_dropped_when_the_actions_become_unsure():
    answers = {"intended_actions": YES, "intended_harm": YES}
    assert V2.decide(answers).outcome == DE
    answers["intended_actions"] = UNSURE
    assert V2.needed_keys(answers) == ["intended_actions", "intended_harm"]
    assert V2.decide(answers).outcome == DE


def test_a_history_moves_the_outcome_one_step_at_most_and_never_past_a_shortfall():
    moved = set()
    for path in PATHS:
        if path.get("history") != YES:
            continue
        before, after = severity({**path, "history": NO}), severity(path)
        assert after - before in (0, 1), path
        assert V2.decide(path).outcome != DE
        shortfall = path["gaps"] != NO or path.get("rules_workable") in (NO, UNSURE)
        if shortfall:
            assert after == before, path
        if after > before:
            moved.add((before, after, path["rule_broken_knowingly"]))
    # Human error to at-risk; at-risk to reckless only on a knowing violation.
    assert {(b, a) for b, a, _ in moved} == {(0, 1), (1, 2)}
    assert {rule for b, a, rule in moved if (b, a) == (1, 2)} == {YES}


def test_the_walk_has_no_dead_ends_and_reaches_every_outcome():
    assert len(PATHS) == len({tuple(sorted(p.items())) for p in PATHS})
    assert {V2.decide(p).outcome for p in PATHS} == set(Outcome.values)
    # Unfinished answers have no outcome.
    with pytest.raises(ValueError):
        V2.decide({"intended_actions": NO, "impairment": NO})


# --- the question set and its words -----------------------------------------------------


def test_new_runs_use_2026_2_and_earlier_sets_are_kept():
    assert guide.QUESTION_SET_VERSION == "2026.2" and guide.CURRENT is V2
    assert set(guide.QUESTION_SETS) == {"2026.1", "2026.2"}
    assert guide.question_set("v0") is None


def test_every_question_has_guidance_and_labelled_answers():
    assert [q.number for q in V2.questions] == list(range(1, 9))
    for question in V2.questions:
        assert question.question.endswith("?")
        assert len(question.guidance) > 40
        assert UNSURE in question.values
        assert all(option.label for option in question.options)
        if not question.plain:
            # Richer answers say what each one means.
            assert all(option.description for option in question.options)
    assert V2.question("impairment").values == (YES, SUBSTANCE, NO, UNSURE)
    assert V2.question("rule_broken_knowingly").values == (YES, SHORTCUT, NO, UNSURE)


def test_the_rules_the_assessor_reads_are_the_rules_the_tree_follows():
    # The history rule is stated once, and it is the history question's guidance.
    assert V2.question("history").guidance == guide.RULE_HISTORY
    assert guide.RULE_HISTORY in V2.rules
    assert "one step up" in guide.RULE_HISTORY
    assert "reckless when a rule was knowingly broken" in guide.RULE_HISTORY
    assert V2.question("impairment").guidance == guide.RULE_HEALTH
    assert "substance policy" in guide.RULE_HEALTH and "questions go on" in guide.RULE_HEALTH
    assert "normalised" in guide.RULE_SHORTCUT
    assert "possibly negligent" in guide.RULE_ERROR
    assert guide.HARM_MEANT in V2.question("intended_harm").guidance


def test_outcomes_of_2026_2_that_differ_from_2026_1():
    """Where the new tree answers differently, the earlier set still gives its own
    outcome: a run answered with it keeps that outcome."""
    v1 = guide.question_set("2026.1")
    negligent = {
        "intended_actions": NO,
        "impairment": NO,
        "rule_broken_knowingly": NO,
        "substitution": NO,
        "gaps": NO,
        "history": NO,
    }
    assert (v1.decide(negligent).outcome, V2.decide(negligent).outcome) == (HE, AR)
    repeated = {**negligent, "substitution": YES, "history": YES}
    assert (v1.decide(repeated).outcome, V2.decide(repeated).outcome) == (HE, AR)
    unsure_health = {**negligent, "impairment": UNSURE}
    assert (v1.decide(unsure_health).outcome, V2.decide(unsure_health).outcome) == (HE, AR)
    assert v1.decide(unsure_health).referral and V2.decide(unsure_health).referral


@pytest.mark.parametrize(
    ("outcome", "track"),
    [(HE, "learning"), (AR, "learning"), (RE, "accountability"), (DE, "accountability")],
)
def test_each_outcome_has_its_track(outcome, track):
    assert guide.track_for(outcome) == Incident.Track(track)


def test_every_answer_is_one_the_question_offers():
    for path in PATHS:
        for key, value in path.items():
            assert value in V2.question(key).values
    # Answers a question does not offer are not read (and so never complete it).
    assert not V2.is_complete({"intended_actions": "maybe"})
    assert V2.needed_keys({"intended_actions": NO, "impairment": "maybe"}) == [
        "intended_actions",
        "impairment",
        "rule_broken_knowingly",
        "substitution",
        "gaps",
        "history",
    ]
