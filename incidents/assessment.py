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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from incidents.models import Assessment, Incident

YES, NO, UNSURE = "yes", "no", "unsure"
ANSWERS = (YES, NO, UNSURE)
# Richer answers of question set 2026.2.
SHORTCUT = "shortcut"  # not knowingly: a shortcut or a drifted practice, its risk unseen
SUBSTANCE = "substance"  # impaired by alcohol or drugs taken by choice, without mitigation
Outcome = Assessment.Outcome


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    description: str = ""  # shown beside the answer when the label alone is not enough


YES_NO_UNSURE = (
    Option(YES, gettext_noop("Yes")),
    Option(NO, gettext_noop("No")),
    Option(UNSURE, gettext_noop("Unsure")),
)


def shown(text: str) -> str:
    """The question set's words (stored in English, marked with gettext_noop, so that a
    run's own set keeps its wording) in the reader's language."""
    return _(text) if text else ""


@dataclass(frozen=True)
class Question:
    """One question: one stored answer. Questions that share a number are asked at the
    same step (question set 2026.1 asks two things at step 7)."""

    key: str
    number: int
    question: str
    guidance: str
    options: tuple[Option, ...] = YES_NO_UNSURE
    unsure_reads_as: str = NO
    # What "unsure" does, when it is more than a reading ("read as no").
    unsure_note: str = ""
    shows_facts: bool = False  # the questions about rules show what PolicyHub knows

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)

    def label_of(self, value: str) -> str:
        return next((o.label for o in self.options if o.value == value), value)

    def reading(self, value: str) -> str:
        """The answer as the decision reads it: "unsure" in the person's favour."""
        return self.unsure_reads_as if value == UNSURE else value

    @property
    def unsure_means(self) -> str:
        """What "unsure" counts as, in the reader's language."""
        if self.unsure_note:
            return _(self.unsure_note)
        # Translators: what an "unsure" answer counts as, e.g. "read as no".
        return _("read as %(answer)s") % {"answer": _(self.label_of(self.unsure_reads_as)).lower()}

    @property
    def plain(self) -> bool:
        """Answered yes, no or unsure."""
        return self.values == ANSWERS


@dataclass(frozen=True)
class Decision:
    outcome: str
    track: str
    referral: bool  # to HR or occupational health
    reasons: tuple[str, ...]
    referral_note: str = ""

    @property
    def offers_authority_referral(self) -> bool:
        """A deliberate act: the regulator or the police may have to be told."""
        return self.outcome == Outcome.DELIBERATE


@dataclass(frozen=True)
class QuestionSet:
    version: str
    questions: tuple[Question, ...]
    rules: tuple[str, ...]  # how the answers decide, in the words the assessor reads
    _needed: Callable[[dict[str, str]], list[str]]
    _decide: Callable[[dict[str, str]], Decision]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(question.key for question in self.questions)

    @property
    def total_steps(self) -> int:
        return max(question.number for question in self.questions)

    def question(self, key: str) -> Question:
        return next(question for question in self.questions if question.key == key)

    def valid(self, answers: dict[str, str]) -> dict[str, str]:
        """Only the answers this set understands (a key it asks, a value it offers)."""
        by_key = {question.key: question for question in self.questions}
        return {
            key: value
            for key, value in answers.items()
            if key in by_key and value in by_key[key].values
        }

    def needed_keys(self, answers: dict[str, str]) -> list[str]:
        """The questions the decision needs, given the answers so far (some are skipped)."""
        return self._needed(self.valid(answers))

    def is_complete(self, answers: dict[str, str]) -> bool:
        valid = self.valid(answers)
        return all(key in valid for key in self.needed_keys(valid))

    def decide(self, answers: dict[str, str]) -> Decision:
        """The suggested outcome for a complete set of answers; answers to questions
        that are not asked with these answers do not count."""
        if not self.is_complete(answers):
            raise ValueError("The assessment is not complete.")
        valid = self.valid(answers)
        return self._decide({key: valid[key] for key in self.needed_keys(valid)})


def track_for(outcome: str) -> str:
    if outcome in (Outcome.RECKLESS, Outcome.DELIBERATE):
        return Incident.Track.ACCOUNTABILITY
    return Incident.Track.LEARNING


def _decision(outcome: str, referral: bool, *reasons: str, referral_note: str = "") -> Decision:
    return Decision(outcome, track_for(outcome), referral, tuple(reasons), referral_note)


ILL_HEALTH_REFERRAL = gettext_noop(
    "Refer to HR or occupational health for support, not to discipline."
)


