"""The compliance dashboard's grouped counts (the heatmap's, and training coverage's
today) equal the same figures counted person by person from their own definitions:
a version line's assignments that are not closed (`policies.queries.version_line`), and
a requirement's audience less whoever is still required (`training.compliance`). Held
for everyone, a department filter and a line manager's team, with minor versions,
declines, leavers, sub-departments and every kind of training audience."""

from collections import defaultdict
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from dashboards import compliance, compliance_trend
from people import services as people_services
from people.models import Department
from policies import services as policy_services
from policies.models import Assignment, Policy, PolicyVersion
from policies.queries import version_line
from policies.tests.factories import BODY_2, publish_version, published_policy
from training.compliance import active_requirements, audience_of, period, still_required_ids
from training.models import Requirement, Topic
from training.tests.factories import attended as attend
from training.tests.factories import held_session

pytestmark = pytest.mark.django_db

PAGE = reverse("dashboards:compliance")


@pytest.fixture
def org(make_person, manager, policy_admin, leader):
    """Sales (with Sales EMEA below it), Support and people without a department; the
    manager's team is two in Sales and one in EMEA. Two policies (one with a minor
    version, one for Support only), acknowledged, declined and outstanding; a leaver who
    had acknowledged. Three training requirements: everyone, a group, and Sales (with
    its sub-department), each attended by some."""
    sales = Department.objects.create(name="Sales")
    emea = Department.objects.create(name="Sales EMEA", parent=sales)
    support = Department.objects.create(name="Support")
    champions = Group.objects.get_or_create(name="Champions")[0]
    ann = make_person(full_name="Ann", department=sales, manager=manager)
    ben = make_person(full_name="Ben", department=sales, manager=manager)
    eva = make_person(full_name="Eva", department=emea, manager=ben)
    pat = make_person(full_name="Pat", department=support)
    rui = make_person(full_name="Rui", department=support)
    nia = make_person(full_name="Nia")
    lee = make_person(full_name="Lee", department=sales, manager=manager)
    for person in (eva, ben):
        person.groups.add(champions)

    everyone, first = published_policy(title="Conduct", owner=policy_admin, approver=leader)
    for person in (ann, eva, pat, lee):
        acknowledge(first, person)
    policy_services.decline(version=first, user=rui, reason="Not my job.")
    minor = publish_version(
        everyone,
        author=policy_admin,
        approver=leader,
        body=BODY_2,
        change=PolicyVersion.Change.MINOR,
    )
    acknowledge(minor, ben)
    _support_only, support_version = published_policy(
        title="Support rota",
        owner=policy_admin,
        approver=leader,
        audience=Policy.Audience.DEPARTMENTS,
        departments=[support],
    )
    acknowledge(support_version, pat)

    topics = [Topic.objects.create(name=f"Topic {n}") for n in range(3)]
    all_of_us = Requirement.objects.create(name="Everyone", every_months=12)
    group = Requirement.objects.create(name="Champions", audience="groups", every_months=6)
    group.audience_groups.set([champions])
    sales_only = Requirement.objects.create(name="Sales", audience="departments", every_months=24)
    sales_only.audience_departments.set([sales])
    for requirement, topic in zip((all_of_us, group, sales_only), topics, strict=True):
        requirement.accepted_topics.set([topic])
    attendees = {0: (ann, pat, lee, nia), 1: (eva,), 2: (ben, eva, pat)}
    for n, people in attendees.items():
        session = held_session(
            topics[n], policy_admin, starts_at=timezone.now() - timedelta(days=10)
        )
        for person in people:
            attend(session, person)
    people_services.deactivate_person(person=lee)  # acknowledged, attended, then left
    return {"sales": sales, "emea": emea, "support": support}


def acknowledge(version, person):
    policy_services.acknowledge(version=version, user=person, full_name=person.full_name)


def expected_heatmap(person_ids=None, department_ids=None) -> dict:
    """{(policy title, department id): (acknowledged, assigned)}, person by person."""
    found = defaultdict(lambda: [0, 0])
    for version in PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED):
        line = version_line(version).exclude(status=Assignment.Status.CLOSED)
        for assignment in line.select_related("person", "policy"):
            person = assignment.person
            if person_ids is not None and person.pk not in person_ids:
                continue
            if department_ids is not None and person.department_id not in department_ids:
                continue
            pair = found[(assignment.policy.title, person.department_id)]
            pair[0] += assignment.status == Assignment.Status.ACKNOWLEDGED
            pair[1] += 1
    return {key: tuple(pair) for key, pair in found.items()}


