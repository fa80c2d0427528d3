"""How a question set is built and decided: its questions and their answers, the
decision it suggests, and how a run reads an "unsure"."""

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
    # What the assessor reads before starting a run with this set.
    introduction: str = ""

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


def make_decision(outcome: str, referral: bool, *reasons: str, referral_note: str = "") -> Decision:
    return Decision(outcome, track_for(outcome), referral, tuple(reasons), referral_note)


ILL_HEALTH_REFERRAL = gettext_noop(
    "Refer to HR or occupational health for support, not to discipline."
)
