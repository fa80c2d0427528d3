"""The Remediation dashboard for each role: every figure, the list it links to and every
export count the same incidents, and never one the viewer may not open."""

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import permissions
from incidents.models import ActionItem, Incident, IncidentEvent
from incidents.tests.factories import assessed_deliberate, in_status, reported

pytestmark = pytest.mark.django_db

Status = Incident.Status
PAGE = reverse("dashboards:remediation")
TABLES = (
    "open",
    "overdue",
    "timings",
    "classification",
    "recurrence",
    "exposure",
    "noticed",
    "noticed-quarters",
)
# A number on the page that links to a list: <a href="/dashboards/remediation/...">3</a>
FIGURE = re.compile(r'<a href="(/dashboards/remediation/(incidents|actions)/\?[^"]*)">(\d+)</a>')


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _csv_url(table: str, query: str = "") -> str:
    return reverse("dashboards:remediation_csv", args=[table]) + (f"?{query}" if query else "")


@pytest.fixture
def world(comms, hr, manager, employee, make_person):
    """Incidents of every kind, with overdue actions and late reviews, some involving
    the manager's report (employee) and some a stranger."""
    stranger = make_person(email="stranger@example.com", full_name="Sam Stranger")
    today = timezone.localdate()
    now = timezone.now()
    ours = in_status(Status.REMEDIATION, by=comms, people_involved=[employee])
    ours.actions.update(due_date=today - timedelta(days=3))
    ActionItem.objects.filter(pk=ours.actions.first().pk).update(owner=employee)
    ours_closed = in_status(Status.CLOSED, by=comms, people_involved=[employee])
    ours_review = in_status(Status.REVIEW, by=comms, people_involved=[employee])
    ours_review.actions.update(completed_at=now - timedelta(days=30))
    theirs = in_status(Status.REMEDIATION, by=comms, people_involved=[stranger])
    theirs.actions.update(due_date=today - timedelta(days=40))
    theirs_closed = in_status(Status.CLOSED, by=comms, people_involved=[stranger])
    restricted = assessed_deliberate(
        in_status(Status.REMEDIATION, by=hr, people_involved=[employee]),
        employee,
        by=hr,
        supersede=True,
    )
    restricted.actions.update(due_date=today - timedelta(days=10))
    # The manager owns an action of the restricted case too: never counted for them.
    ActionItem.objects.filter(pk=restricted.actions.first().pk).update(owner=manager)
    undecided = reported(comms, people_involved=[employee], posted_at=now - timedelta(hours=5))
    # A stranger's incident where the manager owns one overdue action.
    owned = in_status(Status.REMEDIATION, by=comms, people_involved=[stranger])
    owned.actions.update(due_date=today - timedelta(days=2))
    ActionItem.objects.filter(pk=owned.actions.first().pk).update(owner=manager)
    # Contained and closed over two months, so the timings have history.
    month_ago = now - timedelta(days=35)
    for incident in (ours_closed, theirs_closed):
        Incident.objects.filter(pk=incident.pk).update(noticed_at=month_ago)
        events = IncidentEvent.objects.filter(incident=incident, what="status")
        events.filter(to_value=Status.CONTAINED).update(at=month_ago + timedelta(hours=5))
    return {
        "ours": ours,
        "ours_closed": ours_closed,
        "ours_review": ours_review,
        "theirs": theirs,
        "theirs_closed": theirs_closed,
        "restricted": restricted,
        "undecided": undecided,
        "owned": owned,
    }


def _all_pages(client, url: str, kind: str) -> list:
    rows, page = [], 1
    while True:
        response = client.get(f"{url}&page={page}")
        assert response.status_code == 200
        listed = response.context["page"]
        rows += list(listed.object_list)
        if not listed.has_next():
            return rows
        page += 1


# Who may open which incidents of the world (in full or in summary): the incident team
# and leadership all of them; a manager the learning-track incidents of their people,
# and the incident they own an action of (only through that action).
EVERY_INCIDENT = {
    "ours",
    "ours_closed",
    "ours_review",
    "theirs",
    "theirs_closed",
    "restricted",
    "undecided",
    "owned",
}
EXPECTED = {
    "comms": EVERY_INCIDENT,
    "hr": EVERY_INCIDENT,
    "leader": EVERY_INCIDENT,
    "manager": {"ours", "ours_closed", "ours_review", "owned"},
}


@pytest.mark.parametrize("role", ["comms", "hr", "leader", "manager"])
def test_every_figure_links_to_rows_the_viewer_may_open_and_exports_the_same(
    client, request, role, world
):
    viewer = request.getfixturevalue(role)
    client.force_login(viewer)
    page = client.get(PAGE)
    assert page.status_code == 200
    figures = FIGURE.findall(page.content.decode())
    assert len(figures) >= 10
    seen = set()
    for href, kind, shown in figures:
        url = unescape(href)
        rows = _all_pages(client, url, kind)
        incidents = {row.pk for row in rows} if kind == "incidents" else set()
        if kind == "actions":
            incidents = {row.incident_id for row in rows}
            for action in rows:
                assert (
                    action.owner == viewer
                    or action.owner.manager_id == viewer.pk
                    or (permissions.sees_all(viewer))
                ), url
        # The number shown is the number of rows behind it.
        assert len(rows) == int(shown), url
        for pk in incidents:
            incident = Incident.objects.get(pk=pk)
            assert permissions.access_level(viewer, incident), (url, incident.reference)
        seen |= incidents
        # The list's CSV holds the same rows.
        exported = _csv(client.get(url.replace(f"/{kind}/?", f"/{kind}.csv?")))
        assert len(exported) - 1 == len(rows), url
    names = {name for name, incident in world.items() if incident.pk in seen}
    assert names == EXPECTED[role]


