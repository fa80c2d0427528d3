"""The version workflow: from draft to review, approval and retirement, each step a row
in the version's history. `TRANSITIONS` says where each status may go next; publishing
is in `publishing`. Also the helpers every policy service shares (the version's lock,
auto-set times taken from the caller's clock)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from policies.models import Assignment, PolicyError, PolicyVersion, VersionEvent

Status = PolicyVersion.Status

# The version workflow: from each status, where it may go next.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.DRAFT: (Status.IN_REVIEW,),
    Status.IN_REVIEW: (Status.APPROVED, Status.DRAFT),
    Status.APPROVED: (Status.PUBLISHED, Status.DRAFT),
    Status.PUBLISHED: (Status.SUPERSEDED, Status.RETIRED),
    Status.SUPERSEDED: (),
    Status.RETIRED: (),
}


def transition(*, version: PolicyVersion, to: str, user, now: datetime, note: str = "") -> None:
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


def record_note(*, version: PolicyVersion, user, note: str, now: datetime) -> None:
    """A row in the version's history that changes no status (an edit, a translation, a
    schedule), stored in English like the others."""
    VersionEvent.objects.create(
        version=version,
        from_status=version.status,
        to_status=version.status,
        by=user,
        at=now,
        note=note,
    )


def locked_version(version: PolicyVersion) -> PolicyVersion:
    return PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)


def stamp_created(obj, now: datetime, *fields: str) -> None:
    """Saving sets auto_now(_add) fields from the wall clock; the row takes `now` instead
    (the service's clock, which the demo and tests pass)."""
    fields = fields or ("created_at",)
    type(obj).objects.filter(pk=obj.pk).update(**dict.fromkeys(fields, now))
    for name in fields:
        setattr(obj, name, now)


def submit_for_review(
    *, version: PolicyVersion, user, note: str = "", now: datetime | None = None
) -> PolicyVersion:
    now = now or timezone.now()
    with transaction.atomic():
        version = locked_version(version)
        if not version.body.strip():
            raise PolicyError(_("An empty draft cannot be sent for review."))
        transition(version=version, to=Status.IN_REVIEW, user=user, note=note, now=now)
        version.save(update_fields=["status"])
    return version


def return_to_draft(
    *, version: PolicyVersion, user, note: str = "", now: datetime | None = None
) -> PolicyVersion:
    now = now or timezone.now()
    with transaction.atomic():
        version = locked_version(version)
        transition(version=version, to=Status.DRAFT, user=user, note=note, now=now)
        version.approver, version.approved_at, version.scheduled_for = None, None, None
        version.save(update_fields=["status", "approver", "approved_at", "scheduled_for"])
    return version


def approve(
    *, version: PolicyVersion, user, note: str = "", now: datetime | None = None
) -> PolicyVersion:
    now = now or timezone.now()
    with transaction.atomic():
        version = locked_version(version)
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
        transition(version=version, to=Status.APPROVED, user=user, note=note, now=now)
        version.approver, version.approved_at = user, now
        version.save(update_fields=["status", "approver", "approved_at"])
    return version


def retire(
    *, version: PolicyVersion, user, note: str = "", now: datetime | None = None
) -> PolicyVersion:
    now = now or timezone.now()
    with transaction.atomic():
        version = locked_version(version)
        transition(version=version, to=Status.RETIRED, user=user, note=note, now=now)
        version.save(update_fields=["status"])
        Assignment.objects.filter(policy=version.policy, status=Assignment.Status.OPEN).update(
            status=Assignment.Status.CLOSED, completed_at=now
        )
    return version
