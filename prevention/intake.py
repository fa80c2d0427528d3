"""Intake: public posts from feeds PolicyHub fetches (prevention.intake_feeds) and from
social-listening tools that post to a signed webhook, matched against the watch list.

A post that mentions a watch-list term opens an incident in the reported state, with
the post's address, platform, handle, when it was posted and noticed, the matched
terms, and an evidence record holding the text PolicyHub saw and its SHA-256. One
post opens at most one incident, however often a feed is fetched or a tool resends it:
the dedupe key (the post's address, normalised, or the feed's id for it) is unique,
and a second worker that loses the race to keep it rolls its incident back. A post
that matches nothing is not kept.

Incidents opened by intake are reported by the intake account: a directory entry that
is inactive, has no password, group, department or manager, and so can never log in,
receive assignments or reminders, own or be assigned anything, or count in any figure
of people (every audience, compliance figure and chooser lists active people only).
The source's creator is not used: they did not report it, a report in their name
would follow them after they leave, and a reporter gets the incident's reporter view.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from celery import current_app
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from incidents.models import Evidence, Incident, IncidentEvent
from incidents.services import report_incident
from people.services import directory_changed
from prevention.feed_address import FeedError, check_feed_address
from prevention.models import IntakeItem, PreventionError, Source, WebhookDelivery
from prevention.permissions import can_manage_sources

log = logging.getLogger(__name__)

INTAKE_EMAIL = "intake@policyhub.invalid"
INTAKE_NAME = "PolicyHub intake"

# The text kept as evidence and matched: enough for any post, not a whole web page.
MAX_TEXT_CHARS = 20_000
MAX_HANDLE_CHARS = 200
MAX_URL_CHARS = 500
# What an incident keeps of the matched words (a term found many times is listed once).
MAX_MATCHES_KEPT = 50
# A webhook's timestamp may be this far from the clock; a post's time this far ahead.
CLOCK_TOLERANCE = timedelta(minutes=5)
# Accepted webhook signatures are kept this long to refuse replays; a signature's
# timestamp is refused anyway once it is more than CLOCK_TOLERANCE from the clock.
DELIVERIES_KEPT = timedelta(hours=1)

SEVERITY_RANK = {
    Incident.Severity.LOW: 0,
    Incident.Severity.MEDIUM: 1,
    Incident.Severity.HIGH: 2,
    Incident.Severity.CRITICAL: 3,
}
# Control characters that text never needs (tab, line feed and carriage return stay);
# NUL in particular cannot be stored by PostgreSQL.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SIGNATURE_HEADER = re.compile(r"sha256=([0-9a-fA-F]{64})")
TIMESTAMP_HEADER = re.compile(r"[0-9]{1,12}")
# Query parameters that only say where a click came from: the same post either way.
TRACKING_PARAMS = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|igshid|ref_src)$")


# --- the posts ----------------------------------------------------------------------


@dataclass(frozen=True)
class PublicPost:
    """One public post as a feed entry or a webhook item describes it."""

    url: str = ""
    text: str = ""
    title: str = ""
    handle: str = ""
    posted_at: datetime | None = None
    # The feed's or tool's own id for the post, used when it has no address.
    guid: str = ""
    # A platform the tool named; otherwise the source's.
    platform: str = ""


@dataclass
class IngestResult:
    received: int = 0
    matched: int = 0
    opened: list[Incident] = field(default_factory=list)


def clean_text(value: str, *, limit: int = MAX_TEXT_CHARS) -> str:
    """Text as it is kept: no control characters (no NUL), trimmed, at most `limit`."""
    return CONTROL.sub("", value or "").strip()[:limit]


def post_text(post: PublicPost) -> str:
    """The text matched and kept as evidence: the title, then the body."""
    parts = [clean_text(post.title), clean_text(post.text)]
    return clean_text("\n\n".join(part for part in parts if part))


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def web_address(url: str) -> str:
    """`url` trimmed if it is an http(s) address with a host, else ""."""
    url = clean_text(url, limit=10_000)
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return url


def normalise_url(url: str) -> str:
    """The post's address as a dedupe key: the same post whether fetched over http or
    https, with or without a trailing slash, a fragment, the default port, upper-case
    host letters or a click-tracking parameter. "" if it is not an http(s) address."""
    url = web_address(url)
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return ""
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = urlencode(
        [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if not TRACKING_PARAMS.match(key.lower())
        ]
    )
    return urlunsplit(("https", netloc, path, query, ""))


def dedupe_key(post: PublicPost, *, source: Source, text: str) -> str:
    """One incident per key: the normalised address; else the source's id for the post;
    else the text itself from that source."""
    key = normalise_url(post.url)
    if not key:
        guid = clean_text(post.guid, limit=10_000)
        key = f"source-{source.pk}:id:{guid}" if guid else ""
    if not key:
        key = f"source-{source.pk}:text:{text_sha256(text)}"
    if len(key) > IntakeItem._meta.get_field("dedupe_key").max_length:
        key = f"sha256:{text_sha256(key)}"
    return key


# --- the intake account ---------------------------------------------------------------


def intake_account():
    """The directory entry that reports and captures what intake finds (see the module
    docstring for why it cannot log in or count anywhere). Made on first use."""
    user, created = get_user_model().objects.get_or_create(
        email=INTAKE_EMAIL,
        defaults={"full_name": INTAKE_NAME, "is_active": False, "password": make_password(None)},
    )
    if not created and (user.is_active or user.has_usable_password() or user.is_staff):
        # Someone reactivated it or gave it a password in the admin: undo that.
        was_active = user.is_active
        user.is_active = user.is_staff = user.is_superuser = False
        user.set_unusable_password()
        user.save(update_fields=["is_active", "is_staff", "is_superuser", "password"])
        if was_active:
            # A leaver, as far as everything else goes: assignments it was given while
            # active close, and kept dashboard figures that counted it are forgotten.
            directory_changed()
    return user


# --- matching and keeping -----------------------------------------------------------


def _matches(findings) -> list[dict]:
    """The watch-list findings as kept on the item (Finding.as_dict: `entry` names the
    term, or a pattern by its name), each term and word found once however often it
    appears."""
    kept, seen = [], set()
    for finding in findings:
        marker = (finding.term_id, finding.entry, finding.found.casefold())
        if marker not in seen:
            seen.add(marker)
            kept.append(finding.as_dict())
    return kept[:MAX_MATCHES_KEPT]


def entry_name(match: dict) -> str:
    """The watch-list entry a kept match is for: a term's text, a pattern's name (items
    kept before entries had names hold it as their label)."""
    return match.get("entry") or match.get("label", "")


def _worst(matches: list[dict]) -> dict:
    return max(matches, key=lambda match: SEVERITY_RANK.get(match["severity"], -1))


def _what_happened(source: Source, post: PublicPost, handle: str, matches: list[dict]) -> str:
    labels = list(dict.fromkeys(entry_name(match) for match in matches))
    by = f" by {handle}" if handle else ""
    return (
        f"Noticed by intake from “{source.name}”: a public post{by} mentions "
        f"watch-list terms: {', '.join(labels)}."
    )


def _posted_at(posted_at: datetime | None, noticed_at: datetime) -> datetime | None:
    """When it was posted, never after PolicyHub noticed it: a clock a few minutes fast
    counts as now; a date further in the future is wrong and is not used."""
    if posted_at is None:
        return None
    if timezone.is_naive(posted_at):
        posted_at = timezone.make_aware(posted_at, UTC)
    if posted_at <= noticed_at:
        return posted_at
    return noticed_at if posted_at - noticed_at <= CLOCK_TOLERANCE else None


def _already_kept(key: str) -> bool:
    return IntakeItem.objects.filter(dedupe_key=key).exists()


def ingest(*, source: Source, items, now: datetime | None = None) -> IngestResult:
    """Match each post against the watch list; each new post that matches opens an
    incident (reported, with evidence) and is kept once under its dedupe key. Posts
    that match nothing are not kept. Safe to run again and from two workers at once."""
    from prevention.matching import current_watch_list

    now = now or timezone.now()
    watch_list = current_watch_list(today=timezone.localdate(now))
    result = IngestResult()
    account = None
    for post in items:
        result.received += 1
        text = post_text(post)
        if not text:
            continue
        findings = [f for f in watch_list.match(text) if f.rule == "watch-term"]
        if not findings:
            continue
        result.matched += 1
        key = dedupe_key(post, source=source, text=text)
        if _already_kept(key):
            continue
        account = account or intake_account()
        incident = _open_incident(
            source=source, post=post, text=text, key=key, findings=findings, now=now, by=account
        )
        if incident is not None:
            result.opened.append(incident)
    if result.received:
        Source.objects.filter(pk=source.pk).update(items_seen=F("items_seen") + result.received)
        source.refresh_from_db(fields=["items_seen", "items_matched"])
    return result


def _open_incident(*, source, post, text, key, findings, now, by) -> Incident | None:
    """Open the incident and keep the item, or nothing if another worker kept it first."""
    matches = _matches(findings)
    worst = _worst(matches)
    url = web_address(post.url)
    url = url if len(url) <= MAX_URL_CHARS else ""
    handle = clean_text(post.handle, limit=MAX_HANDLE_CHARS)
    platform = post.platform if post.platform in Incident.Platform.values else source.platform
    information = worst["category"]
    if information not in Incident.Information.values:
        information = Incident.Information.OTHER
    severity = worst["severity"]
    if severity not in Incident.Severity.values:
        severity = Incident.Severity.MEDIUM
    posted_at = _posted_at(post.posted_at, now)
    digest = text_sha256(text)
    try:
        with transaction.atomic():
            incident = report_incident(
                reporter=by,
                what_happened=_what_happened(source, post, handle, matches),
                platform=platform,
                url=url,
                account_handle=handle,
                posted_at=posted_at,
                noticed_at=now,
                information=information,
                severity=severity,
                now=now,
            )
            Evidence.objects.create(
                incident=incident,
                url=url,
                platform=platform,
                handle=handle,
                captured_at=now,
                note=text,
                sha256=digest,
                size=len(text.encode("utf-8")),
                content_type="text/plain",
                captured_by=by,
            )
            IncidentEvent.objects.create(
                incident=incident,
                what="evidence",
                to_value="captured",
                by=by,
                at=now,
                note=f"The text of the post, as intake fetched it from {source.name}",
            )
            item = IntakeItem.objects.create(
                source=source,
                dedupe_key=key,
                url=url,
                handle=handle,
                posted_at=posted_at,
                noticed_at=now,
                text_sha256=digest,
                incident=incident,
                matched=matches,
            )
            term_ids = {match["term_id"] for match in matches if match["term_id"]}
            if term_ids:
                item.terms.add(*term_ids)
            Source.objects.filter(pk=source.pk).update(items_matched=F("items_matched") + 1)
            _tell_comms(incident)
    except IntegrityError:
        if _already_kept(key):
            # Another worker kept this post between our check and our insert: its
            # incident stands, ours (and its reference number) rolled back.
            return None
        raise
    return incident


def _tell_comms(incident: Incident) -> None:
    """Everyone in comms hears at once (an urgent reminder): spotted within minutes is
    only worth it if someone looks within minutes."""
    from notifications.services import notify_many
    from prevention.review_services import reviewers

    people = reviewers().values_list("pk", flat=True)
    notify_many(
        kind="intake-opened-incident",
        items=[(incident, person) for person in people],
        stage="opened",
    )


# --- the signed webhook -------------------------------------------------------------


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    """The signature of a delivery: hex HMAC-SHA256 of "<timestamp>.<body>"."""
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_delivery(
    *, source: Source, timestamp: str, signature: str, body: bytes, now: datetime | None = None
) -> str:
    """The delivery's signature if it was signed with the source's secret within five
    minutes of PolicyHub's clock; otherwise a PreventionError saying what is wrong."""
    timestamp, signature = (timestamp or "").strip(), (signature or "").strip()
    if not timestamp or not signature:
        raise PreventionError(
            "Sign each delivery: the X-PolicyHub-Timestamp and X-PolicyHub-Signature "
            "headers are required."
        )
    if not TIMESTAMP_HEADER.fullmatch(timestamp):
        raise PreventionError("X-PolicyHub-Timestamp must be the time in seconds since 1970.")
    given = SIGNATURE_HEADER.fullmatch(signature)
    if given is None:
        raise PreventionError("X-PolicyHub-Signature must be sha256= and 64 hexadecimal digits.")
    expected = sign(secret=source.secret, timestamp=timestamp, body=body)
    if not source.secret or not hmac.compare_digest(expected, given.group(1).lower()):
        raise PreventionError("The signature does not match this source's secret.")
    now = now or timezone.now()
    if abs(now.timestamp() - int(timestamp)) > CLOCK_TOLERANCE.total_seconds():
        raise PreventionError(
            "The timestamp is more than 5 minutes away from PolicyHub's clock: sign each "
            "delivery when it is sent."
        )
    return expected


