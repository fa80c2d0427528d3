"""`make bench`: how long the reminder engine takes at 10,000 employees.

Not part of `make test` (bench/ is outside pytest.ini's testpaths). It prints
timings rather than asserting them; run it on the database you care about
(DATABASE_URL) and compare runs.
"""

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from notifications.models import Notification
from notifications.registry import unregister
from notifications.services import plan_due, send_due
from notifications.tests.kinds import register_everyone_kinds

PEOPLE = 10_000
KINDS = 5
TIME_ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo")


def _timed(label, function, results):
    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        outcome = function()
        elapsed = time.perf_counter() - start
    results.append((label, elapsed, count))
    return outcome


@pytest.mark.django_db
def test_bench_reminders_at_ten_thousand_people(django_user_model, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    django_user_model.objects.bulk_create(
        (
            django_user_model(
                email=f"person{i}@example.com",
                full_name=f"Person {i}",
                job_title="Analyst",
                location="Office",
                time_zone=TIME_ZONES[i % len(TIME_ZONES)],
            )
            for i in range(PEOPLE)
        ),
        batch_size=1000,
    )
    names = register_everyone_kinds(KINDS)
    results = []
    now = datetime(2026, 11, 25, 6, 0, tzinfo=ZoneInfo("UTC"))
    try:
        first = _timed(
            f"plan: {PEOPLE:,} people x {KINDS} kinds", lambda: plan_due(now=now), results
        )
        assert first.total == PEOPLE * KINDS
        _timed("plan again (nothing new)", lambda: plan_due(now=now), results)
        digest_time = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Europe/London"))
        sent = _timed(
            "send 09:00 London: London and Berlin digests (5,000 x 5)",
            lambda: send_due(now=digest_time, max_batches=1000),
            results,
        )
        # 09:00 in London is 10:00 in Berlin: both digests are due; New York and Tokyo wait.
        assert sent.digests == PEOPLE // 2
    finally:
        for name in names:
            unregister(name)
    rows = Notification.objects.count()
    print(f"\nReminder engine on {connection.vendor}, {rows:,} outbox rows")
    for label, seconds, queries in results:
        print(f"  {label:<55} {seconds:8.2f} s  {queries:6d} queries")