# --- question set 2026.1 (kept as it was: runs answered with it read and decide with it) --


def _read_2026_1(answers: dict[str, str]) -> dict[str, str]:
    return {key: V2026_1.question(key).reading(value) for key, value in answers.items()}


def _needed_2026_1(answers: dict[str, str]) -> list[str]:
    a = _read_2026_1(answers)
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


def _decide_2026_1(answers: dict[str, str]) -> Decision:
    a = _read_2026_1(answers)
    if a["intended_actions"] == YES and a.get("intended_harm") == YES:
        return _decision(Outcome.DELIBERATE, False, _("They meant to cause harm."))
    if a.get("impairment") == YES:
        return _decision(
            Outcome.HUMAN_ERROR,
            True,
            _("Ill health or impairment: support, not discipline."),
            referral_note=ILL_HEALTH_REFERRAL,
        )
    reasons = []
    if a["rule_broken_knowingly"] == YES and a["rules_workable"] == YES:
        if a["substitution"] == YES:
            outcome = Outcome.AT_RISK
            reasons.append(
                _("A workable rule was broken, but others would likely have done so too.")
            )
        elif a["gaps"] == YES:
            outcome = Outcome.AT_RISK
            reasons.append(_("A workable rule was broken, with gaps in training or supervision."))
        else:
            outcome = Outcome.RECKLESS
            reasons.append(_("A known, workable rule was broken, and others would not have."))
    elif a["rule_broken_knowingly"] == YES:
        outcome = Outcome.AT_RISK
        reasons.append(_("A rule was broken knowingly, but the rule or the training fell short."))
    else:
        outcome = Outcome.HUMAN_ERROR
        reasons.append(_("No rule was knowingly broken: an honest mistake."))
    if a["history"] == YES and outcome == Outcome.HUMAN_ERROR and a["substitution"] == NO:
        outcome = Outcome.AT_RISK
        reasons.append(_("Similar events before, and others would not have done the same."))
    return _decision(outcome, False, *reasons)


V2026_1 = QuestionSet(
    version="2026.1",
    questions=(
        Question(
            "intended_actions",
            1,
            gettext_noop(
                "Did the person mean to do what they did: post, share or reply as they did?"
            ),
            gettext_noop(
                "A slip (the wrong account, the wrong audience, a paste they did not mean) is not "
                "an intention. If you cannot tell, answer “unsure”: that counts in the person's "
                "favour."
            ),
        ),
        Question(
            "intended_harm",
            2,
            gettext_noop("Did they mean to cause harm to the company, a colleague or a customer?"),
            gettext_noop(
                "Only answer yes with evidence of intent to damage: a threat, a grudge stated in "
                "writing, a pattern of leaks. Careless or angry is not the same as meaning harm."
            ),
        ),
        Question(
            "impairment",
            3,
            gettext_noop(
                "Was there ill health, medication, exhaustion or another impairment at the time?"
            ),
            gettext_noop(
                "If yes, this goes to HR or occupational health for support, not to discipline. "
                "If you cannot tell, answer “unsure”: the person is offered that support."
            ),
            # Read as yes: support (a referral) rather than discipline.
            unsure_reads_as=YES,
        ),
        Question(
            "rule_broken_knowingly",
            4,
            gettext_noop("Did they knowingly break a rule?"),
            gettext_noop(
                "Knowingly means they knew the rule and chose to act against it. Not knowing the "
                "rule is a question about the rule and training (next question), not about the "
                "person."
            ),
            shows_facts=True,
        ),
        Question(
            "rules_workable",
            5,
            gettext_noop(
                "Was the policy available, understandable and workable, and had they been trained?"
            ),
            gettext_noop(
                "Look at the facts PolicyHub shows: which version they acknowledged and when, and "
                "their last briefing. A rule nobody could follow is a system problem."
            ),
            shows_facts=True,
        ),
        Question(
            "substitution",
            6,
            gettext_noop(
                "Would a comparable colleague, in the same situation, likely have done the same?"
            ),
            gettext_noop("If yes, the system set people up to make this mistake: fix the system."),
            unsure_reads_as=YES,  # others would have done the same: a system issue
        ),
        Question(
            "gaps",
            7,
            gettext_noop("Were there gaps in training or supervision?"),
            gettext_noop(
                "Gaps in training or supervision point to the organisation. A history of similar "
                "events, after earlier support, can move the outcome one step up."
            ),
            unsure_reads_as=YES,
        ),
        Question(
            "history",
            7,
            gettext_noop(
                "Is there a history of similar events for this person, after earlier support?"
            ),
            gettext_noop(
                "Gaps in training or supervision point to the organisation. A history of similar "
                "events, after earlier support, can move the outcome one step up."
            ),
        ),
    ),
    rules=(
        gettext_noop("Meant actions and meant harm make the act deliberate."),
        gettext_noop(
            "Ill health or impairment, or “unsure” about it, is human error with a referral for "
            "support; the questions stop there."
        ),
        gettext_noop(
            "A workable rule broken knowingly is reckless behaviour, unless others would likely "
            "have done the same or there were gaps in training or supervision: then at-risk "
            "behaviour. A rule that fell short makes it at-risk behaviour."
        ),
        gettext_noop(
            "Without a rule broken knowingly it is human error; a history of similar events "
            "makes it at-risk behaviour when others would not have done the same."
        ),
        gettext_noop("“Unsure” is read as the answer that favours the person."),
    ),
    _needed=_needed_2026_1,
    _decide=_decide_2026_1,
)


