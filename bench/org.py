"""A synthetic organisation for `make bench`, built fast and the same every time.

Rows are written in bulk, never through the services (they would take an hour at this
size): bulk_create for the rows whose ids are needed later (people, policies, versions,
sessions, incidents), and for the millions of rows that nothing refers to, one
`INSERT … VALUES` statement run over every row (SQLite's executemany) or COPY
(PostgreSQL), which skip the ORM's per-value work (see `_insert`). But the data is what
the services would have produced:
statuses agree with their timestamps, publishing a material version closed what was
open and assigned the audience again, a minor version carried the open assignments
over, acknowledgements form a valid hash chain with its head, incidents have the
history rows of every step they took, and so on. A fixed seed makes it deterministic
(relative to `now`, which is when the bench runs).
"""

from __future__ import annotations

import bisect
import io
import itertools
import json
import random
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from incidents import assessment as guide
from incidents.models import (
    ActionItem,
    Assessment,
    Incident,
    IncidentCounter,
    IncidentEvent,
    Review,
    Takedown,
)
from incidents.services import PLAN_TEMPLATES
from people import roles
from people.models import Department, User
from policies.models import (
    Acknowledgement,
    Assignment,
    ChainHead,
    Decline,
    Policy,
    PolicyVersion,
    VersionEvent,
    sha256_text,
)
from policies.services import GENESIS_HASH, record_hash
from training.models import Booking, Requirement, Session, Topic

SEED = 20261125
PEOPLE = 10_000  # the default size; SIZE=100000 make bench builds ten times as many
BATCH = 2000
DAY = timedelta(days=1)

FIRST = (
    "Alex Amira Ben Chloe Dara Elif Femi Grace Hana Ivan Jonas Kemi Lars Maya Nadia Omar "
    "Priya Quinn Rosa Sami Tara Umar Vera Will Xin Yara Zoe Aiko Bruno Carla"
).split()
LAST = (
    "Adams Baker Chen Diallo Evans Fischer Garcia Hughes Ito Jensen Khan Lopez Moreau "
    "Novak Okafor Patel Quist Rossi Silva Tanaka Udeh Varga Weber Xu Young Zhang"
).split()
TIME_ZONES = ("Europe/London", "Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
DIVISIONS = (
    "Sales",
    "Marketing",
    "Engineering",
    "Operations",
    "Finance",
    "Customer Service",
    "Communications",
    "People and Legal",
)


@dataclass(frozen=True)
class Scale:
    """How much of everything an organisation of `people` has: at 10,000 people, 64
    directors, 640 line managers, 400 training sessions with 20,000 bookings, 3,000
    incidents with 12,000 actions; the same per person at any other size (a director's
    and a manager's span stay the same, so one person's pages hold as much as before)."""

    people: int = PEOPLE

    def of(self, count: int, least: int = 1) -> int:
        return max(least, round(count * self.people / PEOPLE))

    @property
    def directors(self) -> int:
        return self.of(64, least=8)

    @property
    def managers(self) -> int:
        return self.of(640, least=16)

    @property
    def sessions(self) -> int:
        return self.of(SESSIONS, least=10)

    @property
    def past_sessions(self) -> int:
        return self.sessions * PAST_SESSIONS // SESSIONS

    @property
    def bookings(self) -> int:
        return self.of(BOOKINGS, least=300)

    @property
    def incidents(self) -> int:
        return self.of(INCIDENTS, least=100)

    @property
    def actions(self) -> int:
        return self.of(ACTIONS, least=400)


@dataclass
class Org:
    """What the bench needs to know about what was built."""

    now: datetime
    scale: Scale = field(default_factory=Scale)
    ceo: User = None
    viewer: User = None  # holds every role group: sees the most on role pages
    busy_manager: User = None  # a line manager with the most to do on My tasks
    division_head: User = None  # a team about an eighth of the company
    counts: Counter = field(default_factory=Counter)
    biggest_version: PolicyVersion = None
    tenth_version: PolicyVersion = None
    biggest_requirement: Requirement = None
    incident_statuses: Counter = field(default_factory=Counter)
    assignment_statuses: Counter = field(default_factory=Counter)  # "overdue" among "open"
    overdue_actions: int = 0


@contextmanager
def _keeping_timestamps(*models):
    """bulk_create would stamp auto_now(_add) fields with the current time; the bench
    needs them spread over the past, like a real history."""
    fields = [
        f for m in models for f in m._meta.concrete_fields if getattr(f, "auto_now_add", False)
    ]
    fields += [f for m in models for f in m._meta.concrete_fields if getattr(f, "auto_now", False)]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _bulk(model, rows, counts: Counter | None = None, *, ids: bool = True) -> list:
    """Save `rows`; with `ids` (bulk_create) each gets its primary key, without them the
    rows are written the fast way (`_insert`)."""
    rows = list(rows)
    if ids:
        model.objects.bulk_create(rows, batch_size=BATCH)
    else:
        _insert(model, rows)
    if counts is not None:
        counts[model.__name__] += len(rows)
    return rows


COPY_BATCH = 50_000


def _insert(model, rows: list) -> None:
    """Write model instances without the ORM's per-value preparation: every concrete
    field but an auto primary key, read off the instance (as bulk_create does with
    `_keeping_timestamps`), converted once by its type. SQLite: executemany of one
    INSERT; PostgreSQL: COPY … FROM STDIN in text format; other databases: bulk_create."""
    if not rows:
        return
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        model.objects.bulk_create(rows, batch_size=BATCH)
        return
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and f.get_internal_type() in ("AutoField", "BigAutoField"))
    ]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    converters = [_converter(f, vendor) for f in fields]
    attnames = [f.attname for f in fields]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), COPY_BATCH):
            chunk = rows[start : start + COPY_BATCH]
            values = [
                [
                    convert(getattr(row, name))
                    for name, convert in zip(attnames, converters, strict=True)
                ]
                for row in chunk
            ]
            if vendor == "sqlite":
                marks = ", ".join("?" * len(fields))
                # Django's cursor wrapper speaks %s; the raw sqlite3 cursor takes ? at C speed.
                cursor.cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 (names from the models)
                    values,
                )
            else:
                text = "".join("\t".join(line) + "\n" for line in values)
                cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO(text))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _converter(field, vendor: str):
    """value on the instance -> what the database is given: a Python value for sqlite3,
    a line's text for COPY."""
    kind = field.get_internal_type()
    if vendor == "sqlite":
        if kind == "DateTimeField":
            return connection.ops.adapt_datetimefield_value
        if kind in ("UUIDField", "JSONField", "DecimalField", "GenericIPAddressField"):
            return lambda value: field.get_db_prep_save(value, connection)
        if kind in ("CharField", "TextField", "SlugField", "EmailField"):
            return lambda value: value if value is None else str(value)  # TextChoices too
        return lambda value: value

    def text(value):
        if value is None:
            return "\\N"
        if value is True or value is False:
            return "t" if value else "f"
        if isinstance(value, (datetime, date)):
            return value.isoformat()
        return str(value).translate(_COPY_ESCAPES)

    if kind == "JSONField":
        return lambda value: text(None if value is None else json.dumps(value))
    if kind == "GenericIPAddressField":
        return lambda value: text(field.get_db_prep_save(value, connection))
    return text


