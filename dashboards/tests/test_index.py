"""The Dashboards page: a card for each dashboard the viewer may open, with its headline
figures for what they may see; every figure is the one its full dashboard shows and
links to the list of its rows."""

import re
from datetime import date, timedelta
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import with_second_factor
from dashboards import headlines, remediation
from incidents.models import ActionItem, Incident, IncidentEvent
from incidents.tests.factories import assessed_deliberate, in_status, reported
from people import roles
from policies import services as policy_services
from policies.models import Assignment, Policy
from policies.tests.factories import BODY_1, publish_version, published_policy
from training.models import Requirement, Topic
from training.tests.factories import attended, held_session

pytestmark = pytest.mark.django_db

Status = Incident.Status
INDEX = reverse("dashboards:index")
ROLES = ["manager", "comms", "hr", "leader", "policy_admin"]
# Who sees which cards: My team for line managers, Remediation for the incident team,
# leadership and line managers, Compliance for policy admins, leadership and line
# managers (as each dashboard's own permission says).
CARDS = {
    "manager": ["team", "remediation", "compliance"],
    "comms": ["remediation"],
    "hr": ["remediation"],
    "leader": ["remediation", "compliance"],
    "policy_admin": ["compliance"],
}
TITLES = {"team": "My team", "remediation": "Remediation", "compliance": "Compliance"}


def _social_media(policy: Policy) -> Policy:
    Policy.objects.filter(pk=policy.pk).update(category=Policy.Category.SOCIAL_MEDIA)
    policy.refresh_from_db()
    return policy


@pytest.fixture
def world(make_person, manager, employee, outsider, comms, hr, leader, policy_admin):
    """The manager's team (the employee, an indirect report, a new joiner) and a stranger; two
    policies for everyone (the social media one acknowledged by the employee and the
    outsider, the indirect report overdue); a yearly briefing the employee attended;
    incidents of the team, of the stranger and one on the accountability track, with
    overdue actions, all contained this quarter but one."""
    today = timezone.localdate()
    indirect = make_person(full_name="Ivy Indirect", email="ivy@example.com", manager=employee)
    stranger = make_person(full_name="Sam Stranger", email="stranger@example.com")
    # A new joiner within their window: outstanding, nothing overdue.
    make_person(full_name="Nora New", manager=manager, start_date=today)
    social, social_version = published_policy(
        title="Social media policy", owner=policy_admin, approver=leader
    )
    _social_media(social)
    published_policy(title="Press policy", owner=policy_admin, approver=leader)
    for person in (employee, outsider):
        policy_services.acknowledge(version=social_version, user=person, full_name=person.full_name)
    Assignment.objects.filter(person=indirect).update(due_date=today - timedelta(days=2))
    topic = Topic.objects.create(name="Social media")
    requirement = Requirement.objects.create(
        name="Yearly briefing", every_months=12, new_joiners_within_days=30
    )
    requirement.accepted_topics.set([topic])
    attended(
        held_session(topic, policy_admin, starts_at=timezone.now() - timedelta(days=20)), employee
    )

    ours = in_status(Status.REMEDIATION, by=comms, people_involved=[employee])
    ours.actions.update(due_date=today - timedelta(days=3))
    ActionItem.objects.filter(pk=ours.actions.first().pk).update(owner=employee)
    in_status(Status.CLOSED, by=comms, people_involved=[indirect])
    theirs = in_status(Status.REMEDIATION, by=comms, people_involved=[stranger])
    theirs.actions.update(due_date=today - timedelta(days=40))
    restricted = assessed_deliberate(
        in_status(Status.REMEDIATION, by=hr, people_involved=[employee]),
        employee,
        by=hr,
        supersede=True,
    )
    restricted.actions.update(due_date=today - timedelta(days=10))
    ActionItem.objects.filter(pk=restricted.actions.first().pk).update(owner=manager)
    reported(comms, people_involved=[employee])
    return {"indirect": indirect, "social": social, "restricted": restricted}


def _cards(response) -> dict[str, headlines.Card]:
    return {card.slug: card for card in response.context["cards"]}


def _figure(card: headlines.Card, name: str) -> headlines.Figure:
    return next(figure for figure in card.figures if figure.name.startswith(name))


# --- who sees what ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["employee", "outsider", "site_admin"])
def test_people_without_a_dashboard_are_refused(client, request, role, employee):
    client.force_login(request.getfixturevalue(role))
    assert client.get(INDEX).status_code == 403


