"""Groups: Okta's group push and Microsoft Entra ID's group provisioning, role groups that
only a client allowed to assign roles may change, groups with Django permissions kept out
of sight, and no way at all to make anyone a superuser."""

import pytest
from django.contrib.auth.models import Group, Permission

from people import roles
from people.models import User
from policies.models import Policy
from policies.tests.factories import published_policy
from scim.tests.conftest import error_of

pytestmark = pytest.mark.django_db

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def patch(*operations) -> dict:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def members_of(group) -> set[int]:
    return set(group.user_set.values_list("pk", flat=True))


@pytest.fixture
def engineering():
    return Group.objects.create(name="Engineering")


def role_group(name: str) -> Group:
    return Group.objects.get_or_create(name=name)[0]


# Okta group push ---------------------------------------------------------------------------


def test_okta_pushes_a_new_group_with_members(scim, employee, outsider):
    body = {
        "schemas": [GROUP],
        "displayName": "Test SCIMv2",
        "members": [{"value": str(employee.pk), "display": employee.email}],
    }
    response = scim.post("/Groups", body)
    assert response.status_code == 201
    group = Group.objects.get(name="Test SCIMv2")
    assert response.json()["id"] == str(group.pk)
    assert response.json()["members"] == [
        {
            "value": str(employee.pk),
            "$ref": f"http://127.0.0.1:8000/scim/v2/Users/{employee.pk}",
            "display": "Emily Carter",
            "type": "User",
        }
    ]
    assert response["Location"] == f"http://127.0.0.1:8000/scim/v2/Groups/{group.pk}"
    assert members_of(group) == {employee.pk}


def test_okta_renames_a_group_repeating_its_id(scim, engineering):
    body = patch(
        {"op": "replace", "value": {"id": str(engineering.pk), "displayName": "Engineers"}}
    )
    response = scim.patch(f"/Groups/{engineering.pk}", body)
    assert response.status_code == 200 and response.json()["displayName"] == "Engineers"
    engineering.refresh_from_db()
    assert engineering.name == "Engineers"


def test_okta_adds_and_removes_members(scim, engineering, employee, outsider):
    add = patch(
        {
            "op": "add",
            "path": "members",
            "value": [
                {"value": str(employee.pk), "display": employee.email},
                {"value": str(outsider.pk), "display": outsider.email},
            ],
        }
    )
    assert scim.patch(f"/Groups/{engineering.pk}", add).status_code == 200
    assert members_of(engineering) == {employee.pk, outsider.pk}
    remove = patch({"op": "remove", "path": f'members[value eq "{outsider.pk}"]'})
    assert scim.patch(f"/Groups/{engineering.pk}", remove).status_code == 200
    assert members_of(engineering) == {employee.pk}


def test_okta_replaces_the_members(scim, engineering, employee, outsider):
    engineering.user_set.add(employee)
    body = patch({"op": "replace", "path": "members", "value": [{"value": str(outsider.pk)}]})
    assert scim.patch(f"/Groups/{engineering.pk}", body).status_code == 200
    assert members_of(engineering) == {outsider.pk}


def test_okta_deletes_a_group_no_audience_uses(scim, engineering, employee):
    engineering.user_set.add(employee)
    assert scim.delete(f"/Groups/{engineering.pk}").status_code == 204
    assert not Group.objects.filter(pk=engineering.pk).exists()
    assert User.objects.filter(pk=employee.pk).exists()


# Microsoft Entra ID -------------------------------------------------------------------------


def test_entra_creates_a_group_naming_its_own_schema_too(scim):
    body = {
        "schemas": [
            GROUP,
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
        ],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "Marketing",
        "meta": {"resourceType": "Group"},
    }
    response = scim.post("/Groups", body)
    assert response.status_code == 201 and response.json()["members"] == []


def test_entra_finds_a_group_by_name_without_its_members(scim, engineering, employee):
    engineering.user_set.add(employee)
    response = scim.get(
        "/Groups",
        params={"excludedAttributes": "members", "filter": 'displayName eq "engineering"'},
    )
    resources = response.json()["Resources"]
    assert [r["id"] for r in resources] == [str(engineering.pk)]
    assert "members" not in resources[0] and resources[0]["displayName"] == "Engineering"


def test_entra_checks_membership_with_a_members_filter(scim, engineering, employee, outsider):
    engineering.user_set.add(employee)

    def found(person) -> int:
        text = f'id eq "{engineering.pk}" and members[value eq "{person.pk}"]'
        params = {"filter": text, "excludedAttributes": "members"}
        return scim.get("/Groups", params=params).json()["totalResults"]

    assert (found(employee), found(outsider)) == (1, 0)


