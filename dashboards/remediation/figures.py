"""The Remediation dashboard's figures: open incidents, overdue actions, timings,
classification, recurrence, late reviews and the exposure window; each is one query."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median

from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from dashboards.remediation.noticing import NOTICED_ROW, noticed_rows
from dashboards.remediation.periods import (
    Periods,
    month_label,
    month_range,
    quarter_label,
)
from dashboards.remediation.scope import Filters, Viewer, incidents
from incidents.models import ActionItem, Assessment, Incident, IncidentEvent
from incidents.reminders import review_due_date

Status = Incident.Status
Outcome = Assessment.Outcome


OVERDUE_BUCKETS = (("1-7", 1, 7), ("8-30", 8, 30), ("31+", 31, None))


# --- open incidents ---------------------------------------------------------------------


@dataclass
class Tally:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class OpenIncidents:
    total: int
    by_status: list[Tally]
    by_severity: list[Tally]
    by_track: list[Tally]


def open_incidents(viewer: Viewer, filters: Filters) -> OpenIncidents:
    """Incidents not closed, by state, severity and track (one grouped query)."""
    rows = (
        incidents(viewer, filters, period=False)
        .exclude(status=Status.CLOSED)
        .order_by()
        .values_list("status", "severity", "track")
        .annotate(n=Count("pk"))
    )
    status, severity, track = Counter(), Counter(), Counter()
    for s, sev, t, n in rows:
        status[s] += n
        severity[sev] += n
        track[t] += n

    def listed(choices, counts, skip=()):
        return [Tally(v, label, counts[v]) for v, label in choices if v not in skip]

    return OpenIncidents(
        total=sum(status.values()),
        by_status=listed(Status.choices, status, skip=(Status.CLOSED,)),
        by_severity=listed(Incident.Severity.choices, severity),
        by_track=listed(Incident.Track.choices, track),
    )


# --- overdue actions --------------------------------------------------------------------


def actions(viewer: Viewer, filters: Filters) -> QuerySet[ActionItem]:
    """Actions of the incidents counted (open or not); for a line manager, those their
    own people own on the incidents counted, and their own on any incident but an
    accountability-track case (they may open each of those in summary), under the same
    platform and department filters."""
    counted = incidents(viewer, filters, period=False).values("pk")
    if viewer.team is None:
        return ActionItem.objects.filter(incident__in=counted)
    # Never an accountability-track case's: the page tells a manager those stay with
    # HR/legal (their own actions there are on My tasks and My actions).
    own = Incident.objects.filter(actions__owner=viewer.user).exclude(
        track=Incident.Track.ACCOUNTABILITY
    )
    return ActionItem.objects.filter(
        Q(incident__in=counted, owner__in=viewer.team)
        | Q(
            owner=viewer.user,
            incident__in=incidents(viewer, filters, period=False, base=own).values("pk"),
        )
    )


def overdue_actions(viewer: Viewer, filters: Filters, *, today: date) -> list[Tally]:
    """Open actions past their due date, by how long (one query)."""
    counts = {
        name: Count("pk", filter=overdue_window(name, today)) for name, _, _ in OVERDUE_BUCKETS
    }
    row = actions(viewer, filters).filter(status=ActionItem.Status.OPEN).aggregate(**counts)
    return [Tally(name, f"{name} days", row[name]) for name, _, _ in OVERDUE_BUCKETS]


def overdue_window(bucket: str, today: date) -> Q | None:
    for name, low, high in OVERDUE_BUCKETS:
        if name == bucket:
            window = Q(due_date__lte=today - timedelta(days=low))
            if high is not None:
                window &= Q(due_date__gte=today - timedelta(days=high))
            return window
    return None


# --- timings ----------------------------------------------------------------------------


@dataclass
class MonthTiming:
    month: str
    contained: int
    contain_hours: float | None
    closed: int
    close_days: float | None

    @property
    def label(self) -> str:
        return month_label(self.month)


def first_contained(found: QuerySet[Incident]):
    """From the history: when each incident was first contained, one row per incident
    (incident_id, noticed_at, at); a noticed time edited to after it is left out."""
    return _timed(found, Status.CONTAINED, Min("at"))


def last_closed(found: QuerySet[Incident]):
    """From the history: when each incident that is closed now was last closed (a close
    that a reopening undid does not count), like `first_contained`."""
    return _timed(found.filter(status=Status.CLOSED), Status.CLOSED, Max("at"))


def _timed(found: QuerySet[Incident], status: str, when) -> QuerySet:
    return (
        IncidentEvent.objects.filter(what="status", to_value=status, incident__in=found)
        .order_by()
        .values("incident_id", "incident__noticed_at")
        .annotate(at=when)
        .filter(at__gte=F("incident__noticed_at"))
    )


def in_months(events: QuerySet, first: str, last: str) -> QuerySet:
    """`first_contained` or `last_closed` rows whose moment falls in months `first` to
    `last` ("YYYY-MM", local time)."""
    return events.filter(at__gte=month_range(first)[0], at__lt=month_range(last)[1])


def timings(viewer: Viewer, filters: Filters, months: list[str]) -> list[MonthTiming]:
    """Median time from noticed to contained, and to closed, by the month it happened
    (whenever the incident was noticed), from the history rows of those months only
    (one query: each incident's first contained and last closed moments, as
    `first_contained` and `last_closed` find them)."""
    if not months:
        return []
    found = incidents(viewer, filters, period=False)
    periods = Periods(months)
    contain: list[list[float]] = [[] for _ in months]  # hours, by month
    close: list[list[float]] = [[] for _ in months]
    rows = _contained_and_closed(found, periods.bounds[0], periods.bounds[-1])
    for noticed, contained, closed in rows:
        for moment, hours in ((contained, contain), (closed, close)):
            if moment is not None and moment >= noticed:
                month = periods.index(moment)
                if month is not None:
                    hours[month].append((moment - noticed).total_seconds() / 3600)
    return [
        MonthTiming(
            month,
            len(contain[i]),
            round(median(contain[i]), 1) if contain[i] else None,
            len(close[i]),
            round(median(close[i]) / 24, 1) if close[i] else None,
        )
        for i, month in enumerate(months)
    ]


def _contained_and_closed(found: QuerySet[Incident], start, end) -> QuerySet:
    """(noticed_at, first contained, last closed) of the incidents of `found` first
    contained, or last closed (and closed now), from `start` to `end`: the moments of
    `first_contained` and `last_closed` in one pass over the history."""
    contained = Min("at", filter=Q(to_value=Status.CONTAINED))
    closed = Max("at", filter=Q(to_value=Status.CLOSED, incident__status=Status.CLOSED))
    noticed = F("incident__noticed_at")
    return (
        IncidentEvent.objects.filter(
            what="status", to_value__in=(Status.CONTAINED, Status.CLOSED), incident__in=found
        )
        .order_by()
        .values("incident_id", "incident__noticed_at")
        .annotate(contained=contained, closed=closed)
        .filter(
            Q(contained__gte=noticed) & Q(contained__gte=start, contained__lt=end)
            | Q(closed__gte=noticed) & Q(closed__gte=start, closed__lt=end)
        )
        .values_list("incident__noticed_at", "contained", "closed")
    )


# --- classification ----------------------------------------------------------------------


@dataclass
class QuarterMix:
    quarter: str
    counts: dict[str, int]

    @property
    def label(self) -> str:
        return quarter_label(self.quarter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def sees_outcomes(viewer: Viewer) -> bool:
    """Assessment outcomes are about one person, part of the restricted individual
    assessment: only HR/legal (who may open assessments) count and list incidents by
    them. Any exact count by outcome beside the lists of each track would tell others
    which incident had which outcome (one deliberate case in a quarter with one
    accountability-track incident), so everyone else counts the track."""
    return viewer.sees_restricted_people


TRACK_COLUMNS = (
    (Incident.Track.LEARNING, gettext_lazy("Learning track (human error, at-risk)")),
    (Incident.Track.ACCOUNTABILITY, gettext_lazy("Accountability track (reckless, deliberate)")),
)


TRACK_COLUMN_VALUES = frozenset(value for value, _ in TRACK_COLUMNS)


def outcome_columns(viewer: Viewer) -> list[tuple[str, str]]:
    """The classification columns: the four outcomes for HR/legal; the two tracks for
    the rest of the incident team and leadership; a line manager's one track."""
    if sees_outcomes(viewer):
        return list(Outcome.choices)
    return list(TRACK_COLUMNS if viewer.team is None else TRACK_COLUMNS[:1])


