"""Which feed addresses PolicyHub accepts, checked without using the network.

The source form's service (prevention.intake) and the fetcher (prevention.intake_feeds)
both ask here: a file:// address inside the local feed folder (the demo and the tests), or
an http(s) address whose host is not written out as a private or local address. The
fetcher vets the addresses a host name resolves to when it connects.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from notifications.http import is_public


class FeedError(Exception):
    """A feed that could not be fetched or read; the message is shown on the source."""


def local_feed_dir() -> Path:
    """The only folder file:// feed addresses may read from (the demo and the tests)."""
    return Path(settings.PREVENTION_LOCAL_FEED_DIR).resolve()


def private_hosts_allowed() -> bool:
    """Feeds on loopback, private or link-local addresses are refused unless allowed,
    so that registering a feed cannot be used to read the internal network."""
    return settings.PREVENTION_FEED_ALLOW_PRIVATE_HOSTS


def _private(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not is_public(ip)


def _private_host(host: str) -> FeedError:
    return FeedError(
        _("%(host)s is on a private or local network; PolicyHub only fetches public feeds.")
        % {"host": host}
    )


def check_web_feed_address(url: str) -> None:
    """An http(s) address whose host is not a private or local address written out, or a
    FeedError saying why not. A host name is resolved, and its addresses vetted, when it
    is connected to (`resolve_vetted`), so that the check and the connection see the
    same addresses."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (a bad port raises ValueError)
    except ValueError:
        raise FeedError(_("This is not a valid web address.")) from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise FeedError(_("Only http:// and https:// addresses can be fetched."))
    if private_hosts_allowed():
        return
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and _private(literal):
        raise _private_host(host)
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        raise _private_host(host)


def local_feed_path(url: str) -> Path:
    """The file a file:// address names, which must be inside the local feed folder:
    file://sample-feed.xml (in the folder) or file:///absolute/path/in/the/folder."""
    folder = local_feed_dir()
    name = unquote(url[len("file://") :])
    if not name or "\x00" in name:
        raise FeedError(_("Name a feed file, e.g. file://sample-feed.xml."))
    path = Path(name) if name.startswith("/") else folder / name
    try:
        path = path.resolve()
    except (OSError, RuntimeError):
        raise FeedError(_("This feed file cannot be read.")) from None
    if not path.is_relative_to(folder):
        raise FeedError(
            _("Feed files must be in the local feed folder (%(folder)s).") % {"folder": folder}
        )
    return path


def check_feed_address(url: str) -> None:
    """What the source form accepts as a feed address (no network is used)."""
    if url.lower().startswith("file://"):
        path = local_feed_path(url)
        if not path.is_file():
            raise FeedError(
                _("There is no file %(name)s in the local feed folder.") % {"name": path.name}
            )
        return
    check_web_feed_address(url)
