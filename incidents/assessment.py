"""The guided assessment: one person, one act, seven steps, in PolicyHub's own words.

It follows the culpability decision tree used in safety-critical industries. The
question set is data with a version, stored with every run, so an old assessment
can always be read with the questions it was answered against. When an answer is
"unsure", the decision takes the reading that favours the person.
"""

from __future__ import annotations

from dataclasses import dataclass

from incidents.models import Assessment, Incident

QUESTION_SET_VERSION = "2026.1"

YES, NO, UNSURE = "yes", "no", "unsure"
ANSWERS = (YES, NO, UNSURE)
Outcome = Assessment.Outcome


@dataclass(frozen=True)
class Step:
    key: str
    number: int
    question: str
    guidance: str
    shows_facts: bool = False  # the step about rules shows what PolicyHub knows


STEPS: tuple[Step, ...] = (
    Step(
        "intended_actions",
        1,
        "Did the person mean to do what they did: post, share or reply as they did?",
        "A slip (the wrong account, the wrong audience, a paste they did not mean) is not an "
        "intention. If you cannot tell, answer “unsure”: that counts in the person's favour.",
    ),
    Step(
        "intended_harm",
        2,
        "Did they mean to cause harm to the company, a colleague or a customer?",
        "Only answer yes with evidence of intent to damage: a threat, a grudge stated in "
        "writing, a pattern of leaks. Careless or angry is not the same as meaning harm.",
    ),
    Step(
        "impairment",
        3,
        "Was there ill health, medication, exhaustion or another impairment at the time?",
        "If yes, this goes to HR or occupational health for support, not to discipline. "
        "If you cannot tell, answer “unsure”: the person is offered that support.",
    ),
    Step(
        "rule_broken_knowingly",
        4,
        "Did they knowingly break a rule?",
        "Knowingly means they knew the rule and chose to act against it. Not knowing the rule "
        "is a question about the rule and training (next question), not about the person.",
        shows_facts=True,
    ),
    Step(
        "rules_workable",
        5,
        "Was the policy available, understandable and workable, and had they been trained?",
        "Look at the facts PolicyHub shows: which version they acknowledged and when, and "
        "their last briefing. A rule nobody could follow is a system problem.",
        shows_facts=True,
    ),
    Step(
        "substitution",
        6,
        "Would a comparable colleague, in the same situation, likely have done the same?",
        "If yes, the system set people up to make this mistake: fix the system.",
    ),
    Step(
        "gaps_or_history",
        7,
        "Were there gaps in training or supervision — and, separately, a history of "
        "similar events for this person?",
        "Gaps in training or supervision point to the organisation. A history of similar "
        "events, after earlier support, can move the outcome one step up.",
    ),
)
STEP_KEYS = tuple(step.key for step in STEPS)
# The last step asks two things; they are stored as two answers.
ANSWER_KEYS = (*STEP_KEYS[:-1], "gaps", "history")


@dataclass(frozen=True)
class Decision:
    outcome: str
    track: str
    referral: bool
    reasons: tuple[str, ...]


def favourable(key: str, answer: str) -> str:
    """ "Unsure" read in the person's favour, question by question."""
    if answer != UNSURE:
        return answer
    return {
        "intended_actions": NO,  # a slip rather than a choice
        "intended_harm": NO,
        # Read as yes: support (a referral) rather than discipline. Read as no, the walk
        # would go on to the rules and could end in "reckless".
        "impairment": YES,
        "rule_broken_knowingly": NO,
        "rules_workable": NO,  # the rule or training may be at fault
        "substitution": YES,  # others would have done the same: a system issue
        "gaps": YES,
        "history": NO,
    }[key]


def needed_keys(answers: dict[str, str]) -> list[str]:
    """The answers the decision needs, given those so far (some steps are skipped)."""
    a = {key: favourable(key, value) for key, value in answers.items() if value in ANSWERS}
    keys = ["intended_actions"]
    if a.get("intended_actions") == YES:
        keys.append("intended_harm")
        if a.get("intended_harm") == YES:
            return keys
    keys.append("impairment")
    if a.get("impairment") == YES:
        return keys
    keys.append("rule_broken_knowingly")
    if a.get("rule_broken_knowingly") == YES:
        keys.append("rules_workable")
    keys += ["substitution", "gaps", "history"]
    return keys


def is_complete(answers: dict[str, str]) -> bool:
    return all(answers.get(key) in ANSWERS for key in needed_keys(answers))


def decide(answers: dict[str, str]) -> Decision:
    """The suggested outcome for a complete set of answers."""
    if not is_complete(answers):
        raise ValueError("The assessment is not complete.")
    a = {key: favourable(key, answers[key]) for key in needed_keys(answers)}
    if a["intended_actions"] == YES and a.get("intended_harm") == YES:
        return _decision(Outcome.DELIBERATE, False, "They meant to cause harm.")
    if a.get("impairment") == YES:
        return _decision(
            Outcome.HUMAN_ERROR, True, "Ill health or impairment: support, not discipline."
        )
    reasons = []
    if a["rule_broken_knowingly"] == YES and a["rules_workable"] == YES:
        if a["substitution"] == YES:
            outcome = Outcome.AT_RISK
            reasons.append("A workable rule was broken, but others would likely have done so too.")
        elif a["gaps"] == YES:
            outcome = Outcome.AT_RISK
            reasons.append("A workable rule was broken, with gaps in training or supervision.")
        else:
            outcome = Outcome.RECKLESS
            reasons.append("A known, workable rule was broken, and others would not have.")
    elif a["rule_broken_knowingly"] == YES:
        outcome = Outcome.AT_RISK
        reasons.append("A rule was broken knowingly, but the rule or the training fell short.")
    else:
        outcome = Outcome.HUMAN_ERROR
        reasons.append("No rule was knowingly broken: an honest mistake.")
    if a["history"] == YES and outcome == Outcome.HUMAN_ERROR and a["substitution"] == NO:
        outcome = Outcome.AT_RISK
        reasons.append("Similar events before, and others would not have done the same.")
    return _decision(outcome, False, *reasons)


def track_for(outcome: str) -> str:
    if outcome in (Outcome.RECKLESS, Outcome.DELIBERATE):
        return Incident.Track.ACCOUNTABILITY
    return Incident.Track.LEARNING


def _decision(outcome: str, referral: bool, *reasons: str) -> Decision:
    return Decision(outcome, track_for(outcome), referral, tuple(reasons))
