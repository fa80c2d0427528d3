"""Lists: filters (what they may name, and 400 invalidFilter for the rest), paging with
startIndex and count, attributes and excludedAttributes, query counts that hold as the
directory grows, and the discovery endpoints."""

import pytest
from django.contrib.auth.models import Group

from people.models import User
from scim.tests.conftest import error_of

pytestmark = pytest.mark.django_db

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [int(resource["id"]) for resource in response.json()["Resources"]]


@pytest.fixture
def people(make_person):
    return [
        make_person(email="ana.lima@example.com", full_name="Ana Lima", employee_id="E1"),
        make_person(email="bea.boss@example.com", full_name="Bea Boss", employee_id="E2"),
        make_person(email="carl.diaz@example.com", full_name="Carl Diaz", is_active=False),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "ANA.LIMA@example.com"', [0]),
        ('userName ne "ana.lima@example.com" and userName co "a.b"', [1]),
        ('userName sw "bea"', [1]),
        ('userName ew "@example.com" and active eq false', [2]),
        ('emails.value eq "carl.diaz@example.com"', [2]),
        ('emails[value eq "carl.diaz@example.com"]', [2]),
        ('displayName co "li"', [0]),
        ('name.formatted eq "bea boss"', [1]),
        (f'{ENTERPRISE}:employeeNumber eq "E2"', [1]),
        ('userName eq "ana.lima@example.com" or userName eq "bea.boss@example.com"', [0, 1]),
        ('active eq true and not (displayName sw "A")', [1]),  # not Ana, nor Adam the admin
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bea.boss@example.com"', [1]),
        ('userName eq "nobody@example.com"', []),
        ('id eq "not-a-number"', []),
    ],
)
def test_users_filter(scim, people, text, expected):
    response = scim.get("/Users", params={"filter": text})
    assert ids(response) == [people[i].pk for i in expected]
    assert response.json()["totalResults"] == len(expected)


def test_users_filter_by_id(scim, people):
    assert ids(scim.get("/Users", params={"filter": f'id eq "{people[1].pk}"'})) == [people[1].pk]


@pytest.mark.parametrize(
    "text",
    [
        "userName eq",
        'userName regex "a"',
        'nickName eq "x"',
        'password eq "secret"',
        'name.givenName eq "Ana"',
        "active gt true",
        'active eq "yes"',
        'id co "1"',
        'emails[type eq "work"].value eq "a@example.com"',
        'userName eq "a" and',
        '(userName eq "a"',
        'userName eq "a" %',
        "x" * 1001,
    ],
)
def test_a_filter_policyhub_cannot_apply_is_400_invalid_filter(scim, people, text):
    response = scim.get("/Users", params={"filter": text})
    assert error_of(response) == (400, "invalidFilter")


def test_an_unknown_attribute_in_an_or_is_refused_not_dropped(scim, people):
    """Ignoring it would turn the filter into 'everyone with that userName' or 'everyone'."""
    text = 'userName eq "ana.lima@example.com" or nickName eq "x"'
    assert error_of(scim.get("/Users", params={"filter": text})) == (400, "invalidFilter")


@pytest.mark.parametrize(
    "text", ['displayName eq "Engineering"', 'displayName eq "engineering"', 'members eq "x"']
)
def test_groups_filter(scim, text, employee):
    group = Group.objects.create(name="Engineering")
    group.user_set.add(employee)
    found = ids(scim.get("/Groups", params={"filter": text}))
    assert found == ([group.pk] if "displayName" in text else [])


@pytest.mark.parametrize("text", ['externalId eq "x"', "displayName gt", 'members co "1"'])
def test_a_groups_filter_policyhub_cannot_apply_is_400(scim, text):
    assert error_of(scim.get("/Groups", params={"filter": text})) == (400, "invalidFilter")


# Paging -------------------------------------------------------------------------------------


def test_pages_with_start_index_and_count(scim, make_person):
    for _ in range(6):
        make_person()
    everyone = sorted(User.objects.values_list("pk", flat=True))  # and the site admin
    first = scim.get("/Users", params={"startIndex": "1", "count": "3"}).json()
    assert (first["totalResults"], first["startIndex"], first["itemsPerPage"]) == (7, 1, 3)
    assert [int(r["id"]) for r in first["Resources"]] == everyone[:3]
    last = scim.get("/Users", params={"startIndex": "7", "count": "3"}).json()
    assert [int(r["id"]) for r in last["Resources"]] == everyone[6:]
    beyond = scim.get("/Users", params={"startIndex": "20"}).json()
    assert (beyond["totalResults"], beyond["itemsPerPage"], beyond["Resources"]) == (7, 0, [])


def test_count_zero_gives_only_the_total_and_out_of_range_values_are_read_as_rfc_7644_says(
    scim, make_person
):
    for _ in range(2):
        make_person()  # and the site admin
    only_total = scim.get("/Users", params={"count": "0"}).json()
    assert (only_total["totalResults"], only_total["Resources"]) == (3, [])
    negative = scim.get("/Users", params={"startIndex": "-4", "count": "-1"}).json()
    assert (negative["startIndex"], negative["itemsPerPage"]) == (1, 0)


