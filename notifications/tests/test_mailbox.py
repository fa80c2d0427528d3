"""The site admins' mailbox: mail written by Django's file backend, listed and rendered."""

import os
from datetime import UTC, datetime
from email.mime.text import MIMEText

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from notifications.mailbox import get_mail, list_mail

pytestmark = pytest.mark.django_db

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
LIST_URL = reverse("notifications:mailbox")
SENDER = "PolicyHub <policyhub@example.com>"
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
    "SUMMARY:Lunch briefing\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
SCRIPT = "<script>alert('mailbox')</script>"


def message_url(mail_id: str) -> str:
    return reverse("notifications:mailbox_message", args=[mail_id])


@pytest.fixture
def folder(settings, tmp_path):
    settings.EMAIL_BACKEND = FILE_BACKEND
    settings.EMAIL_FILE_PATH = tmp_path
    return tmp_path


@pytest.fixture
def send(folder):
    """Send messages through one connection (one file), dated a minute after the last file."""
    # Held so that no connection's id(), part of the file name, is reused by the next one.
    connections = []

    def send(*messages):
        before = set(folder.iterdir())
        connection = mail.get_connection()
        connections.append(connection)
        assert connection.send_messages(list(messages)) == len(messages)
        (written,) = set(folder.iterdir()) - before
        stamp = 1_780_000_000 + 60 * len(connections)
        os.utime(written, (stamp, stamp))
        return written

    return send


def plain(
    subject: str, to: str = "emily@example.com", body: str = "Hello."
) -> EmailMultiAlternatives:
    return EmailMultiAlternatives(subject, body, SENDER, [to])


def invitation(subject: str = "Your lunch briefing") -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject, "Text body: see you at lunch.", SENDER, ["emily@example.com"]
    )
    message.attach_alternative(f"<p>Lunch at <b>noon</b></p>{SCRIPT}", "text/html")
    invite = MIMEText(ICS, "calendar", "utf-8")
    invite.set_param("method", "REQUEST")
    invite.add_header("Content-Disposition", "attachment", filename="briefing.ics")
    message.attach(invite)
    return message


def subjects(response) -> list[str]:
    return [stored.subject for stored in response.context["page"].object_list]


def test_list_shows_newest_mail_first_with_subjects_and_recipients(client, site_admin, send):
    send(plain("First", to="first@example.com"))
    send(plain("Second", to="second@example.com"))
    send(plain("Third", to="third@example.com"), plain("Fourth", to="fourth@example.com"))
    client.force_login(site_admin)

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert subjects(response) == ["Fourth", "Third", "Second", "First"]
    page = response.content.decode()
    positions = [page.index(f"{name}@example.com") for name in ("fourth", "third", "second")]
    assert positions == sorted(positions)
    assert '<th scope="col">Subject</th>' in page
    assert message_url(response.context["page"].object_list[0].id) in page


def test_list_pages_thirty_messages_as_twenty_five_and_five(client, site_admin, send):
    for batch in range(3):
        send(*(plain(f"Reminder {batch * 10 + n:02}") for n in range(10)))
    client.force_login(site_admin)

    first = client.get(LIST_URL)
    second = client.get(LIST_URL, {"page": 2})

    assert subjects(first) == [f"Reminder {n:02}" for n in range(29, 4, -1)]
    assert subjects(second) == [f"Reminder {n:02}" for n in range(4, -1, -1)]
    assert "1–25 of 30 messages" in first.content.decode()
    assert "?page=2" in first.content.decode()
    assert subjects(client.get(LIST_URL, {"page": "nonsense"})) == subjects(first)
    assert subjects(client.get(LIST_URL, {"page": 99})) == subjects(second)


def test_list_mail_returns_a_page_and_the_total(send, folder):
    send(*(plain(f"Note {n}") for n in range(7)))

    page, total = list_mail(folder, page=2, per_page=3)

    assert total == 7
    assert [stored.subject for stored in page] == ["Note 3", "Note 2", "Note 1"]
    assert list_mail(folder, page=4, per_page=3) == ([], 7)


def test_message_page_renders_text_attachment_and_html_in_a_sandboxed_iframe(
    client, site_admin, send
):
    send(invitation())
    client.force_login(site_admin)
    (stored,) = client.get(LIST_URL).context["page"].object_list

    response = client.get(message_url(stored.id))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Your lunch briefing" in page
    assert "<pre" in page and "Text body: see you at lunch." in page
    assert "briefing.ics" in page
    assert "text/calendar; charset=utf-8; method=REQUEST" in page
    assert '<iframe sandbox="" ' in page
    assert 'title="HTML version of the message' in page
    assert 'srcdoc="&lt;p&gt;Lunch at &lt;b&gt;noon&lt;/b&gt;&lt;/p&gt;&lt;script&gt;' in page
    assert SCRIPT not in page
    assert "<script>alert" not in page


