"""Time from posted to noticed on the Remediation dashboard, by how an incident was
noticed (intake, self-report, colleague report): the figures, the lists they link to,
their exports, who counts what, and what a bad link gets."""

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboards import remediation
from incidents import permissions
from incidents.models import Incident
from incidents.tests.factories import assessed_deliberate, in_status, reported
from prevention.models import IntakeItem, Source

pytestmark = pytest.mark.django_db

Status = Incident.Status
PAGE = reverse("dashboards:remediation")
INCIDENTS = reverse("dashboards:remediation_incidents")
# A linked number of the posted → noticed figures: every such link says how noticed, or
# (for all incidents) that the posted → noticed stretch was measured.
FIGURE = re.compile(
    r'<a href="(/dashboards/remediation/incidents/\?[^"]*'
    r'(?:noticed_by=|exposure=posted-noticed)[^"]*)">(\d+)</a>'
)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _csv_url(table: str, query: str = "") -> str:
    return reverse("dashboards:remediation_csv", args=[table]) + (f"?{query}" if query else "")


def _listed(client, url: str) -> list[int]:
    """Every incident a list shows, over all its pages."""
    pks, page = [], 1
    while True:
        response = client.get(f"{url}&page={page}")
        assert response.status_code == 200
        listed = response.context["page"]
        pks += [incident.pk for incident in listed.object_list]
        if not listed.has_next():
            return pks
        page += 1


def by_intake(incident: Incident) -> Incident:
    """`incident` as intake opens one: with the intake item of the post it matched."""
    source, _ = Source.objects.get_or_create(
        slug="listening",
        defaults={
            "name": "Social listening",
            "kind": Source.Kind.WEBHOOK,
            "secret": "s" * 32,
            "created_by": incident.reporter,
            "created_at": timezone.now(),
        },
    )
    IntakeItem.objects.create(
        source=source,
        dedupe_key=f"https://example.com/posts/{incident.pk}",
        posted_at=incident.posted_at,
        noticed_at=incident.noticed_at,
        text_sha256="0" * 64,
        incident=incident,
    )
    return incident


def _times(hours_up: float | None, *, ago: timedelta = timedelta(hours=1)) -> dict:
    """Noticed `ago`, after the post had been up `hours_up` (None: no posted time)."""
    noticed = timezone.now() - ago
    posted = None if hours_up is None else noticed - timedelta(hours=hours_up)
    return {"noticed_at": noticed, "posted_at": posted}


def _channels(context) -> dict[str, remediation.Channel]:
    return {channel.value: channel for channel in context["noticing"].channels}


# --- how it was noticed ---------------------------------------------------------------------


def test_intake_comes_first_then_a_self_report_then_anyone_elses(client, comms, employee):
    from_intake = by_intake(reported(comms, **_times(1)))
    # Intake found it, though the person who posted it reported it too.
    self_and_intake = by_intake(reported(employee, self_reported=True, **_times(2)))
    own = reported(employee, self_reported=True, **_times(3))
    colleague = reported(employee, **_times(4))
    by_comms = reported(comms, **_times(None))
    expected = {
        "intake": {from_intake.pk, self_and_intake.pk},
        "self": {own.pk},
        "colleague": {colleague.pk, by_comms.pk},
    }
    for channel, pks in expected.items():
        found = Incident.objects.filter(remediation.noticed_through(channel))
        assert set(found.values_list("pk", flat=True)) == pks

    client.force_login(comms)
    response = client.get(PAGE)
    channels = _channels(response.context)
    assert [c.label for c in response.context["noticing"].channels] == [
        "Intake",
        "Self-report",
        "Colleague report",
        "All incidents",
    ]
    for channel, pks in expected.items():
        assert channels[channel].noticed == len(pks)
        assert set(_listed(client, channels[channel].link)) == pks
    assert channels[""].noticed == 5
    assert (channels["colleague"].unposted, channels["colleague"].measured) == (1, 1)


