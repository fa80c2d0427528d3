"""A real Celery worker process, on the configured broker (the embedded filesystem
broker by default, Redis when REDIS_URL is set), runs a task that writes to the
test database."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings

from monitoring.models import Heartbeat
from monitoring.tasks import record_heartbeat
from tests.support import ROOT, database_url_for_subprocess


@pytest.mark.service
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_worker_runs_a_task_that_writes_to_the_database(tmp_path):
    if settings.REDIS_URL:
        assert settings.CELERY_BROKER_URL.startswith("redis")
    else:
        assert settings.CELERY_BROKER_URL == "filesystem://"
    # A queue of its own, so that nothing else left on the broker is consumed here.
    queue = f"test-{uuid.uuid4().hex}"
    env = dict(os.environ, DATABASE_URL=database_url_for_subprocess())
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "policyhub",
                "worker",
                "-Q",
                queue,
                "--pool=solo",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            record_heartbeat.apply_async(args=("integration-test",), queue=queue)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if Heartbeat.objects.filter(source="integration-test").exists():
                    break
                assert worker.poll() is None, "worker died:\n" + log_path.read_text()
                time.sleep(0.5)
            else:
                pytest.fail("the worker did not run the task in 90 s:\n" + log_path.read_text())
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
    heartbeat = Heartbeat.objects.get(source="integration-test")
    assert heartbeat.count == 1
    assert "Task monitoring.tasks.record_heartbeat[" in log_path.read_text()
    assert "] succeeded in" in log_path.read_text()
