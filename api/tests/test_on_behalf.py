"""POST /api/v1/acknowledgements/on-behalf/: a policy admin's read-write token records an
acknowledgement given another way, with a reason, as on the version's compliance page."""

import pytest
from django.urls import reverse

from api.tests.conftest import READ_WRITE
from policies import services
from policies.models import Acknowledgement, Assignment, PolicyVersion
from policies.tests.factories import BODY_2, publish_version, published_policy

pytestmark = pytest.mark.django_db

ON_BEHALF = reverse("api:on_behalf")


@pytest.fixture
def version(policy_admin, leader, employee, outsider):
    _policy, version = published_policy(title="Social media", owner=policy_admin, approver=leader)
    return version


def post(client, **fields):
    data = {
        "version": fields.pop("version"),
        "email": "employee@example.com",
        "reason": "Signed the paper copy.",
        **fields,
    }
    return client.post(ON_BEHALF, data, format="json")


def nothing_changed(employee) -> bool:
    return (
        not Acknowledgement.objects.exists()
        and Assignment.objects.get(person=employee).status == Assignment.Status.OPEN
    )


def test_a_policy_admin_acknowledges_on_someones_behalf(api_as, version, policy_admin, employee):
    response = post(
        api_as(policy_admin, READ_WRITE), version=version.pk, email=" Employee@Example.com "
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    acknowledgement = Acknowledgement.objects.get()
    assert data["id"] == acknowledgement.pk
    assert data["method"] == "on_behalf"
    assert data["person"]["email"] == "employee@example.com"
    assert data["on_behalf_by"]["email"] == "policyadmin@example.com"
    assert data["on_behalf_reason"] == "Signed the paper copy."
    assert data["version"] == {"id": version.pk, "number": "1.0"}
    assert data["record_hash"] == acknowledgement.record_hash
    assert acknowledgement.method == Acknowledgement.Method.ON_BEHALF
    assert (acknowledgement.person, acknowledgement.on_behalf_by) == (employee, policy_admin)
    assert Assignment.objects.get(person=employee).status == Assignment.Status.ACKNOWLEDGED
    assert services.verify_chain().ok


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "hr", "leader", "site_admin"])
def test_only_policy_admins_may(api_as, version, request, role, employee):
    response = post(api_as(request.getfixturevalue(role), READ_WRITE), version=version.pk)
    assert response.status_code == 403
    assert response.json() == {"detail": "Only policy admins acknowledge on someone's behalf."}
    assert nothing_changed(employee)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"reason": ""}, "reason", "Say why you are acknowledging on someone's behalf."),
        ({"reason": "   "}, "reason", "Say why you are acknowledging on someone's behalf."),
        ({"reason": "x" * 2001}, "reason", "no more than 2000 characters"),
        ({"reason": "On paper\x00"}, "reason", "Null characters are not allowed."),
        ({"email": "not an email"}, "email", "valid email address"),
        ({"email": "nobody@example.com"}, "email", "nothing outstanding for this version"),
        ({"version": "abc"}, "version", "A valid integer is required."),
        ({"version": 99999}, "version", "There is no published version with id 99999."),
        ({"version": 2**40}, "version", "less than or equal to"),
    ],
)
def test_bad_input_is_refused_with_field_messages_and_changes_nothing(
    api_as, version, policy_admin, employee, fields, field, message
):
    fields.setdefault("version", version.pk)
    response = post(api_as(policy_admin, READ_WRITE), **fields)
    assert response.status_code == 400
    assert message in str(response.json()[field]), response.json()
    assert nothing_changed(employee)


def test_a_missing_field_is_named(api_as, version, policy_admin, employee):
    response = api_as(policy_admin, READ_WRITE).post(ON_BEHALF, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"version", "email", "reason"}
    assert nothing_changed(employee)


def test_a_draft_is_not_a_published_version(api_as, version, policy_admin, employee):
    draft = services.create_draft(policy=version.policy, author=policy_admin, body=BODY_2)
    response = post(api_as(policy_admin, READ_WRITE), version=draft.pk)
    assert response.status_code == 400
    assert "There is no published version" in response.json()["version"][0]
    assert nothing_changed(employee)


def test_a_superseded_version_points_to_the_current_one(
    api_as, version, policy_admin, leader, employee
):
    publish_version(
        version.policy,
        author=policy_admin,
        approver=leader,
        body=BODY_2,
        change=PolicyVersion.Change.MINOR,
    )
    response = post(api_as(policy_admin, READ_WRITE), version=version.pk)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Version 1.0 has been replaced by version 1.1; please read and acknowledge "
        "the current version."
    }
    assert nothing_changed(employee)


def test_someone_who_already_acknowledged_has_nothing_outstanding(
    api_as, version, policy_admin, employee
):
    services.acknowledge(version=version, user=employee, full_name=employee.full_name)
    response = post(api_as(policy_admin, READ_WRITE), version=version.pk)
    assert response.status_code == 400
    assert response.json() == {"email": ["That person has nothing outstanding for this version."]}
    assert Acknowledgement.objects.count() == 1


def test_a_policy_admin_cannot_acknowledge_for_themselves(api_as, version, policy_admin, employee):
    response = post(api_as(policy_admin, READ_WRITE), version=version.pk, email=policy_admin.email)
    assert response.status_code == 400
    assert response.json() == {"detail": "Acknowledge your own policies yourself."}
    assert not Acknowledgement.objects.exists()


def test_a_leaver_is_refused(api_as, version, policy_admin, employee):
    employee.is_active = False
    employee.save()
    response = post(api_as(policy_admin, READ_WRITE), version=version.pk)
    assert response.status_code == 400
    assert not Acknowledgement.objects.exists()