def test_medians_and_90th_percentiles_over_the_incidents_with_a_posted_time(client, comms, hr):
    for hours in (0.1, 0.2, 0.5, 1.0):
        by_intake(reported(comms, **_times(hours)))
    for hours in (2, 10, 30, None):
        reported(comms, **_times(hours))
    reported(hr, self_reported=True, **_times(None))
    # A posted time edited to after it was noticed: counted, never measured.
    edited = reported(comms, **_times(None))
    Incident.objects.filter(pk=edited.pk).update(posted_at=timezone.now())
    # Noticed before the period: not counted.
    by_intake(reported(comms, **_times(0.1, ago=timedelta(days=500))))

    client.force_login(comms)
    response = client.get(PAGE)
    channels = _channels(response.context)
    intake, own, colleague, every = (channels[c] for c in ("intake", "self", "colleague", ""))
    assert (intake.noticed, intake.unposted, intake.measured) == (4, 0, 4)
    # Four values: the median halfway between 0.2 and 0.5; the 90th percentile 70% of the
    # way from 0.5 to 1.0.
    assert (intake.median_hours, intake.p90_hours) == (0.35, 0.85)
    assert (intake.median_words, intake.p90_words) == ("21 min", "51 min")
    assert (colleague.noticed, colleague.unposted, colleague.measured) == (5, 1, 3)
    assert len(_listed(client, colleague.measured_link)) == 3
    assert (colleague.median_hours, colleague.p90_hours) == (10.0, 26.0)
    assert (colleague.median_words, colleague.p90_words) == ("10.0 h", "26.0 h")
    # Nothing measured: no median, shown as a dash.
    assert (own.noticed, own.unposted, own.measured, own.median_hours) == (1, 1, 0, None)
    assert own.median_words == "–"
    assert (every.noticed, every.unposted, every.measured) == (10, 2, 7)
    assert every.median_hours == 1.0
    page = response.content.decode()
    assert "Time from posted to noticed, by how it was noticed" in page
    assert "21 min" in page and "26.0 h" in page


def test_percentile_is_linear_between_ranks_and_the_median_at_half():
    assert remediation.percentile([], 0.5) is None
    assert remediation.percentile([7.0], 0.9) == 7.0
    assert remediation.percentile([4.0, 1.0, 3.0], 0.5) == 3.0
    assert remediation.percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9) == (
        pytest.approx(9.1)
    )
    assert remediation.duration_words(72) == "3.0 days"


def test_quarters_show_whether_noticing_comes_sooner(client, comms):
    earlier = timedelta(days=100)  # never in the same quarter as today
    reported(comms, **_times(20, ago=earlier))
    by_intake(reported(comms, **_times(0.5, ago=earlier)))
    by_intake(reported(comms, **_times(0.1)))
    by_intake(reported(comms, **_times(0.3)))

    client.force_login(comms)
    response = client.get(PAGE)
    quarters = {row.quarter: row for row in response.context["noticing"].quarters}
    now = remediation.quarter_of(timezone.localtime())
    before = remediation.quarter_of(timezone.localtime(timezone.now() - earlier))
    this, that = quarters[now].channels, quarters[before].channels
    assert [(c.measured, c.median_hours) for c in this] == [
        (2, 0.2),
        (0, None),
        (0, None),
        (2, 0.2),
    ]
    assert [(c.measured, c.median_hours) for c in that] == [
        (1, 0.5),
        (0, None),
        (1, 20.0),
        (2, 10.25),
    ]
    rows = _csv(client.get(_csv_url("noticed-quarters")))
    assert rows[0][:3] == ["Quarter", "Intake: posted time known", "Intake: median hours"]
    by_label = {row[0]: row[1:] for row in rows[1:]}
    assert by_label[remediation.quarter_label(before)] == ["1", "0.5", "0", "", "1", "20.0"] + [
        "2",
        "10.25",
    ]
    assert len(rows) - 1 == len(quarters)