def test_the_page_is_read_only(client, leader):
    client.force_login(leader)
    assert client.post(INDEX).status_code == 405


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_cards_of_the_dashboards_it_may_open(client, request, role, world):
    client.force_login(request.getfixturevalue(role))
    response = client.get(INDEX)
    assert response.status_code == 200
    assert list(_cards(response)) == CARDS[role]
    page = response.content.decode()
    for slug, title in TITLES.items():
        heading = f'<h2 class="h5" id="card-{slug}-heading"><a href="/dashboards/'
        assert (heading in page) == (slug in CARDS[role]), slug
        assert (f">{title}</a></h2>" in page) == (slug in CARDS[role]), title
    # Each card opens its dashboard, and each dashboard opens for this viewer.
    for card in response.context["cards"]:
        assert f'<a href="{card.url}">{card.title}</a>' in page
        assert client.get(card.url).status_code == 200
        assert card.description in page


def test_a_manager_of_no_one_with_a_role_sees_only_that_roles_cards(client, comms, employee):
    """Comms who manage nobody: Remediation only, never My team or Compliance figures."""
    client.force_login(comms)
    page = client.get(INDEX).content.decode()
    assert "People with something overdue" not in page
    assert "Training coverage" not in page
    assert "Open incidents" in page


# --- every figure is its dashboard's, for this viewer -----------------------------------------


def _quarter_contained(timings, today) -> int:
    months = headlines.quarter_months(today)
    return sum(row.contained for row in timings if row.month in months)


@pytest.mark.parametrize("role", ROLES)
def test_every_figure_equals_what_its_dashboard_shows_the_viewer(client, request, role, world):
    client.force_login(request.getfixturevalue(role))
    cards = _cards(client.get(INDEX))
    today = timezone.localdate()
    if "team" in cards:
        summary = client.get(reverse("dashboards:team")).context["summary"]
        assert _figure(cards["team"], "People with something overdue").number == summary.overdue
    if "remediation" in cards:
        page = client.get(reverse("dashboards:remediation")).context
        card = cards["remediation"]
        assert _figure(card, "Open incidents").number == page["open"].total
        assert _figure(card, "Overdue actions").number == page["overdue_total"]
        contain = _figure(card, "Median time to contain")
        measured = sum(int(link.text.split()[0]) for link in contain.links)
        assert measured == _quarter_contained(page["timings"], today) > 0
    if "compliance" in cards:
        page = client.get(reverse("dashboards:compliance")).context
        card = cards["compliance"]
        column = next(
            i for i, v in enumerate(page["heat"].columns) if v.policy.pk == world["social"].pk
        )
        total = page["heat"].totals.cells[column]
        acknowledged = _figure(card, "Acknowledgement")
        assert acknowledged.number == total.percent
        assert _of(acknowledged.detail) == (total.acknowledged, total.total)
        coverage, overall = _figure(card, "Training coverage"), page["training"].overall
        assert coverage.number == overall.percent
        assert _of(coverage.detail) == (overall.compliant, overall.audience)


def test_a_manager_counts_their_team_and_the_incident_team_everything(
    computed_pages, client, manager, comms, hr, leader, policy_admin, world
):
    figures = {}
    for name, viewer in (("manager", manager), ("comms", comms), ("hr", hr), ("leader", leader)):
        client.force_login(viewer)
        card = _cards(client.get(INDEX))["remediation"]
        figures[name] = [f.number for f in card.figures[:2]]
    # Open: ours, theirs, the restricted case and the one only reported; overdue: every
    # open action of ours, theirs and the restricted case.
    overdue = ActionItem.objects.filter(
        status=ActionItem.Status.OPEN, due_date__lt=timezone.localdate()
    )
    assert overdue.values("incident").distinct().count() == 3
    assert figures["comms"] == figures["hr"] == figures["leader"] == [4, overdue.count()]
    # The manager: their people's learning-track incident that is open, and the overdue
    # action their report owns there (the restricted case's, their own included, stays
    # with HR/legal).
    assert figures["manager"] == [1, 1]

    client.force_login(manager)
    cards = _cards(client.get(INDEX))
    # The employee's action and the indirect report's policies and briefing are overdue;
    # the new joiner has time.
    assert cards["team"].figures[0].number == 2
    assert cards["team"].figures[0].detail == "of the 3 people in your team"
    assert "1 of 3 people assigned (your team)" in cards["compliance"].figures[0].detail
    client.force_login(policy_admin)
    everyone = _cards(client.get(INDEX))["compliance"].figures[0]
    assert everyone.detail.endswith("(everyone)")
    assert everyone.number == round(
        100 * 2 / Assignment.objects.filter(policy=world["social"]).count()
    )


