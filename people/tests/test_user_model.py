import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.test import RequestFactory

from people import roles
from people.models import User


@pytest.mark.django_db
def test_role_groups_exist_after_migrations():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLE_GROUPS)


@pytest.mark.django_db
def test_email_is_stored_lower_case_and_login_ignores_case():
    user = User.objects.create_user(
        "  Ana.Lopez@Example.COM ", "s3cret-pass", full_name="Ana López"
    )
    assert user.email == "ana.lopez@example.com"
    # Login protection (django-axes) counts attempts per address, so it needs the request.
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username="ANA.LOPEZ@example.com", password="s3cret-pass") == user
    assert authenticate(request, username="ana.lopez@example.com", password="wrong") is None


@pytest.mark.django_db
def test_full_name_and_short_name():
    user = User.objects.create_user("ana@example.com", full_name="Ana María López")
    assert user.get_full_name() == "Ana María López"
    assert user.get_short_name() == "Ana"
    assert str(user) == "Ana María López"
    nameless = User.objects.create_user("x@example.com", full_name="")
    assert nameless.get_full_name() == "x@example.com"


@pytest.mark.django_db
def test_directory_fields_are_kept(make_person):
    from datetime import date

    from people.models import Department

    sales = Department.objects.create(name="Sales")
    boss = make_person()
    user = make_person(
        employee_id="E-17",
        department=sales,
        manager=boss,
        job_title="Account Executive",
        location="Leeds",
        time_zone="Europe/London",
        start_date=date(2026, 3, 1),
    )
    user.refresh_from_db()
    assert (user.department, user.manager, user.job_title) == (sales, boss, "Account Executive")
    assert (user.location, user.time_zone, user.start_date) == (
        "Leeds",
        "Europe/London",
        date(2026, 3, 1),
    )
    assert user.is_active


@pytest.mark.django_db
def test_same_email_in_other_case_is_refused():
    User.objects.create_user("ana@example.com", full_name="Ana")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="ANA@example.com", full_name="Ana again")


@pytest.mark.django_db
def test_employee_id_is_unique_when_given(make_person):
    make_person(employee_id="")
    make_person(employee_id="")  # blank ids do not clash
    make_person(employee_id="E-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_person(employee_id="E-1")


@pytest.mark.django_db
def test_nobody_is_their_own_manager(make_person):
    user = make_person()
    user.manager = user
    with pytest.raises(IntegrityError), transaction.atomic():
        user.save()


@pytest.mark.django_db
def test_unknown_time_zone_fails_validation(make_person):
    from django.core.exceptions import ValidationError

    user = make_person()
    user.time_zone = "Mars/Olympus"
    with pytest.raises(ValidationError, match="time zone"):
        user.full_clean()


@pytest.mark.django_db
def test_line_manager_means_active_direct_reports(make_person):
    boss = make_person()
    assert not roles.is_line_manager(boss)
    report = make_person(manager=boss, is_active=False)
    boss = User.objects.get(pk=boss.pk)
    assert not roles.is_line_manager(boss), "an inactive report does not make a line manager"
    report.is_active = True
    report.save()
    boss = User.objects.get(pk=boss.pk)
    assert roles.is_line_manager(boss)


@pytest.mark.django_db
def test_role_helpers(employee, manager, comms, hr, policy_admin, leader, site_admin):
    assert roles.role_labels(employee) == ["Employee"]
    assert roles.is_line_manager(manager) and roles.can_see_dashboards(manager)
    assert roles.is_comms(comms) and not roles.is_hr_legal(comms)
    assert roles.is_hr_legal(hr)
    assert roles.is_policy_admin(policy_admin) and roles.can_import_people(policy_admin)
    assert roles.is_leadership(leader) and roles.can_see_dashboards(leader)
    assert roles.is_site_admin(site_admin) and roles.can_import_people(site_admin)
    assert not roles.can_see_dashboards(employee)
    assert not roles.can_import_people(employee)
    assert not roles.can_import_people(comms)


@pytest.mark.django_db
def test_deactivated_person_loses_roles(comms):
    comms.is_active = False
    assert not roles.is_comms(comms)


@pytest.mark.django_db
def test_a_management_loop_is_refused_when_editing_a_person(make_person):
    from django.core.exceptions import ValidationError

    top = make_person(full_name="Top")
    middle = make_person(full_name="Middle", manager=top)
    bottom = make_person(full_name="Bottom", manager=middle)
    top.manager = bottom
    with pytest.raises(ValidationError, match="loop in the management chain"):
        top.full_clean()
    top.manager = top
    with pytest.raises(ValidationError, match="cannot be their own manager"):
        top.full_clean()
    top.manager = None
    bottom.manager = top  # a legal move
    bottom.full_clean()
