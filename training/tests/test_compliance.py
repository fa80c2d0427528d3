"""Requirement compliance: who counts as having attended, who still has to, by department
and by manager, inviting them, and the compliance pages with their CSV export."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from people import audience
from people.models import Department
from training import compliance, compliance_lists, services
from training.models import Booking, Requirement, Session, Topic, TrainingError

pytestmark = pytest.mark.django_db

DENIED_ROLES = ["employee", "comms", "hr", "outsider", "site_admin"]


@pytest.fixture
def topic(db):
    return Topic.objects.create(name="Social media")


@pytest.fixture
def requirement(topic):
    requirement = Requirement.objects.create(
        name="Social media lunch briefing", every_months=12, new_joiners_within_days=30
    )
    requirement.accepted_topics.set([topic])
    return requirement


@pytest.fixture
def sales(db):
    return Department.objects.create(name="Sales")


@pytest.fixture
def support(db):
    return Department.objects.create(name="Support")


def held_session(topic, presenter, *, days_ago: int, status=Session.Status.COMPLETED):
    """A session that took place `days_ago` days ago (made directly: the past is fixed)."""
    start = timezone.now() - timedelta(days=days_ago)
    return Session.objects.create(
        title=f"{topic.name} briefing",
        topic=topic,
        presenter=presenter,
        organiser=presenter,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone="Europe/London",
        room="Room 1",
        capacity=50,
        status=status,
    )


def attend(session, person, status=Booking.Status.ATTENDED):
    return Booking.objects.create(
        session=session,
        person=person,
        status=status,
        booked_by=person,
        booked_at=session.starts_at - timedelta(days=3),
    )


def upcoming(policy_admin, topic, *, capacity=10, days=7):
    start = timezone.now() + timedelta(days=days)
    return services.create_session(
        by=policy_admin,
        title="Social media lunch briefing",
        topic=topic,
        presenter=policy_admin,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone="Europe/London",
        capacity=capacity,
        room="Room 2",
    )


def still(requirement):
    return compliance.still_required_ids(requirement)


# --- who is compliant -------------------------------------------------------------


def test_attending_within_the_period_makes_a_person_compliant(
    requirement, topic, employee, outsider, policy_admin
):
    attend(held_session(topic, policy_admin, days_ago=300), employee)
    assert employee.pk not in still(requirement)
    assert outsider.pk in still(requirement)
    assert employee.pk in compliance.compliant_ids(requirement)
    (status,) = compliance.status_for(employee)
    assert status.compliant and not status.overdue
    assert status.valid_until == (status.last_attended + compliance.period(requirement)).date()


def test_attending_too_long_ago_leaves_a_person_still_required(
    requirement, topic, employee, policy_admin
):
    session = held_session(topic, policy_admin, days_ago=400)
    attend(session, employee)
    assert employee.pk in still(requirement)
    (status,) = compliance.status_for(employee)
    assert not status.compliant and status.overdue
    assert status.last_attended == session.starts_at and status.due_by is None


def test_a_session_of_a_topic_not_accepted_does_not_count(requirement, employee, policy_admin):
    expenses = Topic.objects.create(name="Expenses")
    attend(held_session(expenses, policy_admin, days_ago=10), employee)
    assert employee.pk in still(requirement)
    requirement.accepted_topics.add(expenses)
    assert employee.pk not in still(requirement)


@pytest.mark.parametrize(
    ("status", "counts"),
    [
        (Booking.Status.ATTENDED, True),
        (Booking.Status.LATE, True),
        (Booking.Status.ABSENT, False),
        (Booking.Status.EXCUSED, False),
        (Booking.Status.BOOKED, False),
        (Booking.Status.CANCELLED, False),
    ],
)
def test_only_attending_counts_late_included(
    requirement, topic, employee, policy_admin, status, counts
):
    attend(held_session(topic, policy_admin, days_ago=10), employee, status)
    assert (employee.pk not in still(requirement)) is counts


def test_a_cancelled_session_never_counts(requirement, topic, employee, policy_admin):
    session = held_session(topic, policy_admin, days_ago=10, status=Session.Status.CANCELLED)
    attend(session, employee)
    assert employee.pk in still(requirement)
    assert compliance.last_attended(requirement) == {}


def test_a_new_joiner_is_due_by_their_start_date_plus_the_days_allowed(requirement, make_person):
    today = timezone.localdate()
    joiner = make_person(start_date=today - timedelta(days=10))
    late_joiner = make_person(start_date=today - timedelta(days=31))
    (status,) = compliance.status_for(joiner)
    assert not status.compliant and not status.overdue
    assert status.due_by == today + timedelta(days=20)
    (status,) = compliance.status_for(late_joiner)
    assert status.due_by is None and status.overdue  # past their 30 days: due now
    assert {joiner.pk, late_joiner.pk} <= still(requirement)
    (row,) = compliance.by_department(compliance.still_required(requirement), requirement)
    assert (row.still_required, row.not_yet_due, row.due_now) == (2, 1, 1)


def test_without_a_joiner_rule_everyone_is_due_now(requirement, make_person):
    requirement.new_joiners_within_days = None
    requirement.save()
    joiner = make_person(start_date=timezone.localdate())
    (status,) = compliance.status_for(joiner)
    assert status.due_by is None
    (row,) = compliance.by_manager(compliance.still_required(requirement), requirement)
    assert (row.still_required, row.not_yet_due) == (1, 0)


def test_an_audience_of_departments_includes_their_sub_departments(
    requirement, make_person, sales, support
):
    field_sales = Department.objects.create(name="Field sales", parent=sales)
    seller, field_seller = make_person(department=sales), make_person(department=field_sales)
    helper = make_person(department=support)
    requirement.audience = audience.DEPARTMENTS
    requirement.save()
    requirement.audience_departments.set([sales])
    assert still(requirement) == {seller.pk, field_seller.pk}
    assert compliance.status_for(helper) == []
    assert compliance.figures(requirement).audience == 2


def test_an_audience_of_groups_counts_each_person_once(requirement, make_person, topic):
    drivers, riders = Group.objects.create(name="Drivers"), Group.objects.create(name="Riders")
    both = make_person(group="Drivers")
    both.groups.add(riders)
    rider = make_person(group="Riders")
    make_person()  # in neither
    requirement.audience = audience.GROUPS
    requirement.save()
    requirement.audience_groups.set([drivers, riders])
    assert still(requirement) == {both.pk, rider.pk}
    figures = compliance.figures(requirement)
    assert (figures.audience, figures.compliant) == (2, 0)
    (row,) = compliance.by_department(compliance.still_required(requirement), requirement)
    assert row.still_required == 2


def test_people_who_left_are_not_required(requirement, make_person):
    leaver = make_person(is_active=False)
    assert leaver.pk not in still(requirement)


# --- by department and by manager -------------------------------------------------


@pytest.fixture
def company(make_person, sales, support, topic, policy_admin):
    """Two managers' teams across two departments; some have attended."""
    anna = make_person(full_name="Anna Lead", department=sales)
    ben = make_person(full_name="Ben Lead", department=support)
    recent = held_session(topic, policy_admin, days_ago=30)
    people = {
        "anna": anna,
        "ben": ben,
        "s1": make_person(full_name="Sam One", department=sales, manager=anna),
        "s2": make_person(full_name="Sue Two", department=sales, manager=anna),
        "s3": make_person(full_name="Sid Three", department=sales, manager=ben),
        "t1": make_person(full_name="Tia One", department=support, manager=ben),
        "t2": make_person(full_name="Tom Two", department=support, manager=ben),
        "x": make_person(full_name="Xena Nodept"),
    }
    for key in ("s2", "t1"):
        attend(recent, people[key])
    return people


