"""The Remediation dashboard's figures: open incidents, overdue actions, timings,
classification, recurrence, late reviews and the exposure window; each is one query (a
line manager's overdue actions two)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import (
    Case,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    When,
)
from django.db.models.functions import ExtractIsoWeekDay, TruncDate
from django.utils.translation import gettext_lazy

from dashboards.remediation.noticing import EXPOSURE, INCIDENTS, RECURRING, period_groups
from dashboards.remediation.periods import (
    Periods,
    month_label,
    month_range,
    quarter_label,
)
from dashboards.remediation.ranks import MEDIAN, Grouping, Ranked, grouped
from dashboards.remediation.scope import Filters, Viewer, incidents
from incidents.models import ActionItem, Assessment, Incident, IncidentEvent
from incidents.reminders import REVIEW_DUE_WORKING_DAYS, add_working_days

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
    first, *rest = _action_parts(viewer, filters)
    for part in rest:
        first |= part
    return ActionItem.objects.filter(first)


def _action_parts(viewer: Viewer, filters: Filters) -> list[Q]:
    """`actions` as conditions no action meets two of: for a line manager, their people's
    and their own (a manager is never in their own team)."""
    counted = incidents(viewer, filters, period=False).values("pk")
    if viewer.team is None:
        return [Q(incident__in=counted)]
    # Never an accountability-track case's: the page tells a manager those stay with
    # HR/legal (their own actions there are on My tasks and My actions).
    own = Incident.objects.filter(actions__owner=viewer.user).exclude(
        track=Incident.Track.ACCOUNTABILITY
    )
    return [
        Q(incident__in=counted) & viewer.in_team("owner"),
        Q(
            owner=viewer.user,
            incident__in=incidents(viewer, filters, period=False, base=own).values("pk"),
        ),
    ]


def overdue_actions(viewer: Viewer, filters: Filters, *, today: date) -> list[Tally]:
    """Open actions past their due date, by how long: one query, or for a line manager
    two, their people's and their own, added up. Under one OR the database would hash the
    whole team, and every incident involving it, before reading a single action; apart,
    it looks each overdue action's owner and incident up."""
    counts = {
        name: Count("pk", filter=overdue_window(name, today)) for name, _, _ in OVERDUE_BUCKETS
    }
    found = Counter()
    for part in _action_parts(viewer, filters):
        # Every bucket is past the due date: only those actions are read.
        overdue = ActionItem.objects.filter(part, status=ActionItem.Status.OPEN, due_date__lt=today)
        found.update(overdue.aggregate(**counts))
    return [Tally(name, f"{name} days", found[name]) for name, _, _ in OVERDUE_BUCKETS]


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


def first_contained(found: QuerySet[Incident], *, within: Window | None = None):
    """From the history: when each incident was first contained, one row per incident
    (incident_id, noticed_at, at); a noticed time edited to after it is left out. With
    `within` (start, end): only the incidents whose first containment falls in it."""
    return _timed(found, Status.CONTAINED, Min("at"), within)


def last_closed(found: QuerySet[Incident], *, within: Window | None = None):
    """From the history: when each incident that is closed now was last closed (a close
    that a reopening undid does not count), like `first_contained`."""
    return _timed(found.filter(status=Status.CLOSED), Status.CLOSED, Max("at"), within)


Window = tuple[datetime, datetime]


def _timed(found: QuerySet[Incident], status: str, when, within: Window | None) -> QuerySet:
    changes = IncidentEvent.objects.filter(what="status", to_value=status)
    events = changes.filter(incident__in=found)
    if within is not None:
        # The first (or last) such change falls in the window only if one of them does:
        # only those incidents' histories are read (an index range), not every one's.
        start, end = within
        events = events.filter(
            incident__in=changes.filter(at__gte=start, at__lt=end).values("incident_id")
        )
    timed = (
        events.order_by()
        .values("incident_id", "incident__noticed_at")
        .annotate(at=when)
        .filter(at__gte=F("incident__noticed_at"))
    )
    return timed if within is None else timed.filter(at__gte=within[0], at__lt=within[1])


def in_months(timed, found: QuerySet[Incident], first: str, last: str) -> QuerySet:
    """`timed` (`first_contained` or `last_closed`) of `found`, for the incidents whose
    moment falls in months `first` to `last` ("YYYY-MM", local time)."""
    return timed(found, within=(month_range(first)[0], month_range(last)[1]))


