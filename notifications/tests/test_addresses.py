"""Outgoing webhooks and chat reminders reach only the public internet: a host is
resolved when a subscription is saved and again at each post, every address must be
public, and the post connects to the addresses just checked (over TLS with the host
name for SNI and the certificate), never through a proxy. Of an answer only its status
and reason are kept."""

import datetime as dt
import ipaddress
import ssl
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core import mail
from django.db import transaction
from django.urls import reverse

from notifications import http, webhooks
from notifications.models import (
    Channel,
    Notification,
    Preference,
    WebhookDelivery,
    WebhookSubscription,
)
from notifications.services import NotificationError, plan_due, send_due
from notifications.tests.dns import PUBLIC, FakeDNS
from notifications.tests.receiver import Receiver, Reply

Status = WebhookDelivery.Status
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("UTC"))
ADD = reverse("notifications:webhook_add")
INSIDE = "10.20.30.40"


@pytest.fixture
def dns(monkeypatch):
    return FakeDNS(monkeypatch)


def subscribe(url, name="GRC"):
    subscription, _ = webhooks.create_subscription(
        name=name, url=url, events=[webhooks.POLICY_PUBLISHED], by=None
    )
    return subscription


def emit(subject, stage=""):
    with transaction.atomic():
        webhooks.emit(
            event=webhooks.POLICY_PUBLISHED, subject=subject, data={"n": 1}, now=NOON, stage=stage
        )


# --- a TLS receiver with a certificate from a test authority ------------------------------


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _name(text):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _certificate(subject, issuer, public_key, signing_key, *, ca, dns_name=None):
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if dns_name:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


