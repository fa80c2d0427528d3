"""Planning: what is due goes into the outbox once, as a single reminder or a digest
line, with escalations to managers; events (`notify`, `notify_many`) go in at once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone, translation

from notifications import wakeup, webhooks
from notifications.errors import NotificationError
from notifications.models import Notification, OptOut, Preference
from notifications.registry import ReminderKind, all_kinds, get_kind
from notifications.scheduling import next_digest_time

log = logging.getLogger(__name__)


@dataclass
class PlanResult:
    planned: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.planned.values())


@dataclass(frozen=True)
class Person:
    time_zone: str
    manager_id: int | None
    delivery: str


FEW_RECIPIENTS = 500


def _active_people(ids: set[int] | None = None) -> dict[int, Person]:
    """Everyone who can receive mail (or those of `ids`), with what planning needs: one
    query."""
    people = get_user_model().objects.filter(is_active=True)
    if ids is not None:
        people = people.filter(pk__in=ids)
    rows = people.values_list("id", "time_zone", "manager_id", "notification_preference__delivery")
    return {
        pk: Person(tz, manager_id, delivery or Preference.Delivery.DIGEST)
        for pk, tz, manager_id, delivery in rows
    }


def delivery_times(*, kind: ReminderKind, person: Person, due_at: datetime, now: datetime):
    """(digest?, send_after) for a row: urgent ones and "immediate" people at once,
    the rest at the first digest time that is not already past."""
    if kind.urgent or person.delivery == Preference.Delivery.IMMEDIATE:
        return False, due_at
    return True, next_digest_time(max(due_at, now), person.time_zone)


def _new_row(
    *, kind, person, recipient_id, subject_type_id, subject_id, stage, due_at, now, **extra
):
    digest, send_after = delivery_times(kind=kind, person=person, due_at=due_at, now=now)
    return Notification(
        kind=kind.name,
        recipient_id=recipient_id,
        subject_type_id=subject_type_id,
        subject_id=subject_id,
        stage=stage,
        due_at=due_at,
        send_after=send_after,
        digest=digest,
        **extra,
    )


def plan_due(*, now: datetime | None = None) -> PlanResult:
    """Ask every registered kind what is due and insert the new rows in bulk.

    Rows that exist already (by the dedupe key) are skipped, so running this any
    number of times plans each reminder once.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    result = PlanResult()
    people = _active_people()
    subject_field = Notification._meta.get_field("subject")
    for kind in all_kinds():
        try:
            dues = list(kind.find_due(now=now))
        except Exception:  # one broken kind must not stop the others' reminders
            log.exception("Planning reminder kind %s failed", kind.name)
            continue
        if not dues:
            continue
        opted_out = (
            set()
            if kind.mandatory
            else set(OptOut.objects.filter(kind=kind.name).values_list("user_id", flat=True))
        )
        # Only rows with the stages in play can clash; that keeps this read small
        # however long the outbox's history grows.
        stages = {due.stage for due in dues} | {Notification.ESCALATION}
        existing = set(
            Notification.objects.filter(kind=kind.name, stage__in=stages).values_list(
                "subject_type_id", "subject_id", "recipient_id", "stage"
            )
        )
        rows, escalations = [], []
        for due in dues:
            person = people.get(due.recipient_id)
            if person is None or due.recipient_id in opted_out:
                continue
            type_id = ContentType.objects.get_for_model(due.subject).pk
            key = (type_id, due.subject.pk, due.recipient_id, due.stage)
            if key not in existing:
                existing.add(key)
                rows.append(
                    _new_row(
                        kind=kind,
                        person=person,
                        recipient_id=due.recipient_id,
                        subject_type_id=type_id,
                        subject_id=due.subject.pk,
                        stage=due.stage,
                        due_at=due.due_at or now,
                        now=now,
                        overdue_since=due.overdue_since,
                    )
                )
            manager_id = person.manager_id
            if (
                kind.escalate_after_days is not None
                and due.overdue_since is not None
                and (today - due.overdue_since).days >= kind.escalate_after_days
                and manager_id in people
            ):
                key = (type_id, due.subject.pk, manager_id, Notification.ESCALATION)
                if key not in existing:
                    existing.add(key)
                    escalation = _new_row(
                        kind=kind,
                        person=people[manager_id],
                        recipient_id=manager_id,
                        subject_type_id=type_id,
                        subject_id=due.subject.pk,
                        stage=Notification.ESCALATION,
                        due_at=now,
                        now=now,
                        about_person_id=due.recipient_id,
                        overdue_since=due.overdue_since,
                    )
                    subject_field.set_cached_value(escalation, due.subject)
                    rows.append(escalation)
                    escalations.append(escalation)
        with transaction.atomic():
            # ignore_conflicts: a planner running at the same time may insert the same keys.
            Notification.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
            if escalations:
                # Some escalations are also events for outgoing webhooks (deduplicated
                # there, so a concurrent planner's copy is delivered once). A webhook bug
                # must not cost the reminders: its savepoint alone is rolled back.
                try:
                    # Integrations read the site's language, not the planning worker's.
                    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
                        webhooks.emit_escalations(escalations, now=now)
                except Exception:
                    log.exception("Emitting the escalations of %s failed", kind.name)
            if any(not row.digest and row.send_after <= now for row in rows):
                transaction.on_commit(wakeup.send_reminders_soon)
        result.planned[kind.name] = len(rows)
    return result


