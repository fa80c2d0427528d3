"""The periods the Remediation dashboard reads by: months and quarters ("YYYY-MM",
"YYYY-Qn"), their labels, and their start and end in local time."""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time

from django.db.models import Expression, F, IntegerField
from django.utils import timezone
from django.utils.formats import date_format


def local_day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


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
    return local_day_start(start), local_day_start(end)


def month_range(month: str) -> tuple[datetime, datetime] | None:
    try:
        start = date.fromisoformat(f"{month}-01")
    except ValueError:
        return None
    if not 2000 <= start.year <= 2100:
        return None
    end = date(start.year + 1, 1, 1) if start.month == 12 else date(start.year, start.month + 1, 1)
    return local_day_start(start), local_day_start(end)


class Periods:
    """Which of consecutive months or quarters ("YYYY-MM" or "YYYY-Qn") a moment falls in,
    in local time, by comparing it with their starts (cheaper than converting each of
    thousands of moments to local time)."""

    def __init__(self, periods: list[str]):
        ranges = [quarter_range(p) if "-Q" in p else month_range(p) for p in periods]
        self.periods = periods
        bounds = [start for start, _ in ranges] + [ranges[-1][1]] if ranges else []
        # In UTC, as the database hands moments back: comparing datetimes of one time zone
        # is much cheaper than across two (the same instants either way).
        self.bounds = [bound.astimezone(UTC) for bound in bounds]

    def index(self, moment: datetime) -> int | None:
        """The position of the period `moment` falls in, or None if in none of them."""
        if not self.bounds or not self.bounds[0] <= moment < self.bounds[-1]:
            return None
        return bisect_right(self.bounds, moment) - 1

    def of(self, moment: datetime) -> str | None:
        index = self.index(moment)
        return None if index is None else self.periods[index]

    def case(self, moment: str) -> PeriodIndex:
        """The position of the period the moment `moment` (a field or annotation) falls
        in, or null if in none of them, in SQL: `index` for the database to group by."""
        return PeriodIndex(F(moment), self.bounds)


class PeriodIndex(Expression):
    """`Periods.index` in SQL: the position of the period between consecutive `bounds`
    that `moment` falls in, or null. The moment is compiled once (it is often an
    aggregate): on PostgreSQL one `width_bucket` over the bounds, elsewhere one test
    of it against each bound."""

    output_field = IntegerField()

    def __init__(self, moment, bounds: list[datetime]):
        super().__init__()
        self.moment = moment
        self.bounds = list(bounds)

    def get_source_expressions(self):
        return [self.moment]

    def set_source_expressions(self, exprs):
        (self.moment,) = exprs

    def as_sql(self, compiler, connection):
        if not self.bounds:
            return "CAST(NULL AS integer)", []
        sql, params = compiler.compile(self.moment)
        bounds = [connection.ops.adapt_datetimefield_value(bound) for bound in self.bounds]
        if connection.vendor == "postgresql":
            # width_bucket: 0 before the first bound, i from bound i - 1 (counting from
            # 1) up to bound i, len(bounds) from the last bound on.
            return (
                f"(NULLIF(NULLIF(WIDTH_BUCKET({sql}, %s::timestamptz[]), 0), {len(bounds)}) - 1)",
                (*params, bounds),
            )
        whens = " ".join(f"WHEN {sql} < %s THEN {number}" for number in range(len(bounds) - 1))
        repeated = [value for bound in bounds[1:] for value in (*params, bound)]
        return (
            f"CASE WHEN {sql} < %s THEN NULL {whens} ELSE NULL END",
            (*params, bounds[0], *repeated),
        )
