"""The reminder engine: plan rows into the outbox once, send each row once.

Delivery guarantee: a row is claimed (status "sending", a claim token) before it
is sent and marked "sent" by one UPDATE right after the mail server (or Slack, or
Teams) accepts it. The one window in which a crash repeats a reminder is between
that acceptance and the UPDATE committing; a row left in "sending" by a dead worker
is claimed again after NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS. The claim and retry
helpers are shared with the outgoing webhooks' outbox (notifications.outbox).

Channels: a row goes out by the channel its recipient prefers when it is sent,
email or chat (notifications.chat). A chat delivery that fails for good (refused,
or transient errors past the last attempt) is not lost: the row falls back to email,
once, with the chat error kept on the row and shown on the person's preferences
page. Reminders that carry a calendar invite always go by email, where calendars
read them.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.mail import get_connection
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications import chat, outbox
from notifications.emails import absolute_url, build_email, in_language_of, language_of
from notifications.http import DeliveryError
from notifications.models import Channel, Notification, OptOut, Preference
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
    by_chat: int = 0  # of those sent, how many went by Slack or Teams
    fell_back: int = 0  # chat failed for good: back in the outbox, to go by email


@dataclass(frozen=True)
class _Person:
    time_zone: str
    manager_id: int | None
    delivery: str


# --- planning -----------------------------------------------------------------


FEW_RECIPIENTS = 500


def _active_people(ids: set[int] | None = None) -> dict[int, _Person]:
    """Everyone who can receive mail (or those of `ids`), with what planning needs: one
    query."""
    people = get_user_model().objects.filter(is_active=True)
    if ids is not None:
        people = people.filter(pk__in=ids)
    rows = people.values_list("id", "time_zone", "manager_id", "notification_preference__delivery")
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
                from notifications import webhooks

                try:
                    # Integrations read the site's language, not the planning worker's.
                    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
                        webhooks.emit_escalations(escalations, now=now)
                except Exception:
                    log.exception("Emitting the escalations of %s failed", kind.name)
            if any(not row.digest and row.send_after <= now for row in rows):
                transaction.on_commit(enqueue_sending)
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
    person = _Person(recipient.time_zone, recipient.manager_id, delivery)
    now = now or timezone.now()
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
            transaction.on_commit(enqueue_sending)
    return created


_held = threading.local()


@contextmanager
def one_send_for_all() -> Iterator[None]:
    """Events inside ask a worker for no send each; one send is asked for at the end,
    and it sends everything due. For bulk work in one process (the demo's year of
    history), which would otherwise queue hundreds of sends ahead of everything else."""
    depth = getattr(_held, "depth", 0)
    _held.depth = depth + 1
    if not depth:
        _held.asked = False
    try:
        yield
    finally:
        _held.depth = depth
        if not depth and _held.asked:
            enqueue_sending()


def enqueue_sending() -> None:
    """Ask a worker to send what is due now. If the broker is unreachable the rows
    wait in the outbox for the next periodic send, so this never raises."""
    if getattr(_held, "depth", 0):
        _held.asked = True
        return
    from notifications.tasks import send_due_reminders

    try:
        send_due_reminders.apply_async(retry=False)
    except Exception:  # the broker being down must not undo or break the caller's change
        log.warning("Could not reach the broker; reminders go out on the next periodic run.")


# --- sending ------------------------------------------------------------------


def is_transient(error: BaseException) -> bool:
    """Worth retrying: the server or network may be fine later. Refusals (5xx) are not."""
    if isinstance(error, DeliveryError):  # Slack, Teams: timeouts, 429 and 5xx are
        return error.transient
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPConnectError | smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPException):
        return False
    return isinstance(error, OSError)  # connection refused, reset, timed out


def _claim(queryset, *, now: datetime, limit: int | None) -> list[Notification]:
    """Take up to `limit` due rows for this worker alone (see outbox.claim)."""
    token = outbox.claim(queryset, now=now, limit=limit)
    if token is None:
        return []
    return list(
        Notification.objects.filter(claim_token=token, status=Status.SENDING)
        .select_related("recipient", "about_person")
        .prefetch_related("subject")
        .order_by("id")
    )


def _cancel(rows: list[Notification], reason: str) -> None:
    outbox.finish(rows, status=Status.CANCELLED, cancelled_reason=reason)


def _fail(rows: list[Notification], error: str, result: SendResult) -> None:
    outbox.fail(rows, error)
    result.failed += len(rows)


def _record_failure(rows: list[Notification], error: BaseException, now: datetime) -> str:
    """Retry transient errors with exponential backoff up to the limit; else fail.
    A digest's rows move together, timed by the most-tried row."""
    message = outbox.error_message(error)
    outcome = outbox.retry_or_fail(rows, message=message, transient=is_transient(error), now=now)
    log.warning("Reminder mail %s (%s): %s", outcome, ", ".join(str(r.pk) for r in rows), message)
    return outcome


