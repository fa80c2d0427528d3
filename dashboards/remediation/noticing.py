"""How incidents came to be noticed (intake, self-report, a colleague) and how long a
post stayed up before it was, by channel and by quarter."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import models
from django.db.models import Case, Exists, ExpressionWrapper, F, OuterRef, Q, Value, When
from django.utils.translation import gettext, gettext_lazy

from dashboards.remediation.periods import Periods, quarter_label, quarter_range
from dashboards.remediation.ranks import MEDIAN, P90, Grouping, Ranked, grouped
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
    posted_noticed: Ranked = field(default_factory=Ranked)  # of those with a posted time

    @property
    def measured(self) -> int:
        return self.posted_noticed.count

    @property
    def short_label(self) -> str:
        """For a chart's axis, where "Colleague report" is too long (the table says it)."""
        return gettext("Colleague") if self.value == NoticedBy.COLLEAGUE else str(self.label)

    @property
    def median_hours(self) -> float | None:
        return _hours(self.posted_noticed.percentile(0.5))

    @property
    def p90_hours(self) -> float | None:
        return _hours(self.posted_noticed.percentile(0.9))

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


# The stretches of the exposure window: slug, name, the fields at either end.
EXPOSURE = (
    ("posted-noticed", gettext_lazy("Posted → noticed"), "posted_at", "noticed_at"),
    ("noticed-contained", gettext_lazy("Noticed → contained"), "noticed_at", "contained_at"),
    ("contained-closed", gettext_lazy("Contained → closed"), "contained_at", "closed_at"),
)

# The groupings of `period_groups`, by name: every count of the period's incidents the
# figures need, and each median of posted → noticed they show (over all the incidents,
# it is the exposure window's first stretch, named by its slug as the others are).
INCIDENTS = "incidents"  # by how noticed, quarter noticed and whether a posted time is known
RECURRING = "recurring"  # by information and platform
POSTED_NOTICED = EXPOSURE[0][0]
BY_WAY = "posted-noticed by way"
BY_QUARTER = "posted-noticed by quarter"
BY_WAY_AND_QUARTER = "posted-noticed by way and quarter"


def _stretch(start: str, end: str) -> Case:
    """The time from `start` to `end` where both are known and `end` is not before
    `start` (as `figures.measured` tells), else null."""
    return Case(
        When(
            **{f"{start}__isnull": False, f"{end}__gte": F(start)},
            then=ExpressionWrapper(F(end) - F(start), output_field=models.DurationField()),
        ),
        default=None,
        output_field=models.DurationField(),
    )


def _noticed_by() -> Case:
    """How each incident was noticed, as `noticed_through` tells, through a join to its
    intake item (an incident has at most one): cheaper than a subquery per incident."""
    return Case(
        When(intake__isnull=False, then=Value(NoticedBy.INTAKE.value)),
        When(self_reported=True, then=Value(NoticedBy.SELF.value)),
        default=Value(NoticedBy.COLLEAGUE.value),
        output_field=models.CharField(),
    )


def period_groups(
    viewer: Viewer, filters: Filters, quarters: list[str]
) -> dict[str, dict[tuple, Ranked]]:
    """The incidents noticed in the period, grouped every way the figures over them
    (recurrence, the exposure window, noticing) need, so that the page reads them once
    (one query): counted by how they were noticed, the quarter of `quarters` they were
    noticed in (None if in none) and whether a posted time is known, and counted by
    information and platform; the median of each exposure stretch; posted → noticed by
    how noticed (with the 90th percentile) and by quarter."""
    columns = {
        "noticed_by": _noticed_by(),
        "quarter": Periods(quarters).case("noticed_at"),
        "kind": F("information"),
        "posted_on": F("platform"),
        "has_posted": Case(
            When(posted_at__isnull=False, then=Value(True)),
            default=Value(False),
            output_field=models.BooleanField(),
        ),
        **{slug: _stretch(start, end) for slug, _, start, end in EXPOSURE},
    }
    both = (MEDIAN, P90)
    groupings = (
        # Counted two ways rather than by all five at once: a few dozen groups, not
        # hundreds, for Python to read.
        Grouping(INCIDENTS, by=("noticed_by", "quarter", "has_posted")),
        Grouping(RECURRING, by=("kind", "posted_on")),
        Grouping(POSTED_NOTICED, value=POSTED_NOTICED, fractions=both),
        Grouping(BY_WAY, by=("noticed_by",), value=POSTED_NOTICED, fractions=both),
        Grouping(BY_QUARTER, by=("quarter",), value=POSTED_NOTICED, fractions=(MEDIAN,)),
        Grouping(
            BY_WAY_AND_QUARTER,
            by=("noticed_by", "quarter"),
            value=POSTED_NOTICED,
            fractions=(MEDIAN,),
        ),
        *(Grouping(slug, value=slug, fractions=(MEDIAN,)) for slug, _, _, _ in EXPOSURE[1:]),
    )
    return grouped(incidents(viewer, filters), columns, groupings)


def noticing(
    viewer: Viewer,
    filters: Filters,
    quarters: list[str],
    *,
    groups: dict[str, dict[tuple, Ranked]] | None = None,
) -> Noticing:
    """Time from posted to noticed by how the incident was noticed, over the incidents
    noticed in the period, and by the quarter they were noticed (one query, or none
    given the period's `period_groups` for `quarters`). Only an incident with a posted
    time is measured (as `measured(found, "posted-noticed")`); the rest are counted as
    having none."""
    if groups is None:
        groups = period_groups(viewer, filters, quarters)
    overall = _channels()
    by_quarter = [_channels() for _ in quarters]
    index = {value: number for number, (value, _) in enumerate(NoticedBy.choices)}
    for (way, quarter, has_posted), group in groups[INCIDENTS].items():
        channels = (overall,) if quarter is None else (overall, by_quarter[quarter])
        for channel in channels:
            for counted in (channel[index[way]], channel[-1]):
                counted.noticed += group.count
                if not has_posted:
                    counted.unposted += group.count
    for channel in overall:
        channel.posted_noticed = (
            groups[BY_WAY].get((channel.value,))
            if channel.value
            else groups[POSTED_NOTICED].get(())
        ) or Ranked()
    for number, channels in enumerate(by_quarter):
        for channel in channels:
            channel.posted_noticed = (
                groups[BY_WAY_AND_QUARTER].get((channel.value, number))
                if channel.value
                else groups[BY_QUARTER].get((number,))
            ) or Ranked()
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