def test_a_quarter_cut_by_the_period_counts_and_lists_only_what_the_period_holds(client, comms):
    start = date(timezone.localdate().year - 1, 2, 15)  # halfway through a quarter
    first_day = timezone.make_aware(datetime.combine(start, time(1)))
    inside = by_intake(
        reported(comms, posted_at=first_day - timedelta(hours=2), noticed_at=first_day)
    )
    # The day before the period, in the same quarter.
    by_intake(
        reported(
            comms,
            posted_at=first_day - timedelta(days=1, hours=2),
            noticed_at=first_day - timedelta(days=1),
        )
    )
    client.force_login(comms)
    row = client.get(f"{PAGE}?start={start.isoformat()}").context["noticing"].quarters[0]
    assert row.quarter == f"{start.year}-Q1"
    intake = row.channels[0]
    assert intake.measured == 1
    assert f"start={start.isoformat()}&end={start.year}-03-31" in intake.measured_link
    assert _listed(client, intake.measured_link) == [inside.pk]


# --- who counts what ----------------------------------------------------------------------


@pytest.fixture
def world(comms, hr, employee, make_person):
    """Incidents noticed every way, some involving the manager's report (employee),
    some a stranger; one accountability-track case and one not yet classified."""
    stranger = make_person(email="stranger@example.com", full_name="Sam Stranger")
    return {
        "ours_intake": by_intake(
            in_status(Status.CLASSIFIED, by=comms, people_involved=[employee], **_times(0.2))
        ),
        "ours_self": in_status(
            Status.CLASSIFIED, by=comms, reporter=employee, self_reported=True, **_times(3)
        ),
        "ours_colleague": in_status(
            Status.CLOSED, by=comms, people_involved=[employee], **_times(None)
        ),
        "theirs_intake": by_intake(
            in_status(Status.CLASSIFIED, by=comms, people_involved=[stranger], **_times(0.5))
        ),
        "theirs_colleague": in_status(
            Status.TRIAGE, by=comms, people_involved=[stranger], **_times(12)
        ),
        "restricted": assessed_deliberate(
            by_intake(in_status(Status.TRIAGE, by=comms, people_involved=[employee], **_times(1))),
            employee,
            by=hr,
        ),
        "undecided": reported(comms, people_involved=[employee], **_times(2)),
    }


EVERY_INCIDENT = {
    "ours_intake",
    "ours_self",
    "ours_colleague",
    "theirs_intake",
    "theirs_colleague",
    "restricted",
    "undecided",
}
EXPECTED = {
    "comms": EVERY_INCIDENT,
    "hr": EVERY_INCIDENT,
    "leader": EVERY_INCIDENT,
    # Learning-track incidents of their people only: never the accountability-track
    # case nor the one not yet classified, however it was noticed.
    "manager": {"ours_intake", "ours_self", "ours_colleague"},
}


@pytest.mark.parametrize("role", ["comms", "hr", "leader", "manager"])
def test_every_noticed_figure_lists_its_rows_and_only_rows_the_viewer_may_open(
    client, request, role, world
):
    viewer = request.getfixturevalue(role)
    client.force_login(viewer)
    response = client.get(PAGE)
    figures = FIGURE.findall(response.content.decode())
    assert len(figures) >= 4
    seen = set()
    for href, shown in figures:
        url = unescape(href)
        pks = _listed(client, url)
        # The number shown is the number of rows behind it, and the export holds them.
        assert len(pks) == int(shown), url
        exported = _csv(client.get(url.replace("/incidents/?", "/incidents.csv?")))
        assert len(exported) - 1 == len(pks), url
        for incident in Incident.objects.filter(pk__in=pks):
            assert permissions.access_level(viewer, incident), (url, incident.reference)
        seen |= set(pks)
    names = {name for name, incident in world.items() if incident.pk in seen}
    assert names == EXPECTED[role]
    counted = {name for name in EVERY_INCIDENT if name in EXPECTED[role]}
    channels = _channels(response.context)
    assert channels[""].noticed == len(counted)
    intake = {name for name in counted if name.endswith("intake") or name == "restricted"}
    assert channels["intake"].noticed == len(intake)