def test_stored_mail_has_decoded_headers_an_aware_date_and_attachment_details(send, folder):
    before = datetime.now(UTC).replace(microsecond=0)
    send(invitation(subject="Café policy — please read"))

    (stored,), total = list_mail(folder, page=1)

    assert total == 1
    assert stored.subject == "Café policy — please read"
    assert stored.from_ == SENDER and stored.to == "emily@example.com"
    assert stored.date.tzinfo is not None and stored.date >= before
    assert stored.html_body.startswith("<p>Lunch at")
    (attachment,) = stored.attachments
    assert attachment.filename == "briefing.ics"
    assert attachment.content_type == "text/calendar; charset=utf-8; method=REQUEST"
    assert attachment.size == len(ICS.encode())
    assert get_mail(folder, stored.id) == stored


def test_a_line_of_dashes_in_a_body_does_not_split_the_message(send, folder):
    body = "Before\n" + "-" * 79 + "\nNote: after the line\n" + "-" * 79
    send(plain("Dashes", body=body), plain("Next"))

    page, total = list_mail(folder, page=1)

    assert total == 2
    assert [stored.subject for stored in page] == ["Next", "Dashes"]
    assert "Note: after the line" in page[1].text_body


def test_a_message_still_being_written_is_left_out_and_a_missing_date_uses_the_file_time(
    folder,
):
    complete = b"Subject: Undated\nTo: a@example.com\n\nBody\n" + b"-" * 79 + b"\n"
    (folder / "20261125-143210-1.log").write_bytes(complete + b"Subject: Half writ")
    os.utime(folder / "20261125-143210-1.log", (1_780_000_000, 1_780_000_000))

    (stored,), total = list_mail(folder, page=1)

    assert total == 1
    assert stored.id == "20261125-143210-1-0"
    assert stored.date == datetime.fromtimestamp(1_780_000_000, tz=UTC)


@pytest.mark.parametrize(
    "path",
    [
        "/notifications/mail/20261125-143210-1-0/",  # no such file
        "/notifications/mail/..%2F..%2Fetc%2Fpasswd/",
        "/notifications/mail/../x.log/",
        "/notifications/mail/x.txt/",
        "/notifications/mail/x.log/",
        "/notifications/mail/outside-0/",  # a symlink out of the folder
    ],
)
def test_unknown_and_path_traversal_ids_are_not_found(
    client, site_admin, send, folder, tmp_path_factory, path
):
    written = send(plain("Real"))
    (folder / "x.txt").write_bytes(written.read_bytes())
    (folder / "x.log").write_bytes(written.read_bytes())
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "secret.log"
    elsewhere.write_bytes(written.read_bytes())
    (folder / "outside.log").symlink_to(elsewhere)
    client.force_login(site_admin)

    assert client.get(path).status_code == 404


def test_an_index_past_the_end_of_a_file_is_not_found(client, site_admin, send):
    written = send(plain("Only one"))
    client.force_login(site_admin)

    assert client.get(message_url(f"{written.stem}-0")).status_code == 200
    assert client.get(message_url(f"{written.stem}-1")).status_code == 404


@pytest.mark.parametrize(
    "mail_id",
    ["../x", "x.txt", "/etc/passwd", "x", "x-", "-0", "x-0/..", "x-0\n", ".hidden-0", "x-99999999"],
)
def test_get_mail_refuses_malformed_ids(send, folder, mail_id):
    send(plain("Real"))

    assert get_mail(folder, mail_id) is None


@pytest.mark.parametrize(
    "role", ["employee", "manager", "comms", "hr", "policy_admin", "leader", "outsider"]
)
def test_mailbox_is_refused_to_everyone_but_site_admins(client, request, send, role):
    written = send(plain("Private"))
    request.getfixturevalue("employee")  # so that the manager has a report
    client.force_login(request.getfixturevalue(role))

    assert client.get(LIST_URL).status_code == 403
    assert client.get(message_url(f"{written.stem}-0")).status_code == 403


def test_mailbox_asks_anonymous_visitors_to_log_in(client, send):
    written = send(plain("Private"))

    for url in (LIST_URL, message_url(f"{written.stem}-0")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_with_smtp_the_page_says_mail_is_not_stored_here(client, site_admin, send, settings):
    written = send(plain("Written before SMTP was configured"))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "smtp.example.com"
    client.force_login(site_admin)

    page = client.get(LIST_URL).content.decode()

    assert "Mail is sent through SMTP (smtp.example.com) and is not stored here" in page
    assert "Written before SMTP" not in page
    assert client.get(message_url(f"{written.stem}-0")).status_code == 404


@pytest.mark.parametrize("exists", [True, False])
def test_an_empty_mailbox_says_no_mail_has_been_sent(client, site_admin, folder, settings, exists):
    if not exists:
        settings.EMAIL_FILE_PATH = folder / "not-created-yet"
    client.force_login(site_admin)

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert "No mail has been sent yet." in response.content.decode()


def test_list_page_queries_do_not_grow_with_the_mail(
    client, site_admin, send, django_assert_max_num_queries
):
    client.force_login(site_admin)
    send(plain("One"))
    # A site admin's session passed the second factor: django-otp loads the device.
    with django_assert_max_num_queries(5):
        assert len(subjects(client.get(LIST_URL))) == 1

    for _ in range(4):
        send(*(plain(f"Many {n}") for n in range(10)), invitation())
    with django_assert_max_num_queries(5):
        assert len(subjects(client.get(LIST_URL))) == 25
