"""Evidence uploads: checked by content, not by name; a size limit; a SHA-256; never
edited, only withdrawn; files served only to the team, as attachments."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from incidents import evidence as evidence_files
from incidents import services
from incidents.models import Evidence, IncidentError, IncidentEvent

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
PDF = b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\n%%EOF\n"
TEXT = "Captured at 10:04: “the launch is on the 12th” — Emily\n\tend\r\n".encode()
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 40


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def incident(employee, comms, make_person):
    incident = services.report_incident(
        reporter=employee, what_happened="A post about the launch.", self_reported=True
    )
    return services.assign_owner(incident=incident, owner=comms, by=comms)


def upload(client, incident, content: bytes, name: str, **fields):
    return client.post(
        reverse("incidents:evidence_upload", args=[incident.pk]),
        {"file": SimpleUploadedFile(name, content, content_type="image/png"), **fields},
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(
    "content, name, content_type",
    [
        (PNG, "screenshot.png", "image/png"),
        (JPEG, "photo.jpg", "image/jpeg"),
        (WEBP, "capture.webp", "image/webp"),
        (PDF, "export.pdf", "application/pdf"),
        (TEXT, "notes.txt", "text/plain"),
    ],
)
def test_accepted_types_are_stored_with_hash_size_and_type(
    client, comms, incident, content, name, content_type
):
    client.force_login(comms)
    response = upload(client, incident, content, name, url="https://x.com/post/1")
    evidence = Evidence.objects.get()
    assert evidence.content_type == content_type
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert evidence.size == len(content)
    assert evidence.original_name == name
    assert evidence.captured_by == comms
    # Stored under MEDIA_ROOT, named by the hash, never by the uploaded name.
    assert evidence.file.name == f"evidence/{incident.pk}/{evidence.sha256}"
    with evidence.file.open("rb") as stored:
        assert stored.read() == content
    assert evidence.sha256 in response.content.decode()  # the SHA-256 is shown
    assert IncidentEvent.objects.filter(incident=incident, what="evidence").exists()


def test_a_pdf_renamed_png_is_stored_as_a_pdf(client, comms, incident):
    client.force_login(comms)
    upload(client, incident, PDF, "innocent.png")
    assert Evidence.objects.get().content_type == "application/pdf"


@pytest.mark.parametrize("content", [ELF, EXE], ids=["elf", "windows-exe"])
def test_an_executable_renamed_png_is_refused(client, comms, incident, content):
    client.force_login(comms)
    response = upload(client, incident, content, "screenshot.png")
    assert any("not one PolicyHub keeps as evidence" in m for m in messages_of(response))
    assert not Evidence.objects.exists()


@pytest.mark.parametrize(
    "content",
    [b"binary\x00with a NUL", b"\x1b[31mterminal escape", "café".encode("latin-1")],
    ids=["nul", "control-character", "not-utf8"],
)
def test_binary_that_is_not_text_is_refused(content):
    with pytest.raises(IncidentError):
        evidence_files.check_upload(SimpleUploadedFile("a.txt", content))


def test_an_empty_file_is_refused():
    with pytest.raises(IncidentError, match="empty"):
        evidence_files.check_upload(SimpleUploadedFile("a.txt", b""))


@override_settings(INCIDENT_EVIDENCE_MAX_BYTES=1024)
def test_an_oversize_file_is_refused_with_a_clear_message(client, comms, incident):
    client.force_login(comms)
    response = upload(client, incident, PNG + b"\x00" * 1024, "big.png")
    assert "The file is larger than 1 KB." in messages_of(response)
    assert not Evidence.objects.exists()
    upload(client, incident, PNG, "small.png")
    assert Evidence.objects.count() == 1


def test_the_default_limit_reads_10_mb(settings):
    assert settings.INCIDENT_EVIDENCE_MAX_BYTES == 10 * 1024 * 1024
    assert evidence_files.readable_size(settings.INCIDENT_EVIDENCE_MAX_BYTES) == "10 MB"


def test_a_link_alone_is_evidence_but_nothing_at_all_is_not(client, comms, incident):
    client.force_login(comms)
    url = reverse("incidents:evidence_upload", args=[incident.pk])
    response = client.post(url, {"note": "Nothing else"}, follow=True)
    assert any("a file or a link" in m for m in messages_of(response))
    client.post(url, {"url": "https://x.com/post/2", "platform": "x", "handle": "@launch"})
    evidence = Evidence.objects.get()
    assert (evidence.url, evidence.handle, evidence.sha256) == (
        "https://x.com/post/2",
        "@launch",
        "",
    )


def test_withdrawing_needs_a_reason_and_keeps_the_row(client, comms, incident):
    evidence = evidence_files.capture(
        incident=incident, by=comms, upload=SimpleUploadedFile("a.png", PNG)
    )
    client.force_login(comms)
    url = reverse("incidents:evidence_withdraw", args=[incident.pk, evidence.pk])
    response = client.post(url, {"reason": "  "}, follow=True)
    assert any("Say why" in m for m in messages_of(response))
    evidence.refresh_from_db()
    assert evidence.withdrawn_at is None

    client.post(url, {"reason": "Captured the wrong account."})
    evidence.refresh_from_db()
    assert evidence.withdrawn_at is not None
    assert evidence.withdrawn_by == comms
    assert evidence.withdrawn_reason == "Captured the wrong account."
    assert evidence.sha256 == hashlib.sha256(PNG).hexdigest()  # the rest is untouched
    assert Evidence.objects.count() == 1
    with pytest.raises(IncidentError, match="already withdrawn"):
        evidence_files.withdraw(evidence=evidence, by=comms, reason="Again")


def test_evidence_has_no_edit_or_delete_page(client, comms, incident):
    evidence = evidence_files.capture(
        incident=incident, by=comms, upload=SimpleUploadedFile("a.png", PNG)
    )
    client.force_login(comms)
    base = f"/incidents/{incident.pk}/evidence/{evidence.pk}/"
    for suffix in ("edit/", "delete/"):
        assert client.post(base + suffix, {"note": "changed"}).status_code == 404


# --- the file view --------------------------------------------------------------------


@pytest.fixture
def stored(incident, comms):
    return evidence_files.capture(
        incident=incident, by=comms, upload=SimpleUploadedFile("<script>.png", PDF)
    )


def file_url(evidence) -> str:
    return reverse("incidents:evidence_file", args=[evidence.incident_id, evidence.pk])


@pytest.mark.parametrize("role", ["comms", "hr", "leader"])
def test_the_file_is_served_to_the_team_as_an_attachment(request, client, role, stored):
    client.force_login(request.getfixturevalue(role))
    response = client.get(file_url(stored))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="{stored.incident.reference}-evidence-{stored.pk}.pdf"' in disposition
    assert "script" not in disposition
    assert b"".join(response.streaming_content) == PDF


def test_the_file_is_not_found_for_anyone_else(client, employee, outsider, manager, stored, comms):
    # The reporter (here: the self-reporter) and an action owner see the incident, not its
    # evidence; an outsider does not see the incident at all.
    services.add_action(incident=stored.incident, by=comms, title="Coach", owner=manager)
    for person in (employee, manager, outsider):
        client.force_login(person)
        assert client.get(file_url(stored)).status_code == 404


def test_evidence_of_another_incident_is_not_served_through_this_one(
    client, comms, stored, employee
):
    other = services.report_incident(reporter=employee, what_happened="Another post.")
    client.force_login(comms)
    url = reverse("incidents:evidence_file", args=[other.pk, stored.pk])
    assert client.get(url).status_code == 404


def test_a_link_without_a_file_has_no_download(client, comms, incident):
    evidence = evidence_files.capture(incident=incident, by=comms, url="https://x.com/p/3")
    client.force_login(comms)
    assert client.get(file_url(evidence)).status_code == 404
