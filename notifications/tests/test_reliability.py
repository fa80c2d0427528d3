"""The outbox against real processes: a worker killed mid-batch, and Redis going away.

Workers run the real Celery worker command on the test database; mail goes
through a slow file backend whose file names carry the outbox row ids, so a
duplicate would show as a row id in two files.
"""

import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest
from django.conf import settings

from conftest import needs
from notifications.models import Notification, Preference
from notifications.services import plan_due
from notifications.tasks import send_due_reminders
from tests.support import Process, celery, free_port, wait_for, worker_env

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("example_kinds")]
Status = Notification.Status


def _people_due_now(make_person, count: int) -> list[int]:
    people = [make_person(job_title="", location="x") for _ in range(count)]
    Preference.objects.bulk_create(
        Preference(user=person, delivery=Preference.Delivery.IMMEDIATE) for person in people
    )
    return [person.pk for person in people]


def _row_ids_in_mail(folder) -> Counter:
    ids = Counter()
    for path in folder.glob("*.eml"):
        ids.update(int(part) for part in path.name.split("-", 1)[0].split("_"))
    return ids


def _mail_env(tmp_path, **extra):
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir(exist_ok=True)
    return mail_dir, worker_env(
        EMAIL_BACKEND="notifications.tests.backends.SlowFileBackend",
        TEST_MAIL_DIR=str(mail_dir),
        VAR_DIR=str(tmp_path / "var"),
        **extra,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_killed_mid_batch_then_restarted_sends_every_mail_once(make_person, tmp_path):
    _people_due_now(make_person, 12)
    plan_due()
    row_ids = set(Notification.objects.values_list("id", flat=True))
    assert len(row_ids) == 12
    mail_dir, env = _mail_env(
        tmp_path,
        TEST_MAIL_DELAY="0.4",
        REMINDERS_BATCH_SIZE="5",
        REMINDERS_CLAIM_TIMEOUT_SECONDS="3",
    )
    if not settings.REDIS_URL:
        # The filesystem broker lives under VAR_DIR: the worker must use the test's.
        env["VAR_DIR"] = str(settings.VAR_DIR)
    queue = f"test-{uuid.uuid4().hex}"
    args = (
        "worker",
        "-Q",
        queue,
        "--pool=solo",
        "--without-mingle",
        "--without-gossip",
        "--include",
        "notifications.tests.worker_kinds",
        "--loglevel=INFO",
    )

    first = celery(*args, env=env, log_path=tmp_path / "worker-1.log")
    try:
        send_due_reminders.apply_async(queue=queue)
        wait_for(lambda: len(list(mail_dir.glob("*.eml"))) >= 3, timeout=60, on_timeout=first.log)
        time.sleep(0.2)  # in the middle of the next (slow) send, not between send and mark
        first.kill()
    finally:
        first.stop()
    sent_before = len(list(mail_dir.glob("*.eml")))
    assert 3 <= sent_before < 12, "the kill must land in the middle of the work"
    assert Notification.objects.filter(status=Status.SENDING).exists()

    second = celery(*args, env=env, log_path=tmp_path / "worker-2.log")
    try:

        def all_sent():
            # What beat does every minute: ask for the due rows to be sent.
            send_due_reminders.apply_async(queue=queue)
            return Notification.objects.filter(status=Status.SENT).count() == 12

        wait_for(all_sent, timeout=90, interval=2, on_timeout=second.log)
    finally:
        second.stop()
    counts = _row_ids_in_mail(mail_dir)
    assert set(counts) == row_ids
    assert max(counts.values()) == 1, f"sent twice: {[k for k, v in counts.items() if v > 1]}"


def _start_redis(port: int, tmp_path) -> Process:
    return Process(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/usr/local/bin"},
        log_path=tmp_path / "redis.log",
    )


def _redis_up(port: int) -> bool:
    import redis

    try:
        return redis.Redis(port=port, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        return False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_planning_works_while_redis_is_down_and_mail_goes_when_it_is_back(make_person, tmp_path):
    needs(bool(shutil.which("redis-server")), "redis-server is not installed")
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    _people_due_now(make_person, 4)
    mail_dir, env = _mail_env(
        tmp_path, REDIS_URL=redis_url, TEST_MAIL_DELAY="0", REMINDERS_SEND_EVERY_SECONDS="1"
    )
    redis_server = _start_redis(port, tmp_path)
    wait_for(lambda: _redis_up(port), timeout=20, on_timeout=redis_server.log)
    worker = celery(
        "worker",
        "--pool=solo",
        "--without-mingle",
        "--without-gossip",
        "--include",
        "notifications.tests.worker_kinds",
        "--loglevel=INFO",
        env=env,
        log_path=tmp_path / "worker.log",
    )
    beat = celery("beat", "--loglevel=INFO", env=env, log_path=tmp_path / "beat.log")
    try:
        wait_for(lambda: "ready" in worker.log(), timeout=60, on_timeout=worker.log)
        redis_server.stop()
        assert not _redis_up(port)

        # Planning in a process configured for the (stopped) Redis still writes the rows.
        planner = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); import notifications.tests.worker_kinds; "
                "from notifications.services import plan_due; print(plan_due().total)",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert planner.returncode == 0, planner.stderr
        assert planner.stdout.strip().splitlines()[-1] == "4"
        assert Notification.objects.filter(status=Status.PLANNED).count() == 4
        assert "Could not reach the broker" in planner.stderr
        time.sleep(2)
        assert list(mail_dir.glob("*.eml")) == []

        redis_server = _start_redis(port, tmp_path)
        wait_for(
            lambda: Notification.objects.filter(status=Status.SENT).count() == 4,
            timeout=120,
            interval=1,
            on_timeout=lambda: worker.log()[-3000:] + beat.log()[-3000:],
        )
    finally:
        beat.stop()
        worker.stop()
        redis_server.stop()
    counts = _row_ids_in_mail(mail_dir)
    assert len(counts) == 4 and max(counts.values()) == 1
