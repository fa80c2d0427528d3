import os

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from monitoring.models import Heartbeat
from policyhub.celery import app as celery_app


def _database_state() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return {"ok": False, "error": error.__class__.__name__}
    return {"ok": True, "vendor": connection.vendor}


def _broker_state() -> dict:
    transport = "redis" if settings.REDIS_URL else "filesystem"
    if transport == "filesystem":
        # Connecting to the filesystem transport checks nothing: look at its folders.
        for folder in (settings.BROKER_DIR / "queue", settings.BROKER_DIR / "control"):
            if not (folder.is_dir() and os.access(folder, os.R_OK | os.W_OK | os.X_OK)):
                return {"ok": False, "transport": transport, "error": f"{folder} is not usable"}
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:  # any failure to reach the broker is a state to report
        return {"ok": False, "transport": transport, "error": error.__class__.__name__}
    return {"ok": True, "transport": transport}


def _beat_state() -> dict:
    """Beat is fine when its heartbeat got through a worker within three intervals."""
    heartbeat = Heartbeat.objects.filter(source="beat").first()
    if heartbeat is None:
        return {"ok": False, "last_seen": None}
    age = (timezone.now() - heartbeat.last_seen).total_seconds()
    return {
        "ok": age <= 3 * settings.HEARTBEAT_INTERVAL_SECONDS,
        "last_seen": heartbeat.last_seen.isoformat(),
        "age_seconds": round(age),
    }


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """200 while the database answers, with the state of the broker and beat; 503 when
    the database cannot be reached. Served by HealthCheckMiddleware ahead of the rest."""
    database = _database_state()
    body = {"database": database, "broker": _broker_state()}
    if not database["ok"]:
        body["status"] = "unavailable"
        return JsonResponse(body, status=503)
    try:
        body["beat"] = _beat_state()
    except DatabaseError:
        body["beat"] = {"ok": False, "last_seen": None}
    # "degraded": the site serves pages, but reminders are not going out.
    body["status"] = "ok" if body["broker"]["ok"] and body["beat"]["ok"] else "degraded"
    return JsonResponse(body)
