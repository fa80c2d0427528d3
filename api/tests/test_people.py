"""GET /api/v1/people/ and /people/{id}/: people's acknowledgement and training status,
for those the token's owner may see on the pages, counted as My team counts them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboards import team as team_queries
from people.models import Department
from policies.models import Assignment
from policies.tests.factories import published_policy
from training.compliance import active_requirements
from training.models import Requirement, Topic
from training.tests.factories import attended, held_session, seat, upcoming_session

pytestmark = pytest.mark.django_db

PEOPLE = reverse("api:people")


def person_url(person):
    return reverse("api:person", args=[person.pk])


def ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def org(make_person, manager, employee, policy_admin, leader):
    """Sales (with Sales UK below it) and Support; the manager's team is the employee
    (Sales UK) and the employee's own report, Ian (Sales); Rachel in Support reports to
    someone else; a leaver; a policy everyone has to acknowledge (overdue for the
    employee) and a yearly briefing the employee attended long ago and Ian has a seat for."""
    sales = Department.objects.create(name="Sales")
    sales_uk = Department.objects.create(name="Sales UK", parent=sales)
    support = Department.objects.create(name="Support")
    employee.department = sales_uk
    employee.job_title = "Account manager"
    employee.save()
    ian = make_person(full_name="Ian Indirect", manager=employee, department=sales)
    other_boss = make_person(full_name="Otto Other")
    rachel = make_person(full_name="Rachel Elsewhere", manager=other_boss, department=support)
    leaver = make_person(full_name="Lee Leaver", manager=manager, is_active=False)
    _policy, version = published_policy(title="Social media", owner=policy_admin, approver=leader)
    Assignment.objects.filter(person=employee, version=version).update(
        due_date=timezone.localdate() - timedelta(days=3)
    )
    topic = Topic.objects.create(name="Social media")
    yearly = Requirement.objects.create(name="Social media briefing", every_months=12)
    yearly.accepted_topics.set([topic])
    attended(
        held_session(topic, policy_admin, starts_at=timezone.now() - timedelta(days=500)), employee
    )
    seat(upcoming_session(topic, policy_admin), ian)
    return {
        "sales": sales,
        "sales_uk": sales_uk,
        "support": support,
        "ian": ian,
        "rachel": rachel,
        "leaver": leaver,
        "version": version,
        "yearly": yearly,
    }


def test_policy_admins_leadership_and_site_admins_list_every_active_person(
    api_as, org, policy_admin, leader, site_admin
):
    from people.models import User

    active = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
    for owner in (policy_admin, leader, site_admin):
        response = api_as(owner).get(PEOPLE, {"page_size": 200})
        assert ids(response) == active
        assert org["leaver"].pk not in ids(response)


def test_a_line_manager_lists_their_team_direct_and_indirect_only(api_as, org, manager, employee):
    assert ids(api_as(manager).get(PEOPLE)) == {employee.pk, org["ian"].pk}
    # The employee manages Ian only.
    assert ids(api_as(employee).get(PEOPLE)) == {org["ian"].pk}


@pytest.mark.parametrize("role", ["outsider", "comms", "hr"])
def test_people_without_a_scope_are_refused_the_list_and_every_person(
    api_as, org, request, role, employee
):
    client = api_as(request.getfixturevalue(role))
    for url in (PEOPLE, person_url(employee), person_url(request.getfixturevalue(role))):
        response = client.get(url)
        assert response.status_code == 403
        assert "line managers (for their team)" in response.json()["detail"]


def test_each_person_has_the_status_my_team_counts(api_as, org, leader, employee):
    rows = {
        row["id"]: row for row in api_as(leader).get(PEOPLE, {"page_size": 200}).json()["results"]
    }
    figures = team_queries.outstanding(
        list(rows), now=timezone.now(), requirements=active_requirements()
    )
    for pk, row in rows.items():
        mine = figures[pk]
        assert row["acknowledgements"] == {
            "outstanding": mine.policies_open,
            "overdue": mine.policies_overdue,
            "earliest_due": mine.policies_earliest_due.isoformat()
            if mine.policies_earliest_due
            else None,
        }
        assert row["training"] == {
            "not_attended": mine.training_unmet,
            "booked": mine.training_booked,
            "to_book": mine.training_to_book,
            "overdue": mine.training_overdue,
        }
    emily = rows[employee.pk]
    assert emily["acknowledgements"]["outstanding"] == 1
    assert emily["acknowledgements"]["overdue"] == 1
    assert emily["training"] == {"not_attended": 1, "booked": 0, "to_book": 1, "overdue": 1}
    assert rows[org["ian"].pk]["training"]["booked"] == 1
    assert emily["department"] == {"id": org["sales_uk"].pk, "name": "Sales UK"}
    assert emily["manager"]["email"] == "manager@example.com"
    assert emily["job_title"] == "Account manager"


def test_filter_by_email_without_regard_to_case(api_as, org, leader, employee):
    assert ids(api_as(leader).get(PEOPLE, {"email": " Employee@Example.COM "})) == {employee.pk}
    assert ids(api_as(leader).get(PEOPLE, {"email": "nobody@example.com"})) == set()


def test_a_manager_cannot_reach_beyond_the_team_by_filtering(api_as, org, manager):
    assert ids(api_as(manager).get(PEOPLE, {"email": org["rachel"].email})) == set()
    assert ids(api_as(manager).get(PEOPLE, {"department": org["support"].pk})) == set()


def test_filter_by_department_includes_the_departments_below(api_as, org, leader, employee):
    client = api_as(leader)
    assert ids(client.get(PEOPLE, {"department": org["sales"].pk})) == {employee.pk, org["ian"].pk}
    assert ids(client.get(PEOPLE, {"department": org["sales_uk"].pk})) == {employee.pk}
    without = ids(client.get(PEOPLE, {"department": "none", "page_size": 200}))
    assert employee.pk not in without and leader.pk in without


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "There is no department “abc”."),
        ("0", "There is no department “0”."),
        ("-1", "There is no department “-1”."),
        ("99999", "There is no department “99999”."),
        ("1" * 60, "There is no department “1111"),
        ("1\x00", "Null characters are not allowed."),
    ],
)
def test_a_department_that_is_not_valid_is_refused(api_as, org, leader, value, message):
    response = api_as(leader).get(PEOPLE, {"department": value})
    assert response.status_code == 400
    assert response.json()["department"][0].startswith(message)


@pytest.mark.parametrize("value", ["a" * 300 + "@example.com", "not-an-email", "x@\x00.com"])
def test_an_email_that_is_not_valid_is_refused(api_as, org, leader, value):
    response = api_as(leader).get(PEOPLE, {"email": value})
    assert response.status_code == 400
    assert "email" in response.json()


def test_a_person_shows_open_acknowledgements_and_training_standing(api_as, org, manager, employee):
    response = api_as(manager).get(person_url(employee))
    assert response.status_code == 200
    data = response.json()
    assert data["email"] == employee.email
    [assignment] = data["open_assignments"]
    assert assignment["policy"]["title"] == "Social media"
    assert assignment["version"] == {"id": org["version"].pk, "number": "1.0"}
    assert assignment["overdue"] is True
    [standing] = data["training_requirements"]
    assert standing["requirement"] == {"id": org["yearly"].pk, "name": "Social media briefing"}
    assert standing["compliant"] is False and standing["overdue"] is True
    assert standing["last_attended"] is not None
    assert standing["booked_session"] is None
    ian = api_as(manager).get(person_url(org["ian"])).json()
    assert ian["training_requirements"][0]["booked_session"]["title"]


def test_a_person_outside_the_scope_or_gone_is_404(api_as, org, manager, leader):
    client = api_as(manager)
    for person in (org["rachel"], manager, org["leaver"]):
        response = client.get(person_url(person))
        assert response.status_code == 404
        assert "detail" in response.json()
    assert api_as(leader).get(person_url(org["leaver"])).status_code == 404
    assert api_as(leader).get(reverse("api:person", args=[99999])).status_code == 404


def test_the_list_is_paged(api_as, org, leader):
    client = api_as(leader)
    first = client.get(PEOPLE, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"] and first["previous"] is None
    second = client.get(first["next"]).json()
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    assert client.get(PEOPLE, {"page": 999}).status_code == 404
    assert len(client.get(PEOPLE, {"page_size": 100000}).json()["results"]) <= 200


@pytest.mark.parametrize("owner", ["leader", "manager"])
def test_the_list_costs_the_same_for_few_and_many_people(
    api_as, org, request, owner, make_person, manager, django_assert_max_num_queries
):
    client = api_as(request.getfixturevalue(owner))

    def fill(count):
        for _ in range(count):
            person = make_person(manager=manager, department=org["sales"])
            seat(upcoming_session(Topic.objects.get(), person, days=3), person)

    client.get(PEOPLE)
    with django_assert_max_num_queries(20) as few:
        client.get(PEOPLE)
    fill(60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(PEOPLE)
    assert len(response.json()["results"]) == 50


def test_a_person_costs_the_same_however_much_they_have(
    api_as, org, leader, employee, policy_admin, django_assert_max_num_queries
):
    client = api_as(leader)
    client.get(person_url(employee))
    with django_assert_max_num_queries(25) as few:
        client.get(person_url(employee))
    for number in range(15):
        published_policy(title=f"Policy {number}", owner=policy_admin, approver=leader)
        requirement = Requirement.objects.create(name=f"Requirement {number}")
        requirement.accepted_topics.set([Topic.objects.get()])
    with django_assert_max_num_queries(len(few.captured_queries) + 15):
        data = client.get(person_url(employee)).json()
    assert len(data["open_assignments"]) == 16
    assert len(data["training_requirements"]) == 16