def test_still_required_counts_by_department_and_by_manager_in_one_query_each(
    requirement, company, policy_admin, manager, employee, django_assert_num_queries
):
    # Besides the company: the policy admin, and Marcus Reid (manager) with Emily (employee).
    people = compliance.still_required(requirement)
    with django_assert_num_queries(1):
        departments = compliance.by_department(people, requirement)
    assert [(d.name, d.still_required) for d in departments] == [
        ("Sales", 3),  # Anna, Sam, Sid (Sue attended)
        ("Support", 2),  # Ben, Tom (Tia attended)
        ("No department", 4),  # Xena, the policy admin, Marcus, Emily
    ]
    with django_assert_num_queries(1):
        managers = compliance.by_manager(people, requirement)
    assert [(m.name, m.still_required) for m in managers] == [
        ("Anna Lead", 1),  # Sam
        ("Ben Lead", 2),  # Sid, Tom
        ("Marcus Reid", 1),  # Emily
        ("No manager", 5),  # Anna, Ben, Xena, the policy admin, Marcus
    ]
    assert managers[0].pk == company["anna"].pk and managers[-1].pk is None


def test_a_line_managers_view_holds_only_their_direct_reports(requirement, company):
    ben = company["ben"]
    people = compliance.still_required(requirement, reports_of=ben)
    assert set(people.values_list("pk", flat=True)) == {company["s3"].pk, company["t2"].pk}
    assert [(m.name, m.still_required) for m in compliance.by_manager(people, requirement)] == [
        ("Ben Lead", 2)
    ]
    figures = compliance.figures(requirement, reports_of=ben)
    assert (figures.audience, figures.compliant, figures.percent) == (3, 1, 33)