def shown_heatmap(response) -> dict:
    heat = response.context["heat"]
    return {
        (
            column.policy.title,
            None if row.department_value == "none" else int(row.department_value),
        ): (cell.acknowledged, cell.total)
        for row in heat.rows
        for column, cell in zip(heat.columns, row.cells, strict=True)
        if cell.total
    }


def expected_coverage(person_ids=None, department_ids=None) -> dict:
    """{department id: (compliant, in audience)}, summed over active requirements, from
    each requirement's audience and the people it still requires."""
    found = defaultdict(lambda: [0, 0])
    for requirement in active_requirements():
        missing = still_required_ids(requirement)
        for person in audience_of(requirement).filter(is_active=True):
            if person_ids is not None and person.pk not in person_ids:
                continue
            if department_ids is not None and person.department_id not in department_ids:
                continue
            pair = found[person.department_id]
            pair[0] += person.pk not in missing
            pair[1] += 1
    return {key: tuple(pair) for key, pair in found.items()}


def shown_coverage(response) -> dict:
    return {
        None if row.department_value == "none" else int(row.department_value): (
            row.compliant,
            row.audience,
        )
        for row in response.context["training"].departments
    }


def test_everyone_sees_the_figures_counted_person_by_person(client, policy_admin, org):
    client.force_login(policy_admin)
    response = client.get(PAGE)
    heatmap = expected_heatmap()
    # A minor version's line adds up both versions: in Sales, Ann and the leaver (whose
    # acknowledgement stays) on 1.0, Ben on 1.1; Rui's decline is assigned, not
    # acknowledged.
    assert heatmap[("Conduct", org["sales"].pk)] == (3, 3)
    assert heatmap[("Conduct", org["support"].pk)] == (1, 2)
    assert shown_heatmap(response) == heatmap
    coverage = expected_coverage()
    # Sales: Ann and Ben for everyone's (Ann attended), Ben for the group's, Ann and Ben
    # for Sales' (Ben attended); the leaver is in no audience.
    assert coverage[org["sales"].pk] == (2, 5)
    assert shown_coverage(response) == coverage
    overall = response.context["training"].overall
    assert (overall.compliant, overall.audience) == tuple(
        sum(pair[n] for pair in coverage.values()) for n in (0, 1)
    )


def test_a_department_filter_counts_its_sub_departments_person_by_person(client, policy_admin, org):
    client.force_login(policy_admin)
    response = client.get(PAGE, {"department": org["sales"].pk})
    departments = {org["sales"].pk, org["emea"].pk}
    assert shown_heatmap(response) == expected_heatmap(department_ids=departments)
    assert shown_coverage(response) == expected_coverage(department_ids=departments)
    assert set(shown_coverage(response)) == departments


def test_a_line_manager_sees_their_team_counted_person_by_person(client, manager, org):
    client.force_login(manager)
    response = client.get(PAGE)
    direct = manager.direct_reports.filter(is_active=True)
    team = {person.pk for person in direct} | {
        person.pk for report in direct for person in report.direct_reports.filter(is_active=True)
    }
    assert len(team) == 3  # Ann, Ben and Eva (below Ben); not the leaver
    heatmap = expected_heatmap(person_ids=team)
    assert heatmap[("Conduct", org["emea"].pk)] == (1, 1)
    assert shown_heatmap(response) == heatmap
    assert shown_coverage(response) == expected_coverage(person_ids=team)


def head_of_everyone(manager):
    """`manager` at the top of the whole line: everyone else without a manager (the
    leaver among them) now reports to them."""
    people = get_user_model().objects
    people.exclude(pk=manager.pk).filter(manager__isnull=True).update(manager=manager)
    head = people.get(pk=manager.pk)
    assert compliance.scope_for(head).head == head
    return head


