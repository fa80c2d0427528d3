"""GET /api/v1/incidents/ and /incidents/{id}/ through incidents.permissions, each
incident at the level of detail its page gives the token's owner; POST reports one."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from api.tests import scenario
from api.tests.conftest import READ_WRITE
from incidents import services
from incidents.models import Incident, IncidentCounter, IncidentEvent
from incidents.permissions import access_level, visible_incidents
from incidents.queries import summary_line
from incidents.tests.factories import reported
from incidents.wording import RESTRICTED_NAME

pytestmark = pytest.mark.django_db

INCIDENTS = reverse("api:incidents")

REPORTER_KEYS = {
    "access",
    "id",
    "reference",
    "status",
    "self_reported",
    "created_at",
    "what_happened",
    "platform",
    "url",
    "account_handle",
    "posted_at",
    "noticed_at",
}
SUMMARY_KEYS = {"access", "id", "reference", "status", "summary", "my_actions"}


def incident_url(incident):
    return reverse("api:incident", args=[incident.pk])


def listed(response) -> dict[int, dict]:
    assert response.status_code == 200, response.json()
    return {row["id"]: row for row in response.json()["results"]}


@pytest.fixture
def cases(employee, manager, comms, hr, make_person):
    return scenario.incidents(
        employee=employee, manager=manager, comms=comms, hr=hr, make_person=make_person
    )


ROLES = ["employee", "manager", "comms", "hr", "leader", "policy_admin", "site_admin", "outsider"]


@pytest.mark.parametrize("role", ROLES)
def test_the_list_is_what_the_owner_may_open_at_the_pages_level(
    api_as, client, cases, request, role
):
    owner = request.getfixturevalue(role)
    rows = listed(api_as(owner).get(INCIDENTS, {"page_size": 200}))
    assert set(rows) == set(visible_incidents(owner).values_list("pk", flat=True))
    client.force_login(owner)
    for pk, row in rows.items():
        incident = Incident.objects.get(pk=pk)
        assert row["access"] == access_level(owner, incident)
        assert client.get(reverse("incidents:detail", args=[pk])).status_code == 200
        detail = api_as(owner).get(incident_url(incident)).json()
        assert detail["access"] == row["access"]


def test_each_role_gets_the_expected_level(api_as, cases, employee, manager, comms, policy_admin):
    mine = listed(api_as(employee).get(INCIDENTS))
    assert {pk: row["access"] for pk, row in mine.items()} == {
        cases["own"].pk: "reporter",
        cases["action"].pk: "summary",
        cases["sign_off"].pk: "summary",
    }
    managed = listed(api_as(manager).get(INCIDENTS))
    assert {pk: row["access"] for pk, row in managed.items()} == {
        cases["learning"].pk: "summary",
        cases["sign_off"].pk: "summary",
    }
    assert len(listed(api_as(comms).get(INCIDENTS))) == 6
    assert listed(api_as(policy_admin).get(INCIDENTS)) == {}


def test_a_reporter_sees_what_they_reported_and_its_status_only(api_as, cases, employee):
    data = api_as(employee).get(incident_url(cases["own"])).json()
    assert set(data) == REPORTER_KEYS
    assert data["what_happened"] == "I saw a customer list on a forum."
    assert data["status"] == "reported"


def test_a_summary_names_nobody_and_shows_only_ones_own_actions(
    api_as, cases, employee, comms, make_person
):
    services.add_action(
        incident=cases["action"], by=comms, title="Someone else's task", owner=make_person()
    )
    data = api_as(employee).get(incident_url(cases["action"])).json()
    assert set(data) == SUMMARY_KEYS
    assert data["summary"] == summary_line(cases["action"])
    assert "price list" not in str(data)
    assert [action["title"] for action in data["my_actions"]] == ["Check the forum"]


def test_a_manager_never_sees_an_accountability_case_of_their_report(api_as, cases, manager):
    response = api_as(manager).get(incident_url(cases["restricted"]))
    assert response.status_code == 404
    assert response.json() == {"detail": "No such incident."}
    assert cases["restricted"].pk not in listed(api_as(manager).get(INCIDENTS))


def test_the_incident_team_sees_a_restricted_case_without_who_was_involved(
    api_as, cases, comms, make_person, leader
):
    other_comms = make_person(group="Comms")
    for owner in (other_comms, leader):
        data = api_as(owner).get(incident_url(cases["restricted"])).json()
        assert data["access"] == "full"
        assert data["people_involved"] is None
        assert data["reported_by"] == RESTRICTED_NAME
        assert data["assessments"] is None
        text = str(data)
        assert "Emily Carter" not in text and "Colin Colleague" not in text
        assert "employee@example.com" not in text
        listed_row = listed(api_as(owner).get(INCIDENTS))[cases["restricted"].pk]
        assert listed_row["reported_by"] == RESTRICTED_NAME
        assert "people_involved" not in listed_row and "assessments" not in listed_row


def test_hr_and_the_incident_owner_see_who_was_involved_and_the_assessments(
    api_as, cases, hr, comms
):
    for owner in (hr, comms):  # comms owns the restricted case
        data = api_as(owner).get(incident_url(cases["restricted"])).json()
        assert [p["full_name"] for p in data["people_involved"]] == [
            "Colin Colleague",
            "Emily Carter",
        ]
        assert data["reported_by"] == "Colin Colleague"
        [assessment] = data["assessments"]
        assert assessment["final_outcome"] == "deliberate"
        assert assessment["person"]["email"] == "employee@example.com"


def test_on_the_learning_track_the_team_sees_the_people_but_not_the_assessments(
    api_as, cases, leader, make_person
):
    other_comms = make_person(group="Comms")
    for owner in (leader, other_comms):
        data = api_as(owner).get(incident_url(cases["learning"])).json()
        assert [p["full_name"] for p in data["people_involved"]] == ["Emily Carter"]
        assert data["assessments"] is None
        assert data["track"] == "learning"


def test_an_incident_nobody_may_open_is_404(api_as, cases, employee, outsider):
    for owner, incident in ((employee, cases["unrelated"]), (outsider, cases["own"])):
        assert api_as(owner).get(incident_url(incident)).status_code == 404
    assert api_as(employee).get(reverse("api:incident", args=[99999])).status_code == 404


@pytest.mark.parametrize("owner", ["comms", "employee", "manager"])
def test_the_list_costs_the_same_for_few_and_many_incidents(
    api_as,
    cases,
    request,
    owner,
    employee,
    manager,
    comms,
    make_person,
    django_assert_max_num_queries,
):
    client = api_as(request.getfixturevalue(owner))

    def fill(count):
        for number in range(count):
            incident = reported(employee, what_happened=f"Report {number}.")
            services.add_action(incident=incident, by=comms, title="Help", owner=employee)
            services.add_action(incident=incident, by=comms, title="Help too", owner=employee)

    client.get(INCIDENTS)
    with django_assert_max_num_queries(15) as few:
        client.get(INCIDENTS)
    fill(60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(INCIDENTS)
    if owner != "manager":
        assert len(response.json()["results"]) == 50


# --- reporting -------------------------------------------------------------------------


def report(**fields) -> dict:
    return {
        "what_happened": "A screenshot of the Q3 roadmap on LinkedIn.",
        "platform": "linkedin",
        "url": "https://www.linkedin.com/posts/123",
        "account_handle": " @someone ",
        "posted_at": "2026-03-02T09:15:00+01:00",
        "noticed_at": "2026-03-02T10:00:00+01:00",
        "information": "product",
        "estimated_reach": 1200,
        "people_involved": ["Employee@Example.com"],
        **fields,
    }


def test_an_intake_tool_reports_an_incident(api_as, employee, comms):
    response = api_as(comms, READ_WRITE).post(INCIDENTS, report(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    incident = Incident.objects.get()
    assert data["id"] == incident.pk and data["reference"] == incident.reference
    assert data["access"] == "full"
    assert incident.reporter == comms and not incident.self_reported
    assert incident.status == Incident.Status.REPORTED
    assert incident.platform == "linkedin" and incident.information == "product"
    assert incident.account_handle == "@someone"
    assert incident.posted_at == datetime.fromisoformat("2026-03-02T08:15:00+00:00")
    assert incident.estimated_reach == 1200
    assert list(incident.people_involved.all()) == [employee]
    assert IncidentEvent.objects.filter(incident=incident, to_value="reported").exists()


def test_anyone_may_report_and_then_sees_their_own_report(api_as, employee):
    response = api_as(employee, READ_WRITE).post(
        INCIDENTS, {"what_happened": "Saw something."}, format="json"
    )
    assert response.status_code == 201
    assert set(response.json()) == REPORTER_KEYS
    incident = Incident.objects.get()
    assert (incident.platform, incident.information) == ("other", "other")
    assert timezone.now() - incident.noticed_at < timedelta(minutes=1)


def test_a_time_without_an_offset_is_read_in_the_owners_time_zone(api_as, employee):
    employee.time_zone = "Asia/Tokyo"
    employee.save()
    response = api_as(employee, READ_WRITE).post(
        INCIDENTS,
        {"what_happened": "Saw it.", "noticed_at": "2026-03-02T09:00:00"},
        format="json",
    )
    assert response.status_code == 201
    assert Incident.objects.get().noticed_at == datetime.fromisoformat("2026-03-02T00:00:00+00:00")
    assert response.json()["noticed_at"] == "2026-03-02T09:00:00+09:00"


LATER = (timezone.now() + timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"what_happened": ""}, "what_happened", "Tell us what happened"),
        ({"what_happened": "   "}, "what_happened", "Tell us what happened"),
        ({"what_happened": None}, "what_happened", "This field may not be null."),
        ({"what_happened": "a\x00b"}, "what_happened", "Null characters are not allowed."),
        ({"what_happened": "x" * 20_001}, "what_happened", "no more than 20000 characters"),
        ({"what_happened": ["a list"]}, "what_happened", "Not a valid string."),
        ({"account_handle": "@a\x00"}, "account_handle", "Null characters are not allowed."),
        ({"account_handle": "x" * 201}, "account_handle", "no more than 200 characters"),
        ({"platform": "myspace"}, "platform", "is not a valid choice."),
        ({"information": "gossip"}, "information", "is not a valid choice."),
        ({"url": "not a link"}, "url", "Enter a valid URL."),
        ({"url": "javascript:alert(1)"}, "url", "Enter a valid URL."),
        ({"posted_at": "2026-13-45T25:00"}, "posted_at", "Datetime has wrong format."),
        ({"noticed_at": "yesterday"}, "noticed_at", "Datetime has wrong format."),
        ({"noticed_at": LATER}, "noticed_at", "That is in the future"),
        (
            {"posted_at": "2026-03-03T10:00:00Z", "noticed_at": "2026-03-02T10:00:00Z"},
            "posted_at",
            "It cannot have been noticed before it was posted.",
        ),
        ({"estimated_reach": -1}, "estimated_reach", "greater than or equal to 0"),
        ({"estimated_reach": 10**12}, "estimated_reach", "less than or equal to 2000000000"),
        ({"estimated_reach": "many"}, "estimated_reach", "A valid integer is required."),
        ({"people_involved": ["nobody@example.com"]}, "people_involved", "nobody@example.com"),
        ({"people_involved": ["not-an-email"]}, "people_involved", "valid email address"),
        ({"people_involved": "employee@example.com"}, "people_involved", "Expected a list"),
        (
            {"people_involved": [f"p{n}@example.com" for n in range(51)]},
            "people_involved",
            "no more than 50 elements",
        ),
    ],
)
def test_bad_input_is_refused_with_field_messages_and_nothing_is_stored(
    api_as, employee, fields, field, message
):
    response = api_as(employee, READ_WRITE).post(INCIDENTS, report(**fields), format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert message in str(errors[field])
    assert not Incident.objects.exists()
    assert not IncidentCounter.objects.filter(last__gt=0).exists()


def test_a_leaver_cannot_be_named_as_involved(api_as, employee, outsider):
    outsider.is_active = False
    outsider.save()
    response = api_as(employee, READ_WRITE).post(
        INCIDENTS, report(people_involved=[outsider.email]), format="json"
    )
    assert response.status_code == 400
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "body",
    ['["a", "list"]', '"text"', "{not json", '{"what_happened": "a\\u0000b"}'],
)
def test_a_body_that_is_not_a_report_is_refused(api_as, employee, body):
    response = api_as(employee, READ_WRITE).post(INCIDENTS, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()
    assert not Incident.objects.exists()


@pytest.mark.parametrize("body", ["[" * 200_000, '{"a":' * 100_000])
def test_a_body_nested_too_deeply_is_refused_in_json(api_as, policy_admin, body):
    client = api_as(policy_admin, READ_WRITE)  # may also acknowledge on someone's behalf
    for url in (INCIDENTS, reverse("api:on_behalf")):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {"detail": "JSON parse error - the body is nested too deeply."}
    assert not Incident.objects.exists()


def test_an_oversized_body_is_refused_in_json(api_as, employee, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    response = api_as(employee, READ_WRITE).post(
        INCIDENTS, report(what_happened="x" * 60_000), format="json"
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The request is too large."}
    assert not Incident.objects.exists()
