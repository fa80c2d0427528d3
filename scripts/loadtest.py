"""A bounded load run on loopback: gunicorn with 4 workers, simulated employees, then a
check that no acknowledgement was lost or doubled.

    python scripts/loadtest.py --users 50 --seconds 60
    python scripts/loadtest.py --users 10 --seconds 15 --database-url sqlite

1. A database of its own, made empty first: on the PostgreSQL server of --database-url
   (default: DATABASE_URL) the database `policyhub_loadtest` (the name must contain
   "loadtest"; it is dropped and created again), or with "sqlite" (or no DATABASE_URL)
   the app's SQLite settings with the file under var/loadtest/. Never the dev data.
   Migrated, then a synthetic organisation of --people people (bench/org/) is written
   in it, and --users employees who each have a policy to acknowledge get a password.
2. gunicorn (policyhub.wsgi) with --workers workers on 127.0.0.1 only.
3. --users threads, one simulated person each: logs in (the login page and its form),
   then for --seconds opens My tasks, Policies, a policy page and Training at random, and
   once, after a few pages, acknowledges their policy through the policy page's form.
4. Throughput, p50 and p95 per kind of request, errors; then the database: as many new
   acknowledgements as acknowledgement POSTs that succeeded, none twice for a person and
   version, and the hash chain verifies (policies.services.verify_chain).

Exit status 0 only with no error and the acknowledgements intact. Its own state
(gunicorn's log, the broker's folder, mail) is in var/loadtest/ (VAR_DIR/loadtest).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "policyhub_loadtest"
PASSWORD = "loadtest-password-1"  # noqa: S105 (the synthetic people of a throwaway database)
PAGES = {  # kind: (path or None for the person's policy page, weight)
    "my_tasks": ("/", 3),
    "policies": ("/policies/", 2),
    "policy": (None, 2),
    "training": ("/training/", 2),
}
ACKNOWLEDGE_AFTER = 3  # pages seen before the acknowledgement


# --- the database -------------------------------------------------------------------------


def _database_url(given: str | None, var_dir: Path) -> str | None:
    """The URL of the load test's own PostgreSQL database, emptied; None for SQLite: the
    app's own SQLite settings (WAL, IMMEDIATE transactions, a 20 s busy timeout) with the
    file in the load test's VAR_DIR, emptied too."""
    given = given or os.environ.get("DATABASE_URL", "")
    if not given or given == "sqlite":
        for leftover in var_dir.glob("policyhub.sqlite3*"):
            leftover.unlink()
        return None
    parts = urllib.parse.urlsplit(given)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"--database-url: PostgreSQL (postgres://…) or 'sqlite', not {parts.scheme}")
    import psycopg2
    from psycopg2 import sql

    host = parts.hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1", "") and not host.startswith("/"):
        print(f"note: the database server is {host}; the web server stays on loopback")
    name = DATABASE_NAME
    server = psycopg2.connect(
        dbname="postgres",
        user=urllib.parse.unquote(parts.username or "") or None,
        password=urllib.parse.unquote(parts.password or "") or None,
        host=parts.hostname,
        port=parts.port,
    )
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    server.close()
    assert "loadtest" in name
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


@dataclass
class Person:
    email: str
    full_name: str
    policy_slug: str


def _prepare(people: int, users: int) -> tuple[list[Person], int]:
    """Migrated already; writes the organisation, gives `users` employees with an open
    policy a password. (The people, the number of acknowledgements before the run.)"""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import connections, transaction

    from bench import org as synthetic
    from people.models import User
    from policies.models import Acknowledgement, Assignment

    started = time.perf_counter()
    with transaction.atomic():
        synthetic.build(people=people)
    print(f"organisation of {people:,} people built in {time.perf_counter() - started:.1f} s")
    # Plain employees (no role group: no second factor) with one open assignment each, on a
    # policy without a quiz; one policy per person.
    open_assignments = (
        Assignment.objects.filter(
            status="open",
            person__is_active=True,
            person__groups=None,
            version__status="published",
            version__questions=None,
        )
        .select_related("person", "policy")
        .order_by("person_id", "policy_id")
    )
    chosen, seen = [], set()
    for assignment in open_assignments.iterator():
        if assignment.person_id in seen:
            continue
        seen.add(assignment.person_id)
        chosen.append(assignment)
    random.Random(14).shuffle(chosen)
    chosen = chosen[:users]
    if len(chosen) < users:
        sys.exit(f"only {len(chosen)} employees have a policy open; use more --people")
    hashed = make_password(PASSWORD)  # one hash for all: hashing 50 would take a while
    User.objects.filter(pk__in=[a.person_id for a in chosen]).update(password=hashed)
    before = Acknowledgement.objects.count()
    connections.close_all()
    return [Person(a.person.email, a.person.full_name, a.policy.slug) for a in chosen], before


