"""Reminders in Slack and Microsoft Teams, through the one outbox: sent once, retried
with backoff, and by email when chat fails for good. A local HTTP server stands in for
Slack and Teams and records what it receives."""

import json
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.template.loader import get_template
from django.urls import reverse

from notifications import chat
from notifications.emails import Attachment
from notifications.models import Channel, Notification, Preference
from notifications.registry import ReminderKind, all_kinds, register, unregister
from notifications.services import notify, plan_due, resend, send_due, set_preferences
from notifications.tasks import send_due_reminders
from notifications.tests.receiver import Reply

pytestmark = [pytest.mark.usefixtures("example_kinds")]
Status = Notification.Status
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("UTC"))
PREFERENCES = reverse("notifications:preferences")


def on_chat(person, channel, url="", *, member_id="", delivery="immediate"):
    Preference.objects.update_or_create(
        user=person,
        defaults={
            "delivery": delivery,
            "channel": channel,
            "chat_webhook_url": url,
            "slack_member_id": member_id,
        },
    )
    return person


def slack_text(request) -> str:
    return json.loads(request.body)["text"]


def teams_text(request) -> str:
    """The card's text: lines of a paragraph (no spacing) on their own line."""
    card = json.loads(request.body)["attachments"][0]["content"]
    text = ""
    for block in card["body"]:
        assert block["type"] == "TextBlock" and block["wrap"] is True
        gap = "\n" if block.get("spacing") == "None" else "\n\n"
        text += (gap if text else "") + block["text"]
    return text


# --- templates ---------------------------------------------------------------------------


def test_every_kind_has_a_chat_template_next_to_its_email_templates():
    prefixes = {kind.template_prefix for kind in all_kinds()}
    prefixes |= {"emails/escalation", "emails/digest"}
    assert {"emails/policy-published", "emails/training-booking-confirmed"} <= prefixes
    for prefix in sorted(prefixes):
        get_template(f"{prefix}-body.txt")  # the email's own templates are its neighbours
        get_template(f"{prefix}-chat.txt")
        context = {"title": "Lunch", "url": "https://x/1", "queue_url": "/q/"}
        context["training_url"] = "https://x/training/"
        for channel in chat.CHAT_CHANNELS:  # renders, even with little context
            text = chat.render(prefix, context, channel)
            assert text and "{%" not in text and "&#x27;" not in text


@pytest.mark.django_db
def test_slack_text_escapes_what_people_typed_and_teams_shows_it_as_typed(make_person):
    context = {"title": "O'Brien <!channel> & co", "url": "https://policyhub.example/p/1?a=1&b=2"}
    slack = chat.render("emails/example-reminder", context, Channel.SLACK)
    assert slack == "<https://policyhub.example/p/1?a=1&amp;b=2|O'Brien &lt;!channel&gt; &amp; co>"
    teams = chat.render("emails/example-reminder", {**context, "title": "[x] O'B"}, Channel.TEAMS)
    assert teams == "[\\[x\\] O'B](https://policyhub.example/p/1?a=1&b=2)"


# --- sending -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_slack_reminder_is_posted_once_however_often_the_sender_runs(
    make_person, receiver, settings
):
    settings.SITE_URL = "https://policyhub.example.com"
    person = on_chat(
        make_person(job_title="", location="x", full_name="Ana Lopez"),
        Channel.SLACK,
        receiver.url("/slack/ana"),
    )
    plan_due(now=NOON)
    assert send_due(now=NOON).by_chat == 1
    for _ in range(3):
        assert send_due(now=NOON + timedelta(minutes=5)).sent == 0
    send_due_reminders()  # the periodic task, as a worker retrying it would
    (request,) = receiver.received
    assert request.path == "/slack/ana"
    assert request.headers["Content-Type"].startswith("application/json")
    assert slack_text(request) == (
        f"<https://policyhub.example.com/people/{person.pk}/|Add a job title for Ana Lopez>"
    )
    assert mail.outbox == []
    row = Notification.objects.get()
    assert (row.status, row.channel, row.attempts) == (Status.SENT, Channel.SLACK, 1)


