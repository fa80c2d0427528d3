"""Moving an open action's due date: through `services.change_due_date`, from the
remediation plan on the incident page and from the Django admin, with the same rules
(not into the past, nor before the report; only the incident team, or a site admin in the
admin) and a history row; a refusal changes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from conftest import with_second_factor
from incidents import services
from incidents.models import ActionItem, Incident, IncidentError, IncidentEvent
from incidents.timeline import describe_event

pytestmark = pytest.mark.django_db

REPORTED_AT = timezone.make_aware(datetime(2026, 3, 10, 9, 0))


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def incident(comms, employee):
    incident = services.report_incident(
        reporter=employee, what_happened="The roadmap slide was posted.", now=REPORTED_AT
    )
    return services.assign_owner(incident=incident, owner=comms, by=comms, now=REPORTED_AT)


@pytest.fixture
def action(incident, comms, employee):
    return services.add_action(
        incident=incident,
        by=comms,
        title="Check the team's slides",
        owner=employee,
        due_date=date(2026, 3, 20),
        now=REPORTED_AT,
    )


def _unchanged(action) -> bool:
    action.refresh_from_db()
    return (
        action.due_date == date(2026, 3, 20)
        and not IncidentEvent.objects.filter(what="due date").exists()
    )


# --- the service ----------------------------------------------------------------------


def test_the_team_moves_a_due_date_and_the_history_keeps_both_dates(action, comms):
    at = REPORTED_AT + timedelta(days=2)
    moved = services.change_due_date(action=action, by=comms, due_date=date(2026, 4, 3), now=at)
    action.refresh_from_db()
    assert moved.due_date == action.due_date == date(2026, 4, 3)
    event = IncidentEvent.objects.get(what="due date")
    assert (event.from_value, event.to_value) == ("2026-03-20", "2026-04-03")
    assert (event.by, event.at, event.note) == (comms, at, "Check the team's slides")
    assert describe_event(event) == "Due date: 20 Mar 2026 → 3 Apr 2026"


def test_a_due_date_in_the_past_is_refused_and_nothing_changes(action, comms):
    today = date(2026, 3, 15)
    with pytest.raises(IncidentError, match="The due date cannot be in the past."):
        services.change_due_date(
            action=action,
            by=comms,
            due_date=today - timedelta(days=1),
            now=timezone.make_aware(datetime(2026, 3, 15, 12, 0)),
        )
    assert _unchanged(action)


def test_a_due_date_before_the_report_is_refused_and_names_the_report_date(action, comms):
    with pytest.raises(IncidentError) as refused:
        services.change_due_date(
            action=action, by=comms, due_date=date(2026, 3, 1), now=REPORTED_AT
        )
    assert str(refused.value) == (
        "The due date cannot be before the incident was reported (10 Mar 2026)."
    )
    assert _unchanged(action)


def test_a_missing_due_date_is_refused(action, comms):
    with pytest.raises(IncidentError, match="Choose the new due date."):
        services.change_due_date(action=action, by=comms, due_date=None, now=REPORTED_AT)
    assert _unchanged(action)


@pytest.mark.parametrize("role", ["employee", "manager", "leader", "policy_admin"])
def test_people_outside_the_incident_team_cannot_move_a_due_date(request, action, role):
    """Not even the action's owner (the employee): they ask the team."""
    with pytest.raises(IncidentError, match="Only the communications team and HR/legal"):
        services.change_due_date(
            action=action,
            by=request.getfixturevalue(role),
            due_date=date(2026, 4, 3),
            now=REPORTED_AT,
        )
    assert _unchanged(action)


def test_a_closed_action_keeps_its_due_date(action, comms, employee):
    services.complete_action(
        action=action, by=employee, status=ActionItem.Status.DONE, note="Checked them all."
    )
    with pytest.raises(IncidentError, match="This action is already closed."):
        services.change_due_date(
            action=action, by=comms, due_date=date(2026, 4, 3), now=REPORTED_AT
        )
    assert _unchanged(action)


def test_the_same_due_date_again_writes_no_history(action, hr):
    services.change_due_date(action=action, by=hr, due_date=date(2026, 3, 20), now=REPORTED_AT)
    assert _unchanged(action)


# --- the incident page ------------------------------------------------------------------


def _url(action) -> str:
    return reverse("incidents:change_due_date", args=[action.incident_id, action.pk])


