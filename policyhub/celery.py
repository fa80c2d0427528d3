"""The Celery app and the one beat schedule of PolicyHub.

Run any number of workers (`celery -A policyhub worker`) and exactly one beat
(`celery -A policyhub beat`): beat is what puts the entries below on the queue.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyhub.settings")

app = Celery("policyhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _beat_schedule() -> dict:
    from django.conf import settings

    return {
        # Every HEARTBEAT_INTERVAL_SECONDS (default a minute): proves that beat,
        # the broker, a worker and the database work together; /healthz shows
        # how long ago it last ran.
        "heartbeat": {
            "task": "monitoring.tasks.record_heartbeat",
            "schedule": float(settings.HEARTBEAT_INTERVAL_SECONDS),
            "args": ("beat",),
        },
    }


@app.on_after_configure.connect
def _install_beat_schedule(sender, **kwargs):
    sender.conf.beat_schedule = _beat_schedule()
