"""The compliance dashboard's kept months (dashboards/summaries.py): the trend a viewer
sees, whose finished months come from MonthFigure, equals the trend counted live from
scratch after every kind of change; changes that leave the past alone keep the kept
months, changes that alter it make them be counted again."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from dashboards import compliance, compliance_trend
from dashboards.models import MonthFigure
from incidents import services as incident_services
from incidents.models import Incident
from incidents.tests.factories import reported
from people import services as people_services
from people.models import Department, ReportingLine
from policies import services as policy_services
from policies.models import Assignment, Policy, PolicyVersion
from policies.tests.factories import BODY_2, publish_version, published_policy
from training import services as training_services
from training.models import Booking, Requirement, Topic
from training.tests.factories import held_session

# The tests read the figures the view computed (its context): never a kept page.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("computed_pages")]

PAGE = reverse("dashboards:compliance")
TREND_CSV = reverse("dashboards:compliance_csv", args=["trend"])


def page_trend(client, **params) -> list[tuple[int, int, int, int]]:
    """(acknowledged, assigned, compliant, in audience) per month, as the viewer's
    dashboard shows them (finished months from what is kept)."""
    response = client.get(PAGE, params)
    assert response.status_code == 200
    return [
        (point.acknowledged, point.assigned, point.compliant, point.audience)
        for point in response.context["trend"]
    ]


def csv_trend(client, **params) -> list[tuple[int, int, int, int]]:
    """The same figures from the trend's export (which counts this month on its own)."""
    response = client.get(TREND_CSV, params)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    return [(int(r[3]), int(r[4]), int(r[6]), int(r[7])) for r in rows]


def live_trend(viewer=None, filters=None) -> list[tuple[int, int, int, int]]:
    """The same figures counted from scratch, nothing kept, for the people `viewer`
    sees (`viewer.scope`; everyone by default)."""
    filters = filters or compliance.Filters()
    now = timezone.now()
    months = compliance.last_months(now)
    scope = viewer.scope() if hasattr(viewer, "scope") else compliance.Scope(everyone=True)
    lines = compliance.version_lines()
    acknowledgements = compliance_trend.acknowledgement_trend(
        scope=scope, filters=filters, lines=lines, months=months
    )
    training = compliance_trend.training_coverage(
        scope=scope, filters=filters, names={}, months=months, now=now
    )
    return [
        (acknowledged, assigned, compliant, audience)
        for (acknowledged, assigned), (compliant, audience) in zip(
            acknowledgements, training.by_month, strict=True
        )
    ]


def kept_months() -> int:
    """Everyone's kept months (both kinds), not the leavers' (`leavers_kept`)."""
    return (
        MonthFigure.objects.filter(subject_id=MonthFigure.MARK)
        .exclude(kind=MonthFigure.Kind.LEAVERS)
        .count()
    )


def leavers_kept() -> int:
    """The months whose acknowledgements of the people who have left are kept."""
    return MonthFigure.objects.filter(
        subject_id=MonthFigure.MARK, kind=MonthFigure.Kind.LEAVERS
    ).count()


def department_filter(department) -> compliance.Filters:
    return compliance.Filters(department=department, department_ids=frozenset({department.pk}))


