"""Thin Celery tasks for the dashboards; each is safe to run again."""

from celery import shared_task

from dashboards import refill


@shared_task(name="dashboards.tasks.fill_finished_months")
def fill_finished_months() -> int:
    """Count and keep the compliance trend's finished months that are missing (none:
    one read, nothing written)."""
    return refill.fill()