def test_the_breakdown_agrees_with_the_figures_and_both_tables(
    requirement, company, make_person, sales, django_assert_num_queries
):
    joiner = make_person(
        full_name="Nina New",
        department=sales,
        manager=company["anna"],
        start_date=timezone.localdate() - timedelta(days=5),
    )
    # Two managers of the same name are told apart (and ordered) by id.
    twin = make_person(full_name="Anna Lead", department=sales)
    make_person(full_name="Twin's report", manager=twin)
    today = timezone.localdate()
    for reports_of in (None, company["ben"]):
        people = compliance.still_required(requirement, reports_of=reports_of)
        with django_assert_num_queries(1):
            numbers = compliance_lists.breakdown(requirement, today=today, reports_of=reports_of)
        assert numbers.figures == compliance.figures(requirement, reports_of=reports_of)
        assert numbers.departments == compliance.by_department(people, requirement, today=today)
        assert numbers.managers == compliance.by_manager(people, requirement, today=today)
    numbers = compliance_lists.breakdown(requirement)
    anna_row = next(row for row in numbers.managers if row.pk == company["anna"].pk)
    assert (anna_row.still_required, anna_row.not_yet_due, anna_row.due_now) == (2, 1, 1)
    assert [row.pk for row in numbers.managers[:2]] == [company["anna"].pk, twin.pk]
    # The length of the people list, narrowed or not, without counting it again.
    people = compliance.still_required(requirement)
    for department, manager in [
        (None, None),
        (sales.pk, None),
        (None, company["ben"].pk),
        (sales.pk, company["ben"].pk),
        ("none", "none"),
        (None, "none"),
        (999999, None),
    ]:
        narrowed = people
        if department is not None:
            narrowed = narrowed.filter(
                **(
                    {"department__isnull": True}
                    if department == "none"
                    else {"department": department}
                )
            )
        if manager is not None:
            narrowed = narrowed.filter(
                **({"manager__isnull": True} if manager == "none" else {"manager": manager})
            )
        expected = narrowed.count()
        assert numbers.still_required_in(department=department, manager=manager) == expected
    assert joiner.pk in set(people.values_list("pk", flat=True))


def test_the_breakdown_of_a_requirement_nobody_has_to_meet(requirement, employee):
    requirement.audience = audience.DEPARTMENTS
    requirement.save()
    numbers = compliance_lists.breakdown(requirement)
    assert (numbers.figures.audience, numbers.figures.percent) == (0, None)
    assert numbers.departments == numbers.managers == []
    assert numbers.still_required_in() == 0


def test_the_breakdown_counts_a_member_of_two_chosen_groups_once(requirement, company):
    riders, drivers = Group.objects.create(name="Riders"), Group.objects.create(name="Drivers")
    company["s1"].groups.add(riders, drivers)
    company["t1"].groups.add(riders)  # attended
    company["x"].groups.add(drivers)
    requirement.audience = audience.GROUPS
    requirement.new_joiners_within_days = None
    requirement.save()
    requirement.audience_groups.set([riders, drivers])
    numbers = compliance_lists.breakdown(requirement)
    people = compliance.still_required(requirement)
    assert (numbers.figures.audience, numbers.figures.compliant) == (3, 1)
    assert numbers.departments == compliance.by_department(people, requirement)
    assert numbers.managers == compliance.by_manager(people, requirement)
    assert [(row.name, row.still_required, row.due_now) for row in numbers.managers] == [
        ("Anna Lead", 1, 1),  # Sam
        ("No manager", 1, 1),  # Xena
    ]
    assert numbers.still_required_in() == 2