# --- question set 2026.2 ------------------------------------------------------------------

# Each rule is stated once, here: the decision below implements exactly these, and the
# assessor reads them beside the questions (and the history rule as its question's guidance).
HARM_MEANT = gettext_noop("Meant harm makes the act deliberate, whatever else is true.")
# Whole sentences, so that each translates as one; they repeat HARM_MEANT word for word
# (checked below).
RULE_HARM = gettext_noop(
    "Meant harm makes the act deliberate, whatever else is true. When you are unsure whether "
    "the actions were meant, the question about harm is still asked."
)
HARM_GUIDANCE = gettext_noop(
    "Only answer yes with evidence of intent to damage: a threat, a grudge stated in writing, "
    "a pattern of leaks. Careless or angry is not the same as meaning harm. Meant harm makes "
    "the act deliberate, whatever else is true."
)
assert RULE_HARM.startswith(HARM_MEANT) and HARM_GUIDANCE.endswith(HARM_MEANT)
RULE_HEALTH = gettext_noop(
    "Ill health (including medication, exhaustion or a dependency being treated) is human "
    "error, with a referral for support, not discipline. Alcohol or drugs taken by choice, "
    "without mitigation, follow the organisation's substance policy: reckless behaviour on "
    "the accountability track, with a referral. When you are unsure, the referral is "
    "recorded and the questions go on, so that the outcome reflects the act."
)
RULE_KNOWING = gettext_noop(
    "A workable rule broken knowingly is reckless behaviour, unless a comparable colleague "
    "would likely have done the same or training or supervision fell short: then it is "
    "at-risk behaviour. A rule that was not workable, or not trained on, makes it at-risk "
    "behaviour."
)
RULE_SHORTCUT = gettext_noop(
    "A shortcut whose risk they did not see (a practice that had drifted, or that the team "
    "had normalised) is at-risk behaviour: coach the person and fix what made the shortcut "
    "normal."
)
RULE_ERROR = gettext_noop(
    "A slip, a lapse or an honest mistake is human error when a comparable colleague would "
    "likely have done the same, or when training or supervision fell short. Otherwise it is "
    "a possibly negligent error: at-risk behaviour, to coach."
)
RULE_HISTORY = gettext_noop(
    "A history of similar events, after earlier support, moves the outcome one step up: "
    "human error becomes at-risk behaviour, and at-risk behaviour becomes reckless when a "
    "rule was knowingly broken. It never makes an act deliberate, and it does not count when "
    "the rule, the training or the supervision fell short: that points to the organisation."
)
RULE_UNSURE = gettext_noop("Elsewhere, “unsure” is read as the answer that favours the person.")
SUBSTANCE_REFERRAL = gettext_noop(
    "The organisation's substance policy applies; refer to HR or occupational health as well."
)
UNSURE_IMPAIRMENT_REFERRAL = gettext_noop(
    "Offer a referral to HR or occupational health: impairment could not be ruled out. The "
    "outcome follows the act."
)


def _read_2026_2(answers: dict[str, str]) -> dict[str, str]:
    return {key: V2026_2.question(key).reading(value) for key, value in answers.items()}


def _needed_2026_2(answers: dict[str, str]) -> list[str]:
    a = _read_2026_2(answers)
    keys = ["intended_actions"]
    # Harm is asked when the actions were meant, and when that is not known.
    if answers.get("intended_actions") in (YES, UNSURE):
        keys.append("intended_harm")
        if a.get("intended_harm") == YES:
            return keys
    keys.append("impairment")
    if answers.get("impairment") in (YES, SUBSTANCE):
        return keys
    keys.append("rule_broken_knowingly")
    if a.get("rule_broken_knowingly") == YES:
        keys.append("rules_workable")
    return [*keys, "substitution", "gaps", "history"]


