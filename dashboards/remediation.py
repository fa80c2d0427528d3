"""Reads for the Remediation dashboard and the lists its figures link to.

Everything starts from `incidents.permissions.incidents_for_figures(user)`, so a figure,
a list and an export count the same incidents, and never one the viewer may not see.
A department filter picks incidents by the people involved; for anyone but HR/legal it
leaves accountability-track cases out, since counting them by department would tell who
is involved.

The period selects incidents by when they were noticed. "Open now" and overdue actions
are about today and ignore it (an incident noticed long ago and still open matters most).
Each figure is one query however many incidents there are; medians are taken in Python
over one query's rows (a few thousand timestamps at most).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median

from django.db import models
from django.db.models import Case, Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy

from incidents import permissions
from incidents.models import ActionItem, Assessment, Incident, IncidentEvent
from incidents.reminders import review_due_date
from people import audience
from people.models import Department
from prevention.models import IntakeItem

Status = Incident.Status
Outcome = Assessment.Outcome

OVERDUE_BUCKETS = (("1-7", 1, 7), ("8-30", 8, 30), ("31+", 31, None))


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters, already validated (see dashboards.forms)."""

    start: date | None = None  # noticed on or after
    end: date | None = None  # noticed on or before
    department: Department | None = None
    platform: str = ""
    # The department and everything below it, looked up once (see dashboards.forms).
    department_ids: frozenset[int] = frozenset()

    def query(self, *, period: bool = True) -> dict[str, str]:
        """The filters as GET parameters, for links to the lists."""
        params = {}
        if period and self.start:
            params["start"] = self.start.isoformat()
        if period and self.end:
            params["end"] = self.end.isoformat()
        if self.department:
            params["department"] = str(self.department.pk)
        if self.platform:
            params["platform"] = self.platform
        return params


@dataclass
class Viewer:
    """Who is looking, and what that lets them count."""

    user: object
    team: QuerySet | None  # a line manager's people (ids); None for the incident team
    sees_restricted_people: bool

    @classmethod
    def of(cls, user) -> Viewer:
        team = None if permissions.sees_all(user) else audience.team(user).values("pk")
        return cls(user, team, permissions.counts_people_of_restricted(user))

    def departments(self) -> QuerySet[Department]:
        """The departments the filter offers: a manager's are those of their people."""
        if self.team is None:
            return Department.objects.order_by("name")
        return Department.objects.filter(members__pk__in=self.team).distinct().order_by("name")


def _local_day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def incidents(
    viewer: Viewer, filters: Filters, *, period: bool = True, base: QuerySet | None = None
) -> QuerySet[Incident]:
    """The incidents the figures count, with the filters applied; `base`: other
    incidents than those the viewer's figures count (a manager's own actions')."""
    found = permissions.incidents_for_figures(viewer.user) if base is None else base
    if filters.department is not None:
        involved = Incident.people_involved.through.objects.filter(
            user__department_id__in=filters.department_ids
        )
        if viewer.team is not None:
            involved = involved.filter(user_id__in=viewer.team)
        found = found.filter(pk__in=involved.values("incident_id"))
        if not viewer.sees_restricted_people:
            found = found.exclude(track=Incident.Track.ACCOUNTABILITY)
    if filters.platform:
        found = found.filter(platform=filters.platform)
    if period and filters.start:
        found = found.filter(noticed_at__gte=_local_day_start(filters.start))
    if period and filters.end:
        found = found.filter(noticed_at__lt=_local_day_start(filters.end + timedelta(days=1)))
    return found


# --- periods ---------------------------------------------------------------------------


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months: from the first of the month eleven months back."""
    month = today.month - 11
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1), today


def months_between(start: date, end: date) -> list[str]:
    """ "YYYY-MM" for every month from `start` to `end`."""
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def quarter_of(moment: date | datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def quarters_between(start: date, end: date) -> list[str]:
    return list(
        dict.fromkeys(quarter_of(date.fromisoformat(f"{m}-01")) for m in months_between(start, end))
    )


def month_label(month: str) -> str:
    return date_format(date.fromisoformat(f"{month}-01"), "M Y")


def short_month_label(month: str) -> str:
    """For a chart's axis, as on the Compliance dashboard: "Mar ’26"."""
    return date_format(date.fromisoformat(f"{month}-01"), "M ’y")