@pytest.mark.parametrize("params", [{}, {"department": "SALES"}, {"department": "none"}])
def test_the_head_of_everyone_sees_everyone_else_counted_person_by_person(
    client, manager, policy_admin, org, params
):
    """The head of the whole line's team is every other active person, tested on each
    person's row rather than matched against a list of ids: the same figures, person
    by person. The leaver and the head are not counted (the head acknowledges and
    attends here, so leaving them out shows)."""
    acknowledge(PolicyVersion.objects.get(policy__title="Conduct", minor=1), manager)
    topic = Requirement.objects.get(name="Everyone").accepted_topics.get()
    attend(held_session(topic, policy_admin, starts_at=timezone.now() - timedelta(days=3)), manager)
    head = head_of_everyone(manager)
    client.force_login(head)
    params = {key: org["sales"].pk if value == "SALES" else value for key, value in params.items()}
    response = client.get(PAGE, params)
    people = get_user_model().objects.filter(is_active=True).exclude(pk=head.pk)
    team = set(people.values_list("pk", flat=True))
    assert team == set(compliance.scope_for(head).person_ids.values_list("pk", flat=True))
    departments = None
    if params.get("department") == "none":
        departments = {None}
    elif params:
        departments = {org["sales"].pk, org["emea"].pk}
    heatmap = expected_heatmap(person_ids=team, department_ids=departments)
    assert heatmap and heatmap != expected_heatmap(department_ids=departments)
    assert shown_heatmap(response) == heatmap
    coverage = expected_coverage(person_ids=team, department_ids=departments)
    assert coverage
    if departments is None or None in departments:  # the head's own row (no department)
        assert coverage != expected_coverage(department_ids=departments)
    assert shown_coverage(response) == coverage


def test_coverage_counted_for_everyone_equals_a_team_of_everyone(org):
    """Everyone's coverage (a count per requirement over its audience) and a team's (one
    pass over the team) give the same figures for the same people."""
    ids = tuple(get_user_model().objects.values_list("pk", flat=True))
    now = timezone.now()
    for filters in (compliance.Filters(), compliance.Filters(no_department=True)):
        everyone, team = (
            compliance_trend.training_coverage(
                scope=scope, filters=filters, names={}, months=[], now=now
            )
            for scope in (
                compliance.Scope(everyone=True),
                compliance.Scope(everyone=False, person_ids=ids),
            )
        )
        rows = [(row.department_value, row.audience, row.compliant) for row in team.departments]
        assert rows == [
            (row.department_value, row.audience, row.compliant) for row in everyone.departments
        ]
        assert rows  # counted something


@pytest.mark.parametrize("params", [{}, {"department": "SALES"}, {"department": "none"}])
def test_a_few_peoples_coverage_counted_here_equals_the_grouped_count(
    org, policy_admin, monkeypatch, params
):
    """A few people named by id (the head of the whole line on their own) are counted
    from their attendance rows, not by the grouped query of conditional counts: the
    same figures for every month, requirement and department, alone or together, with
    attendance inside and outside each requirement's period, a leaver and people in no
    audience."""
    people = get_user_model().objects.order_by("pk")
    topics = {r.name: r.accepted_topics.get() for r in Requirement.objects.all()}
    now = timezone.now()
    for days, name, names in [
        (200, "Everyone", ("Ben", "Eva", "Rui")),  # within 12 months, not 6
        (300, "Champions", ("Eva", "Ben")),  # the group's 6 months: earlier months only
        (500, "Sales", ("Ann", "Lee")),  # within 24 months
        (380, "Everyone", ("Pat", "Nia")),  # the oldest months of everyone's 12
    ]:
        session = held_session(topics[name], policy_admin, starts_at=now - timedelta(days=days))
        for person in people.filter(full_name__in=names):
            attend(session, person)
    months = compliance.last_months(now)
    # On the edges of a period: from its first moment, up to (not at) the month's end.
    everyone = Requirement.objects.get(name="Everyone")
    for starts_at, name in [(months[1].at - period(everyone), "Rui"), (months[2].at, "Ann")]:
        session = held_session(topics["Everyone"], policy_admin, starts_at=starts_at)
        attend(session, people.get(full_name=name))
    filters = compliance.Filters()
    if params.get("department") == "none":
        filters = compliance.Filters(no_department=True)
    elif params:
        sales = {org["sales"].pk, org["emea"].pk}
        filters = compliance.Filters(department=org["sales"], department_ids=frozenset(sales))
    requirements = active_requirements()
    ids = list(people.values_list("pk", flat=True))
    counted_any = False
    for chosen in [*((pk,) for pk in ids), tuple(ids[:3]), tuple(ids)]:
        scope = compliance.Scope(everyone=False, person_ids=chosen)
        here = compliance_trend.coverage_counts(
            requirements, months=months, now=now, scope=scope, filters=filters
        )
        monkeypatch.setattr(compliance_trend, "FEW", 0)  # the grouped query
        grouped = compliance_trend.coverage_counts(
            requirements, months=months, now=now, scope=scope, filters=filters
        )
        monkeypatch.undo()
        assert here == grouped, chosen
        counted_any = counted_any or bool(here)
    assert counted_any