def test_a_page_holds_at_most_200(scim, make_person):
    User.objects.bulk_create(
        [User(email=f"p{i}@example.com", full_name=f"P {i}") for i in range(204)]
    )  # and the site admin
    page = scim.get("/Users", params={"count": "1000"}).json()
    assert (page["totalResults"], page["itemsPerPage"]) == (205, 200)
    assert scim.get("/ServiceProviderConfig").json()["filter"] == {
        "supported": True,
        "maxResults": 200,
    }


@pytest.mark.parametrize("params", [{"startIndex": "first"}, {"count": "1.5"}])
def test_paging_values_that_are_not_numbers_are_400(scim, params):
    assert error_of(scim.get("/Users", params=params)) == (400, "invalidValue")


def test_attributes_and_excluded_attributes(scim, employee):
    only = scim.get(f"/Users/{employee.pk}", params={"attributes": "userName,emails"}).json()
    assert set(only) == {"schemas", "id", "userName", "emails"}
    without = scim.get(f"/Users/{employee.pk}", params={"excludedAttributes": "groups,name"}).json()
    assert "groups" not in without and "name" not in without and without["userName"]
    extension = scim.get(f"/Users/{employee.pk}", params={"attributes": f"{ENTERPRISE}:manager"})
    assert set(extension.json()) == {"schemas", "id", ENTERPRISE}


# Query counts -------------------------------------------------------------------------------


def _directory(size: int):
    departments_and_groups = Group.objects.create(name=f"Audience {size}")
    boss = User.objects.create_user("boss@example.com", full_name="Boss")
    people = User.objects.bulk_create(
        [User(email=f"p{i}@example.com", full_name=f"P {i}", manager=boss) for i in range(size)]
    )
    departments_and_groups.user_set.add(*people)
    return departments_and_groups


@pytest.mark.parametrize("size", [3, 150])
def test_listing_people_takes_the_same_few_queries_however_many(
    scim, size, django_assert_max_num_queries
):
    _directory(size)
    scim.get("/Users")  # the token's last use is written once a minute: not counted below
    with django_assert_max_num_queries(6):
        response = scim.get("/Users", params={"count": "200"})
    assert response.json()["itemsPerPage"] == size + 2  # with the boss and the site admin
    with django_assert_max_num_queries(6):
        scim.get("/Users", params={"filter": 'userName eq "p1@example.com"'})


@pytest.mark.parametrize("size", [3, 150])
def test_listing_groups_and_a_group_take_the_same_few_queries_however_many_members(
    scim, size, django_assert_max_num_queries
):
    group = _directory(size)
    scim.get("/Groups")
    with django_assert_max_num_queries(5):
        response = scim.get("/Groups")
    assert any(len(r["members"]) == size for r in response.json()["Resources"])
    with django_assert_max_num_queries(5):
        scim.get(f"/Groups/{group.pk}")
    with django_assert_max_num_queries(4):
        scim.get("/Groups", params={"excludedAttributes": "members"})


@pytest.mark.parametrize("size", [3, 150])
def test_adding_many_members_takes_the_same_few_queries(scim, size, django_assert_max_num_queries):
    group = Group.objects.create(name="Everyone")
    people = User.objects.bulk_create(
        [User(email=f"m{i}@example.com", full_name=f"M {i}") for i in range(size)]
    )
    scim.get("/Groups")
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "add", "path": "members", "value": [{"value": str(p.pk)} for p in people]}
        ],
    }
    # (One of them moves on the compliance dashboard's generation of kept months: a
    # membership changes training audiences, dashboards.summaries.forget.)
    with django_assert_max_num_queries(13):
        assert scim.patch(f"/Groups/{group.pk}", body).status_code == 200
    assert group.user_set.count() == size


# Discovery ----------------------------------------------------------------------------------


def test_service_provider_config_says_what_is_supported(scim):
    config = scim.get("/ServiceProviderConfig").json()
    assert config["patch"] == {"supported": True}
    assert config["bulk"]["supported"] is False and config["sort"] == {"supported": False}
    assert config["changePassword"] == {"supported": False}
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_resource_types_and_schemas(scim):
    types = scim.get("/ResourceTypes").json()
    assert [t["id"] for t in types["Resources"]] == ["User", "Group"]
    assert scim.get("/ResourceTypes/User").json()["schemaExtensions"][0] == {
        "schema": ENTERPRISE,
        "required": False,
    }
    listed = scim.get("/Schemas").json()
    assert {s["id"] for s in listed["Resources"]} == {
        "urn:ietf:params:scim:schemas:core:2.0:User",
        ENTERPRISE,
        "urn:ietf:params:scim:schemas:extension:policyhub:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
    }
    user = scim.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").json()
    names = {a["name"] for a in user["attributes"]}
    assert {"userName", "name", "displayName", "active", "emails", "groups"} <= names
    assert "password" not in names
    assert error_of(scim.get("/Schemas/urn:example:nothing")) == (404, None)
    assert error_of(scim.get("/ResourceTypes/Printer")) == (404, None)


def test_unsupported_and_unknown_endpoints_answer_in_scim(scim):
    assert error_of(scim.post("/Bulk", {"schemas": []})) == (501, None)
    assert error_of(scim.post("/Users/.search", {"schemas": []})) == (501, None)
    assert error_of(scim.get("/Printers")) == (404, None)
    assert error_of(scim.request("PUT", "/Users", {"schemas": []})) == (405, None)
    assert error_of(scim.request("POST", "/ServiceProviderConfig", {})) == (405, None)