_by = outbox.by


def _drop_gone(rows: list[Notification], result: SendResult) -> list[Notification]:
    """Sort out claimed rows before sending: cancel those whose reason has gone (done,
    cancelled, the person left or switched the kind off), fail those out of attempts,
    and put back those of a kind this worker does not know (a deploy in progress)."""
    keep = []
    opted_out = set(
        OptOut.objects.filter(user_id__in={row.recipient_id for row in rows}).values_list(
            "user_id", "kind"
        )
    )
    for kind_name, group in _by(rows, lambda row: row.kind).items():
        kind = get_kind(kind_name)
        if kind is None:
            log.error("Unknown reminder kind %r: rows left for a worker that knows it.", kind_name)
            outbox.finish(group, status=Status.PLANNED, attempts=F("attempts") - 1)
            continue
        exhausted = [r for r in group if r.attempts > settings.NOTIFICATIONS_MAX_ATTEMPTS]
        if exhausted:
            _fail(exhausted, "Gave up: too many attempts.", result)
        gone = [
            row
            for row in group
            if row not in exhausted
            and (
                row.subject is None
                or not row.recipient.is_active
                or (row.about_person is not None and not row.about_person.is_active)
                or (not kind.mandatory and (row.recipient_id, kind_name) in opted_out)
            )
        ]
        candidates = [row for row in group if row not in exhausted and row not in gone]
        try:
            still = kind.still_due(candidates) if candidates else set()
        except Exception as error:  # a kind's bug fails its rows, not the whole run
            log.exception("still_due of %s failed", kind_name)
            _fail(candidates, f"Could not check the reminder: {error}", result)
            continue
        gone += [row for row in candidates if row.pk not in still]
        if gone:
            _cancel(gone, "Its reason has gone.")
            result.cancelled += len(gone)
        keep.extend(row for row in candidates if row.pk in still)
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
        log.exception("Could not render reminder mail %s", [row.pk for row in rows])
        _fail(rows, f"Could not render: {error}", result)
        return
    try:
        message.send()
    except Exception as error:
        outcome = _record_failure(rows, error, now)
        setattr(result, outcome, getattr(result, outcome) + len(rows))
        return
    # The only step after the server accepted the mail.
    outbox.mark_sent(rows, now, channel=Channel.EMAIL)
    result.sent += len(rows)


def _chat_targets(rows: list[Notification]) -> dict[int, chat.ChatTarget]:
    """Where the chat reminders of these rows' recipients go: one query, people on
    email left out. Rows already set to a channel (fallen back to email) need none."""
    ids = {row.recipient_id for row in rows if not row.channel}
    if not ids:
        return {}
    chosen = Preference.objects.filter(user_id__in=ids, channel__in=chat.CHAT_CHANNELS)
    return {
        user_id: chat.ChatTarget(channel, webhook_url, member_id)
        for user_id, channel, webhook_url, member_id in chosen.values_list(
            "user_id", "channel", "chat_webhook_url", "slack_member_id"
        )
    }


def _fall_back_to_email(rows: list[Notification], message: str, now: datetime, result):
    """Chat failed for good: the rows go back in the outbox to go by email now, once
    (their channel is set), with fresh attempts; the person's preferences page and
    the admin's outbox say why."""
    message = message[:2000]
    held = outbox.finish(
        rows,
        status=Status.PLANNED,
        channel=Channel.EMAIL,
        chat_error=message,
        last_error=message,
        send_after=now,
        attempts=0,
    )
    if held:
        Preference.objects.filter(user_id__in={row.recipient_id for row in rows}).update(
            chat_failed_at=now, chat_error=message
        )
    result.fell_back += len(rows)
    log.warning(
        "Chat reminders %s fall back to email: %s", ", ".join(str(r.pk) for r in rows), message
    )


