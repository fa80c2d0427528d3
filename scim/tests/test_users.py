"""Users: the requests Okta and Microsoft Entra ID send (their documented examples, with
email-shaped userNames), creating, updating, patching and deactivating people, and the
refusals (SCIM errors with the right status and scimType; nothing changes)."""

import copy
from datetime import date

import pytest

from people import roles
from people.models import Department, User
from scim.models import ScimIdentity
from scim.tests.conftest import error_of

pytestmark = pytest.mark.django_db

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
POLICYHUB = "urn:ietf:params:scim:schemas:extension:policyhub:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

# Okta: "Create the user" (SCIM 2.0 protocol reference).
OKTA_CREATE = {
    "schemas": [USER],
    "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": True,
}
# Okta: "Update a specific user (PUT)": the whole user, with id and meta.
OKTA_PUT = {
    "schemas": [USER],
    "id": "{id}",
    "userName": "test.user@okta.local",
    "name": {"givenName": "Another", "middleName": "Username", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Another User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "active": True,
    "meta": {
        "resourceType": "User",
        "created": "2018-03-27T19:59:26.000Z",
        "lastModified": "2018-03-27T19:59:26.000Z",
    },
}
# Okta: "Deactivate the user": a path-less replace.
OKTA_DEACTIVATE = {
    "schemas": [PATCH_OP],
    "Operations": [{"op": "replace", "value": {"active": False}}],
}
# Microsoft Entra ID: "Create User", with the enterprise extension and the attributes of
# its default mapping that PolicyHub keeps or ignores.
ENTRA_CREATE = {
    "schemas": [USER, ENTERPRISE],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee@testuser.com",
    "active": True,
    "displayName": "Test User",
    "title": "Analyst",
    "preferredLanguage": "en-GB",
    "emails": [{"primary": True, "type": "work", "value": "Test_User_ab6490ee@testuser.com"}],
    "phoneNumbers": [{"type": "work", "value": "+44 20 7946 0000"}],
    "addresses": [
        {"type": "work", "formatted": "London HQ", "locality": "London", "country": "GB"}
    ],
    "meta": {"resourceType": "User"},
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName",
    },
    "roles": [],
    ENTERPRISE: {"employeeNumber": "701984", "department": "Tour Operations"},
}


def patch(*operations) -> dict:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def created(scim, body) -> User:
    response = scim.post("/Users", body)
    assert response.status_code == 201, response.content
    return User.objects.get(pk=response.json()["id"])


def snapshot() -> list[dict]:
    return list(User.objects.order_by("pk").values())


# Okta -------------------------------------------------------------------------------------------


def test_okta_creates_a_person_who_signs_in_by_email(scim, okta_client):
    response = scim.post("/Users", OKTA_CREATE)

    assert response.status_code == 201
    assert response["Content-Type"] == "application/scim+json"
    body = response.json()
    person = User.objects.get(email="test.user@okta.local")
    assert response["Location"] == f"http://127.0.0.1:8000/scim/v2/Users/{person.pk}"
    assert body["id"] == str(person.pk)
    assert body["userName"] == "test.user@okta.local" and body["active"] is True
    assert body["externalId"] == "00ujl29u0le5T6Aj10h7"
    assert body["name"] == {"formatted": "Test User", "givenName": "Test", "familyName": "User"}
    assert body["emails"] == [{"value": "test.user@okta.local", "type": "work", "primary": True}]
    assert person.full_name == "Test User" and person.is_active
    # The password Okta sent is never used: people sign in with SSO or reset their own.
    assert not person.has_usable_password()
    assert not person.is_staff and not person.is_superuser
    identity = ScimIdentity.objects.get(person=person)
    assert (identity.client, identity.external_id) == (okta_client, "00ujl29u0le5T6Aj10h7")


def test_okta_finds_a_person_by_user_name_before_creating_them(scim, employee):
    response = scim.get(
        "/Users",
        params={"filter": 'userName eq "Employee@Example.com"', "startIndex": "1", "count": "100"},
    )
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert (body["totalResults"], body["startIndex"], body["itemsPerPage"]) == (1, 1, 1)
    assert body["Resources"][0]["id"] == str(employee.pk)
    missing = scim.get("/Users", params={"filter": 'userName eq "nobody@example.com"'}).json()
    assert missing["totalResults"] == 0 and missing["Resources"] == []


