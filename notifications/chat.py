"""Reminders in Slack or Microsoft Teams: the addresses a person may give, the message
rendered from `emails/<name>-chat.txt`, and its delivery.

A person who chooses chat gives either an incoming-webhook address (Slack or Teams),
or, for Slack when PolicyHub has a Slack app (SLACK_BOT_TOKEN), their Slack member
id: the app then writes to them directly with chat.postMessage (SLACK_API_BASE, so
tests can point it at a local server). Webhook addresses must be https on the
service's own hosts (NOTIFICATIONS_CHAT_HOSTS may widen them), or http on this
machine when NOTIFICATIONS_ALLOW_LOCAL_HTTP is on. Each post goes through
notifications.http like a webhook's: the host must resolve to public addresses only,
and the post connects to the addresses checked.

Chat templates are rendered with Django's autoescaping on, then made right for the
service: Slack's mrkdwn wants &, < and > escaped (so a title can never mention
@channel), and its links as <url|title>; a Teams Adaptive Card shows text and
Markdown links [title](url) and renders no HTML, so the text is unescaped. The
`chat_link` tag (notifications/templatetags/chat.py) writes a link either way.
"""

from __future__ import annotations

import html
import json
import re
from contextlib import nullcontext
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from notifications import http
from notifications.models import Channel

CHAT_CHANNELS = (Channel.SLACK, Channel.TEAMS)
DEFAULT_HOSTS = {
    Channel.SLACK: ("hooks.slack.com", "hooks.slack-gov.com"),
    # Teams: Workflows (Power Automate) and the older Office 365 connectors.
    Channel.TEAMS: (
        "webhook.office.com",
        "logic.azure.com",
        "powerplatform.com",
        "outlook.office.com",
    ),
}
SLACK_MEMBER_ID = re.compile(r"^[UW][A-Z0-9]{2,19}$")
# What the Web API's "error" looks like ("channel_not_found"); anything else is not shown.
SLACK_ERROR_CODE = re.compile(r"^[a-z0-9_.]{1,60}$")
# Slack Web API errors worth another try; any other error will not go away by itself.
SLACK_TRANSIENT_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
MAX_TEXT = 3500  # Slack truncates near 4,000 characters; Teams cards stay readable
EXCESS_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


class ChatSettingsError(ValueError):
    """Chat settings that cannot be saved; `field` is the form field they concern."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ChatTarget:
    """Where one person's chat reminders go."""

    channel: str
    webhook_url: str = ""
    slack_member_id: str = ""

    @property
    def label(self) -> str:
        return Channel(self.channel).label


def slack_bot_token() -> str:
    return getattr(settings, "SLACK_BOT_TOKEN", "") or ""


def slack_api_base() -> str:
    return (getattr(settings, "SLACK_API_BASE", "") or "https://slack.com/api").rstrip("/")


def allowed_hosts(channel: str) -> tuple[str, ...]:
    configured = getattr(settings, "NOTIFICATIONS_CHAT_HOSTS", None) or {}
    return tuple(configured.get(channel) or DEFAULT_HOSTS[channel])


def check_webhook_address(channel: str, url: str) -> None:
    """An incoming-webhook address of `channel`'s service, or ChatSettingsError."""
    label = Channel(channel).label
    try:
        scheme, host = http.check_address(
            url, what=_("The %(service)s webhook address") % {"service": label}
        )
    except http.AddressError as error:
        raise ChatSettingsError(str(error), field="chat_webhook_url") from None
    if scheme == "http":
        return  # this machine, allowed in development and tests
    hosts = allowed_hosts(channel)
    if not http.host_matches(host, hosts):
        raise ChatSettingsError(
            _("A %(service)s webhook address is on %(hosts)s; this one is on %(host)s.")
            % {"service": label, "hosts": ", ".join(hosts), "host": host},
            field="chat_webhook_url",
        )