def build(*, now: datetime | None = None, seed: int = SEED, people: int = PEOPLE) -> Org:
    """An organisation of `people` people (at least 1,000) and everything they did."""
    if people < 1000:
        raise ValueError("The synthetic organisation needs at least 1,000 people.")
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    rng = random.Random(seed)
    org = Org(now=now, scale=Scale(people))
    with _keeping_timestamps(Policy, PolicyVersion, Session, Incident, ActionItem):
        people = _people(org, rng)
        _policies(org, rng, people)
        _training(org, rng, people)
        _incidents(org, rng, people)
    if connection.vendor == "postgresql":
        # Autovacuum would have analysed tables this size long ago; inside the test's
        # transaction it cannot, so the planner is told what is there.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return org


# --- people ------------------------------------------------------------------------


@dataclass
class People:
    ids: list[int]
    active: list[int]
    by_division: dict[int, list[int]]  # division index -> active person ids
    division: dict[int, int | None]  # everyone's division index (leavers too)
    start: dict[int, datetime]  # when each person joined (09:00 on their start date)
    left: dict[int, datetime]  # when leavers left
    name: dict[int, str]
    manager: dict[int, int | None]
    groups: dict[str, list[int]]
    handlers: list[int]  # Comms and HR/Legal
    line_managers: list[int]


