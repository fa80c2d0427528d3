"""The reminder engine: plan rows into the outbox once, send each row once.

- planning: `plan_due` asks every reminder kind what is due; `notify` and
  `notify_many` put events (a booking confirmed, a policy published) in at once.
- sending: `send_due`, the outbox run, single reminders and then digests.
- digests: one person's due reminders in one message.
- delivery: one message out by email or chat, with retries and the fall back to email.
- preferences: people's choices (`set_preferences`) and the admin's `resend`.

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

Asking a worker to send now goes through notifications.wakeup, with which the Celery
tasks register: the tasks import these services, never the reverse.
"""

from notifications.errors import NotificationError
from notifications.services.delivery import SendResult, is_transient
from notifications.services.planning import PlanResult, notify, notify_many, plan_due
from notifications.services.preferences import resend, set_preferences
from notifications.services.sending import send_due
from notifications.wakeup import one_send_for_all

__all__ = [
    "NotificationError",
    "PlanResult",
    "SendResult",
    "is_transient",
    "notify",
    "notify_many",
    "one_send_for_all",
    "plan_due",
    "resend",
    "send_due",
    "set_preferences",
]