def _decide_2026_2(answers: dict[str, str]) -> Decision:
    a = _read_2026_2(answers)
    # Harm.
    if a.get("intended_harm") == YES:
        return _decision(Outcome.DELIBERATE, False, _("They meant to cause harm."))
    # Health.
    if a["impairment"] == YES:
        return _decision(
            Outcome.HUMAN_ERROR,
            True,
            _("Ill health or another impairment not of their making: support, not discipline."),
            referral_note=ILL_HEALTH_REFERRAL,
        )
    if a["impairment"] == SUBSTANCE:
        return _decision(
            Outcome.RECKLESS,
            True,
            _(
                "Impaired by alcohol or drugs taken by choice, without mitigation: the "
                "organisation's substance policy applies."
            ),
            referral_note=SUBSTANCE_REFERRAL,
        )
    reasons: list[str] = []
    referral = answers["impairment"] == UNSURE
    if referral:
        reasons.append(
            _(
                "Impairment could not be ruled out: a referral for support is recorded, and the "
                "outcome follows the act."
            )
        )
    # Foresight and substitution.
    peers = a["substitution"] == YES
    gaps = a["gaps"] == YES
    knowing = a["rule_broken_knowingly"] == YES
    # A shortfall of the organisation: gaps in training or supervision, or a rule that
    # was not workable or not trained on. A history never outweighs it.
    shortfall = gaps
    if knowing and a["rules_workable"] == YES:
        if peers:
            outcome = Outcome.AT_RISK
            reasons.append(
                _(
                    "A workable rule was broken knowingly, but a comparable colleague would likely "
                    "have done the same."
                )
            )
        elif gaps:
            outcome = Outcome.AT_RISK
            reasons.append(
                _("A workable rule was broken knowingly, with gaps in training or supervision.")
            )
        else:
            outcome = Outcome.RECKLESS
            reasons.append(
                _("A known, workable rule was broken, and a comparable colleague would not have.")
            )
    elif knowing:
        outcome, shortfall = Outcome.AT_RISK, True
        reasons.append(_("A rule was broken knowingly, but the rule or the training fell short."))
    elif a["rule_broken_knowingly"] == SHORTCUT:
        outcome = Outcome.AT_RISK
        reasons.append(_("A shortcut whose risk they did not see: a choice to coach, not a slip."))
        if peers:
            reasons.append(
                _(
                    "A comparable colleague would likely have done the same: fix what made the "
                    "shortcut normal."
                )
            )
    elif peers:
        outcome = Outcome.HUMAN_ERROR
        reasons.append(
            _(
                "An honest mistake that a comparable colleague would likely have made too: "
                "a system issue."
            )
        )
    elif gaps:
        outcome = Outcome.HUMAN_ERROR
        reasons.append(
            _("An honest mistake, with gaps in training or supervision: the organisation's to fix.")
        )
    else:
        outcome = Outcome.AT_RISK
        reasons.append(
            _(
                "A mistake a comparable colleague would not have made, with no gap in training or "
                "supervision: a possibly negligent error, to coach."
            )
        )
    # History.
    if a["history"] == YES:
        if shortfall:
            reasons.append(
                _(
                    "Similar events before, but the rule, the training or the supervision fell "
                    "short: the history does not move the outcome."
                )
            )
        elif outcome == Outcome.HUMAN_ERROR:
            outcome = Outcome.AT_RISK
            reasons.append(
                _(
                    "Similar events before, after earlier support: one step up, to at-risk "
                    "behaviour (a blameless error, but corrective coaching)."
                )
            )
        elif outcome == Outcome.AT_RISK and knowing:
            outcome = Outcome.RECKLESS
            reasons.append(
                _(
                    "A rule broken knowingly again, after earlier support: one step up, to "
                    "reckless behaviour."
                )
            )
        elif outcome == Outcome.AT_RISK:
            reasons.append(
                _(
                    "Similar events before: at-risk behaviour moves up only when a rule was "
                    "knowingly broken."
                )
            )
        else:
            reasons.append(_("Similar events before: reckless is as far as a history goes."))
    note = UNSURE_IMPAIRMENT_REFERRAL if referral else ""
    return _decision(outcome, referral, *reasons, referral_note=note)