def current_assessments(found: QuerySet[Incident]) -> QuerySet[Assessment]:
    return Assessment.objects.filter(
        incident__in=found, superseded_at=None, finished_at__isnull=False
    ).exclude(final_outcome="")


def first_classified(found: QuerySet[Incident]):
    return (
        IncidentEvent.objects.filter(what="status", to_value=Status.CLASSIFIED, incident__in=found)
        .order_by("incident_id")
        .values("incident_id")
        .annotate(at=Min("at"))
    )


def classification(viewer: Viewer, filters: Filters, quarters: list[str]) -> list[QuarterMix]:
    """Incidents by how they were classified and the quarter it happened (one query):
    for HR/legal, incidents with a current assessment of each outcome, by the quarter
    it was finished (an incident with two people assessed differently counts in both);
    for everyone else, incidents by the track they were classified on, from the
    history."""
    counts: dict[str, Counter] = {quarter: Counter() for quarter in quarters}
    periods = Periods(quarters)
    found = incidents(viewer, filters)
    if sees_outcomes(viewer):
        rows = (
            current_assessments(found)
            .values_list("incident_id", "final_outcome", "finished_at")
            .order_by("incident_id", "finished_at")
        )
        seen = set()
        for incident_id, outcome, finished in rows:
            quarter = periods.of(finished)
            if quarter is not None and (incident_id, outcome, quarter) not in seen:
                seen.add((incident_id, outcome, quarter))
                counts[quarter][outcome] += 1
    else:
        # As `first_classified`, with each incident's track.
        rows = (
            IncidentEvent.objects.filter(
                what="status", to_value=Status.CLASSIFIED, incident__in=found
            )
            .order_by()
            .values_list("incident_id", "incident__track")
            .annotate(at=Min("at"))
        )
        for _, track, at in rows:
            quarter = periods.of(at)
            if quarter is not None and track in TRACK_COLUMN_VALUES:
                counts[quarter][track] += 1
    columns = [value for value, _ in outcome_columns(viewer)]
    return [QuarterMix(q, {c: counts[q][c] for c in columns}) for q in quarters]


