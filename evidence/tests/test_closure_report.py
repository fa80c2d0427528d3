import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.models import EvidenceDocument
from evidence.tests.conftest import pdf_text
from incidents import assessment as guide
from incidents import evidence as incident_evidence
from incidents import services as incident_services
from incidents.models import Incident
from incidents.tests.factories import in_status
from people import roles

pytestmark = pytest.mark.django_db
Status = Incident.Status

QUESTION = str(guide.question_set(guide.QUESTION_SET_VERSION).question("intended_actions").question)


def _report(client, incident):
    return client.get(reverse("evidence:closure_report", args=[incident.pk]))


@pytest.fixture
def closed(hr, comms, employee, zoe, outsider):
    """Reported by the employee, involving Zoë, owned and closed by HR/legal: Zoë assessed
    as human error, the post taken down, a statement approved, evidence kept, the plan's
    actions done, the review signed off, a lesson published."""
    noticed = timezone.now() - timedelta(days=10)
    incident = in_status(
        Status.REMEDIATION,
        by=hr,
        reporter=employee,
        what_happened="A photo of the “Q3 roadmap” was posted on LinkedIn by mistake.",
        url="https://www.linkedin.com/posts/roadmap-123",
        account_handle="@zoe.a",
        posted_at=noticed - timedelta(hours=5),
        noticed_at=noticed,
        estimated_reach=1200,
        people_involved=[zoe],
    )
    statement = incident_services.draft_statement(
        incident=incident, by=hr, text="We are aware of an unapproved post and took it down."
    )
    incident_services.approve_statement(statement=statement, by=comms)
    incident_evidence.capture(
        incident=incident,
        by=comms,
        url="https://www.linkedin.com/posts/roadmap-123",
        handle="@zoe.a",
        note="Screenshot before takedown",
    )
    incident_services.add_action(
        incident=incident, by=hr, title="Blur whiteboards in office photos", owner=outsider
    )
    incident_services.publish_lesson(
        incident=incident,
        by=hr,
        title="Check the photo background",
        text="Whiteboards in the background of photos can show plans.",
    )
    return in_status_close(incident, hr)


def in_status_close(incident, by):
    """The rest of the walk from remediation to closed (factories.in_status's steps)."""
    from incidents.models import ActionItem
    from incidents.tests.factories import review_manager

    for action in incident.actions.filter(status=ActionItem.Status.OPEN):
        incident_services.complete_action(
            action=action, by=action.owner, status=ActionItem.Status.DONE, note="Done: retrained."
        )
    incident = incident_services.transition(incident=incident, to=Status.REVIEW, user=by)
    review = incident_services.write_review(
        incident=incident,
        by=by,
        summary="A post went further than intended.",
        contributing_factors="The sharing settings were unclear.",
        spotted_sooner="A check before posting.",
        went_well="Zoë reported it herself within the hour.",
    )
    incident_services.sign_off_review(review=review, by=review_manager())
    return incident_services.transition(incident=incident, to=Status.CLOSED, user=by)


def test_the_closure_report_tells_the_incident_from_report_to_review(client, comms, closed):
    client.force_login(comms)
    response = _report(client, closed)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="closure-report-{closed.reference.lower()}-EV-'
    )
    text = pdf_text(response.content)
    assert f"Incident closure report: {closed.reference}" in text
    assert "A photo of the “Q3 roadmap” was posted on LinkedIn by mistake." in text
    assert "Estimated reach 1,200" in text and "Account handle @zoe.a" in text
    assert "Exposure window" in text and "5 hours" in text
    # Containment: the takedown and the approved holding statement.
    assert "The post" in text and "The platform" in text and "Removed" in text
    assert "approved by Chloe Summers" in text
    assert "We are aware of an unapproved post and took it down." in text
    assert "Screenshot before takedown" in text
    # Actions with their outcomes, the review and the lesson.
    assert "Done: retrained." in text
    assert "Blur whiteboards in office photos" in text and "Olivia Hughes" in text
    assert "A post went further than intended." in text
    assert "The sharing settings were unclear." in text
    assert "Zoë reported it herself within the hour." in text
    assert "Signed off by Rita Reviewer" in text
    assert "Check the photo background" in text
    # The history, to the close.
    assert "Timeline" in text and "In review → Closed" in text.replace("Status: ", "")


