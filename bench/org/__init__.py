"""A synthetic organisation for `make bench`, built fast and the same every time.

Rows are written in bulk, never through the services (they would take an hour at this
size): bulk_create for the rows whose ids are needed later (people, policies, versions,
sessions, incidents), and for the millions of rows that nothing refers to, one
`INSERT … VALUES` statement run over every row (SQLite's executemany) or COPY
(PostgreSQL), which skip the ORM's per-value work (see `bulk.py`). But the data is
what the services would have produced: statuses agree with their timestamps, publishing
a material version closed what was open and assigned the audience again, a minor
version carried the open assignments over, acknowledgements form a valid hash chain
with its head, incidents have the history rows of every step they took, and so on. A
fixed seed makes it deterministic (relative to `now`, which is when the bench runs).

The parts, in the order `build` makes them:

- `scale.py`: how much of everything an organisation of a given size has (`Scale`), and
  what `build` hands back to the bench (`Org`);
- `people.py`: departments, the management tree, role groups, joiners and leavers;
- `policies.py`: policies and their versions, assignments, declines and the
  acknowledgement hash chain;
- `training.py`: topics, requirements, sessions and bookings;
- `incidents.py`: incidents with their history, assessments, takedowns, actions and
  reviews;
- `bulk.py`: the bulk writer (bulk_create, SQLite INSERT, PostgreSQL COPY).
"""

from __future__ import annotations

import random
import time
from datetime import datetime

from django.db import connection
from django.utils import timezone

from bench.org.bulk import keeping_timestamps
from bench.org.incidents import add_incidents
from bench.org.people import People, add_people
from bench.org.policies import add_policies
from bench.org.scale import PEOPLE, Org, Scale
from bench.org.training import add_training
from dashboards import refill
from incidents.models import ActionItem, Incident
from people import roles
from policies.models import Policy, PolicyVersion
from training.models import Session

__all__ = ["PEOPLE", "SEED", "Org", "People", "Scale", "build", "roles"]

SEED = 20261125


def build(*, now: datetime | None = None, seed: int = SEED, people: int = PEOPLE) -> Org:
    """An organisation of `people` people (at least 1,000) and everything they did."""
    if people < 1000:
        raise ValueError("The synthetic organisation needs at least 1,000 people.")
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    rng = random.Random(seed)
    org = Org(now=now, scale=Scale(people))
    with keeping_timestamps(Policy, PolicyVersion, Session, Incident, ActionItem):
        people = add_people(org, rng)
        add_policies(org, rng, people)
        add_training(org, rng, people)
        add_incidents(org, rng, people)
    settle()
    started = time.perf_counter()
    refill.fill(now=now)
    org.months_filled_seconds = time.perf_counter() - started
    return org


def settle() -> None:
    """What autovacuum would long since have done to tables this size: on PostgreSQL,
    outside a transaction (the bench commits its organisation), VACUUM ANALYZE, so the
    visibility map lets index-only scans skip the table as they would in production;
    inside one (a test's), only ANALYZE, so the planner at least knows what is there."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
