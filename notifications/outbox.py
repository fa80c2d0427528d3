"""What every outbox shares (reminders in `Notification`, outgoing webhooks in
`WebhookDelivery`, both `OutboxRow`s): claim due rows for one worker, finish the rows
it still holds, retry transient errors with exponential backoff, release the rows of
a worker that died.

Delivery guarantee: a row is claimed (status "sending", a claim token) before it is
sent and marked "sent" by one UPDATE right after the other side accepted it. The one
window in which a crash repeats a delivery is between that acceptance and the UPDATE
committing; a row left in "sending" by a dead worker is claimed again after
NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from notifications.models import OutboxRow

log = logging.getLogger(__name__)
Status = OutboxRow.Status

# A receiver asking to wait (HTTP 429 Retry-After) is obeyed up to this long.
LONGEST_ASKED_WAIT = timedelta(hours=1)


def release_stale_claims(model: type[OutboxRow], now: datetime) -> int:
    """Put back the rows a worker claimed and never finished (it died)."""
    cutoff = now - timedelta(seconds=settings.NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS)
    return model.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).update(
        status=Status.PLANNED, claim_token=None
    )


def claim(queryset: models.QuerySet, *, now: datetime, limit: int | None) -> uuid.UUID | None:
    """Take up to `limit` due rows of `queryset` for this worker alone; returns the claim
    token that marks them (read them with `claim_token=token, status="sending"`), or
    None when nothing was due.

    PostgreSQL: SKIP LOCKED lets concurrent workers take different rows. Everywhere:
    the UPDATE only moves rows still "planned", and the claim token says which
    rows this worker won. The claim time is the real time of this batch, so a long
    run never holds rows past the claim timeout unnoticed.
    """
    token = uuid.uuid4()
    claimed_at = max(now, timezone.now())
    model = queryset.model
    with transaction.atomic():
        ids = list(
            queryset.select_for_update(skip_locked=True)
            .filter(status=Status.PLANNED, send_after__lte=now)
            .order_by("send_after", "id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return None
        model.objects.filter(id__in=ids, status=Status.PLANNED).update(
            status=Status.SENDING,
            claim_token=token,
            claimed_at=claimed_at,
            attempts=F("attempts") + 1,
        )
    return token


def by(rows, key) -> dict:
    groups = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


def finish(rows: list[OutboxRow], **fields) -> int:
    """Update rows this worker still holds (the claim token guards against a reclaim).
    Returns how many it still held."""
    held = 0
    for token, group in by(rows, lambda row: row.claim_token).items():
        model = type(group[0])
        updated = model.objects.filter(
            pk__in=[row.pk for row in group], claim_token=token, status=Status.SENDING
        ).update(claim_token=None, **fields)
        held += updated
        if updated < len(group):
            log.warning(
                "Outbox rows %s (%s) were claimed again while this worker held them.",
                [row.pk for row in group],
                model._meta.label,
            )
    return held


def mark_sent(rows: list[OutboxRow], now: datetime, **fields) -> None:
    finish(rows, status=Status.SENT, sent_at=now, last_error="", **fields)


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after `attempts` tries: 1, 2, 4, 8... times the base."""
    return timedelta(seconds=settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))


def can_retry(rows: list[OutboxRow], *, transient: bool) -> bool:
    """Whether a failure of these rows is worth another try: transient, attempts left.
    Rows that move together (a digest) are timed by the most-tried row."""
    attempts = max(row.attempts for row in rows)
    return transient and attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS


def retry_later(
    rows: list[OutboxRow],
    *,
    message: str,
    now: datetime,
    wait_at_least: timedelta | None = None,
    **fields,
) -> None:
    """Back to "planned" after the backoff (or longer, when the receiver asked for it)."""
    delay = backoff(max(row.attempts for row in rows))
    if wait_at_least is not None:
        delay = max(delay, min(wait_at_least, LONGEST_ASKED_WAIT))
    finish(
        rows,
        status=Status.PLANNED,
        send_after=now + delay,
        last_error=message[:2000],
        **fields,
    )


def fail(rows: list[OutboxRow], message: str, **fields) -> None:
    """Failed for good: kept with its error, listed as failed, resent only by a person."""
    finish(rows, status=Status.FAILED, last_error=message[:2000], **fields)


def retry_or_fail(
    rows: list[OutboxRow],
    *,
    message: str,
    transient: bool,
    now: datetime,
    wait_at_least: timedelta | None = None,
    **fields,
) -> str:
    """Retry transient errors with exponential backoff up to the limit; else fail.
    Returns "retrying" or "failed"."""
    if can_retry(rows, transient=transient):
        retry_later(rows, message=message, now=now, wait_at_least=wait_at_least, **fields)
        return "retrying"
    fail(rows, message, **fields)
    return "failed"


def error_message(error: BaseException) -> str:
    return f"{error.__class__.__name__}: {error}"[:2000]
