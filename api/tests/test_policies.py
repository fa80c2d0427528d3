"""GET /api/v1/policies/ and /policies/{id}/: the policies the token's owner may read on
the Policies page, with the published version's body; drafts and earlier versions for
policy admins only, as on their pages."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from people.models import Department
from policies import services
from policies.models import Policy, PolicyVersion
from policies.tests.factories import BODY_1, BODY_2, publish_version, published_policy

pytestmark = pytest.mark.django_db

POLICIES = reverse("api:policies")


def policy_url(policy):
    return reverse("api:policy", args=[policy.pk])


def titles(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["title"] for row in response.json()["results"]]


@pytest.fixture
def library(policy_admin, leader, employee, comms):
    """Social media (2.0 published over 1.0, a 2.1 draft on its way), a Sales-only
    policy, a Comms-only policy, and a policy still only a draft."""
    sales = Department.objects.create(name="Sales")
    social, first = published_policy(title="Social media", owner=policy_admin, approver=leader)
    second = publish_version(social, author=policy_admin, approver=leader, body=BODY_2)
    draft = services.create_draft(
        policy=social,
        author=policy_admin,
        body=BODY_2 + "\nA secret new rule.\n",
        change=PolicyVersion.Change.MINOR,
    )
    sales_only, _ = published_policy(
        title="Sales conduct",
        owner=policy_admin,
        approver=leader,
        audience=Policy.Audience.DEPARTMENTS,
        departments=[sales],
    )
    comms_only, _ = published_policy(
        title="Press office",
        owner=policy_admin,
        approver=leader,
        audience=Policy.Audience.GROUPS,
        groups=[Group.objects.get(name="Comms")],
    )
    unpublished = services.create_policy(title="Future policy", owner=policy_admin)
    future_draft = services.create_draft(policy=unpublished, author=policy_admin, body=BODY_1)
    return {
        "sales": sales,
        "social": social,
        "first": first,
        "second": second,
        "draft": draft,
        "sales_only": sales_only,
        "comms_only": comms_only,
        "unpublished": unpublished,
        "future_draft": future_draft,
    }


def test_a_reader_lists_their_audiences_policies_with_the_published_version_only(
    api_as, library, employee
):
    response = api_as(employee).get(POLICIES)
    assert titles(response) == ["Social media"]
    [social] = response.json()["results"]
    assert [v["number"] for v in social["versions"]] == ["2.0"]
    assert social["versions"][0]["status"] == "published"
    assert "body" not in social["versions"][0]
    assert social["owner"]["email"] == "policyadmin@example.com"


def test_audiences_by_department_and_group_follow_the_policies_page(
    api_as, library, employee, comms
):
    employee.department = library["sales"]
    employee.save()
    assert titles(api_as(employee).get(POLICIES)) == ["Sales conduct", "Social media"]
    assert titles(api_as(comms).get(POLICIES)) == ["Press office", "Social media"]


def test_a_policy_admin_lists_every_policy_and_version_drafts_included(
    api_as, library, policy_admin
):
    response = api_as(policy_admin).get(POLICIES)
    assert titles(response) == ["Future policy", "Press office", "Sales conduct", "Social media"]
    rows = {row["title"]: row for row in response.json()["results"]}
    assert [(v["number"], v["status"]) for v in rows["Social media"]["versions"]] == [
        ("2.1", "draft"),
        ("2.0", "published"),
        ("1.0", "superseded"),
    ]
    assert [v["status"] for v in rows["Future policy"]["versions"]] == ["draft"]


def test_a_reader_gets_the_published_body_and_its_hash(api_as, library, employee):
    response = api_as(employee).get(policy_url(library["social"]))
    assert response.status_code == 200
    [version] = response.json()["versions"]
    assert version["body"] == BODY_2
    assert version["body_sha256"] == library["second"].body_sha256
    assert "secret new rule" not in response.content.decode()


def test_a_policy_admin_gets_every_body_drafts_included(api_as, library, policy_admin):
    data = api_as(policy_admin).get(policy_url(library["social"])).json()
    assert [v["number"] for v in data["versions"]] == ["2.1", "2.0", "1.0"]
    assert "secret new rule" in data["versions"][0]["body"]
    assert data["versions"][0]["body_sha256"] == ""
    assert api_as(policy_admin).get(policy_url(library["unpublished"])).status_code == 200


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "hr", "leader", "site_admin"])
def test_others_never_see_a_draft_nor_a_policy_outside_their_audience(
    api_as, library, request, role
):
    client = api_as(request.getfixturevalue(role))
    assert "secret new rule" not in client.get(POLICIES).content.decode()
    for policy in (library["unpublished"], library["sales_only"]):
        response = client.get(policy_url(policy))
        assert response.status_code == 404
        assert response.json() == {"detail": "No such policy, or not one you may read."}
    detail = client.get(policy_url(library["social"])).json()
    assert [v["status"] for v in detail["versions"]] == ["published"]


def test_a_retired_policy_is_no_longer_listed_for_readers(api_as, library, employee, policy_admin):
    services.retire(version=library["second"], user=policy_admin, note="Replaced.")
    assert titles(api_as(employee).get(POLICIES)) == []
    assert api_as(employee).get(policy_url(library["social"])).status_code == 404


@pytest.mark.parametrize("owner", ["employee", "policy_admin"])
def test_the_list_costs_the_same_for_few_and_many_policies(
    api_as, library, request, owner, leader, policy_admin, django_assert_max_num_queries
):
    client = api_as(request.getfixturevalue(owner))
    client.get(POLICIES)
    with django_assert_max_num_queries(12) as few:
        client.get(POLICIES)
    for number in range(55):
        policy, _version = published_policy(
            title=f"Policy {number:02}", owner=policy_admin, approver=leader
        )
        publish_version(policy, author=policy_admin, approver=leader, body=BODY_2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(POLICIES)
    assert len(response.json()["results"]) == 50
    assert response.json()["next"]
