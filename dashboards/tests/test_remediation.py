import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from dashboards import remediation
from incidents import services
from incidents.models import ActionItem, Incident, IncidentEvent
from incidents.tests.factories import assessed_deliberate, in_status, reported
from people import roles
from people.models import Department

pytestmark = pytest.mark.django_db

Status = Incident.Status
PAGE = reverse("dashboards:remediation")
INCIDENTS = reverse("dashboards:remediation_incidents")
ACTIONS = reverse("dashboards:remediation_actions")


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _csv_url(table: str, query: str = "") -> str:
    return reverse("dashboards:remediation_csv", args=[table]) + (f"?{query}" if query else "")


# --- who may see it ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["employee", "outsider", "policy_admin"])
@pytest.mark.parametrize(
    "url", [PAGE, INCIDENTS, ACTIONS + "?overdue=all", _csv_url("open"), _csv_url("incidents")]
)
def test_people_without_a_remediation_role_are_refused(client, request, role, url):
    client.force_login(request.getfixturevalue(role))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", ["comms", "hr", "leader", "manager"])
def test_incident_team_leadership_and_line_managers_see_the_dashboard(
    client, request, role, employee
):
    client.force_login(request.getfixturevalue(role))
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "Open now" in response.content.decode()


# --- what each role counts -----------------------------------------------------------------


def test_a_manager_counts_only_learning_track_incidents_of_their_people(
    client, manager, employee, make_person, comms, hr
):
    indirect = make_person(email="indirect@example.com", manager=employee)
    stranger = make_person(email="stranger@example.com")
    ours = in_status(Status.CLASSIFIED, by=comms, people_involved=[indirect])
    theirs = in_status(Status.CLASSIFIED, by=comms, people_involved=[stranger])
    restricted = assessed_deliberate(
        in_status(Status.TRIAGE, by=comms, people_involved=[employee]), employee, by=hr
    )
    undecided = reported(comms, people_involved=[employee])
    assert ours.track == Incident.Track.LEARNING

    client.force_login(manager)
    page = client.get(PAGE)
    assert page.context["open"].total == 1
    listed = client.get(INCIDENTS + "?open=1")
    references = {incident.reference for incident in listed.context["page"].object_list}
    assert references == {ours.reference}
    exported = _csv(client.get(_csv_url("incidents", "open=1")))
    assert [row[0] for row in exported[1:]] == [ours.reference]
    for hidden in (theirs, restricted, undecided):
        assert hidden.reference not in listed.content.decode()

    client.force_login(comms)
    assert client.get(PAGE).context["open"].total == 4


def test_a_department_filter_leaves_accountability_cases_to_hr(client, comms, hr, make_person):
    sales = Department.objects.create(name="Sales")
    person = make_person(email="seller@example.com", department=sales)
    learning = in_status(Status.TRIAGE, by=comms, people_involved=[person])
    restricted = assessed_deliberate(
        in_status(Status.TRIAGE, by=comms, people_involved=[person]), person, by=hr
    )
    query = f"department={sales.pk}"

    client.force_login(comms)
    assert client.get(f"{PAGE}?{query}").context["open"].total == 1
    rows = _csv(client.get(_csv_url("incidents", f"{query}&open=1")))
    assert [row[0] for row in rows[1:]] == [learning.reference]
    # Without the department filter, comms count the case (they may open it).
    assert client.get(PAGE).context["open"].total == 2

    client.force_login(hr)
    assert client.get(f"{PAGE}?{query}").context["open"].total == 2
    rows = _csv(client.get(_csv_url("incidents", f"{query}&open=1")))
    assert {row[0] for row in rows[1:]} == {learning.reference, restricted.reference}


