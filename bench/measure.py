"""Timing, query counting and memory measuring for `make bench`."""

from __future__ import annotations

import math
import os
import statistics
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext

MB = 1024 * 1024


def p95(values: list[float]) -> float:
    """Nearest rank: of 20 values, the 19th smallest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class PageResult:
    name: str
    label: str
    url: str
    viewer: str
    status: int
    queries: int = 0
    median_ms: float = 0.0
    p95_ms: float = 0.0
    samples_ms: list[float] = field(default_factory=list)
    slowest_queries: list[dict] = field(default_factory=list)  # of the counted request
    # CPU time of a request, this process's and the database's (see `cpu_clock`): about
    # what the wall time would be on an idle machine, and much steadier than it on a
    # busy one. A mean, since the database's share comes in ticks of 10 ms. None where
    # that share cannot be read.
    cpu_mean_ms: float | None = None
    cpu_samples_ms: list[float] = field(default_factory=list)
    # The viewer's framework floor (median ms) and this page's median as a multiple of it.
    floor_ms: float | None = None
    floor_ratio: float | None = None
    # The first view, before the one counted: it computes what a page keeps (the
    # compliance dashboard's finished months), once after each change that forgets them.
    first_ms: float = 0.0
    first_queries: int = 0
    # A kept page (policyhub/kept.py) is served again until the data under it changes;
    # the same page computed for every request (KEPT_PAGES off), as after each change.
    computed: PageResult | None = None


def _clock_ticks(path: Path) -> int:
    """utime + stime of a /proc/<pid>/stat, in clock ticks."""
    fields = path.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_clock():
    """A function giving the CPU seconds used so far by this process and by the database
    serving this connection: SQLite works inside this process; a PostgreSQL server on
    this machine is read from its backend's /proc/<pid>/stat (in clock ticks, usually
    10 ms, so only an average over many requests means much). None when the server's share cannot
    be read (another machine, another process namespace, no /proc)."""
    if connection.vendor == "sqlite":
        return time.process_time
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    try:
        if not stat.read_text().split(" ", 2)[1].startswith("(postgres"):
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        _clock_ticks(stat)
    except (OSError, ValueError, IndexError):
        return None
    return lambda: time.process_time() + _clock_ticks(stat) / ticks


def time_page(
    client, *, name: str, label: str, url: str, viewer: str, requests: int, budget: float
):
    """A first request (timed and counted alone: it computes what the page keeps), one
    request counted (queries), then `requests` timed ones, or as many as fit in `budget`
    seconds (at least three) for a page that is slow."""
    with CaptureQueriesContext(connection) as first:
        start = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        first_ms = (time.perf_counter() - start) * 1000
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    result = PageResult(name, label, url, viewer, response.status_code, len(captured))
    result.first_ms, result.first_queries = first_ms, len(first)
    result.slowest_queries = [
        {"seconds": float(query["time"]), "sql": query["sql"][:300]}
        for query in sorted(captured, key=lambda query: -float(query["time"]))[:3]
    ]
    if os.environ.get("BENCH_QUERIES"):  # every query of the counted request, in full
        with open(os.environ["BENCH_QUERIES"], "a", encoding="utf-8") as out:
            out.write(f"=== {label} ({url}, as {viewer}): {len(captured)} queries\n")
            for query in captured:
                out.write(f"{float(query['time']) * 1000:.1f} ms  {query['sql']}\n")
    if response.status_code != 200:
        return result
    cpu = cpu_clock()
    began = time.perf_counter()
    for n in range(requests):
        if n >= 3 and time.perf_counter() - began > budget:
            break
        cpu_start = cpu() if cpu else 0.0
        start = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        result.samples_ms.append((time.perf_counter() - start) * 1000)
        if cpu:
            result.cpu_samples_ms.append((cpu() - cpu_start) * 1000)
    result.median_ms = statistics.median(result.samples_ms)
    result.p95_ms = p95(result.samples_ms)
    if result.cpu_samples_ms:
        result.cpu_mean_ms = statistics.mean(result.cpu_samples_ms)
    return result


def merge_samples(result: PageResult, more: PageResult) -> None:
    """Add a second timing of the same page to `result` and recompute its figures."""
    result.samples_ms += more.samples_ms
    result.cpu_samples_ms += more.cpu_samples_ms
    if result.samples_ms:
        result.median_ms = statistics.median(result.samples_ms)
        result.p95_ms = p95(result.samples_ms)
    if result.cpu_samples_ms:
        result.cpu_mean_ms = statistics.mean(result.cpu_samples_ms)


class QueryCounter:
    """connection.execute_wrapper that only counts (CaptureQueriesContext would keep the
    text of every bulk insert)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def timed(function):
    """(outcome, seconds, queries) of calling `function`."""
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        outcome = function()
        seconds = time.perf_counter() - start
    return outcome, seconds, counter.count


@dataclass
class ExportResult:
    name: str
    label: str
    url: str
    viewer: str
    status: int
    rows: int = 0
    seconds: float = 0.0
    queries: int = 0
    peak_mb: float = 0.0  # Python allocations (tracemalloc), whole export
    peak_tenth_mb: float = 0.0  # the same, once the first tenth of the rows were out
    peak_half_mb: float = 0.0  # and once half of them were
    rss_peak_mb: float | None = None  # the process's resident memory high-water mark growth
    small_rows: int | None = None  # an export about a tenth the size, for comparison
    small_peak_mb: float | None = None


def _chunks(response):
    return response.streaming_content if response.streaming else [response.content]


