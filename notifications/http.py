"""Posting to other services (Slack, Microsoft Teams, outgoing webhooks): the addresses
PolicyHub accepts, and one POST with a timeout that never follows a redirect.

An address is https, or http on this machine (127.0.0.1, ::1, localhost) when
NOTIFICATIONS_ALLOW_LOCAL_HTTP is on (development and tests). Its host must also be on
the public internet: every address the name resolves to must be global, checked when
the address is saved and again at each POST, and the POST connects to the addresses
just checked, so the name cannot be pointed elsewhere in between. Otherwise a
subscription could make PolicyHub post to its own network (a cloud metadata service,
an admin port) and show what answered. NOTIFICATIONS_ALLOW_PRIVATE_HOSTS lifts that
for installations whose receivers are on their own network; NOTIFICATIONS_ALLOW_LOCAL_HTTP
allows this machine (loopback) for the names above only. Proxy settings from the
environment are not used: a proxy would resolve the name again.

A redirect is not followed, to another host or the same one: the answer is a permanent
failure that names the new address, so a person enters the final one. Of an answer
that is not 2xx only the status code and reason phrase are kept, never its body.

Errors are `DeliveryError`s that say whether trying again may help: timeouts,
connection failures, a name that does not resolve, 408, 429 and 5xx answers may;
other answers will not.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

MAX_ADDRESS_LENGTH = 500
MAX_ANSWER_BYTES = 64 * 1024
MAX_REASON_LENGTH = 100
LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")
USER_AGENT = "PolicyHub"
# Every printable ASCII character but the space stays as typed in the request target;
# anything else (a non-ASCII path) is percent-encoded.
TARGET_SAFE = "".join(chr(code) for code in range(33, 127))
NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressError(ValueError):
    """An address PolicyHub will not post to; the message is for people."""


class HostNotFound(AddressError):
    """The address's host name does not resolve (now: it may later)."""


class DeliveryError(Exception):
    """A POST that did not succeed. `transient`: trying again later may help."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        status: int | None = None,
        retry_after: timedelta | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Destination:
    """A checked address: where to connect (`addresses`, all vetted) and what to ask."""

    scheme: str
    host: str
    port: int
    target: str  # the path and query
    addresses: tuple[IPAddress, ...]


def local_http_allowed() -> bool:
    return bool(getattr(settings, "NOTIFICATIONS_ALLOW_LOCAL_HTTP", False))


def private_hosts_allowed() -> bool:
    return bool(getattr(settings, "NOTIFICATIONS_ALLOW_PRIVATE_HOSTS", False))


def timeout_seconds() -> float:
    return float(getattr(settings, "NOTIFICATIONS_HTTP_TIMEOUT_SECONDS", 10))


def is_local_host(host: str) -> bool:
    return host.lower() in LOCAL_HOSTS


def check_address(url: str, *, what: str = "") -> tuple[str, str]:
    """(scheme, host) of an address PolicyHub may post to, or an AddressError saying
    what is wrong with it, in words a person can act on. Looks at the address only:
    `vet` also resolves its host."""
    what = what or _("The address")
    if not url:
        raise AddressError(_("%(what)s is missing.") % {"what": what})
    if "\x00" in url:
        raise AddressError(_("%(what)s contains a NUL character.") % {"what": what})
    if len(url) > MAX_ADDRESS_LENGTH:
        raise AddressError(
            _("%(what)s is longer than %(max)s characters.")
            % {"what": what, "max": MAX_ADDRESS_LENGTH}
        )
    if any(character.isspace() or ord(character) < 32 for character in url):
        raise AddressError(_("%(what)s contains spaces or control characters.") % {"what": what})
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (a bad port raises ValueError)
    except ValueError:
        raise AddressError(_("%(what)s is not a valid web address.") % {"what": what}) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        raise AddressError(
            _("%(what)s must be a web address starting with https://.") % {"what": what}
        )
    if parts.username is not None or parts.password is not None:
        raise AddressError(_("%(what)s must not contain a user name or password.") % {"what": what})
    if scheme == "http":
        if not local_http_allowed():
            raise AddressError(
                _("%(what)s must start with https://: plain http is not secure.") % {"what": what}
            )
        if not is_local_host(host):
            raise AddressError(
                _(
                    "%(what)s must start with https://: plain http is only for this machine "
                    "(127.0.0.1 or localhost)."
                )
                % {"what": what}
            )
    return scheme, host.lower()


def host_matches(host: str, allowed: tuple[str, ...] | list[str]) -> bool:
    """`host` is one of `allowed` or a subdomain of one (never an IP address literal)."""
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    host = host.lower().rstrip(".")
    return any(host == name or host.endswith("." + name) for name in allowed)


def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses a host name resolves to (the tests put their own DNS here).
    Raises OSError or UnicodeError when it does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # An IPv6 link-local address comes with its zone ("fe80::1%eth0"): never global.
    found = (ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos)
    return list(dict.fromkeys(found))


def is_public(address: IPAddress) -> bool:
    """On the public internet: global, not multicast, and for IPv6 forms that carry an
    IPv4 address (mapped, 6to4, NAT64) that address too."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
        if address.ipv4_mapped is not None:
            return True
    return address.is_global and not address.is_multicast


