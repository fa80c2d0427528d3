"""Question set 2026.2, the one new runs use: its questions, its rules in the words the
assessor reads, and the decision that implements exactly those rules."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from incidents.assessment.questions import (
    ILL_HEALTH_REFERRAL,
    NO,
    SHORTCUT,
    SUBSTANCE,
    UNSURE,
    YES,
    Decision,
    Option,
    Outcome,
    Question,
    QuestionSet,
    make_decision,
)

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
        return make_decision(Outcome.DELIBERATE, False, _("They meant to cause harm."))
    # Health.
    if a["impairment"] == YES:
        return make_decision(
            Outcome.HUMAN_ERROR,
            True,
            _("Ill health or another impairment not of their making: support, not discipline."),
            referral_note=ILL_HEALTH_REFERRAL,
        )
    if a["impairment"] == SUBSTANCE:
        return make_decision(
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
    return make_decision(outcome, referral, *reasons, referral_note=note)


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
    introduction=gettext_noop(
        "One person and one act at a time. Eight short questions; some are not needed after "
        "earlier answers. Each question says how “unsure” is read."
    ),
)
