"""The reminder engine: plan rows into the outbox once, send each row once.

Delivery guarantee: a row is claimed (status "sending", a claim token) before it
is sent and marked "sent" by one UPDATE right after the mail server accepts it.
The one window in which a crash repeats a mail is between the server accepting
the message and that UPDATE committing; a row left in "sending" by a dead worker
is claimed again after NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.mail import get_connection
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from notifications.emails import absolute_url, build_email
from notifications.models import Notification, OptOut, Preference
from notifications.registry import ReminderKind, all_kinds, get_kind
from notifications.scheduling import next_digest_time

log = logging.getLogger(__name__)
Status = Notification.Status


class NotificationError(Exception):
    """A reminder request that cannot be carried out; the message is for people."""


@dataclass
class PlanResult:
    planned: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.planned.values())


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    digests: int = 0


@dataclass(frozen=True)
class _Person:
    time_zone: str
    manager_id: int | None
    delivery: str


# --- planning -----------------------------------------------------------------


def _active_people() -> dict[int, _Person]:
    """Everyone who can receive mail, with what planning needs: one query."""
    rows = (
        get_user_model()
        .objects.filter(is_active=True)
        .values_list("id", "time_zone", "manager_id", "notification_preference__delivery")
    )
    return {
        pk: _Person(tz, manager_id, delivery or Preference.Delivery.DIGEST)
        for pk, tz, manager_id, delivery in rows
    }


def _delivery_times(*, kind: ReminderKind, person: _Person, due_at: datetime, now: datetime):
    """(digest?, send_after) for a row: urgent ones and "immediate" people at once,
    the rest at the first digest time that is not already past."""
    if kind.urgent or person.delivery == Preference.Delivery.IMMEDIATE:
        return False, due_at
    return True, next_digest_time(max(due_at, now), person.time_zone)


def _new_row(
    *, kind, person, recipient_id, subject_type_id, subject_id, stage, due_at, now, **extra
):
    digest, send_after = _delivery_times(kind=kind, person=person, due_at=due_at, now=now)
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
    for kind in all_kinds():
        dues = list(kind.find_due(now=now))
        if not dues:
            continue
        opted_out = (
            set()
            if kind.mandatory
            else set(OptOut.objects.filter(kind=kind.name).values_list("user_id", flat=True))
        )
        existing = set(
            Notification.objects.filter(kind=kind.name).values_list(
                "subject_type_id", "subject_id", "recipient_id", "stage"
            )
        )
        rows = []
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
                    rows.append(
                        _new_row(
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
                    )
        with transaction.atomic():
            # ignore_conflicts: a planner running at the same time may insert the same keys.
            Notification.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
            if any(not row.digest and row.send_after <= now for row in rows):
                transaction.on_commit(enqueue_sending)
        result.planned[kind.name] = len(rows)
    return result


def notify(
    *,
    kind: str,
    subject: models.Model,
    recipient,
    stage: str = "event",
    due_at: datetime | None = None,
) -> Notification | None:
    """Put an immediate event (a booking confirmed, an action assigned) in the outbox.

    Call it inside the transaction that makes the change: the row commits with it,
    and sending is enqueued only after the commit. Returns None when the person
    has switched this optional kind off, or is inactive.
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
    person = _Person(recipient.time_zone, recipient.manager_id, delivery)
    now = timezone.now()
    due_at = due_at or now
    digest, send_after = _delivery_times(kind=reminder_kind, person=person, due_at=due_at, now=now)
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
            transaction.on_commit(enqueue_sending)
    return notification


def notify_many(*, kind: str, items: list[tuple[models.Model, int]], stage: str = "event") -> int:
    """Bulk `notify`: one row per (subject, recipient id), in a bounded number of queries
    (publishing a policy to 10,000 people). Returns how many rows were new."""
    reminder_kind = get_kind(kind)
    if reminder_kind is None:
        raise NotificationError(f"There is no reminder kind called {kind!r}.")
    if not items:
        return 0
    now = timezone.now()
    people = _active_people()
    opted_out = (
        set()
        if reminder_kind.mandatory
        else set(OptOut.objects.filter(kind=kind).values_list("user_id", flat=True))
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
            due_at=now,
            now=now,
        )
        for subject, recipient_id in items
        if recipient_id in people and recipient_id not in opted_out
    ]
    with transaction.atomic():
        before = Notification.objects.filter(kind=kind, stage=stage).count()
        Notification.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        created = Notification.objects.filter(kind=kind, stage=stage).count() - before
        if any(not row.digest for row in rows):
            transaction.on_commit(enqueue_sending)
    return created


def enqueue_sending() -> None:
    """Ask a worker to send what is due now. If the broker is unreachable the rows
    wait in the outbox for the next periodic send, so this never raises."""
    from notifications.tasks import send_due_reminders

    try:
        send_due_reminders.apply_async(retry=False)
    except Exception:  # the broker being down must not undo or break the caller's change
        log.warning("Could not reach the broker; reminders go out on the next periodic run.")


