"""The demo organisation that `manage.py seed_demo` creates (never in production)."""

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from people import roles
from people.models import Department, User

DEMO_PASSWORD = "policyhub-demo"  # noqa: S105 - documented demo password, refused on https sites

DEPARTMENTS = (
    "Executive",
    "Communications",
    "HR & Legal",
    "Policy & Compliance",
    "Sales",
    "Engineering",
    "Customer Support",
    "Finance",
)

# (email, full name, department, job title, manager email, role group, site admin)
DEMO_ACCOUNTS = (
    (
        "leader@example.com",
        "Leo Fischer",
        "Executive",
        "Chief Executive",
        None,
        roles.LEADERSHIP,
        False,
    ),
    (
        "comms@example.com",
        "Chloe Summers",
        "Communications",
        "Head of Communications",
        "leader@example.com",
        roles.COMMS,
        False,
    ),
    (
        "hr@example.com",
        "Hannah Brooks",
        "HR & Legal",
        "HR Business Partner",
        "leader@example.com",
        roles.HR_LEGAL,
        False,
    ),
    (
        "policyadmin@example.com",
        "Priya Shah",
        "Policy & Compliance",
        "Policy Manager",
        "leader@example.com",
        roles.POLICY_ADMIN,
        False,
    ),
    (
        "manager@example.com",
        "Marcus Reid",
        "Sales",
        "Sales Team Lead",
        "sales.head@example.com",
        None,
        False,
    ),
    (
        "employee@example.com",
        "Emily Carter",
        "Sales",
        "Account Executive",
        "manager@example.com",
        None,
        False,
    ),
    (
        "admin@example.com",
        "Adam Mills",
        "Executive",
        "IT Administrator",
        "leader@example.com",
        None,
        True,
    ),
)

# Department heads who are not demo accounts: (email, name, department, title)
HEADS = (
    ("sales.head@example.com", "Sofia Marin", "Sales", "Head of Sales"),
    ("engineering.head@example.com", "Daniel Osei", "Engineering", "Head of Engineering"),
    ("support.head@example.com", "Aisha Rahman", "Customer Support", "Head of Customer Support"),
    ("finance.head@example.com", "Tomasz Nowak", "Finance", "Finance Director"),
)

# The departments led by a demo account.
HEADS_OF_DEMO_ACCOUNTS = {
    "Executive": "leader@example.com",
    "Communications": "comms@example.com",
    "HR & Legal": "hr@example.com",
    "Policy & Compliance": "policyadmin@example.com",
}

FIRST_NAMES = (
    "Olivia",
    "Noah",
    "Amelia",
    "Liam",
    "Isla",
    "Oscar",
    "Mia",
    "Arthur",
    "Freya",
    "Theo",
    "Ava",
    "Leo",
    "Grace",
    "Jack",
    "Ruby",
    "Harry",
    "Ella",
    "George",
    "Lily",
    "Samir",
    "Zara",
    "Mateo",
    "Nora",
    "Kenji",
    "Ines",
    "Felix",
    "Maya",
    "Rafael",
    "Elif",
    "Owen",
    "Chiara",
    "Yusuf",
    "Hana",
    "Luca",
    "Saoirse",
    "Ibrahim",
    "Anya",
    "Dev",
    "Lucia",
    "Tariq",
    "Astrid",
    "Kofi",
    "Leila",
    "Bruno",
    "Mei",
    "Ciaran",
    "Sana",
    "Jonas",
)
LAST_NAMES = (
    "Hughes",
    "Patel",
    "Walsh",
    "Nguyen",
    "Kowalski",
    "Bennett",
    "Haddad",
    "Murphy",
    "Silva",
    "Johansson",
    "Ward",
    "Ito",
    "Campbell",
    "Mensah",
    "Dubois",
    "Gallagher",
    "Kaur",
    "Rossi",
    "Evans",
    "Novak",
    "Price",
    "Yilmaz",
    "Byrne",
    "Costa",
)
# Staff per department below its head (the demo accounts come on top).
STAFF = (
    ("Communications", 5, "Communications Officer"),
    ("HR & Legal", 4, "HR Advisor"),
    ("Policy & Compliance", 3, "Compliance Analyst"),
    ("Sales", 9, "Account Manager"),
    ("Engineering", 14, "Software Engineer"),
    ("Customer Support", 9, "Support Specialist"),
    ("Finance", 5, "Financial Analyst"),
)
# Marcus Reid (the demo manager) leads a small sales team of his own: the demo employee,
# two account managers and a senior account manager with two reports, so that his team
# view and the dashboards have direct and indirect reports. (email: manager, job title)
REPORTING_LINES = {
    "george.costa@example.com": ("manager@example.com", None),
    "samir.mensah@example.com": ("manager@example.com", "Senior Account Manager"),
    "lily.haddad@example.com": ("samir.mensah@example.com", None),
    "zara.price@example.com": ("samir.mensah@example.com", None),
}
TIME_ZONES = ("Europe/London", "Europe/London", "Europe/Berlin", "America/New_York")
LOCATIONS = {"Europe/London": "London", "Europe/Berlin": "Berlin", "America/New_York": "New York"}


