"""Input for intake: the source form (comms) and the body of a webhook delivery (a
social-listening tool). They check input; prevention.intake does the work."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.models import Incident
from prevention.intake import PublicPost
from prevention.intake_feeds import FeedError, check_feed_address
from prevention.models import Source

MAX_WEBHOOK_ITEMS = 100
# A post's time must be after this and at most POSTED_AHEAD from now: anything else is a
# mistake of the tool's (and the year 1 could not even be stored in UTC).
EARLIEST_POSTED_AT = datetime(2000, 1, 1, tzinfo=UTC)
POSTED_AHEAD = timedelta(days=1)
FEED_ADDRESS_HELP = gettext_lazy(
    "The address of an RSS or Atom feed (https://…), or file://name.xml for a file in "
    "the local feed folder."
)


class SourceForm(forms.Form):
    """Add a source, or change one (its kind is kept: a new kind is a new source)."""

    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=150,
        help_text=gettext_lazy("How comms know it, e.g. “Brand mentions (Talkwalker)”."),
        error_messages={"required": gettext_lazy("Give the source a name.")},
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=Source.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose whether this is a feed or a webhook.")},
    )
    feed_url = forms.CharField(
        label=gettext_lazy("Feed address"),
        max_length=500,
        required=False,
        help_text=FEED_ADDRESS_HELP,
    )
    platform = forms.ChoiceField(
        label=gettext_lazy("Platform"),
        choices=Incident.Platform.choices,
        initial=Incident.Platform.OTHER,
        help_text=gettext_lazy("Where its posts are published; a webhook item may name its own."),
    )

    def __init__(self, *args, source: Source | None = None, **kwargs):
        self.source = source
        if source is not None:
            kwargs.setdefault(
                "initial",
                {"name": source.name, "feed_url": source.feed_url, "platform": source.platform},
            )
        super().__init__(*args, **kwargs)
        if source is not None:
            del self.fields["kind"]
            if source.kind != Source.Kind.FEED:
                del self.fields["feed_url"]

    @property
    def chosen_kind(self) -> str:
        if self.source is not None:
            return self.source.kind
        return self.cleaned_data.get("kind", "")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = Source.objects.filter(name__iexact=name)
        if self.source is not None:
            taken = taken.exclude(pk=self.source.pk)
        if taken.exists():
            raise forms.ValidationError(_("There is already a source with this name."))
        return name

    def clean(self):
        cleaned = super().clean()
        if self.chosen_kind == Source.Kind.FEED and "feed_url" in self.fields:
            address = (cleaned.get("feed_url") or "").strip()
            if not address:
                self.add_error("feed_url", _("A feed needs its address."))
            else:
                try:
                    check_feed_address(address)
                except FeedError as error:
                    self.add_error("feed_url", str(error))
                cleaned["feed_url"] = address
        return cleaned


# --- the webhook's body ---------------------------------------------------------------


class PayloadError(Exception):
    """A webhook body that is not what the documentation describes; said in the answer."""


def _text(item: dict, key: str, where: str, *, required: bool = False) -> str:
    value = item.get(key)
    if value is None:
        if required:
            raise PayloadError(f"{where}.{key} is required.")
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where}.{key} must be a string.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800" (valid JSON escape)
        raise PayloadError(f"{where}.{key} is not valid Unicode text.") from None
    if required and not value.strip():
        raise PayloadError(f"{where}.{key} must not be empty.")
    return value


def _posted_at(item: dict, where: str, now: datetime) -> datetime | None:
    value = _text(item, "posted_at", where)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError(
            f"{where}.posted_at must be an ISO 8601 date and time, e.g. 2026-03-01T09:30:00Z."
        ) from None
    if moment.tzinfo is None:
        raise PayloadError(
            f"{where}.posted_at needs a time zone, e.g. 2026-03-01T09:30:00Z or +01:00."
        )
    too_early = PayloadError(f"{where}.posted_at must be no earlier than 2000.")
    too_late = PayloadError(f"{where}.posted_at must be no later than a day from now.")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:30:00+01:00" is in the year 0 in UTC
        raise (too_early if moment.year < 2000 else too_late) from None
    if moment < EARLIEST_POSTED_AT:
        raise too_early
    if moment > now + POSTED_AHEAD:
        raise too_late
    return moment


def webhook_posts(body: bytes, *, now: datetime | None = None) -> list[PublicPost]:
    """The posts in a delivery: {"items": [{"url", "text", "handle", "posted_at",
    "platform", "id"}, ...]}, at most 100; a PayloadError naming the first problem."""
    now = now or timezone.now()
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PayloadError("The body is not valid JSON (UTF-8).") from None
    except RecursionError:
        raise PayloadError("The body is nested too deeply to be the documented JSON.") from None
    except ValueError:  # an integer of more than 4,300 digits
        raise PayloadError("The body holds a number too long to read.") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise PayloadError('The body must be a JSON object with a list "items".')
    items = data["items"]
    if len(items) > MAX_WEBHOOK_ITEMS:
        raise PayloadError(f"At most {MAX_WEBHOOK_ITEMS} items per delivery.")
    posts = []
    for number, item in enumerate(items):
        where = f"items[{number}]"
        if not isinstance(item, dict):
            raise PayloadError(f"{where} must be an object.")
        url = _text(item, "url", where)
        if url and not url.lower().startswith(("http://", "https://")):
            raise PayloadError(f"{where}.url must be an http:// or https:// address.")
        guid = item.get("id")
        if guid is not None and (isinstance(guid, bool) or not isinstance(guid, str | int)):
            raise PayloadError(f"{where}.id must be a string or a number.")
        guid = "" if guid is None else str(guid)
        if not url and not guid.strip():
            raise PayloadError(f"{where} needs a url (or, for a post without one, an id).")
        platform = _text(item, "platform", where)
        if platform and platform not in Incident.Platform.values:
            raise PayloadError(
                f"{where}.platform must be one of: {', '.join(Incident.Platform.values)}."
            )
        posts.append(
            PublicPost(
                url=url,
                text=_text(item, "text", where, required=True),
                handle=_text(item, "handle", where),
                posted_at=_posted_at(item, where, now),
                guid=guid,
                platform=platform,
            )
        )
    return posts
