"""People's choices (digest or immediate, chat or email, kinds switched off) and admins'
actions on the outbox (send a failed reminder again)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import chat, wakeup
from notifications.errors import NotificationError
from notifications.models import Notification, OptOut, Preference
from notifications.registry import all_kinds, get_kind
from notifications.services.planning import Person, delivery_times

Status = Notification.Status


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
        person = Person(user.time_zone, user.manager_id, delivery)
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
            row.digest, row.send_after = delivery_times(
                kind=kind, person=person, due_at=row.due_at, now=now
            )
            to_update.append(row)
        Notification.objects.filter(pk__in=to_cancel).update(
            status=Status.CANCELLED, cancelled_reason=_SWITCHED_OFF
        )
        Notification.objects.bulk_update(to_update, ["digest", "send_after"], batch_size=500)
        if any(not row.digest for row in to_update):
            transaction.on_commit(wakeup.send_reminders_soon)


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
        transaction.on_commit(wakeup.send_reminders_soon)
