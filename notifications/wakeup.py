"""Asking a worker to send what is due now, once the change that planned it commits.

The services that put rows in an outbox (reminders, webhook deliveries) call
`send_reminders_soon` or `send_webhooks_soon`, usually through
`transaction.on_commit`. The Celery tasks that do the sending (notifications.tasks)
register here when the app loads (NotificationsConfig.ready), so the services never
import the tasks: tasks depend on services, never the reverse. If the broker cannot be
reached the rows wait in the outbox for the next periodic send, so asking never raises.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from celery import Task

log = logging.getLogger(__name__)

_tasks: dict[str, Task] = {}
_held = threading.local()


def register(*, reminders: Task, webhooks: Task) -> None:
    """The tasks that send the due reminders and the due webhook deliveries."""
    _tasks.update(reminders=reminders, webhooks=webhooks)


def _ask(outbox: str) -> None:
    task = _tasks[outbox]  # a missing registration is a bug to see, not a broker outage
    try:
        task.apply_async(retry=False)
    except Exception:  # the broker being down must not undo or break the caller's change
        log.warning("Could not reach the broker; %s go out on the next periodic run.", outbox)


def send_reminders_soon() -> None:
    """Ask a worker to send the reminders due now (one ask for all, inside
    `one_send_for_all`)."""
    if getattr(_held, "depth", 0):
        _held.asked = True
        return
    _ask("reminders")


def send_webhooks_soon() -> None:
    """Ask a worker to send the webhook deliveries due now."""
    _ask("webhooks")


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
            send_reminders_soon()