# --- sending ------------------------------------------------------------------


def is_transient(error: BaseException) -> bool:
    """Worth retrying: the server or network may be fine later. Refusals (5xx) are not."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPConnectError | smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPException):
        return False
    return isinstance(error, OSError)  # connection refused, reset, timed out


def _release_stale_claims(now: datetime) -> int:
    cutoff = now - timedelta(seconds=settings.NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS)
    return Notification.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).update(
        status=Status.PLANNED, claim_token=None
    )


def _claim(queryset, *, now: datetime, limit: int | None) -> list[Notification]:
    """Take up to `limit` due rows for this worker alone.

    PostgreSQL: SKIP LOCKED lets concurrent workers take different rows. Everywhere:
    the UPDATE only moves rows still "planned", and the claim token says which
    rows this worker won.
    """
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            queryset.select_for_update(skip_locked=True)
            .filter(status=Status.PLANNED, send_after__lte=now)
            .order_by("send_after", "id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        Notification.objects.filter(id__in=ids, status=Status.PLANNED).update(
            status=Status.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1
        )
    return list(
        Notification.objects.filter(claim_token=token, status=Status.SENDING)
        .select_related("recipient", "about_person")
        .prefetch_related("subject")
        .order_by("id")
    )


def _finish(rows: list[Notification], **fields) -> None:
    """Update rows this worker still holds (the claim token guards against a reclaim)."""
    for token, group in _by(rows, lambda row: row.claim_token).items():
        Notification.objects.filter(
            pk__in=[row.pk for row in group], claim_token=token, status=Status.SENDING
        ).update(claim_token=None, **fields)


def _mark_sent(rows: list[Notification], now: datetime) -> None:
    _finish(rows, status=Status.SENT, sent_at=now, last_error="")


def _cancel(rows: list[Notification], reason: str) -> None:
    _finish(rows, status=Status.CANCELLED, cancelled_reason=reason)


def _record_failure(rows: list[Notification], error: BaseException, now: datetime) -> str:
    """Retry transient errors with exponential backoff up to the limit; else fail."""
    message = f"{error.__class__.__name__}: {error}"[:2000]
    transient = is_transient(error)
    outcome = "failed"
    for row in rows:
        if transient and row.attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS:
            delay = settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** (row.attempts - 1)
            _finish(
                [row],
                status=Status.PLANNED,
                send_after=now + timedelta(seconds=delay),
                last_error=message,
            )
            outcome = "retrying"
        else:
            _finish([row], status=Status.FAILED, last_error=message)
    log.warning("Reminder mail %s (%s): %s", outcome, ", ".join(str(r.pk) for r in rows), message)
    return outcome


def _by(rows, key) -> dict:
    groups = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


def _drop_gone(rows: list[Notification], result: SendResult) -> list[Notification]:
    """Cancel rows whose reason has gone (acknowledged, cancelled, done); keep the rest."""
    keep = []
    for kind_name, group in _by(rows, lambda row: row.kind).items():
        kind = get_kind(kind_name)
        if kind is None:
            _finish(group, status=Status.FAILED, last_error=f"Unknown reminder kind {kind_name!r}.")
            result.failed += len(group)
            continue
        still = kind.still_due(group)
        gone = [row for row in group if row.pk not in still]
        if gone:
            _cancel(gone, "Its reason has gone.")
            result.cancelled += len(gone)
        keep.extend(row for row in group if row.pk in still)
    return keep


def _item(row: Notification) -> dict:
    kind = get_kind(row.kind)
    return {
        "notification": row,
        "kind": kind,
        "label": kind.label,
        "title": kind.title(row),
        "url": absolute_url(kind.url(row)),
        "person": row.about_person,
        "overdue_since": row.overdue_since,
    }


def _headers(rows: list[Notification]) -> dict[str, str]:
    return {"X-PolicyHub-Notification": ",".join(str(row.pk) for row in rows)}


def _send(rows: list[Notification], build, now: datetime, result: SendResult) -> None:
    try:
        message = build()
    except Exception as error:  # a template or context bug: retrying will not help
        _finish(rows, status=Status.FAILED, last_error=f"Could not render: {error}"[:2000])
        result.failed += len(rows)
        log.exception("Could not render reminder mail %s", [row.pk for row in rows])
        return
    try:
        message.send()
    except Exception as error:
        outcome = _record_failure(rows, error, now)
        setattr(result, outcome, getattr(result, outcome) + len(rows))
        return
    _mark_sent(rows, now)  # the only step after the server accepted the mail
    result.sent += len(rows)


def _send_one(row: Notification, connection, now: datetime, result: SendResult) -> None:
    kind = get_kind(row.kind)
    item = _item(row)
    if row.stage == Notification.ESCALATION:
        prefix, attachments = "emails/escalation", []
    else:
        prefix, attachments = kind.template_prefix, None

    def build():
        context = {
            **item,
            "recipient": row.recipient,
            "subject": row.subject,
            **kind.context(row),
        }
        return build_email(
            to=row.recipient.email,
            template_prefix=prefix,
            context=context,
            attachments=kind.attachments(row) if attachments is None else attachments,
            headers=_headers([row]),
            connection=connection,
        )

    _send([row], build, now, result)


def _send_digest(rows: list[Notification], connection, now: datetime, result: SendResult):
    recipient = rows[0].recipient

    def build():
        items = [_item(row) for row in rows if row.stage != Notification.ESCALATION]
        escalations = [_item(row) for row in rows if row.stage == Notification.ESCALATION]
        return build_email(
            to=recipient.email,
            template_prefix="emails/digest",
            context={
                "recipient": recipient,
                "items": items,
                "escalations": escalations,
                "count": len(rows),
            },
            headers=_headers(rows),
            connection=connection,
        )

    before = result.sent
    _send(rows, build, now, result)
    if result.sent > before:
        result.digests += 1


def send_due(*, now: datetime | None = None, max_batches: int = 50) -> SendResult:
    """Send what is due: single mails first, then one digest per person whose digest
    time has come. Safe to run in any number of workers at once."""
    now = now or timezone.now()
    result = SendResult()
    _release_stale_claims(now)
    limit = settings.NOTIFICATIONS_BATCH_SIZE
    connection = get_connection()
    for _ in range(max_batches):
        rows = _claim(Notification.objects.filter(digest=False), now=now, limit=limit)
        if not rows:
            break
        for row in _drop_gone(rows, result):
            _send_one(row, connection, now, result)
    for _ in range(max_batches):
        # A batch of people whose digest time has come; each gets all their due rows.
        recipient_ids = list(
            Notification.objects.filter(status=Status.PLANNED, digest=True, send_after__lte=now)
            .order_by("recipient_id")
            .values_list("recipient_id", flat=True)
            .distinct()[:limit]
        )
        if not recipient_ids:
            break
        rows = _claim(
            Notification.objects.filter(digest=True, recipient_id__in=recipient_ids),
            now=now,
            limit=None,
        )
        if not rows:
            break  # another worker took them
        for recipient_rows in _by(_drop_gone(rows, result), lambda r: r.recipient_id).values():
            _send_digest(recipient_rows, connection, now, result)
    return result


# --- people's choices and admins' actions ---------------------------------------


def set_preferences(*, user, delivery: str, switched_off: set[str]) -> None:
    """Save how `user` gets non-urgent reminders and which optional kinds are off.

    Planned rows follow at once: their digest or immediate timing is recomputed,
    and rows of kinds now switched off are cancelled.
    """
    if delivery not in Preference.Delivery.values:
        raise NotificationError("Choose a digest or immediate delivery.")
    mandatory = {kind.name for kind in all_kinds() if kind.mandatory}
    if switched_off & mandatory:
        names = ", ".join(sorted(switched_off & mandatory))
        raise NotificationError(f"Mandatory reminders cannot be switched off ({names}).")
    unknown = switched_off - {kind.name for kind in all_kinds()}
    if unknown:
        raise NotificationError(f"Unknown reminders: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        Preference.objects.update_or_create(user=user, defaults={"delivery": delivery})
        OptOut.objects.filter(user=user).exclude(kind__in=switched_off).delete()
        OptOut.objects.bulk_create(
            [OptOut(user=user, kind=kind) for kind in switched_off], ignore_conflicts=True
        )
        planned = list(
            Notification.objects.select_for_update().filter(recipient=user, status=Status.PLANNED)
        )
        person = _Person(user.time_zone, user.manager_id, delivery)
        now = timezone.now()
        to_cancel, to_update = [], []
        for row in planned:
            kind = get_kind(row.kind)
            if kind is None:
                continue
            if row.kind in switched_off:
                to_cancel.append(row.pk)
                continue
            if row.attempts:
                continue  # keep a retry's backoff
            row.digest, row.send_after = _delivery_times(
                kind=kind, person=person, due_at=row.due_at, now=now
            )
            to_update.append(row)
        Notification.objects.filter(pk__in=to_cancel).update(
            status=Status.CANCELLED, cancelled_reason="Switched off by the recipient."
        )
        Notification.objects.bulk_update(to_update, ["digest", "send_after"], batch_size=500)
        if any(not row.digest for row in to_update):
            transaction.on_commit(enqueue_sending)


def resend(*, notification: Notification) -> None:
    """Put a failed row back in the outbox to be sent now."""
    with transaction.atomic():
        updated = Notification.objects.filter(pk=notification.pk, status=Status.FAILED).update(
            status=Status.PLANNED,
            send_after=timezone.now(),
            attempts=0,
            last_error="",
            claim_token=None,
        )
        if not updated:
            raise NotificationError("Only a failed reminder can be sent again.")
        transaction.on_commit(enqueue_sending)
