import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.models import EvidenceDocument
from evidence.tests.conftest import pdf_pages, pdf_text
from policies import services as policy_services
from policies.models import Acknowledgement, Assignment, PolicyVersion
from policies.tests.factories import BODY_1, publish_version
from training.models import Booking
from training.tests import factories as training

pytestmark = pytest.mark.django_db


def _pack(client, version):
    return client.get(reverse("evidence:evidence_pack", args=[version.pk]))


def _flat(text: str) -> str:
    """Hashes wrap across lines in narrow table cells: compare without spaces."""
    return text.replace(" ", "")


@pytest.fixture
def briefing(social_media, policy_admin, zoe, employee, manager):
    """A briefing that covered the policy last week: Zoë attended, the employee was
    absent, the manager came late."""
    session = training.held_session(
        training.topic(), policy_admin, starts_at=timezone.now() - timedelta(days=7)
    )
    session.policies.add(social_media.policy)
    training.attended(session, zoe)
    for person, status in ((employee, Booking.Status.ABSENT), (manager, Booking.Status.LATE)):
        Booking.objects.create(
            session=session,
            person=person,
            status=status,
            booked_by=person,
            booked_at=session.starts_at - timedelta(days=2),
        )
    return session


def test_the_pack_holds_the_text_its_hash_every_acknowledgement_and_the_open_figures(
    client, policy_admin, social_media, zoes_acknowledgement, employee, manager
):
    on_behalf = policy_services.acknowledge_on_behalf(
        version=social_media, person=manager, by=policy_admin, reason="Signed on paper"
    )
    Assignment.objects.filter(person=employee).update(
        due_date=timezone.localdate() - timedelta(days=3)
    )
    client.force_login(policy_admin)
    response = _pack(client, social_media)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        'attachment; filename="evidence-pack-social-media-policy-1.0-EV-'
    )
    text = pdf_text(response.content)
    assert "Evidence pack Social media policy, version 1.0" in text
    assert social_media.body_sha256 in _flat(text)
    # The text itself, as acknowledged.
    assert "Never post customer data or unannounced products." in text
    assert "## Personal accounts" in text
    # Every acknowledgement: who, when, how, its record hash.
    assert "Zoë Ångström-Müller zoe@example.com" in text
    assert "On behalf, by Priya Shah: Signed on paper" in text
    for ack in (zoes_acknowledgement, on_behalf):
        assert ack.record_hash in _flat(text)
    assert "2 acknowledgement(s) listed; each was computed again and matches" in text
    # Five people had it assigned: two acknowledged, three outstanding, one overdue.
    assert "Have to acknowledge 5" in text
    assert "Acknowledged 2 (40%)" in text
    assert "Outstanding 3" in text and "Of them overdue 1" in text
    assert "Intact. Every record of PolicyHub's acknowledgement chain was checked" in text
    assert "All 2 acknowledgements are intact." in text


def test_the_pack_shows_the_attendance_of_the_briefings_that_covered_the_policy(
    client, policy_admin, social_media, briefing
):
    other = training.held_session(
        training.topic("Security basics"),
        policy_admin,
        starts_at=timezone.now() - timedelta(days=3),
    )
    training.attended(other, policy_admin)  # covered another subject: not in the pack
    client.force_login(policy_admin)
    text = pdf_text(_pack(client, social_media).content)

    section = text.split("Briefings that covered this policy")[1]
    assert "1 briefing(s)." in section
    assert "Social media basics briefing" in section
    assert "Attended 1, late 1, absent 1, excused 0." in section
    assert "Zoë Ångström-Müller" in section and "Attended, late" in section
    assert "Absent" in section
    assert "Security basics" not in text


def test_a_minor_version_pack_counts_the_acknowledgements_of_the_version_before(
    client, policy_admin, approver, social_media, zoes_acknowledgement
):
    minor = publish_version(
        social_media.policy,
        author=policy_admin,
        approver=approver,
        body=BODY_1 + "\nA typo fixed.\n",
        change=PolicyVersion.Change.MINOR,
    )
    client.force_login(policy_admin)
    text = pdf_text(_pack(client, minor).content)

    assert "acknowledgements of versions 1.0 to 1.1 count for version 1.1" in text
    assert zoes_acknowledgement.record_hash in _flat(text)
    social_media.refresh_from_db()
    assert social_media.body_sha256 in _flat(text) and minor.body_sha256 in _flat(text)
    assert "A typo fixed." in text


def test_an_altered_acknowledgement_is_reported_in_the_pack(
    client, policy_admin, social_media, zoes_acknowledgement
):
    # Someone edits the table behind PolicyHub's back (the model refuses to).
    Acknowledgement.objects.filter(pk=zoes_acknowledgement.pk).update(typed_name="Someone else")
    client.force_login(policy_admin)
    text = pdf_text(_pack(client, social_media).content)

    assert f"BROKEN at record #{zoes_acknowledgement.sequence}." in text
    assert "was altered after it was written" in text
    sequence = zoes_acknowledgement.sequence
    assert f"ALTERED: 1 of the 1 records listed no longer match their hash: #{sequence}" in text


def test_the_manifest_holds_the_packs_sha256(client, policy_admin, social_media):
    client.force_login(policy_admin)
    response = _pack(client, social_media)

    document = EvidenceDocument.objects.get()
    assert document.kind == EvidenceDocument.Kind.EVIDENCE_PACK
    assert document.subject_id == social_media.pk
    assert document.title == "Evidence pack: Social media policy 1.0"
    assert document.sha256 == hashlib.sha256(response.content).hexdigest()
    pages = pdf_pages(response.content)
    assert document.pages == len(pages)
    assert all(f"Document {document.reference}" in page for page in pages)


def test_a_draft_has_no_pack_yet(client, policy_admin, social_media):
    draft = policy_services.create_draft(
        policy=social_media.policy, author=policy_admin, body=BODY_1 + "\nMore.\n"
    )
    client.force_login(policy_admin)
    response = _pack(client, draft)

    assert response.status_code == 302
    assert response.url == reverse("policies:manage_version", args=[draft.pk])
    page = client.get(response.url).content.decode()
    assert "Version 2.0 is not published: its evidence pack starts when it is." in page
    assert not EvidenceDocument.objects.exists()


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "hr", "leader", "site_admin"])
def test_the_pack_is_for_policy_admins_only(client, request, role, social_media):
    client.force_login(request.getfixturevalue(role))
    assert _pack(client, social_media).status_code == 403
    assert not EvidenceDocument.objects.exists()


def test_a_missing_version_is_not_found(client, policy_admin, social_media):
    client.force_login(policy_admin)
    response = client.get(reverse("evidence:evidence_pack", args=[social_media.pk + 99]))
    assert response.status_code == 404


def test_the_packs_query_count_does_not_grow_with_acknowledgements(
    client, policy_admin, social_media, briefing, make_person, django_assert_max_num_queries
):
    def acknowledged_by(count):
        people = [make_person() for _ in range(count)]
        policy_services.reconcile_assignments(policies=[social_media.policy])
        for person in people:
            policy_services.acknowledge(
                version=social_media, user=person, full_name=person.full_name
            )
            training.attended(briefing, person)

    acknowledged_by(3)
    client.force_login(policy_admin)
    with django_assert_max_num_queries(30) as few:
        response = _pack(client, social_media)
    assert "3 acknowledgement(s) listed" in pdf_text(response.content)

    acknowledged_by(120)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = _pack(client, social_media)
    text = pdf_text(response.content)
    assert "123 acknowledgement(s) listed" in text
    assert "Attended 124, late 1, absent 1" in text
