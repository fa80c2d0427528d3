"""The outbox run: claim what is due, drop what is no longer due, send single reminders
and digests, each exactly once however many workers run."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import F
from django.utils import timezone

from notifications import outbox
from notifications.emails import build_email, in_language_of, language_of
from notifications.models import Notification, OptOut
from notifications.registry import get_kind
from notifications.services import delivery
from notifications.services.delivery import SendResult
from notifications.services.digests import send_digest

log = logging.getLogger(__name__)
Status = Notification.Status


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
            delivery.fail(exhausted, "Gave up: too many attempts.", result)
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
            delivery.fail(candidates, f"Could not check the reminder: {error}", result)
            continue
        gone += [row for row in candidates if row.pk not in still]
        if gone:
            _cancel(gone, "Its reason has gone.")
            result.cancelled += len(gone)
        keep.extend(row for row in candidates if row.pk in still)
    return keep


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
            **delivery.item_context(row),
            "recipient": row.recipient,
            "subject": row.subject,
            **kind.context(row),
        }
        attachments = [] if escalation else kind.attachments(row)
    except Exception as error:  # a kind's bug: retrying will not help
        log.exception("Could not render reminder %s", row.pk)
        delivery.fail([row], f"Could not render: {error}", result)
        return
    template_prefix = "emails/escalation" if escalation else kind.template_prefix
    target = None if row.channel else targets.get(row.recipient_id)
    if target is not None and not attachments:  # invites go where calendars read them
        delivery.send_chat([row], target, template_prefix, context, now, result)
        return

    def build():
        return build_email(
            to=row.recipient.email,
            template_prefix=template_prefix,
            context=context,
            attachments=attachments,
            headers=delivery.mail_headers([row]),
            connection=connection,
            language=language_of(row.recipient),
        )

    delivery.send_email([row], build, now, result)


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
            targets = delivery.chat_targets(kept)
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
            targets = delivery.chat_targets(kept)
            for recipient_rows in _by(kept, lambda row: row.recipient_id).values():
                send_digest(recipient_rows, connection, now, result, targets)
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection must not hide the result
            log.warning("Could not close the mail connection cleanly.")
    return result