def test_the_breakdown_counts_in_whole_numbers(requirement, company):
    numbers = compliance_lists.breakdown(requirement)
    counts = [numbers.figures.audience, numbers.figures.compliant, *numbers.pairs.values()]
    for row in numbers.departments + numbers.managers:
        counts += [row.still_required, row.not_yet_due]
    assert {type(count) for count in counts} == {int}


def test_a_page_of_the_people_list_is_the_same_rows_as_slicing_the_details(
    requirement, company, make_person
):
    for _ in range(7):
        make_person(full_name="Same Name")  # ties broken by email, then id
    people = compliance.still_required(requirement)
    everyone = list(compliance.with_details(people, requirement))
    listing = compliance_lists.Listing(people, requirement, count=len(everyone))
    for start, stop in [(0, 5), (5, 10), (10, 50)]:
        page = list(listing[start:stop])
        assert [p.pk for p in page] == [p.pk for p in everyone[start:stop]]
        assert [(p.last_attended, p.booked_for, p.department, p.manager) for p in page] == [
            (p.last_attended, p.booked_for, p.department, p.manager) for p in everyone[start:stop]
        ]


def test_active_requirements_read_topics_departments_and_groups_in_one_query(
    requirement, topic, sales, support, django_assert_num_queries
):
    by_groups = Requirement.objects.create(name="Drivers", audience=audience.GROUPS)
    by_groups.accepted_topics.set([topic, Topic.objects.create(name="Defensive driving")])
    by_groups.audience_groups.set(
        [Group.objects.create(name="Riders"), Group.objects.create(name="Drivers")]
    )
    by_departments = Requirement.objects.create(name="Sellers", audience=audience.DEPARTMENTS)
    by_departments.accepted_topics.set([topic])
    by_departments.audience_departments.set([support, sales])
    Requirement.objects.create(name="Retired", active=False)
    with django_assert_num_queries(2):
        requirements = compliance.active_requirements()
        related = [
            (
                r.name,
                [t.name for t in r.accepted_topics.all()],
                [(d.name, d.parent_id) for d in r.audience_departments.all()],
                [g.name for g in r.audience_groups.all()],
            )
            for r in requirements
        ]
    assert related == [
        ("Drivers", ["Defensive driving", "Social media"], [], ["Drivers", "Riders"]),
        ("Sellers", ["Social media"], [("Sales", None), ("Support", None)], []),
        ("Social media lunch briefing", ["Social media"], [], []),
    ]
    fresh = Requirement.objects.prefetch_related("accepted_topics").get(pk=by_groups.pk)
    assert requirements[0].accepted_topics.all()[0] == fresh.accepted_topics.all()[0]
    assert requirements[0].accepted_topics.all()[0].description == ""
    # The topics still work as a subquery, as the unprefetched relation would.
    assert set(Topic.objects.filter(pk__in=requirements[0].accepted_topics.all())) == set(
        fresh.accepted_topics.all()
    )


def test_all_requirements_figures_are_one_query_however_many_requirements(
    requirement, company, topic, sales, django_assert_num_queries
):
    for number in range(3):
        other = Requirement.objects.create(name=f"Sales {number}", audience=audience.DEPARTMENTS)
        other.accepted_topics.set([topic])
        other.audience_departments.set([sales])
    groups = Requirement.objects.create(name="Groups", audience=audience.GROUPS)
    groups.accepted_topics.set([topic])
    groups.audience_groups.set([Group.objects.create(name="Nobody's group")])
    # The requirements and what they refer to (2), the department tree (once for each
    # requirement of departments), and the figures of all of them (1).
    with django_assert_num_queries(2 + 3 + 1):
        rows = compliance.requirements_with_figures()
    assert rows == [compliance.figures(row.requirement) for row in rows]
    assert [(row.requirement.name, row.audience, row.compliant) for row in rows] == [
        ("Groups", 0, 0),
        ("Sales 0", 4, 1),  # Anna, Sam, Sue (attended), Sid
        ("Sales 1", 4, 1),
        ("Sales 2", 4, 1),
        ("Social media lunch briefing", 9, 2),
    ]
    ben = company["ben"]
    assert [
        (r.audience, r.compliant) for r in compliance.requirements_with_figures(reports_of=ben)
    ] == [
        (0, 0),
        (1, 0),
        (1, 0),
        (1, 0),
        (3, 1),
    ]