def deliver(
    *, source: Source, signature: str, posts: list[PublicPost], now: datetime | None = None
) -> IngestResult:
    """Take in one signed webhook delivery, once: a signature seen before raises
    PreventionError and nothing is stored."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(source=source, signature=signature, received_at=now)
            result = ingest(source=source, items=posts, now=now)
            Source.objects.filter(pk=source.pk).update(last_fetched_at=now, last_success_at=now)
    except IntegrityError:
        if WebhookDelivery.objects.filter(source=source, signature=signature).exists():
            raise PreventionError("This delivery was already received.") from None
        raise
    return result


# --- managing sources ---------------------------------------------------------------


def _require_manager(user) -> None:
    if not can_manage_sources(user):
        raise PreventionError(_("Only the communications team registers intake sources."))


def new_secret_value() -> str:
    return secrets.token_urlsafe(32)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50].strip("-") or "source"
    slug, number = base, 1
    while Source.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


def _clean_source_fields(*, name: str, kind: str, feed_url: str, platform: str) -> dict:
    name = clean_text(name, limit=150)
    if not name:
        raise PreventionError(_("Give the source a name."))
    if platform not in Incident.Platform.values:
        raise PreventionError(_("Choose a platform from the list."))
    feed_url = clean_text(feed_url, limit=500)
    if kind == Source.Kind.FEED:
        if not feed_url:
            raise PreventionError(_("A feed needs its address."))
        try:
            check_feed_address(feed_url)
        except FeedError as error:
            raise PreventionError(str(error)) from None
    else:
        feed_url = ""
    return {"name": name, "feed_url": feed_url, "platform": platform}


def create_source(
    *, by, name: str, kind: str, platform: str, feed_url: str = "", now: datetime | None = None
) -> tuple[Source, str]:
    """Register a source; for a webhook, also its secret (returned to be shown once)."""
    _require_manager(by)
    if kind not in Source.Kind.values:
        raise PreventionError(_("Choose whether this is a feed or a webhook."))
    fields = _clean_source_fields(name=name, kind=kind, feed_url=feed_url, platform=platform)
    secret = new_secret_value() if kind == Source.Kind.WEBHOOK else ""
    try:
        with transaction.atomic():
            if Source.objects.filter(name__iexact=fields["name"]).exists():
                raise PreventionError(_("There is already a source with this name."))
            source = Source.objects.create(
                kind=kind,
                secret=secret,
                slug=_unique_slug(fields["name"]),
                created_by=by,
                created_at=now or timezone.now(),
                **fields,
            )
    except IntegrityError:
        raise PreventionError(_("There is already a source with this name.")) from None
    return source, secret


def update_source(*, source: Source, by, name: str, platform: str, feed_url: str = "") -> Source:
    """Rename a source, change its platform or its feed's address (fetched again soon)."""
    _require_manager(by)
    fields = _clean_source_fields(name=name, kind=source.kind, feed_url=feed_url, platform=platform)
    try:
        with transaction.atomic():
            locked = Source.objects.select_for_update().get(pk=source.pk)
            taken = Source.objects.filter(name__iexact=fields["name"]).exclude(pk=source.pk)
            if taken.exists():
                raise PreventionError(_("There is already a source with this name."))
            if fields["feed_url"] != locked.feed_url:
                # A new address starts afresh: fetched at the next round, no old failures.
                fields.update(next_fetch_at=None, consecutive_failures=0, last_error="")
            for key, value in fields.items():
                setattr(locked, key, value)
            locked.save(update_fields=list(fields))
    except IntegrityError:
        raise PreventionError(_("There is already a source with this name.")) from None
    return locked


