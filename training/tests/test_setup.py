"""The programme's set-up: policy admins add topics and add or change training
requirements through the services, which refuse bad input whole and keep a history."""

from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from people import roles
from people.models import Department
from training.models import Requirement, SetupChange, Topic
from training.requirement_services import SetupError, add_topic, save_requirement
from training.tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2031, 3, 10, 9, 30, tzinfo=ZoneInfo("Europe/London"))
NOT_ORGANISERS = ["employee", "manager", "comms", "hr", "leader", "site_admin"]


def yearly(by, *, name="Social media, yearly", **fields):
    fields.setdefault("accepted_topics", [factories.topic()])
    fields.setdefault("audience", "everyone")
    fields.setdefault("every_months", 12)
    return save_requirement(by=by, name=name, now=NOW, **fields)


def unchanged(requirement: Requirement) -> dict:
    """What a refused change must leave as it was."""
    requirement.refresh_from_db()
    return {
        "name": requirement.name,
        "audience": requirement.audience,
        "every_months": requirement.every_months,
        "joiners": requirement.new_joiners_within_days,
        "topics": list(requirement.accepted_topics.all()),
        "history": SetupChange.objects.count(),
    }


# --- topics: the service ----------------------------------------------------------


def test_adding_a_topic_records_who_and_when(policy_admin):
    topic = add_topic(
        by=policy_admin, name="  Social media basics ", description=" Posting. ", now=NOW
    )
    assert (topic.name, topic.description) == ("Social media basics", "Posting.")
    change = SetupChange.objects.get()
    assert (change.kind, change.topic, change.action) == ("topic", topic, "created")
    assert (change.by, change.at, change.before) == (policy_admin, NOW, {})
    assert change.after == {"name": "Social media basics", "description": "Posting."}


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Give the topic a name."),
        ("   ", "Give the topic a name."),
        ("SOCIAL MEDIA BASICS", "There is already a topic called “SOCIAL MEDIA BASICS”."),
        ("x" * 151, "A name has at most 150 characters."),
    ],
)
def test_a_topic_without_a_name_of_its_own_is_refused(policy_admin, name, message):
    add_topic(by=policy_admin, name="Social media basics")
    with pytest.raises(SetupError, match=message) as refused:
        add_topic(by=policy_admin, name=name)
    assert refused.value.field == "name"
    assert Topic.objects.count() == 1 and SetupChange.objects.count() == 1


@pytest.mark.parametrize("role", NOT_ORGANISERS)
def test_only_policy_admins_add_topics(request, role):
    with pytest.raises(SetupError, match="Only policy admins"):
        add_topic(by=request.getfixturevalue(role), name="Sneaky")
    assert not Topic.objects.exists() and not SetupChange.objects.exists()


# --- requirements: the service ------------------------------------------------------


def test_adding_a_requirement_records_its_fields(policy_admin):
    sales = Department.objects.create(name="Sales")
    requirement = yearly(
        policy_admin,
        audience="departments",
        audience_departments=[sales],
        new_joiners_within_days=30,
    )
    assert list(requirement.audience_departments.all()) == [sales]
    change = SetupChange.objects.get()
    assert (change.kind, change.requirement, change.action) == (
        "requirement",
        requirement,
        "created",
    )
    assert (change.by, change.at, change.name, change.before) == (
        policy_admin,
        NOW,
        "Social media, yearly",
        {},
    )
    assert change.after == {
        "name": "Social media, yearly",
        "audience": "departments",
        "departments": ["Sales"],
        "groups": [],
        "topics": ["Social media basics"],
        "every_months": 12,
        "new_joiners_within_days": 30,
        "active": True,
    }


