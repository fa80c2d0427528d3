from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.urls import reverse

from people import roles
from people.audience import team_ids
from people.models import Department, User

pytestmark = pytest.mark.django_db

DEMO_EMAILS = (
    "employee@example.com",
    "manager@example.com",
    "comms@example.com",
    "hr@example.com",
    "policyadmin@example.com",
    "leader@example.com",
    "admin@example.com",
)


def _log_in(email: str, password: str):
    # Login protection (django-axes) counts attempts per address, so it needs the request.
    request = RequestFactory().post(reverse("login"))
    return authenticate(request, username=email, password=password)


def _snapshot():
    return sorted(
        User.objects.values_list("email", "full_name", "department__name", "manager__email")
    ), sorted(Department.objects.values_list("name", flat=True))


def test_seed_demo_creates_the_documented_accounts_and_organisation():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    for email in DEMO_EMAILS:
        assert _log_in(email, "policyhub-demo") is not None, email
        assert email in out.getvalue()
    people = User.objects.all()
    assert 55 <= people.count() <= 70
    assert Department.objects.count() >= 5
    employee = User.objects.get(email="employee@example.com")
    manager = User.objects.get(email="manager@example.com")
    assert employee.manager == manager and roles.is_line_manager(manager)
    assert roles.is_comms(User.objects.get(email="comms@example.com"))
    assert roles.is_hr_legal(User.objects.get(email="hr@example.com"))
    assert roles.is_policy_admin(User.objects.get(email="policyadmin@example.com"))
    assert roles.is_leadership(User.objects.get(email="leader@example.com"))
    assert roles.is_site_admin(User.objects.get(email="admin@example.com"))
    assert not roles.can_see_dashboards(employee)
    # A management chain: employee → manager → head of sales → chief executive.
    chain = []
    person = employee
    while person:
        chain.append(person.email)
        person = person.manager
    assert chain[-1] == "leader@example.com" and len(chain) == 4
    # Everyone but the chief executive has a manager, and every department has people.
    assert people.filter(is_active=True, manager__isnull=True).count() == 1
    assert not Department.objects.filter(members__isnull=True).exists()


def test_the_demo_manager_leads_a_team_with_direct_and_indirect_reports():
    call_command("seed_demo", stdout=StringIO())
    manager = User.objects.get(email="manager@example.com")
    direct = set(manager.direct_reports.values_list("email", flat=True))
    assert "employee@example.com" in direct and len(direct) >= 3
    team = set(User.objects.filter(pk__in=team_ids(manager)).values_list("email", flat=True))
    indirect = team - direct
    assert len(indirect) >= 2
    for email in indirect:
        assert User.objects.get(email=email).manager.manager == manager
    # Everyone in the team is in Sales, like their manager.
    assert set(User.objects.filter(email__in=team).values_list("department__name", flat=True)) == {
        "Sales"
    }


def test_seed_demo_twice_duplicates_nothing():
    call_command("seed_demo", stdout=StringIO())
    before = _snapshot()
    call_command("seed_demo", stdout=StringIO())
    assert _snapshot() == before


def test_seed_demo_restores_a_changed_demo_password():
    call_command("seed_demo", stdout=StringIO())
    user = User.objects.get(email="employee@example.com")
    user.set_password("something-else-1")
    user.save()
    call_command("seed_demo", stdout=StringIO())
    assert _log_in("employee@example.com", "policyhub-demo")


def test_seed_demo_refuses_a_site_served_over_https(settings):
    settings.SITE_IS_HTTPS = True
    with pytest.raises(CommandError, match="refuses"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()