def _staff_rows(heads_by_department: dict[str, str]) -> list[tuple]:
    rows = []
    index = 0
    for department, count, title in STAFF:
        head = heads_by_department[department]
        team_lead = None
        for position in range(count):
            first = FIRST_NAMES[index % len(FIRST_NAMES)]
            # Past the end of the first names, shift the surnames so that no pair repeats.
            last = LAST_NAMES[(index * 7 + index // len(FIRST_NAMES)) % len(LAST_NAMES)]
            email = f"{first}.{last}@example.com".lower()
            # The first of a large team leads it; the rest report to that lead.
            if position == 0 and count >= 6:
                rows.append((email, f"{first} {last}", department, f"Senior {title}", head))
                team_lead = email
            else:
                rows.append((email, f"{first} {last}", department, title, team_lead or head))
            index += 1
    for number, (email, name, department, title, _manager) in enumerate(rows):
        if email in REPORTING_LINES:
            new_manager, new_title = REPORTING_LINES[email]
            rows[number] = (email, name, department, new_title or title, new_manager)
    return rows


def staff_rows() -> list[tuple[str, str, str, str, str]]:
    """The demo staff below the heads: (email, name, department, job title, manager)."""
    heads = dict(HEADS_OF_DEMO_ACCOUNTS)
    heads.update({dept: email for email, _, dept, _ in HEADS})
    return _staff_rows(heads)


@transaction.atomic
def seed_demo_organisation() -> dict[str, int]:
    """Create or refresh the demo organisation; running it again duplicates nothing."""
    departments = {}
    for name in DEPARTMENTS:
        departments[name], _ = Department.objects.get_or_create(name=name)
    password_hash = make_password(DEMO_PASSWORD)
    # The groups come from a data migration; get_or_create also survives a flushed database.
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in roles.ROLE_GROUPS}

    heads_by_department = dict(HEADS_OF_DEMO_ACCOUNTS)
    heads_by_department.update({dept: email for email, _, dept, _ in HEADS})

    people = [
        (email, name, dept, title, mgr) for email, name, dept, title, mgr, _, _ in DEMO_ACCOUNTS
    ]
    people += [
        (email, name, dept, title, "leader@example.com") for email, name, dept, title in HEADS
    ]
    people += _staff_rows(heads_by_department)

    created = 0
    users: dict[str, User] = {}
    for number, (email, name, dept, title, _manager) in enumerate(people, start=1):
        defaults = {
            "full_name": name,
            "department": departments[dept],
            "job_title": title,
            "employee_id": f"DEMO-{number:04d}",
            "location": LOCATIONS[TIME_ZONES[number % len(TIME_ZONES)]],
            "time_zone": TIME_ZONES[number % len(TIME_ZONES)],
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