def test_a_manager_counts_only_learning_track_incidents_of_their_people(
    client, manager, comms, world
):
    client.force_login(manager)
    channels = _channels(client.get(PAGE).context)
    assert [(c.noticed, c.measured) for c in channels.values()] == [
        (1, 1),  # ours_intake
        (1, 1),  # ours_self
        (1, 0),  # ours_colleague: no posted time
        (3, 2),
    ]
    assert channels["intake"].median_hours == 0.2
    rows = _csv(client.get(_csv_url("noticed")))
    assert [row[:4] for row in rows[1:]] == [
        ["Intake", "1", "0", "1"],
        ["Self-report", "1", "0", "1"],
        ["Colleague report", "1", "1", "0"],
        ["All incidents", "3", "1", "2"],
    ]
    listed = client.get(f"{INCIDENTS}?noticed_by=intake")
    assert [i.pk for i in listed.context["page"].object_list] == [world["ours_intake"].pk]
    for hidden in ("theirs_intake", "restricted"):
        assert world[hidden].reference not in listed.content.decode()

    client.force_login(comms)
    channels = _channels(client.get(PAGE).context)
    assert [c.noticed for c in channels.values()] == [3, 1, 3, 7]


def test_a_department_or_platform_filter_narrows_the_figure_and_its_list(client, comms, world):
    client.force_login(comms)
    assert _channels(client.get(f"{PAGE}?platform=x").context)[""].noticed == 0
    response = client.get(f"{PAGE}?platform=linkedin")
    channels = _channels(response.context)
    assert channels[""].noticed == 7
    assert "platform=linkedin" in channels["intake"].link


# --- exports ---------------------------------------------------------------------------


def test_the_table_exports_what_the_page_shows(client, comms, world):
    client.force_login(comms)
    context = client.get(PAGE).context
    rows = _csv(client.get(_csv_url("noticed")))
    assert rows[0] == [
        "Noticed by",
        "Incidents noticed",
        "No posted time",
        "Posted time known",
        "Median hours posted to noticed",
        "90th percentile hours posted to noticed",
    ]
    assert rows[1:] == [
        [
            c.label,
            str(c.noticed),
            str(c.unposted),
            str(c.measured),
            "" if c.median_hours is None else str(c.median_hours),
            "" if c.p90_hours is None else str(c.p90_hours),
        ]
        for c in context["noticing"].channels
    ]
    quarters = _csv(client.get(_csv_url("noticed-quarters")))
    assert [row[0] for row in quarters[1:]] == [q.label for q in context["noticing"].quarters]
    assert sum(int(row[-2]) for row in quarters[1:]) == _channels(context)[""].measured
    # The page links to both exports with its filters.
    page = client.get(f"{PAGE}?platform=linkedin").content.decode()
    assert f"{_csv_url('noticed')}?" in page and "noticed-quarters.csv?" in page


def test_a_list_by_how_noticed_exports_the_same_rows(client, comms, world):
    client.force_login(comms)
    listed = _listed(client, f"{INCIDENTS}?noticed_by=colleague&exposure=posted-noticed")
    rows = _csv(client.get(_csv_url("incidents", "noticed_by=colleague&exposure=posted-noticed")))
    references = dict(Incident.objects.filter(pk__in=listed).values_list("reference", "pk"))
    assert sorted(row[0] for row in rows[1:]) == sorted(references)
    # Reported by someone else with a posted time: theirs and the one not yet classified.
    assert set(listed) == {world["theirs_colleague"].pk, world["undecided"].pk}
    page = client.get(f"{INCIDENTS}?noticed_by=self").content.decode()
    assert "Noticed by self-report" in page
    assert ">Posted<" in page


