"""The Remediation dashboard of the person who heads everyone: their team is every other
active person, and some of its reads test that as "involves someone not outside the team"
(the inactive and the head themself, `people.audience.outside_team`) rather than "involves
someone in the team". Every figure, list and department they are offered is the one the
plain team path gives: the people below them in the reporting line, active."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboards import remediation
from dashboards.remediation_views import figures
from incidents.models import ActionItem, Incident, IncidentEvent
from incidents.tests.factories import assessed_deliberate, in_status, reported
from people import audience, roles
from people.models import Department, ReportingLine, User

pytestmark = pytest.mark.django_db

Status = Incident.Status
PAGE = reverse("dashboards:remediation")


def _owners(incident, *owners):
    """Give the incident's actions these owners, in order (the rest keep theirs)."""
    for action, owner in zip(incident.actions.order_by("pk"), owners, strict=False):
        ActionItem.objects.filter(pk=action.pk).update(owner=owner)


@pytest.fixture
def org(make_person):
    """One person heads everyone: everyone active reports to them, directly or through a
    manager; a leaver (who left after their incidents) and an old leaver without a manager
    are inactive. Incidents involve the team, only the leaver, only the head, both the
    leaver and someone in the team, nobody, the old leaver; one is on the accountability
    track and one not yet classified. Actions are owned by the team, the leaver and the
    head."""
    board = Department.objects.create(name="Board")
    sales = Department.objects.create(name="Sales")
    north = Department.objects.create(name="Sales North", parent=sales)
    engineering = Department.objects.create(name="Engineering")
    archive = Department.objects.create(name="Archive")
    comms_team = Department.objects.create(name="Communications")
    head = make_person(full_name="Ada Head", department=board)
    comms = make_person(
        full_name="Cora Comms", manager=head, department=comms_team, group=roles.COMMS
    )
    middle = make_person(full_name="Mo Middle", manager=head, department=sales)
    rep_a = make_person(full_name="Ann Report", manager=middle, department=north)
    rep_b = make_person(full_name="Ben Report", manager=head, department=engineering)
    leaver = make_person(full_name="Lee Leaver", manager=middle, department=sales)
    old_leaver = make_person(full_name="Olga Old", department=archive)

    today = timezone.localdate()
    now = timezone.now()

    def walked(status, people, **fields):
        return in_status(status, by=comms, people_involved=people, signed_off_by=middle, **fields)

    ours = walked(Status.REMEDIATION, [rep_a], platform=Incident.Platform.LINKEDIN)
    ours.actions.update(due_date=today - timedelta(days=3))
    _owners(ours, rep_a, leaver, head, comms)
    leaver_only = walked(Status.REMEDIATION, [leaver], platform=Incident.Platform.LINKEDIN)
    leaver_only.actions.update(due_date=today - timedelta(days=12))
    _owners(leaver_only, rep_a, leaver, head)
    head_only = walked(Status.REMEDIATION, [head], posted_at=now - timedelta(hours=9))
    head_only.actions.update(due_date=today - timedelta(days=40))
    _owners(head_only, head, rep_b)
    mixed = walked(Status.REVIEW, [leaver, rep_b], platform=Incident.Platform.LINKEDIN)
    mixed.actions.update(completed_at=now - timedelta(days=30))
    _owners(mixed, leaver, head)
    restricted = assessed_deliberate(
        walked(Status.REMEDIATION, [rep_a]), rep_a, by=comms, supersede=True
    )
    restricted.actions.update(due_date=today - timedelta(days=10))
    _owners(restricted, rep_a, head)
    nobody = walked(Status.CLOSED, [])
    old = walked(Status.CLOSED, [old_leaver], posted_at=now - timedelta(hours=30))
    closed_ours = walked(Status.CLOSED, [rep_b], posted_at=now - timedelta(days=40))
    undecided = reported(comms, people_involved=[rep_a], posted_at=now - timedelta(hours=5))
    classified = walked(
        Status.CLASSIFIED, [rep_a, head], posted_at=now - timedelta(hours=2), self_reported=True
    )
    # Contained and closed over two months, so the timings and the period have history.
    month_ago = now - timedelta(days=35)
    for incident in (closed_ours, old, nobody, mixed):
        Incident.objects.filter(pk=incident.pk).update(noticed_at=month_ago)
        events = IncidentEvent.objects.filter(incident=incident, what="status")
        events.filter(to_value=Status.CONTAINED).update(at=month_ago + timedelta(hours=5))
        events.filter(to_value=Status.CLASSIFIED).update(at=month_ago + timedelta(hours=8))
    User.objects.filter(pk__in=[leaver.pk, old_leaver.pk]).update(is_active=False)
    return {
        "head": head,
        "middle": middle,
        "board": board,
        "sales": sales,
        "engineering": engineering,
        "incidents": {
            "ours": ours,
            "leaver_only": leaver_only,
            "head_only": head_only,
            "mixed": mixed,
            "restricted": restricted,
            "nobody": nobody,
            "old": old,
            "closed_ours": closed_ours,
            "undecided": undecided,
            "classified": classified,
        },
    }


