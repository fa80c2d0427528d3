"""Reads for the Remediation dashboard and the lists its figures link to.

- scope: who is looking (Viewer), their filters (Filters), the incidents they count.
- periods: months and quarters, their labels and local-time ranges.
- figures: open incidents, overdue actions, timings, classification, recurrence, late
  reviews, the exposure window.
- noticing: how incidents were noticed and how long a post stayed up before it was.
- drill: the lists of incidents and actions behind each figure.

Everything starts from `incidents.permissions.incidents_for_figures(user)`, so a figure,
a list and an export count the same incidents, and never one the viewer may not see.
For the head of everyone, whose team is every other active person, the team is tested as
"not one of the few people outside it" (`people.audience.in_team`): the same people,
read from a few ids rather than everyone else's.
A department filter picks incidents by the people involved; for anyone but HR/legal it
leaves accountability-track cases out, since counting them by department would tell who
is involved.

The period selects incidents by when they were noticed. "Open now" and overdue actions
are about today and ignore it (an incident noticed long ago and still open matters most).
Each figure is one query however many incidents there are (a line manager's overdue
actions two: their people's and their own, see `overdue_actions`), and reads a few rows:
the database counts, and hands back only the values each median or percentile lies
between (see `ranks`); recurrence, the exposure window and noticing share one query's
groups.
"""

from dashboards.remediation.drill import Drill, drilled_actions, drilled_incidents, incident_rows
from dashboards.remediation.figures import (
    OVERDUE_BUCKETS,
    TRACK_COLUMNS,
    LateReviews,
    MonthTiming,
    OpenIncidents,
    QuarterMix,
    Recurrence,
    Stretch,
    Tally,
    actions,
    classification,
    exposure,
    first_contained,
    in_months,
    last_closed,
    late_reviews,
    measured,
    open_incidents,
    outcome_columns,
    overdue_actions,
    recurrence,
    review_ids,
    sees_outcomes,
    timings,
)
from dashboards.remediation.noticing import (
    EXPOSURE,
    Channel,
    NoticedBy,
    Noticing,
    QuarterNoticing,
    duration_words,
    noticed_through,
    noticing,
    percentile,
    period_groups,
    quarter_days,
)
from dashboards.remediation.periods import (
    Periods,
    default_period,
    month_label,
    month_range,
    months_between,
    quarter_label,
    quarter_of,
    quarter_range,
    quarters_between,
    short_month_label,
)
from dashboards.remediation.scope import Filters, Viewer, incidents

__all__ = [
    "Channel",
    "Drill",
    "EXPOSURE",
    "Filters",
    "LateReviews",
    "MonthTiming",
    "NoticedBy",
    "Noticing",
    "OVERDUE_BUCKETS",
    "OpenIncidents",
    "Periods",
    "QuarterMix",
    "QuarterNoticing",
    "Recurrence",
    "Stretch",
    "TRACK_COLUMNS",
    "Tally",
    "Viewer",
    "actions",
    "classification",
    "default_period",
    "drilled_actions",
    "drilled_incidents",
    "duration_words",
    "exposure",
    "first_contained",
    "in_months",
    "incident_rows",
    "incidents",
    "last_closed",
    "late_reviews",
    "measured",
    "month_label",
    "month_range",
    "months_between",
    "noticed_through",
    "noticing",
    "open_incidents",
    "outcome_columns",
    "overdue_actions",
    "percentile",
    "period_groups",
    "quarter_days",
    "quarter_label",
    "quarter_of",
    "quarter_range",
    "quarters_between",
    "recurrence",
    "review_ids",
    "sees_outcomes",
    "short_month_label",
    "timings",
]