def test_no_card_tells_an_assessment_outcome(client, comms, leader, hr, world):
    for viewer in (comms, leader, hr):
        client.force_login(viewer)
        page = client.get(INDEX).content.decode()
        for word in ("Deliberate", "deliberate", "Reckless", "Accountability", "Human error"):
            assert word not in page


# --- every figure links to its rows --------------------------------------------------------

FIGURE = re.compile(r'<dd class="mb-3" data-figure="([a-z]+)-(\d+)">(.*?)</dd>', re.S)
HREF = re.compile(r'<a href="([^"]+)">')


def _of(detail: str) -> tuple[int, int]:
    """The "X of Y" a figure's words give, as numbers ("1,234 of 5,678")."""
    part, whole = re.search(r"([\d,]+) of ([\d,]+)", detail).groups()
    return int(part.replace(",", "")), int(whole.replace(",", ""))


def _listed(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page"].paginator.count


@pytest.mark.parametrize("role", ROLES)
def test_every_figure_links_to_the_list_of_what_it_counted(
    computed_pages, client, request, role, world
):
    client.force_login(request.getfixturevalue(role))
    response = client.get(INDEX)
    cards = _cards(response)
    rendered = {(slug, int(n)): body for slug, n, body in FIGURE.findall(response.content.decode())}
    checked = 0
    for card in cards.values():
        for number, figure in enumerate(card.figures, start=1):
            body = rendered[(card.slug, number)]
            links = [unescape(href) for href in HREF.findall(body)]
            assert links == [figure.url, *(link.url for link in figure.links)], figure.name
            # The figure, in words, is in the page: a screen reader reads the sentence.
            text = " ".join(re.sub(r"<[^>]+>", " ", body).split())
            assert f"{figure.value} {figure.detail}" in unescape(text)
            checked += 1
    if "team" in cards:
        overdue = cards["team"].figures[0]
        assert overdue.url == f"{reverse('dashboards:team')}?overdue=1"
        assert client.get(overdue.url).context["summary"].overdue == overdue.number
        # The list it links to is exactly the people counted.
        listed = client.get(overdue.url).context["page"]
        assert listed.paginator.count == overdue.number
        assert all(person.outstanding.overdue for person in listed.object_list)
    if "remediation" in cards:
        opened, overdue, contain = cards["remediation"].figures
        assert _listed(client, opened.url) == opened.number
        assert _listed(client, overdue.url) == overdue.number
        for link in contain.links:
            assert _listed(client, link.url) == int(link.text.split()[0])
        assert contain.url.startswith(reverse("dashboards:remediation"))
    if "compliance" in cards:
        acknowledged, coverage = cards["compliance"].figures
        done, assigned = _of(acknowledged.detail)
        listed = client.get(acknowledged.url).context["page"]
        assert listed.paginator.count == assigned
        assert sum(row.status == "Acknowledged" for row in listed.rows) == done
        assert {row.subject for row in listed.rows} == {"Social media policy 1.0"}
        compliant, audience = _of(coverage.detail)
        listed = client.get(coverage.url).context["page"]
        assert listed.paginator.count == audience
        assert sum(not row.outstanding for row in listed.rows) == compliant
    assert checked == sum(len(card.figures) for card in cards.values())


# --- time to contain this quarter --------------------------------------------------------


def _contained(comms, *, hours: float, at=None) -> Incident:
    """An incident first contained at `at` (default: now), `hours` after it was noticed."""
    incident = in_status(Status.CONTAINED, by=comms)
    event = IncidentEvent.objects.get(incident=incident, what="status", to_value=Status.CONTAINED)
    at = at or event.at
    IncidentEvent.objects.filter(pk=event.pk).update(at=at)
    Incident.objects.filter(pk=incident.pk).update(noticed_at=at - timedelta(hours=hours))
    return incident


def test_median_time_to_contain_is_over_this_quarters_incidents(client, comms):
    for hours in (2, 6, 60):
        _contained(comms, hours=hours)
    client.force_login(comms)
    response = client.get(INDEX)
    contain = _figure(_cards(response)["remediation"], "Median time to contain")
    assert contain.number == 6.0
    assert contain.value == "6.0 hours"
    quarter = remediation.quarter_label(remediation.quarter_of(timezone.localdate()))
    assert contain.name == f"Median time to contain, {quarter}"
    assert f"over the 3 incidents contained in {quarter}" in contain.detail
    # All this month: the month's median on the Remediation dashboard is the same.
    timings = client.get(reverse("dashboards:remediation")).context["timings"]
    assert timings[-1].contain_hours == contain.number
    assert [link.text for link in contain.links] == [
        f"3 in {remediation.month_label(f'{timezone.localtime():%Y-%m}')}"
    ]
    assert "6.0 hours" in response.content.decode()


def test_an_incident_contained_again_this_quarter_counts_in_the_quarter_it_was_first(client, comms):
    """Only incidents with a containment in the quarter are read, but it is the first one
    that counts: contained before the quarter and again in it is not this quarter's."""
    today = timezone.localdate()
    first = headlines.quarter_months(today)[0]
    before = remediation.month_range(first)[0] - timedelta(days=3)
    earlier = _contained(comms, hours=5, at=before)
    IncidentEvent.objects.create(
        incident=earlier, what="status", to_value=Status.CONTAINED, at=timezone.now()
    )
    _contained(comms, hours=2)
    client.force_login(comms)
    contain = _figure(_cards(client.get(INDEX))["remediation"], "Median time to contain")
    assert contain.number == 2.0
    this_month, that_month = f"{timezone.localtime():%Y-%m}", f"{timezone.localtime(before):%Y-%m}"
    listed = reverse("dashboards:remediation_incidents")
    found = client.get(f"{listed}?contained={this_month}").context["page"].object_list
    assert earlier.pk not in [incident.pk for incident in found] and len(found) == 1
    found = client.get(f"{listed}?contained={that_month}").context["page"].object_list
    assert [incident.pk for incident in found] == [earlier.pk]


def test_long_times_to_contain_are_also_said_in_days(client, comms):
    _contained(comms, hours=84)
    client.force_login(comms)
    contain = _figure(_cards(client.get(INDEX))["remediation"], "Median time to contain")
    assert contain.value == "84.0 hours (3.5 days)"


def test_nothing_contained_this_quarter_shows_a_dash_and_says_so(client, comms):
    today = timezone.localdate()
    first = headlines.quarter_months(today)[0]
    before = remediation.month_range(first)[0] - timedelta(days=1)
    _contained(comms, hours=5, at=before)
    reported(comms)
    client.force_login(comms)
    response = client.get(INDEX)
    contain = _figure(_cards(response)["remediation"], "Median time to contain")
    assert contain.number is None and contain.url is None and contain.links == []
    quarter = remediation.quarter_label(remediation.quarter_of(today))
    page = response.content.decode()
    assert f"No incident was contained in {quarter} yet." in page
    assert '<span class="fs-4" aria-hidden="true">—</span>' in page


@pytest.mark.parametrize(
    ("today", "months"),
    [
        ("2026-01-31", ["2026-01", "2026-02", "2026-03"]),
        ("2026-06-01", ["2026-04", "2026-05", "2026-06"]),
        ("2026-12-31", ["2026-10", "2026-11", "2026-12"]),
    ],
)
def test_quarter_months(today, months):
    assert headlines.quarter_months(date.fromisoformat(today)) == months


# --- the main policy -------------------------------------------------------------------------


def test_the_main_policy_is_the_social_media_policy_even_with_a_smaller_audience(
    client, policy_admin, leader, make_person
):
    sales = make_person(email="sales@example.com")
    group = Group.objects.get_or_create(name=roles.COMMS)[0]
    policy = policy_services.create_policy(
        title="Posting for the company",
        owner=policy_admin,
        category=Policy.Category.SOCIAL_MEDIA,
        audience=Policy.Audience.GROUPS,
        groups=[group],
    )
    sales.groups.add(group)
    publish_version(policy, author=policy_admin, approver=leader, body=BODY_1)
    published_policy(title="Code of conduct", owner=policy_admin, approver=leader)
    client.force_login(policy_admin)
    acknowledged = _cards(client.get(INDEX))["compliance"].figures[0]
    assert acknowledged.name == "Acknowledgement: Posting for the company 1.0"
    assert acknowledged.note == "The social media policy."
    assert "of 1 person assigned" in acknowledged.detail


def test_without_a_social_media_policy_the_main_one_has_the_largest_audience(
    client, policy_admin, leader, make_person
):
    sales = make_person(email="sales@example.com")
    group = Group.objects.get_or_create(name=roles.COMMS)[0]
    sales.groups.add(group)
    small = policy_services.create_policy(
        title="A small policy",
        owner=policy_admin,
        audience=Policy.Audience.GROUPS,
        groups=[group],
    )
    publish_version(small, author=policy_admin, approver=leader, body=BODY_1)
    published_policy(title="Code of conduct", owner=policy_admin, approver=leader)
    client.force_login(policy_admin)
    response = client.get(INDEX)
    acknowledged = _cards(response)["compliance"].figures[0]
    assert acknowledged.name == "Acknowledgement: Code of conduct 1.0"
    assert acknowledged.note.startswith("No social media policy is published")
    assert acknowledged.note in response.content.decode()


def test_of_several_social_media_policies_the_main_one_has_the_largest_audience(
    client, policy_admin, leader, make_person
):
    make_person(email="sales@example.com", group=roles.COMMS)
    small = policy_services.create_policy(
        title="Company accounts",
        owner=policy_admin,
        category=Policy.Category.SOCIAL_MEDIA,
        audience=Policy.Audience.GROUPS,
        groups=[Group.objects.get(name=roles.COMMS)],
    )
    publish_version(small, author=policy_admin, approver=leader, body=BODY_1)
    everyone, _ = published_policy(title="Personal accounts", owner=policy_admin, approver=leader)
    _social_media(everyone)
    published_policy(title="An even bigger other policy", owner=policy_admin, approver=leader)
    client.force_login(policy_admin)
    acknowledged = _cards(client.get(INDEX))["compliance"].figures[0]
    assert acknowledged.name == "Acknowledgement: Personal accounts 1.0"
    assert acknowledged.note.startswith("Of the social media policies")


def test_no_published_policy_and_no_requirement_say_so(client, policy_admin):
    client.force_login(policy_admin)
    page = client.get(INDEX).content.decode()
    assert "No policy has a published version yet." in page
    assert "No training requirement is active." in page


def test_a_manager_whose_team_has_nothing_to_acknowledge_gets_a_dash(
    client, manager, employee, policy_admin, leader
):
    policy = policy_services.create_policy(
        title="Only for comms",
        owner=policy_admin,
        category=Policy.Category.SOCIAL_MEDIA,
        audience=Policy.Audience.GROUPS,
        groups=[Group.objects.get_or_create(name=roles.COMMS)[0]],
    )
    publish_version(policy, author=policy_admin, approver=leader, body=BODY_1)
    client.force_login(manager)
    acknowledged = _cards(client.get(INDEX))["compliance"].figures[0]
    assert acknowledged.number is None and acknowledged.url is None
    assert acknowledged.detail == "Nobody here has Only for comms 1.0 to acknowledge."


# --- query counts ---------------------------------------------------------------------------


def test_query_count_does_not_grow_with_people_and_incidents(
    computed_pages, client, make_person, comms, policy_admin, leader, django_assert_max_num_queries
):
    """A line manager who holds every role sees all three cards: the same number of
    queries with a few people and incidents as with many."""
    boss = make_person(email="boss@example.com", full_name="Bea Boss")
    for name in (roles.COMMS, roles.HR_LEGAL, roles.POLICY_ADMIN, roles.LEADERSHIP):
        boss.groups.add(Group.objects.get_or_create(name=name)[0])
    with_second_factor(boss)  # HR/legal sign in with a second factor
    published_policy(title="Social media policy", owner=policy_admin, approver=leader)
    topic = Topic.objects.create(name="Social media")
    requirement = Requirement.objects.create(name="Yearly briefing", every_months=12)
    requirement.accepted_topics.set([topic])
    session = held_session(topic, policy_admin, starts_at=timezone.now() - timedelta(days=5))
    today = timezone.localdate()

    def grow(count: int):
        lead = make_person(manager=boss)
        people = [make_person(manager=lead) for _ in range(count)]
        policy_services.reconcile_assignments()
        Assignment.objects.filter(person__in=people[::2]).update(due_date=today - timedelta(days=1))
        for person in people[::3]:
            attended(session, person)
        for number, person in enumerate(people[: max(2, count // 4)]):
            incident = in_status(
                (Status.CONTAINED, Status.REMEDIATION, Status.CLOSED)[number % 3],
                by=comms,
                people_involved=[person],
            )
            incident.actions.update(owner=person, due_date=today - timedelta(days=number + 1))

    grow(3)
    client.force_login(boss)
    with django_assert_max_num_queries(13) as few:
        response = client.get(INDEX)
    assert list(_cards(response)) == ["team", "remediation", "compliance"]
    grow(40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(INDEX)
    cards = _cards(response)
    assert cards["team"].figures[0].number > 10
    assert cards["remediation"].figures[0].number > 5


# --- the team is read once -------------------------------------------------------------


def test_a_line_managers_cards_read_the_team_from_the_reporting_line_table(client, manager, world):
    """No card walks the reporting line: each reads the team as a range of the table the
    database keeps."""
    client.force_login(manager)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(INDEX)
    assert list(_cards(response)) == ["team", "remediation", "compliance"]
    assert not any("RECURSIVE" in query["sql"] for query in captured)
    assert any("people_reportingline" in query["sql"] for query in captured)