# How a person is tested in the SQL: against the few people outside the team, on their
# own row (joined for their department), or against the team's ids.
NOT_OUTSIDE = re.compile(r'NOT \(\w+\."(user|owner)_id" IN \(SELECT')
ON_THE_ROW = re.compile(
    r'\w+\."department_id" IN \([^)]*\) AND \w+\."is_active" AND NOT \(\w+\."(user_)?id" = '
)
IN_TEAM = re.compile(r'(?<!NOT \()\b\w+\."(user|owner)_id" IN \(SELECT')


def _fresh(person) -> User:
    """The person read again, as the next request would: their roles read anew."""
    return User.objects.get(pk=person.pk)


def _filters(org, today) -> dict[str, remediation.Filters]:
    start, end = remediation.default_period(today)

    def department(which):
        return {
            "department": org[which],
            "department_ids": frozenset(audience.with_sub_departments([org[which].pk])),
        }

    linkedin = Incident.Platform.LINKEDIN
    return {
        "period": remediation.Filters(start=start, end=end),
        "last ten days": remediation.Filters(start=today - timedelta(days=10), end=today),
        "sales": remediation.Filters(start=start, end=end, **department("sales")),
        "engineering": remediation.Filters(start=start, end=end, **department("engineering")),
        # The head's own: not offered to them, and no one in it is in their team.
        "board": remediation.Filters(start=start, end=end, **department("board")),
        "linkedin": remediation.Filters(start=start, end=end, platform=linkedin),
        "sales on linkedin": remediation.Filters(
            start=start, end=end, platform=linkedin, **department("sales")
        ),
    }


DRILLS = {
    "open": remediation.Drill(open=True),
    "late review": remediation.Drill(late_review=True),
    "review due": remediation.Drill(review_due=True),
    "posted-noticed": remediation.Drill(exposure="posted-noticed"),
    "self-reported": remediation.Drill(noticed_by="self"),
}


def _everything(viewer, filters, today) -> dict:
    """Every figure of the page, the department choices, and the rows of its lists."""
    found = {"figures": figures(viewer, filters, today=today)}
    found["departments"] = [d.name for d in viewer.departments()]
    for name, drill in DRILLS.items():
        rows = remediation.drilled_incidents(viewer, filters, drill, today=today)
        found[name] = sorted(rows.values_list("pk", flat=True))
    overdue = remediation.Drill(overdue="all")
    rows = remediation.drilled_actions(viewer, filters, overdue, today=today)
    found["overdue actions"] = sorted(rows.values_list("pk", flat=True))
    return found


def _page(client, person, query=""):
    client.force_login(person)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{PAGE}?{query}" if query else PAGE)
    assert response.status_code == 200
    shown = {
        key: response.context[key]
        for key in (
            "open",
            "overdue",
            "timings",
            "mix",
            "recurrence",
            "reviews",
            "measured",
            "stretches",
            "noticing",
            "charts",
            "department_choices",
        )
    }
    return shown, len(queries)