V2026_2 = QuestionSet(
    version="2026.2",
    questions=(
        Question(
            "intended_actions",
            1,
            gettext_noop(
                "Did the person mean to do what they did: post, share or reply as they did?"
            ),
            gettext_noop(
                "A slip (the wrong account, the wrong audience, a paste they did not mean) is not "
                "an intention. If you cannot tell, answer “unsure”: the question about harm is "
                "still asked, and only evidence of intent to harm makes the act deliberate."
            ),
            unsure_note=gettext_noop("read as a slip, but the question about harm is still asked"),
        ),
        Question(
            "intended_harm",
            2,
            gettext_noop("Did they mean to cause harm to the company, a colleague or a customer?"),
            HARM_GUIDANCE,
        ),
        Question(
            "impairment",
            3,
            gettext_noop(
                "Was there ill health, medication, exhaustion, alcohol, drugs or another "
                "impairment at the time?"
            ),
            RULE_HEALTH,
            options=(
                Option(
                    YES,
                    gettext_noop("Ill health"),
                    gettext_noop(
                        "Ill health, medication, exhaustion, or a dependency being treated: "
                        "support, not discipline."
                    ),
                ),
                Option(
                    SUBSTANCE,
                    gettext_noop("Substance misuse"),
                    gettext_noop(
                        "Alcohol or drugs taken by choice, without mitigation: the substance "
                        "policy applies."
                    ),
                ),
                Option(NO, gettext_noop("No"), gettext_noop("Nothing impaired them at the time.")),
                Option(
                    UNSURE,
                    gettext_noop("Unsure"),
                    gettext_noop("A referral for support is recorded and the questions go on."),
                ),
            ),
            unsure_note=(
                gettext_noop(
                    "a referral for support is recorded and the questions go on, so that the "
                    "outcome reflects the act"
                )
            ),
        ),
        Question(
            "rule_broken_knowingly",
            4,
            gettext_noop("Did they knowingly break a rule?"),
            gettext_noop(
                "Knowingly means they knew the rule and chose to act against it; if they were "
                "coached on this before, they knew it. A shortcut they did not see as risky (a "
                "practice that had drifted, or that the team had normalised) is a choice, not a "
                "slip: answer “No, a shortcut”. Not knowing the rule at all is a question about "
                "the rule and training, not about the person."
            ),
            options=(
                Option(
                    YES,
                    gettext_noop("Yes"),
                    gettext_noop("They knew the rule and chose to act against it."),
                ),
                Option(
                    SHORTCUT,
                    gettext_noop("No, a shortcut"),
                    gettext_noop("A shortcut or a drifted practice whose risk they did not see."),
                ),
                Option(
                    NO, gettext_noop("No"), gettext_noop("A slip, a lapse or an honest mistake.")
                ),
                Option(UNSURE, gettext_noop("Unsure"), gettext_noop("Read as a slip.")),
            ),
            shows_facts=True,
        ),
        Question(
            "rules_workable",
            5,
            gettext_noop(
                "Was the policy available, understandable and workable, and had they been trained?"
            ),
            gettext_noop(
                "Look at the facts PolicyHub shows: which version they acknowledged and when, and "
                "their last briefing. A rule nobody could follow is a system problem."
            ),
            shows_facts=True,
        ),
        Question(
            "substitution",
            6,
            gettext_noop(
                "Would a comparable colleague, in the same situation, likely have done the same?"
            ),
            gettext_noop(
                "If yes, the system set people up to make this mistake: fix the system. If no, and "
                "nothing in training or supervision fell short, a slip is a possibly negligent "
                "error: at-risk behaviour, to coach."
            ),
            unsure_reads_as=YES,  # others would have done the same: a system issue
        ),
        Question(
            "gaps",
            7,
            gettext_noop("Were there gaps in training or supervision?"),
            gettext_noop(
                "Gaps in training or supervision point to the organisation: they keep an honest "
                "mistake at human error, and a history does not outweigh them."
            ),
            unsure_reads_as=YES,
            shows_facts=True,
        ),
        Question(
            "history",
            8,
            gettext_noop(
                "Is there a history of similar events for this person, after earlier support?"
            ),
            RULE_HISTORY,
        ),
    ),
    rules=(
        RULE_HARM,
        RULE_HEALTH,
        RULE_KNOWING,
        RULE_SHORTCUT,
        RULE_ERROR,
        RULE_HISTORY,
        RULE_UNSURE,
    ),
    _needed=_needed_2026_2,
    _decide=_decide_2026_2,
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
