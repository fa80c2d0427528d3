"""Reminders asked for by a person, at once: a manager's nudge from My team and a policy
admin's "Remind now". Each item is reminded at most once a site day, however often the
button is pressed, because the outbox stage carries that day."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

from notifications.services import notify_many


def nudge_stage(now: datetime | None = None) -> str:
    """The outbox stage of a manager's nudge and of a policy admin's "Remind now" (they
    share the "policy-nudge" kind): the site's day, not the presser's, so that people in
    different time zones pressing on the same day remind each item once, not twice."""
    now = now or timezone.now()
    return f"nudge-{timezone.localdate(now, timezone.get_default_timezone()):%Y%m%d}"


def remind_today(
    *, kind: str, items: list[tuple[models.Model, int]], now: datetime | None = None
) -> int:
    """Remind each (subject, recipient id) of `items` now by the nudge kind `kind`, unless
    it was reminded today already. Returns how many reminders are new."""
    now = now or timezone.now()
    return notify_many(kind=kind, items=items, stage=nudge_stage(now), now=now)