def timings(viewer: Viewer, filters: Filters, months: list[str]) -> list[MonthTiming]:
    """Median time from noticed to contained, and to closed, by the month it happened
    (whenever the incident was noticed): each incident's first contained and last closed
    moments, as `first_contained` and `last_closed` find them, counted and their medians
    taken by the database, by month (one query)."""
    if not months:
        return []
    periods = Periods(months)
    start, end = periods.bounds[0], periods.bounds[-1]
    moments = (
        incidents(viewer, filters, period=False)
        .filter(events__what="status", events__to_value__in=(Status.CONTAINED, Status.CLOSED))
        .annotate(
            contained=Min("events__at", filter=Q(events__to_value=Status.CONTAINED)),
            closed=Max(
                "events__at", filter=Q(events__to_value=Status.CLOSED, status=Status.CLOSED)
            ),
        )
        .filter(Q(contained__gte=start, contained__lt=end) | Q(closed__gte=start, closed__lt=end))
    )
    groups = grouped(
        moments,
        {
            "contained_month": periods.case("contained"),
            "to_contain": since_noticed("contained"),
            "closed_month": periods.case("closed"),
            "to_close": since_noticed("closed"),
        },
        (
            Grouping("contain", by=("contained_month",), value="to_contain", fractions=(MEDIAN,)),
            Grouping("close", by=("closed_month",), value="to_close", fractions=(MEDIAN,)),
        ),
    )
    rows = []
    for number, month in enumerate(months):
        contain = groups["contain"].get((number,), Ranked())
        close = groups["close"].get((number,), Ranked())
        contain_hours, close_hours = contain.median(), close.median()
        rows.append(
            MonthTiming(
                month,
                contain.count,
                None if contain_hours is None else round(contain_hours, 1),
                close.count,
                None if close_hours is None else round(close_hours / 24, 1),
            )
        )
    return rows