def test_changing_a_requirement_records_before_and_after(policy_admin):
    requirement = yearly(policy_admin)
    topic = requirement.accepted_topics.get()
    save_requirement(
        by=policy_admin,
        requirement=requirement,
        name="Social media, every two years",
        audience="everyone",
        accepted_topics=[topic],
        every_months=24,
        active=False,
        now=NOW,
    )
    requirement.refresh_from_db()
    assert (requirement.name, requirement.every_months, requirement.active) == (
        "Social media, every two years",
        24,
        False,
    )
    change = SetupChange.objects.filter(action="changed").get()
    assert (change.before["every_months"], change.after["every_months"]) == (12, 24)
    assert (change.before["active"], change.after["active"]) == (True, False)
    assert change.name == "Social media, every two years"


def test_saving_a_requirement_unchanged_adds_no_history(policy_admin):
    requirement = yearly(policy_admin)
    yearly(policy_admin, requirement=requirement, accepted_topics=[factories.topic()])
    assert SetupChange.objects.count() == 1


BAD_REQUIREMENTS = [
    ({"name": " "}, "name", "Give the requirement a name."),
    ({"name": "ANOTHER REQUIREMENT"}, "name", "There is already a requirement called"),
    ({"audience": "nobody"}, "audience", "Choose who must attend."),
    ({"audience": "departments"}, "audience_departments", "at least one department"),
    ({"audience": "groups"}, "audience_groups", "Choose at least one group."),
    ({"accepted_topics": []}, "accepted_topics", "Choose at least one topic."),
    ({"every_months": 0}, "every_months", "Attend again after 1 to 120 months."),
    ({"every_months": 500}, "every_months", "Attend again after 1 to 120 months."),
    ({"every_months": "yearly"}, "every_months", "Attend again after 1 to 120 months."),
    ({"new_joiners_within_days": 0}, "new_joiners_within_days", "within 1 to 365 days"),
    ({"new_joiners_within_days": 400}, "new_joiners_within_days", "within 1 to 365 days"),
]


@pytest.mark.parametrize("bad, field, message", BAD_REQUIREMENTS)
def test_a_bad_requirement_change_is_refused_whole(policy_admin, bad, field, message):
    requirement = yearly(policy_admin)
    yearly(policy_admin, name="Another requirement")
    before = unchanged(requirement)
    with pytest.raises(SetupError, match=message) as refused:
        yearly(policy_admin, requirement=requirement, **{"every_months": 24, **bad})
    assert refused.value.field == field
    assert unchanged(requirement) == before


@pytest.mark.parametrize("bad, field, message", BAD_REQUIREMENTS[2:])
def test_a_bad_new_requirement_is_refused(policy_admin, bad, field, message):
    with pytest.raises(SetupError, match=message):
        yearly(policy_admin, name="New one", **bad)
    assert not Requirement.objects.exists() and not SetupChange.objects.exists()


def test_a_requirement_for_groups_keeps_the_chosen_groups(policy_admin):
    drivers = Group.objects.create(name="Drivers")
    requirement = yearly(policy_admin, audience="groups", audience_groups=[drivers])
    assert list(requirement.audience_groups.all()) == [drivers]
    assert SetupChange.objects.get().after["groups"] == ["Drivers"]


@pytest.mark.parametrize("role", NOT_ORGANISERS)
def test_only_policy_admins_change_requirements(request, policy_admin, role):
    requirement = yearly(policy_admin)
    before = unchanged(requirement)
    with pytest.raises(SetupError, match="Only policy admins"):
        yearly(request.getfixturevalue(role), requirement=requirement, every_months=24)
    with pytest.raises(SetupError, match="Only policy admins"):
        yearly(request.getfixturevalue(role), name="Sneaky")
    assert unchanged(requirement) == before and Requirement.objects.count() == 1


# --- the pages ----------------------------------------------------------------------


def _post(client, url_name, *args, **data):
    response = client.post(reverse(f"training:{url_name}", args=args), data, follow=True)
    return response.status_code, unescape(response.content.decode())


def _form(topic, **fields):
    return {"audience": "everyone", "accepted_topics": [topic.pk], "every_months": "12", **fields}