def test_okta_updates_a_person_with_a_put(scim):
    person = created(scim, OKTA_CREATE)
    body = copy.deepcopy(OKTA_PUT)
    body["id"] = str(person.pk)

    response = scim.put(f"/Users/{person.pk}", body)

    assert response.status_code == 200
    person.refresh_from_db()
    assert person.full_name == "Another User"
    assert response.json()["name"]["givenName"] == "Another"


def test_okta_deactivates_a_person_with_a_path_less_replace(scim):
    person = created(scim, OKTA_CREATE)
    response = scim.patch(f"/Users/{person.pk}", OKTA_DEACTIVATE)
    assert response.status_code == 200 and response.json()["active"] is False
    person.refresh_from_db()
    assert not person.is_active
    # And back, when they are assigned the app again.
    again = patch({"op": "replace", "value": {"active": True}})
    assert scim.patch(f"/Users/{person.pk}", again).json()["active"] is True


# Microsoft Entra ID -----------------------------------------------------------------------------


def test_entra_creates_a_person_with_the_enterprise_extension(scim):
    person = created(scim, ENTRA_CREATE)
    assert person.email == "test_user_ab6490ee@testuser.com"
    assert person.full_name == "Test User"  # displayName wins over name
    assert (person.employee_id, person.department.name) == ("701984", "Tour Operations")
    assert (person.job_title, person.location) == ("Analyst", "London HQ")
    body = scim.get(f"/Users/{person.pk}").json()
    assert body[ENTERPRISE] == {"employeeNumber": "701984", "department": "Tour Operations"}
    assert body["addresses"] == [{"type": "work", "formatted": "London HQ", "primary": True}]
    assert "phoneNumbers" not in body and "roles" not in body


def test_entra_filters_by_user_name(scim):
    person = created(scim, ENTRA_CREATE)
    response = scim.get(
        "/Users", params={"filter": 'userName eq "Test_User_ab6490ee@testuser.com"'}
    )
    assert [r["id"] for r in response.json()["Resources"]] == [str(person.pk)]


def test_entra_patches_with_capitalised_ops_and_filtered_paths(scim):
    person = created(scim, ENTRA_CREATE)
    response = scim.patch(
        f"/Users/{person.pk}",
        patch(
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "other@testuser.com",
            },
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Replace", "path": 'addresses[type eq "work"].formatted', "value": "Leeds"},
            {"op": "Replace", "path": "title", "value": "Senior Analyst"},
        ),
    )
    assert response.status_code == 200
    person.refresh_from_db()
    # One address is kept, the userName; the family name rebuilds the full name.
    assert person.email == "test_user_ab6490ee@testuser.com"
    assert person.full_name == "givenName updatedFamilyName"
    assert (person.location, person.job_title) == ("Leeds", "Senior Analyst")


def test_entra_changes_the_user_name(scim):
    person = created(scim, ENTRA_CREATE)
    body = patch({"op": "Replace", "path": "userName", "value": "Renamed@TestUser.com"})
    assert scim.patch(f"/Users/{person.pk}", body).json()["userName"] == "renamed@testuser.com"
    person.refresh_from_db()
    assert person.email == "renamed@testuser.com"


@pytest.mark.parametrize("value", [False, "False", "false"])
def test_entra_disables_a_person_with_a_boolean_or_its_string(scim, value):
    person = created(scim, ENTRA_CREATE)
    body = patch({"op": "Replace", "path": "active", "value": value})
    assert scim.patch(f"/Users/{person.pk}", body).status_code == 200
    person.refresh_from_db()
    assert not person.is_active


