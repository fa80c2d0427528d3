"""Outgoing webhooks: each event reaches each subscription once, signed, retried with
backoff, failures kept and sent again; the site admins' pages. A local HTTP server
stands in for the receiving system and records what it receives."""

import hashlib
import hmac
import json
import threading
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from notifications import webhooks
from notifications.models import Notification, WebhookDelivery, WebhookSubscription
from notifications.services import NotificationError, plan_due
from notifications.tasks import send_due_reminders
from notifications.tests.dns import FakeDNS
from notifications.tests.receiver import Reply

Status = WebhookDelivery.Status
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("UTC"))
LIST = reverse("notifications:webhooks")
ADD = reverse("notifications:webhook_add")


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    """Addresses under example.com resolve to a public address (see dns.py)."""
    return FakeDNS(monkeypatch)


def verify(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    """The verification snippet of docs/reminders.md, as a receiver would write it."""
    timestamp = headers["X-PolicyHub-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-PolicyHub-Signature"])


def subscribe(url, events=(webhooks.POLICY_PUBLISHED,), name=None, active=True, by=None):
    subscription, secret = webhooks.create_subscription(
        name=name or f"Receiver {WebhookSubscription.objects.count() + 1}",
        url=url,
        events=list(events),
        active=active,
        by=by,
    )
    return subscription, secret


def emit(subject, event=webhooks.POLICY_PUBLISHED, stage="", **data):
    with transaction.atomic():
        return webhooks.emit(
            event=event, subject=subject, data=data or {"n": 1}, now=NOON, stage=stage
        )


# --- delivering ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_event_is_posted_signed_once_however_often_the_sender_runs(employee, receiver):
    subscription, secret = subscribe(receiver.url("/grc"))
    assert emit(employee, title="Social media", when=date(2026, 12, 1)) == 1
    assert webhooks.send_due().sent == 1
    for _ in range(3):
        assert webhooks.send_due().sent == 0
    send_due_reminders()  # the periodic drain, as a worker retrying it would
    (request,) = receiver.received
    assert request.path == "/grc"
    assert verify(secret, request.headers, request.body)
    assert not verify("another secret", request.headers, request.body)
    assert not verify(secret, request.headers, request.body + b" ")
    assert request.headers["X-PolicyHub-Event"] == "policy.published"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    delivery = WebhookDelivery.objects.get()
    assert json.loads(request.body) == {
        "event": "policy.published",
        "id": str(delivery.event_id),
        "occurred_at": "2026-11-25T12:00:00Z",
        "data": {"title": "Social media", "when": "2026-12-01"},
    }
    assert (delivery.status, delivery.attempts, delivery.response_code) == (Status.SENT, 1, 200)
    subscription.refresh_from_db()
    assert (subscription.last_status, subscription.last_response_code) == ("sent", 200)


@pytest.mark.django_db
def test_the_same_event_is_planned_once_and_a_new_stage_is_a_new_event(employee, receiver):
    subscribe(receiver.url())
    assert emit(employee, stage="3") == 1
    assert emit(employee, stage="3") == 0
    assert emit(employee, stage="7") == 1
    webhooks.send_due()
    assert len(receiver.received) == 2
    ids = {json.loads(request.body)["id"] for request in receiver.received}
    assert len(ids) == 2


@pytest.mark.django_db
def test_only_active_subscriptions_to_the_event_receive_it(employee, receiver):
    subscribe(receiver.url("/policies"), events=[webhooks.POLICY_PUBLISHED])
    subscribe(receiver.url("/incidents"), events=[webhooks.INCIDENT_CLOSED])
    subscribe(receiver.url("/off"), events=[webhooks.POLICY_PUBLISHED], active=False)
    subscribe(receiver.url("/both"), events=[webhooks.POLICY_PUBLISHED, webhooks.INCIDENT_CLOSED])
    emit(employee)
    webhooks.send_due()
    assert sorted(request.path for request in receiver.received) == ["/both", "/policies"]
    # One event: the same id in every subscription's body.
    assert len({json.loads(request.body)["id"] for request in receiver.received}) == 1


@pytest.mark.django_db
def test_no_subscription_plans_nothing_and_an_unknown_event_is_refused(employee):
    assert emit(employee) == 0
    assert not WebhookDelivery.objects.exists()
    with pytest.raises(NotificationError, match="no webhook event called 'policy.deleted'"):
        webhooks.emit(event="policy.deleted", subject=employee, data={})


