"""Intake: posts that mention a watch-list term open one incident each (with evidence
and its hash), however often a feed is fetched or two workers take the same post in;
posts that match nothing are not kept; feeds that fail are recorded with backoff and
change nothing else; the beat task and "Fetch now" claim a feed before fetching it; and
the signed webhook refuses every delivery that is not signed, fresh, new, small and
well-formed, storing nothing.

Feeds come from files in a temporary local feed folder and from an HTTP server on
127.0.0.1 started by the tests: nothing here uses the internet."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents.models import Evidence, Incident, IncidentCounter, IncidentEvent
from incidents.permissions import visible_incidents
from people import audience
from people.signals import directory_changed
from prevention import intake, intake_feeds, tasks
from prevention.intake import PublicPost
from prevention.matching import forget_current_watch_list
from prevention.models import IntakeItem, PreventionError, Source, WebhookDelivery
from prevention.tests.factories import keeper, watch_term

pytestmark = pytest.mark.django_db

SAMPLE_FEED = Path(__file__).resolve().parent.parent / "demo_feeds" / "sample-feed.xml"
Severity = Incident.Severity
Information = Incident.Information


# --- helpers ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_watch_list():
    # The matcher caches the compiled list by the table's state; tests start clean.
    forget_current_watch_list()
    yield
    forget_current_watch_list()


@pytest.fixture
def terms(db):
    """The demo's kind of watch list: a code name, an unreleased product, a customer
    and a figure, with different severities and kinds of information."""
    return {
        "atlas": watch_term(
            text="Project Atlas", category=Information.PRODUCT, severity=Severity.HIGH
        ),
        "falcon": watch_term(
            text="Falcon X2", category=Information.PRODUCT, severity=Severity.MEDIUM
        ),
        "northwind": watch_term(
            text="Northwind", category=Information.PERSONAL, severity=Severity.MEDIUM
        ),
        "revenue": watch_term(
            text="Q3 revenue", category=Information.FINANCIAL, severity=Severity.CRITICAL
        ),
    }


@pytest.fixture
def feed_dir(settings, tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    settings.PREVENTION_LOCAL_FEED_DIR = folder
    return folder


_names = iter(range(1, 1_000_000))


def make_source(kind: str = Source.Kind.FEED, **fields) -> Source:
    number = next(_names)
    fields.setdefault("name", f"Source {number}")
    fields.setdefault("slug", f"source-{number}")
    fields.setdefault("platform", Incident.Platform.BLOG)
    fields.setdefault("created_by", keeper())
    fields.setdefault("created_at", timezone.now())
    if kind == Source.Kind.WEBHOOK:
        fields.setdefault("secret", f"secret-{number}-abcdefghijklmnop")
    else:
        fields.setdefault("feed_url", "file://feed.xml")
    return Source.objects.create(kind=kind, **fields)


def rss(*items: dict) -> bytes:
    """An RSS 2.0 document with `items` ({"title", "link", "guid", "text", "date",
    "author"})."""
    entries = []
    for item in items:
        parts = [f"<title>{item.get('title', 'A post')}</title>"]
        if item.get("link"):
            parts.append(f"<link>{item['link']}</link>")
        if item.get("guid"):
            parts.append(f'<guid isPermaLink="false">{item["guid"]}</guid>')
        if item.get("author"):
            parts.append(f"<dc:creator>{item['author']}</dc:creator>")
        if item.get("date"):
            parts.append(f"<pubDate>{item['date']}</pubDate>")
        parts.append(f"<description><![CDATA[{item.get('text', '')}]]></description>")
        entries.append(f"<item>{''.join(parts)}</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        "<title>Mentions</title><link>https://listening.example.com/</link>"
        f"<description>Posts</description>{''.join(entries)}</channel></rss>"
    ).encode()


def counts() -> dict:
    return {
        "incidents": Incident.objects.count(),
        "evidence": Evidence.objects.count(),
        "items": IntakeItem.objects.count(),
        "deliveries": WebhookDelivery.objects.count(),
    }


NOTHING = {"incidents": 0, "evidence": 0, "items": 0, "deliveries": 0}


# --- a local web server -------------------------------------------------------------------


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    send_length: bool = True
    # Seconds between bytes: the body's ("body"), or the whole answer's ("all").
    drip: float = 0.0
    drip_what: str = "body"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the name http.server calls)
        answer = self.server.answers.get(self.path, Answer(status=404, body=b"Not found"))
        self.server.hits.append(self.path)
        if answer.delay:
            time.sleep(answer.delay)
        if answer.drip:
            self._drip(answer)
            return
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            self.send_header(key, value)
        if answer.send_length:
            self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        try:
            self.wfile.write(answer.body)
        except OSError:  # the client gave up (a timeout test)
            pass

    def _drip(self, answer: Answer) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(answer.body)}\r\n\r\n".encode()
        if answer.drip_what == "body":
            self.wfile.write(head)
            self.wfile.flush()
            slow = answer.body
        else:
            slow = head + answer.body
        ends = time.monotonic() + 6  # then it hangs up, so that no test waits for ever
        try:
            for byte in slow:
                if time.monotonic() > ends:
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(answer.drip)
        except OSError:  # the client gave up
            pass

    def log_message(self, *args):
        pass


class Web:
    def __init__(self, server):
        self.server = server

    def url(self, path: str) -> str:
        host, port = self.server.server_address
        return f"http://{host}:{port}{path}"

    def answer(self, path: str, **fields) -> str:
        self.server.answers[path] = Answer(**fields)
        return self.url(path)

    @property
    def hits(self) -> list[str]:
        return self.server.hits


def _serve(host: str = "127.0.0.1", port: int = 0, tls=None) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), _Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.answers, server.hits = {}, []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server


def _stop(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


@pytest.fixture
def web(settings):
    """An HTTP server on 127.0.0.1 (a private address, so allowed for these tests)."""
    settings.PREVENTION_FEED_ALLOW_PRIVATE_HOSTS = True
    server = _serve()
    yield Web(server)
    _stop(server)


@pytest.fixture
def outside(web):
    """A second server on 127.0.0.2, at the same port as `web`, playing a server on the
    public internet: only 127.0.0.2 counts as public here, so `web` on 127.0.0.1 plays
    one inside the network that a feed must never reach."""
    server = _serve("127.0.0.2", web.server.server_address[1])
    yield Web(server)
    _stop(server)


class FakeDNS:
    """Host names answered from `names` (a list per name: one answer per lookup, the
    last one again after that); every lookup is recorded. Other names go to the real
    resolver (the test servers' literal addresses)."""

    def __init__(self, monkeypatch):
        self.names: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        self._real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host not in self.names:
            return self._real(host, port, *args, **kwargs)
        self.lookups.append(host)
        answers = self.names[host]
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]