@pytest.mark.django_db
def test_teams_reminder_is_an_adaptive_card_with_a_markdown_link(make_person, receiver):
    person = on_chat(make_person(job_title="", location="x"), Channel.TEAMS, receiver.url())
    plan_due(now=NOON)
    send_due(now=NOON)
    (request,) = receiver.received
    body = json.loads(request.body)
    assert body["type"] == "message"
    attachment = body["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert teams_text(request) == (
        f"[Add a job title for {person.full_name}](http://127.0.0.1:8000/people/{person.pk}/)"
    )
    assert Notification.objects.get().channel == Channel.TEAMS


@pytest.mark.django_db
def test_slack_app_writes_to_the_member_with_its_token(make_person, receiver, settings):
    settings.SLACK_BOT_TOKEN = "xoxb-test-token"
    settings.SLACK_API_BASE = receiver.url("/api")
    receiver.default = Reply(200, b'{"ok": true, "ts": "1.2"}')
    on_chat(make_person(job_title="", location="x"), Channel.SLACK, member_id="U012AB3CD")
    plan_due(now=NOON)
    assert send_due(now=NOON).by_chat == 1
    (request,) = receiver.received
    assert request.path == "/api/chat.postMessage"
    assert request.headers["Authorization"] == "Bearer xoxb-test-token"
    body = json.loads(request.body)
    assert body["channel"] == "U012AB3CD" and "Add a job title for" in body["text"]


@pytest.mark.django_db
def test_slack_app_refusal_goes_by_email_and_rate_limits_are_retried(
    make_person, receiver, settings
):
    settings.SLACK_BOT_TOKEN = "xoxb-test-token"
    settings.SLACK_API_BASE = receiver.url("/api")
    receiver.reply(
        Reply(200, b'{"ok": false, "error": "ratelimited"}'),
        Reply(200, b'{"ok": false, "error": "channel_not_found"}'),
    )
    on_chat(make_person(job_title="", location="x"), Channel.SLACK, member_id="U012AB3CD")
    plan_due(now=NOON)
    assert send_due(now=NOON).retrying == 1
    row = Notification.objects.get()
    assert row.status == Status.PLANNED and "ratelimited" in row.last_error
    result = send_due(now=NOON + timedelta(minutes=1))
    assert (result.fell_back, result.sent, result.by_chat) == (1, 1, 0)
    row.refresh_from_db()
    assert row.channel == Channel.EMAIL and "channel_not_found" in row.chat_error
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_transient_chat_failures_are_retried_with_backoff_then_delivered_once(
    make_person, receiver
):
    receiver.reply(Reply(503, b"busy"), Reply(429, b"slow down", {"Retry-After": "300"}))
    on_chat(make_person(job_title="", location="x"), Channel.SLACK, receiver.url())
    plan_due(now=NOON)
    assert send_due(now=NOON).retrying == 1
    row = Notification.objects.get()
    assert (row.status, row.attempts) == (Status.PLANNED, 1)
    assert row.send_after == NOON + timedelta(seconds=60)
    assert row.last_error.startswith("Slack: HTTP 503")
    assert send_due(now=NOON + timedelta(seconds=30)).sent == 0  # backing off
    second = NOON + timedelta(seconds=60)
    assert send_due(now=second).retrying == 1
    row.refresh_from_db()
    # Slack asked for five minutes, longer than the backoff's two.
    assert row.send_after == second + timedelta(seconds=300)
    assert send_due(now=second + timedelta(seconds=120)).sent == 0
    assert send_due(now=second + timedelta(seconds=300)).by_chat == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.channel, row.last_error) == (
        Status.SENT,
        3,
        Channel.SLACK,
        "",
    )
    assert len(receiver.received) == 3 and mail.outbox == []


@pytest.mark.django_db
def test_a_receiver_that_does_not_answer_in_time_is_tried_again(make_person, receiver, settings):
    settings.NOTIFICATIONS_HTTP_TIMEOUT_SECONDS = 0.3
    receiver.reply(Reply(200, delay=1.5))
    on_chat(make_person(job_title="", location="x"), Channel.TEAMS, receiver.url())
    plan_due(now=NOON)
    assert send_due(now=NOON).retrying == 1
    assert "No answer within 0.3 seconds" in Notification.objects.get().last_error
    assert send_due(now=NOON + timedelta(minutes=1)).by_chat == 1


