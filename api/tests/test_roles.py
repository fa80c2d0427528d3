"""For every read endpoint and every role: each object the API returns is one the token's
owner can open on the pages, at the same level of detail, and a role the pages refuse is
refused here too. The pages are asked through the test client, logged in as the owner."""

import csv
import io

import pytest
from django.urls import reverse

from api.tests import scenario
from people.models import Department
from policies import services as policy_services
from policies.models import Policy
from policies.tests.factories import BODY_2, published_policy

pytestmark = pytest.mark.django_db

ROLES = ["employee", "manager", "comms", "hr", "leader", "policy_admin", "site_admin"]


@pytest.fixture
def world(make_person, employee, manager, comms, hr, leader, policy_admin, site_admin):
    sales = Department.objects.create(name="Sales")
    employee.department = sales
    employee.save()
    make_person(full_name="Molly Report", manager=manager, department=sales)
    make_person(full_name="Someone Else")
    social, social_version = published_policy(
        title="Social media", owner=policy_admin, approver=leader
    )
    policy_services.create_draft(policy=social, author=policy_admin, body=BODY_2 + "\nDraft.\n")
    published_policy(
        title="Sales conduct",
        owner=policy_admin,
        approver=leader,
        audience=Policy.Audience.DEPARTMENTS,
        departments=[sales],
    )
    draft_only = policy_services.create_policy(title="Future policy", owner=policy_admin)
    policy_services.create_draft(policy=draft_only, author=policy_admin, body=BODY_2)
    cases = scenario.incidents(
        employee=employee, manager=manager, comms=comms, hr=hr, make_person=make_person
    )
    policy_services.reconcile_assignments()  # people added since: assigned, as every night
    return {"social": social, "social_version": social_version, "cases": cases}


def everything(client, url) -> list[dict]:
    response = client.get(url, {"page_size": 200})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("role", ROLES)
def test_people_are_only_those_the_pages_show_the_owner(api_as, client, world, request, role):
    owner = request.getfixturevalue(role)
    client.force_login(owner)
    response = api_as(owner).get(reverse("api:people"), {"page_size": 200})
    if role in ("employee", "comms", "hr"):
        # Neither My team nor the compliance dashboard is theirs.
        assert response.status_code == 403
        assert client.get(reverse("dashboards:team")).status_code == 403
        assert client.get(reverse("dashboards:compliance")).status_code == 403
        return
    assert response.status_code == 200
    returned = {row["email"] for row in response.json()["results"]}
    assert returned
    if role == "manager":
        for row in response.json()["results"]:
            page = client.get(reverse("dashboards:team_member", args=[row["id"]]))
            assert page.status_code == 200
            assert api_as(owner).get(reverse("api:person", args=[row["id"]])).status_code == 200
    elif role == "site_admin":
        for row in response.json()["results"]:
            page = client.get(reverse("admin:people_user_change", args=[row["id"]]))
            assert page.status_code == 200
    else:
        # The compliance dashboard's people behind a figure: everyone assigned the policy
        # everyone has to acknowledge, which is every active person.
        export = client.get(
            reverse("dashboards:compliance_csv", args=["people"]),
            {"kind": "policy", "policy": world["social"].pk, "status": "all"},
        )
        assert export.status_code == 200
        on_page = {row[1] for row in csv_rows(export)[1:]}
        assert returned <= on_page


@pytest.mark.parametrize("role", ROLES)
def test_policies_are_only_those_the_owner_may_open_and_drafts_only_for_admins(
    api_as, client, world, request, role
):
    owner = request.getfixturevalue(role)
    client.force_login(owner)
    client_api = api_as(owner)
    rows = everything(client_api, reverse("api:policies"))
    assert rows
    for row in rows:
        detail = client_api.get(reverse("api:policy", args=[row["id"]])).json()
        if role == "policy_admin":
            page = client.get(reverse("policies:manage_policy", args=[row["id"]]))
            assert page.status_code == 200
            for version in detail["versions"]:
                version_page = client.get(reverse("policies:manage_version", args=[version["id"]]))
                assert version_page.status_code == 200
        else:
            page = client.get(reverse("policies:detail", args=[row["slug"]]))
            assert page.status_code == 200
            [version] = detail["versions"]
            assert version["id"] == page.context["version"].pk
            assert version["status"] == "published"


@pytest.mark.parametrize("role", ROLES)
def test_compliance_figures_are_the_dashboards_for_the_owners_scope(
    api_as, client, world, request, role, policy_admin
):
    owner = request.getfixturevalue(role)
    client.force_login(owner)
    response = api_as(owner).get(reverse("api:compliance"), {"page_size": 200})
    if role in ("employee", "comms", "hr"):
        assert response.status_code == 403
        assert client.get(reverse("dashboards:compliance")).status_code == 403
        return
    assert response.status_code == 200
    returned = {
        (row["policy"]["title"], d["department"]["name"] if d["department"] else "No department"): (
            d["acknowledged"],
            d["total"],
        )
        for row in response.json()["results"]
        for d in row["departments"]
    }
    if role == "site_admin":
        # Not a dashboard of theirs: they see every assignment in the Django admin, and
        # the figures are everyone's, as a policy admin's.
        assert client.get(reverse("admin:policies_assignment_changelist")).status_code == 200
        client.force_login(policy_admin)
    export = client.get(reverse("dashboards:compliance_csv", args=["heatmap"]))
    assert export.status_code == 200
    on_page = {
        (policy, department): (int(acknowledged), int(assigned))
        for department, policy, _version, acknowledged, assigned, _percent in csv_rows(export)[1:]
        if department not in ("All departments", "Total") and int(assigned)
    }
    assert returned == on_page


@pytest.mark.parametrize("role", [*ROLES, "outsider"])
def test_incidents_are_only_those_the_owner_may_open_at_the_pages_level(
    api_as, client, world, request, role
):
    owner = request.getfixturevalue(role)
    client.force_login(owner)
    client_api = api_as(owner)
    for row in everything(client_api, reverse("api:incidents")):
        page = client.get(reverse("incidents:detail", args=[row["id"]]))
        assert page.status_code == 200
        assert row["access"] == page.context["level"]
        detail = client_api.get(reverse("api:incident", args=[row["id"]])).json()
        assert detail["access"] == page.context["level"]
        if detail["access"] == "full":
            assert (detail["people_involved"] is not None) == page.context["sees_people"]
            assert (detail["assessments"] is not None) == page.context["sees_assessments"]
    # And nothing else: every incident not listed is refused on the page and here.
    listed = {row["id"] for row in everything(client_api, reverse("api:incidents"))}
    for incident in world["cases"].values():
        if getattr(incident, "reference", None) and incident.pk not in listed:
            assert client.get(reverse("incidents:detail", args=[incident.pk])).status_code == 404
            assert client_api.get(reverse("api:incident", args=[incident.pk])).status_code == 404
