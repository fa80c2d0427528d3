import os
import shutil
import subprocess
import sys

import pytest
from django.db import OperationalError, connection

from monitoring.services import record_heartbeat
from tests.support import ROOT, free_port

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_broker_and_beat(client, settings):
    record_heartbeat(source="beat")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "vendor": connection.vendor}
    expected_transport = "redis" if settings.REDIS_URL else "filesystem"
    assert body["broker"] == {"ok": True, "transport": expected_transport}
    assert body["beat"]["ok"] is True and 0 <= body["beat"]["age_seconds"] < 60
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_is_degraded_while_beat_has_not_got_through(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["beat"] == {"ok": False, "last_seen": None}


def test_healthz_is_degraded_when_beat_stopped_long_ago(client, settings):
    from datetime import timedelta

    from django.utils import timezone

    from monitoring.models import Heartbeat

    record_heartbeat(source="beat")
    Heartbeat.objects.update(last_seen=timezone.now() - timedelta(minutes=10))
    body = client.get("/healthz").json()
    assert body["status"] == "degraded" and body["beat"]["ok"] is False


def test_healthz_is_503_when_the_database_cannot_be_reached(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == {"ok": False, "error": "OperationalError"}


def test_healthz_is_503_for_a_real_unreachable_database_even_with_a_session_cookie():
    """A separate process whose DATABASE_URL points at a closed port."""
    port = free_port()
    code = (
        "import django, os; django.setup(); from django.test import Client; "
        "c = Client(HTTP_HOST='10.1.2.3'); c.cookies['sessionid'] = 'abc'; "
        "r = c.get('/healthz'); print(r.status_code, r.json()['database']['ok'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "policyhub.settings",
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{port}/nothing",
        "DATABASE_CONN_MAX_AGE": "0",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1] == "503 False", result.stderr[-2000:]


def test_healthz_answers_probes_by_ip_and_plain_http_on_an_https_site(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["policyhub.example.com"]
    record_heartbeat(source="beat")
    response = client.get("/healthz", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200
    assert client.get("/", HTTP_HOST="policyhub.example.com").status_code == 301


def test_healthz_stays_up_but_degraded_when_the_broker_is_down(client, monkeypatch, settings):
    from monitoring import views

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no broker")

    monkeypatch.setattr(views.celery_app, "connection_for_write", refuse)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["broker"]["ok"] is False
    if settings.REDIS_URL:
        assert body["broker"]["error"] == "ConnectionRefusedError"


def test_healthz_notices_a_missing_embedded_broker_folder(client, settings, tmp_path):
    settings.REDIS_URL = None
    settings.BROKER_DIR = tmp_path / "broker"
    (tmp_path / "broker" / "queue").mkdir(parents=True)
    body = client.get("/healthz").json()
    assert body["broker"]["ok"] is False and "control" in body["broker"]["error"]
    (tmp_path / "broker" / "control").mkdir()
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        assert client.get("/healthz").json()["broker"]["ok"] is True
    shutil.rmtree(tmp_path / "broker")


def test_healthz_needs_no_login_and_only_answers_get(client):
    assert client.get("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_heartbeat_counts_each_run(db):
    from monitoring.models import Heartbeat

    record_heartbeat(source="beat")
    record_heartbeat(source="beat")
    assert Heartbeat.objects.get(source="beat").count == 2


def test_beat_schedule_runs_the_heartbeat_planner_and_sender(settings):
    from policyhub.celery import app

    schedule = app.conf.beat_schedule
    assert schedule["heartbeat"]["task"] == "monitoring.tasks.record_heartbeat"
    assert schedule["heartbeat"]["schedule"] == float(settings.HEARTBEAT_INTERVAL_SECONDS)
    assert schedule["plan-reminders"]["task"] == "notifications.tasks.plan_reminders"
    assert (
        schedule["plan-reminders"]["schedule"] == 60.0 * settings.NOTIFICATIONS_PLAN_EVERY_MINUTES
    )
    assert schedule["send-reminders"]["task"] == "notifications.tasks.send_due_reminders"
