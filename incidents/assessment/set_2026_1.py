"""Question set 2026.1, kept as it was: runs answered with it are read, continued and
decided with it."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from incidents.assessment.questions import (
    ILL_HEALTH_REFERRAL,
    NO,
    YES,
    Decision,
    Outcome,
    Question,
    QuestionSet,
    make_decision,
)


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
        return make_decision(Outcome.DELIBERATE, False, _("They meant to cause harm."))
    if a.get("impairment") == YES:
        return make_decision(
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
    return make_decision(outcome, False, *reasons)


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
    introduction=gettext_noop(
        "One person and one act at a time. Seven short questions; when unsure, the guidance "
        "favours the person."
    ),
)
