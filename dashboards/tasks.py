"""Thin Celery tasks for the dashboards; each is safe to run again."""

from celery import shared_task

from dashboards import refill, tally


@shared_task(name="dashboards.tasks.fill_finished_months")
def fill_finished_months() -> int:
    """Count and keep the compliance trend's finished months that are missing (none:
    one read, nothing written)."""
    return refill.fill()


@shared_task(name="dashboards.tasks.check_assignment_tally")
def check_assignment_tally() -> bool:
    """Compare the heatmap's tally with a live count; count it again if they differ
    (PostgreSQL; elsewhere there is no tally: True)."""
    return tally.check()