def test_the_plan_offers_the_team_a_due_date_form_and_the_owner_none(client, action, comms):
    client.force_login(comms)
    page = client.get(reverse("incidents:detail", args=[action.incident_id])).content.decode()
    assert _url(action) in page and 'name="due_date"' in page
    client.force_login(action.owner)
    page = client.get(reverse("incidents:detail", args=[action.incident_id])).content.decode()
    assert _url(action) not in page


def test_the_team_moves_a_due_date_from_the_plan(client, action, comms):
    new = timezone.localdate() + timedelta(days=30)
    client.force_login(comms)
    response = client.post(_url(action), {"due_date": new.isoformat()})
    assert response.status_code == 302 and response.url.endswith("#plan")
    action.refresh_from_db()
    assert action.due_date == new
    assert IncidentEvent.objects.get(what="due date").by == comms
    assert messages_of(response) == [
        f"“Check the team's slides” is due on {new.day} {new:%b} {new.year} now."
    ]


@pytest.mark.parametrize(
    "posted, message",
    [
        ({"due_date": "2026-03-01"}, "The due date cannot be before the incident was reported"),
        ({"due_date": ""}, "Choose the new due date."),
        ({"due_date": "next week"}, "Enter a valid date."),
    ],
)
def test_a_bad_due_date_from_the_plan_changes_nothing(client, action, comms, posted, message):
    client.force_login(comms)
    response = client.post(_url(action), posted)
    assert response.status_code == 302
    assert message in " ".join(messages_of(response))
    assert _unchanged(action)


def test_a_past_due_date_from_the_plan_changes_nothing(client, action, comms):
    client.force_login(comms)
    response = client.post(_url(action), {"due_date": (timezone.localdate() - timedelta(1))})
    assert messages_of(response) == ["The due date cannot be in the past."]
    assert _unchanged(action)


@pytest.mark.parametrize("role, status", [("employee", 403), ("leader", 403), ("outsider", 404)])
def test_people_outside_the_team_cannot_move_a_due_date_from_the_page(
    request, client, action, role, status
):
    """The action's owner (the employee) and leadership see the incident, but do not
    change it; someone unrelated does not learn it exists."""
    client.force_login(request.getfixturevalue(role))
    response = client.post(_url(action), {"due_date": "2030-01-01"})
    assert response.status_code == status
    assert _unchanged(action)


def test_an_action_of_another_incident_is_not_found(client, action, comms, employee):
    other = services.report_incident(reporter=employee, what_happened="Another post.")
    client.force_login(comms)
    url = reverse("incidents:change_due_date", args=[other.pk, action.pk])
    assert client.post(url, {"due_date": "2030-01-01"}).status_code == 404
    assert _unchanged(action)


# --- the Django admin ---------------------------------------------------------------------


def _admin_url(action) -> str:
    return reverse("admin:incidents_actionitem_change", args=[action.pk])


def test_a_site_admin_corrects_a_due_date_through_the_service(client, site_admin, action):
    new = timezone.localdate() + timedelta(days=10)
    client.force_login(site_admin)
    response = client.post(
        _admin_url(action), {"title": "Check every team's slides", "due_date": new.isoformat()}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.title, action.due_date) == ("Check every team's slides", new)
    event = IncidentEvent.objects.get(what="due date")
    assert (event.by, event.to_value) == (site_admin, new.isoformat())


def test_a_past_due_date_in_the_admin_is_shown_on_the_field_and_changes_nothing(
    client, site_admin, action
):
    client.force_login(site_admin)
    response = client.post(
        _admin_url(action),
        {"title": "Check every team's slides", "due_date": "2026-03-01"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["due_date"] == [
        "The due date cannot be before the incident was reported (10 Mar 2026)."
    ]
    action.refresh_from_db()
    assert action.title == "Check the team's slides"
    assert _unchanged(action)


def test_staff_given_the_change_permission_cannot_move_a_due_date(client, make_person, action):
    staff = with_second_factor(make_person(is_staff=True))
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_actionitem", "change_actionitem"])
    )
    client.force_login(staff)
    response = client.post(_admin_url(action), {"title": action.title, "due_date": "2030-01-01"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["due_date"] == [
        "Only the communications team and HR/legal handle incidents."
    ]
    assert _unchanged(action)


def test_the_incident_is_not_touched_by_a_new_due_date(action, comms, incident):
    """A due date belongs to the action: the incident's version (what the team's open
    forms were read at) stays, so nobody's form goes stale."""
    version = Incident.objects.get(pk=incident.pk).version
    services.change_due_date(action=action, by=comms, due_date=date(2026, 4, 3), now=REPORTED_AT)
    assert Incident.objects.get(pk=incident.pk).version == version
