"""The Celery app and the one beat schedule of PolicyHub.

Run any number of workers (`celery -A policyhub worker`) and exactly one beat
(`celery -A policyhub beat`): beat is what puts the entries below on the queue.
"""

import os

from celery import Celery
from celery.schedules import crontab

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
        # Every REMINDERS_PLAN_EVERY_MINUTES (default 15): ask every reminder kind
        # what is due and plan it into the outbox (once per dedupe key).
        "plan-reminders": {
            "task": "notifications.tasks.plan_reminders",
            "schedule": float(settings.NOTIFICATIONS_PLAN_EVERY_MINUTES * 60),
        },
        # Every 5 minutes: publish approved policy versions whose scheduled time has come.
        "publish-due-policy-versions": {
            "task": "policies.tasks.publish_due_versions",
            "schedule": 300.0,
        },
        # Every REMINDERS_PLAN_EVERY_MINUTES, just before planning: joiners get their
        # policy assignments, leavers' close, re-acknowledgement periods reopen them.
        "reconcile-policy-assignments": {
            "task": "policies.tasks.reconcile_assignments",
            "schedule": float(settings.NOTIFICATIONS_PLAN_EVERY_MINUTES * 60),
        },
        # Every minute: fetch the intake feeds whose time has come (each every
        # PREVENTION_FEED_EVERY_MINUTES, default 15, while it works; a failing one after
        # 5 minutes, doubling up to 6 hours). Each feed is claimed before it is fetched,
        # so a run that overlaps the last one never fetches a feed twice.
        "fetch-intake-feeds": {
            "task": "prevention.tasks.fetch_due_sources",
            "schedule": 60.0,
        },
        # Every day at 00:05 (the site's time zone): when a month has just ended, count
        # and keep it for the compliance dashboard's trend before anyone looks. Daily,
        # not monthly: it also counts what a change forgot while the broker was down;
        # with nothing missing it is one read (dashboards/summaries.py `fill`).
        "fill-compliance-months": {
            "task": "dashboards.tasks.fill_finished_months",
            "schedule": crontab(minute=5, hour=0),
        },
        # Every REMINDERS_SEND_EVERY_SECONDS (default a minute): send what is due,
        # retries whose backoff has passed, and digests whose 09:00 has come.
        # Events are also sent straight after their transaction commits.
        "send-reminders": {
            "task": "notifications.tasks.send_due_reminders",
            "schedule": float(settings.NOTIFICATIONS_SEND_EVERY_SECONDS),
        },
    }


@app.on_after_configure.connect
def _install_beat_schedule(sender, **kwargs):
    sender.conf.beat_schedule = _beat_schedule()
