"""Translations of a version: added, edited and removed on a draft; added to the published
version, where each is fixed at once (readers acknowledge exactly that text)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from policies.models import (
    PolicyError,
    PolicyTranslation,
    PolicyVersion,
    language_codes,
    language_name,
    sha256_text,
)
from policies.services.workflow import Status, locked_version, record_note, stamp_created

# Where a translation may be added: a draft (editable until it is sent for review) and
# the published version (fixed at once: people may acknowledge it from then on). In review
# or approved, the reviewer's text is settled; a superseded or retired one is not read.
TRANSLATION_OPEN = (Status.DRAFT, Status.PUBLISHED)


def check_language(language: str) -> None:
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
        version = locked_version(version)
        check_language(language)
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
        stamp_created(translation, now, "created_at", "updated_at")
        record_note(
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
        locked_version(translation.version)
        translation = _locked_translation(translation)
        _check_translation_editable(translation)
        title, body = _translation_text(title=title, body=body)
        translation.title = title
        translation.body = body
        translation.change_summary = (change_summary or "").strip()
        translation.save()
        stamp_created(translation, now, "updated_at")
        record_note(
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
        locked_version(translation.version)
        translation = _locked_translation(translation)
        _check_translation_editable(translation)
        language = translation.language
        translation.delete()
        record_note(
            version=translation.version,
            user=user,
            note=f"Removed the translation into {language}",
            now=now,
        )
