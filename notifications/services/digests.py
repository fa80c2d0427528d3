"""A person's digest: all their due reminders (and escalations) in one message, in their
language, by chat and/or email."""

from __future__ import annotations

import logging
from datetime import datetime

from notifications.emails import build_email, in_language_of, language_of
from notifications.models import Notification
from notifications.services import delivery
from notifications.services.delivery import SendResult

log = logging.getLogger(__name__)


def _digest_context(rows: list[Notification]) -> dict:
    return {
        "recipient": rows[0].recipient,
        "items": [
            delivery.item_context(row) for row in rows if row.stage != Notification.ESCALATION
        ],
        "escalations": [
            delivery.item_context(row) for row in rows if row.stage == Notification.ESCALATION
        ],
        "count": len(rows),
    }


def send_digest(
    rows: list[Notification], connection, now: datetime, result: SendResult, targets: dict
):
    """One person's digest, in their language (see sending._send_one)."""
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
            delivery.fail(by_chat, f"Could not render: {error}", result)
        else:
            if delivery.send_chat(by_chat, target, "emails/digest", context, now, result):
                result.digests += 1
    if not by_email:
        return

    def build():
        return build_email(
            to=recipient.email,
            template_prefix="emails/digest",
            context=_digest_context(by_email),
            headers=delivery.mail_headers(by_email),
            connection=connection,
            language=language_of(recipient),
        )

    before = result.sent
    delivery.send_email(by_email, build, now, result)
    if result.sent > before:
        result.digests += 1