def test_entra_adds_and_removes_members_by_value(scim, engineering, employee, outsider):
    add = patch(
        {"op": "Add", "path": "members", "value": [{"$ref": None, "value": str(employee.pk)}]}
    )
    assert scim.patch(f"/Groups/{engineering.pk}", add).status_code == 200
    assert members_of(engineering) == {employee.pk}
    remove = patch(
        {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": str(employee.pk)}]}
    )
    assert scim.patch(f"/Groups/{engineering.pk}", remove).status_code == 200
    assert members_of(engineering) == set()


def test_entra_renames_with_a_path(scim, engineering):
    body = patch({"op": "Replace", "path": "displayName", "value": "Platform"})
    assert scim.patch(f"/Groups/{engineering.pk}", body).json()["displayName"] == "Platform"


def test_a_remove_of_members_without_a_value_empties_the_group(scim, engineering, employee):
    engineering.user_set.add(employee)
    assert (
        scim.patch(
            f"/Groups/{engineering.pk}", patch({"op": "remove", "path": "members"})
        ).status_code
        == 200
    )
    assert members_of(engineering) == set()


def test_a_user_lists_the_groups_they_are_in(scim, engineering, employee):
    engineering.user_set.add(employee)
    body = scim.get(f"/Users/{employee.pk}").json()
    assert body["groups"] == [
        {
            "value": str(engineering.pk),
            "$ref": f"http://127.0.0.1:8000/scim/v2/Groups/{engineering.pk}",
            "display": "Engineering",
        }
    ]


# Refusals ------------------------------------------------------------------------------------


def test_a_name_another_group_has_is_409_uniqueness(scim, engineering):
    for name in ("Engineering", "ENGINEERING"):
        response = scim.post("/Groups", {"schemas": [GROUP], "displayName": name})
        assert error_of(response) == (409, "uniqueness")
    other = Group.objects.create(name="Sales")
    rename = patch({"op": "replace", "path": "displayName", "value": "engineering"})
    assert error_of(scim.patch(f"/Groups/{other.pk}", rename)) == (409, "uniqueness")
    assert Group.objects.filter(name="Sales").exists()


def test_a_member_who_does_not_exist_is_400_invalid_value(scim, engineering, employee):
    body = patch(
        {
            "op": "add",
            "path": "members",
            "value": [{"value": str(employee.pk)}, {"value": "999999"}],
        }
    )
    response = scim.patch(f"/Groups/{engineering.pk}", body)
    assert error_of(response) == (400, "invalidValue")
    assert "999999" in response.json()["detail"]
    assert members_of(engineering) == set()


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "add", "path": "owners", "value": []}, "invalidPath"),
        ({"op": "add", "path": 'members[value eq "1"]', "value": []}, "invalidPath"),
        ({"op": "replace", "path": "members.display", "value": "x"}, "invalidPath"),
        ({"op": "remove", "path": "displayName"}, "invalidValue"),
        ({"op": "replace", "path": "displayName", "value": ""}, "invalidValue"),
        ({"op": "replace", "path": "id", "value": "7"}, "mutability"),
        ({"op": "add", "path": "members", "value": ["1"]}, "invalidValue"),
        ({"op": "remove"}, "noTarget"),
    ],
)
def test_bad_group_patches_are_refused(scim, engineering, operation, scim_type):
    assert error_of(scim.patch(f"/Groups/{engineering.pk}", patch(operation))) == (400, scim_type)
    engineering.refresh_from_db()
    assert engineering.name == "Engineering"


@pytest.mark.parametrize(
    "body",
    [
        {"schemas": [GROUP], "displayName": "X", "owner": "me"},
        {"schemas": [GROUP]},
        {"displayName": "No schemas"},
    ],
)
def test_bad_group_bodies_are_refused(scim, body):
    assert error_of(scim.post("/Groups", body))[0] == 400
    assert not Group.objects.filter(name__in=["X", "No schemas"]).exists()


def test_a_group_that_is_an_audience_is_not_deleted(scim, engineering, policy_admin, make_person):
    approver = make_person(group=roles.POLICY_ADMIN)
    published_policy(
        title="Engineering code of conduct",
        owner=policy_admin,
        approver=approver,
        audience=Policy.Audience.GROUPS,
        groups=[engineering],
    )
    response = scim.delete(f"/Groups/{engineering.pk}")
    assert error_of(response) == (409, None)
    assert "audience of a policy" in response.json()["detail"]
    assert Group.objects.filter(pk=engineering.pk).exists()


def test_a_missing_group_is_404(scim):
    assert error_of(scim.get("/Groups/999999")) == (404, None)
    assert error_of(scim.delete("/Groups/abc")) == (404, None)


# Roles and privileges ------------------------------------------------------------------------


def test_a_client_without_role_rights_cannot_change_a_role_group(scim, employee, hr):
    hr_legal = role_group(roles.HR_LEGAL)
    add = patch({"op": "add", "path": "members", "value": [{"value": str(employee.pk)}]})
    response = scim.patch(f"/Groups/{hr_legal.pk}", add)
    assert error_of(response) == (403, None)
    assert "may not assign roles" in response.json()["detail"]
    remove = patch({"op": "remove", "path": f'members[value eq "{hr.pk}"]'})
    assert error_of(scim.patch(f"/Groups/{hr_legal.pk}", remove)) == (403, None)
    assert members_of(hr_legal) == {hr.pk}
    assert not roles.is_hr_legal(User.objects.get(pk=employee.pk))


