import hashlib

import pytest
from django.urls import reverse

from evidence.models import EvidenceDocument
from evidence.tests.conftest import pdf_info, pdf_text
from policies import services as policy_services

pytestmark = pytest.mark.django_db


def test_a_person_downloads_their_own_receipt_with_every_fact_of_the_html_receipt(
    client, zoe, zoes_acknowledgement
):
    ack = zoes_acknowledgement
    client.force_login(zoe)
    response = client.get(reverse("evidence:receipt", args=[ack.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="receipt-social')
    assert "no-store" in response["Cache-Control"]
    text = pdf_text(response.content)
    assert "Acknowledgement receipt" in text
    assert f"Record #{ack.sequence} in PolicyHub's acknowledgement chain" in text
    assert "Zoë Ångström-Müller <zoe@example.com>" in text
    assert "Social media policy, version 1.0" in text
    assert "Typed name Zoë Ångström-Müller" in text
    assert "In the browser: the reader ticked “I have read and understood this policy”" in text
    assert "IP address 203.0.113.7" in text and "Firefox/140 “test” €" in text
    for value in (ack.text_sha256, ack.record_hash, ack.previous_hash):
        assert value in text.replace(" ", "")
    assert "matches the stored record hash: the record is as it was written" in text


def test_the_manifest_holds_the_sha256_of_the_bytes_served_and_the_pdf_names_its_id(
    client, zoe, zoes_acknowledgement
):
    client.force_login(zoe)
    response = client.get(reverse("evidence:receipt", args=[zoes_acknowledgement.pk]))

    document = EvidenceDocument.objects.get()
    assert document.sha256 == hashlib.sha256(response.content).hexdigest()
    assert document.size == len(response.content)
    assert document.kind == EvidenceDocument.Kind.RECEIPT
    assert document.subject_id == zoes_acknowledgement.pk
    assert document.generated_by == zoe and document.pages == 1
    assert document.title == (
        f"Acknowledgement receipt #{zoes_acknowledgement.sequence}: Zoë Ångström-Müller, "
        "Social media policy 1.0"
    )
    text = pdf_text(response.content)
    assert f"Document {document.reference}" in text
    assert "Check it at http://testserver/evidence/verify/" in text
    assert "Page 1 of 1" in text
    assert document.reference in response["Content-Disposition"]
    assert pdf_info(response.content)["/Keywords"] == f"PolicyHub document {document.reference}"


def test_each_download_is_a_new_document_with_its_own_id(client, zoe, zoes_acknowledgement):
    client.force_login(zoe)
    url = reverse("evidence:receipt", args=[zoes_acknowledgement.pk])
    first, second = client.get(url), client.get(url)

    assert first.content != second.content
    assert EvidenceDocument.objects.count() == 2
    assert len({document.reference for document in EvidenceDocument.objects.all()}) == 2


def test_an_on_behalf_receipt_says_who_recorded_it_and_why(
    client, social_media, employee, policy_admin
):
    ack = policy_services.acknowledge_on_behalf(
        version=social_media, person=employee, by=policy_admin, reason="Signed on paper, 3 March"
    )
    client.force_login(employee)
    text = pdf_text(client.get(reverse("evidence:receipt", args=[ack.pk])).content)

    assert "On behalf of the reader, recorded by Priya Shah. Reason: Signed on paper, 3 March" in (
        text
    )
    assert "IP address" not in text


@pytest.mark.parametrize("role", ["policy_admin", "site_admin"])
def test_policy_admins_and_site_admins_download_anyones_receipt(
    client, request, role, zoes_acknowledgement
):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("evidence:receipt", args=[zoes_acknowledgement.pk]))

    assert response.status_code == 200
    assert "Zoë Ångström-Müller" in pdf_text(response.content)


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "hr", "leader"])
def test_someone_elses_receipt_is_refused_and_nothing_is_issued(
    client, request, role, zoes_acknowledgement
):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("evidence:receipt", args=[zoes_acknowledgement.pk]))

    assert response.status_code == 403
    assert not EvidenceDocument.objects.exists()


def test_a_missing_acknowledgement_is_not_found(client, zoe, zoes_acknowledgement):
    client.force_login(zoe)
    assert (
        client.get(reverse("evidence:receipt", args=[zoes_acknowledgement.pk + 99])).status_code
        == 404
    )


def test_only_get_issues_a_receipt(client, zoe, zoes_acknowledgement):
    client.force_login(zoe)
    url = reverse("evidence:receipt", args=[zoes_acknowledgement.pk])

    assert client.head(url).status_code == 405
    assert client.post(url).status_code == 405
    assert not EvidenceDocument.objects.exists()