def _pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def tls(tmp_path, monkeypatch):
    """Start TLS receivers on 127.0.0.1 with a certificate for a given name; PolicyHub
    trusts the test authority that signed it. `names` records the SNI names asked for."""
    authority_key = _key()
    authority = _certificate(
        "Test authority", "Test authority", authority_key.public_key(), authority_key, ca=True
    )
    monkeypatch.setattr(
        http, "tls_context", lambda: ssl.create_default_context(cadata=_pem(authority).decode())
    )
    started = []

    def start(name):
        key = _key()
        certificate = _certificate(
            name, "Test authority", key.public_key(), authority_key, ca=False, dns_name=name
        )
        (tmp_path / f"{name}.pem").write_bytes(_pem(certificate))
        (tmp_path / f"{name}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / f"{name}.pem", tmp_path / f"{name}.key")
        receiver = Receiver()
        receiver.names = []
        context.sni_callback = lambda sock, server_name, _: receiver.names.append(server_name)
        receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
        started.append(receiver.start())
        receiver.port = receiver.server.server_address[1]
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


# --- saving a subscription -------------------------------------------------------------------

INTERNAL = [
    ("https://metadata.example.com/", ["169.254.169.254"]),
    ("https://intranet.example.com/hook", [INSIDE]),
    ("https://split.example.com/hook", [PUBLIC, "192.168.1.10"]),  # every address counts
    ("https://shared.example.com/hook", ["100.64.0.1"]),  # carrier-grade NAT
    ("https://six.example.com/hook", ["fd00::1"]),
    ("https://mapped.example.com/hook", ["::ffff:10.0.0.1"]),
    ("https://sixtofour.example.com/hook", ["2002:a00:1::1"]),  # 6to4 of 10.0.0.1
    ("https://nat64.example.com/hook", ["64:ff9b::a9fe:a9fe"]),  # NAT64 of 169.254.169.254
    ("https://multicast.example.com/hook", ["224.0.0.1"]),
    ("https://169.254.169.254/latest/meta-data/", None),
    ("https://10.0.0.1:8443/", None),
    ("https://[::1]/", None),
    ("https://127.0.0.1/", None),
    ("https://0.0.0.0/", None),
]


@pytest.mark.parametrize("url, addresses", INTERNAL)
@pytest.mark.django_db
def test_an_address_on_an_internal_network_is_refused_when_saved(
    client, site_admin, dns, settings, url, addresses
):
    settings.NOTIFICATIONS_ALLOW_LOCAL_HTTP = False  # as in production
    if addresses:
        dns.names[urlsplit(url).hostname] = addresses
    client.force_login(site_admin)
    data = {"name": "GRC", "url": url, "events": [webhooks.POLICY_PUBLISHED], "active": "on"}
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "leads to a private or local network" in response.content.decode()
    with pytest.raises(NotificationError, match="only posts to addresses on the public internet"):
        subscribe(url)
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_a_host_that_does_not_resolve_is_refused_when_saved(client, site_admin, dns):
    client.force_login(site_admin)
    data = {"name": "GRC", "url": "https://grc.invalid/hook", "events": [webhooks.POLICY_PUBLISHED]}
    response = client.post(ADD, data)
    assert "The host grc.invalid could not be found." in response.content.decode()
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_editing_to_an_internal_address_changes_nothing(client, site_admin, dns):
    subscription = subscribe("https://grc.example.com/hook")
    dns.names["grc-internal.example.com"] = [INSIDE]
    client.force_login(site_admin)
    response = client.post(
        reverse("notifications:webhook_edit", args=[subscription.pk]),
        {
            "name": "GRC",
            "url": "https://grc-internal.example.com/hook",
            "events": [webhooks.POLICY_PUBLISHED],
            "active": "on",
        },
    )
    assert "leads to a private or local network" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.url == "https://grc.example.com/hook"


@pytest.mark.django_db
def test_an_installation_may_allow_receivers_on_its_own_network(settings, dns):
    dns.names["grc.corp.example.com"] = [INSIDE]
    settings.NOTIFICATIONS_ALLOW_PRIVATE_HOSTS = True
    subscription = subscribe("https://grc.corp.example.com/hook")
    assert subscription.url == "https://grc.corp.example.com/hook"


@pytest.mark.django_db
def test_local_http_is_for_this_machines_names_only(settings, dns):
    settings.NOTIFICATIONS_ALLOW_LOCAL_HTTP = True
    assert subscribe("http://127.0.0.1:8001/hook", name="A")
    assert subscribe("http://localhost:8001/hook", name="B")
    dns.names["loopback.example.com"] = ["127.0.0.1"]
    with pytest.raises(NotificationError, match="private or local network"):
        subscribe("https://loopback.example.com/hook", name="C")


# --- sending -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_post_goes_to_the_address_vetted_with_the_host_name_for_tls(employee, settings, dns, tls):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_HOSTS = True  # the receiver is on this machine
    receiver = tls("hooks.example.com")
    dns.names["hooks.example.com"] = ["127.0.0.1"]
    subscribe(f"https://hooks.example.com:{receiver.port}/hook")
    emit(employee)
    dns.lookups.clear()
    assert webhooks.send_due().sent == 1
    # One lookup, and the connection went to what it found: no second resolution that a
    # name's owner could answer differently.
    assert dns.lookups == ["hooks.example.com"]
    (request,) = receiver.received
    assert request.path == "/hook"
    assert request.headers["Host"] == f"hooks.example.com:{receiver.port}"
    assert receiver.names == ["hooks.example.com"]


@pytest.mark.django_db
def test_a_certificate_for_another_name_is_refused(employee, settings, dns, tls):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_HOSTS = True
    receiver = tls("other.example.com")
    dns.names["hooks.example.com"] = ["127.0.0.1"]
    subscribe(f"https://hooks.example.com:{receiver.port}/hook")
    emit(employee)
    assert webhooks.send_due(now=NOON).retrying == 1
    delivery = WebhookDelivery.objects.get()
    assert "the certificate of hooks.example.com is not valid" in delivery.last_error
    assert receiver.received == []


@pytest.mark.django_db
def test_a_host_that_now_resolves_inside_is_not_posted_to(employee, settings, dns, tls):
    settings.NOTIFICATIONS_ALLOW_LOCAL_HTTP = True
    receiver = tls("hooks.example.com")
    subscribe(f"https://hooks.example.com:{receiver.port}/hook")  # public when saved
    dns.names["hooks.example.com"] = ["127.0.0.1"]  # then pointed at this machine
    emit(employee)
    assert webhooks.send_due(now=NOON).failed == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 1)
    assert "leads to a private or local network (hooks.example.com)" in delivery.last_error
    assert receiver.received == []


