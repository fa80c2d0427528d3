"""What a service tells the rest of PolicyHub when it changed the past: a figure of a
month that is over would now be counted differently (attendance marked for last month's
session, an assignment reopened). The dashboards forget the figures they kept for those
months (dashboards/summaries.py) and count them again on the next view. Sent once the
change has committed; the sender never needs to know who listens."""

from datetime import datetime

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

ACKNOWLEDGEMENTS = "acknowledgement"
TRAINING = "training"

# kind: ACKNOWLEDGEMENTS or TRAINING; since: the earliest moment changed (None: any).
past_changed = Signal()


def this_month_start(now: datetime | None = None) -> datetime:
    """The start of this month in the site's time zone (the months the dashboards keep)."""
    local = timezone.localtime(now or timezone.now(), timezone.get_default_timezone())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def changed_past(*, kind: str, since: datetime | None = None, now: datetime | None = None) -> None:
    """After the current transaction commits: figures of `kind` from the month of
    `since` on (None: all) may have changed. Nothing is sent for a change within this
    month (`now`'s), whose figures are always counted live."""
    if since is not None and since >= this_month_start(now):
        return
    transaction.on_commit(lambda: past_changed.send(sender=None, kind=kind, since=since))