def test_the_head_of_everyone_sees_what_their_reporting_line_gives(
    computed_pages, client, org, make_person
):
    """Every figure, list and department choice of the head of everyone, with and without
    the department, platform and period filters, equals those of the same person read
    through the reporting line (once someone else without a manager is active, they no
    longer head everyone); the page issues as many queries either way."""
    head, today = org["head"], timezone.localdate()
    viewer = remediation.Viewer.of(_fresh(head))
    assert audience.heads_everyone_else(viewer.user)
    # The reads do take the other way: the person involved (or owning the action) is not
    # one of those outside the team, or, where their row is joined for their department,
    # is active and not the head; never one of everyone else's ids.
    every = _filters(org, today)
    read = str(remediation.incidents(viewer, every["period"]).query)
    assert NOT_OUTSIDE.search(read) and not IN_TEAM.search(read)
    read = str(remediation.incidents(viewer, every["sales"]).query)
    assert ON_THE_ROW.search(read) and not IN_TEAM.search(read)
    read = str(remediation.actions(viewer, every["period"]).query)
    assert NOT_OUTSIDE.search(read) and not IN_TEAM.search(read)
    team = set(audience.team(viewer.user))
    by_head = {name: _everything(viewer, filters, today) for name, filters in every.items()}
    sales = f"department={org['sales'].pk}&platform=linkedin"
    head_page, head_queries = _page(client, _fresh(head))
    head_sales_page, head_sales_queries = _page(client, _fresh(head), sales)

    # Someone active without a manager, in no department and in no incident: the head's
    # team is the same people, now found through the reporting line.
    make_person(full_name="Sam Stranger")
    plain = remediation.Viewer.of(_fresh(head))
    assert not audience.heads_everyone_else(plain.user)
    assert "people_reportingline" in str(remediation.incidents(plain, every["period"]).query)
    assert set(audience.team(plain.user)) == team
    for name, filters in every.items():
        assert _everything(plain, filters, today) == by_head[name], name
    plain_page, plain_queries = _page(client, _fresh(head))
    assert plain_page == head_page
    assert head_queries == plain_queries
    plain_sales_page, plain_sales_queries = _page(client, _fresh(head), sales)
    assert plain_sales_page == head_sales_page
    assert head_sales_queries == plain_sales_queries

    # What they are: the departments of active people but the head (not the Board, nor
    # the old leaver's Archive; Sales has people in the team); the team's incidents.
    assert by_head["period"]["departments"] == [
        "Communications",
        "Engineering",
        "Sales",
        "Sales North",
    ]
    names = {incident.pk: name for name, incident in org["incidents"].items()}
    assert {names[pk] for pk in by_head["period"]["open"]} == {"ours", "classified", "mixed"}
    assert {names[pk] for pk in by_head["sales"]["open"]} == {"ours", "classified"}
    assert {names[pk] for pk in by_head["engineering"]["open"]} == {"mixed"}
    shown = by_head["period"]["figures"]
    assert shown["open"].total == 3
    # Overdue: the team's three on ours (not the leaver's), and the head's own on ours,
    # on the leaver's and on their own incident (not on the accountability-track case).
    assert [tally.count for tally in shown["overdue"]] == [4, 1, 1]
    # Fallen due: the mixed one (late, nothing written) and closed_ours (written).
    assert shown["reviews"] == remediation.LateReviews(due=2, late=1)


def test_the_incidents_and_actions_counted_are_those_of_the_people_below_them(org):
    """The incidents the head's figures count are the learning ones involving someone
    active below them in the reporting line (with a department: someone of it), and the
    overdue actions those people own on them, and the head's own on any incident but an
    accountability-track case."""
    head, today = org["head"], timezone.localdate()
    viewer = remediation.Viewer.of(_fresh(head))
    below = ReportingLine.objects.filter(manager=head).values("person_id")
    team = User.objects.filter(is_active=True, pk__in=below)
    learning = Incident.objects.filter(track=Incident.Track.LEARNING)
    names = {incident.pk: name for name, incident in org["incidents"].items()}
    seen = set()
    for name, filters in _filters(org, today).items():
        involved = team
        if filters.department is not None:
            involved = team.filter(department_id__in=filters.department_ids)
        expected = learning.filter(people_involved__in=involved)
        if filters.platform:
            expected = expected.filter(platform=filters.platform)
        expected = set(expected.values_list("pk", flat=True))
        found = remediation.incidents(viewer, filters, period=False)
        assert set(found.values_list("pk", flat=True)) == expected, name
        seen |= {names[pk] for pk in expected}
        own = ActionItem.objects.filter(owner=head).exclude(
            incident__track=Incident.Track.ACCOUNTABILITY
        )
        if filters.department is not None:
            own = own.filter(incident__people_involved__in=involved)
        if filters.platform:
            own = own.filter(incident__platform=filters.platform)
        actions = ActionItem.objects.filter(incident__in=expected, owner__in=team) | own
        overdue = actions.filter(status=ActionItem.Status.OPEN, due_date__lt=today)
        listed = remediation.drilled_actions(
            viewer, filters, remediation.Drill(overdue="all"), today=today
        )
        assert set(listed.values_list("pk", flat=True)) == set(overdue.values_list("pk", flat=True))
        buckets = remediation.overdue_actions(viewer, filters, today=today)
        assert sum(tally.count for tally in buckets) == overdue.distinct().count(), name
    assert seen == {"ours", "mixed", "closed_ours", "classified"}