@pytest.mark.django_db
def test_emit_enqueues_sending_after_the_commit(
    employee, receiver, django_capture_on_commit_callbacks
):
    subscribe(receiver.url())
    with django_capture_on_commit_callbacks() as callbacks:
        emit(employee)
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        emit(employee)  # nothing new
    assert callbacks == []


@pytest.mark.django_db
def test_transient_failures_are_retried_with_backoff_and_signed_afresh(
    employee, receiver, monkeypatch
):
    subscription, secret = subscribe(receiver.url())
    receiver.reply(Reply(503, b"busy: db01.internal"), Reply(429, b"", {"Retry-After": "600"}))
    emit(employee)
    assert webhooks.send_due(now=NOON).retrying == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (
        Status.PLANNED,
        1,
        503,
    )
    assert delivery.send_after == NOON + timedelta(seconds=60)
    # The status and its reason only: what answered is not shown to whoever reads it.
    assert delivery.last_error == "HTTP 503 Service Unavailable"
    subscription.refresh_from_db()
    assert (subscription.last_status, subscription.last_error) == (
        "retrying",
        "HTTP 503 Service Unavailable",
    )
    assert webhooks.send_due(now=NOON + timedelta(seconds=59)).sent == 0
    later = NOON + timedelta(seconds=60)
    assert webhooks.send_due(now=later).retrying == 1
    delivery.refresh_from_db()
    assert delivery.send_after == later + timedelta(seconds=600)  # as the receiver asked
    clock = time.time()
    monkeypatch.setattr(time, "time", lambda: clock + 700)
    assert webhooks.send_due(now=later + timedelta(seconds=600)).sent == 1
    monkeypatch.undo()
    first, _, last = receiver.received
    assert first.body == last.body  # the same event, the same bytes
    assert (
        int(last.headers["X-PolicyHub-Timestamp"])
        >= int(first.headers["X-PolicyHub-Timestamp"]) + 700
    )
    assert verify(secret, last.headers, last.body, tolerance=10**6)


@pytest.mark.django_db
def test_a_refusal_fails_at_once_is_listed_and_can_be_sent_again(
    client, site_admin, employee, receiver
):
    subscription, _ = subscribe(receiver.url())
    receiver.reply(Reply(410, b"gone: secret-token-1234"))
    emit(employee)
    assert webhooks.send_due().failed == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        Status.FAILED,
        1,
        "HTTP 410 Gone",
    )
    client.force_login(site_admin)
    listing = client.get(LIST).content.decode()
    assert "Failed" in listing and "HTTP 410" in listing
    page = client.get(reverse("notifications:webhook", args=[subscription.pk])).content.decode()
    assert "HTTP 410 Gone" in page and "Send again" in page
    assert "secret-token-1234" not in page and "secret-token-1234" not in listing
    resend = reverse("notifications:webhook_resend", args=[subscription.pk, delivery.pk])
    response = client.post(resend, follow=True)
    assert "The delivery is back in the outbox" in response.content.decode()
    assert webhooks.send_due().sent == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENT, 1)
    response = client.post(resend, follow=True)
    assert "Only a failed delivery can be sent again." in response.content.decode()
    assert len(receiver.received) == 2


@pytest.mark.django_db
def test_transient_failures_past_the_last_attempt_fail(employee, receiver, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    receiver.default = Reply(500, b"down")
    subscribe(receiver.url())
    emit(employee)
    now = NOON
    for _ in range(5):
        webhooks.send_due(now=now)
        now += timedelta(hours=1)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 3)
    assert len(receiver.received) == 3


@pytest.mark.django_db
def test_a_redirect_is_not_followed_and_a_timeout_is_retried(employee, receiver, settings):
    settings.NOTIFICATIONS_HTTP_TIMEOUT_SECONDS = 0.3
    subscribe(receiver.url("/moved"))
    receiver.reply(Reply(301, b"", {"Location": "https://other.example.com/"}))
    emit(employee, stage="a")
    assert webhooks.send_due(now=NOON).failed == 1
    assert "redirects to https://other.example.com/" in WebhookDelivery.objects.get().last_error
    receiver.reply(Reply(200, delay=1.5))
    emit(employee, stage="b")
    assert webhooks.send_due(now=NOON).retrying == 1
    assert len(receiver.received) == 2