def test_all_requirements_figures_include_a_requirement_nobody_has_to_meet(
    requirement, company, topic
):
    nobody = Requirement.objects.create(name="Nobody yet", audience=audience.DEPARTMENTS)
    nobody.accepted_topics.set([topic])
    rows = compliance.requirements_with_figures()
    assert [(r.requirement.name, r.audience, r.compliant, r.percent) for r in rows] == [
        ("Nobody yet", 0, 0, None),
        ("Social media lunch briefing", 9, 2, 22),
    ]
    assert {type(count) for r in rows for count in (r.audience, r.compliant)} == {int}


# --- inviting everyone still required -----------------------------------------------


def invitations():
    return Notification.objects.filter(kind="training-invitation")


def test_inviting_plans_one_invitation_per_person_still_required_once_a_day(
    requirement, company, policy_admin, topic
):
    upcoming(policy_admin, topic)
    required = still(requirement)
    assert compliance.invite_still_required(requirement=requirement, by=policy_admin) == len(
        required
    )
    rows = invitations()
    assert set(rows.values_list("recipient_id", flat=True)) == required
    assert {row.subject for row in rows} == {requirement}
    today = timezone.localdate()
    assert set(rows.values_list("stage", flat=True)) == {f"invite-{today:%Y%m%d}"}
    # Again the same day: nobody is invited twice.
    assert compliance.invite_still_required(requirement=requirement, by=policy_admin) == 0
    assert invitations().count() == len(required)
    # The next day they may be invited again.
    tomorrow = timezone.now() + timedelta(days=1)
    assert compliance.invite_still_required(
        requirement=requirement, by=policy_admin, now=tomorrow
    ) == len(required)


def test_people_already_booked_or_compliant_are_not_invited(
    requirement, company, policy_admin, topic
):
    session = upcoming(policy_admin, topic)
    services.book(session=session, person=company["s1"])
    compliance.invite_still_required(requirement=requirement, by=policy_admin)
    invited = set(invitations().values_list("recipient_id", flat=True))
    assert company["s1"].pk not in invited  # booked on the next session
    assert company["s2"].pk not in invited  # attended a month ago
    assert company["s3"].pk in invited


@pytest.mark.parametrize("role", ["employee", "manager", "leader", "comms", "hr", "site_admin"])
def test_only_policy_admins_invite(request, requirement, role, policy_admin, topic):
    upcoming(policy_admin, topic)
    with pytest.raises(TrainingError, match="Only policy admins"):
        compliance.invite_still_required(requirement=requirement, by=request.getfixturevalue(role))
    assert not invitations().exists()


def test_no_invitations_without_a_session_with_free_seats(
    requirement, policy_admin, topic, make_person
):
    full = upcoming(policy_admin, topic, capacity=1)
    services.book(session=full, person=make_person())
    Topic.objects.create(name="Other")
    with pytest.raises(TrainingError, match="No upcoming session of an accepted topic has a free"):
        compliance.invite_still_required(requirement=requirement, by=policy_admin)
    assert not invitations().exists()


def test_no_invitations_to_an_inactive_requirement(requirement, policy_admin, topic):
    upcoming(policy_admin, topic)
    requirement.active = False
    requirement.save()
    with pytest.raises(TrainingError, match="not active"):
        compliance.invite_still_required(requirement=requirement, by=policy_admin)


# --- the pages ----------------------------------------------------------------------


def page_urls(requirement):
    return [
        ("GET", reverse("training:compliance")),
        ("GET", reverse("training:compliance_requirement", args=[requirement.pk])),
        ("GET", reverse("training:compliance_csv", args=[requirement.pk])),
        ("POST", reverse("training:compliance_invite", args=[requirement.pk])),
    ]


