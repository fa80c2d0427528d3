"""A line manager reaches the review they are asked to sign off, and follows the
learning-track incidents of their own people in summary; nothing more."""

import pytest
from django.urls import reverse

from incidents import permissions, services
from incidents.models import Incident
from incidents.tests.factories import in_status

pytestmark = pytest.mark.django_db


def _in_review_involving(person, comms):
    incident = in_status(Incident.Status.REVIEW, by=comms, people_involved=[person])
    services.write_review(
        incident=incident,
        by=comms,
        summary="A screenshot showed a customer's name.",
        contributing_factors="Cropping was a manual step.",
        spotted_sooner="A checklist.",
    )
    return incident


def test_the_manager_of_someone_involved_can_open_and_sign_off_the_review(
    client, employee, manager, comms
):
    incident = _in_review_involving(employee, comms)
    assert permissions.access_level(manager, incident) == "summary"
    assert incident in permissions.visible_incidents(manager)
    client.force_login(manager)
    assert client.get(reverse("my_tasks")).content.decode().count(incident.reference) == 1
    assert client.get(reverse("incidents:detail", args=[incident.pk])).status_code == 200
    services.sign_off_review(review=incident.review, by=manager)
    incident.refresh_from_db()
    assert incident.review.signed_off_by == manager
    # Once signed, the manager still follows it in summary (it involves their report),
    # but it leaves My tasks.
    assert permissions.access_level(manager, incident) == "summary"
    assert incident.reference not in client.get(reverse("my_tasks")).content.decode()


def test_a_manager_follows_their_peoples_learning_track_incidents_in_summary(
    client, employee, manager, comms, make_person
):
    indirect = make_person(email="indirect@example.com", manager=employee)
    ours = in_status(Incident.Status.REMEDIATION, by=comms, people_involved=[indirect])
    undecided = in_status(Incident.Status.TRIAGE, by=comms, people_involved=[indirect])
    assert permissions.access_level(manager, ours) == "summary"
    assert permissions.access_level(employee, ours) == "summary"  # a manager too, now
    assert permissions.access_level(manager, undecided) == ""
    client.force_login(manager)
    page = client.get(reverse("incidents:detail", args=[ours.pk])).content.decode()
    assert ours.reference in page
    assert "Assessment" not in page
    assert indirect.get_full_name() not in page


def test_other_managers_and_accountability_cases_stay_out_of_reach(
    employee, manager, comms, hr, make_person
):
    other_manager = make_person()
    make_person(manager=other_manager)
    incident = _in_review_involving(employee, comms)
    assert permissions.access_level(other_manager, incident) == ""
    assert incident not in permissions.visible_incidents(other_manager)
    Incident.objects.filter(pk=incident.pk).update(track=Incident.Track.ACCOUNTABILITY)
    incident.refresh_from_db()
    assert permissions.access_level(manager, incident) == ""
    assert not permissions.visible_incidents(manager).exists()


def test_a_statement_is_approved_once_and_a_takedown_resolved_once(comms, hr):
    from incidents.models import IncidentError, Takedown
    from incidents.tests.factories import reported

    incident = reported(comms)
    statement = services.draft_statement(
        incident=incident, by=comms, text="We are looking into it."
    )
    services.approve_statement(statement=statement, by=hr)
    with pytest.raises(IncidentError, match="already approved"):
        services.approve_statement(statement=statement, by=hr)
    takedown = services.request_takedown(incident=incident, by=comms, what="Post", asked_of="X")
    services.resolve_takedown(takedown=takedown, by=comms, status=Takedown.Status.REMOVED)
    with pytest.raises(IncidentError, match="already resolved"):
        services.resolve_takedown(takedown=takedown, by=comms, status=Takedown.Status.REFUSED)