def test_entra_path_less_value_map_with_extension_attributes(scim, manager):
    person = created(scim, ENTRA_CREATE)
    body = patch(
        {
            "op": "Replace",
            "value": {
                "displayName": "Tess User",
                "name.givenName": "Tess",
                f"{ENTERPRISE}:employeeNumber": "701985",
                f"{ENTERPRISE}:manager": str(manager.pk),
                f"{POLICYHUB}:startDate": "2026-01-05",
                "timezone": "Europe/London",
            },
        }
    )
    assert scim.patch(f"/Users/{person.pk}", body).status_code == 200
    person.refresh_from_db()
    assert (person.full_name, person.employee_id) == ("Tess User", "701985")
    assert (person.manager, person.start_date) == (manager, date(2026, 1, 5))
    assert person.time_zone == "Europe/London"


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": "{id}"},
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": {"value": "{id}"}},
        {"op": "Add", "path": "manager", "value": [{"$ref": None, "value": "{id}"}]},
        {"op": "replace", "path": f"{ENTERPRISE}:manager.value", "value": "{id}"},
    ],
)
def test_entra_sets_the_manager_in_each_of_its_shapes(scim, manager, operation):
    person = created(scim, ENTRA_CREATE)
    operation = {k: (str(manager.pk) if v == "{id}" else v) for k, v in operation.items()}
    if isinstance(operation["value"], dict):
        operation["value"] = {"value": str(manager.pk)}
    if isinstance(operation["value"], list):
        operation["value"] = [{"$ref": None, "value": str(manager.pk)}]
    response = scim.patch(f"/Users/{person.pk}", patch(operation))
    assert response.status_code == 200, response.content
    assert response.json()[ENTERPRISE]["manager"]["value"] == str(manager.pk)
    person.refresh_from_db()
    assert person.manager == manager


def test_entra_removes_the_manager(scim, employee):
    body = patch({"op": "Remove", "path": f"{ENTERPRISE}:manager"})
    assert scim.patch(f"/Users/{employee.pk}", body).status_code == 200
    employee.refresh_from_db()
    assert employee.manager is None


# Creating, updating, deactivating ---------------------------------------------------------------


def test_a_put_keeps_what_it_does_not_mention(scim, employee, manager):
    """An identity provider that maps no department or manager never wipes the import's."""
    employee.department = Department.objects.create(name="Sales")
    employee.employee_id, employee.start_date = "E7", date(2024, 2, 1)
    employee.save()
    body = {"schemas": [USER], "userName": employee.email, "displayName": "Emily Carter-Jones"}
    assert scim.put(f"/Users/{employee.pk}", body).status_code == 200
    employee.refresh_from_db()
    assert employee.full_name == "Emily Carter-Jones"
    assert (employee.department.name, employee.manager, employee.employee_id) == (
        "Sales",
        manager,
        "E7",
    )
    assert employee.start_date == date(2024, 2, 1)


def test_null_clears_an_attribute(scim, employee):
    employee.job_title = "Rep"
    employee.save()
    body = {
        "schemas": [USER],
        "userName": employee.email,
        "title": None,
        ENTERPRISE: {"manager": None},
    }
    assert scim.put(f"/Users/{employee.pk}", body).status_code == 200
    employee.refresh_from_db()
    assert employee.job_title == "" and employee.manager is None


def test_a_new_department_name_makes_the_department_and_case_finds_an_existing_one(scim):
    sales = Department.objects.create(name="Sales")
    body = {**OKTA_CREATE, ENTERPRISE: {"department": "sales"}, "schemas": [USER, ENTERPRISE]}
    assert created(scim, body).department == sales
    other = {**body, "userName": "b@example.com", ENTERPRISE: {"department": "Legal"}}
    assert created(scim, other).department.name == "Legal"


def test_delete_deactivates_and_never_deletes(scim, employee):
    response = scim.delete(f"/Users/{employee.pk}")
    assert response.status_code == 204 and response.content == b""
    employee.refresh_from_db()
    assert not employee.is_active
    # Still there for its history, and for matching a rehire by userName.
    found = scim.get("/Users", params={"filter": f'userName eq "{employee.email}"'}).json()
    assert found["Resources"][0]["active"] is False
    assert scim.delete(f"/Users/{employee.pk}").status_code == 204


def test_a_missing_user_is_404(scim):
    for path in ("/Users/999999", "/Users/not-a-number"):
        assert error_of(scim.get(path)) == (404, None)
        assert error_of(scim.patch(path, OKTA_DEACTIVATE)) == (404, None)
        assert error_of(scim.delete(path)) == (404, None)


def test_the_response_shows_what_a_person_has(scim, employee, make_person):
    employee.department = Department.objects.create(name="Sales")
    employee.employee_id, employee.job_title, employee.time_zone = "E1", "Rep", "Europe/Paris"
    employee.location, employee.start_date = "Paris", date(2025, 9, 1)
    employee.save()
    body = scim.get(f"/Users/{employee.pk}").json()
    assert body["schemas"] == [USER, ENTERPRISE, POLICYHUB]
    assert body["title"] == "Rep" and body["timezone"] == "Europe/Paris"
    assert body[ENTERPRISE]["manager"]["displayName"] == "Marcus Reid"
    assert body[POLICYHUB] == {"startDate": "2025-09-01"}
    assert body["meta"]["resourceType"] == "User"


