"""One message out: by email, or by Slack or Teams for people who chose chat, with
retries for transient errors and a fall back to email when chat fails for good."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime

from notifications import chat, outbox
from notifications.emails import absolute_url, language_of
from notifications.http import DeliveryError
from notifications.models import Channel, Notification, Preference
from notifications.registry import get_kind

log = logging.getLogger(__name__)
Status = Notification.Status


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    digests: int = 0
    by_chat: int = 0  # of those sent, how many went by Slack or Teams
    fell_back: int = 0  # chat failed for good: back in the outbox, to go by email


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


def fail(rows: list[Notification], error: str, result: SendResult) -> None:
    outbox.fail(rows, error)
    result.failed += len(rows)


def _record_failure(rows: list[Notification], error: BaseException, now: datetime) -> str:
    """Retry transient errors with exponential backoff up to the limit; else fail.
    A digest's rows move together, timed by the most-tried row."""
    message = outbox.error_message(error)
    outcome = outbox.retry_or_fail(rows, message=message, transient=is_transient(error), now=now)
    log.warning("Reminder mail %s (%s): %s", outcome, ", ".join(str(r.pk) for r in rows), message)
    return outcome


def item_context(row: Notification) -> dict:
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


def mail_headers(rows: list[Notification]) -> dict[str, str]:
    return {"X-PolicyHub-Notification": ",".join(str(row.pk) for row in rows)}


def send_email(rows: list[Notification], build, now: datetime, result: SendResult) -> None:
    try:
        message = build()
    except Exception as error:  # a template or context bug: retrying will not help
        log.exception("Could not render reminder mail %s", [row.pk for row in rows])
        fail(rows, f"Could not render: {error}", result)
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


def chat_targets(rows: list[Notification]) -> dict[int, chat.ChatTarget]:
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


def send_chat(
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