# --- the heatmap's cells, drawn without format_html and urlencode per cell ----------------


def reference_html(cell) -> str:
    """A cell's <td> as format_html drew it (the markup must not change)."""
    if cell.url:
        spoken = f"({cell.acknowledged} of {cell.total} acknowledged)"
        return format_html(
            '<td class="heat {}"><a href="{}" class="text-body">{}'
            '<span class="visually-hidden"> {}</span></a></td>',
            cell.heat,
            cell.url,
            cell.label,
            spoken,
        )
    return format_html(
        '<td class="heat {}" title="{}"><span class="text-body" aria-hidden="true">{}'
        '</span><span class="visually-hidden">{}</span></td>',
        cell.heat,
        "Nobody assigned",
        cell.label,
        "Nobody assigned",
    )


@pytest.mark.parametrize("params", [{}, {"department": "SALES"}, {"department": "none"}])
def test_heatmap_cells_are_drawn_and_linked_as_before(client, policy_admin, org, params):
    """Every cell's markup is format_html's, and its link the drill-down's parameters
    in one urlencode (the totals' with the sub-departments)."""
    client.force_login(policy_admin)
    params = {key: org["sales"].pk if value == "SALES" else value for key, value in params.items()}
    heat = client.get(PAGE, params).context["heat"]
    base = reverse("dashboards:compliance_people")
    cells = 0
    for row, sub in [*((row, False) for row in heat.rows), (heat.totals, True)]:
        for column, cell in zip(heat.columns, row.cells, strict=True):
            assert cell.html == reference_html(cell)
            if not cell.total:
                assert cell.url is None
                continue
            department = compliance.department_params(row.department_value, sub)
            link = {"kind": "policy", "policy": column.policy_id, "status": "all", **department}
            assert cell.url == f"{base}?{urlencode(link)}"
            cells += 1
    assert cells >= 2  # a row and the totals, at least


def test_a_cell_escapes_what_it_draws():
    policy = Policy(title="P")
    words = compliance.CellWords(spoken='<b>"%(acknowledged)s"</b> & %(total)s', nobody="<i>")
    linked = compliance.Cell(policy, 1, 2, "/people/?a=1&b='2'", words)
    assert linked.html == (
        '<td class="heat heat-1"><a href="/people/?a=1&amp;b=&#x27;2&#x27;" '
        'class="text-body">50% · 1/2<span class="visually-hidden"> '
        "&lt;b&gt;&quot;1&quot;&lt;/b&gt; &amp; 2</span></a></td>"
    )
    nobody = compliance.Cell(policy, 0, 0, None, words)
    assert nobody.html == (
        '<td class="heat heat-none" title="&lt;i&gt;"><span class="text-body" '
        'aria-hidden="true">—</span><span class="visually-hidden">&lt;i&gt;</span></td>'
    )


@pytest.mark.parametrize("who", ["policy_admin", "manager", "head of everyone"])
def test_totals_counted_without_departments_equal_the_heatmaps_totals(request, org, who):
    """The Dashboards card counts only the totals (not by department): the same figures as
    the heatmap's "All departments" row, for everyone and for a line manager's team."""
    if who == "head of everyone":
        scope = compliance.scope_for(head_of_everyone(request.getfixturevalue("manager")))
    else:
        scope = compliance.scope_for(request.getfixturevalue(who))
    lines = compliance.version_lines()
    full = compliance.heatmap(scope=scope, filters=compliance.Filters(), lines=lines, names={})
    totals = compliance.heatmap(
        scope=scope, filters=compliance.Filters(), lines=lines, names={}, by_department=False
    )
    assert full.rows and not totals.rows
    assert [(c.acknowledged, c.total) for c in totals.totals.cells] == [
        (c.acknowledged, c.total) for c in full.totals.cells
    ]
    assert any(c.total for c in full.totals.cells)
    assert totals.assignments == full.assignments