def quarter_label(quarter: str) -> str:
    year, number = quarter.split("-")
    return f"{number} {year}"


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
    (two queries)."""
    if not months:
        return []
    found = incidents(viewer, filters, period=False)
    contain: dict[str, list[float]] = defaultdict(list)  # hours, by month
    close: dict[str, list[float]] = defaultdict(list)
    for hours, events in ((contain, first_contained(found)), (close, last_closed(found))):
        rows = in_months(events, months[0], months[-1]).values_list("incident__noticed_at", "at")
        for noticed, at in rows:
            hours[f"{timezone.localtime(at):%Y-%m}"].append((at - noticed).total_seconds() / 3600)
    return [
        MonthTiming(
            month,
            len(contain[month]),
            round(median(contain[month]), 1) if contain[month] else None,
            len(close[month]),
            round(median(close[month]) / 24, 1) if close[month] else None,
        )
        for month in months
    ]


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


def _first_classified(found: QuerySet[Incident]):
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
    found = incidents(viewer, filters)
    if sees_outcomes(viewer):
        rows = (
            current_assessments(found)
            .values_list("incident_id", "final_outcome", "finished_at")
            .order_by("incident_id", "finished_at")
        )
        seen = set()
        for incident_id, outcome, finished in rows:
            quarter = quarter_of(timezone.localtime(finished))
            if quarter in counts and (incident_id, outcome, quarter) not in seen:
                seen.add((incident_id, outcome, quarter))
                counts[quarter][outcome] += 1
    else:
        tracks = dict(found.values_list("pk", "track"))
        for row in _first_classified(found):
            quarter = quarter_of(timezone.localtime(row["at"]))
            track = tracks.get(row["incident_id"])
            if quarter in counts and track in dict(TRACK_COLUMNS):
                counts[quarter][track] += 1
    columns = [value for value, _ in outcome_columns(viewer)]
    return [QuarterMix(q, {c: counts[q][c] for c in columns}) for q in quarters]


def quarter_range(quarter: str) -> tuple[datetime, datetime] | None:
    """The start and end of "YYYY-Qn" in local time, or None if it is not one."""
    try:
        year, number = quarter.split("-Q")
        year, number = int(year), int(number)
        if not (1 <= number <= 4 and 2000 <= year <= 2100):
            return None
    except ValueError:
        return None
    start = date(year, 3 * number - 2, 1)
    end = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return _local_day_start(start), _local_day_start(end)


def month_range(month: str) -> tuple[datetime, datetime] | None:
    try:
        start = date.fromisoformat(f"{month}-01")
    except ValueError:
        return None
    if not 2000 <= start.year <= 2100:
        return None
    end = date(start.year + 1, 1, 1) if start.month == 12 else date(start.year, start.month + 1, 1)
    return _local_day_start(start), _local_day_start(end)


# --- recurrence ---------------------------------------------------------------------------


@dataclass
class Recurrence:
    platforms: list[tuple[str, str]]
    rows: list[tuple[str, str, list[int]]] = field(default_factory=list)  # value, label, counts

    @property
    def total(self) -> int:
        return sum(sum(counts) for _, _, counts in self.rows)


def recurrence(viewer: Viewer, filters: Filters) -> Recurrence:
    """Incidents by kind of information and platform (one grouped query); a cell of two or
    more is the same kind of leak happening again."""
    counts = {
        (information, platform): n
        for information, platform, n in incidents(viewer, filters)
        .order_by()
        .values_list("information", "platform")
        .annotate(n=Count("pk"))
    }
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
    )
    due_ids, late_ids = [], []
    for row in rows:
        if row["still_open"] or row["last_done"] is None:
            continue
        due_date = review_due_date(row["last_done"])
        written = row["written_at"]
        if written is None and due_date >= today:
            continue
        due_ids.append(row["pk"])
        if (timezone.localdate(written) if written else today) > due_date:
            late_ids.append(row["pk"])
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


def exposure(viewer: Viewer, filters: Filters) -> tuple[int, list[Stretch]]:
    """How long a post stayed up and the case stayed open: the median of each stretch
    over the incidents where both ends are known (one query)."""
    rows = list(
        incidents(viewer, filters).values_list(
            "posted_at", "noticed_at", "contained_at", "closed_at"
        )
    )
    index = {"posted_at": 0, "noticed_at": 1, "contained_at": 2, "closed_at": 3}
    stretches = []
    for slug, name, start, end in EXPOSURE:
        # The same test as `measured`, on the rows already loaded.
        hours = [
            (row[index[end]] - row[index[start]]).total_seconds() / 3600
            for row in rows
            if row[index[start]] and row[index[end]] and row[index[end]] >= row[index[start]]
        ]
        median_hours = round(median(hours), 1) if hours else None
        stretches.append(Stretch(slug, name, median_hours, len(hours)))
    return len(rows), stretches


# --- how it was noticed ----------------------------------------------------------------------


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


def noticing(viewer: Viewer, filters: Filters, quarters: list[str]) -> Noticing:
    """Time from posted to noticed by how the incident was noticed, over the incidents
    noticed in the period, and by the quarter they were noticed (one query). Only an
    incident with a posted time is measured (as `measured(found, "posted-noticed")`);
    the rest are counted as having none."""
    rows = (
        incidents(viewer, filters)
        .order_by()
        .annotate(noticed_by=_channel())
        .values_list("noticed_by", "posted_at", "noticed_at")
    )
    overall = _channels()
    by_quarter = {quarter: _channels() for quarter in quarters}
    index = {value: number for number, (value, _) in enumerate(NoticedBy.choices)}
    for channel, posted, noticed in rows:
        quarter = by_quarter.get(quarter_of(timezone.localtime(noticed)))
        for group in (overall, quarter):
            if group is None:
                continue
            for counted in (group[index[channel]], group[-1]):
                counted.noticed += 1
                if posted is None:
                    counted.unposted += 1
                elif noticed >= posted:
                    counted.hours.append((noticed - posted).total_seconds() / 3600)
    return Noticing(
        overall, [QuarterNoticing(quarter, by_quarter[quarter]) for quarter in quarters]
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


# --- the lists the figures link to -----------------------------------------------------------


@dataclass(frozen=True)
class Drill:
    """What a figure adds to the filters: validated values (see dashboards.forms)."""

    open: bool = False
    status: str = ""
    severity: str = ""
    track: str = ""
    information: str = ""
    outcome: str = ""
    quarter: str = ""
    contained: str = ""
    closed: str = ""
    late_review: bool = False
    review_due: bool = False
    exposure: str = ""  # an EXPOSURE slug: the incidents it measured
    overdue: str = ""  # an OVERDUE_BUCKETS name, or "all"
    noticed_by: str = ""  # a NoticedBy value: how the incidents were noticed


def drilled_incidents(viewer: Viewer, filters: Filters, drill: Drill, *, today: date):
    found = incidents(viewer, filters)
    if drill.open:
        found = found.exclude(status=Status.CLOSED)
    for name in ("status", "severity", "track", "information"):
        value = getattr(drill, name)
        if value:
            found = found.filter(**{name: value})
    if drill.quarter:
        start, end = quarter_range(drill.quarter)
        if drill.outcome:
            assessed = current_assessments(found).filter(
                final_outcome=drill.outcome, finished_at__gte=start, finished_at__lt=end
            )
            found = found.filter(pk__in=assessed.values("incident_id"))
        else:
            classified = _first_classified(found).filter(at__gte=start, at__lt=end)
            found = found.filter(pk__in=classified.values("incident_id"))
    for month, events in (
        (drill.contained, first_contained),
        (drill.closed, last_closed),
    ):
        if month:
            found = found.filter(
                pk__in=in_months(events(found), month, month).values("incident_id")
            )
    if drill.late_review or drill.review_due:
        reviews = late_reviews(viewer, filters, today=today)
        found = found.filter(pk__in=reviews.late_ids if drill.late_review else reviews.due_ids)
    if drill.exposure:
        found = measured(found, drill.exposure)
    if drill.noticed_by:
        found = found.filter(noticed_through(drill.noticed_by))
    return found


def incident_rows(found: QuerySet[Incident]) -> QuerySet[Incident]:
    """What the list shows: never the people involved nor what happened."""
    return (
        found.select_related("owner")
        .only(
            "pk",
            "reference",
            "status",
            "severity",
            "track",
            "platform",
            "information",
            "noticed_at",
            "posted_at",
            "contained_at",
            "closed_at",
            "owner__full_name",
            "owner__email",
        )
        .order_by("-noticed_at", "-pk")
    )


def drilled_actions(viewer: Viewer, filters: Filters, drill: Drill, *, today: date):
    found = actions(viewer, filters).filter(status=ActionItem.Status.OPEN)
    window = overdue_window(drill.overdue, today) if drill.overdue != "all" else None
    found = found.filter(due_date__lt=today)
    if window is not None:
        found = found.filter(window)
    return (
        found.select_related("incident", "owner")
        .only(
            "pk",
            "title",
            "due_date",
            "status",
            "owner__full_name",
            "owner__email",
            "incident__id",
            "incident__reference",
            "incident__platform",
            "incident__information",
            "incident__noticed_at",
            "incident__status",
        )
        .order_by("due_date", "pk")
    )
