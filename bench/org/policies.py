"""Policies, their versions and history, assignments (one line of them per major
version), declines, and the acknowledgements with their hash chain and its head."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from django.contrib.auth.models import Group

from bench.org.bulk import COPY_BATCH, bulk
from bench.org.people import People
from bench.org.scale import DAY, Org
from people import roles
from people.models import Department
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


def add_policies(org: Org, rng: random.Random, people: People) -> None:
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
    policies = bulk(Policy, policies, counts)
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
        versions = bulk(PolicyVersion, versions, counts)
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
        bulk(VersionEvent, events, counts, ids=False)

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
    bulk(Assignment, rows, ids=False)
    bulk(Decline, declines, ids=False)
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
            bulk(Acknowledgement, batch, ids=False)
            batch = []
    bulk(Acknowledgement, batch, ids=False)
    counts["Acknowledgement"] += len(acks)
    ChainHead.objects.update_or_create(
        id=1, defaults={"sequence": len(acks), "last_hash": previous}
    )
