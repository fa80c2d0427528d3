"""Everything that changes policies, versions, assignments and acknowledgements."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from notifications import webhooks
from people.audience import audience_people
from policies.models import (
    Acknowledgement,
    Assignment,
    ChainHead,
    Decline,
    Policy,
    PolicyError,
    PolicyTranslation,
    PolicyVersion,
    QuizAttempt,
    VersionEvent,
    language_codes,
    language_name,
    sha256_text,
)

Status = PolicyVersion.Status
GENESIS_HASH = "0" * 64
EDITED_NOTE = "Edited the text"

# The version workflow: from each status, where it may go next.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.DRAFT: (Status.IN_REVIEW,),
    Status.IN_REVIEW: (Status.APPROVED, Status.DRAFT),
    Status.APPROVED: (Status.PUBLISHED, Status.DRAFT),
    Status.PUBLISHED: (Status.SUPERSEDED, Status.RETIRED),
    Status.SUPERSEDED: (),
    Status.RETIRED: (),
}


def _transition(*, version: PolicyVersion, to: str, user, now: datetime, note: str = "") -> None:
    if to not in TRANSITIONS[version.status]:
        raise PolicyError(
            _("Version %(number)s is %(status)s; it cannot become %(to)s.")
            % {
                "number": version.number,
                "status": version.get_status_display().lower(),
                "to": Status(to).label.lower(),
            }
        )
    VersionEvent.objects.create(
        version=version,
        from_status=version.status,
        to_status=to,
        by=user,
        at=now,
        note=note,
    )
    version.status = to


def _day(moment: datetime) -> str:
    """A day in words, in the reader's language ("05 March 2026")."""
    return date_format(timezone.localtime(moment), "d F Y")


def _locked_version(version: PolicyVersion) -> PolicyVersion:
    return PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)


def _stamp_created(obj, now: datetime, *fields: str) -> None:
    """Saving sets auto_now(_add) fields from the wall clock; the row takes `now` instead
    (the service's clock, which the demo and tests pass)."""
    fields = fields or ("created_at",)
    type(obj).objects.filter(pk=obj.pk).update(**dict.fromkeys(fields, now))
    for name in fields:
        setattr(obj, name, now)


# --- policies and drafts --------------------------------------------------------


def create_policy(
    *,
    title: str,
    owner,
    category: str = Policy.Category.OTHER,
    audience: str = Policy.Audience.EVERYONE,
    departments=(),
    groups=(),
    acknowledgement_window_days: int = 14,
    reacknowledge_months: int | None = None,
    now: datetime | None = None,
) -> Policy:
    now = now or timezone.now()
    with transaction.atomic():
        policy = Policy.objects.create(
            title=title,
            slug=_free_slug(title),
            owner=owner,
            category=category,
            audience=audience,
            acknowledgement_window_days=acknowledgement_window_days,
            reacknowledge_months=reacknowledge_months,
        )
        _stamp_created(policy, now)
        policy.audience_departments.set(departments)
        policy.audience_groups.set(groups)
    return policy


# Words the policy pages use in their own addresses (/policies/manage/, ...).
_RESERVED_SLUGS = {"manage", "acknowledgements"}