def test_only_hr_see_classification_by_outcome_others_by_track(
    client, comms, hr, leader, manager, make_person
):
    person = make_person(email="poster@example.com", manager=manager)
    learning = in_status(Status.CLASSIFIED, by=comms, people_involved=[person])
    restricted = assessed_deliberate(
        in_status(Status.CLASSIFIED, by=comms, people_involved=[person]), person, by=hr
    )
    quarter = remediation.quarter_of(timezone.localtime())

    client.force_login(hr)
    mix = client.get(PAGE).context["mix"]
    assert sum(row.counts["human_error"] for row in mix) == 2  # both were assessed so first
    assert sum(row.counts["deliberate"] for row in mix) == 1
    listed = client.get(f"{INCIDENTS}?outcome=deliberate&quarter={quarter}")
    assert [i.pk for i in listed.context["page"].object_list] == [restricted.pk]

    for viewer in (comms, leader):
        client.force_login(viewer)
        response = client.get(PAGE)
        mix = response.context["mix"]
        assert [c for c, _ in response.context["columns"]] == ["learning", "accountability"]
        assert sum(row.counts["learning"] for row in mix) == 1
        assert sum(row.counts["accountability"] for row in mix) == 1
        page = response.content.decode()
        assert "Accountability track (reckless, deliberate)" in page
        assert ">Deliberate<" not in page and ">Human error<" not in page
        rows = _csv(client.get(_csv_url("classification")))
        assert rows[0] == [
            "Quarter",
            "Learning track (human error, at-risk)",
            "Accountability track (reckless, deliberate)",
        ]
        listed = client.get(f"{INCIDENTS}?track=learning&quarter={quarter}")
        assert [i.pk for i in listed.context["page"].object_list] == [learning.pk]
        # Listing by outcome would tell one person's assessment: not for them.
        refused = client.get(f"{INCIDENTS}?outcome=human_error&quarter={quarter}")
        assert refused.context["page"].paginator.count == 0
        assert "not available to you" in refused.content.decode()
        csv_url = _csv_url("incidents", f"outcome=deliberate&quarter={quarter}")
        assert client.get(csv_url).status_code == 400

    # A line manager: their people's learning-track incidents only.
    client.force_login(manager)
    response = client.get(PAGE)
    assert [c for c, _ in response.context["columns"]] == ["learning"]
    assert sum(row.counts["learning"] for row in response.context["mix"]) == 1
    assert "reckless, deliberate" not in response.content.decode()
    listed = client.get(f"{INCIDENTS}?track=learning&quarter={quarter}")
    assert [i.pk for i in listed.context["page"].object_list] == [learning.pk]


def test_a_managers_overdue_actions_are_those_they_or_their_people_own(
    client, manager, employee, comms
):
    incident = in_status(Status.REMEDIATION, by=comms, people_involved=[employee])
    theirs, ours, mine = list(incident.actions.all())[:3]
    ActionItem.objects.filter(pk=ours.pk).update(owner=employee)
    ActionItem.objects.filter(pk=mine.pk).update(owner=manager)
    incident.actions.update(due_date=timezone.localdate() - timedelta(days=2))

    client.force_login(manager)
    overdue = {t.value: t.count for t in client.get(PAGE).context["overdue"]}
    assert overdue["1-7"] == 2
    listed = client.get(f"{ACTIONS}?overdue=all")
    assert {a.pk for a in listed.context["page"].object_list} == {ours.pk, mine.pk}
    rows = _csv(client.get(_csv_url("actions", "overdue=all")))
    assert sorted(row[2] for row in rows[1:]) == sorted(
        [employee.get_full_name(), manager.get_full_name()]
    )
    assert theirs.owner.get_full_name() not in listed.content.decode()


# --- the figures -----------------------------------------------------------------------------


def test_time_to_contain_and_close_comes_from_the_history(client, comms):
    incident = in_status(Status.CLOSED, by=comms)
    noticed = timezone.now() - timedelta(days=10)
    Incident.objects.filter(pk=incident.pk).update(noticed_at=noticed)
    events = IncidentEvent.objects.filter(incident=incident, what="status")
    events.filter(to_value=Status.CONTAINED).update(at=noticed + timedelta(hours=6))
    events.filter(to_value=Status.CLOSED).update(at=noticed + timedelta(days=4))

    client.force_login(comms)
    timings = client.get(PAGE).context["timings"]
    contained = [row for row in timings if row.contained]
    closed = [row for row in timings if row.closed]
    assert [(row.contained, row.contain_hours) for row in contained] == [(1, 6.0)]
    assert [(row.closed, row.close_days) for row in closed] == [(1, 4.0)]
    month = f"{timezone.localtime(noticed + timedelta(days=4)):%Y-%m}"
    listed = client.get(f"{INCIDENTS}?closed={month}")
    assert [i.pk for i in listed.context["page"].object_list] == [incident.pk]

    # Reopened, it is no longer closed: its old close leaves the figure and the list.
    services.reopen(incident=incident, user=comms, note="The post is back.")
    timings = client.get(PAGE).context["timings"]
    assert sum(row.closed for row in timings) == 0
    assert client.get(f"{INCIDENTS}?closed={month}").context["page"].paginator.count == 0