@pytest.mark.parametrize("role", ["comms", "hr", "leader", "manager"])
def test_every_table_exports_what_the_page_shows(client, request, role, world):
    client.force_login(request.getfixturevalue(role))
    context = client.get(PAGE).context
    opened = _csv(client.get(_csv_url("open")))
    assert sum(int(row[2]) for row in opened[1:] if row[0] == "State") == context["open"].total
    overdue = _csv(client.get(_csv_url("overdue")))
    assert [int(row[1]) for row in overdue[1:]] == [t.count for t in context["overdue"]]
    timings = _csv(client.get(_csv_url("timings")))
    assert [(int(row[1]), int(row[3])) for row in timings[1:]] == [
        (row.contained, row.closed) for row in context["timings"]
    ]
    mix = _csv(client.get(_csv_url("classification")))
    assert [list(map(int, row[1:])) for row in mix[1:]] == [
        list(row.counts.values()) for row in context["mix"]
    ]
    recurrence = _csv(client.get(_csv_url("recurrence")))
    assert sum(sum(map(int, row[1:])) for row in recurrence[1:]) == context["recurrence"].total
    exposure = _csv(client.get(_csv_url("exposure")))
    assert [int(row[2]) for row in exposure[1:]] == [s.measured for s in context["stretches"]]


def test_what_each_role_counts_open_and_overdue(client, comms, hr, leader, manager, world):
    counts = {}
    for role, viewer in (("comms", comms), ("hr", hr), ("leader", leader), ("manager", manager)):
        client.force_login(viewer)
        context = client.get(PAGE).context
        counts[role] = (context["open"].total, context["overdue_total"])
    # Everyone on the incident team and leadership: 6 open incidents; overdue actions of
    # ours (3 days), theirs (40), the restricted case (10) and the one the manager owns.
    assert counts["comms"] == counts["hr"] == counts["leader"]
    assert counts["comms"][0] == 6
    # The manager: their person's learning-track open incidents (ours, ours_review), the
    # overdue actions of ours and the one they own; never the restricted case's.
    assert counts["manager"][0] == 2
    overdue_ours = world["ours"].actions.filter(owner__manager=manager).count()
    assert overdue_ours == 1
    assert counts["manager"][1] == overdue_ours + 1
    assert counts["comms"][1] > counts["manager"][1]


@pytest.mark.parametrize("role", ["employee", "outsider", "policy_admin"])
@pytest.mark.parametrize("table", [*TABLES, "incidents", "actions"])
def test_every_export_is_refused_to_those_without_the_dashboard(client, request, role, table):
    client.force_login(request.getfixturevalue(role))
    assert client.get(_csv_url(table, "open=1&overdue=all")).status_code == 403


def test_exposure_and_review_figures_link_to_the_incidents_they_measured(client, comms):
    now = timezone.now()
    posted = reported(
        comms, posted_at=now - timedelta(hours=6), noticed_at=now - timedelta(hours=1)
    )
    unposted = reported(comms)
    due = in_status(Status.REVIEW, by=comms)
    due.actions.update(completed_at=now - timedelta(days=30))
    client.force_login(comms)
    response = client.get(PAGE)
    stretch = response.context["stretches"][0]
    assert stretch.measured == 1
    assert [i.pk for i in client.get(stretch.link).context["page"].object_list] == [posted.pk]
    assert unposted.reference not in client.get(stretch.link).content.decode()
    listed = client.get(response.context["due_reviews_link"])
    assert [i.pk for i in listed.context["page"].object_list] == [due.pk]
    assert response.context["reviews"].due == 1


# --- query counts ------------------------------------------------------------------------


def _grow(comms, people, count):
    today = timezone.localdate()
    for number in range(count):
        incident = in_status(
            (Status.TRIAGE, Status.REMEDIATION, Status.REVIEW, Status.CLOSED)[number % 4],
            by=comms,
            people_involved=people,
            posted_at=timezone.now() - timedelta(hours=number + 2),
        )
        incident.actions.filter(status=ActionItem.Status.OPEN).update(
            due_date=today - timedelta(days=number + 1)
        )
        incident.actions.exclude(status=ActionItem.Status.OPEN).update(
            completed_at=timezone.now() - timedelta(days=20)
        )


def _fetch(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, url
    if response.streaming:
        b"".join(response.streaming_content)


@pytest.mark.parametrize("role", ["comms", "hr", "leader", "manager"])
def test_every_list_figure_and_export_query_count_holds_as_incidents_grow(
    computed_pages, client, request, role, comms, employee, django_assert_max_num_queries
):
    viewer = request.getfixturevalue(role)
    client.force_login(viewer)
    now = timezone.localtime()
    quarter = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    by_outcome = "outcome=human_error" if role == "hr" else "track=accountability"
    drills = [
        "open=1",
        "open=1&severity=medium",
        f"quarter={quarter}&{by_outcome}",
        f"quarter={quarter}&track=learning",
        f"contained={now:%Y-%m}",
        f"closed={now:%Y-%m}",
        "late_review=1",
        "review_due=1",
        "exposure=posted-noticed",
        "information=other&platform=linkedin",
    ]
    incidents = reverse("dashboards:remediation_incidents")
    urls = [PAGE, reverse("dashboards:remediation_actions") + "?overdue=all"]
    urls += [f"{incidents}?{drill}" for drill in drills]
    urls += [_csv_url(table) for table in TABLES]
    urls += [_csv_url("incidents", drill) for drill in drills]
    urls += [_csv_url("actions", "overdue=1-7")]
    _grow(comms, [employee], 4)
    counts = {}
    for url in urls:
        with django_assert_max_num_queries(30) as captured:
            _fetch(client, url)
        counts[url] = len(captured)
    _grow(comms, [employee], 12)
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            _fetch(client, url)
