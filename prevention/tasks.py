"""Thin Celery tasks for intake; each is safe to run again (a fetch claims its feed,
and a post opens at most one incident)."""

from celery import shared_task

from prevention import intake_feeds


@shared_task(name="prevention.tasks.fetch_due_sources")
def fetch_due_sources() -> int:
    return intake_feeds.fetch_due_sources()


@shared_task(name="prevention.tasks.fetch_feed")
def fetch_feed(source_id: int) -> bool:
    """ "Fetch now": fetch one feed unless another worker already has it."""
    return intake_feeds.fetch_if_due(source_id=source_id) is not None