def test_the_urls_are_where_the_product_says():
    assert reverse("training:compliance") == "/training/compliance/"
    assert reverse("training:compliance_requirement", args=[3]) == "/training/compliance/3/"
    assert reverse("training:compliance_csv", args=[3]) == "/training/compliance/3/export.csv"


@pytest.mark.parametrize("role", DENIED_ROLES)
def test_people_without_a_compliance_role_are_refused(
    client, request, requirement, role, policy_admin, topic
):
    upcoming(policy_admin, topic)
    client.force_login(request.getfixturevalue(role))
    for method, url in page_urls(requirement):
        response = client.get(url) if method == "GET" else client.post(url)
        assert response.status_code == 403, url
    assert not invitations().exists()


def test_anonymous_visitors_are_sent_to_log_in(client, requirement):
    for method, url in page_urls(requirement):
        response = client.get(url) if method == "GET" else client.post(url)
        assert response.status_code == 302 and reverse("login") in response.url


@pytest.mark.parametrize("role", ["leader", "manager"])
def test_leadership_and_line_managers_see_but_do_not_invite(
    client, request, requirement, role, employee, policy_admin, topic
):
    upcoming(policy_admin, topic)
    client.force_login(request.getfixturevalue(role))
    for _, url in page_urls(requirement)[:3]:
        assert client.get(url).status_code == 200
    page = client.get(page_urls(requirement)[1][1]).content.decode()
    assert "Invite everyone still required" not in page
    assert client.post(page_urls(requirement)[3][1]).status_code == 403
    assert not invitations().exists()


def test_the_index_lists_requirements_with_percent_compliant(
    client, policy_admin, requirement, company
):
    Requirement.objects.create(name="Retired requirement", active=False)
    client.force_login(policy_admin)
    response = client.get(reverse("training:compliance"))
    page = response.content.decode()
    (row,) = response.context["rows"]
    # 9 people (the company and the policy admin): Sue and Tia attended.
    assert (row.audience, row.compliant, row.percent) == (9, 2, 22)
    assert "Social media lunch briefing" in page and "22%" in page
    assert "Retired requirement" not in page