def _people(org: Org, rng: random.Random) -> People:
    counts = org.counts
    divisions = _bulk(Department, (Department(name=name) for name in DIVISIONS), counts)
    subs = []
    for index, division in enumerate(divisions):
        for letter in "ABCD"[: 3 + index % 2]:
            subs.append(Department(name=f"{division.name} – Team {letter}", parent=division))
    subs = _bulk(Department, subs, counts)
    deeper = _bulk(
        Department,
        (Department(name=f"{sub.name} – Squad 1", parent=sub) for sub in subs[: 40 - 8 - 28]),
        counts,
    )
    division_of = {d.pk: i for i, d in enumerate(divisions)}
    for d in subs:
        division_of[d.pk] = division_of[d.parent_id]
    for d in deeper:
        division_of[d.pk] = division_of[d.parent_id]
    subs_of = {i: [d for d in subs + deeper if division_of[d.pk] == i] for i in range(8)}

    # The management tree: CEO, 8 division heads, 64 directors, 640 managers, staff
    # (at 10,000 people; directors and managers in proportion at other sizes).
    scale = org.scale
    plan = [("ceo", None, divisions[0])]
    plan += [("head", 0, divisions[i]) for i in range(8)]
    plan += [
        ("director", 1 + i * 8 // scale.directors, rng.choice(subs_of[i * 8 // scale.directors]))
        for i in range(scale.directors)
    ]
    directors = range(9, 9 + scale.directors)
    for _ in range(scale.managers):
        boss = rng.choice(directors)
        plan.append(("manager", boss, plan[boss][2]))
    first_staff = 9 + scale.directors + scale.managers
    managers = range(9 + scale.directors, first_staff)
    while len(plan) < scale.people:
        boss = rng.choice(managers)
        plan.append(("staff", boss, None if rng.random() < 0.01 else plan[boss][2]))

    users = []
    now_date = org.now.date()
    for i, (level, _boss, department) in enumerate(plan):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        recent = rng.random() < 0.03
        start = now_date - timedelta(days=rng.randint(1, 60) if recent else rng.randint(61, 3650))
        users.append(
            User(
                email=f"{first}.{last}.{i}@example.com".lower(),
                full_name=f"{first} {last}",
                employee_id=f"E{i:05d}",
                department=department,
                job_title={"ceo": "Chief executive", "head": "Head of division"}.get(
                    level, level.title()
                ),
                location=rng.choice(("London", "Berlin", "New York", "Tokyo", "Remote")),
                time_zone=rng.choice(TIME_ZONES),
                start_date=start,
                # The first of the staff is the viewer, below.
                is_active=level != "staff" or i == first_staff or rng.random() >= 0.015,
                password="!bench",  # unusable: the bench logs in with force_login
                date_joined=org.now - (now_date - start),
            )
        )
    # A level at a time, so that everyone's manager already has an id.
    levels = (0, 1, 9, 9 + scale.directors, first_staff, len(users))
    for low, high in itertools.pairwise(levels):
        for user, (_level, boss, _department) in zip(users[low:high], plan[low:high], strict=True):
            user.manager_id = users[boss].pk if boss is not None else None
        _bulk(User, users[low:high], counts)

    ids = [u.pk for u in users]
    org.ceo = users[0]
    org.division_head = users[1]
    org.busy_manager = users[9]  # the first director: a line manager, no role group
    # A migration makes the role groups; a flushed test database may lack them.
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in roles.ROLE_GROUPS}
    staff = [u.pk for u in users[first_staff:] if u.is_active]
    members = {
        roles.COMMS: rng.sample(staff, 12),
        roles.HR_LEGAL: rng.sample(staff, 6),
        roles.POLICY_ADMIN: rng.sample(staff, 5),
        roles.LEADERSHIP: [u.pk for u in users[1:9]],
    }
    # The comms lead is one of the comms team (not drawn from the seed, so that the
    # rest of the organisation is the same as before the group existed).
    members[roles.COMMS_LEAD] = members[roles.COMMS][:1]
    viewer = users[first_staff]
    viewer.full_name = "Vic Viewer"
    viewer.save(update_fields=["full_name"])
    org.viewer = viewer
    for name in roles.ROLE_GROUPS:
        # A role group added later and not peopled above has only the viewer.
        members.setdefault(name, [])
        if viewer.pk not in members[name]:
            members[name].append(viewer.pk)
    through = User.groups.through
    _bulk(
        through,
        (
            through(user_id=pk, group_id=groups[name].pk)
            for name, pks in members.items()
            for pk in pks
        ),
        counts,
        ids=False,
    )
    at_nine = {
        u.pk: datetime.combine(u.start_date, datetime.min.time(), org.now.tzinfo) for u in users
    }
    left = {
        u.pk: org.now - timedelta(days=rng.randint(1, 300), hours=rng.randint(0, 8))
        for u in users
        if not u.is_active
    }
    for pk, when in left.items():
        left[pk] = max(when, at_nine[pk] + DAY)
    by_division: dict[int, list[int]] = {i: [] for i in range(8)}
    for u in users:
        if u.department_id is not None and u.is_active:
            by_division[division_of[u.department_id]].append(u.pk)
    return People(
        ids=ids,
        active=[u.pk for u in users if u.is_active],
        by_division=by_division,
        division={u.pk: division_of[u.department_id] if u.department_id else None for u in users},
        start={pk: when + timedelta(hours=9) for pk, when in at_nine.items()},
        left=left,
        name={u.pk: u.full_name for u in users},
        manager={u.pk: u.manager_id for u in users},
        groups=members,
        handlers=sorted(set(members[roles.COMMS] + members[roles.HR_LEGAL])),
        line_managers=[u.pk for u in users[:first_staff]],
    )


# --- policies ----------------------------------------------------------------------

# (title, category, audience divisions or "everyone"/"groups", minor third version)
POLICIES = (
    ("Social media policy", "social-media", "everyone", False),
    ("Acceptable use of IT", "acceptable-use", "everyone", True),
    ("Information security", "security", "everyone", False),
    ("Speaking to the press", "communications", "everyone", False),
    ("Sales communications", "communications", (0, 6, 7), False),
    ("Marketing content", "communications", (1, 3, 6), False),
    ("Open source contributions", "acceptable-use", (2, 7), True),
    ("Customer data on social media", "security", (5, 4, 0), False),
    ("Finance disclosures", "other", (4,), False),
    ("Incident handling confidentiality", "other", "groups", False),
)