# Refusals ---------------------------------------------------------------------------------------


def test_a_user_name_someone_has_is_409_uniqueness(scim, employee):
    before = snapshot()
    body = {**OKTA_CREATE, "userName": "EMPLOYEE@example.com"}
    assert error_of(scim.post("/Users", body)) == (409, "uniqueness")
    other = created(scim, OKTA_CREATE)
    before = snapshot()
    rename = patch({"op": "replace", "path": "userName", "value": employee.email})
    assert error_of(scim.patch(f"/Users/{other.pk}", rename)) == (409, "uniqueness")
    assert snapshot() == before


def test_an_employee_number_someone_has_is_409_uniqueness(scim, employee):
    employee.employee_id = "E1"
    employee.save()
    body = {**OKTA_CREATE, "schemas": [USER, ENTERPRISE], ENTERPRISE: {"employeeNumber": "E1"}}
    response = scim.post("/Users", body)
    assert error_of(response) == (409, "uniqueness")
    assert "already belongs to employee@example.com" in response.json()["detail"]
    assert not User.objects.filter(email="test.user@okta.local").exists()


def test_a_manager_cycle_is_400_invalid_value(scim, employee, manager):
    before = snapshot()
    body = patch({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": str(employee.pk)})
    response = scim.patch(f"/Users/{manager.pk}", body)
    assert error_of(response) == (400, "invalidValue")
    assert response.json()["detail"] == (
        "Manager cycle: manager@example.com → employee@example.com → manager@example.com."
    )
    own = patch({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": str(manager.pk)})
    response = scim.patch(f"/Users/{manager.pk}", own)
    assert error_of(response) == (400, "invalidValue")
    assert "cannot be their own manager" in response.json()["detail"]
    assert snapshot() == before


def test_a_longer_cycle_through_others_is_refused(scim, make_person):
    top = make_person()
    middle = make_person(manager=top)
    bottom = make_person(manager=middle)
    body = patch({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": str(bottom.pk)})
    assert error_of(scim.patch(f"/Users/{top.pk}", body)) == (400, "invalidValue")
    top.refresh_from_db()
    assert top.manager is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"userName": "not-an-email"}, "not a valid email address"),
        ({"userName": ""}, "userName is empty"),
        ({"userName": 42}, "must be a string"),
        ({"displayName": "", "name": None}, "displayName"),
        ({"timezone": "Mars/Olympus"}, "not a known time zone"),
        ({"active": "maybe"}, "active must be true or false"),
        ({POLICYHUB: {"startDate": "05/01/2026"}}, "startDate “05/01/2026” is not a date"),
        ({ENTERPRISE: {"manager": {"value": "999999"}}}, "no User with id “999999”"),
        ({"title": "x" * 201}, "title is longer than 200 characters"),
        ({"displayName": "Nul\x00Name"}, "contains a NUL character"),
    ],
)
def test_bad_values_are_400_invalid_value_and_change_nothing(scim, change, message):
    body = {**OKTA_CREATE, "schemas": [USER, ENTERPRISE, POLICYHUB], **change}
    before = snapshot()
    response = scim.post("/Users", body)
    assert error_of(response) == (400, "invalidValue"), response.content
    assert message in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        {**OKTA_CREATE, "favouriteColour": "green"},
        {**OKTA_CREATE, "isSuperuser": True},
        {**OKTA_CREATE, "name.givenName": "Dotted"},
        {**OKTA_CREATE, "urn:example:params:scim:schemas:extension:acme:2.0:User": {"x": 1}},
        {**OKTA_CREATE, "schemas": [USER, ENTERPRISE], ENTERPRISE: {"salary": 100}},
        {k: v for k, v in OKTA_CREATE.items() if k != "schemas"},
        {**OKTA_CREATE, "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]},
        ["not", "an", "object"],
    ],
)
def test_unknown_attributes_or_a_wrong_shape_are_400_invalid_syntax(scim, body):
    response = scim.post("/Users", body)
    assert error_of(response) == (400, "invalidSyntax")
    assert not User.objects.filter(email="test.user@okta.local").exists()


def test_a_body_that_is_not_json_is_400_invalid_syntax(scim, employee):
    assert error_of(scim.post("/Users", "{not json")) == (400, "invalidSyntax")
    assert error_of(scim.patch(f"/Users/{employee.pk}", b"\xff\xfe")) == (400, "invalidSyntax")


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "replace", "path": "favouriteColour", "value": "green"}, "invalidPath"),
        ({"op": "replace", "path": "isSuperuser", "value": True}, "invalidPath"),
        ({"op": "replace", "value": {"is_staff": True}}, "invalidPath"),
        ({"op": "replace", "path": "name.nickname", "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": "userName[", "value": "x"}, "invalidPath"),
        ({"op": "add", "path": "groups", "value": [{"value": "1"}]}, "mutability"),
        ({"op": "replace", "path": "id", "value": "5"}, "mutability"),
        ({"op": "remove"}, "noTarget"),
        ({"op": "remove", "path": "userName"}, "invalidValue"),
        ({"op": "remove", "path": "active"}, "invalidValue"),
        ({"op": "merge", "path": "title", "value": "x"}, "invalidSyntax"),
        ({"op": "replace", "path": "title"}, "invalidSyntax"),
        ({"op": "replace", "value": "not an object"}, "invalidSyntax"),
    ],
)
def test_bad_patches_are_refused_with_their_scim_type(scim, employee, operation, scim_type):
    before = snapshot()
    response = scim.patch(f"/Users/{employee.pk}", patch(operation))
    assert error_of(response) == (400, scim_type)
    assert snapshot() == before


