"""The reader's side: the quiz, acknowledging (in the browser, or recorded on someone's
behalf by an administrator), declining with a reason, and reopening a decline."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from notifications.services import notify
from people import roles
from policies.models import (
    Acknowledgement,
    Assignment,
    Decline,
    PolicyError,
    PolicyVersion,
    QuizAttempt,
    language_name,
    sha256_text,
)
from policies.services.assignments import open_assignment
from policies.services.chain import append_to_chain
from policies.services.workflow import Status, locked_version


def _day(moment: datetime) -> str:
    """A day in words, in the reader's language ("05 March 2026")."""
    return date_format(timezone.localtime(moment), "d F Y")


def _same_name(typed: str, person) -> bool:
    def normal(text: str) -> str:
        return " ".join(text.split()).casefold()

    return bool(typed.strip()) and normal(typed) == normal(person.get_full_name())


def submit_quiz(
    *, version: PolicyVersion, user, answers: dict[int, int], now: datetime | None = None
) -> QuizAttempt:
    now = now or timezone.now()
    stored_status = PolicyVersion.objects.filter(pk=version.pk).values_list("status", flat=True)
    if stored_status.first() != Status.PUBLISHED:
        raise PolicyError(
            _("Version %(number)s is not the current version.") % {"number": version.number}
        )
    if open_assignment(policy=version.policy, person=user) is None:
        raise PolicyError(_("This policy is not waiting for your acknowledgement."))
    questions = list(version.questions.all())
    if not questions:
        raise PolicyError(_("This version has no quiz."))
    right = sum(1 for q in questions if answers.get(q.pk) == q.correct)
    score = round(100 * right / len(questions))
    return QuizAttempt.objects.create(
        person=user,
        version=version,
        answers={str(q.pk): answers.get(q.pk) for q in questions},
        score=score,
        passed=score >= version.pass_mark,
        at=now,
    )


def _check_can_acknowledge(*, version: PolicyVersion, person) -> Assignment:
    if version.status != Status.PUBLISHED:
        current = version.policy.versions.filter(status=Status.PUBLISHED).first()
        if current is not None:
            raise PolicyError(
                _(
                    "Version %(number)s has been replaced by version %(current)s; please read "
                    "and acknowledge the current version."
                )
                % {"number": version.number, "current": current.number}
            )
        raise PolicyError(_("Version %(number)s is not published.") % {"number": version.number})
    assignment = (
        Assignment.objects.select_for_update()
        .filter(policy=version.policy, person=person, status=Assignment.Status.OPEN)
        .first()
    )
    if assignment is None:
        done = (
            Acknowledgement.objects.filter(
                person=person, version__policy=version.policy, version__major=version.major
            )
            .order_by("-sequence")
            .first()
        )
        if done is not None:
            raise PolicyError(
                _("You already acknowledged version %(number)s on %(day)s.")
                % {"number": done.version.number, "day": _day(done.acknowledged_at)}
            )
        declined = (
            Decline.objects.filter(person=person, version__policy=version.policy)
            .order_by("-at")
            .first()
        )
        if declined is not None and declined.version.major == version.major:
            raise PolicyError(
                _(
                    "You declined version %(number)s on %(day)s. The policy owner, %(owner)s, "
                    "has your reason and can reopen it from the compliance page."
                )
                % {
                    "number": declined.version.number,
                    "day": _day(declined.at),
                    "owner": version.policy.owner.get_full_name(),
                }
            )
        raise PolicyError(
            _("This policy is not assigned to you, so there is nothing to acknowledge.")
        )
    return assignment


def acknowledge(
    *,
    version: PolicyVersion,
    user,
    full_name: str,
    request_meta: dict | None = None,
    language: str | None = None,
    text_sha256: str | None = None,
    now: datetime | None = None,
) -> Acknowledgement:
    """The reader's own acknowledgement, in the browser, of the text they were shown:
    the version's own (`language` None or its language) or its translation into
    `language`. With `text_sha256`, that text must still be the one with this hash."""
    now = now or timezone.now()
    meta = request_meta or {}
    with transaction.atomic():
        version = locked_version(version)
        assignment = _check_can_acknowledge(version=version, person=user)
        language, shown_sha256 = text_shown(version=version, language=language)
        if text_sha256 is not None and text_sha256 != shown_sha256:
            raise PolicyError(
                _(
                    "The %(language)s text of version %(number)s is not the one your page "
                    "showed. Reload the page and read it again before you acknowledge it."
                )
                % {"language": language_name(language), "number": version.number}
            )
        if not _same_name(full_name, user):
            raise PolicyError(
                _("The name you typed does not match the name we have for you (%(name)s).")
                % {"name": user.get_full_name()}
            )
        quiz_score = None
        if version.questions.exists():
            attempt = version.quiz_attempts.filter(person=user).first()
            if attempt is None or not attempt.passed:
                raise PolicyError(
                    _("Pass the quiz first (at least %(mark)s%% of answers right).")
                    % {"mark": version.pass_mark}
                )
            quiz_score = attempt.score
        acknowledgement = append_to_chain(
            person=user,
            version=version,
            typed_name=" ".join(full_name.split()),
            ip_address=meta.get("ip_address"),
            user_agent=(meta.get("user_agent") or "")[:500],
            method=Acknowledgement.Method.WEB,
            quiz_score=quiz_score,
            language=language,
            text_sha256=shown_sha256,
            now=now,
        )
        _complete(assignment, Assignment.Status.ACKNOWLEDGED, acknowledgement.acknowledged_at)
    return acknowledgement


