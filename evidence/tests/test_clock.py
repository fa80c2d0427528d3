"""Time is an argument: a document issued with `now` is stamped with that moment, in the
manifest and on every page (the demo and the bench issue documents without patching the
clock)."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from evidence import services
from evidence.models import EvidenceDocument
from evidence.tests.conftest import pdf_text

pytestmark = pytest.mark.django_db

VERIFY_URL = "https://policyhub.example/evidence/verify/"


def test_a_receipt_issued_with_a_clock_is_stamped_with_that_moment(zoe, zoes_acknowledgement):
    now = zoes_acknowledgement.acknowledged_at.replace(microsecond=0) + timedelta(days=3)

    issued = services.issue_receipt(
        acknowledgement=zoes_acknowledgement,
        user=zoe,
        verify_url=VERIFY_URL,
        tz=UTC,
        language="en",
        now=now,
    )

    document = EvidenceDocument.objects.get()
    assert document == issued.document
    assert document.generated_at == now
    when = f"{now.day} {now:%B %Y, %H:%M:%S}"
    assert f"Document {document.reference}, issued {when} (UTC)." in pdf_text(issued.content)


def test_an_evidence_pack_issued_with_an_earlier_clock_lists_only_what_was_there_then(
    policy_admin, social_media, zoes_acknowledgement
):
    before = zoes_acknowledgement.acknowledged_at - timedelta(minutes=1)

    issued = services.issue_evidence_pack(
        version=social_media,
        user=policy_admin,
        verify_url=VERIFY_URL,
        tz=UTC,
        language="en",
        now=before,
    )

    assert issued.document.generated_at == before
    text = pdf_text(issued.content)
    assert "0 acknowledgement(s) listed" in text
    assert "Zoë Ångström-Müller" not in text