@pytest.mark.django_db
def test_a_host_that_does_not_resolve_when_sending_is_tried_again(employee, dns):
    subscribe("https://hooks.example.com/hook")
    dns.names["hooks.example.com"] = []
    emit(employee)
    assert webhooks.send_due(now=NOON).retrying == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_error == "The host hooks.example.com could not be found."


@pytest.mark.django_db
def test_proxy_settings_in_the_environment_are_not_used(employee, receiver, monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
        monkeypatch.setenv(name.upper(), "http://127.0.0.1:9")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    subscribe(receiver.url())
    emit(employee)
    assert webhooks.send_due().sent == 1
    assert len(receiver.received) == 1


@pytest.mark.django_db
def test_an_answer_is_kept_as_its_status_and_reason_only(
    client, site_admin, employee, receiver, monkeypatch
):
    subscription = subscribe(receiver.url())
    receiver.reply(Reply(403, b'{"AccessKeyId": "ASIA-SECRET"}'))
    emit(employee)
    webhooks.send_due(now=NOON)
    delivery = WebhookDelivery.objects.get()
    subscription.refresh_from_db()
    assert delivery.last_error == subscription.last_error == "HTTP 403 Forbidden"
    client.force_login(site_admin)
    page = client.get(reverse("notifications:webhook", args=[subscription.pk])).content.decode()
    assert "HTTP 403 Forbidden" in page and "ASIA-SECRET" not in page


# --- chat reminders ---------------------------------------------------------------------------


def on_slack(person, url):
    Preference.objects.update_or_create(
        user=person,
        defaults={"delivery": "immediate", "channel": Channel.SLACK, "chat_webhook_url": url},
    )
    return person


@pytest.mark.usefixtures("example_kinds")
@pytest.mark.django_db
def test_a_chat_host_that_resolves_inside_is_not_posted_to(make_person, dns):
    dns.names["hooks.slack.com"] = [INSIDE]
    person = on_slack(
        make_person(job_title="", location="x"), "https://hooks.slack.com/services/T0/B0/x"
    )
    plan_due(now=NOON)
    assert send_due(now=NOON).fell_back == 1
    row = Notification.objects.get()
    assert (row.status, row.channel) == (Notification.Status.SENT, Channel.EMAIL)
    assert "leads to a private or local network (hooks.slack.com)" in row.chat_error
    assert [message.to for message in mail.outbox] == [[person.email]]


@pytest.mark.usefixtures("example_kinds")
@pytest.mark.django_db
def test_the_slack_app_address_is_vetted_too(make_person, settings, dns):
    settings.SLACK_BOT_TOKEN = "xoxb-test-token"
    settings.SLACK_API_BASE = "https://slack-api.example.com/api"
    dns.names["slack-api.example.com"] = [INSIDE]
    Preference.objects.create(
        user=make_person(job_title="", location="x"),
        delivery="immediate",
        channel=Channel.SLACK,
        slack_member_id="U0ABC",
    )
    plan_due(now=NOON)
    assert send_due(now=NOON).fell_back == 1
    assert "private or local network" in Notification.objects.get().chat_error


@pytest.mark.parametrize(
    "body, error",
    [
        (b"<html>db01.internal: connection refused</html>", "not JSON."),
        (b'{"ok": false, "error": "<b>db01.internal</b> refused"}', "unknown_error"),
        (b'{"ok": false, "error": "channel_not_found"}', "channel_not_found"),
    ],
)
@pytest.mark.usefixtures("example_kinds")
@pytest.mark.django_db
def test_what_the_slack_app_answers_is_not_shown(make_person, receiver, settings, body, error):
    settings.SLACK_BOT_TOKEN = "xoxb-test-token"
    settings.SLACK_API_BASE = receiver.url("/api")
    receiver.default = Reply(200, body)
    Preference.objects.create(
        user=make_person(job_title="", location="x"),
        delivery="immediate",
        channel=Channel.SLACK,
        slack_member_id="U0ABC",
    )
    plan_due(now=NOON)
    send_due(now=NOON)
    row = Notification.objects.get()
    shown = row.last_error or row.chat_error
    assert shown.endswith(error) and "db01" not in row.last_error + row.chat_error


def test_public_addresses():
    public = ["93.184.215.14", "2606:4700::1111", "::ffff:93.184.215.14"]
    assert all(http.is_public(ipaddress.ip_address(address)) for address in public)