@pytest.fixture
def history(make_person, policy_admin, leader):
    """Two departments of three people. A policy published in month 6 of 12 (everyone
    assigned then); two acknowledged in month 8, one left in month 9. A yearly briefing
    held in month 7 that four attended, one in month 10 with one booked and not yet
    marked."""
    now = timezone.now()
    months = compliance.last_months(now)
    sales, support = (
        Department.objects.create(name="Sales"),
        Department.objects.create(name="Support"),
    )
    people = [make_person(department=(sales, support)[n % 2]) for n in range(6)]
    policy, version = published_policy(
        title="Social media",
        owner=policy_admin,
        approver=leader,
        audience=Policy.Audience.DEPARTMENTS,
        departments=[sales, support],
    )
    published = months[6].at - timedelta(days=10)
    PolicyVersion.objects.filter(pk=version.pk).update(published_at=published)
    Assignment.objects.filter(version=version).update(assigned_at=published)
    in_month_8 = months[8].at - timedelta(days=10)
    Assignment.objects.filter(version=version, person__in=people[:2]).update(
        status=Assignment.Status.ACKNOWLEDGED, completed_at=in_month_8
    )
    Assignment.objects.filter(version=version, person=people[5]).update(
        status=Assignment.Status.CLOSED, completed_at=months[9].at - timedelta(days=10)
    )
    topic = Topic.objects.create(name="Social media")
    requirement = Requirement.objects.create(name="Yearly briefing", every_months=12)
    requirement.accepted_topics.set([topic])
    month_7 = held_session(topic, policy_admin, starts_at=months[7].at - timedelta(days=5))
    for person in people[:4]:
        Booking.objects.create(
            session=month_7,
            person=person,
            status=Booking.Status.ATTENDED,
            booked_by=person,
            booked_at=month_7.starts_at - timedelta(days=3),
        )
    month_10 = held_session(topic, policy_admin, starts_at=months[10].at - timedelta(days=5))
    unmarked = Booking.objects.create(
        session=month_10,
        person=people[4],
        status=Booking.Status.BOOKED,
        booked_by=people[4],
        booked_at=month_10.starts_at - timedelta(days=3),
    )
    return {
        "people": people,
        "policy": policy,
        "version": version,
        "sales": sales,
        "support": support,
        "topic": topic,
        "unmarked": unmarked,
        "month_10": month_10,
        "requirement": requirement,
    }


@pytest.fixture(params=["everyone", "head of everyone"])
def viewer(request, client, policy_admin, history):
    """A policy admin, who sees everyone; or the head of the whole line, a line manager
    whose team is every other active person: their trend is everyone's kept months less
    those of the few people outside the team, themself among them (they acknowledge and
    attend too). `viewer.scope()`: whom the live count counts, the head's team read
    from the reporting line, not the way the page reads it."""
    if request.param == "everyone":
        client.force_login(policy_admin)
        client.scope = lambda: compliance.Scope(everyone=True)
        client.head = None
        return client
    head = history["people"][3]  # in Support, assigned, attended in month 7
    User = type(head)
    User.objects.exclude(pk=head.pk).filter(manager__isnull=True).update(manager=head)
    head = User.objects.get(pk=head.pk)
    assert compliance.scope_for(head).head == head  # the page takes the kept path
    client.force_login(head)

    def team():
        below = ReportingLine.objects.filter(manager_id=head.pk).values("person_id")
        ids = User.objects.filter(is_active=True, pk__in=below).values_list("pk", flat=True)
        return compliance.Scope(everyone=False, person_ids=tuple(ids))

    client.scope = team
    client.head = head
    return client


def test_the_finished_months_are_kept_and_equal_the_live_count(viewer, history):
    assert kept_months() == leavers_kept() == 0
    first = page_trend(viewer)
    assert kept_months() == 2 * 11  # both kinds, every finished month
    # The head's team is everyone's less the people who have left (kept as well) and
    # the head; everyone's needs no leavers'.
    assert leavers_kept() == (11 if viewer.head else 0)
    assert first == live_trend(viewer) == csv_trend(viewer)
    # The head of everyone is not in their own team: their assignment and attendance
    # are taken away from everyone's.
    less = 1 if viewer.head else 0
    assert first[6][:2] == (0, 6 - less) and first[8][:2] == (2, 6 - less)
    assert first[9][:2] == (2, 5 - less)
    assert first[7][2] == 4 - less and first[10][2] == 4 - less
    # Read again: nothing is counted again, and the figures are the same.
    assert page_trend(viewer) == first
    assert kept_months() == 2 * 11 and leavers_kept() == (11 if viewer.head else 0)
    # Filtered by department and by policy, the kept rows add up to the live count.
    sales = history["sales"]
    assert page_trend(viewer, department=sales.pk) == live_trend(viewer, department_filter(sales))
    by_policy = compliance.Filters(policy=history["policy"])
    assert page_trend(viewer, policy=history["policy"].pk) == live_trend(viewer, by_policy)