def _free_slug(title: str) -> str:
    """A slug for the policy's address: from the title, never a reserved word, and
    numbered when another policy's title gives the same one ("A&B" and "A B")."""
    base = slugify(title)[:190] or "policy"
    taken = set(Policy.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 1
    while slug in taken or slug in _RESERVED_SLUGS:
        number += 1
        slug = f"{base}-{number}"
    return slug


def update_policy(
    *,
    policy: Policy,
    owner,
    category: str,
    audience: str,
    departments=(),
    groups=(),
    acknowledgement_window_days: int,
    reacknowledge_months: int | None,
    now: datetime | None = None,
) -> Policy:
    """Change the settings and audience; the published version's assignments follow."""
    with transaction.atomic():
        policy = Policy.objects.select_for_update().get(pk=policy.pk)
        policy.owner = owner
        policy.category = category
        policy.audience = audience
        policy.acknowledgement_window_days = acknowledgement_window_days
        policy.reacknowledge_months = reacknowledge_months
        policy.save()
        policy.audience_departments.set(
            departments if audience == Policy.Audience.DEPARTMENTS else []
        )
        policy.audience_groups.set(groups if audience == Policy.Audience.GROUPS else [])
        reconcile_assignments(policies=[policy], now=now)
    return policy


def _next_number(policy: Policy, change: str) -> tuple[int, int]:
    latest = policy.versions.exclude(status__in=[Status.DRAFT, Status.IN_REVIEW, Status.APPROVED])
    latest = latest.order_by("-major", "-minor").first()
    if latest is None:
        return 1, 0
    if change == PolicyVersion.Change.MINOR:
        return latest.major, latest.minor + 1
    return latest.major + 1, 0


def create_draft(
    *,
    policy: Policy,
    author,
    body: str,
    change_summary: str = "",
    change: str = PolicyVersion.Change.MATERIAL,
    effective_from: date | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> PolicyVersion:
    """A new draft; its number follows the published ones (2.0 material, 2.1 minor).
    Its text is in `language` (by default the language of the version before it, else
    the site's): the authoritative text."""
    now = now or timezone.now()
    with transaction.atomic():
        Policy.objects.select_for_update().get(pk=policy.pk)
        pending = policy.versions.filter(
            status__in=[Status.DRAFT, Status.IN_REVIEW, Status.APPROVED]
        ).first()
        if pending is not None:
            raise PolicyError(
                _(
                    "Version %(number)s is still %(status)s; finish or withdraw it before "
                    "starting another."
                )
                % {"number": pending.number, "status": pending.get_status_display().lower()}
            )
        latest = policy.versions.order_by("-major", "-minor").first()
        if latest is None:
            change = PolicyVersion.Change.MATERIAL
        if language is None:
            language = latest.language if latest else settings.LANGUAGE_CODE
        _check_language(language)
        major, minor = _next_number(policy, change)
        version = PolicyVersion.objects.create(
            policy=policy,
            major=major,
            minor=minor,
            body=body,
            language=language,
            change_summary=change_summary,
            change=change,
            effective_from=effective_from,
            author=author,
        )
        _stamp_created(version, now)
        VersionEvent.objects.create(
            version=version, to_status=Status.DRAFT, by=author, at=now, note="Drafted"
        )
    return version


def update_draft(
    *,
    version: PolicyVersion,
    user,
    body: str,
    change_summary: str,
    change: str,
    effective_from: date | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> PolicyVersion:
    now = now or timezone.now()
    with transaction.atomic():
        version = _locked_version(version)
        if version.status != Status.DRAFT:
            raise PolicyError(
                _("Version %(number)s is %(status)s; only a draft can be edited.")
                % {"number": version.number, "status": version.get_status_display().lower()}
            )
        if language is not None and language != version.language:
            _check_language(language)
            if version.translations.filter(language=language).exists():
                raise PolicyError(
                    _(
                        "This draft has a %(language)s translation: remove it before you "
                        "make %(language)s the language of the text."
                    )
                    % {"language": language_name(language)}
                )
            version.language = language
        if version.policy.versions.exclude(pk=version.pk).exists():
            version.major, version.minor = _next_number(version.policy, change)
        else:
            change = PolicyVersion.Change.MATERIAL
        version.body = body
        version.change_summary = change_summary
        version.change = change
        version.effective_from = effective_from
        version.save()
        if user.pk != version.author_id:
            # Whoever changes the text shares its authorship: they may not approve it.
            VersionEvent.objects.create(
                version=version,
                from_status=Status.DRAFT,
                to_status=Status.DRAFT,
                by=user,
                at=now,
                note=EDITED_NOTE,
            )
    return version


def submit_for_review(
    *, version: PolicyVersion, user, note: str = "", now: datetime | None = None
) -> PolicyVersion:
    now = now or timezone.now()
    with transaction.atomic():
        version = _locked_version(version)
        if not version.body.strip():
            raise PolicyError(_("An empty draft cannot be sent for review."))
        _transition(version=version, to=Status.IN_REVIEW, user=user, note=note, now=now)
        version.save(update_fields=["status"])
    return version


def return_to_draft(
    *, version: PolicyVersion, user, note: str = "", now: datetime | None = None
) -> PolicyVersion:
    now = now or timezone.now()
    with transaction.atomic():
        version = _locked_version(version)
        _transition(version=version, to=Status.DRAFT, user=user, note=note, now=now)
        version.approver, version.approved_at, version.scheduled_for = None, None, None
        version.save(update_fields=["status", "approver", "approved_at", "scheduled_for"])
    return version


def approve(
    *, version: PolicyVersion, user, note: str = "", now: datetime | None = None
) -> PolicyVersion:
    now = now or timezone.now()
    with transaction.atomic():
        version = _locked_version(version)
        if version.author_id == user.pk:
            raise PolicyError(
                _("You wrote this draft, so you cannot approve it: another policy admin must.")
            )
        # Editing the text or a translation of a draft someone else wrote is recorded
        # as a draft-to-draft event: sharing the authorship, they may not approve it.
        if version.events.filter(
            by=user, from_status=Status.DRAFT, to_status=Status.DRAFT
        ).exists():
            raise PolicyError(
                _("You edited this draft, so you cannot approve it: another policy admin must.")
            )
        _transition(version=version, to=Status.APPROVED, user=user, note=note, now=now)
        version.approver, version.approved_at = user, now
        version.save(update_fields=["status", "approver", "approved_at"])
    return version


def publish(
    *, version: PolicyVersion, user, at: datetime | None = None, now: datetime | None = None
) -> PolicyVersion:
    """Publish an approved version now, or schedule it (beat publishes it when due)."""
    now = now or timezone.now()
    if at is not None and at > now:
        with transaction.atomic():
            version = _locked_version(version)
            if version.status != Status.APPROVED:
                raise PolicyError(_("Only an approved version can be scheduled."))
            version.scheduled_for = at
            version.save(update_fields=["scheduled_for"])
            VersionEvent.objects.create(
                version=version,
                from_status=version.status,
                to_status=version.status,
                by=user,
                at=now,
                note=f"Scheduled for {timezone.localtime(at):%Y-%m-%d %H:%M}",
            )
        return version
    return _publish_now(version=version, user=user, now=now)


def publish_due_versions(*, now: datetime | None = None) -> int:
    """Beat: publish approved versions whose scheduled time has come."""
    now = now or timezone.now()
    due = PolicyVersion.objects.filter(status=Status.APPROVED, scheduled_for__lte=now)
    count = 0
    for version in due:
        try:
            _publish_now(version=version, user=None, now=now, note="Published as scheduled")
        except PolicyError:
            continue  # changed meanwhile; nothing to publish
        count += 1
    return count


def _publish_now(*, version: PolicyVersion, user, now: datetime, note: str = "") -> PolicyVersion:
    with transaction.atomic():
        Policy.objects.select_for_update().get(pk=version.policy_id)
        version = _locked_version(version)
        if version.status != Status.APPROVED:
            raise PolicyError(
                _("Version %(number)s is %(status)s; only an approved version can be published.")
                % {"number": version.number, "status": version.get_status_display().lower()}
            )
        previous = (
            PolicyVersion.objects.select_for_update()
            .filter(policy=version.policy, status=Status.PUBLISHED)
            .first()
        )
        if previous is not None:
            _transition(
                version=previous,
                to=Status.SUPERSEDED,
                user=user,
                now=now,
                note=f"Replaced by {version.number}",
            )
            previous.save(update_fields=["status"])
        _transition(version=version, to=Status.PUBLISHED, user=user, now=now, note=note)
        version.published_at = now
        version.scheduled_for = None
        version.effective_from = version.effective_from or timezone.localdate(now)
        version.body_sha256 = sha256_text(version.body)
        version.save()
        # Its translations are published with it: from now on they are fixed too.
        for translation in version.translations.select_for_update():
            translation.body_sha256 = sha256_text(translation.body)
            translation.save(update_fields=["body_sha256"])
        webhooks.emit(
            event=webhooks.POLICY_PUBLISHED,
            subject=version,
            data=webhooks.policy_version_data(version),
            now=now,
        )
        policy = version.policy
        if previous is None or version.change == PolicyVersion.Change.MATERIAL:
            # Everyone in the audience acknowledges this version: what was open closes.
            Assignment.objects.filter(policy=policy, status=Assignment.Status.OPEN).update(
                status=Assignment.Status.CLOSED, completed_at=now
            )
            due = version.effective_from + timedelta(days=policy.acknowledgement_window_days)
            new = _assign(version=version, person_ids=audience_ids(policy), due_date=due, now=now)
            _notify_published(new, now=now)
        else:
            # A minor change: acknowledgements stay valid; open ones move to this version.
            Assignment.objects.filter(policy=policy, status=Assignment.Status.OPEN).update(
                version=version
            )
    return version


def retire(
    *, version: PolicyVersion, user, note: str = "", now: datetime | None = None
) -> PolicyVersion:
    now = now or timezone.now()
    with transaction.atomic():
        version = _locked_version(version)
        _transition(version=version, to=Status.RETIRED, user=user, note=note, now=now)
        version.save(update_fields=["status"])
        Assignment.objects.filter(policy=version.policy, status=Assignment.Status.OPEN).update(
            status=Assignment.Status.CLOSED, completed_at=now
        )
    return version


# --- translations -----------------------------------------------------------------

# Where a translation may be added: a draft (editable until it is sent for review) and
# the published version (fixed at once: people may acknowledge it from then on). In review
# or approved, the reviewer's text is settled; a superseded or retired one is not read.
TRANSLATION_OPEN = (Status.DRAFT, Status.PUBLISHED)


def _check_language(language: str) -> None:
    if language not in language_codes():
        raise PolicyError(
            _("PolicyHub has no language “%(language)s”. Choose one of its languages.")
            % {"language": language}
        )


def _translation_text(*, title: str, body: str) -> tuple[str, str]:
    # The text is kept exactly as written (its hash is what readers acknowledge).
    title, body = " ".join((title or "").split()), body or ""
    if not title:
        raise PolicyError(_("Give the translation a title."))
    if not body.strip():
        raise PolicyError(_("The translation has no text. Write or paste it."))
    return title, body


def _translation_event(*, version: PolicyVersion, user, note: str, now: datetime) -> None:
    """A row in the version's audit trail (stored in English, like the others)."""
    VersionEvent.objects.create(
        version=version,
        from_status=version.status,
        to_status=version.status,
        by=user,
        at=now,
        note=note,
    )


def add_translation(
    *,
    version: PolicyVersion,
    user,
    language: str,
    title: str,
    body: str,
    change_summary: str = "",
    now: datetime | None = None,
) -> PolicyTranslation:
    """A translation of the version into another language than its own (one per
    language). Added to a published version, it is fixed at once."""
    now = now or timezone.now()
    with transaction.atomic():
        version = _locked_version(version)
        _check_language(language)
        if language == version.language:
            raise PolicyError(
                _(
                    "Version %(number)s is written in %(language)s: that text is the "
                    "authoritative one, not a translation."
                )
                % {"number": version.number, "language": language_name(language)}
            )
        if version.status not in TRANSLATION_OPEN:
            raise PolicyError(translation_closed_reason(version))
        if version.translations.filter(language=language).exists():
            raise PolicyError(
                _("Version %(number)s already has a %(language)s translation: edit it instead.")
                % {"number": version.number, "language": language_name(language)}
            )
        title, body = _translation_text(title=title, body=body)
        translation = PolicyTranslation(
            version=version,
            language=language,
            title=title,
            body=body,
            change_summary=(change_summary or "").strip(),
            created_by=user,
        )
        if version.is_locked:
            translation.body_sha256 = sha256_text(body)
        translation.save()
        _stamp_created(translation, now, "created_at", "updated_at")
        _translation_event(
            version=version, user=user, note=f"Added the translation into {language}", now=now
        )
    return translation


def translation_closed_reason(version: PolicyVersion) -> str:
    if version.status in (Status.IN_REVIEW, Status.APPROVED):
        return _(
            "Version %(number)s is %(status)s: its translations are settled. Return it to "
            "draft to change them."
        ) % {"number": version.number, "status": version.get_status_display().lower()}
    return _(
        "Version %(number)s is %(status)s: nobody reads it any more, so it takes no new "
        "translation."
    ) % {"number": version.number, "status": version.get_status_display().lower()}


def _locked_translation(translation: PolicyTranslation) -> PolicyTranslation:
    return (
        PolicyTranslation.objects.select_for_update()
        .select_related("version__policy")
        .get(pk=translation.pk)
    )


def _check_translation_editable(translation: PolicyTranslation) -> None:
    version = translation.version
    if translation.is_fixed or version.is_locked:
        raise PolicyError(
            _(
                "The %(language)s translation of version %(number)s is published and cannot "
                "be changed: people acknowledge it as it is. Write a new draft instead."
            )
            % {"language": language_name(translation.language), "number": version.number}
        )
    if version.status != Status.DRAFT:
        raise PolicyError(translation_closed_reason(version))


def update_translation(
    *,
    translation: PolicyTranslation,
    user,
    title: str,
    body: str,
    change_summary: str = "",
    now: datetime | None = None,
) -> PolicyTranslation:
    """Change a draft's translation (a published one is fixed)."""
    now = now or timezone.now()
    with transaction.atomic():
        _locked_version(translation.version)
        translation = _locked_translation(translation)
        _check_translation_editable(translation)
        title, body = _translation_text(title=title, body=body)
        translation.title = title
        translation.body = body
        translation.change_summary = (change_summary or "").strip()
        translation.save()
        _stamp_created(translation, now, "updated_at")
        _translation_event(
            version=translation.version,
            user=user,
            note=f"Edited the translation into {translation.language}",
            now=now,
        )
    return translation


def remove_translation(
    *, translation: PolicyTranslation, user, now: datetime | None = None
) -> None:
    """Take a translation off a draft (a published one stays: it may be acknowledged)."""
    now = now or timezone.now()
    with transaction.atomic():
        _locked_version(translation.version)
        translation = _locked_translation(translation)
        _check_translation_editable(translation)
        language = translation.language
        translation.delete()
        _translation_event(
            version=translation.version,
            user=user,
            note=f"Removed the translation into {language}",
            now=now,
        )


# --- audiences and assignments -------------------------------------------------


def audience_ids(policy: Policy) -> set[int]:
    """The active people a policy is for (departments include their sub-departments)."""
    people = audience_people(
        policy.audience,
        department_ids=policy.audience_departments.values_list("pk", flat=True),
        group_ids=policy.audience_groups.values_list("pk", flat=True),
    )
    return set(people.values_list("pk", flat=True))


def in_audience(policy: Policy, person) -> bool:
    return person.pk in audience_ids(policy) if person.is_active else False


def _assign(*, version, person_ids, due_date: date, now: datetime) -> list[Assignment]:
    already = set(Assignment.objects.filter(version=version).values_list("person_id", flat=True))
    new = [
        Assignment(
            person_id=pk,
            policy_id=version.policy_id,
            version=version,
            due_date=due_date,
            assigned_at=now,
        )
        for pk in sorted(set(person_ids) - already)
    ]
    Assignment.objects.bulk_create(new, batch_size=1000)
    return new


def _notify_published(assignments: list[Assignment], *, now: datetime) -> None:
    """Tell each newly assigned person (bulk; their digest unless they chose otherwise)."""
    from notifications.services import notify_many

    notify_many(
        kind="policy-published",
        items=[(a, a.person_id) for a in assignments],
        stage="published",
        now=now,
    )


def reconcile_assignments(*, policies=None, now: datetime | None = None) -> dict[str, int]:
    """Bring every published policy's assignments in line with its audience.

    Joiners (new, imported, moved or reactivated people) get an open assignment;
    leavers' open ones close; acknowledgements older than the re-acknowledgement
    period open again. A few queries per policy, whatever the number of people.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {"assigned": 0, "closed": 0, "reopened": 0}
    published = PolicyVersion.objects.filter(status=Status.PUBLISHED).select_related("policy")
    if policies is not None:
        published = published.filter(policy__in=policies)
    for version in published:
        with transaction.atomic():
            # The policy row is what publishing locks too: never both at once.
            policy = Policy.objects.select_for_update().get(pk=version.policy_id)
            version = PolicyVersion.objects.get(pk=version.pk)
            if version.status != Status.PUBLISHED:
                continue  # superseded or retired meanwhile
            audience = audience_ids(policy)
            # Everyone with an assignment in this version's line (same major number):
            # a minor version keeps its predecessors' acknowledgements.
            line = Assignment.objects.filter(policy=policy, version__major=version.major)
            assigned = set(
                line.exclude(status=Assignment.Status.CLOSED).values_list("person_id", flat=True)
            )
            joiners = audience - assigned
            due = max(today, version.effective_from or today) + timedelta(
                days=policy.acknowledgement_window_days
            )
            # People back in the audience (reactivated, moved back) had theirs closed when
            # they left: that assignment opens again (a second one would break the
            # one-per-person-and-version rule, so it is reused, not duplicated).
            returning = {
                person_id: pk
                for person_id, pk in line.filter(status=Assignment.Status.CLOSED)
                .order_by("completed_at", "pk")
                .values_list("person_id", "pk")
                if person_id in joiners
            }
            back = list(returning.values())
            for start in range(0, len(back), 500):
                counts["assigned"] += Assignment.objects.filter(
                    pk__in=back[start : start + 500]
                ).update(
                    status=Assignment.Status.OPEN,
                    version=version,
                    due_date=due,
                    assigned_at=now,
                    completed_at=None,
                )
            new = _assign(
                version=version, person_ids=joiners - returning.keys(), due_date=due, now=now
            )
            counts["assigned"] += len(new)
            _notify_published(new, now=now)
            leavers = [
                pk
                for pk in line.filter(status=Assignment.Status.OPEN).values_list(
                    "person_id", flat=True
                )
                if pk not in audience
            ]
            for start in range(0, len(leavers), 500):
                counts["closed"] += line.filter(
                    status=Assignment.Status.OPEN, person_id__in=leavers[start : start + 500]
                ).update(status=Assignment.Status.CLOSED, completed_at=now)
            if policy.reacknowledge_months:
                # Only people still in the audience are asked again: a leaver's
                # acknowledgement stays on record instead of becoming an open task.
                cutoff = now - timedelta(days=round(policy.reacknowledge_months * 30.44))
                expired = [
                    pk
                    for pk, person_id in line.filter(
                        status=Assignment.Status.ACKNOWLEDGED, completed_at__lte=cutoff
                    ).values_list("pk", "person_id")
                    if person_id in audience
                ]
                for start in range(0, len(expired), 500):
                    counts["reopened"] += Assignment.objects.filter(
                        pk__in=expired[start : start + 500]
                    ).update(
                        status=Assignment.Status.OPEN,
                        version=version,
                        due_date=today + timedelta(days=policy.acknowledgement_window_days),
                        assigned_at=now,
                        completed_at=None,
                    )
    return counts


# --- reading, quiz, acknowledging, declining -------------------------------------


def open_assignment(*, policy: Policy, person) -> Assignment | None:
    return Assignment.objects.filter(
        policy=policy, person=person, status=Assignment.Status.OPEN
    ).first()


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
        version = _locked_version(version)
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
        acknowledgement = _append(
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
        version = _locked_version(version)
        assignment = _check_can_acknowledge(version=version, person=person)
        acknowledgement = _append(
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
    from notifications.services import notify

    now = now or timezone.now()
    if not reason.strip():
        raise PolicyError(_("Tell the policy owner why you decline."))
    with transaction.atomic():
        version = _locked_version(version)
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
    from people import roles

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


# --- the chain ---------------------------------------------------------------------


def canonical_record(ack: Acknowledgement) -> str:
    """The fields an acknowledgement's hash covers, in one fixed text form.

    The language of the text shown is covered since translations came; records written
    before have none and keep the form they were hashed in, so they still verify."""
    fields = {
        "sequence": ack.sequence,
        "person": ack.person_id,
        "version": ack.version_id,
        "at": ack.acknowledged_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "typed_name": ack.typed_name,
        "ip": ack.ip_address or "",
        "user_agent": ack.user_agent,
        "text_sha256": ack.text_sha256,
        "method": ack.method,
        "on_behalf_by": ack.on_behalf_by_id,
        "on_behalf_reason": ack.on_behalf_reason,
        "quiz_score": ack.quiz_score,
        "previous_hash": ack.previous_hash,
    }
    if ack.language:
        fields["language"] = ack.language
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(ack: Acknowledgement) -> str:
    return sha256_text(ack.previous_hash + "\n" + canonical_record(ack))


def _append(
    *,
    person,
    version,
    typed_name,
    method,
    ip_address=None,
    user_agent="",
    on_behalf_by=None,
    on_behalf_reason="",
    quiz_score=None,
    language: str = "",
    text_sha256: str = "",
    now: datetime,
) -> Acknowledgement:
    """Add a record at the end of the chain. The head row is locked, so concurrent
    acknowledgements take turns; unique sequence and previous hash back that up."""
    # A migration creates the head; a flushed test database may lack it.
    ChainHead.objects.get_or_create(id=1, defaults={"sequence": 0, "last_hash": GENESIS_HASH})
    head = ChainHead.objects.select_for_update().get(id=1)
    # Hash the address in the form the database keeps (an IPv6 address is shortened and
    # lower-cased when saved); hashing the raw form would make the record look altered.
    ip_address = Acknowledgement._meta.get_field("ip_address").get_prep_value(ip_address or None)
    ack = Acknowledgement(
        sequence=head.sequence + 1,
        person=person,
        version=version,
        acknowledged_at=now,
        typed_name=typed_name,
        ip_address=ip_address,
        user_agent=user_agent,
        text_sha256=text_sha256 or version.body_sha256 or sha256_text(version.body),
        language=language or version.language,
        method=method,
        on_behalf_by=on_behalf_by,
        on_behalf_reason=on_behalf_reason,
        quiz_score=quiz_score,
        previous_hash=head.last_hash,
    )
    ack.record_hash = record_hash(ack)
    ack.save()
    head.sequence, head.last_hash = ack.sequence, ack.record_hash
    head.save(update_fields=["sequence", "last_hash"])
    return ack


@dataclass
class ChainVerdict:
    ok: bool
    checked: int
    message: str
    first_broken: int | None = None  # sequence number


def verify_chain() -> ChainVerdict:
    """Walk the chain from the start: every record must hash to its stored hash, point
    to its predecessor's, and follow it without a gap; the head must match the end."""
    expected_previous, expected_sequence, checked = GENESIS_HASH, 1, 0
    rows = Acknowledgement.objects.order_by("sequence").iterator(chunk_size=2000)
    for ack in rows:
        if ack.sequence != expected_sequence:
            return ChainVerdict(
                False,
                checked,
                f"Record #{expected_sequence} is missing (the next one is #{ack.sequence}).",
                expected_sequence,
            )
        if ack.previous_hash != expected_previous:
            return ChainVerdict(
                False,
                checked,
                f"Record #{ack.sequence} does not follow record #{ack.sequence - 1}.",
                ack.sequence,
            )
        if record_hash(ack) != ack.record_hash:
            return ChainVerdict(
                False,
                checked,
                f"Record #{ack.sequence} was altered after it was written.",
                ack.sequence,
            )
        expected_previous, expected_sequence = ack.record_hash, expected_sequence + 1
        checked += 1
    head = ChainHead.objects.filter(id=1).first()
    head_sequence, head_hash = (head.sequence, head.last_hash) if head else (0, GENESIS_HASH)
    if head_sequence > checked:
        return ChainVerdict(
            False,
            checked,
            f"Record #{checked + 1} is missing: the chain ends at #{checked} but "
            f"{head_sequence} were written.",
            checked + 1,
        )
    if head_sequence < checked:
        # Well chained, but appended without moving the head: not by _append.
        return ChainVerdict(
            False,
            head_sequence,
            f"Record #{head_sequence + 1} was not written by PolicyHub: the chain's end "
            f"says {head_sequence} were written, but there are {checked}.",
            head_sequence + 1,
        )
    if checked and head_hash != expected_previous:
        # Nothing follows the last record to catch a rewrite with a fresh hash; the head does.
        return ChainVerdict(
            False,
            checked - 1,
            f"Record #{checked} was altered after it was written (it no longer matches the "
            "end of the chain).",
            checked,
        )
    return ChainVerdict(True, checked, f"All {checked} acknowledgements are intact.")


def reminder_days() -> tuple[int, int]:
    return settings.POLICY_DUE_SOON_DAYS, settings.POLICY_ESCALATE_AFTER_DAYS