def _policies(org: Org, rng: random.Random, people: People) -> None:
    counts, now = org.counts, org.now
    admins = people.groups[roles.POLICY_ADMIN]
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLE_GROUPS)}
    policies = []
    for i, (title, category, audience, _minor) in enumerate(POLICIES):
        kind = audience if isinstance(audience, str) else "departments"
        policies.append(
            Policy(
                title=title,
                slug=title.lower().replace(" ", "-"),
                category=category,
                owner_id=admins[i % len(admins)],
                audience=kind,
                acknowledgement_window_days=(14, 30)[i % 2],
                created_at=now - timedelta(days=700 + i),
            )
        )
    policies = _bulk(Policy, policies, counts)
    divisions = list(Department.objects.filter(parent=None).order_by("pk"))
    department_rows = []
    audiences: dict[int, list[int]] = {}
    for policy, (_t, _c, audience, _m) in zip(policies, POLICIES, strict=True):
        if audience == "everyone":
            audiences[policy.pk] = people.ids
        elif audience == "groups":
            names = (roles.COMMS, roles.HR_LEGAL)
            policy.audience_groups.add(*(groups[n] for n in names))
            audiences[policy.pk] = sorted({pk for n in names for pk in people.groups[n]})
        else:
            for index in audience:
                department_rows.append(
                    Policy.audience_departments.through(
                        policy_id=policy.pk, department_id=divisions[index].pk
                    )
                )
            # Leavers too: they were in the audience while they worked here.
            audiences[policy.pk] = [pk for pk in people.ids if people.division[pk] in audience]
    Policy.audience_departments.through.objects.bulk_create(department_rows)

    acks: list[tuple] = []  # (at, person, version pk, body hash, on behalf by)
    versions_made = []
    biggest = (0, None)
    line_sizes = []
    for i, (policy, (_t, _c, _a, minor)) in enumerate(zip(policies, POLICIES, strict=True)):
        # Three versions: 1.0 and 2.0 superseded, the last published (3.0, or 2.1 minor).
        published = [
            now - timedelta(days=rng.randint(420, 600)),
            now - timedelta(days=rng.randint(150, 300)),
            now - timedelta(days=rng.randint(2, 110), hours=rng.randint(0, 8)),
        ]
        numbers = [(1, 0), (2, 0), (2, 1)] if minor else [(1, 0), (2, 0), (3, 0)]
        versions = []
        for n, ((major, minor_number), at) in enumerate(zip(numbers, published, strict=True)):
            body = (
                f"## Purpose\n\n{policy.title}, version {major}.{minor_number}.\n\n"
                "## Rules\n\nBe kind."
            )
            author, approver = admins[(i + n) % len(admins)], admins[(i + n + 1) % len(admins)]
            versions.append(
                PolicyVersion(
                    policy=policy,
                    major=major,
                    minor=minor_number,
                    status="published" if n == 2 else "superseded",
                    body=body,
                    change_summary="Yearly review" if n else "",
                    change="minor" if (major, minor_number) == (2, 1) else "material",
                    effective_from=at.date(),
                    author_id=author,
                    approver_id=approver,
                    approved_at=at - timedelta(days=2),
                    published_at=at,
                    body_sha256=sha256_text(body),
                    created_at=at - timedelta(days=10),
                )
            )
        versions = _bulk(PolicyVersion, versions, counts)
        versions_made += versions
        events = []
        for n, version in enumerate(versions):
            at = version.published_at
            steps = [
                ("", "draft", version.author_id, at - timedelta(days=10)),
                ("draft", "in_review", version.author_id, at - timedelta(days=5)),
                ("in_review", "approved", version.approver_id, at - timedelta(days=2)),
                ("approved", "published", version.approver_id, at),
            ]
            if n < 2:
                steps.append(
                    ("published", "superseded", versions[n + 1].approver_id, published[n + 1])
                )
            events += [
                VersionEvent(version=version, from_status=a, to_status=b, by_id=by, at=when)
                for a, b, by, when in steps
            ]
        _bulk(VersionEvent, events, counts, ids=False)

        # The lines of assignments: one per major number.
        lines: dict[int, list[PolicyVersion]] = {}
        for version in versions:
            lines.setdefault(version.major, []).append(version)
        majors = sorted(lines)
        for m, major in enumerate(majors):
            line = lines[major]
            line_start = line[0].published_at
            line_end = lines[majors[m + 1]][0].published_at if m + 1 < len(majors) else None
            rows = _assign_line(
                rng,
                people,
                policy,
                line,
                line_start,
                line_end,
                audiences[policy.pk],
                now,
                acks,
                late={org.busy_manager.pk},
            )
            counts["Assignment"] += len(rows)
            org.assignment_statuses.update(a.status for a in rows)
            org.assignment_statuses["overdue"] += sum(
                1 for a in rows if a.status == "open" and a.due_date < now.date()
            )
            if line_end is None:
                size = sum(1 for a in rows if a.status != "closed")
                line_sizes.append((size, line[-1]))
                if size > biggest[0]:
                    biggest = (size, line[-1])
    org.biggest_version = biggest[1]
    tenth = biggest[0] / 10
    org.tenth_version = min(line_sizes, key=lambda pair: abs(pair[0] - tenth))[1]
    _chain(acks, people, counts, rng)