def test_the_months_the_worker_keeps_are_all_a_view_reads(viewer, history):
    """Everyone's months and the leavers' (the head of everyone's team needs them), as
    the worker keeps them after a change: the view counts nothing and equals the live
    count, filtered too."""
    from dashboards import refill

    assert refill.fill() == 3 * 11
    assert kept_months() == 2 * 11 and leavers_kept() == 11
    kept = list(MonthFigure.objects.values_list("pk", flat=True).order_by("pk"))
    assert page_trend(viewer) == live_trend(viewer)
    sales = history["sales"]
    assert page_trend(viewer, department=sales.pk) == live_trend(viewer, department_filter(sales))
    assert list(MonthFigure.objects.values_list("pk", flat=True).order_by("pk")) == kept


def test_a_line_managers_team_is_always_counted_live(client, manager, make_person, history):
    make_person(manager=manager)
    client.force_login(manager)
    page_trend(client)
    assert kept_months() == 0


def test_acknowledging_keeps_the_finished_months(
    viewer, history, django_capture_on_commit_callbacks
):
    page_trend(viewer)
    before = live_trend(viewer)
    person = history["people"][2]
    with django_capture_on_commit_callbacks(execute=True):
        policy_services.acknowledge(
            version=history["version"], user=person, full_name=person.full_name
        )
    assert kept_months() == 22
    after = page_trend(viewer)
    assert after == live_trend(viewer)
    assert after[-1][0] == before[-1][0] + 1 and after[:-1] == before[:-1]