def test_the_requirement_page_shows_the_tables_and_the_people(
    client, policy_admin, requirement, company, topic, make_person
):
    joiner = make_person(full_name="Nina New", start_date=timezone.localdate() - timedelta(days=5))
    old = held_session(topic, policy_admin, days_ago=500)
    attend(old, company["t2"])
    session = upcoming(policy_admin, topic)
    services.book(session=session, person=company["s1"])
    client.force_login(policy_admin)
    response = client.get(reverse("training:compliance_requirement", args=[requirement.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "By department" in page and "By manager" in page
    # Anna, Ben, Sam, Sid, Tom (attended too long ago), Xena, the policy admin, Nina.
    assert "Who still has to attend (8)" in page
    rows = {person.full_name: person for person in response.context["page"].object_list}
    assert "Sue Two" not in rows and "Tia One" not in rows
    assert rows["Tom Two"].last_attended == old.starts_at
    assert rows["Nina New"].due_by == joiner.start_date + timedelta(days=30)
    assert rows["Sam One"].booked_for == session.starts_at
    assert rows["Sid Three"].manager == company["ben"]
    assert "Invite everyone still required" in page
    assert "New joiners, not yet due" in page
    requirement.new_joiners_within_days = None
    requirement.save()
    page = client.get(reverse("training:compliance_requirement", args=[requirement.pk]))
    assert "New joiners, not yet due" not in page.content.decode()


def test_the_people_list_narrows_to_a_department_or_manager_from_the_tables(
    client, policy_admin, requirement, company, sales
):
    client.force_login(policy_admin)
    url = reverse("training:compliance_requirement", args=[requirement.pk])
    names = lambda response: {p.full_name for p in response.context["page"].object_list}  # noqa: E731
    assert f'href="?department={sales.pk}#people"' in client.get(url).content.decode()
    response = client.get(url, {"department": sales.pk})
    assert names(response) == {"Anna Lead", "Sam One", "Sid Three"}
    assert "Showing department: Sales" in response.content.decode()
    response = client.get(url, {"manager": company["ben"].pk})
    assert names(response) == {"Sid Three", "Tom Two"}
    response = client.get(url, {"department": "none", "manager": "none"})
    assert names(response) == {"Xena Nodept", "Priya Shah"}
    response = client.get(url, {"department": "nonsense"})
    assert len(names(response)) == 7


def test_the_managers_table_is_paged(client, policy_admin, requirement, make_person, monkeypatch):
    from training import compliance_views

    monkeypatch.setattr(compliance_views, "MANAGERS_PER_PAGE", 2)
    for number in range(5):
        boss = make_person(full_name=f"Boss {number}")
        make_person(full_name=f"Report {number}", manager=boss)
    client.force_login(policy_admin)
    url = reverse("training:compliance_requirement", args=[requirement.pk])
    first = client.get(url)
    managers = first.context["managers_page"]
    assert managers.paginator.count == len(first.context["managers"]) >= 5
    assert len(managers.object_list) == 2
    page = first.content.decode()
    assert "Managers pages" in page and "managers_page=2#managers-heading" in page
    later = client.get(url, {"managers_page": 3})
    names = [row.name for row in later.context["managers_page"].object_list]
    assert names and not set(names) & {row.name for row in managers.object_list}
    # Narrowing the people list to a manager on a later page keeps that page of the table.
    row = later.context["managers_page"].object_list[0]
    key = "none" if row.pk is None else row.pk
    assert f"?manager={key}&amp;managers_page=3#people" in later.content.decode()


def test_a_line_manager_sees_only_their_own_reports(client, requirement, company):
    client.force_login(company["ben"])
    response = client.get(reverse("training:compliance_requirement", args=[requirement.pk]))
    page = response.content.decode()
    assert {p.full_name for p in response.context["page"].object_list} == {"Sid Three", "Tom Two"}
    assert "Sam One" not in page and "Anna Lead" not in page and "Xena" not in page
    assert [(m.name, m.still_required) for m in response.context["managers"]] == [("Ben Lead", 2)]
    csv_rows = read_csv(client.get(reverse("training:compliance_csv", args=[requirement.pk])))
    assert {row[0] for row in csv_rows[1:]} == {"Sid Three", "Tom Two"}
    index = client.get(reverse("training:compliance"))
    (row,) = index.context["rows"]
    assert (row.audience, row.compliant) == (3, 1)


def read_csv(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_csv_lists_everyone_still_required_and_defuses_formulas(
    client, policy_admin, requirement, make_person, sales, topic
):
    boss = make_person(full_name="@Boss Person")
    make_person(
        full_name='=HYPERLINK("http://evil.example","click")',
        email="formula@example.com",
        employee_id="+42",
        department=Department.objects.create(name="-Minus dept"),
        manager=boss,
        start_date=date(2020, 1, 1),
    )
    make_person(full_name="Tab Person", employee_id="\t7", department=sales)
    attend(held_session(topic, policy_admin, days_ago=400), boss)
    client.force_login(policy_admin)
    response = client.get(reverse("training:compliance_csv", args=[requirement.pk]))
    assert "still-required" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == [
        "Name",
        "Email",
        "Employee ID",
        "Department",
        "Manager",
        "Last attended",
        "Due by",
        "Booked for",
    ]
    by_email = {row[1]: row for row in rows[1:]}
    assert by_email["formula@example.com"] == [
        '\'=HYPERLINK("http://evil.example","click")',
        "formula@example.com",
        "'+42",
        "'-Minus dept",
        "'@Boss Person",
        "",
        "now",
        "",
    ]
    assert {row[0] for row in rows[1:]} >= {"'@Boss Person", "Tab Person", "Priya Shah"}
    assert next(row for row in rows if row[0] == "Tab Person")[2] == "'\t7"
    boss_row = next(row for row in rows[1:] if row[0] == "'@Boss Person")
    assert boss_row[5] == f"{timezone.localdate(timezone.now() - timedelta(days=400)):%Y-%m-%d}"
    # Not a single cell starts like a formula.
    assert not any(
        cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row
    )


def test_inviting_from_the_page_says_how_many(client, policy_admin, requirement, company, topic):
    upcoming(policy_admin, topic)
    client.force_login(policy_admin)
    url = reverse("training:compliance_invite", args=[requirement.pk])
    response = client.post(url)
    assert response.status_code == 302
    assert response.url == reverse("training:compliance_requirement", args=[requirement.pk])
    expected = len(still(requirement))
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Invited {expected} people to book one of the next sessions with free seats."
    ]
    response = client.post(url)
    assert "Nobody new to invite" in str(list(get_messages(response.wsgi_request))[-1])
    assert invitations().count() == expected
    assert client.get(url).status_code == 405


def test_inviting_without_free_seats_says_so(client, policy_admin, requirement):
    client.force_login(policy_admin)
    response = client.post(reverse("training:compliance_invite", args=[requirement.pk]))
    (message,) = get_messages(response.wsgi_request)
    assert message.level_tag == "error" and "Schedule one first" in str(message)


def test_an_unknown_requirement_is_not_found(client, policy_admin):
    client.force_login(policy_admin)
    assert client.get(reverse("training:compliance_requirement", args=[999])).status_code == 404
    assert client.get(reverse("training:compliance_csv", args=[999])).status_code == 404


# --- query counts ---------------------------------------------------------------------


def grow(make_person, topic, presenter, departments, count, *, start=0):
    """More people across departments and managers; every third attended."""
    session = held_session(topic, presenter, days_ago=20)
    managers = [make_person(full_name=f"Manager {start + i}") for i in range(3)]
    for number in range(count):
        person = make_person(
            full_name=f"Grown {start + number:04d}",
            department=departments[number % len(departments)],
            manager=managers[number % len(managers)],
        )
        if number % 3 == 0:
            attend(session, person)


def test_the_pages_query_counts_do_not_grow_with_people(
    computed_pages,
    client,
    policy_admin,
    requirement,
    topic,
    sales,
    support,
    make_person,
    django_assert_max_num_queries,
):
    other = Requirement.objects.create(name="Sales only", audience=audience.DEPARTMENTS)
    other.accepted_topics.set([topic])
    other.audience_departments.set([sales])
    grow(make_person, topic, policy_admin, [sales, support], 6)
    client.force_login(policy_admin)
    urls = [
        reverse("training:compliance"),
        reverse("training:compliance_requirement", args=[requirement.pk]),
        reverse("training:compliance_requirement", args=[other.pk]),
        reverse("training:compliance_csv", args=[requirement.pk]),
    ]

    def fetch(url):
        response = client.get(url)
        if isinstance(response, StreamingHttpResponse):
            b"".join(response.streaming_content)
        return response

    # Besides the 3 every page pays (session, user, roles): the requirements and what they
    # refer to (2), then the figures (1; the department tree for an audience of
    # departments, 1); or the requirement and what it refers to (2), its figures and
    # tables (1) and a page of people (1); the CSV: the requirement (2) and its rows (1).
    few = []
    for url, most in zip(urls, [7, 7, 8, 6], strict=True):
        with django_assert_max_num_queries(most) as captured:
            fetch(url)
        few.append(len(captured.captured_queries))
    grow(make_person, topic, policy_admin, [sales, support], 120, start=100)
    responses = []
    for url, count in zip(urls, few, strict=True):
        with django_assert_max_num_queries(count):
            responses.append(fetch(url))
    # 6 + 120 grown people (a third attended), 6 managers and the policy admin.
    assert responses[1].context["page"].paginator.count == 4 + 80 + 6 + 1
    assert "Page 1 of 2" in responses[1].content.decode()


@pytest.mark.django_db
def test_a_persons_status_costs_the_same_for_few_and_many_requirements(
    employee, django_assert_max_num_queries
):
    from training.compliance import status_for
    from training.models import Requirement, Topic

    def add(count, start):
        for number in range(start, start + count):
            requirement = Requirement.objects.create(name=f"Requirement {number}")
            requirement.accepted_topics.add(Topic.objects.create(name=f"Topic {number}"))

    add(2, 0)
    with django_assert_max_num_queries(20) as few:
        assert len(status_for(employee)) == 2
    add(12, 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(status_for(employee)) == 14
