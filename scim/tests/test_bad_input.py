"""Input no identity provider should send, refused with a SCIM error and never a server
error: ids that are digits only to Unicode or too long for any row, a startIndex past
any database's range, bodies nested too deeply or too large, NUL in a filter."""

import pytest
from django.contrib.auth.models import Group

from people.models import User
from scim.ids import scim_id
from scim.tests.conftest import error_of

pytestmark = pytest.mark.django_db

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
# "²" and "٣" are digits to str.isdigit; int() refuses the first and reads the second.
NOT_IDS = ["²", "٣", "1²", "99999999999999999999999", "0", "-1", " 1", "1.0"]


def snapshot():
    return (
        sorted(User.objects.values_list("pk", "email", "is_active", "manager_id")),
        sorted(Group.objects.values_list("pk", "name")),
        sorted(User.groups.through.objects.values_list("user_id", "group_id")),
    )


@pytest.fixture
def engineering():
    return Group.objects.create(name="Engineering")


def test_only_ascii_digits_in_range_name_a_resource():
    assert [scim_id(text) for text in ("1", "42", str(2**63 - 1))] == [1, 42, 2**63 - 1]
    not_ids = [*NOT_IDS, str(2**63), "", None, 7]
    assert [scim_id(text) for text in not_ids] == [None] * len(not_ids)


@pytest.mark.parametrize("resource_id", NOT_IDS)
def test_a_user_or_group_id_that_names_nothing_is_404(scim, employee, engineering, resource_id):
    before = snapshot()
    for kind in ("Users", "Groups"):
        path = f"/{kind}/{resource_id}"
        assert error_of(scim.get(path)) == (404, None), path
        assert error_of(scim.delete(path)) == (404, None), path
        patch = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {}}]}
        assert error_of(scim.patch(path, patch)) == (404, None), path
    assert snapshot() == before


@pytest.mark.parametrize("resource_id", ["²", "٣", "99999999999999999999999"])
def test_a_manager_id_that_names_nobody_is_400_invalid_value(scim, employee, resource_id):
    before = snapshot()
    body = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": f"{ENTERPRISE}:manager", "value": resource_id}],
    }
    response = scim.patch(f"/Users/{employee.pk}", body)
    assert error_of(response) == (400, "invalidValue")
    assert f"no User with id “{resource_id}”" in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("resource_id", ["²", "٣", "99999999999999999999999"])
def test_a_member_id_that_names_nobody_is_400_invalid_value(
    scim, employee, engineering, resource_id
):
    before = snapshot()
    members = [{"value": str(employee.pk)}, {"value": resource_id}]
    response = scim.post("/Groups", {"schemas": [GROUP], "displayName": "New", "members": members})
    assert error_of(response) == (400, "invalidValue")
    assert f"“{resource_id}”" in response.json()["detail"]
    add = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": members}],
    }
    assert error_of(scim.patch(f"/Groups/{engineering.pk}", add)) == (400, "invalidValue")
    assert snapshot() == before


@pytest.mark.parametrize("resource_id", ["²", "٣", "99999999999999999999999"])
def test_filtering_by_an_id_that_names_nothing_finds_nothing(
    scim, employee, engineering, resource_id
):
    employee.groups.add(engineering)
    for path, text in (
        ("/Users", f'id eq "{resource_id}"'),
        ("/Groups", f'id eq "{resource_id}"'),
        ("/Groups", f'members eq "{resource_id}"'),
        ("/Groups", f'members.value eq "{resource_id}"'),
    ):
        response = scim.get(path, params={"filter": text})
        assert response.status_code == 200, (text, response.content)
        assert (response.json()["totalResults"], response.json()["Resources"]) == (0, [])
    response = scim.get("/Users", params={"filter": f'id ne "{resource_id}"'})
    assert response.json()["totalResults"] == User.objects.count()


@pytest.mark.parametrize("start", ["99999999999999999999999", str(2**31), str(2**63)])
def test_a_start_index_past_any_row_is_an_empty_page(scim, employee, start):
    for path in ("/Users", "/Groups"):
        response = scim.get(path, params={"startIndex": start, "count": "10"})
        assert response.status_code == 200, response.content
        page = response.json()
        assert (page["startIndex"], page["itemsPerPage"], page["Resources"]) == (2**31 - 1, 0, [])
    total = scim.get("/Users", params={"startIndex": start}).json()["totalResults"]
    assert total == User.objects.count()


@pytest.mark.parametrize("body", ["[" * 200_000, '{"a":' * 100_000])
def test_a_body_nested_too_deeply_is_400_invalid_syntax(scim, employee, engineering, body):
    before = snapshot()
    for method, path in (
        ("post", "/Users"),
        ("put", f"/Users/{employee.pk}"),
        ("patch", f"/Users/{employee.pk}"),
        ("post", "/Groups"),
        ("put", f"/Groups/{engineering.pk}"),
        ("patch", f"/Groups/{engineering.pk}"),
    ):
        response = getattr(scim, method)(path, body)
        assert error_of(response) == (400, "invalidSyntax"), path
        assert response.json()["detail"] == "The body is nested too deeply to read."
    assert snapshot() == before


def test_a_body_over_the_servers_limit_is_413(scim, employee, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = snapshot()
    body = {"schemas": [USER], "userName": "big@example.com", "displayName": "x" * 20_000}
    for method, path in (("post", "/Users"), ("put", f"/Users/{employee.pk}")):
        response = getattr(scim, method)(path, body)
        assert error_of(response) == (413, None)
        assert response.json()["detail"] == "The body is larger than 10,000 bytes."
    assert snapshot() == before


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "employee@example.com\x00"',
        'displayName co "\x00"',
        'externalId eq "a\x00b"',
    ],
)
def test_a_nul_character_in_a_filter_is_400_invalid_filter(scim, employee, text):
    response = scim.get("/Users", params={"filter": text})
    assert error_of(response) == (400, "invalidFilter")
    assert response.json()["detail"] == "The filter contains a NUL character."
    response = scim.get("/Groups", params={"filter": 'displayName eq "a\x00"'})
    assert error_of(response) == (400, "invalidFilter")