@pytest.mark.django_db
def test_a_refused_chat_reminder_comes_by_email_once_and_the_person_is_told(
    client, make_person, receiver
):
    receiver.default = Reply(404, b"no_service")
    person = on_chat(make_person(job_title="", location="x"), Channel.SLACK, receiver.url())
    plan_due(now=NOON)
    result = send_due(now=NOON)
    assert (result.fell_back, result.sent, result.by_chat) == (1, 1, 0)
    assert [m.to for m in mail.outbox] == [[person.email]]
    row = Notification.objects.get()
    assert (row.status, row.channel) == (Status.SENT, Channel.EMAIL)
    assert row.chat_error == "Slack: HTTP 404 Not Found"  # never what answered
    for _ in range(3):
        send_due(now=NOON + timedelta(hours=1))
    assert len(receiver.received) == 1 and len(mail.outbox) == 1
    client.force_login(person)
    page = client.get(PREFERENCES).content.decode()
    assert "Your last Slack reminder could not be delivered" in page
    assert "HTTP 404 Not Found" in page and "no_service" not in page


@pytest.mark.django_db
def test_chat_failing_past_the_last_attempt_comes_by_email(make_person, receiver, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    receiver.default = Reply(500, b"down")
    on_chat(make_person(job_title="", location="x"), Channel.TEAMS, receiver.url())
    plan_due(now=NOON)
    assert send_due(now=NOON).retrying == 1
    result = send_due(now=NOON + timedelta(minutes=1))
    assert (result.fell_back, result.sent) == (1, 1)
    row = Notification.objects.get()
    assert (row.status, row.channel, row.attempts) == (Status.SENT, Channel.EMAIL, 1)
    assert "Microsoft Teams: HTTP 500" in row.chat_error
    assert len(receiver.received) == 2 and len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_redirect_is_not_followed(make_person, receiver):
    receiver.reply(Reply(302, b"", {"Location": "https://elsewhere.example.com/hook"}))
    on_chat(make_person(job_title="", location="x"), Channel.SLACK, receiver.url())
    plan_due(now=NOON)
    assert send_due(now=NOON).fell_back == 1
    assert len(receiver.received) == 1
    assert (
        "redirects to https://elsewhere.example.com/hook" in Notification.objects.get().chat_error
    )


@pytest.mark.django_db
def test_a_failed_email_after_a_chat_fallback_is_resent_by_the_current_choice(
    make_person, receiver, settings
):
    settings.EMAIL_BACKEND = "notifications.tests.backends.FlakyBackend"
    from notifications.tests.backends import FlakyBackend

    FlakyBackend.calls, FlakyBackend.failures = 0, 99
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    receiver.reply(Reply(410, b"channel_is_archived"))
    on_chat(make_person(job_title="", location="x"), Channel.SLACK, receiver.url())
    plan_due(now=NOON)
    send_due(now=NOON)
    row = Notification.objects.get()
    assert (row.status, row.channel) == (Status.FAILED, Channel.EMAIL)  # both failed
    resend(notification=row)
    assert send_due().by_chat == 1  # Slack works again: it goes there
    row.refresh_from_db()
    assert (row.status, row.channel) == (Status.SENT, Channel.SLACK)


@pytest.mark.django_db
def test_a_digest_is_one_chat_message(make_person, receiver):
    person = on_chat(
        make_person(job_title="", location="", time_zone="Europe/London"),
        Channel.TEAMS,
        receiver.url(),
        delivery="digest",
    )
    plan_due(now=datetime(2026, 11, 25, 7, 0, tzinfo=ZoneInfo("UTC")))
    result = send_due(now=datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Europe/London")))
    assert (result.digests, result.sent, result.by_chat) == (1, 2, 2)
    (request,) = receiver.received
    text = teams_text(request)
    assert text.startswith("**Your PolicyHub reminders: 2 items**")
    assert "\n\nWaiting for you:\n• [" in text
    assert f"• [Add a job title for {person.full_name}]" in text
    assert text.count("• [") == 2  # and the optional tip
    assert "as one message at 09:00 on working days" in text
    assert mail.outbox == []


class InviteKind(ReminderKind):
    name = "example-with-invite"
    label = "A calendar invite"
    urgent = True
    template_name = "example-reminder"

    def attachments(self, notification):
        return [Attachment("invite.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")]


@pytest.mark.django_db
def test_reminders_with_a_calendar_invite_still_come_by_email(make_person, receiver):
    register(InviteKind)
    try:
        person = on_chat(make_person(), Channel.SLACK, receiver.url())
        notify(kind="example-with-invite", subject=person, recipient=person, stage="one")
        notify(kind="example-urgent-event", subject=person, recipient=person, stage="one")
        result = send_due()
    finally:
        unregister("example-with-invite")
    assert (result.sent, result.by_chat) == (2, 1)
    assert len(receiver.received) == 1
    (invite,) = mail.outbox
    assert invite.attachments[0].get_filename() == "invite.ics"
    channels = dict(Notification.objects.values_list("kind", "channel"))
    assert channels == {"example-with-invite": "email", "example-urgent-event": "slack"}


@pytest.mark.django_db
def test_switching_back_to_email_sends_what_is_still_planned_by_email(make_person, receiver):
    person = on_chat(make_person(job_title="", location="x"), Channel.SLACK, receiver.url())
    plan_due(now=NOON)
    set_preferences(user=person, delivery="immediate", switched_off=set(), channel="email")
    assert send_due(now=NOON).sent == 1
    assert receiver.received == [] and len(mail.outbox) == 1
    preference = Preference.objects.get(user=person)
    assert (preference.channel, preference.chat_webhook_url) == (Channel.EMAIL, "")


@pytest.mark.django_db
def test_a_published_policy_reaches_slack_with_its_link(make_person, receiver, settings):
    from policies.tests.factories import published_policy

    settings.SITE_URL = "https://policyhub.example.com"
    reader = on_chat(make_person(), Channel.SLACK, receiver.url("/reader"))
    owner, approver = make_person(), make_person()
    policy, version = published_policy(title="Social media & you", owner=owner, approver=approver)
    send_due()
    (request,) = receiver.to("/reader")
    text = slack_text(request)
    assert text.startswith("*Social media &amp; you version 1.0 is published*")
    assert f"<https://policyhub.example.com/policies/{policy.slug}/|read and acknowledge>" in text
    assert Notification.objects.get(recipient=reader).channel == Channel.SLACK


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_three_senders_at_once_post_each_chat_reminder_once(make_person, receiver, settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 5
    people = [
        on_chat(make_person(job_title="", location="x"), Channel.SLACK, receiver.url(f"/p/{n}"))
        for n in range(25)
    ]
    plan_due(now=NOON)
    start = threading.Barrier(3)
    errors = []

    def sender():
        try:
            start.wait()
            send_due(now=NOON)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(request.path for request in receiver.received) == sorted(
        f"/p/{n}" for n in range(len(people))
    )
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


# --- the preferences page ------------------------------------------------------------------


def _post(client, **fields):
    data = {"channel": "email", "delivery": "digest", "receive": ["example-optional-tip"]}
    data.update(fields)
    return client.post(PREFERENCES, data)


@pytest.mark.django_db
def test_choosing_slack_with_a_webhook_address(client, employee):
    client.force_login(employee)
    page = client.get(PREFERENCES).content.decode()
    assert "Send my reminders by" in page and "Microsoft Teams" in page
    assert "Slack member ID" not in page  # no Slack app set up
    url = "https://hooks.slack.com/services/T000/B000/XXXX"
    response = _post(client, channel="slack", chat_webhook_url=f"  {url} ")
    assert response.status_code == 302
    preference = Preference.objects.get(user=employee)
    assert (preference.channel, preference.chat_webhook_url) == ("slack", url)
    assert f'value="{url}"' in client.get(PREFERENCES).content.decode()


@pytest.mark.django_db
def test_teams_workflow_addresses_are_accepted(client, employee):
    client.force_login(employee)
    url = (
        "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/"
        "invoke?api-version=2016-06-01&sig=xyz"
    )
    assert _post(client, channel="teams", chat_webhook_url=url).status_code == 302
    assert Preference.objects.get(user=employee).chat_webhook_url == url


LONG = "https://hooks.slack.com/services/" + "x" * 480


@pytest.mark.parametrize(
    "channel, address, message",
    [
        ("slack", "", "Slack needs the address of an incoming webhook that posts to you."),
        ("slack", "hooks.slack.com/services/x", "must be a web address starting with https://"),
        ("slack", "ftp://hooks.slack.com/x", "must be a web address starting with https://"),
        ("slack", "http://hooks.slack.com/services/x", "must start with https://"),
        ("slack", "http://127.0.0.1:9999/hook", "plain http is not secure"),
        ("slack", "https://evil.example.com/services/x", "this one is on evil.example.com"),
        ("slack", "https://hooks.slack.com.evil.example/x", "this one is on hooks.slack.com.evil"),
        ("teams", "https://hooks.slack.com/services/x", "A Microsoft Teams webhook address is on"),
        ("teams", "https://me:pw@x.webhook.office.com/h", "must not contain a user name"),
        ("teams", "https://x.webhook.office.com/a\x00b", "Null characters are not allowed"),
        ("slack", "https://hooks.slack.com/a b", "contains spaces or control characters"),
        ("slack", LONG, "Ensure this value has at most 500 characters"),
    ],
)
@pytest.mark.django_db
def test_bad_chat_settings_are_refused_and_change_nothing(
    client, employee, channel, address, message
):
    Preference.objects.create(user=employee, delivery="immediate")
    client.force_login(employee)
    response = _post(client, channel=channel, chat_webhook_url=address)
    assert response.status_code == 200
    assert message in response.content.decode()
    preference = Preference.objects.get(user=employee)
    assert (preference.channel, preference.delivery, preference.chat_webhook_url) == (
        "email",
        "immediate",
        "",
    )


@pytest.mark.django_db
def test_local_http_addresses_only_where_allowed(client, employee, settings):
    client.force_login(employee)
    settings.NOTIFICATIONS_ALLOW_LOCAL_HTTP = True
    response = _post(client, channel="teams", chat_webhook_url="http://example.com/hook")
    assert "plain http is only for this machine" in response.content.decode()
    assert (
        _post(client, channel="teams", chat_webhook_url="http://127.0.0.1:8025/hook").status_code
        == 302
    )
    assert Preference.objects.get(user=employee).channel == "teams"


@pytest.mark.django_db
def test_slack_member_id_when_policyhub_has_a_slack_app(client, employee, settings):
    settings.SLACK_BOT_TOKEN = "xoxb-test-token"
    client.force_login(employee)
    assert "Slack member ID" in client.get(PREFERENCES).content.decode()
    response = _post(client, channel="slack", slack_member_id="not an id")
    assert "A Slack member ID looks like U012AB3CD" in response.content.decode()
    response = _post(
        client,
        channel="slack",
        slack_member_id="U012AB3CD",
        chat_webhook_url="https://hooks.slack.com/services/x",
    )
    assert "either a webhook address or your Slack member ID, not both" in (
        response.content.decode()
    )
    assert not Preference.objects.exists()
    assert _post(client, channel="slack", slack_member_id="u012ab3cd").status_code == 302
    preference = Preference.objects.get(user=employee)
    assert (preference.channel, preference.slack_member_id) == ("slack", "U012AB3CD")


@pytest.mark.django_db
def test_saving_chat_settings_again_clears_the_failure_shown(client, employee):
    Preference.objects.create(
        user=employee,
        channel="slack",
        chat_webhook_url="https://hooks.slack.com/services/old",
        chat_failed_at=NOON,
        chat_error="Slack: HTTP 404 Not Found: no_service",
    )
    client.force_login(employee)
    assert "could not be delivered" in client.get(PREFERENCES).content.decode()
    _post(client, channel="slack", chat_webhook_url="https://hooks.slack.com/services/new")
    assert "could not be delivered" not in client.get(PREFERENCES).content.decode()
    assert Preference.objects.get(user=employee).chat_error == ""