def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = resolve(host, port)
    except (OSError, UnicodeError, ValueError):
        found = []
    if not found:
        raise HostNotFound(_("The host %(host)s could not be found.") % {"host": host})
    return found


def vet(url: str, *, what: str = "") -> Destination:
    """`check_address`, then the host's addresses: every one must be public, or loopback
    for this machine's names when local http is allowed, or anything when private hosts
    are allowed. Raises AddressError (HostNotFound when the name does not resolve)."""
    what = what or _("The address")
    scheme, host = check_address(url, what=what)
    parts = urlsplit(url)
    port = parts.port or (443 if scheme == "https" else 80)
    addresses = _addresses(host, port)
    if not private_hosts_allowed():
        if local_http_allowed() and is_local_host(host):
            allowed = all(address.is_loopback for address in addresses)
        else:
            allowed = all(is_public(address) for address in addresses)
        if not allowed:
            raise AddressError(
                _(
                    "%(what)s leads to a private or local network (%(host)s); PolicyHub only "
                    "posts to addresses on the public internet."
                )
                % {"what": what, "host": host}
            )
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Destination(scheme, host, port, quote(target, safe=TARGET_SAFE), tuple(addresses))


# --- one POST -----------------------------------------------------------------------------


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's authorities (tests add their own)."""
    return ssl.create_default_context()


def _open_socket(connection: http.client.HTTPConnection, addresses) -> socket.socket:
    """A socket to the first of the vetted `addresses` that answers, never to whatever
    the host name resolves to by now."""
    last_error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection(
                (str(address), connection.port), connection.timeout, connection.source_address
            )
        except OSError as error:
            last_error = error
    raise last_error or OSError("no address to connect to")


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain http (this machine only) to the vetted addresses."""

    def __init__(self, host: str, port: int, *, addresses, **kwargs):
        super().__init__(host, port, **kwargs)
        self.addresses = addresses

    def connect(self):
        self.sock = _open_socket(self, self.addresses)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """https to the vetted addresses; the certificate is checked for the host name,
    which is also sent for SNI."""

    def __init__(self, host: str, port: int, *, addresses, **kwargs):
        super().__init__(host, port, context=tls_context(), **kwargs)
        self.addresses = addresses

    def connect(self):
        sock = _open_socket(self, self.addresses)
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _retry_after(value: str | None) -> timedelta | None:
    try:
        seconds = int((value or "").strip())
    except ValueError:
        return None  # an HTTP date: the backoff decides
    return timedelta(seconds=seconds) if seconds > 0 else None


def _printable(text: str, limit: int) -> str:
    return "".join(c for c in text if c.isprintable())[:limit].strip()


def _refusal(url: str, response: http.client.HTTPResponse) -> DeliveryError:
    """The DeliveryError for an answer that is not 2xx: its status and reason phrase,
    never its body (which would show what answered to whoever reads the error)."""
    status = response.status
    location = response.getheader("Location")
    if 300 <= status < 400 and location:
        new_url = _printable(urljoin(url, location), 200)
        return DeliveryError(
            f"HTTP {status}: the address redirects to {new_url}; PolicyHub does not follow "
            "redirects, so enter the final address.",
            transient=False,
            status=status,
        )
    reason = _printable(response.reason or "", MAX_REASON_LENGTH)
    return DeliveryError(
        f"HTTP {status} {reason}".strip(),
        transient=status in (408, 429) or status >= 500,
        status=status,
        retry_after=_retry_after(response.getheader("Retry-After")),
    )


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` (vetted again here: settings and DNS may have changed), at
    the addresses just vetted, with a timeout, following no redirect and using no proxy.
    Returns the 2xx answer or raises DeliveryError."""
    try:
        destination = vet(url)
    except HostNotFound as error:
        raise DeliveryError(str(error), transient=True) from None
    except AddressError as error:
        raise DeliveryError(str(error), transient=False) from None
    pinned = PinnedHTTPSConnection if destination.scheme == "https" else PinnedHTTPConnection
    connection = pinned(
        destination.host,
        destination.port,
        addresses=destination.addresses,
        timeout=timeout_seconds(),
    )
    try:
        try:
            connection.connect()
        except TimeoutError:
            raise DeliveryError(
                f"No answer within {timeout_seconds():g} seconds.", transient=True
            ) from None
        except ssl.SSLCertVerificationError as error:
            raise DeliveryError(
                f"Could not connect: the certificate of {destination.host} is not valid "
                f"({error.verify_message}).",
                transient=True,
            ) from None
        except OSError as error:
            reason = error.strerror or error.__class__.__name__
            raise DeliveryError(f"Could not connect: {reason}", transient=True) from None
        connection.request(
            "POST",
            destination.target,
            body=body,
            headers={"User-Agent": USER_AGENT, **headers},
        )
        response = connection.getresponse()
        if not 200 <= response.status < 300:
            raise _refusal(url, response)
        return Answer(response.status, response.read(MAX_ANSWER_BYTES))
    except TimeoutError:
        raise DeliveryError(
            f"No answer within {timeout_seconds():g} seconds.", transient=True
        ) from None
    except (OSError, http.client.HTTPException) as error:
        # Not str(error): an HTTPException can quote what the other end sent.
        reason = getattr(error, "strerror", None) or error.__class__.__name__
        raise DeliveryError(f"Connection failed: {reason}", transient=True) from None
    finally:
        connection.close()
