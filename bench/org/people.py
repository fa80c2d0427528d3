"""People and departments: eight divisions and their teams, the management tree (CEO,
division heads, directors, line managers, staff), the role groups, joiners and leavers."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import Group

from bench.org.bulk import bulk
from bench.org.scale import DAY, Org
from people import roles
from people.models import Department, User

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


def add_people(org: Org, rng: random.Random) -> People:
    counts = org.counts
    divisions = bulk(Department, (Department(name=name) for name in DIVISIONS), counts)
    subs = []
    for index, division in enumerate(divisions):
        for letter in "ABCD"[: 3 + index % 2]:
            subs.append(Department(name=f"{division.name} – Team {letter}", parent=division))
    subs = bulk(Department, subs, counts)
    deeper = bulk(
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
        bulk(User, users[low:high], counts)

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
    bulk(
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
