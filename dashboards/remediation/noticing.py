"""How incidents came to be noticed (intake, self-report, a colleague) and how long a
post stayed up before it was, by channel and by quarter."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils.translation import gettext, gettext_lazy

from dashboards.remediation.periods import Periods, quarter_label, quarter_range
from dashboards.remediation.scope import Filters, Viewer, incidents
from prevention.models import IntakeItem


class NoticedBy(models.TextChoices):
    """How an incident came to be noticed, in this order: intake opened it (it has an
    intake item, whoever reported it); the person who posted it reported it; anyone
    else reported it (a colleague, comms, a manager)."""

    INTAKE = "intake", gettext_lazy("Intake")
    SELF = "self", gettext_lazy("Self-report")
    COLLEAGUE = "colleague", gettext_lazy("Colleague report")


def _by_intake() -> Exists:
    return Exists(IntakeItem.objects.filter(incident_id=OuterRef("pk")))


def noticed_through(channel: str) -> Q:
    """The incidents noticed through `channel` (a NoticedBy value); the figure and its
    list both use it, so they count the same incidents."""
    if channel == NoticedBy.INTAKE:
        return Q(_by_intake())
    if channel == NoticedBy.SELF:
        return Q(~_by_intake(), self_reported=True)
    if channel == NoticedBy.COLLEAGUE:
        return Q(~_by_intake(), self_reported=False)
    return Q(pk__in=[])


def _channel() -> Case:
    return Case(
        When(_by_intake(), then=Value(NoticedBy.INTAKE.value)),
        When(self_reported=True, then=Value(NoticedBy.SELF.value)),
        default=Value(NoticedBy.COLLEAGUE.value),
        output_field=models.CharField(),
    )


def percentile(values: list[float], fraction: float) -> float | None:
    """The value `fraction` of the way up the sorted values, linear between the two
    nearest (as PostgreSQL's percentile_cont): at 0.5 it is the median."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _hours(value: float | None) -> float | None:
    # Two decimals: intake notices within minutes, and 0.1 h would hide that.
    return None if value is None else round(value, 2)


def duration_words(hours: float | None) -> str:
    """For people: minutes under an hour, hours under two days, then days."""
    if hours is None:
        return "–"
    if hours < 1:
        return gettext("%(minutes)s min") % {"minutes": round(hours * 60)}
    if hours < 48:
        return gettext("%(hours)s h") % {"hours": f"{hours:.1f}"}
    return gettext("%(days)s days") % {"days": f"{hours / 24:.1f}"}


@dataclass
class Channel:
    """Incidents noticed one way (`value` "" for all of them) in the period."""

    value: str
    label: str
    noticed: int = 0
    unposted: int = 0  # no posted time: not measured
    hours: list[float] = field(default_factory=list, repr=False)  # posted → noticed

    @property
    def measured(self) -> int:
        return len(self.hours)

    @property
    def short_label(self) -> str:
        """For a chart's axis, where "Colleague report" is too long (the table says it)."""
        return gettext("Colleague") if self.value == NoticedBy.COLLEAGUE else str(self.label)

    @property
    def median_hours(self) -> float | None:
        return _hours(percentile(self.hours, 0.5))

    @property
    def p90_hours(self) -> float | None:
        return _hours(percentile(self.hours, 0.9))

    @property
    def median_words(self) -> str:
        return duration_words(self.median_hours)

    @property
    def p90_words(self) -> str:
        return duration_words(self.p90_hours)


@dataclass
class QuarterNoticing:
    quarter: str
    channels: list[Channel]  # each NoticedBy, then all of them

    @property
    def label(self) -> str:
        return quarter_label(self.quarter)


@dataclass(frozen=True)
class Noticing:
    channels: list[Channel]  # each NoticedBy, then all of them
    quarters: list[QuarterNoticing]


def _channels() -> list[Channel]:
    return [Channel(value, label) for value, label in NoticedBy.choices] + [
        Channel("", gettext("All incidents"))
    ]


# The columns of `noticed_rows`, in order.
NOTICED_ROW = (
    "noticed_by",
    "information",
    "platform",
    "posted_at",
    "noticed_at",
    "contained_at",
    "closed_at",
)


def noticed_rows(viewer: Viewer, filters: Filters) -> list[tuple]:
    """The incidents noticed in the period, one tuple each of the `NOTICED_ROW` columns
    (how each was noticed, as `noticed_through` tells): what the figures over the
    period's incidents (recurrence, the exposure window, noticing) are taken from, so
    that the page reads them once (one query)."""
    return list(
        incidents(viewer, filters)
        .order_by()
        .annotate(noticed_by=_channel())
        .values_list(*NOTICED_ROW)
    )


def noticing(
    viewer: Viewer, filters: Filters, quarters: list[str], *, rows: list[tuple] | None = None
) -> Noticing:
    """Time from posted to noticed by how the incident was noticed, over the incidents
    noticed in the period, and by the quarter they were noticed (one query, or none
    given the period's `noticed_rows`). Only an incident with a posted time is measured
    (as `measured(found, "posted-noticed")`); the rest are counted as having none."""
    if rows is None:
        rows = noticed_rows(viewer, filters)
    overall = _channels()
    by_quarter = [_channels() for _ in quarters]
    periods = Periods(quarters)
    index = {value: number for number, (value, _) in enumerate(NoticedBy.choices)}
    for channel, _, _, posted, noticed, _, _ in rows:
        number = index[channel]
        quarter = periods.index(noticed)
        groups = (overall,) if quarter is None else (overall, by_quarter[quarter])
        measured = posted is not None and noticed >= posted
        hours = (noticed - posted).total_seconds() / 3600 if measured else None
        for group in groups:
            for counted in (group[number], group[-1]):
                counted.noticed += 1
                if posted is None:
                    counted.unposted += 1
                elif hours is not None:
                    counted.hours.append(hours)
    return Noticing(
        overall,
        [QuarterNoticing(q, channels) for q, channels in zip(quarters, by_quarter, strict=True)],
    )


def quarter_days(quarter: str, filters: Filters) -> tuple[date, date]:
    """The first and last day of "YYYY-Qn" within the period (for a quarter's link)."""
    start, end = quarter_range(quarter)
    first, last = start.date(), (end - timedelta(days=1)).date()
    if filters.start:
        first = max(first, filters.start)
    if filters.end:
        last = min(last, filters.end)
    return first, last
