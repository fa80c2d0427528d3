"""Thin Celery tasks around the reminder engine and the outgoing webhooks; each is safe
to run again. They register with notifications.wakeup, which the services ask for a
send: the tasks import the services, never the reverse."""

from celery import shared_task

from notifications import services, wakeup, webhooks


@shared_task(name="notifications.tasks.plan_reminders")
def plan_reminders() -> int:
    return services.plan_due().total


@shared_task(name="notifications.tasks.send_due_reminders")
def send_due_reminders() -> int:
    """The outbox's periodic drain (beat's "send-reminders"): reminders first, then the
    webhook deliveries whose retry time has come, so both share one beat entry."""
    sent = services.send_due().sent
    webhooks.send_due()
    return sent


@shared_task(name="notifications.tasks.send_due_webhooks")
def send_due_webhooks() -> int:
    """Enqueued when an event commits: its deliveries go at once."""
    return webhooks.send_due().sent


wakeup.register(reminders=send_due_reminders, webhooks=send_due_webhooks)
