"""Publishing an approved version, now or at a scheduled time: the version before it is
superseded, its translations are fixed with it, and its audience is asked to acknowledge
it (a material change) or keeps its acknowledgements (a minor one)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import webhooks
from policies.audience import audience_ids
from policies.models import (
    Assignment,
    Policy,
    PolicyError,
    PolicyVersion,
    sha256_text,
)
from policies.services.assignments import add_assignments, notify_published
from policies.services.workflow import Status, locked_version, record_note, transition


def publish(
    *, version: PolicyVersion, user, at: datetime | None = None, now: datetime | None = None
) -> PolicyVersion:
    """Publish an approved version now, or schedule it (beat publishes it when due)."""
    now = now or timezone.now()
    if at is not None and at > now:
        with transaction.atomic():
            version = locked_version(version)
            if version.status != Status.APPROVED:
                raise PolicyError(_("Only an approved version can be scheduled."))
            version.scheduled_for = at
            version.save(update_fields=["scheduled_for"])
            record_note(
                version=version,
                user=user,
                note=f"Scheduled for {timezone.localtime(at):%Y-%m-%d %H:%M}",
                now=now,
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
        version = locked_version(version)
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
            transition(
                version=previous,
                to=Status.SUPERSEDED,
                user=user,
                now=now,
                note=f"Replaced by {version.number}",
            )
            previous.save(update_fields=["status"])
        transition(version=version, to=Status.PUBLISHED, user=user, now=now, note=note)
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
            new = add_assignments(
                version=version, person_ids=audience_ids(policy), due_date=due, now=now
            )
            notify_published(new, now=now)
        else:
            # A minor change: acknowledgements stay valid; open ones move to this version.
            Assignment.objects.filter(policy=policy, status=Assignment.Status.OPEN).update(
                version=version
            )
    return version
