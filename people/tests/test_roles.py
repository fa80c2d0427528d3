"""What every signed-in page reads about the person: their groups, whether they manage anyone and,
for a session that passed the second factor, whether its device still counts. One query for
all of it, read again on every request so that a change counts from the next page on."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import with_second_factor
from people import roles

pytestmark = pytest.mark.django_db

OTP_MIDDLEWARE = "people.two_factor.middleware.OTPMiddleware"


def floor(request):
    """A signed-in page with the base template and nothing else (as bench/floor.py)."""
    template = engines["django"].from_string(
        '{% extends "base.html" %}{% block content %}<h1>Floor</h1>{% endblock %}'
    )
    return HttpResponse(template.render({}, request))


urlpatterns = [path("floor/", floor), path("", include("policyhub.urls"))]


@pytest.fixture
def pages(settings):
    """This module's floor page (the settings use django-otp's middleware in its
    PolicyHub form)."""
    settings.ROOT_URLCONF = __name__
    assert OTP_MIDDLEWARE in settings.MIDDLEWARE


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def floor_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/floor/")
    assert response.status_code == 200, response.get("Location")
    return [query["sql"] for query in captured.captured_queries]


def test_groups_and_reports_are_read_in_one_query(make_person, django_assert_num_queries):
    boss = make_person(group=roles.COMMS)
    boss.groups.add(Group.objects.get_or_create(name=roles.LEADERSHIP)[0])
    make_person(manager=boss, is_active=False)
    ids = set(boss.groups.values_list("pk", flat=True))
    with django_assert_num_queries(1):
        assert roles.group_names(boss) == {roles.COMMS, roles.LEADERSHIP}
        assert not roles.is_line_manager(boss), "an inactive report does not count"
        assert roles.group_ids(boss) == ids
        assert roles.role_labels(boss) == ["Comms", "Leadership"]


def test_no_groups_and_a_report_make_a_line_manager_only(make_person, django_assert_num_queries):
    boss = make_person()
    make_person(manager=boss)
    with django_assert_num_queries(1):
        assert roles.group_names(boss) == frozenset() and roles.group_ids(boss) == frozenset()
        assert roles.is_line_manager(boss)
        assert roles.role_labels(boss) == ["Line manager"]


def test_heading_everyone_is_read_with_the_roles(make_person, django_assert_num_queries):
    """The one person without a manager heads everyone; with someone else at the top too
    (or a manager of their own) nobody does, whatever the groups."""
    boss = make_person(group=roles.COMMS)
    boss.groups.add(Group.objects.get_or_create(name=roles.LEADERSHIP)[0])
    report = make_person(manager=boss)
    with django_assert_num_queries(1):
        assert roles.heads_everyone(boss)
        assert roles.group_names(boss) == {roles.COMMS, roles.LEADERSHIP}
        assert roles.is_line_manager(boss)
    assert not roles.heads_everyone(report)
    # A leaver (or a system account) without a manager whom nobody reports to is in no
    # team: it changes nothing. With a report, or active, they are at the top too.
    gone = make_person(is_active=False)
    assert roles.heads_everyone(type(boss).objects.get(pk=boss.pk))
    left_behind = make_person(manager=gone)
    assert not roles.heads_everyone(type(boss).objects.get(pk=boss.pk))
    left_behind.delete()
    assert roles.heads_everyone(type(boss).objects.get(pk=boss.pk))
    loner = make_person()
    assert not roles.heads_everyone(type(boss).objects.get(pk=boss.pk))
    assert not roles.heads_everyone(loner)
    assert not roles.heads_everyone(AnonymousUser())


def test_a_floor_page_reads_the_person_in_three_queries(pages, make_person):
    boss = make_person(group=roles.COMMS)
    make_person(manager=boss)
    queries = floor_queries(signed_in(boss))
    assert len(queries) == 3, queries  # the session, the person, their roles
    assert "auth_group" in queries[2] and "manager_id" in queries[2]


def test_a_session_past_the_second_factor_checks_its_device_in_the_same_query(pages, hr):
    client = signed_in(hr)  # the fixture's app has just accepted a code
    assert DEVICE_ID_SESSION_KEY in client.session
    queries = floor_queries(client)
    assert len(queries) == 3, queries
    assert "otp_totp_totpdevice" in queries[2] and "auth_group" in queries[2]
    assert not any(query.startswith('SELECT "otp_totp_totpdevice"') for query in queries)


def test_a_device_reset_meanwhile_no_longer_counts(pages, hr):
    client = signed_in(hr)
    assert client.get("/floor/").status_code == 200
    TOTPDevice.objects.filter(user=hr).delete()
    response = client.get("/floor/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor:setup"))
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_an_unconfirmed_device_does_not_count(pages, hr):
    client = signed_in(hr)
    TOTPDevice.objects.filter(user=hr).update(confirmed=False)
    assert client.get("/floor/").url.startswith(reverse("two_factor:setup"))


def test_someone_elses_device_does_not_count(pages, hr, make_person):
    other = with_second_factor(make_person(), passed=True)
    client = signed_in(hr)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = other.otp_device.persistent_id
    session.save()
    assert client.get("/floor/").url.startswith(reverse("two_factor:verify"))
    assert DEVICE_ID_SESSION_KEY not in client.session


@pytest.mark.parametrize("named", ["nonsense", "auth.group/1", "otp_totp.totpdevice/x"])
def test_a_session_naming_no_device_is_not_verified(pages, hr, named):
    client = signed_in(hr)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = named
    session.save()
    assert client.get("/floor/").url.startswith(reverse("two_factor:verify"))
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_a_recovery_code_session_counts_through_its_own_device(pages, hr):
    device = StaticDevice.objects.create(user=hr, name="Recovery codes", confirmed=True)
    client = signed_in(hr)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    queries = floor_queries(client)
    assert len(queries) == 3 and "otp_static_staticdevice" in queries[2]


def test_the_verified_device_is_loaded_only_when_read(pages, hr, rf):
    from people.two_factor.middleware import OTPMiddleware

    client = signed_in(hr)
    request = rf.get("/floor/")
    request.session = client.session
    assert DEVICE_ID_SESSION_KEY in request.session
    request.user = hr.__class__.objects.get(pk=hr.pk)
    OTPMiddleware(lambda request: None)._install_lazy_accessors(request)
    with CaptureQueriesContext(connection) as captured:
        assert request.user.is_verified()
    assert len(captured.captured_queries) == 1
    assert request.user.otp_device.pk == hr.otp_device.pk


def test_a_role_given_or_taken_counts_from_the_next_page(pages, make_person):
    person = make_person()
    client = signed_in(person)
    dashboards = reverse("dashboards:index")
    assert f'href="{dashboards}"' not in client.get("/floor/").text
    person.groups.add(Group.objects.get_or_create(name=roles.LEADERSHIP)[0])
    assert f'href="{dashboards}"' in client.get("/floor/").text
    person.groups.clear()
    report = make_person(manager=person)
    assert f'href="{dashboards}"' in client.get("/floor/").text, "a line manager"
    report.is_active = False
    report.save()
    assert f'href="{dashboards}"' not in client.get("/floor/").text
