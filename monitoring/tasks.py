from celery import shared_task

from monitoring.services import record_heartbeat as _record


@shared_task(name="monitoring.tasks.record_heartbeat")
def record_heartbeat(source: str) -> None:
    _record(source=source)