def _check(before: int, acknowledged: int) -> list[str]:
    """What went wrong with the acknowledgements (nothing: an empty list)."""
    from django.db.models import Count

    from policies.models import Acknowledgement
    from policies.services import verify_chain

    problems = []
    after = Acknowledgement.objects.count()
    if after - before != acknowledged:
        problems.append(
            f"{after - before} new acknowledgements for {acknowledged} acknowledgement POSTs "
            "that succeeded"
        )
    doubled = (
        Acknowledgement.objects.values("person_id", "version_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    if doubled:
        problems.append(f"{doubled} person/version pairs acknowledged more than once")
    verdict = verify_chain()
    if not verdict.ok:
        problems.append(f"the chain does not verify: {verdict.message}")
    print(
        f"acknowledgements: {before:,} before, {after:,} after ({after - before} new, "
        f"{acknowledged} POSTs succeeded); chain: {verdict.checked:,} records, "
        f"{'verifies' if verdict.ok else 'BROKEN'}"
    )
    return problems


# --- the web server -----------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_gunicorn(env: dict, port: int, workers: int, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "policyhub.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "60",
        "--preload",  # every worker ready when /healthz first answers
        "--error-logfile",
        str(log),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn stopped (exit {process.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):  # noqa: S310
                return process
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    _stop(process)
    sys.exit(f"gunicorn did not answer /healthz within 60 s; see {log}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- the simulated people -----------------------------------------------------------------


class _Forms(HTMLParser):
    """Each form's action and its inputs' names and values."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append((attrs.get("action") or "", {}))
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1][1][attrs["name"]] = attrs.get("value") or ""


def _form(html: str, action_pattern: str, *, having: str = "") -> tuple[str, dict] | None:
    """The first form whose action matches `action_pattern` (and has an input `having`)."""
    parser = _Forms()
    parser.feed(html)
    for action, inputs in parser.forms:
        if re.search(action_pattern, action) and (not having or having in inputs):
            return action, inputs
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Sample:
    kind: str
    ms: float
    ok: bool
    detail: str = ""


@dataclass
class Tally:
    samples: list[Sample] = field(default_factory=list)
    acknowledged: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


class Visitor:
    """One simulated person: their cookies, and the requests they make."""

    def __init__(self, person: Person, base: str, tally: Tally, seed: int):
        self.person, self.base, self.tally = person, base, tally
        self.rng = random.Random(seed)
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect
        )
        self.logged_in = False

    def request(self, kind, path, data=None, expect=(200,)) -> tuple[int, str, str]:
        """(status, body, Location) of one request, which is tallied under `kind`."""
        tally = self.tally
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        started = time.perf_counter()
        status, text, location = 0, "", ""
        try:
            with self.opener.open(self.base + path, data=body, timeout=60) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:  # 3xx (redirects not followed), 4xx, 5xx
            status, location = error.code, error.headers.get("Location", "")
            error.read()
        except (urllib.error.URLError, OSError) as error:
            detail = f"{type(error).__name__}: {error}"
            tally.add(Sample(kind, (time.perf_counter() - started) * 1000, False, detail))
            return 0, "", ""
        ok = status in expect
        tally.add(
            Sample(kind, (time.perf_counter() - started) * 1000, ok, "" if ok else str(status))
        )
        return status, text, location

    def log_in(self) -> None:
        """Through the login page's form, as a person would."""
        _, page, _ = self.request("login_page", "/accounts/login/")
        login = _form(page, r"", having="password")
        if login is None:
            self.tally.add(Sample("login", 0, False, "no login form"))
            return
        fields = {**login[1], "username": self.person.email, "password": PASSWORD}
        status, _, location = self.request("login", "/accounts/login/", fields, expect=(302,))
        self.logged_in = status == 302 and "login" not in location

    def browse(self, deadline: float) -> None:
        """Pages at random until `deadline`; the acknowledgement after a few of them."""
        if not self.logged_in:
            return
        seen, acknowledged = 0, False
        acknowledge_after = self.rng.randint(0, ACKNOWLEDGE_AFTER)
        policy_path = f"/policies/{self.person.policy_slug}/"
        kinds, weights = list(PAGES), [weight for _, weight in PAGES.values()]
        while time.monotonic() < deadline:
            if not acknowledged and seen >= acknowledge_after:
                acknowledged = True
                self.acknowledge(policy_path)
                continue
            kind = self.rng.choices(kinds, weights)[0]
            self.request(kind, PAGES[kind][0] or policy_path)
            seen += 1

    def acknowledge(self, policy_path: str) -> None:
        """The policy page, then its acknowledgement form sent: ticked, name typed."""
        _, page, _ = self.request("policy", policy_path)
        form = _form(page, r"/acknowledge/$")
        if form is None:
            self.tally.add(Sample("acknowledge", 0, False, "no acknowledgement form"))
            return
        fields = {**form[1], "confirmed": "on", "full_name": self.person.full_name}
        status, _, location = self.request("acknowledge", form[0], fields, expect=(302,))
        if status == 302 and "/acknowledgements/" in location:
            with self.tally.lock:
                self.tally.acknowledged += 1
        elif status == 302:
            self.tally.add(Sample("acknowledge", 0, False, f"redirected to {location}"))


# --- the run ------------------------------------------------------------------------------


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _report(tally: Tally, seconds: float | None, *, title: str) -> int:
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in tally.samples:
        by_kind[sample.kind].append(sample)
    total = len(tally.samples)
    errors = [s for s in tally.samples if not s.ok]
    rate = f" in {seconds:.1f} s: {total / seconds:.1f} requests/s" if seconds else ""
    print(f"\n{title}: {total:,} requests{rate}; {len(errors)} errors")
    print(f"  {'kind':<12} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}")
    for kind in ("login_page", "login", *PAGES, "acknowledge"):
        samples = by_kind.get(kind, [])
        if not samples:
            continue
        times = [s.ms for s in samples if s.ok] or [0.0]
        print(
            f"  {kind:<12} {len(samples):8,} {statistics.median(times):8.1f} "
            f"{_p95(times):8.1f} {sum(not s.ok for s in samples):6}"
        )
    if errors:
        kinds = defaultdict(int)
        for sample in errors:
            kinds[f"{sample.kind}: {sample.detail}"] += 1
        print("  errors: " + "; ".join(f"{k} ×{n}" for k, n in sorted(kinds.items())))
    return len(errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--people", type=int, default=2000, help="size of the organisation")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (postgres://…; its database policyhub_loadtest is "
        "dropped and made again) or 'sqlite'; default: DATABASE_URL, else sqlite",
    )
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args(argv)

    var_dir = Path(os.environ.get("VAR_DIR", ROOT / "var")) / "loadtest"
    var_dir.mkdir(parents=True, exist_ok=True)
    url = _database_url(args.database_url, var_dir)
    env = {
        **os.environ,
        "VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "policyhub.settings",
        "DEBUG": "false",
    }
    env.pop("DATABASE_URL", None)
    if url:
        env["DATABASE_URL"] = url
        print(f"load test database: {re.sub(r'//[^@/]*@', '//…@', url)}")
    else:
        os.environ.pop("DATABASE_URL", None)
        print(f"load test database: SQLite, {var_dir / 'policyhub.sqlite3'}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    people, before = _prepare(args.people, args.users)

    port = args.port or _free_port()
    log = var_dir / "gunicorn.log"
    server = _start_gunicorn(env, port, args.workers, log)
    print(
        f"gunicorn: {args.workers} workers on 127.0.0.1:{port} (log {log}); "
        f"{args.users} users for {args.seconds:g} s"
    )
    logins, tally = Tally(), Tally()
    base = f"http://127.0.0.1:{port}"
    try:
        visitors = [Visitor(person, base, logins, n) for n, person in enumerate(people)]
        # Everyone logs in first (all at once: hashing passwords is the login's cost),
        # then the timed run, in which every request counts.
        with ThreadPoolExecutor(max_workers=args.users) as pool:
            list(pool.map(Visitor.log_in, visitors))
            logged_in = sum(visitor.logged_in for visitor in visitors)
            print(f"{logged_in} of {len(visitors)} logged in; the run starts")
            for visitor in visitors:
                visitor.tally = tally
            started = time.monotonic()
            deadline = started + args.seconds
            list(pool.map(lambda visitor: visitor.browse(deadline), visitors))
            elapsed = time.monotonic() - started
    finally:
        _stop(server)
    _report(logins, None, title="logging in")
    errors = _report(tally, elapsed, title="the run") + sum(not s.ok for s in logins.samples)
    problems = _check(before, tally.acknowledged)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if errors or problems else 0


if __name__ == "__main__":
    sys.exit(main())