def test_closed_reopened_and_closed_again_is_listed_under_its_last_close(client, comms):
    """The list reads only incidents with a close in the month, but it is the last close
    that counts: closed 40 days ago and again now is listed under now only."""
    incident = in_status(Status.CLOSED, by=comms)
    earlier = timezone.now() - timedelta(days=40)
    Incident.objects.filter(pk=incident.pk).update(noticed_at=earlier - timedelta(days=1))
    IncidentEvent.objects.filter(incident=incident, what="status").update(at=earlier)
    IncidentEvent.objects.create(
        incident=incident, what="status", to_value=Status.CLOSED, at=timezone.now()
    )
    client.force_login(comms)
    then, now = f"{timezone.localtime(earlier):%Y-%m}", f"{timezone.localtime():%Y-%m}"
    assert client.get(f"{INCIDENTS}?closed={then}").context["page"].paginator.count == 0
    listed = client.get(f"{INCIDENTS}?closed={now}").context["page"].object_list
    assert [i.pk for i in listed] == [incident.pk]


def test_timings_go_by_when_it_was_contained_not_when_it_was_noticed(client, comms):
    incident = in_status(Status.CONTAINED, by=comms)
    noticed = timezone.now() - timedelta(days=500)
    Incident.objects.filter(pk=incident.pk).update(noticed_at=noticed)
    client.force_login(comms)
    timings = client.get(PAGE).context["timings"]
    # Noticed long before the period, contained this month: counted this month.
    assert [(row.month, row.contained) for row in timings if row.contained] == [
        (f"{timezone.localtime():%Y-%m}", 1)
    ]
    assert timings[-1].contain_hours > 500 * 24 - 1


def test_exposure_window_and_recurrence(client, comms):
    now = timezone.now()
    for hours in (2, 4):
        reported(
            comms,
            platform=Incident.Platform.X,
            information=Incident.Information.FINANCIAL,
            posted_at=now - timedelta(hours=hours + 1),
            noticed_at=now - timedelta(hours=1),
        )
    client.force_login(comms)
    response = client.get(PAGE)
    stretches = {s.name: s for s in response.context["stretches"]}
    assert stretches["Posted → noticed"].median_hours == 3.0
    assert stretches["Posted → noticed"].measured == 2
    recurrence = response.context["recurrence"]
    assert recurrence.rows == [("financial", "Financial information", [2])]
    link = recurrence.linked[0][1][0][1]
    listed = client.get(link)
    assert listed.context["page"].paginator.count == 2


def test_overdue_actions_and_late_reviews_link_to_their_rows(client, comms, hr):
    incident = in_status(Status.REMEDIATION, by=comms)
    actions = list(incident.actions.all())
    today = timezone.localdate()
    ActionItem.objects.filter(pk=actions[0].pk).update(due_date=today - timedelta(days=3))
    ActionItem.objects.filter(pk=actions[1].pk).update(due_date=today - timedelta(days=40))
    late = in_status(Status.REVIEW, by=comms)
    done = timezone.now() - timedelta(days=30)
    late.actions.update(completed_at=done)

    client.force_login(comms)
    response = client.get(PAGE)
    overdue = {tally.value: tally.count for tally in response.context["overdue"]}
    assert overdue == {"1-7": 1, "8-30": 0, "31+": 1}
    assert response.context["reviews"].late == 1
    listed = client.get(f"{ACTIONS}?overdue=31%2B")
    assert [a.pk for a in listed.context["page"].object_list] == [actions[1].pk]
    listed = client.get(f"{INCIDENTS}?late_review=1")
    assert [i.pk for i in listed.context["page"].object_list] == [late.pk]


# --- bad input ---------------------------------------------------------------------------------


def test_a_bad_period_is_explained_and_the_default_used(client, comms):
    client.force_login(comms)
    response = client.get(f"{PAGE}?start=2026-05-01&end=2026-01-01&platform=myspace")
    assert response.status_code == 200
    page = response.content.decode()
    assert "The start of the period is after its end." in page
    assert "Choose one of the platforms listed." in page
    assert response.context["filters"].platform == ""


def test_a_bad_link_lists_nothing_and_says_why(client, comms):
    in_status(Status.TRIAGE, by=comms)
    client.force_login(comms)
    response = client.get(f"{INCIDENTS}?status=everything")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert "not valid" in response.content.decode()
    assert client.get(_csv_url("nonsense")).status_code == 404
    refused = client.get(_csv_url("incidents", "quarter=2026-Q9&outcome=deliberate"))
    assert refused.status_code == 400
    assert "not valid (quarter)" in refused.content.decode()