def text_shown(*, version: PolicyVersion, language: str | None) -> tuple[str, str]:
    """The language and SHA-256 of the text a reader of `version` in `language` sees:
    the version's own text, or its translation (which must exist)."""
    if language is None or language == version.language:
        return version.language, version.body_sha256 or sha256_text(version.body)
    translation = version.translations.filter(language=language).first()
    if translation is None:
        raise PolicyError(
            _(
                "Version %(number)s has no %(language)s translation (any more). Reload the "
                "page and read the text it shows before you acknowledge it."
            )
            % {"number": version.number, "language": language_name(language)}
        )
    return language, translation.text_sha256


def text_held(acknowledgement: Acknowledgement) -> tuple[str, str | None]:
    """The language of the text an acknowledgement was given for, and the SHA-256 of that
    text as PolicyHub holds it now (None if its translation is gone): for receipts and
    evidence, which compare it with the hash the record keeps."""
    version = acknowledgement.version
    language = acknowledgement.shown_language
    if language == version.language:
        return language, version.body_sha256 or sha256_text(version.body)
    translation = version.translations.filter(language=language).first()
    return language, translation.text_sha256 if translation else None


def acknowledge_on_behalf(
    *, version: PolicyVersion, person, by, reason: str, now: datetime | None = None
) -> Acknowledgement:
    """An administrator records an acknowledgement given another way (on paper, say)."""
    now = now or timezone.now()
    if not reason.strip():
        raise PolicyError(_("Say why you are acknowledging on someone's behalf."))
    if by.pk == person.pk:
        raise PolicyError(_("Acknowledge your own policies yourself."))
    with transaction.atomic():
        version = locked_version(version)
        assignment = _check_can_acknowledge(version=version, person=person)
        acknowledgement = append_to_chain(
            person=person,
            version=version,
            typed_name=person.get_full_name(),
            method=Acknowledgement.Method.ON_BEHALF,
            on_behalf_by=by,
            on_behalf_reason=reason.strip(),
            language=version.language,
            now=now,
        )
        _complete(assignment, Assignment.Status.ACKNOWLEDGED, acknowledgement.acknowledged_at)
    return acknowledgement


def decline(*, version: PolicyVersion, user, reason: str, now: datetime | None = None) -> Decline:
    """The reader declines, with a reason; the owner is told."""
    now = now or timezone.now()
    if not reason.strip():
        raise PolicyError(_("Tell the policy owner why you decline."))
    with transaction.atomic():
        version = locked_version(version)
        assignment = _check_can_acknowledge(version=version, person=user)
        declined = Decline.objects.create(
            person=user, version=version, reason=reason.strip(), at=now
        )
        _complete(assignment, Assignment.Status.DECLINED, declined.at)
        notify(
            kind="policy-declined",
            subject=declined,
            recipient=version.policy.owner,
            stage="declined",
            now=now,
        )
    return declined


def reopen_declined(*, assignment: Assignment, by, now: datetime | None = None) -> Assignment:
    """The owner (or a policy admin) has talked it through: the reader may acknowledge
    after all. Their decline stays on record."""
    now = now or timezone.now()
    if not (roles.is_policy_admin(by) or assignment.policy.owner_id == by.pk):
        raise PolicyError(_("Only the policy owner or a policy admin can reopen a decline."))
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if assignment.status != Assignment.Status.DECLINED:
            raise PolicyError(_("Only a declined assignment can be reopened."))
        if assignment.version.status != Status.PUBLISHED:
            raise PolicyError(_("That version is no longer the current one."))
        policy = assignment.policy
        assignment.status = Assignment.Status.OPEN
        assignment.completed_at = None
        assignment.due_date = timezone.localdate(now) + timedelta(
            days=policy.acknowledgement_window_days
        )
        assignment.save(update_fields=["status", "completed_at", "due_date"])
    return assignment


def _complete(assignment: Assignment, status: str, at: datetime) -> None:
    assignment.status = status
    assignment.completed_at = at
    assignment.save(update_fields=["status", "completed_at", "version"])