@pytest.fixture
def dns(monkeypatch, settings):
    settings.PREVENTION_FEED_ALLOW_PRIVATE_HOSTS = False
    monkeypatch.setattr(intake_feeds, "_private", lambda ip: str(ip) != "127.0.0.2")
    return FakeDNS(monkeypatch)


# --- ingest -------------------------------------------------------------------------------


def test_a_matching_post_opens_a_reported_incident_with_evidence_and_its_hash(terms):
    source = make_source(name="Brand mentions", platform=Incident.Platform.LINKEDIN)
    now = timezone.now()
    posted = now - timedelta(hours=3)
    post = PublicPost(
        url="https://social.example.net/@sam/1",
        title="Busy week",
        text="Can't say much, but project atlas ships soon. Q3 revenue looks great!",
        handle="@sam",
        posted_at=posted,
    )
    result = intake.ingest(source=source, items=[post], now=now)

    assert (result.received, result.matched, len(result.opened)) == (1, 1, 1)
    incident = Incident.objects.get()
    assert incident == result.opened[0]
    assert incident.status == Incident.Status.REPORTED
    assert incident.url == "https://social.example.net/@sam/1"
    assert incident.platform == Incident.Platform.LINKEDIN
    assert incident.account_handle == "@sam"
    assert (incident.posted_at, incident.noticed_at) == (posted, now)
    # The highest-severity term decides: Q3 revenue is critical and financial.
    assert (incident.severity, incident.information) == (Severity.CRITICAL, Information.FINANCIAL)
    assert "Brand mentions" in incident.what_happened
    assert "Project Atlas" in incident.what_happened and "Q3 revenue" in incident.what_happened
    assert incident.reporter.email == intake.INTAKE_EMAIL and not incident.self_reported

    text = "Busy week\n\nCan't say much, but project atlas ships soon. Q3 revenue looks great!"
    evidence = Evidence.objects.get(incident=incident)
    assert evidence.note == text
    assert evidence.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert (evidence.url, evidence.platform, evidence.handle) == (incident.url, "linkedin", "@sam")
    assert evidence.captured_at == now and evidence.captured_by == incident.reporter
    assert IncidentEvent.objects.filter(incident=incident, what="evidence").exists()

    item = IntakeItem.objects.get()
    assert (item.source, item.incident, item.noticed_at, item.posted_at) == (
        source,
        incident,
        now,
        posted,
    )
    assert item.dedupe_key == "https://social.example.net/@sam/1"
    assert item.text_sha256 == evidence.sha256
    assert set(item.terms.all()) == {terms["atlas"], terms["revenue"]}
    found = {(match["entry"], match["found"]) for match in item.matched}
    assert found == {("Project Atlas", "project atlas"), ("Q3 revenue", "Q3 revenue")}

    source.refresh_from_db()
    assert (source.items_seen, source.items_matched) == (1, 1)


def test_posts_that_match_nothing_are_not_kept(terms):
    source = make_source()
    posts = [
        PublicPost(url="https://blog.example.com/1", text="Hiking in the Atlas mountains."),
        # Generic checks (an email address, a phone number) are for drafts, not intake.
        PublicPost(url="https://blog.example.com/2", text="Write to jo@example.com, 020 7946 0958"),
        PublicPost(url="https://blog.example.com/3", text=""),
    ]
    result = intake.ingest(source=source, items=posts)
    assert (result.received, result.matched, result.opened) == (3, 0, [])
    assert counts() == NOTHING
    source.refresh_from_db()
    assert (source.items_seen, source.items_matched) == (3, 0)


def test_one_incident_per_post_however_its_address_is_written(terms):
    source, other = make_source(), make_source()
    text = "Falcon X2 prototype spotted."
    addresses = [
        "https://Social.Example.net/@lena/42",
        "http://social.example.net/@lena/42/",
        "https://social.example.net:443/@lena/42?utm_source=feed#comments",
    ]
    for address in addresses:
        intake.ingest(source=source, items=[PublicPost(url=address, text=text)])
    # The same post arriving through another source is still the same post.
    intake.ingest(source=other, items=[PublicPost(url=addresses[0], text=text + " Again.")])
    assert Incident.objects.count() == 1 and IntakeItem.objects.count() == 1
    assert IntakeItem.objects.get().dedupe_key == "https://social.example.net/@lena/42"
    # A different post is a different incident.
    intake.ingest(source=source, items=[PublicPost(url=addresses[0] + "3", text=text)])
    assert Incident.objects.count() == 2


def test_a_post_without_an_address_is_kept_once_by_its_id_in_that_source(terms):
    source, other = make_source(), make_source()
    post = PublicPost(guid="post-7", text="Northwind is our biggest customer.")
    intake.ingest(source=source, items=[post])
    intake.ingest(source=source, items=[post])
    assert IntakeItem.objects.get().dedupe_key == f"source-{source.pk}:id:post-7"
    # Another source's "post-7" is another post.
    intake.ingest(source=other, items=[post])
    assert IntakeItem.objects.count() == 2
    # Without address or id, the text itself is the key.
    bare = PublicPost(text="Northwind again.")
    intake.ingest(source=source, items=[bare, bare])
    assert IntakeItem.objects.count() == 3