def test_a_patch_without_its_schema_or_operations_is_400_invalid_syntax(scim, employee):
    no_schema = {"Operations": [{"op": "replace", "path": "title", "value": "x"}]}
    assert error_of(scim.patch(f"/Users/{employee.pk}", no_schema)) == (400, "invalidSyntax")
    empty = {"schemas": [PATCH_OP], "Operations": []}
    assert error_of(scim.patch(f"/Users/{employee.pk}", empty)) == (400, "invalidSyntax")


def test_a_patch_is_all_or_nothing(scim, employee):
    before = snapshot()
    body = patch(
        {"op": "replace", "path": "title", "value": "Changed"},
        {"op": "replace", "path": "timezone", "value": "Nowhere/Never"},
    )
    assert error_of(scim.patch(f"/Users/{employee.pk}", body)) == (400, "invalidValue")
    assert snapshot() == before


def test_attributes_with_no_place_in_policyhub_are_accepted_and_not_kept(scim):
    body = {
        **OKTA_CREATE,
        "nickName": "Testy",
        "preferredLanguage": "de",
        "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
        "roles": [{"value": "admin"}],
        "entitlements": [{"value": "superuser"}],
        "schemas": [USER, ENTERPRISE],
        ENTERPRISE: {"costCenter": "4130", "organization": "Universal Studios"},
    }
    person = created(scim, body)
    assert not person.is_superuser and not person.is_staff
    assert not person.groups.exists()


# Accounts a SCIM client must not take over ------------------------------------------------------


def test_a_site_admins_address_and_active_flag_never_change(scim, site_admin):
    before = snapshot()
    for operation in (
        {"op": "replace", "path": "userName", "value": "attacker@example.net"},
        {"op": "replace", "path": "active", "value": False},
    ):
        response = scim.patch(f"/Users/{site_admin.pk}", patch(operation))
        assert error_of(response) == (403, None)
    assert error_of(scim.delete(f"/Users/{site_admin.pk}")) == (403, None)
    assert snapshot() == before
    # Directory details are fine.
    title = patch({"op": "replace", "path": "title", "value": "IT"})
    assert scim.patch(f"/Users/{site_admin.pk}", title).status_code == 200


def test_a_deactivated_site_admin_is_not_reactivated(scim, site_admin):
    site_admin.is_active = False
    site_admin.save()
    body = patch({"op": "replace", "path": "active", "value": True})
    assert error_of(scim.patch(f"/Users/{site_admin.pk}", body)) == (403, None)
    site_admin.refresh_from_db()
    assert not site_admin.is_active