def since_noticed(moment: str) -> Case:
    """The time from the incident being noticed to `moment` (a field or annotation),
    where that is not before it (a noticed time edited to after it is left out)."""
    return Case(
        When(
            **{f"{moment}__gte": F("noticed_at")},
            then=ExpressionWrapper(F(moment) - F("noticed_at"), output_field=DurationField()),
        ),
        default=None,
        output_field=DurationField(),
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
    """Incidents by how they were classified and the quarter it happened, counted by the
    database (one query): for HR/legal, incidents with a current assessment of each
    outcome, by the quarter it was finished (an incident with two people assessed
    differently counts in both); for everyone else, incidents by the track they were
    classified on, from the history (`first_classified`)."""
    counts: dict[str, Counter] = {quarter: Counter() for quarter in quarters}
    periods = Periods(quarters)
    found = incidents(viewer, filters)
    if sees_outcomes(viewer):
        rows = (
            current_assessments(found)
            .order_by()
            .annotate(quarter=periods.case("finished_at"))
            .values_list("quarter", "final_outcome")
            .annotate(n=Count("incident_id", distinct=True))
        )
        for quarter, outcome, n in rows:
            if quarter is not None:
                counts[quarters[quarter]][outcome] += n
    else:
        classified = found.filter(
            events__what="status", events__to_value=Status.CLASSIFIED
        ).annotate(classified=Min("events__at"))
        groups = grouped(
            classified,
            {"quarter": periods.case("classified"), "classified_on": F("track")},
            (Grouping("mix", by=("quarter", "classified_on")),),
        )
        for (quarter, track), group in groups["mix"].items():
            if quarter is not None and track in TRACK_COLUMN_VALUES:
                counts[quarters[quarter]][track] += group.count
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


def recurrence(
    viewer: Viewer, filters: Filters, *, groups: dict[str, dict[tuple, Ranked]] | None = None
) -> Recurrence:
    """Incidents by kind of information and platform (one query, or none given the
    period's `period_groups`); a cell of two or more is the same kind of leak happening
    again."""
    if groups is None:
        groups = period_groups(viewer, filters, [])
    counts = Counter()
    for (information, platform), group in groups[RECURRING].items():
        counts[(information, platform)] += group.count
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
    due: int  # incidents whose review has fallen due (all actions done)
    late: int  # of those, written after the due date, or not and past it


def _reviewed(viewer: Viewer, filters: Filters) -> QuerySet[Incident]:
    """The incidents whose review can have fallen due (with actions, all done), with the
    local days the last action was done and the review written (`REVIEW_DAYS`)."""
    return (
        incidents(viewer, filters)
        .filter(actions__isnull=False)
        .order_by()
        .annotate(
            last_done=Max("actions__completed_at"),
            still_open=Count("actions", filter=Q(actions__status=ActionItem.Status.OPEN)),
            written_at=Max("review__written_at"),
        )
        # Due only once every action is done.
        .filter(still_open=0, last_done__isnull=False)
    )


REVIEW_DAYS = {"done_on": TruncDate("last_done"), "written_on": TruncDate("written_at")}

# What `late_reviews` groups by: the weekday the last action was done (ISO, Monday 1),
# how long after that day the review was written (null if it is not), and for a review
# not written, that day. Whether a review is due and late depends on no more (the due
# date is a number of days after that day, by its weekday), and there are a few dozen
# such groups where there are hundreds of pairs of days.
REVIEW_GAPS = {
    "done_weekday": ExtractIsoWeekDay(TruncDate("last_done")),
    "written_after": ExpressionWrapper(
        TruncDate("written_at") - TruncDate("last_done"), output_field=DurationField()
    ),
    "pending_since": Case(
        When(written_at__isnull=True, then=TruncDate("last_done")), output_field=DateField()
    ),
}


class _ReviewsDue:
    """Whether a review has fallen due, and whether it is late, from the day the last
    action was done and the day the review was written (if it was): due five working
    days after the first (see `incidents.reminders.review_due_date`)."""

    def __init__(self, today: date):
        self.today = today
        # The due date, less the day the last action was done, by the day of the week.
        monday = date(2024, 1, 1)
        self.days = [
            (add_working_days(day, REVIEW_DUE_WORKING_DAYS) - day).days
            for day in (monday + timedelta(days=number) for number in range(7))
        ]

    def __call__(self, done_on: date, written_on: date | None) -> tuple[bool, bool]:
        due_date = done_on + timedelta(days=self.days[done_on.weekday()])
        if written_on is None and due_date >= self.today:
            return False, False
        return True, (written_on or self.today) > due_date

    def written(self, done_weekday: int, written_after: timedelta) -> tuple[bool, bool]:
        """As called with the days, for a review written `written_after` the day the
        last action was done, a day of ISO weekday `done_weekday`: due, and late if
        written after the due date."""
        return True, written_after.days > self.days[int(done_weekday) - 1]


def late_reviews(viewer: Viewer, filters: Filters, *, today: date) -> LateReviews:
    """Reviews are due five working days after the last action is done: those fallen
    due and those late, counted by the weekday the last action was done and the days
    until the review was written (`REVIEW_GAPS`, one query)."""
    groups = grouped(
        _reviewed(viewer, filters), REVIEW_GAPS, (Grouping("gaps", by=tuple(REVIEW_GAPS)),)
    )
    state = _ReviewsDue(today)
    due = late = 0
    for (done_weekday, written_after, pending_since), group in groups["gaps"].items():
        if written_after is None:
            is_due, is_late = state(pending_since, None)
        else:
            is_due, is_late = state.written(done_weekday, written_after)
        due += group.count if is_due else 0
        late += group.count if is_late else 0
    return LateReviews(due, late)


def review_ids(viewer: Viewer, filters: Filters, *, today: date, late: bool) -> list[int]:
    """The incidents `late_reviews` counts as fallen due, or (`late`) as late."""
    rows = _reviewed(viewer, filters).annotate(**REVIEW_DAYS).values_list("pk", *REVIEW_DAYS)
    state = _ReviewsDue(today)
    found = []
    for pk, done_on, written_on in rows:
        is_due, is_late = state(done_on, written_on)
        if is_late if late else is_due:
            found.append(pk)
    return sorted(found)


# --- the exposure window ---------------------------------------------------------------------


@dataclass
class Stretch:
    slug: str
    name: str
    median_hours: float | None
    measured: int
    link: str = ""


def measured(found: QuerySet[Incident], stretch: str) -> QuerySet[Incident]:
    """The incidents where both ends of the exposure `stretch` (a slug) are known."""
    for slug, _, start, end in EXPOSURE:
        if slug == stretch:
            return found.filter(**{f"{start}__isnull": False, f"{end}__gte": F(start)})
    return found.none()


def exposure(
    viewer: Viewer, filters: Filters, *, groups: dict[str, dict[tuple, Ranked]] | None = None
) -> tuple[int, list[Stretch]]:
    """How long a post stayed up and the case stayed open: the median of each stretch
    over the incidents where both ends are known, and how many incidents were noticed in
    the period (one query, or none given the period's `period_groups`)."""
    if groups is None:
        groups = period_groups(viewer, filters, [])
    stretches = []
    for slug, name, _, _ in EXPOSURE:
        hours = groups[slug].get((), Ranked())
        median_hours = hours.median()
        stretches.append(
            Stretch(
                slug,
                name,
                None if median_hours is None else round(median_hours, 1),
                hours.count,
            )
        )
    return sum(group.count for group in groups[INCIDENTS].values()), stretches