def test_a_new_version_keeps_the_finished_months(
    viewer, history, policy_admin, leader, django_capture_on_commit_callbacks
):
    page_trend(viewer)
    before = live_trend(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        publish_version(history["policy"], author=policy_admin, approver=leader, body=BODY_2)
    assert kept_months() == 22
    after = page_trend(viewer)
    assert after == live_trend(viewer)
    # This month: the new line, nobody yet.
    assert after[-1][:2] == (0, 5 if viewer.head else 6) != before[-1][:2]


def test_a_joiner_is_counted_again_everywhere(viewer, history, django_capture_on_commit_callbacks):
    page_trend(viewer)
    before = live_trend(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        people_services.create_person(
            values={
                "email": "new@example.com",
                "full_name": "New Joiner",
                "department": "Sales",
                "manager": history["people"][3],  # (for the head of everyone's team)
            }
        )
    after = page_trend(viewer)
    assert after == live_trend(viewer)
    # Training counts today's audience at every month end: one more everywhere.
    assert [row[3] for row in after] == [row[3] + 1 for row in before]


def test_a_leaver_is_counted_again_everywhere(viewer, history, django_capture_on_commit_callbacks):
    page_trend(viewer)
    before = live_trend(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        people_services.deactivate_person(person=history["people"][0])
    after = page_trend(viewer)
    assert after == live_trend(viewer)
    # They attended in month 7: no longer in today's audience, so not compliant then.
    assert after[7][2] == before[7][2] - 1
    # Their acknowledgement in month 8 stays in that month's figures for everyone; it
    # leaves the head of everyone's, with them (a team is today's active people).
    less = 1 if viewer.head else 0
    assert after[8][:2] == (before[8][0] - less, before[8][1] - less)


def test_a_change_to_a_leavers_past_acknowledgement_is_counted_again(
    viewer, history, django_capture_on_commit_callbacks
):
    """The leavers' kept months are acknowledgements: when the services say those
    changed, both everyone's and the leavers' are forgotten (the head of everyone's team
    takes the leavers' away from everyone's)."""
    from policyhub.history import ACKNOWLEDGEMENTS, changed_past

    leaver = history["people"][1]  # acknowledged in month 8
    with django_capture_on_commit_callbacks(execute=True):
        people_services.deactivate_person(person=leaver)
    before = page_trend(viewer)
    assert leavers_kept() == (11 if viewer.head else 0)
    months = compliance.last_months(timezone.now())
    in_month_7 = months[7].at - timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        # (as a correction would: they in fact acknowledged a month earlier)
        Assignment.objects.filter(person=leaver).update(completed_at=in_month_7)
        changed_past(kind=ACKNOWLEDGEMENTS, since=in_month_7)
    after = page_trend(viewer)
    assert after == live_trend(viewer)
    # One more acknowledged at the end of month 7 for everyone; not in the head's team.
    assert after[7][0] == before[7][0] + (0 if viewer.head else 1)


def test_a_move_to_another_department_is_counted_again(
    viewer, history, django_capture_on_commit_callbacks
):
    sales = history["sales"]
    page_trend(viewer, department=sales.pk)
    with django_capture_on_commit_callbacks(execute=True):
        people_services.update_person(person=history["people"][1], values={"department": "Sales"})
    assert page_trend(viewer, department=sales.pk) == live_trend(viewer, department_filter(sales))


def test_attendance_this_month_keeps_the_finished_months(
    viewer, history, policy_admin, django_capture_on_commit_callbacks
):
    page_trend(viewer)
    person = history["people"][5]
    session = held_session(history["topic"], policy_admin, starts_at=timezone.now())
    booking = Booking.objects.create(
        session=session,
        person=person,
        status=Booking.Status.BOOKED,
        booked_by=person,
        booked_at=timezone.now() - timedelta(days=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        training_services.mark_attendance(
            session=session, by=policy_admin, marks={booking.pk: Booking.Status.ATTENDED}
        )
    assert kept_months() == 22
    assert page_trend(viewer) == live_trend(viewer)


def test_attendance_marked_after_the_month_is_counted_again(
    viewer, history, policy_admin, django_capture_on_commit_callbacks
):
    before = page_trend(viewer)
    unmarked = history["unmarked"]
    with django_capture_on_commit_callbacks(execute=True):
        training_services.mark_attendance(
            session=history["month_10"],
            by=policy_admin,
            marks={unmarked.pk: Booking.Status.ATTENDED},
        )
    after = page_trend(viewer)
    assert after == live_trend(viewer)
    assert after[10][2] == before[10][2] + 1  # month 10's end: one more compliant
    assert after[9][2] == before[9][2]


def test_a_changed_requirement_is_counted_again(
    viewer, history, policy_admin, django_capture_on_commit_callbacks
):
    from training import requirement_services

    before = page_trend(viewer)
    requirement = history["requirement"]
    with django_capture_on_commit_callbacks(execute=True):
        requirement_services.save_requirement(
            requirement=requirement,
            by=policy_admin,
            name=requirement.name,
            audience=requirement.audience,
            accepted_topics=[history["topic"]],
            every_months=1,
            new_joiners_within_days=requirement.new_joiners_within_days,
        )
    after = page_trend(viewer)
    assert after == live_trend(viewer)
    assert after[8][2] == 0 != before[8][2]  # a monthly briefing: month 7's has run out


def test_a_returning_joiner_is_counted_again(viewer, history, django_capture_on_commit_callbacks):
    returning = history["people"][5]  # their assignment closed in month 9
    page_trend(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        people_services.deactivate_person(person=returning)
    page_trend(viewer)
    assert kept_months() == 22  # counted again after the leaver
    with django_capture_on_commit_callbacks(execute=True):
        people_services.update_person(person=returning, values={"active": True})
    assert page_trend(viewer) == live_trend(viewer)


def test_asking_again_for_an_old_acknowledgement_is_counted_again(
    viewer, history, django_capture_on_commit_callbacks
):
    """A yearly re-acknowledgement reopens old acknowledgements, which then count as
    assigned now: without a directory change, the services say the past changed."""
    # Nobody returns here (a returning joiner is reopened, and says so, too).
    Assignment.objects.filter(person=history["people"][5]).delete()
    before = page_trend(viewer)
    policy = history["policy"]
    policy.reacknowledge_months = 1
    policy.save(update_fields=["reacknowledge_months"])
    with django_capture_on_commit_callbacks(execute=True):
        counts = policy_services.reconcile_assignments()
    assert counts["reopened"] == 2
    after = page_trend(viewer)
    assert after == live_trend(viewer)
    assert after[8][0] == before[8][0] - 2


def test_an_incident_transition_keeps_the_finished_months(
    comms, viewer, history, django_capture_on_commit_callbacks
):
    # (comms first: set up before the viewer, it is in the head of everyone's team)
    page_trend(viewer)
    incident = reported(history["people"][0])
    with django_capture_on_commit_callbacks(execute=True):
        incident_services.transition(incident=incident, to=Incident.Status.TRIAGE, user=comms)
    assert kept_months() == 22
    assert page_trend(viewer) == live_trend(viewer)


def test_this_month_from_the_heatmap_equals_the_live_count(
    viewer, history, policy_admin, leader, django_capture_on_commit_callbacks
):
    """The page takes this month's acknowledgement figures from the heatmap's rows:
    the same as the trend's own count with a minor version in the line, a decline and
    an acknowledgement of each version."""
    people = history["people"]
    with django_capture_on_commit_callbacks(execute=True):
        minor = publish_version(
            history["policy"],
            author=policy_admin,
            approver=leader,
            body=BODY_2,
            change=PolicyVersion.Change.MINOR,
        )
        policy_services.acknowledge(version=minor, user=people[2], full_name=people[2].full_name)
        policy_services.decline(version=minor, user=people[3], reason="Not my job")
    trend = page_trend(viewer)
    assert trend == live_trend(viewer) == csv_trend(viewer)
    assert trend[-1][:2] != (0, 0)
    assert page_trend(viewer, policy=history["policy"].pk) == live_trend(
        viewer, compliance.Filters(policy=history["policy"])
    )


def test_seeding_the_demo_again_counts_the_kept_months_again(
    client, policy_admin, django_capture_on_commit_callbacks
):
    """The demo writes its history straight into months that are over."""
    call_command("seed_demo", stdout=io.StringIO())
    policy_admin.refresh_from_db()  # (the demo sets its accounts' passwords)
    client.force_login(policy_admin)
    page_trend(client)
    assert kept_months() == 22
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    assert kept_months() == 0
    policy_admin.refresh_from_db()
    client.force_login(policy_admin)
    assert page_trend(client) == live_trend()


def test_months_nobody_could_keep_are_shown_as_counted(viewer, history, monkeypatch):
    """If keeping fails (another view's write was refused, then failed), the page shows
    what it counted rather than nothing."""
    from dashboards import summaries

    monkeypatch.setattr(summaries, "keep", lambda *args, **kwargs: None)
    sales = history["sales"]
    assert page_trend(viewer) == live_trend(viewer)
    assert page_trend(viewer, department=sales.pk) == live_trend(viewer, department_filter(sales))
    assert page_trend(viewer, department="none") == live_trend(
        viewer, compliance.Filters(no_department=True)
    )
    assert kept_months() == 0


def admin_client(site_admin):
    from django.test import Client

    client = Client()
    client.force_login(site_admin)
    return client


def test_a_leaver_made_in_the_admin_is_counted_again(
    site_admin, viewer, history, django_capture_on_commit_callbacks
):
    """The admin saves people itself (not through the services): a change of who is
    active or where they belong is said all the same, and the kept months follow."""
    page_trend(viewer)
    person = history["people"][0]
    joined = timezone.localtime(person.date_joined)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client(site_admin).post(
            reverse("admin:people_user_change", args=[person.pk]),
            {
                "email": person.email,
                "full_name": person.full_name,
                "manager": person.manager_id or "",
                "department": person.department_id,
                "language": person.language,
                "date_joined_0": joined.strftime("%d/%m/%Y"),
                "date_joined_1": joined.strftime("%H:%M:%S"),
            },  # "is_active" left out: unticked
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert not person.is_active
    assert page_trend(viewer) == live_trend(viewer)
    sales = history["sales"]
    assert page_trend(viewer, department=sales.pk) == live_trend(viewer, department_filter(sales))


def test_a_department_deleted_in_the_admin_is_counted_again(
    site_admin, viewer, history, django_capture_on_commit_callbacks
):
    """Its people are left without a department: the kept rows by department follow."""
    page_trend(viewer, department="none")
    support = history["support"]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client(site_admin).post(
            reverse("admin:people_department_delete", args=[support.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Department.objects.filter(pk=support.pk).exists()
    nobody = compliance.Filters(no_department=True)
    after = page_trend(viewer, department="none")
    assert after == live_trend(viewer, nobody)
    assert any(row[1] for row in after)  # Support's people, counted without a department
    assert page_trend(viewer) == live_trend(viewer)
