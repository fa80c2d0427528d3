"""Intake feeds: fetching RSS and Atom feeds, reading their posts, and the backoff of
a feed that fails.

A feed is fetched with a timeout, a size cap and an overall deadline, over http(s)
only (redirects too) and, unless allowed, never from a private or local network; or
read from a file in the local feed folder (the demo, the tests). Each connection (the
feed's address, then each redirect's) resolves its host once, refuses it if any of
its addresses is private or local, and connects to the addresses it checked, never to
what the name resolves to a moment later; https checks the certificate against the
host name, also sent for SNI. Proxy settings from the environment are not used: a
proxy would resolve the name again. Every connect, TLS handshake and read waits at
most what is left of the overall deadline, so a server sending a byte at a time is
cut off on time. feedparser only
ever parses bytes PolicyHub fetched itself, never an address. A feed that fails
records its error on the source, nothing else changes, and it is tried again after a
backoff that doubles with each failure, so the sources page shows it as failing.

Each fetch first claims its source with a conditional update of its claim (a lease,
apart from its next fetch time, which "Fetch now" changes), so two workers (or beat
and "Fetch now") never fetch the same feed at once.
"""

from __future__ import annotations

import html
import http.client
import ipaddress
import logging
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.html import strip_tags

from prevention.feed_address import (  # the address checks, also named from here
    FeedError,
    _private,
    _private_host,
    check_feed_address,  # noqa: F401
    check_web_feed_address,
    local_feed_dir,  # noqa: F401
    local_feed_path,
    private_hosts_allowed,
)
from prevention.intake import DELIVERIES_KEPT, IngestResult, PublicPost, clean_text, ingest
from prevention.models import PreventionError, Source, WebhookDelivery

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
TIMEOUT_SECONDS = 10
# A slow server sending a byte at a time is stopped after this long in all.
TOTAL_SECONDS = 30
MAX_ENTRIES = 500
# A fetch claims its source for this long, so that no other worker fetches it meanwhile:
# far longer than a fetch can take (the limits above), short enough to recover soon
# from a worker that died mid-fetch.
FETCH_LEASE = timedelta(minutes=10)
BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=6)
DUE_BATCH = 100
BLANK_LINES = re.compile(r"\n\s*\n\s*")
SPACES = re.compile(r"[ \t\r\f\v]+")


def feed_every() -> timedelta:
    """How often a feed that works is fetched."""
    return timedelta(minutes=settings.PREVENTION_FEED_EVERY_MINUTES)


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s) addresses allowed for a feed (urllib would also
    follow ftp://); the new host is vetted when it is connected to, as the first was."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        try:
            check_web_feed_address(newurl)
        except FeedError as error:
            raise FeedError(f"The feed redirected to an address that is refused: {error}") from None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def resolve_vetted(host: str, port: int) -> list[tuple[int, tuple]]:
    """The addresses (family, socket address) to connect to for `host`: resolved once,
    each one refused if private or local (unless allowed), or a FeedError."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FeedError(f"The host {host} could not be found.") from None
    found = list(dict.fromkeys((family, sockaddr) for family, _, _, _, sockaddr in infos))
    if not found:
        raise FeedError(f"The host {host} could not be found.")
    if not private_hosts_allowed():
        for _family, sockaddr in found:
            # An IPv6 link-local address comes with its zone ("fe80::1%eth0").
            if _private(ipaddress.ip_address(sockaddr[0].split("%")[0])):
                raise _private_host(host)
    return found


class _Deadline:
    """The time one fetch may take in all. Each blocking step (a connect, the TLS
    handshake, one read) waits at most TIMEOUT_SECONDS and never past the end."""

    def __init__(self):
        self.ends = time.monotonic() + TOTAL_SECONDS

    def passed(self) -> bool:
        return time.monotonic() >= self.ends

    def step(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise _took_too_long()
        return min(TIMEOUT_SECONDS, left)


def _took_too_long() -> FeedError:
    return FeedError(f"The feed took longer than {TOTAL_SECONDS} seconds to send.")


class _DeadlineReads:
    """Every receive waits at most what is left of its fetch."""

    deadline: _Deadline

    def recv(self, *args, **kwargs):
        self.settimeout(self.deadline.step())
        return super().recv(*args, **kwargs)

    def recv_into(self, *args, **kwargs):
        self.settimeout(self.deadline.step())
        return super().recv_into(*args, **kwargs)


class _DeadlineSocket(_DeadlineReads, socket.socket):
    """A plain socket under its fetch's deadline."""


class _DeadlineSSLSocket(_DeadlineReads, ssl.SSLSocket):
    """The same over TLS, the handshake included."""

    def do_handshake(self, *args, **kwargs):
        self.settimeout(self.deadline.step())
        return super().do_handshake(*args, **kwargs)


def _open_socket(host: str, port: int, deadline: _Deadline) -> socket.socket:
    """A socket to the first of the host's vetted addresses that answers."""
    last_error: OSError | None = None
    for family, sockaddr in resolve_vetted(host, port):
        sock = _DeadlineSocket(family, socket.SOCK_STREAM)
        sock.deadline = deadline
        try:
            sock.settimeout(deadline.step())
            sock.connect(sockaddr)
        except OSError as error:
            sock.close()
            last_error = error
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise last_error or OSError("no address to connect to")


class _VettedHTTPConnection(http.client.HTTPConnection):
    """Plain http to the addresses vetted for the host."""

    def __init__(self, host, port=None, *, deadline: _Deadline, **kwargs):
        super().__init__(host, port, **kwargs)
        self.deadline = deadline

    def connect(self):
        self.sock = _open_socket(self.host, self.port, self.deadline)


class _VettedHTTPSConnection(http.client.HTTPSConnection):
    """https to the addresses vetted for the host; the certificate is checked against
    the host name, which is also sent for SNI."""

    def __init__(self, host, port=None, *, deadline: _Deadline, **kwargs):
        self.tls = tls_context()
        self.tls.sslsocket_class = _DeadlineSSLSocket
        super().__init__(host, port, context=self.tls, **kwargs)
        self.deadline = deadline

    def connect(self):
        raw = _open_socket(self.host, self.port, self.deadline)
        try:
            sock = self.tls.wrap_socket(
                raw, server_hostname=self.host, do_handshake_on_connect=False
            )
        except BaseException:
            raw.close()
            raise
        sock.deadline = self.deadline
        try:
            sock.do_handshake()
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's authorities (tests add their own)."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


class _VettedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline):
        super().__init__()
        self.deadline = deadline

    def http_open(self, req):
        return self.do_open(_VettedHTTPConnection, req, deadline=self.deadline)


