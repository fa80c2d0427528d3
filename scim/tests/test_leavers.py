"""One directory service for the HR import and SCIM: a leaver deactivated by either has
their open policy assignments closed the same way (the same task, asked for the same way,
with the same result), a rehire gets theirs back, and the service's own rules hold."""

import pytest

from people import roles
from people import services as directory
from people.importer import import_people
from people.models import User
from policies import services as policy_services
from policies.models import Assignment
from policies.tests.factories import published_policy

pytestmark = pytest.mark.django_db

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
DEACTIVATE = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]}
REACTIVATE = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": True}}]}


@pytest.fixture
def policy(policy_admin, make_person):
    approver = make_person(full_name="Ravi Patel", group=roles.POLICY_ADMIN)
    policy, _ = published_policy(title="Social media policy", owner=policy_admin, approver=approver)
    return policy


@pytest.fixture
def worker_runs_reconcile(monkeypatch):
    """The assignments task runs where it is asked for, as a worker would, and each ask is
    recorded: both ways out must ask in the same way."""
    from policies import tasks

    asks = []

    def apply_async(**options):
        asks.append(options)
        tasks.reconcile_assignments.apply()

    monkeypatch.setattr(tasks.reconcile_assignments, "apply_async", apply_async)
    return asks


def assignment(policy, person) -> Assignment:
    return Assignment.objects.get(policy=policy, person=person)


def assigned(policy, *people) -> None:
    """People who joined after publication get theirs at the next round."""
    policy_services.reconcile_assignments(policies=[policy])
    for person in people:
        assert assignment(policy, person).status == Assignment.Status.OPEN


def test_a_leaver_deactivated_by_scim_has_assignments_closed_exactly_as_by_the_import(
    policy, make_person, scim, worker_runs_reconcile, django_capture_on_commit_callbacks
):
    by_import = make_person(full_name="Ivy Import")
    by_scim = make_person(full_name="Sam Scim")
    stayer = make_person(full_name="Stan Stayer")
    assigned(policy, by_import, by_scim, stayer)

    with django_capture_on_commit_callbacks(execute=True):
        report = import_people(source=f"email,full_name,active\n{by_import.email},Ivy Import,no\n")
    assert report.ok and [c.email for c in report.deactivated] == [by_import.email]
    with django_capture_on_commit_callbacks(execute=True):
        assert scim.patch(f"/Users/{by_scim.pk}", DEACTIVATE).status_code == 200

    assert worker_runs_reconcile == [{"retry": False}, {"retry": False}]
    left_by_import, left_by_scim = assignment(policy, by_import), assignment(policy, by_scim)
    for closed in (left_by_import, left_by_scim):
        assert closed.status == Assignment.Status.CLOSED and closed.completed_at is not None
    same = ("status", "version_id", "due_date", "assigned_at")
    assert [getattr(left_by_import, f) for f in same] == [getattr(left_by_scim, f) for f in same]
    assert assignment(policy, stayer).status == Assignment.Status.OPEN
    assert not User.objects.get(pk=by_import.pk).is_active
    assert not User.objects.get(pk=by_scim.pk).is_active


def test_a_delete_closes_assignments_the_same_way(
    policy, employee, scim, worker_runs_reconcile, django_capture_on_commit_callbacks
):
    assigned(policy, employee)
    with django_capture_on_commit_callbacks(execute=True):
        assert scim.delete(f"/Users/{employee.pk}").status_code == 204
    assert worker_runs_reconcile == [{"retry": False}]
    assert assignment(policy, employee).status == Assignment.Status.CLOSED


def test_a_rehire_gets_the_assignment_back(
    policy, employee, scim, worker_runs_reconcile, django_capture_on_commit_callbacks
):
    assigned(policy, employee)
    with django_capture_on_commit_callbacks(execute=True):
        scim.patch(f"/Users/{employee.pk}", DEACTIVATE)
    assert assignment(policy, employee).status == Assignment.Status.CLOSED
    with django_capture_on_commit_callbacks(execute=True):
        scim.patch(f"/Users/{employee.pk}", REACTIVATE)
    assert assignment(policy, employee).status == Assignment.Status.OPEN