@pytest.mark.parametrize(
    "bad", ["department=999999", "platform=myspace", "start=yesterday", "end=2026-13-01"]
)
def test_a_bad_filter_on_a_list_lists_nothing_rather_than_more(client, comms, bad):
    in_status(Status.TRIAGE, by=comms)
    in_status(Status.REMEDIATION, by=comms).actions.update(
        due_date=timezone.localdate() - timedelta(days=3)
    )
    client.force_login(comms)
    for url in (f"{INCIDENTS}?open=1&{bad}", f"{ACTIONS}?overdue=all&{bad}"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.context["page"].paginator.count == 0
        assert response.context["problem"]
        assert "alert" in response.content.decode()
    for table in ("incidents", "actions", "open", "timings"):
        refused = client.get(_csv_url(table, f"open=1&overdue=all&{bad}"))
        assert refused.status_code == 400
        assert refused["Content-Type"].startswith("text/plain")
    # The same list without the bad value has rows.
    assert client.get(f"{INCIDENTS}?open=1").context["page"].paginator.count == 2


@pytest.mark.parametrize(
    "url",
    [PAGE + "?end=2000-06-01", _csv_url("timings", "end=2000-01-01"), PAGE + "?end=2000-01-01"],
)
def test_an_early_end_alone_looks_back_no_further_than_2000(client, comms, url):
    client.force_login(comms)
    response = client.get(url)
    assert response.status_code == 200
    if not response.streaming:
        assert response.context["timings"][0].month == "2000-01"


def test_a_start_alone_far_back_is_refused_and_the_last_twelve_months_shown(client, comms):
    client.force_login(comms)
    response = client.get(f"{PAGE}?start=2000-01-01")
    assert "Choose a period of at most three years." in response.content.decode()
    assert len(response.context["timings"]) == 12
    # A list has no column per month: a start alone is fine there.
    assert client.get(f"{INCIDENTS}?start=2000-01-01").context["problem"] == ""


# --- CSV -----------------------------------------------------------------------------------------


def test_exports_escape_cells_that_would_be_formulas(client, comms, make_person):
    owner = make_person(email="formula@example.com", full_name="=HYPERLINK(1)", group="Comms")
    in_status(Status.TRIAGE, by=comms, owner=owner)
    client.force_login(comms)
    rows = _csv(client.get(_csv_url("incidents", "open=1")))
    assert rows[1][-1] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    "table", ["open", "overdue", "timings", "classification", "recurrence", "exposure"]
)
def test_every_dashboard_table_exports(client, comms, table):
    in_status(Status.CLOSED, by=comms)
    client.force_login(comms)
    response = client.get(_csv_url(table))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert len(_csv(response)) >= 2


# --- query counts ------------------------------------------------------------------------------


def _grow(comms, people, count):
    for number in range(count):
        incident = in_status(
            (Status.TRIAGE, Status.REMEDIATION, Status.CLOSED)[number % 3],
            by=comms,
            people_involved=people,
        )
        incident.actions.update(due_date=timezone.localdate() - timedelta(days=number + 1))


def test_the_dashboard_reads_each_figure_once_for_someone_holding_every_role(
    client, hr, comms, employee, django_assert_max_num_queries
):
    # Five reads every signed-in page makes (session, person, second factor, roles,
    # whether they manage anyone), then the page's own: open incidents, overdue actions,
    # time to contain and close, classification, the period's incidents (recurrence,
    # exposure and noticing together), reviews, and the departments of the filter.
    for group in (roles.COMMS, roles.LEADERSHIP, roles.POLICY_ADMIN):
        hr.groups.add(Group.objects.get_or_create(name=group)[0])
    _grow(comms, [employee], 9)
    client.force_login(hr)
    with django_assert_max_num_queries(12) as captured:
        response = client.get(PAGE)
    assert response.status_code == 200
    departments = [q["sql"] for q in captured if '"people_department"' in q["sql"]]
    assert len(departments) == 1, departments


@pytest.mark.parametrize("role", ["comms", "manager"])
def test_query_counts_do_not_grow_with_incidents(
    computed_pages, client, request, role, comms, employee, django_assert_max_num_queries
):
    viewer = request.getfixturevalue(role)
    client.force_login(viewer)
    urls = [PAGE, INCIDENTS + "?open=1", ACTIONS + "?overdue=all"]
    _grow(comms, [employee], 2)
    counts = {}
    for url in urls:
        with django_assert_max_num_queries(25) as captured:
            assert client.get(url).status_code == 200
        counts[url] = len(captured)
    _grow(comms, [employee], 9)
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            assert client.get(url).status_code == 200