@pytest.mark.parametrize("role", NOT_ORGANISERS)
def test_roles_that_may_not_manage_cannot_save_requirements(client, request, policy_admin, role):
    requirement = yearly(policy_admin)
    topic = requirement.accepted_topics.get()
    before = unchanged(requirement)
    client.force_login(request.getfixturevalue(role))
    status, _html = _post(client, "manage_requirement_new", **_form(topic, name="Sneaky"))
    assert status == 403
    status, _html = _post(
        client, "manage_requirement_edit", requirement.pk, **_form(topic, name="Sneaky")
    )
    assert status == 403
    status, _html = _post(client, "manage_topics", name="Sneaky")
    assert status == 403
    assert unchanged(requirement) == before and Requirement.objects.count() == 1
    assert not Topic.objects.filter(name="Sneaky").exists()


def test_saving_on_the_page_records_the_organiser(client, policy_admin):
    client.force_login(policy_admin)
    status, html = _post(client, "manage_topics", name="Social media basics")
    assert status == 200 and "The topic “Social media basics” is added." in html
    topic = Topic.objects.get()
    status, html = _post(client, "manage_requirement_new", **_form(topic, name="Yearly"))
    assert "The requirement “Yearly” is saved." in html
    assert list(SetupChange.objects.order_by("id").values_list("kind", "action", "by")) == [
        ("topic", "created", policy_admin.pk),
        ("requirement", "created", policy_admin.pk),
    ]


def test_a_duplicate_topic_on_the_page_gets_the_message(client, policy_admin):
    add_topic(by=policy_admin, name="Social media basics")
    client.force_login(policy_admin)
    status, html = _post(client, "manage_topics", name="social media basics")
    assert status == 200
    assert "There is already a topic called “social media basics”." in html
    assert Topic.objects.count() == 1 and SetupChange.objects.count() == 1


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"name": "ANOTHER ONE"}, "There is already a requirement called “ANOTHER ONE”."),
        ({"every_months": "500"}, "Attend again after 1 to 120 months."),
        ({"new_joiners_within_days": "0"}, "New joiners attend within 1 to 365 days"),
        ({"audience": "groups"}, "Choose at least one group."),
    ],
)
def test_bad_input_on_the_requirement_page_gets_the_message(client, policy_admin, fields, message):
    requirement = yearly(policy_admin)
    yearly(policy_admin, name="Another one")
    topic = requirement.accepted_topics.get()
    before = unchanged(requirement)
    client.force_login(policy_admin)
    status, html = _post(
        client,
        "manage_requirement_edit",
        requirement.pk,
        **_form(topic, **{"name": "Yearly", **fields}),
    )
    assert status == 200 and message in html and "is saved" not in html
    assert unchanged(requirement) == before


# --- the history in the admin ---------------------------------------------------------


def _history_list(client):
    return client.get(reverse("admin:training_setupchange_changelist"))


def test_site_admins_read_the_set_up_history_and_cannot_change_it(client, site_admin, policy_admin):
    add_topic(by=policy_admin, name="Social media basics")
    change = SetupChange.objects.get()
    client.force_login(site_admin)
    assert "Social media basics" in _history_list(client).content.decode()
    url = reverse("admin:training_setupchange_change", args=[change.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(url, {"name": "Rewritten"}).status_code == 403
    delete = reverse("admin:training_setupchange_delete", args=[change.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    change.refresh_from_db()
    assert change.name == "Social media basics"


def test_the_set_up_history_list_does_not_query_per_row(
    client, site_admin, policy_admin, make_person, django_assert_max_num_queries
):
    add_topic(by=policy_admin, name="Topic 0")
    client.force_login(site_admin)
    with django_assert_max_num_queries(12) as few:
        assert _history_list(client).status_code == 200
    admins = [policy_admin, make_person(group=roles.POLICY_ADMIN)]
    for number in range(1, 20):
        add_topic(by=admins[number % 2], name=f"Topic {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Topic 19" in _history_list(client).content.decode()