@pytest.mark.parametrize("role", ["employee", "outsider", "policy_admin"])
@pytest.mark.parametrize(
    "url",
    [
        _csv_url("noticed"),
        _csv_url("noticed-quarters"),
        _csv_url("incidents", "noticed_by=intake"),
        f"{INCIDENTS}?noticed_by=intake",
    ],
)
def test_people_without_a_remediation_role_are_refused(client, request, role, url):
    client.force_login(request.getfixturevalue(role))
    assert client.get(url).status_code == 403


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["everyone", "INTAKE", "intake,self"])
def test_a_bad_noticed_by_lists_nothing_says_why_and_its_csv_is_refused(
    client, comms, employee, bad
):
    by_intake(reported(comms, **_times(1)))
    reported(employee, self_reported=True, **_times(1))
    client.force_login(comms)
    response = client.get(INCIDENTS, {"noticed_by": bad})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert "This link has a value that is not valid (noticed_by)." in response.content.decode()
    refused = client.get(
        reverse("dashboards:remediation_csv", args=["incidents"]), {"noticed_by": bad}
    )
    assert refused.status_code == 400
    assert refused["Content-Type"].startswith("text/plain")
    assert "not valid (noticed_by)" in refused.content.decode()
    # The list without the bad value has rows.
    assert client.get(f"{INCIDENTS}?noticed_by=intake").context["page"].paginator.count == 1


@pytest.mark.parametrize("table", ["noticed", "noticed-quarters"])
def test_a_bad_filter_refuses_the_tables_export(client, comms, table):
    client.force_login(comms)
    refused = client.get(_csv_url(table, "platform=myspace"))
    assert refused.status_code == 400
    assert "Choose one of the platforms listed." in refused.content.decode()


# --- query counts -------------------------------------------------------------------------


def _grow(comms, employee, count):
    for number in range(count):
        up = None if number % 5 == 4 else number + 0.5
        kind = number % 3
        if kind == 0:
            incident = in_status(
                Status.CLASSIFIED, by=comms, people_involved=[employee], **_times(up)
            )
            by_intake(incident)
        elif kind == 1:
            in_status(
                Status.CLASSIFIED,
                by=comms,
                reporter=employee,
                self_reported=True,
                **_times(up, ago=timedelta(days=100 + number)),
            )
        else:
            in_status(Status.TRIAGE, by=comms, people_involved=[employee], **_times(up))


def _fetch(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, url
    if response.streaming:
        b"".join(response.streaming_content)


@pytest.mark.parametrize("role", ["comms", "manager"])
def test_query_counts_hold_as_incidents_grow(
    computed_pages, client, request, role, comms, employee, django_assert_max_num_queries
):
    client.force_login(request.getfixturevalue(role))
    drills = [f"noticed_by={channel}&exposure=posted-noticed" for channel in ("intake", "self")] + [
        "noticed_by=colleague"
    ]
    urls = [PAGE, _csv_url("noticed"), _csv_url("noticed-quarters")]
    urls += [f"{INCIDENTS}?{drill}" for drill in drills]
    urls += [_csv_url("incidents", drill) for drill in drills]
    _grow(comms, employee, 3)
    counts = {}
    for url in urls:
        with django_assert_max_num_queries(30) as captured:
            _fetch(client, url)
        counts[url] = len(captured)
    _grow(comms, employee, 15)
    assert Incident.objects.count() == 18
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            _fetch(client, url)


@pytest.mark.parametrize("role", ["comms", "manager"])
def test_the_figure_is_one_query_however_many_incidents(client, request, role, comms, employee):
    _grow(comms, employee, 6)
    viewer = request.getfixturevalue(role)
    client.force_login(viewer)
    filters = client.get(PAGE).context["filters"]
    quarters = remediation.quarters_between(filters.start, filters.end)
    who = remediation.Viewer.of(viewer)
    # One query of incidents (for a manager, another may ask whether they still have
    # reports, unless their roles were read already).
    with CaptureQueriesContext(connection) as captured:
        noticing = remediation.noticing(who, filters, quarters)
    read = [q["sql"] for q in captured if '"incidents_incident"' in q["sql"]]
    assert len(read) == 1 and len(captured) <= 2, read
    assert noticing.channels[-1].noticed == (6 if role == "comms" else 4)