def test_hr_legal_gets_the_individual_assessments_and_comms_does_not(client, hr, comms, closed):
    client.force_login(hr)
    hr_text = pdf_text(_report(client, closed).content)
    client.force_login(comms)
    comms_text = pdf_text(_report(client, closed).content)

    assert "Individual assessments (restricted)" in hr_text
    assert "RESTRICTED: this copy contains the individual assessments." in hr_text
    assert "Zoë Ångström-Müller: Posted it" in hr_text
    assert "Final outcome Human error" in hr_text
    assert QUESTION in hr_text

    assert "Individual assessments (restricted)" not in comms_text
    assert "The individual assessments are not part of this copy" in comms_text
    assert "Posted it" not in comms_text and QUESTION not in comms_text
    assert "Human error" not in comms_text

    hr_copy, comms_copy = EvidenceDocument.objects.order_by("generated_at", "pk")
    assert hr_copy.restricted and not comms_copy.restricted
    assert hr_copy.title == f"Closure report: {closed.reference} (with the individual assessments)"
    assert comms_copy.title == f"Closure report: {closed.reference}"


def test_the_incident_owner_in_comms_gets_the_assessments_too(client, comms, make_person, zoe):
    incident = in_status(Status.CLOSED, by=comms, people_involved=[zoe])
    other_comms = make_person(full_name="Colin Other", group=roles.COMMS)

    client.force_login(comms)
    assert "Individual assessments (restricted)" in pdf_text(_report(client, incident).content)
    client.force_login(other_comms)
    assert "Individual assessments (restricted)" not in pdf_text(_report(client, incident).content)


def test_leadership_reads_the_report_without_the_assessments(client, leader, closed):
    client.force_login(leader)
    response = _report(client, closed)

    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "A post went further than intended." in text
    assert "Individual assessments (restricted)" not in text


def test_on_the_accountability_track_only_hr_legal_and_the_owner_see_who_was_involved(
    client, hr, comms, closed
):
    Incident.objects.filter(pk=closed.pk).update(track=Incident.Track.ACCOUNTABILITY)
    client.force_login(comms)
    comms_text = pdf_text(_report(client, closed).content)
    client.force_login(hr)
    hr_text = pdf_text(_report(client, closed).content)

    assert "Restricted: shown to HR/legal and the incident owner only" in comms_text
    assert "Zoë Ångström-Müller" not in comms_text
    assert "People involved Zoë Ångström-Müller" in hr_text


def test_the_manifest_holds_the_reports_sha256(client, comms, closed):
    client.force_login(comms)
    response = _report(client, closed)

    document = EvidenceDocument.objects.get()
    assert document.kind == EvidenceDocument.Kind.CLOSURE_REPORT
    assert document.subject_id == closed.pk and document.generated_by == comms
    assert document.sha256 == hashlib.sha256(response.content).hexdigest()


def test_an_open_incident_has_no_closure_report_yet(client, comms):
    incident = in_status(Status.REVIEW, by=comms)
    client.force_login(comms)
    response = _report(client, incident)

    assert response.status_code == 302
    assert response.url == reverse("incidents:detail", args=[incident.pk])
    page = client.get(response.url).content.decode()
    assert f"{incident.reference} is not closed: its closure report can be issued once it is." in (
        page
    )
    assert not EvidenceDocument.objects.exists()


@pytest.mark.parametrize("role", ["employee", "outsider", "manager"])
def test_the_reporter_an_action_owner_and_a_line_manager_may_open_the_incident_not_its_report(
    client, request, role, closed
):
    # The employee reported it, the outsider owns an action, the manager manages Zoë: each
    # sees a summary of the incident, never its full record.
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("incidents:detail", args=[closed.pk])).status_code == 200
    assert _report(client, closed).status_code == 403
    assert not EvidenceDocument.objects.exists()


@pytest.mark.parametrize("role", ["stranger", "policy_admin", "site_admin"])
def test_people_who_may_not_open_the_incident_are_told_it_does_not_exist(
    client, request, role, closed, make_person
):
    user = make_person() if role == "stranger" else request.getfixturevalue(role)
    client.force_login(user)
    assert _report(client, closed).status_code == 404
    assert not EvidenceDocument.objects.exists()