def test_a_worker_that_loses_the_race_for_a_post_rolls_its_incident_back(terms, monkeypatch):
    source = make_source()
    post = PublicPost(url="https://blog.example.com/race", text="Project Atlas!")
    intake.ingest(source=source, items=[post])
    reference = Incident.objects.get().reference
    # The second worker checked before the first one's post was kept: its insert fails.
    monkeypatch.setattr(intake, "_already_kept", _kept_after_first_call())
    result = intake.ingest(source=source, items=[post])
    assert (result.matched, result.opened) == (1, [])
    assert Incident.objects.get().reference == reference
    assert Evidence.objects.count() == 1 and IntakeItem.objects.count() == 1
    # The losing incident's number went back: the next incident takes the next one.
    assert IncidentCounter.objects.get().last == 1
    source.refresh_from_db()
    assert source.items_matched == 1


def _kept_after_first_call():
    """`_already_kept` that says no the first time (the check before the insert) and
    tells the truth after (the check after the IntegrityError)."""
    real = IntakeItem.objects.filter
    calls = []

    def already_kept(key):
        calls.append(key)
        return len(calls) > 1 and real(dedupe_key=key).exists()

    return already_kept


def run_at_once(calls) -> tuple[list, list[BaseException]]:
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait(timeout=30)
            results.append(call())
        except BaseException as error:  # reported in the test's own thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_taking_in_the_same_post_at_once_open_one_incident():
    watch_term(text="Project Atlas")
    source = make_source()
    post = PublicPost(url="https://blog.example.com/at-once", text="Project Atlas is coming.")
    results, errors = run_at_once(
        [lambda: intake.ingest(source=source, items=[post]) for _ in range(3)]
    )
    assert errors == []
    assert sum(len(result.opened) for result in results) == 1
    assert Incident.objects.count() == 1 and IntakeItem.objects.count() == 1
    source.refresh_from_db()
    assert (source.items_seen, source.items_matched) == (3, 1)


def test_text_is_kept_without_nul_bytes_and_capped(terms):
    source = make_source()
    text = "Project\x00 Atlas \x07leak " + "x" * (intake.MAX_TEXT_CHARS + 500)
    intake.ingest(
        source=source,
        items=[PublicPost(url="https://blog.example.com/nul", text=text, handle="@a\x00b")],
    )
    evidence = Evidence.objects.get()
    assert "\x00" not in evidence.note and "\x07" not in evidence.note
    assert evidence.note.startswith("Project Atlas leak")
    assert len(evidence.note) == intake.MAX_TEXT_CHARS
    assert evidence.sha256 == hashlib.sha256(evidence.note.encode()).hexdigest()
    assert Incident.objects.get().account_handle == "@ab"


def test_a_post_is_never_posted_after_it_was_noticed(terms):
    source = make_source()
    now = timezone.now()
    intake.ingest(
        source=source,
        now=now,
        items=[
            # A clock a minute fast: posted "now".
            PublicPost(
                url="https://a.example.com/1",
                text="Northwind",
                posted_at=now + timedelta(minutes=1),
            ),
            # A date a day ahead is wrong: not used.
            PublicPost(
                url="https://a.example.com/2", text="Northwind", posted_at=now + timedelta(days=1)
            ),
        ],
    )
    by_url = {item.url: item for item in IntakeItem.objects.select_related("incident")}
    assert by_url["https://a.example.com/1"].incident.posted_at == now
    assert by_url["https://a.example.com/2"].incident.posted_at is None


def test_expired_and_inactive_terms_open_nothing():
    watch_term(text="Project Atlas", expires_on=timezone.localdate() - timedelta(days=1))
    watch_term(text="Northwind", active=False)
    result = intake.ingest(
        source=make_source(),
        items=[PublicPost(url="https://a.example.com/x", text="Project Atlas at Northwind")],
    )
    assert result.matched == 0 and counts() == NOTHING


def test_the_intake_account_cannot_log_in_and_counts_nowhere(
    terms, make_person, django_capture_on_commit_callbacks
):
    make_person()  # someone in the directory
    intake.ingest(
        source=make_source(), items=[PublicPost(url="https://a.example.com/1", text="Northwind")]
    )
    account = Incident.objects.get().reporter
    assert not account.is_active and not account.has_usable_password()
    assert not account.groups.exists() and account.manager is None
    assert not ModelBackend().user_can_authenticate(account)
    assert account not in audience.audience_people(audience.EVERYONE)
    assert not visible_incidents(account).exists()
    # Reactivated by mistake in the admin: the next intake undoes it, as a leaver (the
    # directory's signal closes what it was given meanwhile and forgets kept figures).
    account.is_active = True
    account.set_password("guessable")
    account.save()
    sent = []
    directory_changed.connect(lambda **kwargs: sent.append(1), weak=False, dispatch_uid="seen")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert intake.intake_account().pk == account.pk
        account.refresh_from_db()
        assert not account.is_active and not account.has_usable_password()
        assert sent == [1]
        # Once it is inactive, another intake changes nothing and says nothing.
        with django_capture_on_commit_callbacks(execute=True):
            intake.intake_account()
        assert sent == [1]
    finally:
        directory_changed.disconnect(dispatch_uid="seen")


# --- feeds ---------------------------------------------------------------------------------


def test_the_sample_feed_opens_an_incident_for_each_matching_post_once(terms, settings):
    settings.PREVENTION_LOCAL_FEED_DIR = SAMPLE_FEED.parent
    source = make_source(feed_url="file://sample-feed.xml")
    now = timezone.now()
    first = intake_feeds.fetch_source(source=source, now=now)
    assert first.ok and first.ingest.received == 8
    urls = set(Incident.objects.values_list("url", flat=True))
    assert urls == {
        "https://social.example.net/@sam_dev/110234567890",
        "https://photos.example.org/p/Cq9xZ2",
        "https://blog.example.com/2026/02/28/long-day",
    }
    # Dates come from the feed, in UTC; handles from the author.
    atlas = Incident.objects.get(url="https://social.example.net/@sam_dev/110234567890")
    assert atlas.posted_at == datetime(2026, 3, 2, 8, 12, tzinfo=UTC)
    assert atlas.account_handle == "@sam_dev" and atlas.platform == Incident.Platform.BLOG
    # HTML is read as text: "<strong>Project Atlas</strong>" is kept as words.
    assert "but Project Atlas is going" in Evidence.objects.get(incident=atlas).note

    second = intake_feeds.fetch_source(source=source, now=now + timedelta(minutes=20))
    assert second.ok and second.ingest.opened == []
    assert Incident.objects.count() == 3 and IntakeItem.objects.count() == 3
    source.refresh_from_db()
    assert (source.items_seen, source.items_matched) == (16, 3)
    assert source.last_success_at == now + timedelta(minutes=20)