@pytest.mark.django_db
def test_a_switched_off_subscription_gets_nothing_more(employee, receiver):
    subscription, _ = subscribe(receiver.url())
    emit(employee)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(active=False)
    assert webhooks.send_due().cancelled == 1
    assert receiver.received == []
    assert WebhookDelivery.objects.get().status == Status.CANCELLED


@pytest.mark.django_db
def test_an_address_that_became_unsafe_is_not_posted_to(employee, receiver, settings):
    subscribe(receiver.url())
    emit(employee)
    settings.NOTIFICATIONS_ALLOW_LOCAL_HTTP = False  # production settings
    assert webhooks.send_due().failed == 1
    assert receiver.received == []
    assert "must start with https://" in WebhookDelivery.objects.get().last_error


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_three_senders_at_once_post_each_delivery_once(make_person, receiver, settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 4
    subscribe(receiver.url("/a"))
    subscribe(receiver.url("/b"))
    people = [make_person() for _ in range(15)]
    for person in people:
        emit(person)
    start = threading.Barrier(3)
    errors = []

    def sender():
        try:
            start.wait()
            webhooks.send_due()
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
    bodies = [(request.path, request.body) for request in receiver.received]
    assert len(bodies) == len(set(bodies)) == 30
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.SENT}


# --- what events say -------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_data_names_no_people_and_no_assessment(comms, employee, outsider, settings):
    from incidents.models import Incident
    from incidents.tests.factories import in_status

    settings.SITE_URL = "https://policyhub.example.com"
    incident = in_status(
        Incident.Status.CLASSIFIED,
        by=comms,
        reporter=employee,
        people_involved=[outsider],
        what_happened="Olivia posted the roadmap.",
        severity=Incident.Severity.HIGH,
    )
    data = webhooks.incident_data(incident)
    assert data == {
        "reference": incident.reference,
        "status": "classified",
        "severity": "high",
        "track": "learning",
        "platform": "linkedin",
        "noticed_at": incident.noticed_at,
        "contained_at": incident.contained_at,
        "closed_at": None,
        "url": f"https://policyhub.example.com/incidents/{incident.pk}/",
    }
    text = json.dumps(data, default=str)
    for secret in ("Olivia", "Emily", "roadmap", outsider.email, employee.email, "human"):
        assert secret not in text


@pytest.mark.django_db
def test_a_published_policy_version_as_an_event(make_person, receiver, settings):
    from policies.tests.factories import published_policy

    settings.SITE_URL = "https://policyhub.example.com"
    _, secret = subscribe(receiver.url())
    owner, approver = make_person(), make_person()
    policy, version = published_policy(title="Social media", owner=owner, approver=approver)
    with transaction.atomic():
        webhooks.emit(
            event=webhooks.POLICY_PUBLISHED,
            subject=version,
            data=webhooks.policy_version_data(version),
        )
    webhooks.send_due()
    (request,) = receiver.received
    assert verify(secret, request.headers, request.body)
    assert json.loads(request.body)["data"] == {
        "policy": {
            "title": "Social media",
            "slug": policy.slug,
            "url": f"https://policyhub.example.com/policies/{policy.slug}/",
        },
        "version": {
            "number": "1.0",
            "change": "material",
            "published_at": DjangoJSONEncoder().default(version.published_at),
            "effective_from": version.effective_from.isoformat(),
        },
    }


@pytest.mark.django_db
def test_an_overdue_acknowledgement_escalated_to_the_manager_is_an_event_once(
    make_person, employee, manager, receiver, settings
):
    from policies.models import Assignment
    from policies.tests.factories import published_policy

    settings.SITE_URL = "https://policyhub.example.com"
    employee.employee_id = "E-1042"
    employee.save()
    subscribe(receiver.url(), events=[webhooks.ACKNOWLEDGEMENT_ESCALATED])
    owner, approver = make_person(), make_person()
    policy, version = published_policy(title="Social media", owner=owner, approver=approver)
    today = timezone.localdate()
    Assignment.objects.update(due_date=today - timedelta(days=10))
    plan_due()
    plan_due()
    assert Notification.objects.filter(stage=Notification.ESCALATION).count() == 1
    webhooks.send_due()
    (request,) = receiver.received
    body = json.loads(request.body)
    assert body["event"] == "acknowledgement.escalated"
    assert body["data"] == {
        "reminder": "policy-overdue",
        "title": "Social media 1.0",
        "url": f"https://policyhub.example.com/policies/{policy.slug}/",
        "overdue_since": (today - timedelta(days=10)).isoformat(),
        "person": {"id": employee.pk, "employee_id": "E-1042", "email": employee.email},
        "manager": {"id": manager.pk, "employee_id": "", "email": manager.email},
    }


