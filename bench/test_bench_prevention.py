"""`make bench`, prevention: the watch-list matcher at the size of a big watch list.

A synthetic watch list of 2,000 live entries (1,900 words and phrases, 100 regular
expressions: MAX_PATTERNS, the most the watch list should hold) is saved in
pytest-django's test database. Then:

- "Check a post": a 3,000-character draft checked the way the page checks it
  (current_watch_list(), one query once cached, then check_text() with the generic
  checks): median and p95 of BENCH_CHECKS runs (default 50); the first, cold run
  (loading and compiling the watch list) is shown apart.
- Intake: 10,000 feed items of about 300 characters matched against the watch list,
  total seconds; and the same with the generic checks as well.

It prints its table and adds a "prevention" entry to bench/results.json (written by
test_bench.py first when both run). Run it alone:

    .venv/bin/python -m pytest bench/test_bench_prevention.py -s -q -p no:cacheprovider

BENCH_PREVENTION=0 skips it in `make bench`.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time

import pytest
from django.utils import timezone

from bench.measure import database_name, p95, timed
from bench.test_bench import RESULTS, _mark
from incidents.models import Incident
from people.models import User
from prevention import matching
from prevention.models import WatchTerm

SEED = 20261203
TERMS = 1_900
PATTERNS = matching.MAX_PATTERNS
DRAFT_CHARS = 3_000
FEED_ITEMS = 10_000
FEED_ITEM_CHARS = 300
TARGET_DRAFT_MEDIAN_MS = 20
TARGET_FEED_SECONDS = 10

SYLLABLES = (
    "ka lo mi ra ten vor zu pel an dri qua sol nex tor bel fin gar hul ist ön ré ça om ix"
).split()
PROSE = (
    "We are thrilled to share that our team shipped the new release today after months of "
    "work with customers in Berlin, Paris and São Paulo. Thanks to everyone who helped! "
    "Join us at the meetup next Thursday, bring a friend and your questions. "
    "Our café in Zürich opens at nine; the naïve design of the first version is gone. "
    "#TeamSpirit #OpenSource @dev_rel_team congratulations to the whole crew, "
    "see the slides on our blog and the recording on the channel."
).split(" ")
PATTERN_SHAPES = (
    r"\bQ[1-4] (?:revenue|sales|margin)s?\b",
    r"\b\d{1,3}(?:,\d{3})+ (?:users|customers|subscribers)\b",
    r"\bPRJ-\d{4}\b",
    r"\b(?:EUR|USD|GBP) ?\d+(?:\.\d+)? ?(?:m|bn|million|billion)\b",
    r"\bmargin of \d+(?:\.\d+)? ?%",
    r"\bticket [A-Z]{2,5}-\d+\b",
    r"\b(?:build|release) \d+\.\d+\.\d+-rc\d*\b",
    r"\bcustomer id:? ?\d{6,10}\b",
    r"\bsalary band [A-F]\d?\b",
    r"\bheadcount (?:of )?\d+\b",
)


def _name(rng: random.Random) -> str:
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    return word.capitalize()


def _watch_list_rows(rng: random.Random, keeper: User) -> list[WatchTerm]:
    now = timezone.now()
    texts: set[str] = set()
    rows = []
    while len(texts) < TERMS:
        shape = rng.random()
        if shape < 0.45:
            text = _name(rng)
        elif shape < 0.85:
            text = f"{_name(rng)} {_name(rng)}"
        elif shape < 0.95:
            text = f"{_name(rng)}{_name(rng)}"  # camelCase code name
        else:
            text = f"{_name(rng)} {_name(rng)} {rng.randint(2, 9)}"
        if text in texts:
            continue
        texts.add(text)
        rows.append(("term", text))
    patterns: set[str] = set()
    while len(patterns) < PATTERNS:
        # Each shape about a different product or customer: "... for Kalomi".
        shape = PATTERN_SHAPES[len(patterns) % len(PATTERN_SHAPES)]
        patterns.add(f"{shape}(?: (?:at|for|of) {_name(rng)})?")
    rows += [("pattern", pattern) for pattern in sorted(patterns)]
    return [
        WatchTerm(
            kind=kind,
            text=text,
            category=Incident.Information.PRODUCT,
            severity=Incident.Severity.HIGH,
            explanation=f"{text} has not been announced.",
            policy_section="3. Confidential information",
            created_by=keeper,
            created_at=now,
            updated_at=now,
        )
        for kind, text in rows
    ]


def _text(rng: random.Random, chars: int, terms: list[str], hit_rate: float) -> str:
    """Prose of about `chars` characters; each word is a watch-list term with
    probability `hit_rate`."""
    words, length = [], 0
    while length < chars:
        word = rng.choice(terms) if rng.random() < hit_rate else rng.choice(PROSE)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:chars]


@pytest.mark.django_db
def test_bench_prevention():
    if os.environ.get("BENCH_PREVENTION", "1") == "0":
        pytest.skip("BENCH_PREVENTION=0")
    checks = int(os.environ.get("BENCH_CHECKS", "50"))
    rng = random.Random(SEED)
    keeper = User.objects.create_user(email="bench.keeper@example.com", full_name="Bench Keeper")
    WatchTerm.objects.bulk_create(_watch_list_rows(rng, keeper), batch_size=500)
    terms = list(WatchTerm.objects.filter(kind=WatchTerm.Kind.TERM).values_list("text", flat=True))
    terms += ["Q3 revenue", "12,500 customers", "EUR 4.5m", "ticket OPS-42"]  # patterns' hits
    matching.forget_current_watch_list()

    draft = _text(rng, DRAFT_CHARS, terms, 0.01)
    draft += "\nCall me on +44 20 7946 0958 or jane.doe@example.com. #" + terms[0].replace(" ", "")

    def check_a_post():
        return matching.check_text(draft, watch_list=matching.current_watch_list())

    findings, cold_seconds, cold_queries = timed(check_a_post)
    samples, queries = [], 0
    for _ in range(checks):
        _, seconds, queries = timed(check_a_post)
        samples.append(seconds * 1000)

    items = [_text(rng, FEED_ITEM_CHARS, terms, 0.004) for _ in range(FEED_ITEMS)]
    watch_list = matching.current_watch_list()
    began = time.perf_counter()
    matched = sum(bool(watch_list.match(item)) for item in items)
    feed_seconds = time.perf_counter() - began
    began = time.perf_counter()
    with_generic = sum(bool(matching.check_text(item, watch_list=watch_list)) for item in items)
    feed_generic_seconds = time.perf_counter() - began

    result = {
        "when": timezone.now().isoformat(timespec="seconds"),
        "database": database_name(),
        "entries": {"terms": TERMS, "patterns": PATTERNS},
        "draft": {
            "chars": len(draft),
            "findings": len(findings),
            "cold_ms": round(cold_seconds * 1000, 2),
            "cold_queries": cold_queries,
            "median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(p95(samples), 2),
            "queries": queries,
            "n": len(samples),
        },
        "feed": {
            "items": FEED_ITEMS,
            "chars_each": FEED_ITEM_CHARS,
            "matched": matched,
            "seconds": round(feed_seconds, 2),
            "with_generic_matched": with_generic,
            "with_generic_seconds": round(feed_generic_seconds, 2),
        },
        "targets": {
            "draft_median_ms": TARGET_DRAFT_MEDIAN_MS,
            "feed_seconds": TARGET_FEED_SECONDS,
        },
    }
    print("\n" + "\n".join(_report(result)))
    figures = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    figures["prevention"] = result
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    assert findings, "the draft holds watch-list terms: the check found nothing"
    assert matched, "some feed items hold watch-list terms: none matched"


def _report(result: dict) -> list[str]:
    draft, feed = result["draft"], result["feed"]
    entries = result["entries"]
    draft_ok = draft["median_ms"] <= TARGET_DRAFT_MEDIAN_MS
    feed_ok = feed["seconds"] <= TARGET_FEED_SECONDS
    feed_label = f"{feed['items']:,} feed items of {feed['chars_each']} characters"
    return [
        f"PolicyHub prevention bench on {result['database']}: a watch list of "
        f"{entries['terms']:,} terms and {entries['patterns']} patterns",
        "",
        f"  {'check':<42} {'median ms':>9} {'p95 ms':>8} {'queries':>7} {'n':>3}   "
        f"target ≤{TARGET_DRAFT_MEDIAN_MS} ms",
        f"  {'Check a post, ' + format(draft['chars'], ',') + '-character draft':<42} "
        f"{draft['median_ms']:9.1f} {draft['p95_ms']:8.1f} {draft['queries']:7d} "
        f"{draft['n']:3d}   {_mark(draft_ok)}",
        f"    first check, loading and compiling the watch list: {draft['cold_ms']:.0f} ms, "
        f"{draft['cold_queries']} queries; {draft['findings']} findings",
        "",
        f"  {'intake':<42} {'seconds':>9} {'matched':>8}   target ≤{TARGET_FEED_SECONDS} s",
        f"  {feed_label:<42} {feed['seconds']:9.2f} {feed['matched']:8,}   {_mark(feed_ok)}",
        f"  {'... with the generic checks too':<42} {feed['with_generic_seconds']:9.2f} "
        f"{feed['with_generic_matched']:8,}",
        "",
        f'  figures in {RESULTS} ("prevention")',
    ]
