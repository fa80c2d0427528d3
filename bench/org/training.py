"""Training: topics, the three requirements, lunch briefings over the past year and the
next hundred days, and their bookings (attended, late, absent, excused or cancelled)."""

from __future__ import annotations

import bisect
import random
import uuid
from datetime import timedelta

from django.contrib.auth.models import Group

from bench.org.bulk import bulk
from bench.org.people import People
from bench.org.policies import POLICIES
from bench.org.scale import DAY, Org
from people import roles
from people.models import Department
from policies.models import Policy
from training.models import Booking, Requirement, Session, Topic

TOPICS = (
    ("Social media basics", 0.45),
    ("Speaking for the company", 0.15),
    ("Handling confidential information", 0.15),
    ("Incident response drill", 0.05),
    ("New joiner induction", 0.20),
)


def add_training(org: Org, rng: random.Random, people: People) -> None:
    counts, now = org.counts, org.now
    topics = bulk(Topic, (Topic(name=name) for name, _ in TOPICS), counts)
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
    sessions = bulk(Session, sessions, counts)
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
    bulk(Booking, bookings, counts, ids=False)