def test_a_role_holders_address_changes_only_with_a_client_that_may_assign_roles(
    scim, scim_with_roles, hr
):
    body = patch({"op": "replace", "path": "userName", "value": "someone.else@example.net"})
    response = scim.patch(f"/Users/{hr.pk}", body)
    assert error_of(response) == (403, None)
    assert "HR/Legal" in response.json()["detail"]
    hr.refresh_from_db()
    assert hr.email == "hr@example.com"
    assert scim_with_roles.patch(f"/Users/{hr.pk}", body).status_code == 200
    hr.refresh_from_db()
    assert hr.email == "someone.else@example.net"
    assert roles.is_hr_legal(hr)


def test_external_ids_are_kept_per_client(scim, scim_with_roles, employee):
    first = patch({"op": "replace", "path": "externalId", "value": "okta-1"})
    second = patch({"op": "replace", "path": "externalId", "value": "entra-1"})
    scim.patch(f"/Users/{employee.pk}", first)
    scim_with_roles.patch(f"/Users/{employee.pk}", second)
    assert scim.get(f"/Users/{employee.pk}").json()["externalId"] == "okta-1"
    assert scim_with_roles.get(f"/Users/{employee.pk}").json()["externalId"] == "entra-1"
    found = scim.get("/Users", params={"filter": 'externalId eq "okta-1"'}).json()
    assert [r["id"] for r in found["Resources"]] == [str(employee.pk)]
    assert (
        scim.get("/Users", params={"filter": 'externalId eq "entra-1"'}).json()["totalResults"] == 0
    )


# preferredLanguage ------------------------------------------------------------------------------


def test_preferred_language_is_the_persons_language_both_ways(scim):
    person = created(scim, {**ENTRA_CREATE, "preferredLanguage": "de-DE"})
    assert person.language == "de"
    resource = scim.get(f"/Users/{person.pk}").json()
    assert resource["preferredLanguage"] == "de"

    response = scim.patch(
        f"/Users/{person.pk}", patch({"op": "replace", "path": "preferredLanguage", "value": "FR"})
    )
    assert response.status_code == 200 and response.json()["preferredLanguage"] == "fr"
    person.refresh_from_db()
    assert person.language == "fr"

    put = {**resource, "preferredLanguage": "en"}
    assert scim.put(f"/Users/{person.pk}", put).json()["preferredLanguage"] == "en-gb"
    person.refresh_from_db()
    assert person.language == "en-gb"

    scim.patch(
        f"/Users/{person.pk}", patch({"op": "replace", "value": {"preferredLanguage": "de"}})
    )
    scim.patch(f"/Users/{person.pk}", patch({"op": "remove", "path": "preferredLanguage"}))
    person.refresh_from_db()
    assert person.language == "en-gb"  # removed: the site's default


def test_a_person_created_without_preferred_language_gets_the_default(scim):
    body = {key: value for key, value in ENTRA_CREATE.items() if key != "preferredLanguage"}
    assert created(scim, body).language == "en-gb"


@pytest.mark.parametrize("value", ["es", "klingon", 42])
def test_an_unsupported_preferred_language_is_refused_and_changes_nothing(scim, employee, value):
    before = snapshot()
    assert error_of(scim.post("/Users", {**ENTRA_CREATE, "preferredLanguage": value})) == (
        400,
        "invalidValue",
    )
    response = scim.patch(
        f"/Users/{employee.pk}",
        patch({"op": "replace", "path": "preferredLanguage", "value": value}),
    )
    assert error_of(response) == (400, "invalidValue")
    assert snapshot() == before


def test_an_unsupported_preferred_language_names_the_allowed_values(scim, employee):
    response = scim.patch(
        f"/Users/{employee.pk}",
        patch({"op": "replace", "path": "preferredLanguage", "value": "es"}),
    )
    assert "en-gb, de, fr" in response.json()["detail"]


def test_users_are_filtered_by_preferred_language(scim, employee, manager):
    employee.language = "de"
    employee.save()
    found = scim.get("/Users", {"filter": 'preferredLanguage eq "de-AT"'}).json()
    assert [resource["id"] for resource in found["Resources"]] == [str(employee.pk)]
    others = scim.get("/Users", {"filter": 'preferredLanguage ne "de"'}).json()
    assert str(employee.pk) not in [resource["id"] for resource in others["Resources"]]
    refused = scim.get("/Users", {"filter": 'preferredLanguage eq "es"'})
    assert error_of(refused) == (400, "invalidFilter")
