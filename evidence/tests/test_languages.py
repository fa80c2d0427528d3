"""The evidence pages in the reader's language (issue 13.2). They read the compiled
catalogs: the pages' tests pass once locale/parts/dashboards.json is merged, the German
receipt's once locale/parts/evidence.json is (scripts/i18n.py)."""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from pypdf import PdfReader

from evidence.models import EvidenceDocument
from evidence.tests.conftest import pdf_text

pytestmark = pytest.mark.django_db


def test_check_a_document_speaks_french_to_a_french_reader(client, employee):
    employee.language = "fr"
    employee.save()
    client.force_login(employee)
    html = client.get(reverse("evidence:verify")).content.decode()
    assert "Vérifier un document" in html
    assert "Check a document" not in html


def test_issued_documents_speaks_german_to_a_german_reader(client, policy_admin):
    policy_admin.language = "de"
    policy_admin.save()
    client.force_login(policy_admin)
    html = client.get(reverse("evidence:issued")).content.decode()
    assert "Ausgestellte Dokumente" in html


# --- the PDFs, in the language of the person who asks for them ---------------------------


def _receipt(client, person, acknowledgement, language: str) -> bytes:
    person.language = language
    person.save()
    client.force_login(person)
    response = client.get(reverse("evidence:receipt", args=[acknowledgement.pk]))
    assert response.status_code == 200
    return response.content


def _pdf_language(content: bytes) -> str:
    return str(PdfReader(io.BytesIO(content)).trailer["/Root"]["/Lang"])


def test_a_receipt_is_written_in_german_for_a_german_reader(client, zoe, zoes_acknowledgement):
    # Passes once locale/parts/evidence.json is merged into the catalogs.
    text = pdf_text(_receipt(client, zoe, zoes_acknowledgement, "de"))

    assert "Quittung der Lesebestätigung" in text
    assert (
        f"Datensatz Nr. {zoes_acknowledgement.sequence} in der Kette der Lesebestätigungen" in text
    )
    assert "Geprüft bei Ausstellung dieser Quittung" in text
    assert "Seite 1 von 1" in text
    assert "Checked when this receipt was issued" not in text


def test_a_receipt_is_built_with_its_readers_language_active(client, zoe, zoes_acknowledgement):
    """Django's own catalogs name the months: a French reader's receipt says the month
    in French and declares itself French, whoever else asks in English meanwhile."""
    french = _receipt(client, zoe, zoes_acknowledgement, "fr")
    english = _receipt(client, zoe, zoes_acknowledgement, "en-gb")
    acknowledged = timezone.localtime(zoes_acknowledgement.acknowledged_at)
    with translation.override("fr"):
        mois = dateformat.format(acknowledged, "F")
    with translation.override("en-gb"):
        month = dateformat.format(acknowledged, "F")

    assert _pdf_language(french) == "fr"
    assert f"{acknowledged.day} {mois} {acknowledged.year}" in pdf_text(french)
    assert month not in pdf_text(french)
    assert _pdf_language(english) == "en-gb"
    assert f"{acknowledged.day} {month} {acknowledged.year}" in pdf_text(english)


def test_a_german_receipt_is_recognised_on_check_a_document(
    client, zoe, zoes_acknowledgement, policy_admin
):
    content = _receipt(client, zoe, zoes_acknowledgement, "de")
    document = EvidenceDocument.objects.get()
    client.force_login(policy_admin)  # an English reader checks the German file
    page = client.post(
        reverse("evidence:verify"), {"file": SimpleUploadedFile("quittung.pdf", content)}
    ).content.decode()

    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert "Yes: PolicyHub issued this document, unchanged." in page
    assert document.reference in page


def test_the_manifest_keeps_a_german_receipts_title_in_the_sites_language(
    client, zoe, zoes_acknowledgement
):
    """Other people read the manifest, each in their own language: its title is written
    in English, while the file is German."""
    _receipt(client, zoe, zoes_acknowledgement, "de")

    assert EvidenceDocument.objects.get().title == (
        f"Acknowledgement receipt #{zoes_acknowledgement.sequence}: Zoë Ångström-Müller, "
        "Social media policy 1.0"
    )