def test_a_feed_over_http_is_fetched_and_its_success_recorded(terms, web):
    url = web.answer(
        "/feed.xml",
        body=rss({"link": "https://blog.example.com/a", "text": "<p>Falcon X2 in the lab</p>"}),
        headers={"Content-Type": "application/rss+xml; charset=utf-8"},
    )
    source = make_source(feed_url=url)
    now = timezone.now()
    result = intake_feeds.fetch_source(source=source, now=now)
    assert result.ok and len(result.ingest.opened) == 1
    source.refresh_from_db()
    assert source.last_fetched_at == source.last_success_at == now
    assert (source.consecutive_failures, source.last_error) == (0, "")
    assert source.next_fetch_at == now + timedelta(minutes=15)


def _failure_changes_nothing_else(source: Source, before: dict, now: datetime, message: str):
    source.refresh_from_db()
    assert message in source.last_error
    assert source.consecutive_failures == 1
    assert source.last_fetched_at == now
    assert source.next_fetch_at == now + timedelta(minutes=5)
    assert source.last_success_at == before["last_success_at"]
    assert (source.items_seen, source.items_matched) == (before["seen"], before["matched"])
    assert counts() == NOTHING


def _state(source: Source) -> dict:
    return {
        "last_success_at": source.last_success_at,
        "seen": source.items_seen,
        "matched": source.items_matched,
    }


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"status": 500, "body": b"Oops"}, "HTTP 500"),
        ({"status": 404, "body": b"Gone"}, "HTTP 404"),
        ({"body": b"this is <<< not a feed at all"}, "not valid RSS or Atom"),
        ({"body": b"<html><body><p>Project Atlas</p></body></html>"}, "RSS or Atom"),
    ],
)
def test_a_feed_that_fails_is_recorded_with_backoff_and_nothing_else_changes(
    terms, web, answer, message
):
    source = make_source(feed_url=web.answer("/feed.xml", **answer))
    before, now = _state(source), timezone.now()
    result = intake_feeds.fetch_source(source=source, now=now)
    assert not result.ok and message in result.error
    _failure_changes_nothing_else(source, before, now, message)


def test_a_feed_that_does_not_answer_in_time_fails(terms, web, monkeypatch):
    monkeypatch.setattr(intake_feeds, "TIMEOUT_SECONDS", 0.3)
    source = make_source(feed_url=web.answer("/slow.xml", body=rss(), delay=2))
    now = timezone.now()
    result = intake_feeds.fetch_source(source=source, now=now)
    assert not result.ok
    _failure_changes_nothing_else(source, _state(source), now, "did not answer within")


@pytest.mark.parametrize("drip_what", ["body", "all"])
def test_a_feed_sent_a_byte_a_second_is_cut_off_at_the_overall_deadline(
    terms, web, monkeypatch, drip_what
):
    monkeypatch.setattr(intake_feeds, "TOTAL_SECONDS", 2)
    body = rss({"link": "https://a.example.com/1", "text": "Northwind"})
    url = web.answer("/drip.xml", body=body, drip=1.0, drip_what=drip_what)
    source = make_source(feed_url=url)
    before, now = _state(source), timezone.now()
    began = time.monotonic()
    result = intake_feeds.fetch_source(source=source, now=now)
    took = time.monotonic() - began
    assert not result.ok
    # Each byte comes within the 10-second timeout: only the overall deadline stops it.
    assert 1.5 < took < 4
    _failure_changes_nothing_else(source, before, now, "took longer than 2 seconds")


@pytest.mark.parametrize("send_length", [True, False])
def test_a_feed_larger_than_the_cap_fails_without_being_read_whole(
    terms, web, monkeypatch, send_length
):
    monkeypatch.setattr(intake_feeds, "MAX_BYTES", 2000)
    body = rss(*[{"link": f"https://a.example.com/{n}", "text": "Northwind"} for n in range(40)])
    assert len(body) > 2000
    source = make_source(feed_url=web.answer("/big.xml", body=body, send_length=send_length))
    now = timezone.now()
    result = intake_feeds.fetch_source(source=source, now=now)
    assert not result.ok
    _failure_changes_nothing_else(source, _state(source), now, "larger than")


