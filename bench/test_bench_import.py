"""`make bench`, the directory import: an HR export of SIZE rows (default 10,000),
through the same service the Import people page and `manage.py import_people` use
(people.importer.import_people), the way the page does it: a preview (dry run), then
the import of what the preview showed (its fingerprint).

1. A new directory: every row creates a person (with department and manager).
2. The next night's export: the same file with 2% new job titles, 1% moved to
   another manager, 1% leavers (active false) and 1% joiners.

Seconds and queries of each step; issue 14's target is a 100,000-row file in ≤ 120 s
with bounded queries (at most one per 50 rows, not one per row). It adds an
"import" entry to bench/results.json. Run it alone:

    SIZE=20000 .venv/bin/python -m pytest bench/test_bench_import.py -s -q -p no:cacheprovider

BENCH_IMPORT=0 skips it in `make bench`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
from datetime import date, timedelta

import pytest
from django.utils import timezone

from bench.measure import database_name, timed
from bench.test_bench import RESULTS, _mark, size, targets_for
from people.importer import BATCH_SIZE, COLUMNS, import_people
from people.models import User

SEED = 20261203
DEPARTMENTS = [f"Division {d} – Team {t}" for d in "ABCDEFGH" for t in range(1, 6)]
ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo")


def _rows(people: int, rng: random.Random) -> list[dict[str, str]]:
    """Everyone managed by someone earlier in the file (a tree ten wide)."""
    today = date(2026, 12, 1)
    rows = []
    for i in range(people):
        rows.append(
            {
                "email": f"person.{i}@example.com",
                "full_name": f"Person {i}",
                "employee_id": f"H{i:06d}",
                "department": rng.choice(DEPARTMENTS),
                "manager_email": f"person.{(i - 1) // 10}@example.com" if i else "",
                "job_title": rng.choice(("Analyst", "Engineer", "Manager", "Adviser")),
                "location": rng.choice(("London", "Berlin", "New York", "Tokyo")),
                "time_zone": rng.choice(ZONES),
                "start_date": (today - timedelta(days=rng.randint(1, 3650))).isoformat(),
                "active": "true",
                "language": "",
            }
        )
    return rows


def _next_night(rows: list[dict[str, str]], rng: random.Random) -> list[dict[str, str]]:
    rows = [dict(row) for row in rows]
    people = len(rows)
    for row in rng.sample(rows[1:], people // 50):
        row["job_title"] = "Senior " + row["job_title"]
    # A move to someone earlier in the file keeps the tree free of loops (and to someone
    # who stays: the leavers are in the last tenth).
    for i in rng.sample(range(2, people), people // 100):
        boss = rng.randrange(0, min(i - 1, people * 9 // 10))
        rows[i]["manager_email"] = f"person.{boss}@example.com"
    # Leavers nobody reports to (the last tenth of the file manages nobody).
    for i in rng.sample(range(people - people // 10, people), people // 100):
        rows[i]["active"] = "false"
    for n in range(people // 100):
        i = people + n
        rows.append(
            {
                **rows[-1],
                "email": f"person.{i}@example.com",
                "full_name": f"Person {i}",
                "employee_id": f"H{i:06d}",
                "manager_email": f"person.{rng.randrange(0, people // 10)}@example.com",
                "active": "true",
            }
        )
    return rows


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _preview_then_import(text: str) -> list[dict]:
    preview, preview_seconds, preview_queries = timed(
        lambda: import_people(source=text, dry_run=True)
    )
    assert preview.ok, preview.errors[:5]
    report, seconds, queries = timed(
        lambda: import_people(source=text, expected_fingerprint=preview.fingerprint)
    )
    assert report.ok and report.applied, report.errors[:5]
    figures = {
        "created": len(report.created),
        "updated": len(report.updated),
        "deactivated": len(report.deactivated),
        "unchanged": report.unchanged,
    }
    return [
        {"step": "preview", "seconds": preview_seconds, "queries": preview_queries, **figures},
        {"step": "import", "seconds": seconds, "queries": queries, **figures},
    ]


@pytest.mark.django_db
def test_bench_import():
    if os.environ.get("BENCH_IMPORT", "1") == "0":
        pytest.skip("BENCH_IMPORT=0")
    people = size()
    target = targets_for(people)
    rng = random.Random(SEED)
    first = _rows(people, rng)
    second = _next_night(first, rng)

    runs = [
        {"file": f"a new directory, {len(first):,} rows", **step}
        for step in _preview_then_import(_csv(first))
    ]
    assert User.objects.filter(email__startswith="person.").count() == people
    runs += [
        {"file": f"the next night's export, {len(second):,} rows", **step}
        for step in _preview_then_import(_csv(second))
    ]
    assert User.objects.filter(email__startswith="person.", is_active=True).count() == (
        people - people // 100 + people // 100
    )

    # Bounded: the queries grow with the batches, not one (or more) per row: SQLite takes
    # at most 999 values a statement, about 75 people; PostgreSQL BATCH_SIZE.
    query_bound = 50 + len(second) // 50
    result = {
        "when": timezone.now().isoformat(timespec="seconds"),
        "database": database_name(),
        "people": people,
        "batch_size": BATCH_SIZE,
        "query_bound": query_bound,
        "target_seconds": target.import_s,
        "runs": [{**run, "seconds": round(run["seconds"], 2)} for run in runs],
    }
    print("\n" + "\n".join(_report(result)))
    figures = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    figures["import"] = result
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    too_many = [run for run in runs if run["queries"] > query_bound]
    assert not too_many, f"more than {query_bound} queries: {too_many}"


def _report(result: dict) -> list[str]:
    lines = [
        f"PolicyHub directory import bench on {result['database']} "
        f"(people.importer.import_people, preview then import)",
        "",
        f"  {'file':<40} {'step':<8} {'seconds':>8} {'queries':>7} {'created':>8} "
        f"{'updated':>8} {'deactivated':>11}   target ≤{result['target_seconds']:g} s, "
        f"≤{result['query_bound']} queries",
    ]
    for run in result["runs"]:
        ok = run["seconds"] <= result["target_seconds"] and run["queries"] <= result["query_bound"]
        lines.append(
            f"  {run['file']:<40} {run['step']:<8} {run['seconds']:8.2f} {run['queries']:7d} "
            f"{run['created']:8,} {run['updated']:8,} {run['deactivated']:11,}   {_mark(ok)}"
        )
    lines += ["", f'  figures in {RESULTS} ("import")']
    return lines
