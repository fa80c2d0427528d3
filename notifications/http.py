"""Posting to other services (Slack, Microsoft Teams, outgoing webhooks): the addresses
PolicyHub accepts, and one POST with a timeout that never follows a redirect.

An address is https, or http on this machine (127.0.0.1, ::1, localhost) when
NOTIFICATIONS_ALLOW_LOCAL_HTTP is on (development and tests). A redirect is not
followed, to another host or the same one: the answer is a permanent failure that
names the new address, so a person enters the final one.

Errors are `DeliveryError`s that say whether trying again may help: timeouts,
connection failures, 408, 429 and 5xx answers may; other answers will not.
"""

from __future__ import annotations

import http.client
import ipaddress
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings

MAX_ADDRESS_LENGTH = 500
MAX_ANSWER_BYTES = 64 * 1024
LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")
USER_AGENT = "PolicyHub"


class AddressError(ValueError):
    """An address PolicyHub will not post to; the message is for people."""


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


def local_http_allowed() -> bool:
    return bool(getattr(settings, "NOTIFICATIONS_ALLOW_LOCAL_HTTP", False))


def timeout_seconds() -> float:
    return float(getattr(settings, "NOTIFICATIONS_HTTP_TIMEOUT_SECONDS", 10))


def is_local_host(host: str) -> bool:
    return host.lower() in LOCAL_HOSTS


def check_address(url: str, *, what: str = "The address") -> tuple[str, str]:
    """(scheme, host) of an address PolicyHub may post to, or an AddressError saying
    what is wrong with it, in words a person can act on."""
    if not url:
        raise AddressError(f"{what} is missing.")
    if "\x00" in url:
        raise AddressError(f"{what} contains a NUL character.")
    if len(url) > MAX_ADDRESS_LENGTH:
        raise AddressError(f"{what} is longer than {MAX_ADDRESS_LENGTH} characters.")
    if any(character.isspace() or ord(character) < 32 for character in url):
        raise AddressError(f"{what} contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (a bad port raises ValueError)
    except ValueError:
        raise AddressError(f"{what} is not a valid web address.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        raise AddressError(f"{what} must be a web address starting with https://.")
    if parts.username is not None or parts.password is not None:
        raise AddressError(f"{what} must not contain a user name or password.")
    if scheme == "http":
        if not local_http_allowed():
            raise AddressError(f"{what} must start with https://: plain http is not secure.")
        if not is_local_host(host):
            raise AddressError(
                f"{what} must start with https://: plain http is only for this machine "
                "(127.0.0.1 or localhost)."
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


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise DeliveryError(
            f"HTTP {code}: the address redirects to {newurl[:200]}; PolicyHub does not follow "
            "redirects, so enter the final address.",
            transient=False,
            status=code,
        )


def _retry_after(value: str | None) -> timedelta | None:
    try:
        seconds = int((value or "").strip())
    except ValueError:
        return None  # an HTTP date: the backoff decides
    return timedelta(seconds=seconds) if seconds > 0 else None


def _read(response) -> bytes:
    return response.read(MAX_ANSWER_BYTES)


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` (checked again here: settings may have changed), with a
    timeout, following no redirect. Returns the 2xx answer or raises DeliveryError."""
    try:
        check_address(url)
    except AddressError as error:
        raise DeliveryError(str(error), transient=False) from None
    opener = urllib.request.build_opener(_NoRedirects)
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked just above)
        url,
        data=body,
        method="POST",
        headers={"User-Agent": USER_AGENT, **headers},
    )
    try:
        with opener.open(request, timeout=timeout_seconds()) as response:
            return Answer(response.status, _read(response))
    except DeliveryError:
        raise
    except urllib.error.HTTPError as error:
        status = error.code
        try:
            answer = error.read(2000).decode("utf-8", errors="replace").strip()
        except (OSError, http.client.HTTPException):
            answer = ""
        finally:
            error.close()
        transient = status in (408, 429) or status >= 500
        message = f"HTTP {status} {error.reason}" + (f": {answer[:500]}" if answer else "")
        retry_after = _retry_after(error.headers.get("Retry-After")) if error.headers else None
        raise DeliveryError(
            message, transient=transient, status=status, retry_after=retry_after
        ) from None
    except TimeoutError:
        raise DeliveryError(
            f"No answer within {timeout_seconds():g} seconds.", transient=True
        ) from None
    except urllib.error.URLError as error:
        raise DeliveryError(f"Could not connect: {error.reason}", transient=True) from None
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryError(f"Connection failed: {error}", transient=True) from None