# --- the site admins' pages -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["employee", "manager", "comms", "hr", "policy_admin", "leader"])
@pytest.mark.django_db
def test_only_site_admins_see_or_change_subscriptions(client, request, role, receiver):
    subscription, _ = subscribe(receiver.url(), name="GRC")
    delivery_pk = 1
    client.force_login(request.getfixturevalue(role))
    pk = subscription.pk
    for url in (
        LIST,
        ADD,
        reverse("notifications:webhook", args=[pk]),
        reverse("notifications:webhook_edit", args=[pk]),
        reverse("notifications:webhook_delete", args=[pk]),
    ):
        assert client.get(url).status_code == 403, url
    for url in (
        ADD,
        reverse("notifications:webhook_edit", args=[pk]),
        reverse("notifications:webhook_secret", args=[pk]),
        reverse("notifications:webhook_delete", args=[pk]),
        reverse("notifications:webhook_resend", args=[pk, delivery_pk]),
    ):
        assert (
            client.post(url, {"name": "x", "url": "https://x.example/", "events": []}).status_code
            == 403
        )
    subscription.refresh_from_db()
    assert (subscription.name, subscription.url) == ("GRC", receiver.url())
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.django_db
def test_the_delivery_outbox_in_the_admin_is_for_site_admins(client, employee, site_admin):
    url = reverse("admin:notifications_webhookdelivery_changelist")
    client.force_login(employee)
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response.url
    client.force_login(site_admin)
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_adding_a_subscription_shows_its_secret_once(client, site_admin):
    client.force_login(site_admin)
    page = client.get(ADD).content.decode()
    for label in webhooks.EVENTS.values():
        assert label in page
    response = client.post(
        ADD,
        {
            "name": " GRC tool ",
            "url": "https://grc.example.com/policyhub",
            "events": [webhooks.INCIDENT_REPORTED, webhooks.INCIDENT_CLOSED],
            "active": "on",
        },
    )
    subscription = WebhookSubscription.objects.get()
    assert (subscription.name, subscription.url, subscription.events, subscription.active) == (
        "GRC tool",
        "https://grc.example.com/policyhub",
        ["incident.reported", "incident.closed"],
        True,
    )
    text = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert "Copy the secret now: it is not shown again." in text
    assert subscription.secret in text and len(subscription.secret) >= 40
    detail = client.get(reverse("notifications:webhook", args=[subscription.pk])).content
    assert subscription.secret.encode() not in detail
    assert subscription.secret.encode() not in client.get(LIST).content
    edit = client.get(reverse("notifications:webhook_edit", args=[subscription.pk])).content
    assert subscription.secret.encode() not in edit
    old = subscription.secret
    response = client.post(reverse("notifications:webhook_secret", args=[subscription.pk]))
    subscription.refresh_from_db()
    assert subscription.secret != old and subscription.secret in response.content.decode()


BAD_SUBSCRIPTIONS = [
    ({"url": "http://grc.example.com/hook"}, "must start with https://"),
    ({"url": "grc.example.com"}, "must be a web address starting with https://"),
    ({"url": "https://grc.example.com/\x00"}, "Null characters are not allowed"),
    ({"url": "https://grc.example.com/" + "x" * 500}, "at most 500 characters"),
    ({"url": "https://me:secret@grc.example.com/"}, "must not contain a user name"),
    ({"events": []}, "Choose at least one event."),
    ({"events": ["policy.deleted"]}, "Select a valid choice"),
    ({"name": ""}, "This field is required."),
    ({"name": " other "}, "There is already a subscription with this name."),
]


@pytest.mark.parametrize("change, message", BAD_SUBSCRIPTIONS)
@pytest.mark.django_db
def test_a_bad_subscription_is_refused_and_changes_nothing(client, site_admin, change, message):
    existing, secret = subscribe("https://taken.example.com/", name="Taken")
    subscribe("https://other.example.com/", name="Other")
    client.force_login(site_admin)
    data = {
        "name": "GRC",
        "url": "https://grc.example.com/hook",
        "events": [webhooks.POLICY_PUBLISHED],
        "active": "on",
        **change,
    }
    response = client.post(ADD, data)
    assert response.status_code == 200 and message in response.content.decode()
    assert list(WebhookSubscription.objects.values_list("name", flat=True)) == ["Other", "Taken"]
    response = client.post(reverse("notifications:webhook_edit", args=[existing.pk]), data)
    assert response.status_code == 200 and message in response.content.decode()
    existing.refresh_from_db()
    assert (existing.name, existing.url, existing.events, existing.secret) == (
        "Taken",
        "https://taken.example.com/",
        [webhooks.POLICY_PUBLISHED],
        secret,
    )


