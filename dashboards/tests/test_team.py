import csv
import io
import zoneinfo
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import timezone

from dashboards import compliance, compliance_trend, team_export, team_views
from dashboards import team as queries
from incidents import services as incident_services
from incidents.models import Incident
from incidents.tests.factories import reported
from notifications.models import Notification
from notifications.services import send_due
from people import audience, roles
from people.models import Department, ReportingLine
from policies.models import Assignment
from policies.tests.factories import published_policy
from training.compliance import requirements_to_book
from training.models import Requirement, Session, Topic
from training.tests.factories import attended, held_session, seat, upcoming_session

pytestmark = pytest.mark.django_db

TEAM = reverse("dashboards:team")
CSV = reverse("dashboards:team_csv")
INDEX = reverse("dashboards:index")
OVERDUE_LABEL = "Only people with something overdue"


def nudge_url(person):
    return reverse("dashboards:team_nudge", args=[person.pk])


def member_url(person):
    return reverse("dashboards:team_member", args=[person.pk])


def nudges(**filters):
    return Notification.objects.filter(stage__startswith="nudge-", **filters)


def csv_lines(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def row_for(response, person):
    return next(p for p in response.context["page"].object_list if p.pk == person.pk)


@pytest.fixture
def sales(db):
    return Department.objects.create(name="Sales")


@pytest.fixture
def indirect(make_person, employee):
    """Reports to the employee, who reports to the manager."""
    return make_person(full_name="Ian Indirect", email="ian@example.com", manager=employee)


@pytest.fixture
def elsewhere(make_person):
    other_manager = make_person(full_name="Otto Other", email="otto@example.com")
    return make_person(
        full_name="Rachel Elsewhere", email="rachel@example.com", manager=other_manager
    )


@pytest.fixture
def peer_report(make_person, manager):
    """A report of the manager's peer: both report to the same boss."""
    boss = make_person(full_name="Bea Boss", email="bea@example.com")
    manager.manager = boss
    manager.save()
    peer = make_person(full_name="Paul Peer", email="paul@example.com", manager=boss)
    return make_person(full_name="Rosa Peer-Report", email="rosa@example.com", manager=peer)


@pytest.fixture
def topic(db):
    return Topic.objects.create(name="Social media")


@pytest.fixture
def yearly(topic):
    requirement = Requirement.objects.create(
        name="Social media briefing, yearly", every_months=12, new_joiners_within_days=30
    )
    requirement.accepted_topics.set([topic])
    return requirement


@pytest.fixture
def outstanding(employee, indirect, elsewhere, sales, topic, yearly, policy_admin, leader, comms):
    """The employee has two policies open (one overdue), two requirements not met (one
    for Sales only), two open actions (one overdue) and one action of a restricted
    incident; the indirect report has attended and has one policy open, not overdue."""
    today = timezone.localdate()
    employee.department = sales
    employee.job_title = "Account manager"
    employee.save()
    sales_only = Requirement.objects.create(name="Sales briefing", audience="departments")
    sales_only.accepted_topics.set([topic])
    sales_only.audience_departments.set([sales])
    attended(
        held_session(topic, policy_admin, starts_at=timezone.now() - timedelta(days=30)), indirect
    )

    _, first = published_policy(title="Social media policy", owner=policy_admin, approver=leader)
    _, second = published_policy(title="Press policy", owner=policy_admin, approver=leader)
    Assignment.objects.filter(person=employee, version=second).update(
        due_date=today - timedelta(days=4)
    )
    Assignment.objects.filter(person=indirect, version=second).update(
        status=Assignment.Status.ACKNOWLEDGED
    )

    learning = reported(comms)
    overdue_action = incident_services.add_action(
        incident=learning,
        by=comms,
        title="Add a check before posting",
        owner=employee,
        due_date=today - timedelta(days=2),
    )
    soon_action = incident_services.add_action(
        incident=learning,
        by=comms,
        title="Update the sharing settings",
        owner=employee,
        due_date=today + timedelta(days=5),
    )
    restricted = reported(comms, what_happened="Leaked the secret roadmap on purpose.")
    restricted_action = incident_services.add_action(
        incident=restricted,
        by=comms,
        title="Access review for the leaker",
        owner=employee,
        due_date=today - timedelta(days=9),
    )
    Incident.objects.filter(pk=restricted.pk).update(track=Incident.Track.ACCOUNTABILITY)
    return {
        "assignments": Assignment.objects.filter(person=employee, status="open"),
        "requirements": [yearly, sales_only],
        "actions": [overdue_action, soon_action],
        "restricted_action": restricted_action,
        "overdue_policy_due": today - timedelta(days=4),
    }


# --- who may see it -----------------------------------------------------------------


NOT_LINE_MANAGERS = ["employee", "outsider", "comms", "hr", "policy_admin", "leader"]


@pytest.mark.parametrize("role", NOT_LINE_MANAGERS)
def test_people_without_reports_are_refused_every_team_page_and_the_nudge(
    client, role, request, employee, elsewhere, policy_admin, leader
):
    published_policy(title="Social media policy", owner=policy_admin, approver=leader)
    user = request.getfixturevalue(role)
    client.force_login(user)
    assert client.get(TEAM).status_code == 403
    assert client.get(CSV).status_code == 403
    for person in (elsewhere, employee, user):
        assert client.get(member_url(person)).status_code == 403
        assert client.post(nudge_url(person)).status_code == 403
    assert not nudges().exists()


def test_signed_out_visitors_are_sent_to_log_in(client, employee):
    for response in (
        client.get(TEAM),
        client.get(CSV),
        client.get(member_url(employee)),
        client.post(nudge_url(employee)),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not nudges().exists()


def test_a_line_manager_opens_the_team_page(client, manager, employee):
    client.force_login(manager)
    response = client.get(TEAM)
    assert response.status_code == 200
    assert "Emily Carter" in response.content.decode()


# --- who is listed ------------------------------------------------------------------


def test_indirect_reports_are_listed_with_their_manager_and_others_teams_are_not(
    client, manager, employee, indirect, elsewhere
):
    client.force_login(manager)
    response = client.get(TEAM)
    listed = [person.pk for person in response.context["page"].object_list]
    assert listed == [employee.pk, indirect.pk]  # by name: Emily, Ian
    page = response.content.decode()
    assert "Rachel Elsewhere" not in page
    assert "Emily Carter" in page  # shown as Ian's direct manager too
    assert response.context["summary"].people == 2


def test_direct_reports_only_and_the_name_search_narrow_the_list(
    client, manager, employee, indirect
):
    client.force_login(manager)
    direct = client.get(TEAM, {"direct": "1"}).context["page"].object_list
    assert [p.pk for p in direct] == [employee.pk]
    found = client.get(TEAM, {"q": "ian"}).context["page"].object_list
    assert [p.pk for p in found] == [indirect.pk]
    assert not client.get(TEAM, {"q": "nobody at all"}).context["page"].object_list


def test_bad_page_numbers_show_a_page_not_an_error(client, manager, employee):
    client.force_login(manager)
    assert client.get(TEAM, {"page": "abc"}).status_code == 200
    assert client.get(TEAM, {"page": "999"}).status_code == 200


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"q": "\x00"}, "Name: Null characters are not allowed."),
        ({"q": "ian\x00"}, "Name: Null characters are not allowed."),
        ({"q": "i" * 101}, "Name: Ensure this value has at most 100 characters (it has 101)."),
        ({"direct": "\x00"}, "Direct reports only: Tick the box or leave it empty."),
        ({"overdue": "yes"}, f"{OVERDUE_LABEL}: Tick the box or leave it empty."),
        ({"overdue": "\x00"}, f"{OVERDUE_LABEL}: Tick the box or leave it empty."),
    ],
)
def test_a_bad_filter_gets_a_message_and_the_list_leaves_it_out(
    client, manager, employee, indirect, params, problem
):
    client.force_login(manager)
    response = client.get(TEAM, params)
    assert response.status_code == 200
    assert problem in response.content.decode()
    assert "The list below leaves that filter out." in response.content.decode()
    # Not a search for something shorter or cleaned up: the whole team.
    assert [p.pk for p in response.context["page"].object_list] == [employee.pk, indirect.pk]
    assert not response.context["filtered"]
    # The other, valid filter still applies.
    other = {"direct": "1"} if "q" in params else {"q": "ian"}
    narrowed = client.get(TEAM, {**params, **other}).context["page"].object_list
    assert len(narrowed) == 1


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"q": "\x00"}, "Name: Null characters are not allowed."),
        ({"q": "i" * 101}, "Name: Ensure this value has at most 100 characters (it has 101)."),
        ({"direct": "yes"}, "Direct reports only: Tick the box or leave it empty."),
        ({"overdue": "on"}, f"{OVERDUE_LABEL}: Tick the box or leave it empty."),
    ],
)
def test_a_bad_filter_refuses_the_csv_with_the_message(client, manager, employee, params, problem):
    client.force_login(manager)
    response = client.get(CSV, params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert problem in response.content.decode()


def test_good_filters_carry_to_the_csv(client, manager, employee, indirect):
    client.force_login(manager)
    response = client.get(TEAM, {"q": " ian ", "direct": ""})
    assert response.context["problems"] == []
    assert response.context["export_query"] == "q=ian"
    header, *rows = csv_lines(client.get(CSV, {"q": "ian"}))
    assert [row[0] for row in rows] == ["Ian Indirect"]


# --- what is counted ----------------------------------------------------------------


def test_each_persons_outstanding_items_are_counted(
    client, manager, employee, indirect, outstanding
):
    client.force_login(manager)
    response = client.get(TEAM)
    emily = row_for(response, employee)
    assert (emily.policies_open, emily.policies_overdue) == (2, 1)
    assert emily.policies_earliest_due == outstanding["overdue_policy_due"]
    assert (emily.training_unmet, emily.training_overdue) == (2, 2)
    assert (emily.actions_open, emily.actions_overdue) == (2, 1)
    assert emily.actions_earliest_due == outstanding["actions"][0].due_date
    ian = row_for(response, indirect)
    assert (ian.policies_open, ian.policies_overdue) == (1, 0)
    assert (ian.training_unmet, ian.training_overdue) == (0, 0)
    assert (ian.actions_open, ian.actions_overdue) == (0, 0)
    summary = response.context["summary"]
    assert (summary.people, summary.overdue, summary.all_clear) == (2, 1, 0)


def test_a_new_joiner_within_their_window_is_not_yet_due(client, manager, make_person, yearly):
    joiner = make_person(
        full_name="Nina New", manager=manager, start_date=timezone.localdate() - timedelta(days=5)
    )
    client.force_login(manager)
    response = client.get(TEAM)
    nina = row_for(response, joiner)
    assert (nina.training_unmet, nina.training_overdue, nina.training_not_yet_due) == (1, 0, 1)
    assert "1 not yet due (new joiner)" in response.content.decode()
    assert response.context["summary"].overdue == 0


def test_the_summary_agrees_with_each_persons_figures(
    client, manager, employee, indirect, make_person, outstanding, yearly
):
    today = timezone.localdate()
    # A joiner still within their window and one past it.
    make_person(full_name="Nina New", manager=manager, start_date=today - timedelta(days=5))
    make_person(full_name="Olga Old", manager=manager, start_date=today - timedelta(days=90))
    yearly.new_joiners_within_days = 30
    yearly.save()
    Assignment.objects.filter(person=indirect).update(due_date=today - timedelta(days=1))
    client.force_login(manager)
    response = client.get(TEAM)
    people = response.context["page"].object_list
    figures = [person.outstanding for person in people]
    assert len(people) == 4
    expected = queries.Summary(
        people=len(figures),
        overdue=sum(1 for f in figures if f.overdue),
        all_clear=sum(1 for f in figures if f.all_clear),
    )
    assert response.context["summary"] == expected
    assert expected.overdue >= 3 and expected.outstanding_not_overdue >= 1


def test_the_not_met_flags_are_exactly_who_is_still_required(make_person, policy_admin):
    """`Flags`' semi-joins for "not met" (who attended, hashed) pick out exactly
    `still_required`'s people (the rule the per-person figures use), for every kind of
    audience, an empty one, and people who left; and the overdue rule agrees whether it
    is run for everyone at once or person by person."""
    top = Department.objects.create(name="Top")
    sub = Department.objects.create(name="Sub", parent=top)
    other = Department.objects.create(name="Other")
    first, second = Group.objects.create(name="First"), Group.objects.create(name="Second")
    topic = Topic.objects.create(name="Posting safely")
    now = timezone.now()
    recent = held_session(topic, policy_admin, starts_at=now - timedelta(days=5))
    long_ago = held_session(topic, policy_admin, starts_at=now - timedelta(days=500))
    departments = (top, sub, other, None)
    for n in range(24):
        person = make_person(department=departments[n % 4], is_active=n % 5 != 0)
        person.groups.add(*((first,), (second,), (first, second), ())[n // 4 % 4])
        if n % 3 == 0:
            attended(recent, person)
        elif n % 3 == 1:
            attended(long_ago, person)
    for name, audience_kind, chosen in (
        ("everyone", audience.EVERYONE, None),
        ("top", audience.DEPARTMENTS, ("audience_departments", [top])),
        ("no department", audience.DEPARTMENTS, ("audience_departments", [])),
        ("both groups", audience.GROUPS, ("audience_groups", [first, second])),
        ("no group", audience.GROUPS, ("audience_groups", [])),
    ):
        requirement = Requirement.objects.create(name=name, audience=audience_kind, every_months=12)
        requirement.accepted_topics.set([topic])
        if chosen:
            getattr(requirement, chosen[0]).set(chosen[1])
    moment = queries.Moment.of(now=now)
    everyone = get_user_model().objects.all()
    names = [queries.UNMET % n for n in range(len(moment.requirements))]
    rows = list(everyone.annotate(**moment.flags.columns).values("pk", *names))
    sizes = {}
    for name, requirement in zip(names, moment.requirements, strict=True):
        assert all(row[name] is not None for row in rows)
        flagged = {row["pk"] for row in rows if row[name]}
        required = queries.still_required(requirement, now=now).values_list("pk", flat=True)
        assert flagged == set(required)
        sizes[requirement.name] = len(flagged)
    # Everyone's: some attended lately, some long ago, some never, some left.
    assert 0 < sizes["everyone"] < everyone.filter(is_active=True).count()
    assert sizes["no department"] == sizes["no group"] == 0
    assert sizes["top"] and sizes["both groups"]
    at_once = set(queries.with_overdue(everyone, moment).values_list("pk", flat=True))
    one_by_one = queries.with_overdue(everyone, moment, one_by_one=True)
    assert at_once == set(one_by_one.values_list("pk", flat=True))
    assert queries.team_summary(everyone, moment).overdue == len(at_once) > 0


def test_someone_with_nothing_outstanding_is_all_clear(client, manager, employee):
    client.force_login(manager)
    response = client.get(TEAM)
    assert response.context["summary"].all_clear == 1
    assert "All clear" in response.content.decode()


def test_restricted_incidents_are_neither_counted_nor_shown(client, manager, employee, outstanding):
    client.force_login(manager)
    response = client.get(TEAM)
    assert row_for(response, employee).actions_open == 2
    page = response.content.decode()
    assert "Access review" not in page
    assert "roadmap" not in page
    assert outstanding["restricted_action"].incident.reference not in page
    # Once the learning incident is restricted too, its actions disappear as well.
    Incident.objects.filter(pk=outstanding["actions"][0].incident_id).update(
        track=Incident.Track.ACCOUNTABILITY
    )
    assert row_for(client.get(TEAM), employee).actions_open == 0


def test_incident_titles_are_never_shown(client, manager, employee, outstanding):
    client.force_login(manager)
    page = client.get(TEAM).content.decode()
    assert "Add a check before posting" not in page
    assert outstanding["actions"][0].incident.reference not in page


# --- only people with something overdue ---------------------------------------------


@pytest.fixture
def overdue_or_not(manager, employee, indirect, elsewhere, make_person, outstanding, yearly):
    """Beside `outstanding` (the employee has something of every kind overdue; the
    indirect report has attended and has a policy open, not yet due): a new joiner
    still within the briefing's window, a joiner past it (overdue: the briefing only),
    someone whose only overdue item is an action of a restricted incident (not counted)
    and someone whose only overdue item is a policy; someone else's report has an
    overdue policy too."""
    today = timezone.localdate()
    make_person(full_name="Nina New", manager=manager, start_date=today - timedelta(days=5))
    make_person(full_name="Olga Old", manager=employee, start_date=today - timedelta(days=90))
    restricted_only = make_person(full_name="Rita Restricted", manager=manager)
    policy_only = make_person(full_name="Paula Policy", manager=indirect)
    for person in (restricted_only, policy_only, indirect):
        attended(
            held_session(
                yearly.accepted_topics.get(),
                make_person(),
                starts_at=timezone.now() - timedelta(days=10),
            ),
            person,
        )
    outstanding["restricted_action"].owner = restricted_only
    outstanding["restricted_action"].save()
    _, version = published_policy(title="Data policy", owner=make_person(), approver=make_person())
    Assignment.objects.filter(version=version).exclude(person__in=[policy_only, elsewhere]).update(
        status=Assignment.Status.ACKNOWLEDGED
    )
    Assignment.objects.filter(version=version, person__in=[policy_only, elsewhere]).update(
        due_date=today - timedelta(days=1)
    )
    Assignment.objects.filter(person=restricted_only).update(status=Assignment.Status.ACKNOWLEDGED)
    Assignment.objects.filter(person=policy_only).exclude(version=version).update(
        status=Assignment.Status.ACKNOWLEDGED
    )
    return {"restricted_only": restricted_only, "policy_only": policy_only}


def test_only_people_with_something_overdue_are_exactly_those_the_summary_counts(
    client, manager, employee, overdue_or_not
):
    client.force_login(manager)
    everyone = client.get(TEAM)
    summary = everyone.context["summary"]
    late = [
        p.get_full_name() for p in everyone.context["page"].object_list if p.outstanding.overdue
    ]
    assert late == ["Emily Carter", "Olga Old", "Paula Policy"]
    response = client.get(TEAM, {"overdue": "1"})
    listed = response.context["page"]
    assert [p.get_full_name() for p in listed.object_list] == late
    assert listed.paginator.count == summary.overdue == 3
    assert all(p.outstanding.overdue for p in listed.object_list)
    # The summary is still the whole team's; the heading says the list is narrowed.
    assert response.context["summary"] == summary
    page = response.content.decode()
    assert "Matching people (3)" in page
    assert 'name="overdue" value="1" checked' in page
    assert f'<label class="form-check-label" for="team-overdue">{OVERDUE_LABEL}</label>' in page
    assert "Rita Restricted" not in page and "Nina New" not in page
    # The summary's figure links to this list.
    assert f'href="{TEAM}?overdue=1"' in everyone.content.decode()


def test_the_dashboards_card_counts_and_links_to_the_people_with_something_overdue(
    client, manager, overdue_or_not
):
    client.force_login(manager)
    card = next(c for c in client.get(INDEX).context["cards"] if c.slug == "team")
    figure = card.figures[0]
    assert figure.url == f"{TEAM}?overdue=1"
    listed = client.get(figure.url).context["page"].paginator.count
    assert listed == figure.number == client.get(TEAM).context["summary"].overdue == 3


def test_a_filter_narrows_the_people_with_something_overdue_further(
    client, manager, employee, overdue_or_not
):
    client.force_login(manager)
    direct = client.get(TEAM, {"overdue": "1", "direct": "1"}).context["page"].object_list
    assert [p.pk for p in direct] == [employee.pk]
    found = client.get(TEAM, {"overdue": "1", "q": "paula"}).context["page"].object_list
    assert [p.pk for p in found] == [overdue_or_not["policy_only"].pk]
    assert not client.get(TEAM, {"overdue": "1", "q": "nina"}).context["page"].object_list


def test_nobody_overdue_says_so(client, manager, employee):
    client.force_login(manager)
    response = client.get(TEAM, {"overdue": "1"})
    assert response.context["summary"].overdue == 0
    assert not response.context["page"].object_list
    assert "Nobody in your team has anything overdue." in response.content.decode()
    assert "list them" not in response.content.decode()


def test_the_csv_lists_only_the_people_with_something_overdue(client, manager, overdue_or_not):
    client.force_login(manager)
    response = client.get(TEAM, {"overdue": "1", "q": " "})
    assert response.context["export_query"] == "overdue=1"
    assert f"{CSV}?overdue=1" in response.content.decode()
    header, *rows = csv_lines(client.get(CSV, {"overdue": "1"}))
    assert [row[0] for row in rows] == ["Emily Carter", "Olga Old", "Paula Policy"]
    overdue = [header.index(f"{kind} overdue") for kind in ("Policies", "Briefings", "Actions")]
    assert all(any(int(row[i]) for i in overdue) for row in rows)
    # Without the filter, everyone.
    assert len(csv_lines(client.get(CSV))) == 1 + 6


def test_paging_and_a_nudge_keep_the_overdue_filter(
    client, manager, make_person, policy_admin, leader
):
    reports = [make_person(full_name=f"Report {n:02d}", manager=manager) for n in range(60)]
    published_policy(title="Social media policy", owner=policy_admin, approver=leader)
    Assignment.objects.filter(person__in=reports[:55]).update(
        due_date=timezone.localdate() - timedelta(days=1)
    )
    client.force_login(manager)
    first = client.get(TEAM, {"overdue": "1"})
    assert first.context["page"].paginator.count == 55 == first.context["summary"].overdue
    assert first.context["page"].next_url == "?overdue=1&page=2"
    assert f'href="{first.context["page"].next_url}"' in first.content.decode().replace(
        "&amp;", "&"
    )
    second = client.get(TEAM + first.context["page"].next_url)
    assert [p.pk for p in second.context["page"].object_list] == [r.pk for r in reports[50:55]]
    answer = client.post(nudge_url(reports[50]), {"back": "overdue=1&page=2"})
    assert answer["Location"] == f"{TEAM}?overdue=1&page=2"


@pytest.mark.parametrize(
    "filters", [{}, {"direct_only": True}, {"search": "o"}, {"direct_only": True, "search": "e"}]
)
def test_people_tested_one_by_one_are_those_found_all_at_once(manager, overdue_or_not, filters):
    moment = queries.Moment.of()
    found = {
        one_by_one: list(
            queries.team_people(
                manager, **filters, overdue_only=True, moment=moment, one_by_one=one_by_one
            ).values_list("pk", flat=True)
        )
        for one_by_one in (False, True)
    }
    assert found[True] == found[False]
    if not filters:
        assert len(found[True]) == 3


def test_the_dashboards_count_of_a_team_is_my_teams_and_the_compliance_coverage(
    manager, employee, indirect, make_person, overdue_or_not, sales, topic
):
    """`team_headline`: people and overdue as My team's summary counts them, and the
    training coverage of the team as the Compliance dashboard counts it, with
    requirements of every kind of audience, new joiners, attendance and a leaver."""
    # Beside `yearly` (everyone) and the Sales briefing (a department), a group's.
    other_topic = Topic.objects.create(name="Crisis comms")
    by_group = Requirement.objects.create(
        name="Comms briefing", audience="groups", every_months=12, new_joiners_within_days=60
    )
    by_group.audience_groups.set([Group.objects.get_or_create(name=roles.COMMS)[0]])
    by_group.accepted_topics.set([other_topic])
    Requirement.objects.create(name="Retired", every_months=12, active=False)
    today = timezone.localdate()
    for n, (department, group) in enumerate(
        [(sales, roles.COMMS), (sales, None), (None, roles.COMMS), (sales, roles.COMMS)]
    ):
        made = make_person(
            manager=manager if n % 2 else employee,
            department=department,
            group=group,
            start_date=today - timedelta(days=20 * n),
        )
        if n < 2:
            attended(held_session(other_topic, make_person(), starts_at=timezone.now()), made)
        if n == 3:
            attended(held_session(topic, make_person(), starts_at=timezone.now()), made)
    make_person(manager=manager, department=sales, is_active=False)
    now = timezone.now()
    moment = queries.Moment.of(now=now)
    assert len(moment.requirements) == 3
    for whom in (manager, employee, indirect, overdue_or_not["policy_only"].manager):
        people = audience.team(whom)
        summary = queries.team_summary(people, moment)
        scope = compliance.Scope(everyone=False, person_ids=people.values("pk"))
        coverage = compliance_trend.training_coverage(
            scope=scope, filters=compliance.Filters(), names={}, months=[], now=now
        ).overall
        found = queries.team_headline(people, moment)
        assert found == queries.Headline(
            summary.people, summary.overdue, coverage.audience, coverage.compliant
        )
    assert queries.team_headline(audience.team(manager), moment).compliant > 0
    nobody = queries.team_headline(get_user_model().objects.none(), moment)
    assert nobody == queries.Headline(0, 0, 0, 0)
    # Everyone else without a manager now reports to the manager, who so heads everyone:
    # their team is every other active person, read without the reporting line, and
    # counted alike.
    people_model = get_user_model()
    people_model.objects.filter(manager__isnull=True).exclude(pk=manager.pk).update(manager=manager)
    top = people_model.objects.get(pk=manager.pk)
    assert roles.heads_everyone(top)
    people = audience.team(top)
    assert "people_reportingline" not in str(people.query)
    below = ReportingLine.objects.filter(manager=top).values("person_id")
    assert set(people.values_list("pk", flat=True)) == set(
        people_model.objects.filter(is_active=True, pk__in=below).values_list("pk", flat=True)
    )
    summary = queries.team_summary(people, moment)
    coverage = compliance_trend.training_coverage(
        scope=compliance.Scope(everyone=False, person_ids=people.values("pk")),
        filters=compliance.Filters(),
        names={},
        months=[],
        now=now,
    ).overall
    assert queries.team_headline(people, moment) == queries.Headline(
        summary.people, summary.overdue, coverage.audience, coverage.compliant
    )
    assert summary.people > 10 and 0 < coverage.compliant < coverage.audience


def test_the_dashboards_compliance_card_of_a_manager_is_their_teams_coverage(
    client, manager, overdue_or_not
):
    client.force_login(manager)
    cards = {card.slug: card for card in client.get(INDEX).context["cards"]}
    coverage = next(f for f in cards["compliance"].figures if f.name == "Training coverage")
    people = audience.team(manager)
    expected = compliance_trend.training_coverage(
        scope=compliance.Scope(everyone=False, person_ids=people.values("pk")),
        filters=compliance.Filters(),
        names={},
        months=[],
        now=timezone.now(),
    ).overall
    assert coverage.number == expected.percent
    assert coverage.url == expected.url
    assert f"{expected.compliant:,} of {expected.audience:,}" in coverage.detail


def test_the_pages_near_the_start_of_a_long_overdue_list_are_walked(
    manager, overdue_or_not, monkeypatch
):
    """`Listing` reads a page from the walked people while those with something overdue
    number at least `WALK` times the page's end, and from the semi-joins after that."""
    moment = queries.Moment.of()
    people = queries.team_people(manager, overdue_only=True, moment=moment)
    walked = queries.team_people(manager, overdue_only=True, moment=moment, one_by_one=True)
    read = []
    monkeypatch.setattr(queries, "figured", lambda rows, moment: read.append(str(rows.query)))
    listing = queries.Listing(
        lambda: people, moment, count=queries.WALK * 50, walked=lambda: walked
    )
    listing[0:50]
    listing[50:100]
    assert read == [str(walked[0:50].values("pk").query), str(people[50:100].values("pk").query)]
    # Without the walked people (a search or direct-only list), never.
    queries.Listing(lambda: people, moment, count=10**6)[0:50]
    assert read[-1] == str(people[0:50].values("pk").query)


@pytest.mark.parametrize("walk", [0, 10**6])
def test_walked_or_not_the_overdue_pages_are_the_same(
    client, manager, make_person, policy_admin, leader, monkeypatch, walk
):
    """`WALK` 0: every page walked; a million: none."""
    monkeypatch.setattr(queries, "WALK", walk)
    reports = [make_person(full_name=f"Report {n:02d}", manager=manager) for n in range(70)]
    published_policy(title="Social media policy", owner=policy_admin, approver=leader)
    late = [report for n, report in enumerate(reports) if n % 4 != 3]
    Assignment.objects.filter(person__in=late).update(
        due_date=timezone.localdate() - timedelta(days=1)
    )
    client.force_login(manager)
    pages = [client.get(TEAM, {"overdue": "1", "page": n}).context["page"] for n in (1, 2)]
    assert pages[0].paginator.count == len(late) == 53
    assert [len(page.object_list) for page in pages] == [50, 3]
    listed = [p.pk for page in pages for p in page.object_list]
    assert listed == [r.pk for r in late]
    assert all(p.outstanding.overdue for page in pages for p in page.object_list)


def test_only_people_with_something_overdue_costs_the_same_for_few_and_many(
    computed_pages,
    client,
    manager,
    yearly,
    policy_admin,
    leader,
    comms,
    make_person,
    django_assert_max_num_queries,
):
    """Every second report overdue (a policy, an action or the briefing, in turn)."""
    policy, version = published_policy(
        title="Social media policy", owner=policy_admin, approver=leader
    )
    incident = reported(comms)
    session = held_session(
        yearly.accepted_topics.get(), policy_admin, starts_at=timezone.now() - timedelta(days=9)
    )
    today = timezone.localdate()
    made = []

    def grow(count):
        for _ in range(count):
            person = make_person(manager=manager)
            made.append(person)
            kind = len(made) % 6
            if kind != 5:  # every sixth has not attended: overdue
                attended(session, person)
            Assignment.objects.create(
                person=person,
                policy=policy,
                version=version,
                due_date=today - timedelta(days=1 if kind == 1 else -5),
                assigned_at=timezone.now(),
            )
            incident_services.add_action(
                incident=incident,
                by=comms,
                title="Fix it",
                owner=person,
                due_date=today - timedelta(days=1 if kind == 3 else -5),
            )

    grow(6)
    client.force_login(manager)
    with django_assert_max_num_queries(18) as few:
        response = client.get(TEAM, {"overdue": "1"})
        rows = csv_lines(client.get(CSV, {"overdue": "1"}))[1:]
    assert response.context["page"].paginator.count == len(rows) == 3
    grow(120)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(TEAM, {"overdue": "1"})
        rows = csv_lines(client.get(CSV, {"overdue": "1"}))[1:]
    assert response.context["page"].paginator.count == len(rows) == 63
    assert response.context["summary"].overdue == 63
    assert len(response.context["page"].object_list) == 50


# --- booked briefings ----------------------------------------------------------------


def test_a_booked_briefing_still_counts_but_is_not_offered_for_a_nudge(
    client, manager, employee, topic, yearly, policy_admin
):
    seat(upcoming_session(topic, policy_admin), employee)
    client.force_login(manager)
    response = client.get(TEAM)
    emily = row_for(response, employee)
    # Not attended, so not compliant, overdue and not all clear...
    assert (emily.training_unmet, emily.training_booked, emily.training_overdue) == (1, 1, 1)
    assert response.context["summary"].overdue == 1
    # ...but booked: nothing a nudge would send, as the nudge's own rule says.
    assert emily.training_to_book == len(requirements_to_book(employee)) == 0
    assert not emily.nudgeable
    page = response.content.decode()
    assert "1 booked" in page
    assert "Briefing booked" in page
    assert nudge_url(employee) not in page
    answer = client.post(nudge_url(employee), follow=True)
    assert "nothing outstanding" in answer.content.decode()
    assert not nudges().exists()


def test_the_briefings_to_book_are_those_the_nudge_reminds(
    client, manager, employee, outstanding, topic, policy_admin
):
    yearly, sales_only = outstanding["requirements"]
    press = Topic.objects.create(name="Press")
    sales_only.accepted_topics.set([press])
    seat(upcoming_session(topic, policy_admin), employee)  # counts for yearly only
    client.force_login(manager)
    response = client.get(TEAM)
    emily = row_for(response, employee)
    assert (emily.training_unmet, emily.training_booked, emily.training_to_book) == (2, 1, 1)
    assert [s.requirement for s in requirements_to_book(employee)] == [sales_only]
    assert "1 to book, 1 booked" in response.content.decode()
    assert nudge_url(employee) in response.content.decode()
    client.post(nudge_url(employee))
    assert list(nudges(kind="training-nudge").values_list("subject_id", flat=True)) == [
        sales_only.pk
    ]
    header, emily_line, _ = csv_lines(client.get(CSV))
    booked = header.index("Briefings booked")
    assert emily_line[booked - 1 : booked + 2] == ["2", "1", "2"]


def test_a_seat_on_a_cancelled_or_past_session_is_not_a_booking(
    client, manager, employee, topic, yearly, policy_admin
):
    cancelled = upcoming_session(topic, policy_admin)
    Session.objects.filter(pk=cancelled.pk).update(status=Session.Status.CANCELLED)
    seat(cancelled, employee)
    begun = upcoming_session(topic, policy_admin, days=-1)  # never marked attended
    seat(begun, employee)
    client.force_login(manager)
    emily = row_for(client.get(TEAM), employee)
    assert (emily.training_booked, emily.training_to_book) == (0, 1)
    assert emily.nudgeable


# --- nudging ------------------------------------------------------------------------


def test_a_nudge_reminds_each_outstanding_item_once_a_day(client, manager, employee, outstanding):
    client.force_login(manager)
    response = client.post(nudge_url(employee), {"back": "direct=1&page=1&evil=x"})
    assert response.status_code == 302
    assert response["Location"] == f"{TEAM}?direct=1&page=1"
    today = f"nudge-{timezone.localdate():%Y%m%d}"
    assert set(
        nudges(kind="policy-nudge", recipient=employee, stage=today).values_list(
            "subject_id", flat=True
        )
    ) == {a.pk for a in outstanding["assignments"]}
    assert set(
        nudges(kind="training-nudge", recipient=employee).values_list("subject_id", flat=True)
    ) == {r.pk for r in outstanding["requirements"]}
    assert set(
        nudges(kind="incident-action-nudge", recipient=employee).values_list(
            "subject_id", flat=True
        )
    ) == {a.pk for a in outstanding["actions"]}
    assert nudges().count() == 6
    assert not nudges(digest=True).exists()  # urgent: at once, not in a digest
    message = [str(m) for m in response.wsgi_request._messages]
    assert message == ["Sent Emily Carter 6 reminders."]

    again = client.post(nudge_url(employee), follow=True)
    assert nudges().count() == 6
    assert "already reminded today" in again.content.decode()


def test_a_nudge_never_touches_a_restricted_incidents_action(
    client, manager, employee, outstanding
):
    client.force_login(manager)
    client.post(nudge_url(employee))
    restricted = outstanding["restricted_action"]
    assert not nudges(kind="incident-action-nudge", subject_id=restricted.pk).exists()


def test_a_nudge_from_the_manager_of_the_manager_reaches_an_indirect_report(
    client, manager, indirect, outstanding
):
    client.force_login(manager)
    client.post(nudge_url(indirect))
    assert list(nudges().values_list("kind", "recipient_id")) == [("policy-nudge", indirect.pk)]


def test_someone_outside_the_team_is_not_found_nor_nudged(
    client, manager, employee, indirect, elsewhere, peer_report, make_person, outstanding
):
    gone = make_person(full_name="Gina Gone", manager=manager, is_active=False)
    nobody = get_user_model()(pk=999999)
    client.force_login(manager)
    # Someone else's report, a peer's report, the manager's own boss, the manager
    # themselves, someone who left, and nobody at all.
    for person in (elsewhere, peer_report, manager.manager, manager, gone, nobody):
        assert client.get(member_url(person)).status_code == 404
        assert client.post(nudge_url(person)).status_code == 404
    # A manager in the middle sees their own report, not their manager nor themselves.
    client.force_login(employee)
    assert client.get(member_url(indirect)).status_code == 200
    for person in (manager, employee):
        assert client.get(member_url(person)).status_code == 404
        assert client.post(nudge_url(person)).status_code == 404
    assert not nudges().exists()


def test_a_nudge_needs_a_post(client, manager, employee):
    client.force_login(manager)
    assert client.get(nudge_url(employee)).status_code == 405


def test_nudging_someone_with_nothing_outstanding_says_so(client, manager, employee):
    client.force_login(manager)
    response = client.post(nudge_url(employee), follow=True)
    assert "nothing outstanding" in response.content.decode()
    assert not nudges().exists()


def test_nudge_emails_say_they_come_from_the_manager(client, manager, employee, outstanding):
    send_due()  # what was already in the outbox (actions assigned, policies published)
    mail.outbox.clear()
    client.force_login(manager)
    client.post(nudge_url(employee))
    result = send_due()
    assert result.sent == 6 and result.failed == 0
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects.count("From your manager: please attend Sales briefing") == 1
    assert (
        "From your manager: Add a check before posting "
        + (f"({outstanding['actions'][0].incident.reference})")
        in subjects
    )
    action_mail = next(m for m in mail.outbox if "Add a check" in m.subject)
    assert "Your manager asked us to remind you" in action_mail.body
    assert all(message.to == [employee.email] for message in mail.outbox)


def test_a_nudged_action_moved_to_the_accountability_track_is_not_sent(
    client, manager, employee, outstanding
):
    send_due()
    mail.outbox.clear()
    client.force_login(manager)
    client.post(nudge_url(employee))
    Incident.objects.filter(pk=outstanding["actions"][0].incident_id).update(
        track=Incident.Track.ACCOUNTABILITY
    )
    send_due()
    assert not [m for m in mail.outbox if "Add a check" in m.subject]
    assert nudges(kind="incident-action-nudge", status=Notification.Status.CANCELLED).count() == 2


# --- a member's page --------------------------------------------------------------------


def test_the_team_list_links_each_name_to_their_page(client, manager, employee, indirect):
    client.force_login(manager)
    page = client.get(TEAM).content.decode()
    assert f'href="{member_url(employee)}"' in page
    assert f'href="{member_url(indirect)}"' in page


def test_a_members_page_lists_what_they_still_have_to_do(
    client, manager, employee, outstanding, topic, policy_admin
):
    yearly, sales_only = outstanding["requirements"]
    press = Topic.objects.create(name="Press")
    sales_only.accepted_topics.set([press])
    session = upcoming_session(topic, policy_admin, title="Lunch and learn: posting safely")
    seat(session, employee)
    client.force_login(manager)
    # Not yet classified, and nobody of the manager's involved: they may not open the
    # incident, so its action is only an action with a due date.
    hidden = client.get(member_url(employee)).content.decode()
    overdue_action, soon_action = outstanding["actions"]
    assert "Add a check before posting" not in hidden
    assert overdue_action.incident.reference not in hidden
    assert hidden.count("An incident action") == 2 and "Not shared with you" in hidden
    # A learning-track incident that involves the employee: the manager may open it.
    incident = overdue_action.incident
    incident.people_involved.add(employee)
    Incident.objects.filter(pk=incident.pk).update(track=Incident.Track.LEARNING)
    response = client.get(member_url(employee))
    assert response.status_code == 200
    items = response.context["items"]
    assert [(a.policy.title, a.version.number, a.overdue) for a in items.assignments] == [
        ("Press policy", "1.0", True),
        ("Social media policy", "1.0", False),
    ]
    assert [(b.requirement, b.booked, b.to_book, b.seat) for b in items.briefings] == [
        (sales_only, False, True, None),
        (yearly, True, False, session),
    ]
    assert [(a.pk, a.overdue) for a in items.actions] == [
        (overdue_action.pk, True),
        (soon_action.pk, False),
    ]
    page = response.content.decode()
    for shown in (
        "Press policy",
        "Overdue",
        "To book",
        "Booked on",
        "Lunch and learn: posting safely",
        reverse("training:session", args=[session.pk]),
        "Add a check before posting",
        "Update the sharing settings",
        overdue_action.incident.reference,
        nudge_url(employee),
    ):
        assert shown in page
    # Never anything of an accountability-track incident.
    restricted = outstanding["restricted_action"]
    assert restricted.pk not in [a.pk for a in items.actions]
    assert "Access review" not in page
    assert restricted.incident.reference not in page
    assert "roadmap" not in page


def test_a_members_page_shows_a_briefing_attended_and_when(client, manager, indirect, outstanding):
    client.force_login(manager)
    response = client.get(member_url(indirect))
    (briefing,) = response.context["items"].briefings
    assert briefing.status.compliant
    page = response.content.decode()
    assert "Attended" in page
    assert "valid until" in page
    assert "No open incident action." in page


def test_a_member_with_only_booked_briefings_has_no_nudge_button(
    client, manager, employee, topic, yearly, policy_admin
):
    seat(upcoming_session(topic, policy_admin), employee)
    client.force_login(manager)
    response = client.get(member_url(employee))
    assert not response.context["items"].nudgeable
    page = response.content.decode()
    assert "Booked on" in page
    assert nudge_url(employee) not in page


def test_a_nudge_from_a_members_page_goes_back_to_it(client, manager, employee, outstanding):
    client.force_login(manager)
    response = client.post(nudge_url(employee), {"from": "member", "back": "page=2"})
    assert response.status_code == 302
    assert response["Location"] == member_url(employee)
    assert nudges().count() == 6
    page = client.get(response["Location"]).content.decode()
    assert "Sent Emily Carter 6 reminders." in page


def test_a_members_page_costs_the_same_for_few_and_many_items(
    client,
    manager,
    employee,
    policy_admin,
    leader,
    comms,
    make_person,
    django_assert_max_num_queries,
):
    incident = reported(comms)
    today = timezone.localdate()
    made = {"policies": 0, "requirements": 0}

    def grow(count):
        """`count` more policies to acknowledge, actions, and requirements of which
        every second one is booked and every third attended."""
        for _ in range(count):
            made["policies"] += 1
            number = made["policies"]
            published_policy(title=f"Policy {number}", owner=policy_admin, approver=leader)
            incident_services.add_action(
                incident=incident, by=comms, title=f"Fix {number}", owner=employee, due_date=today
            )
            subject = Topic.objects.create(name=f"Topic {number}")
            requirement = Requirement.objects.create(name=f"Requirement {number}")
            requirement.accepted_topics.set([subject])
            if number % 2:
                seat(upcoming_session(subject, policy_admin), employee)
            elif number % 3 == 0:
                past = held_session(
                    subject, policy_admin, starts_at=timezone.now() - timedelta(days=9)
                )
                attended(past, employee)

    grow(1)
    client.force_login(manager)
    with django_assert_max_num_queries(40) as few:
        response = client.get(member_url(employee))
    assert len(response.context["items"].assignments) == 1
    grow(12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(member_url(employee))
    items = response.context["items"]
    assert (len(items.assignments), len(items.actions), len(items.briefings)) == (13, 13, 13)
    assert sum(1 for b in items.briefings if b.seat) == 7


# --- CSV ----------------------------------------------------------------------------


def test_the_csv_lists_the_whole_team_with_the_same_columns(
    client, manager, employee, indirect, outstanding
):
    client.force_login(manager)
    response = client.get(CSV)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header, *rows = csv_lines(response)
    assert header == team_export.HEADER
    emily, ian = rows
    assert emily == [
        "Emily Carter",
        "employee@example.com",
        "Sales",
        "Account manager",
        "",
        "2",
        "1",
        outstanding["overdue_policy_due"].isoformat(),
        "2",
        "0",
        "2",
        "2",
        "1",
        outstanding["actions"][0].due_date.isoformat(),
    ]
    assert ian[0] == "Ian Indirect" and ian[4] == "Emily Carter"


def test_the_csv_escapes_a_name_that_looks_like_a_formula(client, manager, make_person):
    make_person(full_name="=cmd", email="cmd@example.com", manager=manager)
    client.force_login(manager)
    header, *rows = csv_lines(client.get(CSV))
    assert rows[0][0] == "'=cmd"


# --- Remind now and the nudge share the day ----------------------------------------------


def a_zone_on_another_day() -> str:
    """A time zone whose date, right now, is not the site's."""
    now = timezone.now()
    site_day = timezone.localdate(now, timezone.get_default_timezone())
    return next(
        zone
        for zone in ("Pacific/Kiritimati", "Etc/GMT+12")  # UTC+14 and UTC-12
        if timezone.localdate(now, zoneinfo.ZoneInfo(zone)) != site_day
    )


@pytest.mark.parametrize("admin_zone", ["", "another day"])
def test_a_nudge_then_remind_now_on_the_same_site_day_remind_each_assignment_once(
    client, manager, employee, indirect, outsider, policy_admin, leader, admin_zone
):
    _, version = published_policy(title="Social media policy", owner=policy_admin, approver=leader)
    policy_admin.time_zone = a_zone_on_another_day() if admin_zone else ""
    policy_admin.save()
    client.force_login(manager)
    client.post(nudge_url(employee))
    assert nudges(kind="policy-nudge").count() == 1
    client.force_login(policy_admin)
    response = client.post(reverse("policies:manage_remind", args=[version.pk]), follow=True)
    assert response.status_code == 200
    open_assignments = Assignment.objects.filter(version=version, status="open")
    per_assignment = (
        Notification.objects.filter(kind="policy-nudge")
        .values("subject_id")
        .annotate(rows=Count("pk"))
        .values_list("subject_id", "rows")
    )
    assert dict(per_assignment) == {assignment.pk: 1 for assignment in open_assignments}
    assert "1 already reminded today" in response.content.decode()


# --- cost ---------------------------------------------------------------------------


def test_the_page_and_the_csv_count_each_person_alike(
    manager, employee, indirect, make_person, outstanding, topic, policy_admin
):
    """The page reads a few people's figures per person, the CSV by groups of people:
    the same figures, seats and new joiners included."""
    seat(upcoming_session(topic, policy_admin), employee)
    joiner = make_person(manager=manager, start_date=timezone.localdate() - timedelta(days=3))
    moment = queries.Moment.of()
    ids = [employee.pk, indirect.pk, joiner.pk]
    on_the_page = {person.pk: person.outstanding for person in queries.figured(ids, moment)}
    assert on_the_page == queries.grouped(ids, moment)
    assert on_the_page[employee.pk].training_booked == 2
    assert on_the_page[joiner.pk].training_not_yet_due == 1


@pytest.mark.parametrize("params", [{}, {"overdue": "1"}, {"direct": "1"}, {"q": "ian"}])
def test_the_page_never_walks_the_reporting_line(
    client, manager, employee, indirect, make_person, params
):
    """The team is a range of the reporting-line table the database keeps, in the
    summary's query and the page's: no query walks the line. (Someone else is at the top
    too: the one person at the top of everything needs no table, `audience.team`.)"""
    make_person()
    client.force_login(manager)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(TEAM, params)
    assert response.status_code == 200
    assert not any("RECURSIVE" in query["sql"] for query in captured)
    assert any("people_reportingline" in query["sql"] for query in captured)
    assert response.context["summary"].people == 2


def test_the_page_costs_the_same_for_few_and_many_reports(
    computed_pages,
    client,
    manager,
    topic,
    yearly,
    policy_admin,
    leader,
    comms,
    make_person,
    sales,
    django_assert_max_num_queries,
):
    policy, version = published_policy(
        title="Social media policy", owner=policy_admin, approver=leader
    )
    incident = reported(comms)
    session = upcoming_session(topic, policy_admin)
    today = timezone.localdate()

    def grow(count):
        """`count` reports, every second one reporting through the one before (a new
        joiner), each with an overdue policy and an open action, every third with a
        seat on the coming briefing."""
        lead = None
        for number in range(count):
            if number % 2:
                person = make_person(manager=lead, start_date=today - timedelta(days=3))
            else:
                person = lead = make_person(manager=manager, department=sales)
            Assignment.objects.create(
                person=person,
                policy=policy,
                version=version,
                due_date=today - timedelta(days=1),
                assigned_at=timezone.now(),
            )
            incident_services.add_action(
                incident=incident, by=comms, title="Fix it", owner=person, due_date=today
            )
            if number % 3 == 0:
                seat(session, person)

    grow(3)
    client.force_login(manager)
    with django_assert_max_num_queries(17) as few:
        assert client.get(TEAM).status_code == 200
        assert len(csv_lines(client.get(CSV))) == 1 + 3
    grow(60)  # 63 reports: more than a page
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(TEAM)
        header, *rows = csv_lines(client.get(CSV))
    assert len(rows) == 63
    assert sum(int(row[header.index("Briefings booked")]) for row in rows) == 1 + 20
    assert response.context["page"].paginator.count == 63
    assert len(response.context["page"].object_list) == 50
    assert response.context["summary"].overdue == 63
    assert response.context["page"].object_list[0].actions_open == 1


@pytest.mark.parametrize("prefix", ["/", "/hub2147483647/"])
@pytest.mark.parametrize("name", ["dashboards:team_member", "dashboards:team_nudge"])
def test_each_rows_links_are_the_ones_reverse_gives(name, prefix):
    """The list reverses each link once a page (`team_views._links`), for every row:
    the same URL as reversing it for the row, whatever the site's prefix holds."""
    set_script_prefix(prefix)
    try:
        link = team_views._links(name)
        for pk in (1, 7, 42, 2147483647, 10**12):
            assert link(pk) == reverse(name, args=[pk])
    finally:
        clear_script_prefix()