def notify(
    *,
    kind: str,
    subject: models.Model,
    recipient,
    stage: str,
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> Notification | None:
    """Put an immediate event (a booking confirmed, an action assigned) in the outbox.

    Call it inside the transaction that makes the change: the row commits with it,
    and sending is enqueued only after the commit. `stage` tells events about the
    same thing apart ("changed-3" for a session's third change): a repeated
    (kind, subject, recipient, stage) is the same event and is not sent again.
    Returns None when the person has switched this optional kind off, or is inactive.
    """
    reminder_kind = get_kind(kind)
    if reminder_kind is None:
        raise NotificationError(f"There is no reminder kind called {kind!r}.")
    if not recipient.is_active:
        return None
    if not reminder_kind.mandatory and OptOut.objects.filter(user=recipient, kind=kind).exists():
        return None
    delivery = (
        Preference.objects.filter(user=recipient).values_list("delivery", flat=True).first()
        or Preference.Delivery.DIGEST
    )
    person = Person(recipient.time_zone, recipient.manager_id, delivery)
    now = now or timezone.now()
    due_at = due_at or now
    digest, send_after = delivery_times(kind=reminder_kind, person=person, due_at=due_at, now=now)
    with transaction.atomic():
        notification, created = Notification.objects.get_or_create(
            kind=kind,
            subject_type=ContentType.objects.get_for_model(subject),
            subject_id=subject.pk,
            recipient=recipient,
            stage=stage,
            defaults={"due_at": due_at, "send_after": send_after, "digest": digest},
        )
        if created and not digest:
            transaction.on_commit(wakeup.send_reminders_soon)
    return notification


def notify_many(
    *,
    kind: str,
    items: list[tuple[models.Model, int]],
    stage: str,
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """Bulk `notify`: one row per (subject, recipient id), in a bounded number of queries
    (publishing a policy to 10,000 people). Returns how many rows were new."""
    reminder_kind = get_kind(kind)
    if reminder_kind is None:
        raise NotificationError(f"There is no reminder kind called {kind!r}.")
    if not items:
        return 0
    now = now or timezone.now()
    # A few recipients (a nudge) are looked up by id; many (a policy published to the
    # whole company) in one pass over the directory, below any limit on query parameters.
    recipients = {recipient_id for _, recipient_id in items}
    few = recipients if len(recipients) <= FEW_RECIPIENTS else None
    people = _active_people(few)
    opt_outs = OptOut.objects.filter(kind=kind)
    if few is not None:
        opt_outs = opt_outs.filter(user_id__in=few)
    opted_out = (
        set() if reminder_kind.mandatory else set(opt_outs.values_list("user_id", flat=True))
    )
    type_id = ContentType.objects.get_for_model(items[0][0]).pk
    rows = [
        _new_row(
            kind=reminder_kind,
            person=people[recipient_id],
            recipient_id=recipient_id,
            subject_type_id=type_id,
            subject_id=subject.pk,
            stage=stage,
            due_at=due_at or now,
            now=now,
        )
        for subject, recipient_id in items
        if recipient_id in people and recipient_id not in opted_out
    ]
    planned = Notification.objects.filter(kind=kind, stage=stage)
    if few is not None:
        planned = planned.filter(recipient_id__in=few)
    with transaction.atomic():
        before = planned.count()
        Notification.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        created = planned.count() - before
        if any(not row.digest and row.send_after <= now for row in rows):
            transaction.on_commit(wakeup.send_reminders_soon)
    return created