def _send_chat(
    rows: list[Notification],
    target: chat.ChatTarget,
    template_prefix: str,
    context: dict,
    now: datetime,
    result: SendResult,
) -> bool:
    """Send rows as one chat message; True if it went."""
    try:
        text = chat.render(
            template_prefix, context, target.channel, language=language_of(rows[0].recipient)
        )
    except Exception as error:  # a chat template bug: the email templates may be fine
        log.exception("Could not render chat reminder %s", [row.pk for row in rows])
        _fall_back_to_email(
            rows, f"Could not render the {target.label} message: {error}", now, result
        )
        return False
    try:
        chat.deliver(target, text)
    except Exception as error:
        message = f"{target.label}: {error}"
        transient = is_transient(error)
        if outbox.can_retry(rows, transient=transient):
            outbox.retry_later(
                rows, message=message, now=now, wait_at_least=getattr(error, "retry_after", None)
            )
            result.retrying += len(rows)
            log.warning("Chat reminder retrying (%s): %s", [row.pk for row in rows], message)
        else:
            _fall_back_to_email(rows, message, now, result)
        return False
    outbox.mark_sent(rows, now, channel=target.channel)  # the only step after acceptance
    result.sent += len(rows)
    result.by_chat += len(rows)
    return True


def _send_one(
    row: Notification, connection, now: datetime, result: SendResult, targets: dict
) -> None:
    # Everything the message says (the kind's titles and context, the templates, dates)
    # is in the recipient's language, whatever language this worker or request is in.
    with in_language_of(row.recipient):
        _send_one_now(row, connection, now, result, targets)


def _send_one_now(
    row: Notification, connection, now: datetime, result: SendResult, targets: dict
) -> None:
    kind = get_kind(row.kind)
    escalation = row.stage == Notification.ESCALATION
    try:
        context = {
            **_item(row),
            "recipient": row.recipient,
            "subject": row.subject,
            **kind.context(row),
        }
        attachments = [] if escalation else kind.attachments(row)
    except Exception as error:  # a kind's bug: retrying will not help
        log.exception("Could not render reminder %s", row.pk)
        _fail([row], f"Could not render: {error}", result)
        return
    template_prefix = "emails/escalation" if escalation else kind.template_prefix
    target = None if row.channel else targets.get(row.recipient_id)
    if target is not None and not attachments:  # invites go where calendars read them
        _send_chat([row], target, template_prefix, context, now, result)
        return

    def build():
        return build_email(
            to=row.recipient.email,
            template_prefix=template_prefix,
            context=context,
            attachments=attachments,
            headers=_headers([row]),
            connection=connection,
            language=language_of(row.recipient),
        )

    _send([row], build, now, result)


def _digest_context(rows: list[Notification]) -> dict:
    return {
        "recipient": rows[0].recipient,
        "items": [_item(row) for row in rows if row.stage != Notification.ESCALATION],
        "escalations": [_item(row) for row in rows if row.stage == Notification.ESCALATION],
        "count": len(rows),
    }


def _send_digest(
    rows: list[Notification], connection, now: datetime, result: SendResult, targets: dict
):
    """One person's digest, in their language (see _send_one)."""
    with in_language_of(rows[0].recipient):
        _send_digest_now(rows, connection, now, result, targets)


def _send_digest_now(
    rows: list[Notification], connection, now: datetime, result: SendResult, targets: dict
):
    recipient = rows[0].recipient
    target = targets.get(recipient.pk)
    by_chat = [row for row in rows if target is not None and not row.channel]
    by_email = [row for row in rows if row not in by_chat]
    if by_chat:
        try:
            context = _digest_context(by_chat)
        except Exception as error:
            log.exception("Could not render the digest %s", [row.pk for row in by_chat])
            _fail(by_chat, f"Could not render: {error}", result)
        else:
            if _send_chat(by_chat, target, "emails/digest", context, now, result):
                result.digests += 1
    if not by_email:
        return

    def build():
        return build_email(
            to=recipient.email,
            template_prefix="emails/digest",
            context=_digest_context(by_email),
            headers=_headers(by_email),
            connection=connection,
            language=language_of(recipient),
        )

    before = result.sent
    _send(by_email, build, now, result)
    if result.sent > before:
        result.digests += 1


