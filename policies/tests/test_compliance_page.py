"""The compliance page of a version at size: the overdue and outstanding lists page
through the right people (their pagers count from the figures), and the page costs the
same number of queries however many people there are."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from people import roles
from people.models import Department
from policies import queries, services
from policies.models import Assignment
from policies.tests.factories import published_policy

pytestmark = pytest.mark.django_db

PER_PAGE = 50


@pytest.fixture
def sales(db):
    return Department.objects.create(name="Sales")


@pytest.fixture
def version(policy_admin, make_person, sales):
    """Everyone in Sales is asked to acknowledge; nobody has yet."""
    approver = make_person(group=roles.POLICY_ADMIN)
    _, version = published_policy(
        title="Social media",
        owner=policy_admin,
        approver=approver,
        audience="departments",
        departments=[sales],
    )
    return version


def add_people(version, make_person, sales, *, overdue: int, not_yet_due: int):
    """New people in Sales, the first `overdue` of them past their due date (a day
    further each, so the lists' order is known), the rest due in a week."""
    today = timezone.localdate()
    late = [
        make_person(full_name=f"Late {number:03}", department=sales) for number in range(overdue)
    ]
    on_time = [
        make_person(full_name=f"Due {number:03}", department=sales) for number in range(not_yet_due)
    ]
    services.reconcile_assignments(policies=[version.policy])
    line = Assignment.objects.filter(version=version)
    for days, person in enumerate(late, start=1):
        line.filter(person=person).update(due_date=today - timedelta(days=overdue + 1 - days))
    line.filter(person__in=on_time).update(due_date=today + timedelta(days=7))
    return late, on_time


def names(rows) -> list[str]:
    return [assignment.person.full_name for assignment in rows]


def test_the_overdue_and_outstanding_pages_hold_the_right_people(
    client, policy_admin, make_person, sales, version
):
    late, on_time = add_people(version, make_person, sales, overdue=60, not_yet_due=45)
    everyone = [person.full_name for person in late + on_time]
    url = reverse("policies:manage_compliance", args=[version.pk])
    client.force_login(policy_admin)

    for outstanding_page, overdue_page in [(1, 1), (2, 2), (1, 2), (2, 1), (3, 2), (9, 9)]:
        response = client.get(
            url, {"outstanding_page": outstanding_page, "overdue_page": overdue_page}
        )
        context = response.context
        shown_outstanding = min(outstanding_page, 3)
        shown_overdue = min(overdue_page, 2)
        start = (shown_outstanding - 1) * PER_PAGE
        assert names(context["outstanding_rows"]) == everyone[start : start + PER_PAGE]
        start = (shown_overdue - 1) * PER_PAGE
        assert names(context["overdue_rows"]) == everyone[:60][start : start + PER_PAGE]
        assert context["outstanding"].paginator.count == 105
        assert context["overdue"].paginator.count == 60
        assert (context["outstanding"].number, context["overdue"].number) == (
            shown_outstanding,
            shown_overdue,
        )
        page = response.content.decode()
        overdue = page.split('id="overdue-heading"')[1].split('id="outstanding-heading"')[0]
        outstanding = page.split('id="outstanding-heading"')[1].split('id="declines-heading"')[0]
        assert "Overdue (60)" in overdue and f"Page {shown_overdue} of 2" in overdue
        assert "Outstanding (105)" in outstanding
        assert f"Page {shown_outstanding} of 3" in outstanding
        for name in names(context["overdue_rows"]):
            assert f">{name}</th>" in overdue
        for name in names(context["outstanding_rows"]):
            assert f">{name}</th>" in outstanding
        assert "Due 000" not in overdue


def test_the_pagers_count_what_the_figures_count(client, policy_admin, make_person, sales, version):
    late, on_time = add_people(version, make_person, sales, overdue=3, not_yet_due=4)
    services.acknowledge(version=version, user=on_time[0], full_name=on_time[0].full_name)
    services.decline(version=version, user=late[0], reason="Not for me")
    today = timezone.localdate()
    client.force_login(policy_admin)
    response = client.get(reverse("policies:manage_compliance", args=[version.pk]))
    figures = response.context["figures"].overall
    assert (figures.total, figures.acknowledged, figures.declined) == (7, 1, 1)
    assert response.context["outstanding"].paginator.count == figures.outstanding == 5
    assert response.context["overdue"].paginator.count == figures.overdue == 2
    # The same as counting the lists themselves.
    assert queries.outstanding_assignments(version).count() == 5
    assert queries.overdue_assignments(version, today=today).count() == 2
    page = response.content.decode()
    assert "Overdue (2)" in page and "Outstanding (5)" in page and "Declined (1)" in page


def test_nobody_outstanding_shows_both_empty_lists(
    client, policy_admin, make_person, sales, version
):
    _, on_time = add_people(version, make_person, sales, overdue=0, not_yet_due=2)
    for person in on_time:
        services.acknowledge(version=version, user=person, full_name=person.full_name)
    client.force_login(policy_admin)
    page = client.get(reverse("policies:manage_compliance", args=[version.pk])).content.decode()
    assert "Nobody is overdue." in page and "Nobody has this version outstanding." in page
    assert "100%" in page


def test_a_retired_version_lists_people_without_acting_for_them(
    client, policy_admin, make_person, sales, version
):
    add_people(version, make_person, sales, overdue=2, not_yet_due=1)
    client.force_login(policy_admin)
    url = reverse("policies:manage_compliance", args=[version.pk])
    assert '<span class="visually-hidden"> of Late 000</span>' in client.get(url).content.decode()
    version.status = version.Status.RETIRED
    version.save(update_fields=["status"])
    page = client.get(url).content.decode()
    assert "Late 000" in page and "Acknowledge on behalf" not in page and " of Late 000" not in page


# The queries every signed-in page pays (session, the user with their roles and whether
# they have reports) and the page's own six: the version, the figures, the briefings, one
# page of the outstanding (the overdue are on it), the declines' count and page.
PAGE_QUERIES = 9


def test_the_page_costs_the_same_for_few_and_many_people(
    computed_pages, client, policy_admin, make_person, sales, version, django_assert_max_num_queries
):
    late, _ = add_people(version, make_person, sales, overdue=3, not_yet_due=2)
    services.decline(version=version, user=late[0], reason="No")
    client.force_login(policy_admin)
    url = reverse("policies:manage_compliance", args=[version.pk])
    with django_assert_max_num_queries(PAGE_QUERIES):
        client.get(url)
    late, _ = add_people(version, make_person, sales, overdue=70, not_yet_due=40)
    for person in late[:55]:
        services.decline(version=version, user=person, reason="No")
    with django_assert_max_num_queries(PAGE_QUERIES):
        response = client.get(url)
    assert response.context["overdue"].paginator.count == 17
    page = response.content.decode()
    assert "Page 1 of 2" in page.split('id="declines-heading"')[1]
    # A later page of the outstanding than of the overdue reads each list on its own.
    with django_assert_max_num_queries(PAGE_QUERIES + 1):
        response = client.get(url, {"outstanding_page": 2})
    assert response.context["outstanding"].number == 2
    assert len(response.context["overdue_rows"]) == 17