def test_failures_back_off_doubling_up_to_six_hours_and_a_success_resets_them(terms, web):
    url = web.answer("/feed.xml", status=503)
    source = make_source(feed_url=url)
    now = timezone.now()
    waits = []
    for attempt in range(9):
        moment = now + timedelta(hours=attempt * 7)
        intake_feeds.fetch_source(source=source, now=moment)
        source.refresh_from_db()
        waits.append(source.next_fetch_at - moment)
    minutes = [int(wait.total_seconds() // 60) for wait in waits]
    assert minutes == [5, 10, 20, 40, 80, 160, 320, 360, 360]
    assert source.consecutive_failures == 9

    web.answer("/feed.xml", body=rss({"link": "https://a.example.com/1", "text": "Northwind"}))
    later = now + timedelta(days=3)
    assert intake_feeds.fetch_source(source=source, now=later).ok
    source.refresh_from_db()
    assert (source.consecutive_failures, source.last_error) == (0, "")
    assert source.last_success_at == later and source.next_fetch_at == later + timedelta(minutes=15)
    assert Incident.objects.count() == 1


def test_feeds_on_private_networks_are_refused_unless_allowed(terms, web, settings):
    settings.PREVENTION_FEED_ALLOW_PRIVATE_HOSTS = False
    url = web.answer(
        "/feed.xml", body=rss({"link": "https://a.example.com/1", "text": "Northwind"})
    )
    source = make_source(feed_url=url)
    result = intake_feeds.fetch_source(source=source)
    assert not result.ok and "private or local network" in result.error
    assert web.hits == [] and counts() == NOTHING
    for address in ("http://localhost/feed", "http://10.1.2.3/feed", "http://[::1]/feed"):
        with pytest.raises(intake_feeds.FeedError, match="private or local"):
            intake_feeds.check_web_feed_address(address)


def test_a_feed_is_fetched_from_the_address_vetted_never_one_the_name_rebinds_to(
    terms, web, outside, dns
):
    port = web.server.server_address[1]
    feed = rss({"link": "https://a.example.com/1", "text": "Northwind"})
    for server in (web, outside):
        server.answer("/feed.xml", body=feed)
        server.answer(
            "/moved.xml",
            status=302,
            headers={"Location": f"http://cdn.example.test:{port}/feed.xml"},
        )
    # Each name answers public first, then inside the network: a check that resolves
    # the name apart from the connection would let the connection go inside.
    dns.names["feeds.example.test"] = ["127.0.0.2", "127.0.0.1"]
    dns.names["cdn.example.test"] = ["127.0.0.2", "127.0.0.1"]
    result = intake_feeds.fetch_source(
        source=make_source(feed_url=f"http://feeds.example.test:{port}/moved.xml")
    )
    assert result.ok and len(result.ingest.opened) == 1
    assert outside.hits == ["/moved.xml", "/feed.xml"]  # the redirect is vetted the same way
    assert web.hits == []
    assert dns.lookups == ["feeds.example.test", "cdn.example.test"]  # one lookup each


def test_a_name_that_resolves_inside_the_network_is_refused_at_the_redirect_too(
    terms, web, outside, dns
):
    port = web.server.server_address[1]
    outside.answer(
        "/moved.xml", status=302, headers={"Location": f"http://inside.example.test:{port}/f"}
    )
    dns.names["feeds.example.test"] = ["127.0.0.2"]
    dns.names["inside.example.test"] = ["127.0.0.1"]
    source = make_source(feed_url=f"http://feeds.example.test:{port}/moved.xml")
    result = intake_feeds.fetch_source(source=source)
    assert not result.ok and "inside.example.test is on a private or local network" in result.error
    assert web.hits == [] and counts() == NOTHING


def _certificate(name: str, key, *, issuer: str, signing_key, ca: bool = False):
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture
def tls_outside(tmp_path, monkeypatch):
    """`start(name)`: an https server on 127.0.0.2 with a certificate for `name` from a
    test authority PolicyHub trusts; `names` holds the SNI names it was asked for."""
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority = _certificate(
        "Test authority", authority_key, issuer="Test authority", signing_key=authority_key, ca=True
    )
    pem = authority.public_bytes(serialization.Encoding.PEM).decode()

    monkeypatch.setattr(intake_feeds, "tls_context", lambda: ssl.create_default_context(cadata=pem))
    started = []

    def start(name: str) -> Web:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = _certificate(name, key, issuer="Test authority", signing_key=authority_key)
        (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        (tmp_path / "key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
        names = []
        context.sni_callback = lambda sock, server_name, _context: names.append(server_name)
        server = _serve("127.0.0.2", 0, tls=context)
        started.append(server)
        web = Web(server)
        web.names = names
        return web

    yield start
    for server in started:
        _stop(server)


def test_https_goes_to_the_vetted_address_with_the_host_name_for_sni_and_certificate(
    terms, tls_outside, dns
):
    server = tls_outside("feeds.example.test")
    server.answer("/feed.xml", body=rss({"link": "https://a.example.com/1", "text": "Northwind"}))
    dns.names["feeds.example.test"] = ["127.0.0.2", "127.0.0.1"]
    port = server.server.server_address[1]
    result = intake_feeds.fetch_source(
        source=make_source(feed_url=f"https://feeds.example.test:{port}/feed.xml")
    )
    assert result.ok and len(result.ingest.opened) == 1
    assert server.hits == ["/feed.xml"] and server.names == ["feeds.example.test"]
    assert dns.lookups == ["feeds.example.test"]


def test_https_with_a_certificate_for_another_name_is_refused(terms, tls_outside, dns):
    server = tls_outside("other.example.test")
    server.answer("/feed.xml", body=rss({"link": "https://a.example.com/1", "text": "Northwind"}))
    dns.names["feeds.example.test"] = ["127.0.0.2"]
    port = server.server.server_address[1]
    result = intake_feeds.fetch_source(
        source=make_source(feed_url=f"https://feeds.example.test:{port}/feed.xml")
    )
    assert not result.ok and "certificate is not valid" in result.error
    assert server.hits == [] and counts() == NOTHING


def test_proxy_settings_in_the_environment_are_not_used(terms, web, monkeypatch):
    proxy = _serve()
    try:
        for name in ("http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.server_address[1]}")
            monkeypatch.setenv(name.upper(), f"http://127.0.0.1:{proxy.server_address[1]}")
        for name in ("no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        url = web.answer("/feed.xml", body=rss({"link": "https://a.example.com/1", "text": "x"}))
        assert intake_feeds.fetch_source(source=make_source(feed_url=url)).ok
        assert web.hits == ["/feed.xml"] and proxy.hits == []
    finally:
        _stop(proxy)


def test_a_redirect_to_anything_but_http_is_refused(terms, web, feed_dir):
    (feed_dir / "feed.xml").write_bytes(
        rss({"link": "https://a.example.com/1", "text": "Northwind"})
    )
    # urllib itself would follow a redirect to ftp:// (and so reach another server).
    ftp = web.answer("/to-ftp", status=302, headers={"Location": "ftp://192.0.2.1/feed.xml"})
    result = intake_feeds.fetch_source(source=make_source(feed_url=ftp))
    assert not result.ok and "redirected to an address that is refused" in result.error
    local = web.answer("/to-file", status=302, headers={"Location": f"file://{feed_dir}/feed.xml"})
    result = intake_feeds.fetch_source(source=make_source(feed_url=local))
    assert not result.ok and "not allowed" in result.error
    assert counts() == NOTHING


def test_a_body_that_names_a_local_file_is_not_opened_as_a_feed(terms, web, settings):
    # feedparser opens a file whose name it is given as bytes; PolicyHub never lets it.
    settings.PREVENTION_LOCAL_FEED_DIR = SAMPLE_FEED.parent
    url = web.answer("/feed.xml", body=str(SAMPLE_FEED).encode())
    result = intake_feeds.fetch_source(source=make_source(feed_url=url))
    assert not result.ok and counts() == NOTHING


def test_local_feed_files_must_be_in_the_feed_folder(terms, feed_dir, tmp_path):
    outside = tmp_path / "outside.xml"
    outside.write_bytes(rss({"link": "https://a.example.com/1", "text": "Northwind"}))
    for address in (f"file://{outside}", "file://../outside.xml", "file:///etc/passwd"):
        result = intake_feeds.fetch_source(source=make_source(feed_url=address))
        assert not result.ok and "local feed folder" in result.error, address
    missing = intake_feeds.fetch_source(source=make_source(feed_url="file://missing.xml"))
    assert not missing.ok and "no file missing.xml" in missing.error
    for address in ("ftp://example.com/feed.xml", "gopher://x", "/etc/passwd", "javascript:x"):
        with pytest.raises(intake_feeds.FeedError):
            intake_feeds.check_feed_address(address)
    assert counts() == NOTHING


# --- the beat task and claims ------------------------------------------------------------


def test_the_beat_task_fetching_twice_opens_one_incident(terms, feed_dir):
    (feed_dir / "feed.xml").write_bytes(
        rss(
            {"link": "https://a.example.com/1", "text": "Falcon X2 leaked"},
            {"link": "https://a.example.com/2", "text": "Nothing to see"},
        )
    )
    source = make_source(feed_url="file://feed.xml")
    now = timezone.now()
    assert intake_feeds.fetch_due_sources(now=now) == 1
    # Not due again until its next fetch time: a run in between fetches nothing.
    assert intake_feeds.fetch_due_sources(now=now + timedelta(minutes=1)) == 0
    assert intake_feeds.fetch_due_sources(now=now + timedelta(minutes=16)) == 1
    source.refresh_from_db()
    assert source.last_success_at == now + timedelta(minutes=16)
    assert source.items_seen == 4
    assert Incident.objects.count() == 1 and IntakeItem.objects.count() == 1
    # The Celery task runs the same service.
    source.next_fetch_at = timezone.now() - timedelta(seconds=1)
    source.save(update_fields=["next_fetch_at"])
    assert tasks.fetch_due_sources() == 1
    assert Incident.objects.count() == 1


def test_only_active_feeds_that_are_due_are_fetched(terms, feed_dir):
    (feed_dir / "feed.xml").write_bytes(
        rss({"link": "https://a.example.com/1", "text": "Northwind"})
    )
    now = timezone.now()
    make_source(feed_url="file://feed.xml", active=False)
    make_source(feed_url="file://feed.xml", next_fetch_at=now + timedelta(minutes=3))
    make_source(Source.Kind.WEBHOOK)
    due = make_source(feed_url="file://feed.xml", next_fetch_at=now - timedelta(minutes=1))
    assert intake_feeds.fetch_due_sources(now=now) == 1
    assert Source.objects.filter(last_fetched_at__isnull=False).get() == due


def test_a_feed_is_claimed_by_one_worker_at_a_time(feed_dir):
    source = make_source(feed_url="file://feed.xml")
    now = timezone.now()
    assert intake_feeds.claim(source_id=source.pk, now=now) is not None
    # The second worker, a moment later, finds it taken.
    assert intake_feeds.claim(source_id=source.pk, now=now + timedelta(seconds=5)) is None
    assert intake_feeds.fetch_if_due(source_id=source.pk, now=now) is None
    # A worker that died mid-fetch holds it only until the lease ends.
    later = now + intake_feeds.FETCH_LEASE
    assert intake_feeds.claim(source_id=source.pk, now=later) is not None


def test_fetch_now_during_a_fetch_does_not_let_a_second_worker_fetch_the_feed(
    comms, feed_dir, monkeypatch
):
    (feed_dir / "feed.xml").write_bytes(rss())
    monkeypatch.setattr(tasks.fetch_feed, "apply_async", lambda **kwargs: None)
    source = make_source(feed_url="file://feed.xml")
    now = timezone.now()
    assert intake_feeds.claim(source_id=source.pk, now=now) is not None  # a worker fetches it
    # Comms press "Fetch now" meanwhile: the feed is due, but still being fetched.
    intake.request_fetch(source=source, by=comms, now=now + timedelta(seconds=1))
    later = now + timedelta(seconds=2)
    assert intake_feeds.claim(source_id=source.pk, now=later) is None
    assert intake_feeds.fetch_if_due(source_id=source.pk, now=later) is None
    assert intake_feeds.fetch_due_sources(now=later) == 0
    # The fetch done, the claim is let go: "Fetch now" works at once again.
    intake_feeds.fetch_source(source=source, now=later)
    source.refresh_from_db()
    assert source.claimed_until is None
    intake.request_fetch(source=source, by=comms, now=later)
    assert intake_feeds.fetch_if_due(source_id=source.pk, now=later).ok


def test_a_fetch_that_fails_lets_go_of_its_claim(feed_dir):
    source = make_source(feed_url="file://missing.xml")
    now = timezone.now()
    assert not intake_feeds.fetch_if_due(source_id=source.pk, now=now).ok
    source.refresh_from_db()
    assert source.claimed_until is None and source.next_fetch_at == now + timedelta(minutes=5)


def test_old_webhook_signatures_are_forgotten_by_the_beat_task():
    source = make_source(Source.Kind.WEBHOOK)
    now = timezone.now()
    WebhookDelivery.objects.create(source=source, signature="a" * 64, received_at=now)
    WebhookDelivery.objects.create(
        source=source, signature="b" * 64, received_at=now - timedelta(hours=2)
    )
    intake_feeds.fetch_due_sources(now=now)
    assert list(WebhookDelivery.objects.values_list("signature", flat=True)) == ["a" * 64]


def test_the_beat_schedule_fetches_feeds_every_minute():
    from policyhub.celery import app

    entry = app.conf.beat_schedule["fetch-intake-feeds"]
    assert entry["task"] == "prevention.tasks.fetch_due_sources" == tasks.fetch_due_sources.name
    assert entry["schedule"] == 60.0


def test_fetch_now_makes_the_feed_due_and_asks_a_worker(
    comms, feed_dir, monkeypatch, django_capture_on_commit_callbacks
):
    source = make_source(
        feed_url="file://feed.xml", next_fetch_at=timezone.now() + timedelta(hours=5)
    )
    asked = []
    monkeypatch.setattr(tasks.fetch_feed, "apply_async", lambda **kw: asked.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        intake.request_fetch(source=source, by=comms)
    assert asked == [{"args": (source.pk,), "retry": False}]
    source.refresh_from_db()
    assert source.next_fetch_at <= timezone.now()
    # The worker's task fetches it (once).
    (feed_dir / "feed.xml").write_bytes(rss())
    assert tasks.fetch_feed(source.pk) is True
    assert tasks.fetch_feed(source.pk) is False


def test_only_comms_manage_sources(employee, policy_admin, hr):
    source = make_source(Source.Kind.WEBHOOK)
    for person in (employee, policy_admin, hr):
        with pytest.raises(PreventionError):
            intake.create_source(by=person, name="X", kind="webhook", platform="other")
        with pytest.raises(PreventionError):
            intake.rotate_secret(source=source, by=person)
        with pytest.raises(PreventionError):
            intake.set_active(source=source, by=person, active=False)
    assert Source.objects.count() == 1


# --- the webhook -------------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def deliver(client, source, body, *, timestamp=None, secret=None, headers=None):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    body = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {
        "X-PolicyHub-Timestamp": timestamp,
        "X-PolicyHub-Signature": signature(secret or source.secret, timestamp, body),
    }
    if headers is not None:
        sent = headers
    return client.post(
        reverse("prevention:intake_webhook", args=[source.slug]),
        body,
        content_type="application/json",
        headers=sent,
    )


ITEMS = {
    "items": [
        {
            "url": "https://social.example.net/@lee/99",
            "text": "Q3 revenue is up 40%, don't tell anyone",
            "handle": "@lee",
            "posted_at": "2026-03-01T09:30:00Z",
            "platform": "x",
        },
        {
            "url": "https://social.example.net/@kim/100",
            "text": "Lovely day for a walk.",
            "handle": "@kim",
            "posted_at": "2026-03-01T10:00:00+01:00",
        },
    ]
}


@pytest.fixture
def csrf_client():
    # The webhook is not a form: it must work without a CSRF token and without a login.
    return Client(enforce_csrf_checks=True)


def test_a_signed_delivery_opens_incidents_and_answers_with_counts_only(terms, csrf_client):
    source = make_source(Source.Kind.WEBHOOK, platform=Incident.Platform.LINKEDIN)
    response = deliver(csrf_client, source, ITEMS)
    assert response.status_code == 200, response.content
    assert response.json() == {"received": 2, "matched": 1, "opened": 1}
    incident = Incident.objects.get()
    assert incident.url == "https://social.example.net/@lee/99"
    assert incident.platform == Incident.Platform.X  # the item's platform wins
    assert incident.posted_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert incident.severity == Severity.CRITICAL and incident.account_handle == "@lee"
    assert Evidence.objects.get().note == "Q3 revenue is up 40%, don't tell anyone"
    assert WebhookDelivery.objects.filter(source=source).count() == 1
    source.refresh_from_db()
    assert (source.items_seen, source.items_matched) == (2, 1)
    assert source.last_success_at is not None
    # The same posts in a new delivery (new timestamp, new signature): no new incident.
    again = deliver(csrf_client, source, ITEMS, timestamp=int(time.time()) + 1)
    assert again.json() == {"received": 2, "matched": 1, "opened": 0}
    assert Incident.objects.count() == 1


def _refused(response, status: int, words: str):
    assert response.status_code == status, response.content
    assert words in response.json()["error"]
    assert counts() == NOTHING


def test_a_delivery_without_a_valid_signature_is_refused(terms, csrf_client):
    source = make_source(Source.Kind.WEBHOOK)
    _refused(deliver(csrf_client, source, ITEMS, secret="not-the-secret"), 401, "does not match")
    _refused(deliver(csrf_client, source, ITEMS, headers={}), 401, "headers are required")
    now = str(int(time.time()))
    body = json.dumps(ITEMS).encode()
    good = signature(source.secret, now, body)
    for headers, words in (
        ({"X-PolicyHub-Timestamp": now}, "headers are required"),
        ({"X-PolicyHub-Signature": good}, "headers are required"),
        ({"X-PolicyHub-Timestamp": now, "X-PolicyHub-Signature": good[7:]}, "sha256="),
        ({"X-PolicyHub-Timestamp": "soon", "X-PolicyHub-Signature": good}, "seconds since"),
        # Signed for another timestamp, or for another body.
        ({"X-PolicyHub-Timestamp": str(int(now) - 1), "X-PolicyHub-Signature": good}, "match"),
    ):
        _refused(deliver(csrf_client, source, body, headers=headers), 401, words)
    tampered = body.replace(b"Q3 revenue", b"Q4 revenue")
    headers = {"X-PolicyHub-Timestamp": now, "X-PolicyHub-Signature": good}
    _refused(deliver(csrf_client, source, tampered, headers=headers), 401, "does not match")
    source.refresh_from_db()
    assert (source.items_seen, source.last_success_at) == (0, None)


# Well past 300 seconds: the request's second may end before the clock is read.
@pytest.mark.parametrize("offset", [-310, 310, -86400])
def test_a_delivery_signed_more_than_five_minutes_away_is_refused(terms, csrf_client, offset):
    source = make_source(Source.Kind.WEBHOOK)
    response = deliver(csrf_client, source, ITEMS, timestamp=int(time.time()) + offset)
    _refused(response, 401, "more than 5 minutes")


def test_a_replayed_delivery_is_refused(terms, csrf_client):
    source = make_source(Source.Kind.WEBHOOK)
    timestamp = int(time.time())
    assert deliver(csrf_client, source, ITEMS, timestamp=timestamp).status_code == 200
    before = counts()
    source.refresh_from_db()
    seen = source.items_seen
    replay = deliver(csrf_client, source, ITEMS, timestamp=timestamp)
    assert replay.status_code == 401 and "already received" in replay.json()["error"]
    assert counts() == before
    source.refresh_from_db()
    assert source.items_seen == seen


def test_an_old_secret_stops_working_when_a_new_one_is_made(terms, csrf_client, comms):
    source = make_source(Source.Kind.WEBHOOK)
    old = source.secret
    new = intake.rotate_secret(source=source, by=comms)
    assert new != old and len(new) >= 40
    _refused(deliver(csrf_client, source, ITEMS, secret=old), 401, "does not match")
    assert deliver(csrf_client, source, ITEMS, secret=new).status_code == 200


def test_an_oversized_delivery_is_refused(terms, csrf_client):
    source = make_source(Source.Kind.WEBHOOK)
    padding = "x" * (1024 * 1024)
    body = json.dumps({"items": [{"url": "https://a.example.com/1", "text": padding}]})
    _refused(deliver(csrf_client, source, body.encode()), 413, "larger than 1 MB")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", '"items"'),
        (b'{"items": {}}', '"items"'),
        (b'{"items": ["x"]}', "items[0] must be an object"),
        (b'{"items": [{"url": "https://a.example.com/1"}]}', "items[0].text is required"),
        (b'{"items": [{"url": "https://a.example.com/1", "text": 5}]}', "must be a string"),
        (b'{"items": [{"text": "Northwind"}]}', "needs a url"),
        (b'{"items": [{"url": "ftp://a/1", "text": "Northwind"}]}', "http:// or https://"),
        (
            b'{"items": [{"url": "https://a.example.com/1", "text": "Northwind", '
            b'"posted_at": "yesterday"}]}',
            "ISO 8601",
        ),
        (
            b'{"items": [{"url": "https://a.example.com/1", "text": "Northwind", '
            b'"posted_at": "2026-03-01T09:30:00"}]}',
            "needs a time zone",
        ),
        (
            b'{"items": [{"url": "https://a.example.com/1", "text": "Northwind", '
            b'"platform": "myspace"}]}',
            "platform must be one of",
        ),
        (
            b'{"items": [{"url": "https://a.example.com/1", "text": "Northwind", "id": [1]}]}',
            "id must be",
        ),
    ],
)
def test_a_delivery_that_is_not_the_documented_json_is_refused(terms, csrf_client, body, words):
    source = make_source(Source.Kind.WEBHOOK)
    _refused(deliver(csrf_client, source, body), 400, words)


def _item(**fields) -> bytes:
    item = {"url": "https://a.example.com/1", "text": "Northwind", **fields}
    return json.dumps({"items": [item]}).encode()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        (_item().replace(b'"Northwind"', b'"Northwind", "id": ' + b"9" * 5000), "too long"),
        (_item(posted_at="0001-01-01T00:30:00+01:00"), "no earlier than 2000"),
        (_item(posted_at="1999-12-31T23:59:59Z"), "no earlier than 2000"),
        (_item(posted_at="9999-12-31T23:59:59-01:00"), "no later than a day from now"),
        (_item(text="Northwind \ud800"), "not valid Unicode"),
        (_item(handle="@\udfff"), "not valid Unicode"),
    ],
)
def test_a_signed_but_malformed_delivery_is_refused_with_a_message(terms, csrf_client, body, words):
    source = make_source(Source.Kind.WEBHOOK)
    _refused(deliver(csrf_client, source, body), 400, words)


def test_a_post_dated_up_to_a_day_ahead_is_taken_in(terms, csrf_client):
    source = make_source(Source.Kind.WEBHOOK)
    ahead = (timezone.now() + timedelta(hours=20)).isoformat()
    response = deliver(csrf_client, source, _item(posted_at=ahead))
    assert response.status_code == 200 and response.json()["opened"] == 1


def test_a_delivery_of_more_than_a_hundred_items_is_refused(terms, csrf_client):
    source = make_source(Source.Kind.WEBHOOK)
    items = [{"url": f"https://a.example.com/{n}", "text": "Northwind"} for n in range(101)]
    _refused(deliver(csrf_client, source, {"items": items}), 400, "At most 100 items")
    ok = deliver(csrf_client, source, {"items": items[:100]})
    assert ok.json() == {"received": 100, "matched": 100, "opened": 100}


def test_unknown_inactive_or_feed_sources_answer_as_a_wrong_signature_does(terms, csrf_client):
    """A stranger cannot tell a webhook that exists from one that does not: whatever
    they send, an unknown, inactive or feed source answers as an active webhook does
    to a delivery not signed with its secret."""
    active = make_source(Source.Kind.WEBHOOK)
    inactive = make_source(Source.Kind.WEBHOOK, active=False)
    feed = make_source(secret="feed-secret-should-not-count")
    unknown = Source(slug="no-such-source", secret="x")
    for kwargs in ({}, {"headers": {}}, {"headers": {"X-PolicyHub-Timestamp": "soon"}}):
        for source in (inactive, feed, unknown):
            # Signed with the source's own secret: it still does not count.
            answer = deliver(csrf_client, source, ITEMS, **kwargs)
            stranger = deliver(csrf_client, active, ITEMS, secret="not-the-secret", **kwargs)
            assert answer.status_code == stranger.status_code == 401
            assert answer.content == stranger.content
    assert counts() == NOTHING


def test_the_webhook_answers_only_posts(csrf_client):
    source = make_source(Source.Kind.WEBHOOK)
    url = reverse("prevention:intake_webhook", args=[source.slug])
    assert csrf_client.get(url).status_code == 405