# --- recurrence ---------------------------------------------------------------------------


@dataclass
class Recurrence:
    platforms: list[tuple[str, str]]
    rows: list[tuple[str, str, list[int]]] = field(default_factory=list)  # value, label, counts

    @property
    def total(self) -> int:
        return sum(sum(counts) for _, _, counts in self.rows)


def recurrence(viewer: Viewer, filters: Filters, *, rows: list[tuple] | None = None) -> Recurrence:
    """Incidents by kind of information and platform (one query, or none given the
    period's `noticed_rows`); a cell of two or more is the same kind of leak happening
    again."""
    if rows is None:
        rows = noticed_rows(viewer, filters)
    counts = Counter((information, platform) for _, information, platform, *_ in rows)
    platforms = [
        (value, label)
        for value, label in Incident.Platform.choices
        if any(p == value for _, p in counts)
    ]
    result = Recurrence(platforms)
    for value, label in Incident.Information.choices:
        row = [counts.get((value, p), 0) for p, _ in platforms]
        if any(row):
            result.rows.append((value, label, row))
    return result


# --- reviews ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LateReviews:
    due_ids: list[int]  # incidents whose review has fallen due (all actions done)
    late_ids: list[int]  # of those, written after the due date, or not and past it

    @property
    def due(self) -> int:
        return len(self.due_ids)

    @property
    def late(self) -> int:
        return len(self.late_ids)


def late_reviews(viewer: Viewer, filters: Filters, *, today: date) -> LateReviews:
    """Reviews are due five working days after the last action is done (one query)."""
    rows = (
        incidents(viewer, filters)
        .filter(actions__isnull=False)
        .order_by()
        .values("pk")
        .annotate(
            last_done=Max("actions__completed_at"),
            still_open=Count("actions", filter=Q(actions__status=ActionItem.Status.OPEN)),
            written_at=Max("review__written_at"),
        )
        # Due only once every action is done.
        .filter(still_open=0, last_done__isnull=False)
        .values_list("pk", "last_done", "written_at")
    )
    tz = timezone.get_current_timezone()
    due_dates: dict[date, date] = {}  # by the day the last action was done
    due_ids, late_ids = [], []
    for pk, last_done, written in rows:
        done_on = last_done.astimezone(tz).date()
        due_date = due_dates.get(done_on)
        if due_date is None:
            due_date = due_dates[done_on] = review_due_date(last_done)
        if written is None and due_date >= today:
            continue
        due_ids.append(pk)
        if (written.astimezone(tz).date() if written else today) > due_date:
            late_ids.append(pk)
    return LateReviews(sorted(due_ids), sorted(late_ids))


# --- the exposure window ---------------------------------------------------------------------


@dataclass
class Stretch:
    slug: str
    name: str
    median_hours: float | None
    measured: int
    link: str = ""


EXPOSURE = (
    ("posted-noticed", gettext_lazy("Posted → noticed"), "posted_at", "noticed_at"),
    ("noticed-contained", gettext_lazy("Noticed → contained"), "noticed_at", "contained_at"),
    ("contained-closed", gettext_lazy("Contained → closed"), "contained_at", "closed_at"),
)


def measured(found: QuerySet[Incident], stretch: str) -> QuerySet[Incident]:
    """The incidents where both ends of the exposure `stretch` (a slug) are known."""
    for slug, _, start, end in EXPOSURE:
        if slug == stretch:
            return found.filter(**{f"{start}__isnull": False, f"{end}__gte": F(start)})
    return found.none()


def exposure(
    viewer: Viewer, filters: Filters, *, rows: list[tuple] | None = None
) -> tuple[int, list[Stretch]]:
    """How long a post stayed up and the case stayed open: the median of each stretch
    over the incidents where both ends are known (one query, or none given the period's
    `noticed_rows`)."""
    if rows is None:
        rows = noticed_rows(viewer, filters)
    stretches = []
    for slug, name, start, end in EXPOSURE:
        first, last = NOTICED_ROW.index(start), NOTICED_ROW.index(end)
        # The same test as `measured`, on the rows already loaded.
        hours = [
            (row[last] - row[first]).total_seconds() / 3600
            for row in rows
            if row[first] and row[last] and row[last] >= row[first]
        ]
        median_hours = round(median(hours), 1) if hours else None
        stretches.append(Stretch(slug, name, median_hours, len(hours)))
    return len(rows), stretches