def _version_at(line: list[PolicyVersion], when: datetime) -> PolicyVersion:
    current = line[0]
    for version in line:
        if version.published_at <= when:
            current = version
    return current


def _assign_line(rng, people, policy, line, line_start, line_end, audience, now, acks, late):
    """One line of assignments (a major number): the audience assigned when the line
    began (joiners when they started), each acknowledged after a while, closed when
    the next material version came or they left, or still open (`late` people always
    are, on the current line)."""
    window = timedelta(days=policy.acknowledgement_window_days)
    admins = people.groups[roles.POLICY_ADMIN]
    rows, declines = [], []
    for pk in audience:
        left = people.left.get(pk)
        if left is not None and left <= line_start:
            continue
        if line_end is not None and people.start[pk] >= line_end:
            continue
        assigned_at = max(line_start, people.start[pk])
        due = (assigned_at.date() if assigned_at > line_start else line_start.date()) + window
        # Most acknowledge within days, some take months, a few never do.
        roll = rng.random()
        mean_days = 7 if roll < 0.75 else (90 if roll < 0.95 else 100_000)
        delay = rng.expovariate(1 / mean_days) * DAY.total_seconds()
        acknowledged_at = assigned_at + timedelta(seconds=min(delay, 1e9))
        ends = min(t for t in (line_end, left, now) if t is not None)
        assignment = Assignment(person_id=pk, policy=policy, due_date=due, assigned_at=assigned_at)
        if line_end is None and pk in late:
            acknowledged_at = now
        if acknowledged_at < ends:
            assignment.status, assignment.completed_at = "acknowledged", acknowledged_at
            assignment.version = _version_at(line, acknowledged_at)
            by = rng.choice(admins) if rng.random() < 0.02 else None
            acks.append((acknowledged_at, pk, assignment.version, by))
        elif ends < now:
            # Closed when the next material version came out, or when the person left.
            assignment.status, assignment.completed_at = "closed", ends
            assignment.version = _version_at(line, ends)
        elif rng.random() < 0.01:
            at = assigned_at + (now - assigned_at) / 2
            assignment.status, assignment.completed_at = "declined", at
            assignment.version = _version_at(line, at)
            declines.append(
                Decline(person_id=pk, version=assignment.version, reason="I disagree.", at=at)
            )
        else:
            assignment.status = "open"
            assignment.version = line[-1]
        rows.append(assignment)
    _bulk(Assignment, rows, ids=False)
    _bulk(Decline, declines, ids=False)
    return rows


def _chain(acks, people: People, counts: Counter, rng: random.Random) -> None:
    """Acknowledgements in time order, each hashed onto the previous one, and the head."""
    acks.sort(key=lambda row: (row[0], row[1]))
    previous, batch = GENESIS_HASH, []
    for sequence, (at, pk, version, by) in enumerate(acks, start=1):
        ack = Acknowledgement(
            sequence=sequence,
            person_id=pk,
            version_id=version.pk,
            acknowledged_at=at,
            typed_name=people.name[pk],
            ip_address=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            user_agent="Mozilla/5.0 (bench)",
            text_sha256=version.body_sha256,
            method="on_behalf" if by else "web",
            on_behalf_by_id=by,
            on_behalf_reason="Signed on paper" if by else "",
            previous_hash=previous,
        )
        ack.record_hash = previous = record_hash(ack)
        batch.append(ack)
        if len(batch) == COPY_BATCH:
            _bulk(Acknowledgement, batch, ids=False)
            batch = []
    _bulk(Acknowledgement, batch, ids=False)
    counts["Acknowledgement"] += len(acks)
    ChainHead.objects.update_or_create(
        id=1, defaults={"sequence": len(acks), "last_hash": previous}
    )


# --- training ----------------------------------------------------------------------

TOPICS = (
    ("Social media basics", 0.45),
    ("Speaking for the company", 0.15),
    ("Handling confidential information", 0.15),
    ("Incident response drill", 0.05),
    ("New joiner induction", 0.20),
)
SESSIONS, BOOKINGS, PAST_SESSIONS = 400, 20_000, 320