def send_due(*, now: datetime | None = None, max_batches: int = 50) -> SendResult:
    """Send what is due: single reminders first, then one digest per person whose digest
    time has come, each by email or chat as the person prefers. Safe to run in any
    number of workers at once.

    A run stops claiming after half the claim timeout, so that what it holds is
    always sent (or released) before another worker may take it over.
    """
    now = now or timezone.now()
    result = SendResult()
    outbox.release_stale_claims(Notification, now)
    limit = settings.NOTIFICATIONS_BATCH_SIZE
    deadline = time.monotonic() + settings.NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS / 2
    connection = get_connection()
    try:
        connection.open()  # one mail session for the run, not one per message
    except Exception:  # each send will fail and be retried; record it there
        log.warning("Could not open the mail connection; sends will be retried.")
    try:
        for _batch in range(max_batches):
            if time.monotonic() > deadline:
                return result
            rows = _claim(Notification.objects.filter(digest=False), now=now, limit=limit)
            if not rows:
                break
            kept = _drop_gone(rows, result)
            targets = _chat_targets(kept)
            for row in kept:
                _send_one(row, connection, now, result, targets)
        for _batch in range(max_batches):
            if time.monotonic() > deadline:
                return result
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
            kept = _drop_gone(rows, result)
            targets = _chat_targets(kept)
            for recipient_rows in _by(kept, lambda row: row.recipient_id).values():
                _send_digest(recipient_rows, connection, now, result, targets)
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection must not hide the result
            log.warning("Could not close the mail connection cleanly.")
    return result


# --- people's choices and admins' actions ---------------------------------------

_SWITCHED_OFF = "Switched off by the recipient."


def set_preferences(
    *,
    user,
    delivery: str,
    switched_off: set[str],
    channel: str | None = None,
    chat_webhook_url: str = "",
    slack_member_id: str = "",
    now: datetime | None = None,
) -> None:
    """Save how `user` gets non-urgent reminders and which optional kinds are off, and,
    when `channel` is given, whether reminders come by email or in Slack or Teams (with
    the webhook address or Slack member id chat needs; email keeps no chat settings).

    Planned rows follow at once: their digest or immediate timing is recomputed,
    and rows of kinds now switched off are cancelled. Rows not yet sent go by the
    channel chosen here. Saving chat settings clears the last chat failure shown.
    """
    chat_fields = {}
    if channel is not None:
        try:
            target = chat.clean_chat_settings(
                channel=channel, webhook_url=chat_webhook_url, slack_member_id=slack_member_id
            )
        except chat.ChatSettingsError as error:
            raise NotificationError(str(error)) from None
        chat_fields = {
            "channel": target.channel,
            "chat_webhook_url": target.webhook_url,
            "slack_member_id": target.slack_member_id,
            "chat_failed_at": None,
            "chat_error": "",
        }
    if delivery not in Preference.Delivery.values:
        raise NotificationError(_("Choose a digest or immediate delivery."))
    mandatory = {kind.name for kind in all_kinds() if kind.mandatory}
    if switched_off & mandatory:
        names = ", ".join(sorted(switched_off & mandatory))
        raise NotificationError(
            _("Mandatory reminders cannot be switched off (%(names)s).") % {"names": names}
        )
    unknown = switched_off - {kind.name for kind in all_kinds()}
    if unknown:
        raise NotificationError(
            _("Unknown reminders: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        Preference.objects.update_or_create(
            user=user, defaults={"delivery": delivery, **chat_fields}
        )
        switched_on = set(
            OptOut.objects.filter(user=user)
            .exclude(kind__in=switched_off)
            .values_list("kind", flat=True)
        )
        OptOut.objects.filter(user=user, kind__in=switched_on).delete()
        # Reminders cancelled only because the kind was off may be planned again.
        Notification.objects.filter(
            recipient=user,
            kind__in=switched_on,
            status=Status.CANCELLED,
            cancelled_reason=_SWITCHED_OFF,
        ).delete()
        OptOut.objects.bulk_create(
            [OptOut(user=user, kind=kind) for kind in switched_off], ignore_conflicts=True
        )
        planned = list(
            Notification.objects.select_for_update().filter(recipient=user, status=Status.PLANNED)
        )
        person = _Person(user.time_zone, user.manager_id, delivery)
        now = now or timezone.now()
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
            status=Status.CANCELLED, cancelled_reason=_SWITCHED_OFF
        )
        Notification.objects.bulk_update(to_update, ["digest", "send_after"], batch_size=500)
        if any(not row.digest for row in to_update):
            transaction.on_commit(enqueue_sending)


def resend(*, notification: Notification, now: datetime | None = None) -> None:
    """Put a failed row back in the outbox to be sent now, by the channel its recipient
    prefers now."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = Notification.objects.filter(pk=notification.pk, status=Status.FAILED).update(
            status=Status.PLANNED,
            send_after=now,
            attempts=0,
            last_error="",
            claim_token=None,
            channel="",
        )
        if not updated:
            raise NotificationError(_("Only a failed reminder can be sent again."))
        transaction.on_commit(enqueue_sending)