def test_a_joiner_created_by_scim_is_assigned(
    policy, scim, worker_runs_reconcile, django_capture_on_commit_callbacks
):
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "joiner@example.com",
        "name": {"givenName": "Jo", "familyName": "Iner"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = scim.post("/Users", body)
    joiner = User.objects.get(pk=response.json()["id"])
    assert joiner.full_name == "Jo Iner"
    assert assignment(policy, joiner).status == Assignment.Status.OPEN


def test_a_change_that_moves_nobody_asks_for_no_reconciliation(
    employee, scim, worker_runs_reconcile, django_capture_on_commit_callbacks
):
    body = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "title", "value": "Lead"}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        scim.patch(f"/Users/{employee.pk}", body)
    with django_capture_on_commit_callbacks(execute=True):
        scim.patch(f"/Users/{employee.pk}", body)  # and nothing at all changes the second time
    assert worker_runs_reconcile == []


def test_a_refused_change_asks_for_nothing(
    site_admin, scim, worker_runs_reconcile, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert scim.patch(f"/Users/{site_admin.pk}", DEACTIVATE).status_code == 403
    assert worker_runs_reconcile == []


# The directory service itself ---------------------------------------------------------------


def test_the_service_never_deactivates_a_site_admin(site_admin):
    with pytest.raises(directory.DirectoryError) as refused:
        directory.deactivate_person(person=site_admin)
    assert refused.value.code == directory.DirectoryError.PROTECTED
    assert User.objects.get(pk=site_admin.pk).is_active


def test_the_service_and_the_import_describe_a_cycle_in_the_same_words(employee, manager):
    with pytest.raises(directory.DirectoryError) as refused:
        directory.update_person(person=manager, values={"manager": employee})
    report = import_people(
        source=f"email,full_name,manager_email\n{manager.email},Marcus Reid,{employee.email}\n"
    )
    assert (
        report.errors[0].message
        == str(refused.value)
        == ("Manager cycle: manager@example.com → employee@example.com → manager@example.com.")
    )
    assert User.objects.get(pk=manager.pk).manager is None


def test_the_service_reads_values_as_the_import_does(employee):
    cases = {
        "time_zone": "Mars/Olympus",
        "start_date": "2024-02-30",
        "email": "not an email",
        "full_name": "",
    }
    for field, text in cases.items():
        with pytest.raises(directory.DirectoryError) as refused:
            directory.update_person(person=employee, values={field: text})
        column = "manager_email" if field == "manager" else field
        header = "email,full_name" + ("" if field in ("email", "full_name") else f",{column}")
        row = {
            "email": f"{text},Emily Carter",
            "full_name": f"{employee.email},{text}",
        }.get(field, f"{employee.email},Emily Carter,{text}")
        report = import_people(source=f"{header}\n{row}\n")
        assert [e.message for e in report.errors] == [refused.value.message], field
    employee.refresh_from_db()
    assert (employee.time_zone, employee.start_date, employee.email) == (
        "",
        None,
        "employee@example.com",
    )


def test_the_service_creates_a_person_with_the_department_found_as_the_import_finds_it():
    from people.models import Department

    sales = Department.objects.create(name="Sales")
    person = directory.create_person(
        values={"email": " New@Example.com ", "full_name": " New Person ", "department": "SALES"}
    )
    assert (person.email, person.full_name, person.department) == (
        "new@example.com",
        "New Person",
        sales,
    )
    assert not person.has_usable_password()
    with pytest.raises(directory.DirectoryError) as refused:
        directory.create_person(values={"email": "NEW@example.com", "full_name": "Again"})
    assert refused.value.code == directory.DirectoryError.DUPLICATE