class _VettedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline):
        super().__init__()
        self.deadline = deadline

    def https_open(self, req):
        return self.do_open(_VettedHTTPSConnection, req, deadline=self.deadline)


def _read_limited(stream, limit: int, deadline: _Deadline) -> bytes:
    """What `stream` holds, at most `limit` bytes, read by the deadline: read1 returns
    what has arrived rather than waiting for a whole chunk, and a web feed's socket
    waits at most what is left of the deadline for each piece."""
    content = bytearray()
    while True:
        if deadline.passed():
            raise _took_too_long()
        chunk = stream.read1(64 * 1024)
        if not chunk:
            return bytes(content)
        content += chunk
        if len(content) > limit:
            raise FeedError(f"The feed is larger than {limit // (1024 * 1024)} MB.")


def read_feed(url: str) -> tuple[bytes, dict]:
    """The feed's bytes and response headers, or a FeedError saying what went wrong."""
    limit = MAX_BYTES
    if url.lower().startswith("file://"):
        path = local_feed_path(url)
        try:
            with path.open("rb") as handle:
                return _read_limited(handle, limit, _Deadline()), {}
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FeedError(f"There is no file {path.name} in the local feed folder.") from None
        except PermissionError:
            raise FeedError(f"The feed file {path.name} cannot be read.") from None
    check_web_feed_address(url)
    deadline = _Deadline()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),  # a proxy would resolve the name again, unvetted
        _VettedHTTPHandler(deadline),
        _VettedHTTPSHandler(deadline),
        _SafeRedirects,
    )
    # The scheme was checked just above: http(s) only.
    request = urllib.request.Request(  # noqa: S310
        url,
        headers={
            "User-Agent": "PolicyHub intake",
            "Accept": "application/rss+xml, application/atom+xml, application/xml, */*;q=0.5",
        },
    )
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > limit:
                raise FeedError(f"The feed is larger than {limit // (1024 * 1024)} MB.")
            content = _read_limited(response, limit, deadline)
            headers = {key.lower(): value for key, value in response.headers.items()}
    except urllib.error.HTTPError as error:
        raise FeedError(f"The feed's server answered HTTP {error.code} ({error.reason}).") from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, FeedError):
            raise reason from None
        if isinstance(reason, TimeoutError):
            raise _no_answer(deadline) from None
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise FeedError(
                f"The feed's certificate is not valid ({reason.verify_message})."
            ) from None
        raise FeedError(f"The feed could not be reached ({reason}).") from None
    except TimeoutError:
        raise _no_answer(deadline) from None
    except (OSError, ValueError, http.client.HTTPException) as error:
        # A connection reset, a broken TLS handshake, a malformed or cut-off response.
        raise FeedError(f"The feed could not be read ({error.__class__.__name__}).") from None
    return content, headers


def _no_answer(deadline: _Deadline) -> FeedError:
    """A socket that waited in vain: for one step, or till the end of the deadline."""
    if deadline.passed():
        return _took_too_long()
    return FeedError(f"The feed did not answer within {TIMEOUT_SECONDS} seconds.")


def _when(entry) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def html_to_text(value: str) -> str:
    """Feed summaries are HTML: the words a reader sees, for matching and evidence."""
    value = re.sub(r"(?i)<\s*(br|/p|/div|/li|/h[1-6])\b[^>]*>", "\n", value or "")
    text = html.unescape(strip_tags(value))
    text = SPACES.sub(" ", text)
    return BLANK_LINES.sub("\n\n", text).strip()