def _rss_reset() -> int | None:
    """Reset the kernel's high-water mark of resident memory; the current RSS in bytes
    (None where /proc does not allow it)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _proc_status("VmRSS")
    except OSError:
        return None


def _proc_status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise OSError(key)


def consume(client, url: str, *, rows_expected: int = 0):
    """Stream an export to the end under tracemalloc (which only then is running):
    (status, rows, peak bytes, {fraction: peak bytes once that fraction of
    `rows_expected` rows were out})."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        response = client.get(url)
        rows, peaks = -1, {}  # the header line is not a row
        todo = [0.1, 0.5] if rows_expected else []
        if response.status_code == 200:
            for chunk in _chunks(response):
                rows += (chunk if isinstance(chunk, bytes) else chunk.encode()).count(b"\n")
                while todo and rows >= todo[0] * rows_expected:
                    peaks[todo.pop(0)] = tracemalloc.get_traced_memory()[1] - base
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return response.status_code, max(rows, 0), peak, peaks


def measure_export(
    client, *, name, label, url, viewer, small_url=None, small_client=None
) -> ExportResult:
    """Seconds, queries and resident memory growth of one plain run (after a warm-up);
    then peak memory under tracemalloc (which slows Python down, so it is not timed):
    whole, and once a tenth and half of the rows were out; then, if given, the peak of
    an export about a tenth the size."""
    response = client.get(url)
    result = ExportResult(name, label, url, viewer, response.status_code)
    for _chunk in _chunks(response):  # a warm-up run, read to the end
        pass
    if response.status_code != 200:
        return result
    rows = -1
    counter = QueryCounter()
    rss_before = _rss_reset()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        response = client.get(url)
        for chunk in _chunks(response):
            rows += (chunk if isinstance(chunk, bytes) else chunk.encode()).count(b"\n")
        result.seconds = time.perf_counter() - start
    if rss_before is not None:
        result.rss_peak_mb = max(0, _proc_status("VmHWM") - rss_before) / MB
    result.rows, result.queries = max(rows, 0), counter.count
    _, _, peak, peaks = consume(client, url, rows_expected=result.rows)
    result.peak_mb = peak / MB
    result.peak_tenth_mb = peaks.get(0.1, peak) / MB
    result.peak_half_mb = peaks.get(0.5, peak) / MB
    if small_url:
        status, small_rows, small_peak, _ = consume(small_client or client, small_url)
        if status == 200:
            result.small_rows, result.small_peak_mb = small_rows, small_peak / MB
    return result


class StatementRecorder:
    """connection.execute_wrapper keeping each statement's SQL and parameters, to run
    them again alone (executemany batches are only counted)."""

    def __init__(self):
        self.statements: list[tuple[str, tuple | list | dict | None]] = []
        self.batches = 0

    def __call__(self, execute, sql, params, many, context):
        if many:
            self.batches += 1
        else:
            self.statements.append((sql, params))
        return execute(sql, params, many, context)


@dataclass
class QueryFloor:
    sql: str  # the first 300 characters
    median_ms: float
    rows: int


@dataclass
class DatabaseFloor:
    """The database's share of a page: each read the page runs, timed alone on the
    connection (no ORM, no template), `runs` times; the floor is the sum of the medians."""

    name: str
    label: str
    page_median_ms: float
    floor_ms: float = 0.0
    ratio: float | None = None
    statements: int = 0  # reads run again
    skipped: int = 0  # writes and transaction control, not run again
    runs: int = 0
    queries: list[QueryFloor] = field(default_factory=list)  # slowest first


def _is_read(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SELECT", "WITH"))


def database_floor(client, *, name: str, label: str, url: str, page_median_ms: float, runs: int):
    """Record the statements one request to `url` runs, then run each read again
    directly on the connection `runs` times, fetching every row."""
    recorder = StatementRecorder()
    with connection.execute_wrapper(recorder):
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    result = DatabaseFloor(name, label, page_median_ms, runs=runs)
    plans = []
    for sql, params in recorder.statements:
        if not _is_read(sql):
            result.skipped += 1
            continue
        samples, rows = [], 0
        with connection.cursor() as cursor:
            for _ in range(runs):
                start = time.perf_counter()
                cursor.execute(sql, params)
                rows = len(cursor.fetchall())
                samples.append((time.perf_counter() - start) * 1000)
        result.queries.append(QueryFloor(sql[:300], statistics.median(samples), rows))
        plans.append((statistics.median(samples), sql, params))
    if os.environ.get("BENCH_EXPLAIN") and connection.vendor == "postgresql":
        _explain(label, url, sorted(plans, key=lambda plan: -plan[0])[:3])
    result.skipped += recorder.batches
    result.statements = len(result.queries)
    result.floor_ms = sum(query.median_ms for query in result.queries)
    result.queries.sort(key=lambda query: -query.median_ms)
    if result.floor_ms > 0:
        result.ratio = page_median_ms / result.floor_ms
    return result


def _explain(label: str, url: str, plans: list[tuple[float, str, object]]) -> None:
    """Append EXPLAIN ANALYZE of a page's slowest reads to the file BENCH_EXPLAIN."""
    with open(os.environ["BENCH_EXPLAIN"], "a", encoding="utf-8") as out:
        for median_ms, sql, params in plans:
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            out.write(f"=== {label} ({url}): {median_ms:.1f} ms\n{sql}\n{plan}\n\n")


def database_name() -> str:
    """ "postgresql 15.18", "sqlite 3.40.1": what the figures were measured on."""
    if connection.vendor == "sqlite":
        import sqlite3

        return f"sqlite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version" if connection.vendor == "postgresql" else "SELECT 1")
        return f"{connection.vendor} {cursor.fetchone()[0]}"
