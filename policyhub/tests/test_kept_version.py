"""Kept pages read the data version before the person (policyhub.kept.DataVersionMiddleware)
and ask a page's next moments once per data version."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from policies.tests.factories import published_policy
from policyhub import kept
from training.models import Requirement, Topic
from training.tests.factories import upcoming_session

pytestmark = pytest.mark.django_db

KEPT = [
    "dashboards:index",
    "dashboards:team",
    "dashboards:remediation",
    "dashboards:compliance",
    "training:compliance",
]
VIEWER = {"dashboards:team": "manager"}  # the others: the leader
NOT_KEPT = ["my_tasks", "incidents:list", "dashboards:remediation_incidents"]


@pytest.fixture(autouse=True)
def _nothing_kept():
    caches[kept.CACHE].clear()
    kept._MOMENTS.clear()


@pytest.fixture
def world(leader, policy_admin, manager, employee):
    published_policy(title="Social media policy", owner=policy_admin, approver=leader)
    topic = Topic.objects.create(name="Social media")
    requirement = Requirement.objects.create(name="Yearly briefing", every_months=12)
    requirement.accepted_topics.set([topic])
    upcoming_session(topic, policy_admin, days=3)


def _queries(client, address) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
    assert response.status_code == 200, response.status_code
    return [query["sql"] for query in captured.captured_queries]


def _is_version(sql: str) -> bool:
    return "policyhub_data_" in sql


def _reads_people(sql: str) -> bool:
    return sql.lstrip().startswith("SELECT") and 'FROM "people_user"' in sql


@pytest.mark.parametrize("page", KEPT)
def test_the_data_version_is_read_before_the_person_and_only_once(client, world, request, page):
    client.force_login(request.getfixturevalue(VIEWER.get(page, "leader")))
    queries = _queries(client, reverse(page))
    versions = [i for i, sql in enumerate(queries) if _is_version(sql)]
    people = [i for i, sql in enumerate(queries) if _reads_people(sql)]
    assert len(versions) == 1, queries
    assert people and versions[0] < people[0], queries


@pytest.mark.parametrize("page", KEPT)
def test_a_page_computed_to_be_kept_costs_one_query_more_than_computed_live(
    client, settings, world, request, page
):
    """The person and their roles are not read again: only the version is added (its
    next moments, asked already at this version by the first view, are not asked again)."""
    client.force_login(request.getfixturevalue(VIEWER.get(page, "leader")))
    address = reverse(page)
    _queries(client, f"{address}?first=1")  # another URL: asks the moments at this version
    settings.KEPT_PAGES = False
    live = _queries(client, address)
    settings.KEPT_PAGES = True
    computed = _queries(client, address)
    assert len(computed) == len(live) + 1, (computed, live)
    assert len(_queries(client, address)) <= 4  # and then served


@pytest.mark.parametrize("page", KEPT)
def test_the_middleware_knows_every_kept_page(page):
    assert resolve(reverse(page)).func.kept_page is True


@pytest.mark.parametrize("page", NOT_KEPT)
def test_other_pages_do_not_read_the_data_version(client, world, leader, page):
    client.force_login(leader)
    assert not any(_is_version(sql) for sql in _queries(client, reverse(page)))
    assert not hasattr(resolve(reverse(page)).func, "kept_page")


def test_nobody_signed_in_reads_no_data_version(client, world):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("dashboards:index"))
    assert response.status_code == 302
    assert not any(_is_version(q["sql"]) for q in captured.captured_queries)


def test_next_moments_are_asked_once_per_data_version_until_the_first_comes():
    asked = []
    soon = timezone.now() + timedelta(hours=1)

    def changes_at(now):
        asked.append(now)
        return soon

    now = timezone.now()
    token = kept.data_version()
    assert kept._next_moment(changes_at, token, now) == soon
    assert kept._next_moment(changes_at, token, now + timedelta(minutes=59)) == soon
    assert len(asked) == 1
    kept._next_moment(changes_at, token, soon)  # it has come: asked again
    kept._next_moment(changes_at, token, now - timedelta(minutes=1))  # before it was asked
    Topic.objects.create(name="Press")  # another version
    kept._next_moment(changes_at, kept.data_version(), now)
    assert len(asked) == 4


def test_no_next_moment_lasts_while_the_data_does():
    asked = []

    def changes_at(now):
        asked.append(now)

    token = kept.data_version()
    now = timezone.now()
    assert kept._next_moment(changes_at, token, now) is None
    assert kept._next_moment(changes_at, token, now + timedelta(days=30)) is None
    assert len(asked) == 1


def test_without_the_middleware_the_person_is_read_again_after_the_version(
    client, settings, world, leader
):
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "policyhub.kept.DataVersionMiddleware"
    ]
    client.force_login(leader)
    queries = _queries(client, reverse("dashboards:compliance"))
    version = next(i for i, sql in enumerate(queries) if _is_version(sql))
    assert any(_reads_people(sql) for sql in queries[version + 1 :]), queries
    assert len(_queries(client, reverse("dashboards:compliance"))) <= 4
