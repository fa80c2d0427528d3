"""The guided assessment: one person, one act, a few questions, in PolicyHub's own words.

It follows the culpability decision tree used in safety-critical industries, tested in
this order: harm, health, foresight (was a rule broken knowingly, or a risk taken
unseen), substitution, history. The question set is data with a version, stored with
every run: a run is always read, continued and decided with its own question set, so an
earlier assessment keeps its questions and its outcome when the set changes. New runs
use `QUESTION_SET_VERSION`.

When an answer is "unsure", the decision takes the reading that favours the person,
except where a rule of the question set says otherwise (each set states its rules in
`rules`, the text the assessor sees).

- `questions`: how a question set is built and decided (questions, options, decisions)
- `set_2026_1`, `set_2026_2`: the question sets, each its questions, rules and decision:
  the only place the assessment's wording lives (the pages read it from the run's set)
- here: the registry of sets, and the current one for new runs
"""

from __future__ import annotations

from incidents.assessment.questions import (
    ANSWERS,
    ILL_HEALTH_REFERRAL,
    NO,
    SHORTCUT,
    SUBSTANCE,
    UNSURE,
    YES,
    YES_NO_UNSURE,
    Decision,
    Option,
    Outcome,
    Question,
    QuestionSet,
    shown,
    track_for,
)
from incidents.assessment.set_2026_1 import V2026_1
from incidents.assessment.set_2026_2 import (
    HARM_GUIDANCE,
    HARM_MEANT,
    RULE_ERROR,
    RULE_HARM,
    RULE_HEALTH,
    RULE_HISTORY,
    RULE_KNOWING,
    RULE_SHORTCUT,
    RULE_UNSURE,
    SUBSTANCE_REFERRAL,
    UNSURE_IMPAIRMENT_REFERRAL,
    V2026_2,
)

# --- the registry -------------------------------------------------------------------------

QUESTION_SETS: dict[str, QuestionSet] = {qs.version: qs for qs in (V2026_1, V2026_2)}
QUESTION_SET_VERSION = "2026.2"  # new runs
CURRENT = QUESTION_SETS[QUESTION_SET_VERSION]


def question_set(version: str) -> QuestionSet | None:
    """The question set a run was answered with; None for one PolicyHub does not have."""
    return QUESTION_SETS.get(version)


# The current set, for code that starts new runs (the demo, the factories, the bench).
STEPS = CURRENT.questions
ANSWER_KEYS = CURRENT.keys


def needed_keys(answers: dict[str, str]) -> list[str]:
    return CURRENT.needed_keys(answers)


def is_complete(answers: dict[str, str]) -> bool:
    return CURRENT.is_complete(answers)


def decide(answers: dict[str, str]) -> Decision:
    return CURRENT.decide(answers)


__all__ = [
    "ANSWERS",
    "ANSWER_KEYS",
    "CURRENT",
    "HARM_GUIDANCE",
    "HARM_MEANT",
    "ILL_HEALTH_REFERRAL",
    "NO",
    "QUESTION_SETS",
    "QUESTION_SET_VERSION",
    "RULE_ERROR",
    "RULE_HARM",
    "RULE_HEALTH",
    "RULE_HISTORY",
    "RULE_KNOWING",
    "RULE_SHORTCUT",
    "RULE_UNSURE",
    "SHORTCUT",
    "STEPS",
    "SUBSTANCE",
    "SUBSTANCE_REFERRAL",
    "UNSURE",
    "UNSURE_IMPAIRMENT_REFERRAL",
    "V2026_1",
    "V2026_2",
    "YES",
    "YES_NO_UNSURE",
    "Decision",
    "Option",
    "Outcome",
    "Question",
    "QuestionSet",
    "decide",
    "is_complete",
    "needed_keys",
    "question_set",
    "shown",
    "track_for",
]
