import pytest
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "vendor": connection.vendor}
    expected_transport = "redis" if settings.REDIS_URL else "filesystem"
    assert body["broker"] == {"ok": True, "transport": expected_transport}
    assert body["beat"] == {"last_seen": None}
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_shows_when_beat_last_got_through(client):
    from monitoring.services import record_heartbeat

    record_heartbeat(source="beat")
    beat = client.get("/healthz").json()["beat"]
    assert beat["last_seen"] is not None
    assert 0 <= beat["age_seconds"] < 60


def test_healthz_is_503_when_the_database_cannot_be_reached(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == {"ok": False, "error": "OperationalError"}


def test_healthz_stays_up_but_degraded_when_the_broker_is_down(client, monkeypatch):
    from monitoring import views

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no broker")

    monkeypatch.setattr(views.celery_app, "connection_for_write", refuse)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["broker"]["ok"] is False
    assert body["broker"]["error"] == "ConnectionRefusedError"


def test_healthz_needs_no_login_and_only_answers_get(client):
    assert client.get("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_heartbeat_counts_each_run(db):
    from monitoring.models import Heartbeat
    from monitoring.services import record_heartbeat

    record_heartbeat(source="beat")
    record_heartbeat(source="beat")
    assert Heartbeat.objects.get(source="beat").count == 2


def test_beat_schedule_runs_the_heartbeat():
    from policyhub.celery import app

    entry = app.conf.beat_schedule["heartbeat"]
    assert entry["task"] == "monitoring.tasks.record_heartbeat"
    assert entry["schedule"] == 60.0