def set_active(*, source: Source, by, active: bool) -> Source:
    """Deactivate a source (its feed is no longer fetched, its webhook refuses every
    delivery as wrongly signed) or reactivate it (a feed is fetched at the next
    round)."""
    _require_manager(by)
    with transaction.atomic():
        locked = Source.objects.select_for_update().get(pk=source.pk)
        if locked.active == active:
            if active:
                raise PreventionError(_("This source is already active."))
            raise PreventionError(_("This source is already deactivated."))
        locked.active = active
        fields = ["active"]
        if active and locked.kind == Source.Kind.FEED:
            locked.next_fetch_at = None
            fields.append("next_fetch_at")
        locked.save(update_fields=fields)
    return locked


def rotate_secret(*, source: Source, by) -> str:
    """A new webhook secret; the old one stops working at once."""
    _require_manager(by)
    if source.kind != Source.Kind.WEBHOOK:
        raise PreventionError(_("Only webhooks have a secret."))
    secret = new_secret_value()
    Source.objects.filter(pk=source.pk).update(secret=secret)
    source.secret = secret
    return secret


def request_fetch(*, source: Source, by, now: datetime | None = None) -> None:
    """ "Fetch now": the feed becomes due and a worker is asked to fetch it at once; if
    the broker cannot be reached, the next round of fetches takes it. A fetch under way
    keeps its claim: no second worker fetches the feed alongside it."""
    _require_manager(by)
    if source.kind != Source.Kind.FEED:
        raise PreventionError(_("Only feeds are fetched; webhooks are sent to PolicyHub."))
    if not source.active:
        raise PreventionError(_("This source is deactivated; reactivate it to fetch it."))
    with transaction.atomic():
        Source.objects.filter(pk=source.pk).update(next_fetch_at=now or timezone.now())

        def enqueue():
            # By the task's name: the tasks module is above this one (it runs intake).
            try:
                fetch_feed = current_app.tasks["prevention.tasks.fetch_feed"]
                fetch_feed.apply_async(args=(source.pk,), retry=False)
            except Exception:  # the next round fetches it anyway
                log.warning("Could not reach the broker; the feed is fetched at the next round.")

        transaction.on_commit(enqueue)
