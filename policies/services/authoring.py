"""Authoring: creating a policy and changing its settings, and writing its drafts (their
numbers follow the published versions: 2.0 for a material change, 2.1 for a minor one)."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from policies.models import Policy, PolicyError, PolicyVersion, VersionEvent, language_name
from policies.services.assignments import reconcile_assignments
from policies.services.translations import check_language
from policies.services.workflow import Status, locked_version, record_note, stamp_created

EDITED_NOTE = "Edited the text"


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
        stamp_created(policy, now)
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
        check_language(language)
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
        stamp_created(version, now)
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
        version = locked_version(version)
        if version.status != Status.DRAFT:
            raise PolicyError(
                _("Version %(number)s is %(status)s; only a draft can be edited.")
                % {"number": version.number, "status": version.get_status_display().lower()}
            )
        if language is not None and language != version.language:
            check_language(language)
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
            record_note(version=version, user=user, note=EDITED_NOTE, now=now)
    return version