def _training(org: Org, rng: random.Random, people: People) -> None:
    counts, now = org.counts, org.now
    topics = _bulk(Topic, (Topic(name=name) for name, _ in TOPICS), counts)
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLE_GROUPS)}
    divisions = list(Department.objects.filter(parent=None).order_by("pk"))
    everyone = Requirement.objects.create(
        name="All staff: social media briefing every year",
        every_months=12,
        new_joiners_within_days=30,
    )
    everyone.accepted_topics.set(topics[:2])
    drill = Requirement.objects.create(
        name="Comms and HR/Legal: incident response drill", audience="groups", every_months=6
    )
    drill.audience_groups.set([groups[roles.COMMS], groups[roles.HR_LEGAL]])
    drill.accepted_topics.set([topics[3]])
    confidential = Requirement.objects.create(
        name="Sales and Marketing: confidential information",
        audience="departments",
        every_months=24,
    )
    confidential.audience_departments.set(divisions[:2])
    confidential.accepted_topics.set([topics[2]])
    counts["Requirement"] += 3
    org.biggest_requirement = everyone

    pools = {
        0: list(people.active),
        1: list(people.active),
        2: people.by_division[0] + people.by_division[1],
        3: list(people.handlers),
        4: [pk for pk in people.active if people.start[pk] > now - timedelta(days=400)],
    }
    admins = people.groups[roles.POLICY_ADMIN]
    social_policy = Policy.objects.get(title=POLICIES[0][0])
    sessions = []
    span = timedelta(days=365 + 100)
    total, past_total = org.scale.sessions, org.scale.past_sessions
    for n in range(total):
        if n < past_total:
            starts = now - timedelta(days=365) + span * (n / total)
        else:
            starts = (
                now
                + timedelta(days=2)
                + timedelta(days=98) * ((n - past_total) / (total - past_total))
            )
        starts = starts.replace(hour=12, minute=0)
        topic_index = rng.choices(range(len(TOPICS)), weights=[w for _, w in TOPICS])[0]
        past = starts < now
        cancelled = rng.random() < 0.04
        sessions.append(
            Session(
                title=f"{TOPICS[topic_index][0]} lunch briefing",
                topic=topics[topic_index],
                presenter_id=rng.choice(admins),
                organiser_id=rng.choice(admins),
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                time_zone="Europe/London",
                room=f"Room {rng.randint(1, 6)}.0{rng.randint(1, 9)}",
                capacity=60,
                lunch_cutoff=starts - DAY,
                status="cancelled" if cancelled else ("completed" if past else "scheduled"),
                checkin_code=f"B{n:05d}",
                cancelled_reason="Presenter ill" if cancelled else "",
                created_at=starts - timedelta(days=30),
            )
        )
    sessions = _bulk(Session, sessions, counts)
    Session.policies.through.objects.bulk_create(
        Session.policies.through(session_id=s.pk, policy_id=social_policy.pk)
        for s in sessions
        if s.topic_id == topics[0].pk
    )

    # How many bookings each session gets: about 50, exactly 20,000 in all, from the
    # people who had joined a few days before it (each pool sorted by start).
    topic_index = {t.pk: i for i, t in enumerate(topics)}
    for pool in pools.values():
        pool.sort(key=people.start.__getitem__)
    starts = {i: [people.start[pk] for pk in pool] for i, pool in pools.items()}
    joined = [
        bisect.bisect_left(starts[topic_index[s.topic_id]], s.starts_at - 3 * DAY) for s in sessions
    ]
    room = [min(n, 60) for n in joined]
    wanted = [min(rng.randint(38, 60), r) for r in room]
    wanted_total, booked = org.scale.bookings, sum(wanted)
    while booked != wanted_total:
        n = rng.randrange(total)
        if booked < wanted_total and wanted[n] < room[n]:
            wanted[n] += 1
            booked += 1
        elif booked > wanted_total and wanted[n] > 30:
            wanted[n] -= 1
            booked -= 1
    bookings = []
    for session, count, eligible in zip(sessions, wanted, joined, strict=True):
        pool = pools[topic_index[session.topic_id]]
        for pk in rng.sample(pool[:eligible], count):
            booked_at = session.starts_at - timedelta(
                days=rng.randint(3, 30), hours=rng.randint(0, 9)
            )
            booked_at = max(booked_at, people.start[pk])
            row = Booking(
                uid=uuid.UUID(int=rng.getrandbits(128), version=4),
                session=session,
                person_id=pk,
                booked_by_id=pk,
                booked_at=booked_at,
                lunch=rng.choice(("standard", "standard", "vegetarian", "vegan", "none")),
            )
            if session.status == "cancelled":
                row.status, row.cancelled_at = "cancelled", session.starts_at - 2 * DAY
            elif session.status == "scheduled":
                row.status = "booked"
            else:
                roll = rng.random()
                if roll < 0.78:
                    row.status, row.checked_in_at = (
                        "attended",
                        session.starts_at - timedelta(minutes=rng.randint(0, 10)),
                    )
                elif roll < 0.86:
                    row.status, row.checked_in_at = (
                        "late",
                        session.starts_at + timedelta(minutes=rng.randint(6, 30)),
                    )
                elif roll < 0.96:
                    row.status, row.marked_by_id = "absent", session.presenter_id
                else:
                    row.status, row.marked_by_id = "excused", session.presenter_id
            bookings.append(row)
    _bulk(Booking, bookings, counts, ids=False)


# --- incidents ---------------------------------------------------------------------

INCIDENTS, ACTIONS = 3000, 12_000
ORDER = ("reported", "triage", "contained", "classified", "remediation", "review", "closed")
# How long each step takes (hours): the lower and upper bound of a uniform draw.
STEP_HOURS = {
    "triage": (1, 24),
    "contained": (2, 72),
    "classified": (24, 240),
    "remediation": (12, 72),
    "review": (120, 960),
    "closed": (48, 480),
}
SEVERITIES = (("low", 0.35), ("medium", 0.4), ("high", 0.2), ("critical", 0.05))