@pytest.mark.django_db
def test_editing_switching_off_and_deleting_a_subscription(client, site_admin, employee, receiver):
    subscription, _ = subscribe(receiver.url(), name="GRC")
    emit(employee)
    webhooks.send_due()
    client.force_login(site_admin)
    edit = reverse("notifications:webhook_edit", args=[subscription.pk])
    response = client.post(
        edit, {"name": "GRC tool", "url": receiver.url("/v2"), "events": ["incident.closed"]}
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.name, subscription.active, subscription.events) == (
        "GRC tool",
        False,
        ["incident.closed"],
    )
    assert "Switched off" in client.get(LIST).content.decode()
    delete = reverse("notifications:webhook_delete", args=[subscription.pk])
    assert "deliveries, sent and failed, are deleted" in client.get(delete).content.decode()
    response = client.post(delete, follow=True)
    assert "“GRC tool” is deleted." in response.content.decode()
    assert not WebhookSubscription.objects.exists() and not WebhookDelivery.objects.exists()


def _failed_delivery(subscription, subject, number):
    return WebhookDelivery(
        subscription=subscription,
        event=webhooks.POLICY_PUBLISHED,
        subject_type=ContentType.objects.get_for_model(WebhookSubscription),
        subject_id=subject,
        stage=str(number),
        event_id=f"00000000-0000-0000-0000-{number:012d}",
        occurred_at=NOON,
        data={"n": number},
        send_after=NOON,
        status=Status.FAILED,
        attempts=5,
        last_error="HTTP 500 Internal Server Error",
    )


@pytest.mark.django_db
def test_subscription_pages_query_counts_do_not_grow(
    client, site_admin, django_assert_max_num_queries
):
    client.force_login(site_admin)

    def add(count):
        start = WebhookSubscription.objects.count()
        for number in range(start, start + count):
            subscription, _ = subscribe(f"https://r{number}.example.com/", name=f"R{number}")
            WebhookDelivery.objects.bulk_create(
                [_failed_delivery(subscription, number, n) for n in range(3)]
            )
        return subscription

    first = add(2)
    detail = reverse("notifications:webhook", args=[first.pk])
    with django_assert_max_num_queries(10) as few_list:
        assert client.get(LIST).status_code == 200
    with django_assert_max_num_queries(10) as few_detail:
        assert client.get(detail).status_code == 200
    add(40)
    WebhookDelivery.objects.bulk_create([_failed_delivery(first, 999, n) for n in range(3, 60)])
    with django_assert_max_num_queries(len(few_list.captured_queries)):
        page = client.get(LIST).content.decode()
    assert "1–25 of 42 subscriptions" in page and "Page 1 of 2" in page
    with django_assert_max_num_queries(len(few_detail.captured_queries)):
        page = client.get(detail, {"status": "failed"}).content.decode()
    assert page.count("Send again") == 25


@pytest.mark.django_db
def test_send_reminders_by_hand_also_delivers_webhooks(employee, receiver):
    from io import StringIO

    from django.core.management import call_command

    subscribe(receiver.url())
    emit(employee)
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert "Webhooks: 1 delivered, 0 to retry, 0 failed, 0 cancelled." in out.getvalue()
    assert len(receiver.received) == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("example_kinds")
def test_a_broken_escalation_event_does_not_stop_the_reminders(make_person, receiver, monkeypatch):
    monkeypatch.setitem(
        webhooks.ESCALATION_EVENTS, "example-profile-incomplete", webhooks.ACKNOWLEDGEMENT_ESCALATED
    )

    def broken(row):
        raise RuntimeError("a bug in what the event says")

    monkeypatch.setattr(webhooks, "escalation_data", broken)
    subscribe(receiver.url(), events=[webhooks.ACKNOWLEDGEMENT_ESCALATED])
    boss = make_person(job_title="Head", location="x")
    make_person(job_title="", location="x", manager=boss, start_date=date(2026, 11, 2))
    plan_due(now=NOON)
    assert Notification.objects.filter(stage=Notification.ESCALATION).count() == 1
    assert not WebhookDelivery.objects.exists()
