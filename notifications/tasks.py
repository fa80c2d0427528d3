"""Thin Celery tasks around the reminder engine; each is safe to run again."""

from celery import shared_task

from notifications import services


@shared_task(name="notifications.tasks.plan_reminders")
def plan_reminders() -> int:
    return services.plan_due().total


@shared_task(name="notifications.tasks.send_due_reminders")
def send_due_reminders() -> int:
    return services.send_due().sent