def parse_feed(content: bytes, headers: dict | None = None) -> list[PublicPost]:
    """The posts in an RSS or Atom document, or a FeedError when it is not one."""
    import feedparser

    # A stream, never bytes or a string: feedparser would take those for a file name
    # or an address and open it itself.
    parsed = feedparser.parse(BytesIO(content), response_headers=headers or {})
    if parsed.bozo and not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f" ({clean_text(str(problem), limit=200)})" if problem else ""
        raise FeedError(f"The feed is not valid RSS or Atom{detail}.")
    if not parsed.version and not parsed.entries:
        raise FeedError("This address does not hold an RSS or Atom feed.")
    posts = []
    for entry in parsed.entries[:MAX_ENTRIES]:
        body = entry.get("summary", "")
        contents = entry.get("content") or []
        if contents:
            body = contents[0].get("value", "") or body
        author = entry.get("author", "")
        posts.append(
            PublicPost(
                url=entry.get("link", ""),
                guid=entry.get("id", ""),
                title=html_to_text(entry.get("title", "")),
                text=html_to_text(body),
                handle=author,
                posted_at=_when(entry),
            )
        )
    return posts


def backoff(failures: int) -> timedelta:
    """5 minutes after the first failure, doubling each time, at most 6 hours."""
    return min(BACKOFF_BASE * 2 ** max(failures - 1, 0), BACKOFF_CAP)


def _record_failure(source: Source, message: str, now: datetime) -> None:
    with transaction.atomic():
        failures = (
            Source.objects.select_for_update()
            .values_list("consecutive_failures", flat=True)
            .get(pk=source.pk)
        ) + 1
        Source.objects.filter(pk=source.pk).update(
            last_fetched_at=now,
            last_error=clean_text(message, limit=2000),
            consecutive_failures=failures,
            next_fetch_at=now + backoff(failures),
            claimed_until=None,
        )
    source.refresh_from_db()


def _record_success(source: Source, now: datetime) -> None:
    Source.objects.filter(pk=source.pk).update(
        last_fetched_at=now,
        last_success_at=now,
        last_error="",
        consecutive_failures=0,
        next_fetch_at=now + feed_every(),
        claimed_until=None,
    )
    source.refresh_from_db()


@dataclass
class FetchResult:
    ok: bool
    error: str = ""
    ingest: IngestResult | None = None


def fetch_source(*, source: Source, now: datetime | None = None) -> FetchResult:
    """Fetch a feed and take in its posts. A failure is recorded on the source (its
    error, one more consecutive failure, the next try after the backoff) and nothing
    else changes; a success clears the failures and plans the next regular fetch."""
    now = now or timezone.now()
    if source.kind != Source.Kind.FEED:
        raise PreventionError("Only feeds are fetched; webhooks are sent to PolicyHub.")
    try:
        content, headers = read_feed(source.feed_url)
        posts = parse_feed(content, headers)
    except FeedError as error:
        _record_failure(source, str(error), now)
        log.warning("Intake feed %s failed: %s", source.pk, error)
        return FetchResult(ok=False, error=str(error))
    try:
        result = ingest(source=source, items=posts, now=now)
    except Exception as error:  # shown on the sources page, never lost in a log alone
        log.exception("Intake feed %s: its posts could not be taken in", source.pk)
        message = (
            f"PolicyHub could not take in this feed's posts ({error.__class__.__name__}); "
            "the details are in the worker's log."
        )
        _record_failure(source, message, now)
        return FetchResult(ok=False, error=message)
    _record_success(source, now)
    return FetchResult(ok=True, ingest=result)


def _due(now: datetime) -> Q:
    """Its time has come and no worker is fetching it (or one died mid-fetch and its
    lease has ended)."""
    return (Q(next_fetch_at__isnull=True) | Q(next_fetch_at__lte=now)) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )


def claim(*, source_id: int, now: datetime) -> Source | None:
    """Take a due feed for one fetch: a conditional update sets its claim for the
    lease, so a second worker finds it claimed and leaves it (the row count says who
    won). The fetch lets go of the claim when it records its result."""
    claimed = Source.objects.filter(
        _due(now), pk=source_id, active=True, kind=Source.Kind.FEED
    ).update(claimed_until=now + FETCH_LEASE)
    return Source.objects.get(pk=source_id) if claimed else None


def fetch_if_due(*, source_id: int, now: datetime | None = None) -> FetchResult | None:
    """Fetch one feed if it is due and no other worker has it; None if not."""
    now = now or timezone.now()
    source = claim(source_id=source_id, now=now)
    if source is None:
        return None
    return fetch_source(source=source, now=now)


def fetch_due_sources(*, now: datetime | None = None) -> int:
    """Fetch every active feed whose time has come, one at a time; the number fetched.
    Also forgets webhook signatures too old to be replayed anyway."""
    started = now or timezone.now()
    WebhookDelivery.objects.filter(received_at__lt=started - DELIVERIES_KEPT).delete()
    due = (
        Source.objects.filter(_due(started), active=True, kind=Source.Kind.FEED)
        .order_by(F("next_fetch_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )
    fetched = 0
    for source_id in list(due):
        if fetch_if_due(source_id=source_id, now=now or timezone.now()) is not None:
            fetched += 1
    return fetched
