import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evidence import forms
from evidence.models import EvidenceDocument, EvidenceError

pytestmark = pytest.mark.django_db

VERIFY = reverse("evidence:verify")


@pytest.fixture
def issued(client, zoe, zoes_acknowledgement):
    """Zoë's receipt as she downloaded it, and its manifest row."""
    client.force_login(zoe)
    content = client.get(reverse("evidence:receipt", args=[zoes_acknowledgement.pk])).content
    return content, EvidenceDocument.objects.get()


def _check(client, content: bytes, name="receipt.pdf"):
    return client.post(VERIFY, {"file": SimpleUploadedFile(name, content)})


def test_an_issued_pdf_is_recognised_with_what_it_is_and_when(client, employee, issued):
    content, document = issued
    client.force_login(employee)  # anyone signed in who holds the file
    page = _check(client, content).content.decode()

    assert "Yes: PolicyHub issued this document, unchanged." in page
    assert document.reference in page
    assert "Acknowledgement receipt #1: Zoë Ångström-Müller, Social media policy 1.0" in page
    assert 'Made by</dt><dd class="col-sm-9">Zoë Ångström-Müller' in page
    assert document.sha256 in page


def test_a_pdf_with_one_byte_changed_is_refused_as_altered(client, issued):
    content, document = issued
    altered = bytearray(content)
    middle = len(altered) // 2
    altered[middle] = (altered[middle] + 1) % 256
    page = _check(client, bytes(altered)).content.decode()

    assert "No: this is not the document PolicyHub issued." in page
    assert (
        f"The file names document {document.reference}, which PolicyHub did issue, but its "
        "content is different: it was changed after it was issued." in page
    )
    assert hashlib.sha256(altered).hexdigest() in page
    # What the altered file names is not described: it could name any document.
    assert "Zoë" not in page.split("Check another document")[0].split("</h1>")[1]


def test_a_pdf_policyhub_never_issued_is_refused(client, issued):
    content, document = issued
    other = content.replace(document.reference.encode(), b"EV-0000-0000-0000")
    page = _check(client, other).content.decode()

    assert "No: PolicyHub did not issue this file." in page
    assert "No document PolicyHub issued has this SHA-256, and the document id it names" in page


def test_a_sha256_typed_in_is_recognised_whatever_its_case_and_spacing(client, issued):
    _, document = issued
    typed = " ".join(document.sha256[i : i + 8] for i in range(0, 64, 8)).upper()
    page = client.post(VERIFY, {"sha256": f"  {typed} "}).content.decode()

    assert "Yes: PolicyHub issued this document, unchanged." in page
    assert document.reference in page


def test_an_unknown_sha256_is_refused(client, issued):
    page = client.post(VERIFY, {"sha256": "ab" * 32}).content.decode()

    assert "No: PolicyHub did not issue this file." in page
    assert "No document PolicyHub issued has this SHA-256." in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "Choose the PDF file, or enter its SHA-256."),
        ({"sha256": "not-a-hash"}, "A SHA-256 is 64 characters, each 0–9 or a–f."),
        ({"sha256": "ab" * 31}, "A SHA-256 is 64 characters, each 0–9 or a–f."),
        (
            {"file": ("notes.txt", b"Just some text, not a PDF.")},
            "This file is not a PDF. Choose the PDF that PolicyHub issued.",
        ),
        (
            {"file": ("receipt.pdf", b"%PDF-1.3 tiny"), "sha256": "ab" * 32},
            "Check either a file or a SHA-256, not both.",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message(client, issued, data, message):
    if "file" in data:
        name, content = data["file"]
        data = {**data, "file": SimpleUploadedFile(name, content)}
    response = client.post(VERIFY, data)

    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert "PolicyHub issued this document" not in page and "did not issue" not in page


def test_an_oversized_upload_is_refused_with_a_message(client, issued, monkeypatch):
    content, _ = issued
    monkeypatch.setattr(forms, "MAX_UPLOAD_BYTES", 1024 * 1024)
    page = _check(client, content + b"\n%" + b"0" * (1024 * 1024)).content.decode()

    assert "This file is 1 MB: PolicyHub issues no document larger than 1 MB" in page
    assert "PolicyHub issued this document" not in page


def test_the_check_changes_nothing(client, issued):
    content, _ = issued
    before = list(EvidenceDocument.objects.values())
    _check(client, content)
    client.post(VERIFY, {"sha256": "ab" * 32})
    assert list(EvidenceDocument.objects.values()) == before


def test_the_verification_page_offers_the_form(client, employee):
    client.force_login(employee)
    page = client.get(VERIFY).content.decode()

    assert '<h1 class="h3 mb-3">Check a document</h1>' in page
    assert 'enctype="multipart/form-data"' in page
    assert "PDF file" in page and "Or its SHA-256" in page
    assert "Check this document" in page


def test_a_manifest_row_is_never_changed_or_deleted(issued):
    _, document = issued
    document.title = "Something else"
    with pytest.raises(EvidenceError):
        document.save()
    with pytest.raises(EvidenceError):
        document.delete()
    assert EvidenceDocument.objects.get().title.startswith("Acknowledgement receipt")
