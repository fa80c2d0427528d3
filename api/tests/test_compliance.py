"""GET /api/v1/compliance/policies/: each policy's current version, % acknowledged overall
and per department, outstanding and overdue: the figures of the policy's compliance page
for everyone, and of the compliance dashboard for a line manager's team."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboards import compliance as dashboard
from people.models import Department
from policies import services
from policies.models import Assignment, PolicyVersion
from policies.queries import compliance_figures
from policies.tests.factories import BODY_2, publish_version, published_policy

pytestmark = pytest.mark.django_db

COMPLIANCE = reverse("api:compliance")


@pytest.fixture
def figures(make_person, manager, employee, policy_admin, leader):
    """Sales: the employee (overdue) and two of the manager's other reports (one
    acknowledged, one declined); Support: two people outside the team (one
    acknowledged on paper); a leaver, whose assignment is closed. Social media's 1.1 is a
    minor version over 1.0 (acknowledgements of 1.0 count), Press's 2.0 a material one
    (1.0's do not)."""
    sales = Department.objects.create(name="Sales")
    support = Department.objects.create(name="Support")
    employee.department = sales
    employee.save()
    ann = make_person(full_name="Ann Acknowledged", manager=manager, department=sales)
    dan = make_person(full_name="Dan Declined", manager=manager, department=sales)
    sue = make_person(full_name="Sue Support", department=support)
    make_person(full_name="Sam Support", department=support)
    social, first = published_policy(title="Social media", owner=policy_admin, approver=leader)
    Assignment.objects.filter(person=employee, version=first).update(
        due_date=timezone.localdate() - timedelta(days=2)
    )
    services.acknowledge(version=first, user=ann, full_name=ann.full_name)
    services.decline(version=first, user=dan, reason="I do not agree.")
    services.acknowledge_on_behalf(version=first, person=sue, by=policy_admin, reason="Paper.")
    minor = publish_version(
        social, author=policy_admin, approver=leader, body=BODY_2, change=PolicyVersion.Change.MINOR
    )
    press, press_first = published_policy(title="Press", owner=policy_admin, approver=leader)
    services.acknowledge(version=press_first, user=ann, full_name=ann.full_name)
    press_second = publish_version(press, author=policy_admin, approver=leader, body=BODY_2)
    leaver = make_person(full_name="Lee Leaver", department=sales)
    services.reconcile_assignments()
    leaver.is_active = False
    leaver.save()
    services.reconcile_assignments()
    return {
        "sales": sales,
        "support": support,
        "social": minor,
        "press": press_second,
        "team": [employee, ann, dan],
    }


def rows(response) -> dict[str, dict]:
    assert response.status_code == 200, response.json()
    return {row["policy"]["title"]: row for row in response.json()["results"]}


def as_figures(figures) -> dict:
    return {
        "total": figures.total,
        "acknowledged": figures.acknowledged,
        "percent": figures.percent,
        "outstanding": figures.outstanding,
        "overdue": figures.overdue,
        "declined": figures.declined,
    }


@pytest.mark.parametrize("owner", ["policy_admin", "leader", "site_admin"])
def test_everyone_is_counted_as_on_the_policys_compliance_page(api_as, figures, request, owner):
    found = rows(api_as(request.getfixturevalue(owner)).get(COMPLIANCE))
    assert list(found) == ["Press", "Social media"]
    today = timezone.localdate()
    for title, version in (("Social media", figures["social"]), ("Press", figures["press"])):
        row = found[title]
        assert row["version"]["id"] == version.pk
        page = compliance_figures(version, today=today)
        assert row["overall"] == as_figures(page.overall)
        by_name = {d.name: as_figures(d) for d in page.departments}
        assert {
            (d["department"]["name"] if d["department"] else "No department"): {
                key: value for key, value in d.items() if key != "department"
            }
            for d in row["departments"]
        } == by_name
    social = found["Social media"]
    assert social["version"]["number"] == "1.1"
    sales = next(
        d for d in social["departments"] if d["department"] and d["department"]["name"] == "Sales"
    )
    assert sales == {
        "department": {"id": figures["sales"].pk, "name": "Sales"},
        "total": 3,
        "acknowledged": 1,
        "percent": 33,
        "outstanding": 1,
        "overdue": 1,
        "declined": 1,
    }
    assert found["Press"]["overall"]["acknowledged"] == 0  # 1.0's acknowledgement is not 2.0's
    assert social["departments"][-1]["department"] is None  # "No department" comes last


def test_a_line_manager_counts_their_team_only_as_on_the_dashboard(api_as, figures, manager):
    found = rows(api_as(manager).get(COMPLIANCE))
    social = found["Social media"]
    assert social["overall"] == {
        "total": 3,
        "acknowledged": 1,
        "percent": 33,
        "outstanding": 1,
        "overdue": 1,
        "declined": 1,
    }
    assert [d["department"]["name"] for d in social["departments"]] == ["Sales"]
    # The dashboard's heatmap, for the same scope, has the same cells.
    scope = dashboard.scope_for(manager)
    lines = dashboard.version_lines()
    heat = dashboard.heatmap(
        scope=scope,
        filters=dashboard.Filters(),
        lines=lines,
        names={d.pk: d.name for d in Department.objects.all()},
    )
    for row in heat.rows:
        for cell in row.cells:
            department = next(
                d
                for d in found[cell.policy.title]["departments"]
                if d["department"]["name"] == row.name
            )
            assert (department["acknowledged"], department["total"]) == (
                cell.acknowledged,
                cell.total,
            )


@pytest.mark.parametrize("role", ["employee", "outsider", "comms", "hr"])
def test_others_are_refused(api_as, figures, request, role):
    response = api_as(request.getfixturevalue(role)).get(COMPLIANCE)
    assert response.status_code == 403
    assert "detail" in response.json()


def test_a_policy_never_published_has_no_figures(api_as, figures, policy_admin):
    services.create_draft(
        policy=services.create_policy(title="Draft only", owner=policy_admin),
        author=policy_admin,
        body=BODY_2,
    )
    assert "Draft only" not in rows(api_as(policy_admin).get(COMPLIANCE))


def test_the_list_costs_the_same_for_few_and_many_policies(
    api_as, figures, policy_admin, leader, make_person, django_assert_max_num_queries
):
    client = api_as(leader)
    client.get(COMPLIANCE)
    with django_assert_max_num_queries(10) as few:
        client.get(COMPLIANCE)
    for number in range(55):
        make_person(department=Department.objects.create(name=f"Department {number}"))
    for number in range(55):
        published_policy(title=f"Policy {number:02}", owner=policy_admin, approver=leader)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(COMPLIANCE)
    assert len(response.json()["results"]) == 50
    assert len(response.json()["results"][0]["departments"]) > 50