def test_a_client_without_role_rights_cannot_create_or_rename_into_a_role_group(scim, engineering):
    Group.objects.filter(name=roles.LEADERSHIP).delete()
    create = {"schemas": [GROUP], "displayName": roles.LEADERSHIP}
    assert error_of(scim.post("/Groups", create)) == (403, None)
    rename = patch({"op": "replace", "path": "displayName", "value": roles.LEADERSHIP})
    assert error_of(scim.patch(f"/Groups/{engineering.pk}", rename)) == (403, None)
    assert not Group.objects.filter(name=roles.LEADERSHIP).exists()


def test_a_client_that_may_assign_roles_changes_role_groups(scim_with_roles, employee):
    comms = role_group(roles.COMMS)
    add = patch({"op": "Add", "path": "members", "value": [{"value": str(employee.pk)}]})
    assert scim_with_roles.patch(f"/Groups/{comms.pk}", add).status_code == 200
    assert roles.is_comms(User.objects.get(pk=employee.pk))
    remove = patch({"op": "Remove", "path": "members", "value": [{"value": str(employee.pk)}]})
    assert scim_with_roles.patch(f"/Groups/{comms.pk}", remove).status_code == 200
    assert not roles.is_comms(User.objects.get(pk=employee.pk))


def test_role_groups_are_never_renamed_or_deleted(scim_with_roles, comms):
    group = role_group(roles.COMMS)
    rename = patch({"op": "replace", "path": "displayName", "value": "Communications"})
    assert error_of(scim_with_roles.patch(f"/Groups/{group.pk}", rename)) == (400, "mutability")
    assert error_of(scim_with_roles.delete(f"/Groups/{group.pk}")) == (400, "mutability")
    assert roles.is_comms(User.objects.get(pk=comms.pk))


def test_groups_with_django_permissions_are_out_of_sight(scim_with_roles, employee):
    admins = Group.objects.create(name="Directory editors")
    admins.permissions.set(Permission.objects.filter(codename="change_user"))
    assert error_of(scim_with_roles.get(f"/Groups/{admins.pk}")) == (404, None)
    listed = scim_with_roles.get("/Groups").json()["Resources"]
    assert str(admins.pk) not in {r["id"] for r in listed}
    add = patch({"op": "add", "path": "members", "value": [{"value": str(employee.pk)}]})
    assert error_of(scim_with_roles.patch(f"/Groups/{admins.pk}", add)) == (404, None)
    assert error_of(scim_with_roles.delete(f"/Groups/{admins.pk}")) == (404, None)
    assert members_of(admins) == set()


def test_no_request_makes_anyone_a_superuser_or_staff(scim_with_roles, employee):
    """Superuser and staff status are not attributes or groups here: every attempt is
    refused or has no effect, even from a client that may assign roles."""
    attempts = [
        (
            "PATCH",
            f"/Users/{employee.pk}",
            patch({"op": "replace", "path": "isSuperuser", "value": True}),
        ),
        ("PATCH", f"/Users/{employee.pk}", patch({"op": "replace", "value": {"is_staff": True}})),
        (
            "PATCH",
            f"/Users/{employee.pk}",
            patch({"op": "add", "path": "roles", "value": [{"value": "superuser"}]}),
        ),
        (
            "PATCH",
            f"/Users/{employee.pk}",
            patch({"op": "add", "path": "userType", "value": "Admin"}),
        ),
        (
            "PUT",
            f"/Users/{employee.pk}",
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": employee.email,
                "entitlements": [{"value": "superuser"}],
                "groups": [{"value": "1", "display": "Site admin"}],
            },
        ),
        (
            "POST",
            "/Groups",
            {
                "schemas": [GROUP],
                "displayName": "Site admin",
                "members": [{"value": str(employee.pk)}],
            },
        ),
        (
            "POST",
            "/Groups",
            {"schemas": [GROUP], "displayName": "Superusers", "permissions": ["all"]},
        ),
    ]
    for method, path, body in attempts:
        scim_with_roles.request(method, path, body)
    employee.refresh_from_db()
    assert not employee.is_superuser and not employee.is_staff
    assert not employee.user_permissions.exists()
    assert not Permission.objects.filter(group__user=employee).exists()
    assert not roles.is_site_admin(employee)


def test_membership_of_an_audience_group_reconciles_assignments(
    scim, engineering, employee, monkeypatch, django_capture_on_commit_callbacks
):
    from policies import tasks

    calls = []
    monkeypatch.setattr(tasks.reconcile_assignments, "apply_async", lambda **kw: calls.append(kw))
    add = patch({"op": "add", "path": "members", "value": [{"value": str(employee.pk)}]})
    with django_capture_on_commit_callbacks(execute=True):
        scim.patch(f"/Groups/{engineering.pk}", add)
    assert calls == [{"retry": False}]
    rename = patch({"op": "replace", "path": "displayName", "value": "Platform"})
    with django_capture_on_commit_callbacks(execute=True):
        scim.patch(f"/Groups/{engineering.pk}", rename)
    assert calls == [{"retry": False}]  # a name changes no audience
