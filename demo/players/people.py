"""Creates the demo organisation in demo/people.json (never in production): eight
departments, the documented demo accounts with their roles, the department heads and
the staff below them, with a management chain from the demo employee to the chief
executive."""

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from demo.players import load_story
from people import roles
from people.models import Department, User

STORY = load_story("people")
DEMO_PASSWORD = STORY["password"]
# (email, full name, department, job title, manager email, role group, site admin)
DEMO_ACCOUNTS = tuple(
    (
        account["email"],
        account["name"],
        account["department"],
        account["job_title"],
        account["manager"],
        account["role"],
        account["site_admin"],
    )
    for account in STORY["accounts"]
)
# Department heads who are not demo accounts: (email, name, department, title)
HEADS = tuple(
    (head["email"], head["name"], head["department"], head["job_title"]) for head in STORY["heads"]
)


def _staff_rows(heads_by_department: dict[str, str]) -> list[tuple]:
    first_names, last_names = STORY["first_names"], STORY["last_names"]
    rows = []
    index = 0
    for team in STORY["staff"]:
        department, count, title = team["department"], team["count"], team["job_title"]
        head = heads_by_department[department]
        team_lead = None
        for position in range(count):
            first = first_names[index % len(first_names)]
            # Past the end of the first names, shift the surnames so that no pair repeats.
            last = last_names[(index * 7 + index // len(first_names)) % len(last_names)]
            email = f"{first}.{last}@example.com".lower()
            # The first of a large team leads it; the rest report to that lead.
            if position == 0 and count >= 6:
                rows.append((email, f"{first} {last}", department, f"Senior {title}", head))
                team_lead = email
            else:
                rows.append((email, f"{first} {last}", department, title, team_lead or head))
            index += 1
    lines = STORY["reporting_lines"]
    for number, (email, name, department, title, _manager) in enumerate(rows):
        if email in lines:
            line = lines[email]
            rows[number] = (email, name, department, line["job_title"] or title, line["manager"])
    return rows


def _heads_by_department() -> dict[str, str]:
    heads = dict(STORY["heads_of_demo_accounts"])
    heads.update({dept: email for email, _, dept, _ in HEADS})
    return heads


def staff_rows() -> list[tuple[str, str, str, str, str]]:
    """The demo staff below the heads: (email, name, department, job title, manager)."""
    return _staff_rows(_heads_by_department())


@transaction.atomic
def seed_demo_organisation() -> dict[str, int]:
    """Create or refresh the demo organisation; running it again duplicates nothing."""
    departments = {}
    for name in STORY["departments"]:
        departments[name], _ = Department.objects.get_or_create(name=name)
    password_hash = make_password(DEMO_PASSWORD)
    # The groups come from a data migration; get_or_create also survives a flushed database.
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in roles.ROLE_GROUPS}

    people = [
        (email, name, dept, title, mgr) for email, name, dept, title, mgr, _, _ in DEMO_ACCOUNTS
    ]
    people += [
        (email, name, dept, title, "leader@example.com") for email, name, dept, title in HEADS
    ]
    people += staff_rows()

    time_zones, locations = STORY["time_zones"], STORY["locations"]
    created = 0
    users: dict[str, User] = {}
    for number, (email, name, dept, title, _manager) in enumerate(people, start=1):
        time_zone = time_zones[number % len(time_zones)]
        defaults = {
            "full_name": name,
            "department": departments[dept],
            "job_title": title,
            "employee_id": f"DEMO-{number:04d}",
            "location": locations[time_zone],
            "time_zone": time_zone,
            "is_active": True,
        }
        user, was_created = User.objects.update_or_create(
            email=email,
            defaults=defaults,
            create_defaults={**defaults, "password": password_hash},
        )
        created += was_created
        users[email] = user
    for email, _name, _dept, _title, manager in people:
        manager_user = users[manager] if manager else None
        if users[email].manager_id != (manager_user.pk if manager_user else None):
            users[email].manager = manager_user
            users[email].save(update_fields=["manager"])
    # Demo accounts: the documented password and roles, restored on every run.
    for email, _name, _dept, _title, _mgr, group, site_admin in DEMO_ACCOUNTS:
        user = users[email]
        user.password = password_hash
        user.is_staff = user.is_superuser = site_admin
        user.save(update_fields=["password", "is_staff", "is_superuser"])
        if group:
            user.groups.add(groups[group])
    return {"people": len(people), "created": created, "departments": len(departments)}
