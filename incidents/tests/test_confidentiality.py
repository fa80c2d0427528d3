"""Who sees what of an incident, role by role, as the queries enforce it: the incidents
one may open (lists and counts), how much of each, who was involved, the individual
assessments and the actions; and what the reminder emails carry."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail

from incidents import permissions, services
from incidents.models import ActionItem, Assessment, Incident
from incidents.tests.factories import HUMAN_ERROR_ANSWERS
from notifications.models import Notification, Preference
from notifications.services import plan_due, send_due
from people import roles

pytestmark = pytest.mark.django_db
Track = Incident.Track

DELIBERATE_ANSWERS = {"intended_actions": "yes", "intended_harm": "yes"}
LEARNING_STORY = "Ivy Irwin posted a photo of the roadmap slide on LinkedIn."
RESTRICTED_STORY = "Dan Drake leaked the price list to a forum on purpose."
INVOLVED_NAMES = ["Ivy Irwin", "Ivy", "Irwin", "Dan Drake", "Dan", "Drake"]


class World:
    """Three incidents reported by the employee (two) and by HR (one):

    - learning: Ivy involved, assessed by the owner as human error, learning track;
    - restricted: Dan involved, assessed by HR as deliberate, accountability track;
    - other: no one involved yet, no owner, no actions.

    The action owner owns one action on each of the first two; the incident owner
    owns another on the restricted one."""

    def __init__(self, people):
        self.people = people
        owner, comms, hr = people["incident_owner"], people["comms"], people["hr"]
        reporter, action_owner = people["reporter"], people["action_owner"]

        self.learning = self._incident(LEARNING_STORY, people["ivy"], owner, comms, reporter)
        self._assess(self.learning, people["ivy"], owner, HUMAN_ERROR_ANSWERS)
        self.restricted = self._incident(RESTRICTED_STORY, people["dan"], owner, comms, reporter)
        self._assess(self.restricted, people["dan"], hr, DELIBERATE_ANSWERS)
        self.other = services.report_incident(reporter=hr, what_happened="A fake account.")

        self.learning_action = services.add_action(
            incident=self.learning, by=comms, title="Update the guide", owner=action_owner
        )
        self.restricted_action = services.add_action(
            incident=self.restricted,
            by=comms,
            title="Rotate the forum password",
            owner=action_owner,
        )
        self.owners_action = services.add_action(
            incident=self.restricted, by=comms, title="Open an HR case", owner=owner
        )
        for name in ("learning", "restricted", "other"):
            setattr(self, name, Incident.objects.get(pk=getattr(self, name).pk))
        assert self.learning.track == Track.LEARNING and not self.learning.restricted
        assert self.restricted.track == Track.ACCOUNTABILITY and self.restricted.restricted

    @staticmethod
    def _incident(story, involved, owner, comms, reporter) -> Incident:
        incident = services.report_incident(
            reporter=reporter, what_happened=story, people_involved=[involved]
        )
        return services.assign_owner(incident=incident, owner=owner, by=comms)

    @staticmethod
    def _assess(incident, person, by, answers) -> None:
        run = services.start_assessment(incident=incident, person=person, act="Posted", by=by)
        for key, value in answers.items():
            services.answer(assessment=run, by=by, key=key, value=value)
        services.finish_assessment(assessment=run, by=by)


@pytest.fixture
def people(
    make_person, employee, manager, comms, hr, leader, policy_admin, site_admin, outsider
) -> dict:
    action_owners_manager = make_person(full_name="Mona Manning")
    return {
        "bystander": make_person(full_name="Bea Stander"),  # an employee not involved
        "reporter": employee,
        "action_owner": make_person(full_name="Alex Actions", manager=action_owners_manager),
        "action_owners_manager": action_owners_manager,  # hears of it when overdue
        "incident_owner": make_person(full_name="Owen Price", group=roles.COMMS),
        "comms": comms,
        "hr": hr,
        "leader": leader,
        "policy_admin": policy_admin,
        "site_admin": site_admin,
        "outsider": outsider,
        "line_manager": manager,  # the reporter's manager
        "ivy": make_person(full_name="Ivy Irwin"),  # involved in the learning one
        "dan": make_person(full_name="Dan Drake"),  # involved in the restricted one
        "inactive_hr": make_person(full_name="Ex Hr", group=roles.HR_LEGAL, is_active=False),
    }


@pytest.fixture
def world(people) -> World:
    return World(people)


LEARNING, RESTRICTED, OTHER = "learning", "restricted", "other"
NOTHING = {
    "incidents": set(),
    "levels": {LEARNING: "", RESTRICTED: "", OTHER: ""},
    "people": set(),
    "assessments": set(),
    "actions": set(),
}
TEAM_ACTIONS = {"learning_action", "restricted_action", "owners_action"}

# What each role may see. "people": incidents whose people involved they see;
# "assessments": incidents whose individual assessments they see.
EXPECTED = {
    "comms": {
        "incidents": {LEARNING, RESTRICTED, OTHER},
        "levels": {LEARNING: "full", RESTRICTED: "full", OTHER: "full"},
        "people": {LEARNING, OTHER},
        "assessments": set(),
        "actions": TEAM_ACTIONS,
    },
    "leader": {
        "incidents": {LEARNING, RESTRICTED, OTHER},
        "levels": {LEARNING: "full", RESTRICTED: "full", OTHER: "full"},
        "people": {LEARNING, OTHER},
        "assessments": set(),
        "actions": TEAM_ACTIONS,
    },
    "hr": {
        "incidents": {LEARNING, RESTRICTED, OTHER},
        "levels": {LEARNING: "full", RESTRICTED: "full", OTHER: "full"},
        "people": {LEARNING, RESTRICTED, OTHER},
        "assessments": {LEARNING, RESTRICTED, OTHER},
        "actions": TEAM_ACTIONS,
    },
    "incident_owner": {
        "incidents": {LEARNING, RESTRICTED, OTHER},
        "levels": {LEARNING: "full", RESTRICTED: "full", OTHER: "full"},
        "people": {LEARNING, RESTRICTED, OTHER},
        "assessments": {LEARNING, RESTRICTED},
        "actions": TEAM_ACTIONS,
    },
    "reporter": {
        **NOTHING,
        "incidents": {LEARNING, RESTRICTED},
        "levels": {LEARNING: "reporter", RESTRICTED: "reporter", OTHER: ""},
    },
    "action_owner": {
        **NOTHING,
        "incidents": {LEARNING, RESTRICTED},
        "levels": {LEARNING: "summary", RESTRICTED: "summary", OTHER: ""},
        "actions": {"learning_action", "restricted_action"},
    },
    "bystander": NOTHING,
    "policy_admin": NOTHING,
    "site_admin": NOTHING,
    "outsider": NOTHING,
    "line_manager": NOTHING,
    "action_owners_manager": NOTHING,
    "ivy": NOTHING,  # being involved does not open the case
    "dan": NOTHING,
    "inactive_hr": NOTHING,
}


def test_every_role_is_in_the_table(people):
    assert set(EXPECTED) == set(people)


@pytest.mark.parametrize("role", EXPECTED)
def test_what_each_role_sees(world, role):
    user = world.people[role]
    expected = EXPECTED[role]
    by_name = {LEARNING: world.learning, RESTRICTED: world.restricted, OTHER: world.other}
    names = {incident.pk: name for name, incident in by_name.items()}

    visible = permissions.visible_incidents(user)
    assert {names[pk] for pk in visible.values_list("pk", flat=True)} == expected["incidents"]
    # Counts agree with the list, however they are cut.
    assert visible.count() == len(expected["incidents"])
    assert visible.filter(track=Track.ACCOUNTABILITY).count() == (
        RESTRICTED in expected["incidents"]
    )
    assert visible.filter(status=Incident.Status.REPORTED).count() == len(expected["incidents"])

    for name, incident in by_name.items():
        assert permissions.access_level(user, incident) == expected["levels"][name], name
        assert permissions.sees_people_involved(user, incident) == (name in expected["people"]), (
            name
        )
        runs = permissions.visible_assessments(user, incident)
        assert runs.count() == (
            incident.assessments.count() if name in expected["assessments"] else 0
        )
        if name not in expected["assessments"]:
            assert not runs.exists()

    action_names = {
        getattr(world, name).pk: name
        for name in ("learning_action", "restricted_action", "owners_action")
    }
    actions = permissions.visible_actions(user)
    assert {action_names[pk] for pk in actions.values_list("pk", flat=True)} == expected["actions"]
    assert actions.count() == len(expected["actions"])


@pytest.mark.parametrize("role", EXPECTED)
def test_no_one_may_open_an_incident_they_do_not_see_in_the_list(world, role):
    from django.http import Http404

    user = world.people[role]
    visible = set(permissions.visible_incidents(user).values_list("pk", flat=True))
    for incident in (world.learning, world.restricted, world.other):
        if incident.pk in visible:
            assert permissions.get_incident_for(user, incident.pk)[0] == incident
        else:
            with pytest.raises(Http404):
                permissions.get_incident_for(user, incident.pk)


def test_the_restricted_assessment_is_for_hr_and_the_owner_only(world):
    dan_runs = Assessment.objects.filter(person=world.people["dan"])
    assert dan_runs.count() == 1
    allowed = {
        role
        for role, user in world.people.items()
        if permissions.visible_assessments(user, world.restricted).filter(pk__in=dan_runs).exists()
    }
    assert allowed == {"hr", "incident_owner"}


def test_a_deactivated_leaver_sees_nothing_even_as_owner(world, people):
    owner = people["incident_owner"]
    owner.is_active = False
    owner.save()
    owner = type(owner).objects.get(pk=owner.pk)
    assert not permissions.visible_incidents(owner).exists()
    assert permissions.access_level(owner, world.restricted) == ""
    assert not permissions.sees_people_involved(owner, world.restricted)
    assert not permissions.visible_assessments(owner, world.restricted).exists()
    assert not permissions.visible_actions(owner).exists()


def test_an_anonymous_visitor_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert not permissions.visible_incidents(anonymous).exists()
    assert permissions.access_level(anonymous, world.other) == ""
    # `other` has no owner: an anonymous visitor is not its owner either.
    assert not permissions.sees_people_involved(anonymous, world.other)
    assert not permissions.visible_assessments(anonymous, world.other).exists()
    assert not permissions.visible_actions(anonymous).exists()


# --- what the emails carry -------------------------------------------------------------


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(settings.TIME_ZONE))


def texts(messages) -> list[str]:
    """Subject, plain text and HTML of each message."""
    out = []
    for message in messages:
        out += [message.subject, message.body, *(body for body, _type in message.alternatives)]
    return out


def test_an_action_owners_emails_never_name_the_people_involved(world, people):
    action_owner, manager = people["action_owner"], people["action_owners_manager"]
    # Each reminder as it comes for the owner (so each kind has its own email), the
    # daily digest for their manager.
    Preference.objects.create(user=action_owner, delivery=Preference.Delivery.IMMEDIATE)
    send_due()  # "assigned", at once
    due = date(2027, 3, 10)  # a Wednesday
    ActionItem.objects.filter(owner=action_owner).update(due_date=due)
    plan_due(now=at(date(2027, 3, 8)))  # due in 2 days
    send_due(now=at(date(2027, 3, 8)))
    for day in (date(2027, 3, 11), date(2027, 3, 17)):  # overdue, then escalated
        plan_due(now=at(day))
        send_due(now=at(day))
    send_due(now=at(date(2027, 3, 18), 9))  # the manager's digest

    to_owner = [m for m in mail.outbox if m.to == [action_owner.email]]
    to_manager = [m for m in mail.outbox if m.to == [manager.email]]
    kinds = set(
        Notification.objects.filter(recipient=action_owner, status="sent").values_list(
            "kind", flat=True
        )
    )
    assert kinds == {
        "incident-action-assigned",
        "incident-action-due-soon",
        "incident-action-overdue",
    }
    assert (
        Notification.objects.filter(recipient=manager, stage="escalation", status="sent").count()
        == 2
    )
    assert to_owner and to_manager
    for text in texts(to_owner + to_manager):
        for name in INVOLVED_NAMES:
            assert name not in text, (name, text)
        # Nor what happened, which may name them; nor the reporter.
        assert "roadmap" not in text and "price list" not in text
        assert "Emily Carter" not in text
    # They do say which action, and of which incident.
    owner_text = "\n".join(texts(to_owner))
    for action in (world.learning_action, world.restricted_action):
        assert action.title in owner_text
        assert action.incident.reference in owner_text


def test_a_reporters_emails_never_name_the_people_involved(people, make_person):
    reporter = people["reporter"]
    other = make_person(full_name="Gary Doyle")
    services.report_incident(
        reporter=reporter,
        what_happened="I shared it by mistake.",
        self_reported=True,
        people_involved=[other],
    )
    send_due()
    (thanks,) = [m for m in mail.outbox if m.to == [reporter.email]]
    for text in texts([thanks]):
        assert "Gary" not in text and "Doyle" not in text