def clean_chat_settings(*, channel: str, webhook_url: str, slack_member_id: str) -> ChatTarget:
    """What to keep for `channel`: chat needs a webhook address or (Slack, with a Slack
    app) a member id; email keeps no chat settings. Raises ChatSettingsError."""
    if channel not in Channel.values:
        raise ChatSettingsError(_("Choose email, Slack or Microsoft Teams."), field="channel")
    webhook_url, slack_member_id = webhook_url.strip(), slack_member_id.strip()
    if channel == Channel.EMAIL:
        return ChatTarget(Channel.EMAIL)
    label = Channel(channel).label
    if channel == Channel.TEAMS:
        slack_member_id = ""  # a Slack setting; the Teams form has nothing to do with it
    if slack_member_id and "\x00" in slack_member_id:
        raise ChatSettingsError(
            _("The member ID contains a NUL character."), field="slack_member_id"
        )
    if webhook_url and slack_member_id:
        raise ChatSettingsError(
            _("Give either a webhook address or your Slack member ID, not both."),
            field="slack_member_id",
        )
    if slack_member_id:
        if not slack_bot_token():
            raise ChatSettingsError(
                _(
                    "PolicyHub has no Slack app to write to you directly: give an incoming "
                    "webhook address instead."
                ),
                field="slack_member_id",
            )
        member_id = slack_member_id.upper()
        if not SLACK_MEMBER_ID.match(member_id):
            raise ChatSettingsError(
                _(
                    "A Slack member ID looks like U012AB3CD (in Slack: your profile, ⋮, "
                    "Copy member ID)."
                ),
                field="slack_member_id",
            )
        return ChatTarget(channel, slack_member_id=member_id)
    if not webhook_url:
        if channel == Channel.SLACK and slack_bot_token():
            needs = _(
                "%(service)s needs the address of an incoming webhook that posts to you or "
                "your Slack member ID."
            )
        else:
            needs = _("%(service)s needs the address of an incoming webhook that posts to you.")
        raise ChatSettingsError(
            needs % {"service": label},
            field="chat_webhook_url",
        )
    check_webhook_address(channel, webhook_url)
    return ChatTarget(channel, webhook_url=webhook_url)


# --- the message -----------------------------------------------------------------------


def render(
    template_prefix: str, context: dict, channel: str, *, language: str | None = None
) -> str:
    """`<prefix>-chat.txt` as the text of a `channel` message, in `language` when given
    (the recipient's; else the active language)."""
    context = {"site_url": settings.SITE_URL, **context, "chat_channel": channel}
    with translation.override(language) if language else nullcontext():
        text = render_to_string(f"{template_prefix}-chat.txt", context)
    text = EXCESS_BLANK_LINES.sub("\n\n", text).strip()
    if channel == Channel.SLACK:
        # Autoescaping gave &amp; &lt; &gt;, which Slack reads; quotes it shows as typed.
        text = text.replace("&#x27;", "'").replace("&quot;", '"')
    else:
        text = html.unescape(text)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1].rstrip() + "…"
    return text


def slack_payload(text: str) -> dict:
    return {"text": text}


def teams_payload(text: str) -> dict:
    """A message with one Adaptive Card, a text block per line (lines of a paragraph
    close together, paragraphs apart; Teams' Markdown would join single lines): what
    Teams Workflows webhooks and the older connectors both accept."""
    blocks = []
    for paragraph in text.split("\n\n"):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        for number, line in enumerate(lines):
            block = {"type": "TextBlock", "text": line, "wrap": True}
            if number:
                block["spacing"] = "None"
            blocks.append(block)
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": blocks,
                },
            }
        ],
    }


def _json(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


JSON = {"Content-Type": "application/json; charset=utf-8"}


def deliver(target: ChatTarget, text: str) -> None:
    """Post `text` to the person's chat, or raise http.DeliveryError (transient or not)."""
    if target.channel == Channel.SLACK and target.slack_member_id:
        _post_with_slack_app(target.slack_member_id, text)
        return
    if not target.webhook_url:
        raise http.DeliveryError(f"No {target.label} address is set.", transient=False)
    try:
        check_webhook_address(target.channel, target.webhook_url)
    except ChatSettingsError as error:
        raise http.DeliveryError(str(error), transient=False) from None
    payload = slack_payload(text) if target.channel == Channel.SLACK else teams_payload(text)
    http.post(target.webhook_url, _json(payload), JSON)


def _post_with_slack_app(member_id: str, text: str) -> None:
    token = slack_bot_token()
    if not token:
        raise http.DeliveryError(
            "Slack member ID set, but PolicyHub has no Slack app (SLACK_BOT_TOKEN).",
            transient=False,
        )
    answer = http.post(
        f"{slack_api_base()}/chat.postMessage",
        _json({"channel": member_id, "text": text}),
        {**JSON, "Authorization": f"Bearer {token}"},
    )
    try:
        result = json.loads(answer.body or b"{}")
    except ValueError:
        # Not the answer itself: what answered is not for the person or the Outbox to read.
        raise http.DeliveryError(
            "Slack answered with something that is not JSON.", transient=True
        ) from None
    if not isinstance(result, dict) or not result.get("ok"):
        error = result.get("error") if isinstance(result, dict) else None
        if not isinstance(error, str) or not SLACK_ERROR_CODE.match(error):
            error = "unknown_error"
        raise http.DeliveryError(
            f"Slack refused the message: {error}",
            transient=error in SLACK_TRANSIENT_ERRORS,
        )
