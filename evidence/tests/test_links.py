"""The pages that a PDF comes from link to it."""

import pytest
from django.urls import reverse

from incidents.models import Incident
from incidents.tests.factories import in_status

pytestmark = pytest.mark.django_db


def test_a_receipt_page_offers_its_pdf(client, zoe, zoes_acknowledgement):
    client.force_login(zoe)
    html = client.get(reverse("policies:receipt", args=[zoes_acknowledgement.pk])).content
    assert reverse("evidence:receipt", args=[zoes_acknowledgement.pk]).encode() in html


def test_a_published_versions_page_offers_its_evidence_pack(client, policy_admin, social_media):
    client.force_login(policy_admin)
    url = reverse("policies:manage_version", args=[social_media.pk])
    html = client.get(url).content
    assert reverse("evidence:evidence_pack", args=[social_media.pk]).encode() in html


def test_only_a_closed_incident_offers_its_closure_report(client, comms):
    closed = in_status(Incident.Status.CLOSED, by=comms)
    open_one = in_status(Incident.Status.TRIAGE, by=comms)
    client.force_login(comms)
    for incident, offered in ((closed, True), (open_one, False)):
        html = client.get(reverse("incidents:detail", args=[incident.pk])).content
        link = reverse("evidence:closure_report", args=[incident.pk]).encode()
        assert (link in html) is offered