def _incidents(org: Org, rng: random.Random, people: People) -> None:
    counts, now = org.counts, org.now
    handlers, hr = people.handlers, people.groups[roles.HR_LEGAL]
    reporters = people.active
    managers = people.line_managers
    busy = org.busy_manager.pk
    busy_reports = [pk for pk, boss in people.manager.items() if boss == busy]
    reported = sorted(
        now - timedelta(minutes=rng.randint(30, 365 * 24 * 60)) for _ in range(org.scale.incidents)
    )
    per_year: Counter = Counter()
    incidents, stories = [], []
    for n, at in enumerate(reported):
        year = timezone.localdate(at).year
        per_year[year] += 1
        severity = rng.choices([s for s, _ in SEVERITIES], weights=[w for _, w in SEVERITIES])[0]
        reporter = rng.choice(reporters)
        self_reported = rng.random() < 0.3
        nobody = rng.random() < 0.1
        involved = (
            []
            if nobody
            else ([reporter] if self_reported else rng.sample(reporters, rng.choice((1, 1, 2))))
        )
        if n % org.scale.of(60) == 0 and not nobody:
            involved = [rng.choice(busy_reports)]  # My tasks: reviews for the busy manager
        accountable = not self_reported and rng.random() < 0.12
        # Walk the workflow until the next step would be in the future, or it stalls.
        steps = [("reported", at)]
        for status in ORDER[1:]:
            low, high = STEP_HOURS[status]
            when = steps[-1][1] + timedelta(hours=rng.uniform(low, high))
            if when >= now or rng.random() < 0.04:
                break
            steps.append((status, when))
        status = steps[-1][0]
        owner = (
            (rng.choice(hr) if accountable else rng.choice(handlers)) if len(steps) > 1 else None
        )
        times = dict(steps)
        incidents.append(
            Incident(
                reference=f"INC-{year}-{per_year[year]:04d}",
                year=year,
                number=per_year[year],
                reporter_id=reporter,
                self_reported=self_reported,
                what_happened="A post shared something it should not have.",
                platform=rng.choice(Incident.Platform.values),
                url=f"https://social.example.com/post/{n}",
                posted_at=at - timedelta(hours=rng.randint(0, 48)),
                noticed_at=at,
                information=rng.choice(Incident.Information.values),
                estimated_reach=rng.choice((None, 50, 500, 5000, 50000)),
                severity=severity,
                no_individual_involved=nobody,
                status=status,
                track=(
                    "none"
                    if "classified" not in times
                    else ("accountability" if accountable else "learning")
                ),
                owner_id=owner,
                no_takedown_note="Nothing public to take down." if "contained" in times else "",
                contained_at=times.get("contained"),
                closed_at=times.get("closed"),
                version=len(steps) * 2,
                created_at=at,
                updated_at=steps[-1][1],
            )
        )
        stories.append((steps, involved, owner))
    incidents = _bulk(Incident, incidents, counts)
    IncidentCounter.objects.bulk_create(
        IncidentCounter(year=year, last=last) for year, last in per_year.items()
    )
    involved_rows = []
    for incident, (_steps, involved, _owner) in zip(incidents, stories, strict=True):
        involved_rows += [
            Incident.people_involved.through(incident_id=incident.pk, user_id=pk) for pk in involved
        ]
    _bulk(Incident.people_involved.through, involved_rows, counts, ids=False)

    # How many actions each incident in remediation or later has: the 5 of the track's
    # template, some plans cut down to 3 or given follow-ups, exactly 12,000 in all (at
    # 10,000 people).
    planned = [i for i, inc in enumerate(incidents) if inc.status in ORDER[4:]]
    plan_size = dict.fromkeys(planned, 5)
    wanted_actions, total = org.scale.actions, sum(plan_size.values())
    while total != wanted_actions:
        index = rng.choice(planned)
        if total < wanted_actions:
            plan_size[index] += 1
            total += 1
        elif plan_size[index] > 3:
            plan_size[index] -= 1
            total -= 1

    events, assessments, actions, reviews, takedowns = [], [], [], [], []
    for index, (incident, (steps, involved, owner)) in enumerate(
        zip(incidents, stories, strict=True)
    ):
        times = dict(steps)
        previous = ""
        for status, when in steps:
            by = incident.reporter_id if status == "reported" else owner
            events.append(
                IncidentEvent(
                    incident=incident,
                    what="status",
                    from_value=previous,
                    to_value=status,
                    by_id=by,
                    at=when,
                    note=("Self-reported" if incident.self_reported else "Reported")
                    if status == "reported"
                    else "",
                )
            )
            previous = status
        if owner:
            events.append(
                IncidentEvent(
                    incident=incident,
                    what="owner",
                    to_value=people.name[owner],
                    by_id=owner,
                    at=times["triage"] - timedelta(minutes=5),
                )
            )
        if "contained" in times:
            if rng.random() < 0.4:
                requested = times["triage"] + (times["contained"] - times["triage"]) / 3
                takedowns.append(
                    Takedown(
                        incident=incident,
                        what="The post",
                        asked_of=incident.get_platform_display(),
                        requested_at=requested,
                        requested_by_id=owner,
                        status=rng.choice(("removed", "removed", "refused")),
                        resolved_at=times["contained"] - timedelta(minutes=10),
                    )
                )
        if "classified" in times:
            classified = times["classified"]
            for pk in involved:
                outcome = (
                    rng.choice(("reckless", "deliberate"))
                    if incident.track == "accountability"
                    else rng.choice(("human_error", "human_error", "at_risk"))
                )
                answers = {
                    key: {"value": guide.NO, "by": owner, "at": classified.isoformat()}
                    for key in guide.ANSWER_KEYS
                }
                started = classified - timedelta(hours=rng.randint(2, 48))
                if rng.random() < 0.05:
                    assessments.append(
                        Assessment(
                            incident=incident,
                            person_id=pk,
                            act="Posted it",
                            question_set=guide.QUESTION_SET_VERSION,
                            answers=answers,
                            suggested_outcome=outcome,
                            final_outcome=outcome,
                            assessor_id=owner,
                            started_at=started - timedelta(hours=3),
                            finished_at=started - timedelta(hours=2),
                            superseded_at=started + timedelta(hours=1),
                        )
                    )
                assessments.append(
                    Assessment(
                        incident=incident,
                        person_id=pk,
                        act="Posted it",
                        question_set=guide.QUESTION_SET_VERSION,
                        answers=answers,
                        suggested_outcome=outcome,
                        final_outcome=outcome,
                        assessor_id=owner,
                        started_at=started,
                        finished_at=started + timedelta(hours=1),
                    )
                )
            events.append(
                IncidentEvent(
                    incident=incident,
                    what="track",
                    from_value="none",
                    to_value=incident.track,
                    by_id=owner,
                    at=classified - timedelta(minutes=30),
                )
            )
        if "remediation" in times:
            start = times["remediation"]
            due = start.date() + timedelta(
                days=settings.INCIDENT_ACTION_DUE_DAYS[incident.severity]
            )
            titles = list(PLAN_TEMPLATES[incident.track])[: plan_size[index]]
            titles += [f"Follow-up {k + 1}" for k in range(plan_size[index] - len(titles))]
            finished = times.get("review") or now
            for k, title in enumerate(titles):
                action_owner = owner if k % 2 == 0 else rng.choice(reporters)
                if incident.status == "remediation" and index % org.scale.of(97) == 0:
                    action_owner = busy  # My tasks: the busy manager owns a few
                created = start + timedelta(minutes=k)
                done = created + (finished - created) * rng.uniform(0.1, 0.95)
                closed_by_now = incident.status != "remediation" or rng.random() < 0.4
                action = ActionItem(
                    incident=incident,
                    title=title,
                    owner_id=action_owner,
                    due_date=due,
                    created_at=created,
                )
                if closed_by_now and done < now:
                    waived = rng.random() < 0.08
                    action.status = "waived" if waived else "done"
                    action.note = "Not needed after all." if waived else "Done."
                    action.completed_at, action.completed_by_id = done, action_owner
                    events.append(
                        IncidentEvent(
                            incident=incident,
                            what="action",
                            to_value=action.status,
                            by_id=action_owner,
                            at=done,
                            note=f"{title}: {action.note}",
                        )
                    )
                actions.append(action)
                events.append(
                    IncidentEvent(
                        incident=incident,
                        what="action",
                        to_value="added",
                        by_id=owner,
                        at=created,
                        note=title,
                    )
                )
        if "review" in times:
            written = times["review"] - timedelta(hours=2)
            signed = "closed" in times or rng.random() < 0.5
            signer = people.manager.get(involved[0]) if involved else None
            if signer in (None, owner):
                signer = rng.choice([m for m in managers[:80] if m != owner])
            if incident.status == "review" and involved and involved[0] in busy_reports:
                signed, signer = False, None
            signed_at = (
                times["closed"] - timedelta(hours=1)
                if "closed" in times
                else times["review"] + (now - times["review"]) / 2
            )
            reviews.append(
                Review(
                    incident=incident,
                    summary="What happened, without blame.",
                    contributing_factors="No checklist for posting.",
                    spotted_sooner="A second pair of eyes.",
                    written_by_id=owner,
                    written_at=written,
                    signed_off_by_id=signer if signed else None,
                    signed_off_at=signed_at if signed else None,
                )
            )
            events.append(
                IncidentEvent(
                    incident=incident, what="review", to_value="written", by_id=owner, at=written
                )
            )
            if signed:
                events.append(
                    IncidentEvent(
                        incident=incident,
                        what="review",
                        to_value="signed off",
                        by_id=signer,
                        at=signed_at,
                    )
                )
    _bulk(Takedown, takedowns, counts, ids=False)
    _bulk(Assessment, assessments, counts, ids=False)
    _bulk(ActionItem, actions, counts, ids=False)
    _bulk(Review, reviews, counts, ids=False)
    _bulk(IncidentEvent, events, counts, ids=False)
    org.incident_statuses = Counter(i.status for i in incidents)
    org.overdue_actions = sum(1 for a in actions if a.status == "open" and a.due_date < now.date())
