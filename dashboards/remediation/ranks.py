"""Counts, medians and percentiles of groups of rows, taken by the database.

A group's median or percentile lies between one or two of its values, at ranks its
count tells (`lowest_rank`). The database groups the rows and hands back, for each
group, its count and only those values; the percentile is finished in Python from them
by the same arithmetic as over all the values (`statistics.median`,
`noticing.percentile`). SQLite and PostgreSQL give the same figure to the last digit,
and a page reads a few values per group however many incidents there are.

`grouped` takes one queryset of rows and groups it several ways in one query (a union
of grouped parts; on PostgreSQL, groupings of the same value share one part's GROUPING
SETS, which SQLite lacks): the Remediation dashboard's figures over the period's
incidents are eight such groupings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Expression, QuerySet

MEDIAN = Fraction(1, 2)
P90 = Fraction(9, 10)


def lowest_rank(count: int, fraction: Fraction) -> int:
    """The rank (from 0, the smallest) at or just below `fraction` of the way up `count`
    values, in integers so that SQL and Python agree: the position `percentile` computes
    in floats, (count - 1) * fraction, always falls between it and the next rank."""
    return (count - 1) * fraction.numerator // fraction.denominator


@dataclass
class Ranked:
    """One group: how many rows it has (with a value, if it ranks one) and the values (in
    hours) at the ranks its percentiles need, by rank from 0."""

    count: int = 0
    values: dict[int, float] = field(default_factory=dict, repr=False)

    def median(self) -> float | None:
        """As `statistics.median` of all the values: the middle one, or the mean of the
        two middle ones."""
        if not self.count:
            return None
        middle = self.count // 2
        if self.count % 2:
            return self.values[middle]
        return (self.values[middle - 1] + self.values[middle]) / 2

    def percentile(self, fraction: float) -> float | None:
        """As `noticing.percentile` of all the values: linear between the two nearest."""
        if not self.count:
            return None
        position = (self.count - 1) * fraction
        low, high = math.floor(position), math.ceil(position)
        return self.values[low] + (self.values[high] - self.values[low]) * (position - low)


@dataclass(frozen=True)
class Grouping:
    """One way to group the rows: by the columns `by`; with `value` (a duration column,
    null where there is nothing to measure), ranking it for each of `fractions` and
    counting the rows with one; without, counting the rows."""

    name: str
    by: tuple[str, ...] = ()
    value: str | None = None
    fractions: tuple[Fraction, ...] = ()


class _ValueAtRank:
    """SQLite's aggregate for `_at_rank` (Django adds its own aggregates to SQLite so)."""

    def __init__(self):
        self.values, self.rank = [], (1, 2, 0)

    def step(self, value, numerator, denominator, offset):
        self.rank = (numerator, denominator, offset)
        if value is not None:
            self.values.append(value)

    def finalize(self):
        numerator, denominator, offset = self.rank
        if not self.values:
            return None
        rank = lowest_rank(len(self.values), Fraction(numerator, denominator)) + offset
        if rank >= len(self.values):
            return None
        self.values.sort()
        return self.values[rank]


def _at_rank(connection, value: str, fraction: Fraction, offset: int) -> str:
    """SQL for the value of column `value` at `lowest_rank(count, fraction) + offset`
    among the group's values that are not null, in ascending order (null past the
    last)."""
    a, b = fraction.numerator, fraction.denominator
    if connection.vendor == "postgresql":
        # PostgreSQL computes identical aggregates once: the group's sorted values are
        # gathered once for all the ranks taken from them.
        return (
            f"(ARRAY_AGG({value} ORDER BY {value}) FILTER (WHERE {value} IS NOT NULL))"
            f"[(COUNT({value}) - 1) * {a} / {b} + {1 + offset}]"
        )
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_aggregate("policyhub_value_at_rank", 4, _ValueAtRank)
        return f"policyhub_value_at_rank({value}, {a}, {b}, {offset})"
    raise NotImplementedError(f"No median for {connection.vendor}.")


def grouped(
    rows: QuerySet, columns: dict[str, Expression], groupings: tuple[Grouping, ...]
) -> dict[str, dict[tuple, Ranked]]:
    """Each grouping's groups, by the values of its `by`, with their `Ranked`, in one
    query over `rows` with `columns` (names that are not the model's fields)."""
    found: dict[str, dict[tuple, Ranked]] = {grouping.name: {} for grouping in groupings}
    base = rows.order_by().values(**columns)
    connection = connections[base.db]
    compiler = base.query.get_compiler(connection=connection)
    try:
        base_sql, params = compiler.as_sql()
    except EmptyResultSet:
        return found
    # The columns' expressions, to turn what the database hands back into Python values
    # as Django would (SQLite's dates are text, its durations microseconds).
    expressions = {alias: expression for expression, _, alias in compiler.select}
    keys = list(dict.fromkeys(key for grouping in groupings for key in grouping.by))
    # Each row: the grouping's number, every key, the count, then the values at the ranks
    # of each fraction (`slots`), null where the grouping has no such fraction.
    fractions = sorted({fraction for grouping in groupings for fraction in grouping.fractions})
    slots = [(fraction, offset) for fraction in fractions for offset in (0, 1)]
    parts = [
        _part(connection, expressions, groupings, numbers, keys, slots)
        for numbers in _parts(connection, groupings)
    ]
    sql = f"WITH grouped_rows AS ({base_sql}) " + " UNION ALL ".join(parts)
    convert = {name: _converter(compiler, expressions[name]) for name in expressions}
    # By grouping: where its groups go, its keys' columns, its values' columns.
    reading = [
        (
            found[grouping.name],
            [(1 + keys.index(key), convert[key]) for key in grouping.by],
            [
                (column, fraction, offset)
                for column, (fraction, offset) in enumerate(slots, start=len(keys) + 2)
                if fraction in grouping.fractions
            ],
            convert.get(grouping.value),
        )
        for grouping in groupings
    ]
    counted = len(keys) + 1
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        results = cursor.fetchall()
    for row in results:
        groups, key_columns, value_columns, convert_value = reading[row[0]]
        key = tuple([read(row[column]) for column, read in key_columns])
        count = row[counted]
        group = groups[key] = Ranked(count)
        for column, fraction, offset in value_columns:
            value = convert_value(row[column])
            if value is not None:
                rank = lowest_rank(count, fraction) + offset
                group.values[rank] = value.total_seconds() / 3600
    return found


def _parts(connection, groupings: tuple[Grouping, ...]) -> list[list[int]]:
    """The groupings (their numbers) each part of the query takes: on PostgreSQL, those
    ranking the same value together, as grouping sets (it sorts the rows once for several
    of them); elsewhere one each."""
    if connection.vendor != "postgresql":
        return [[number] for number in range(len(groupings))]
    by_value: dict[str | None, list[int]] = {}
    for number, grouping in enumerate(groupings):
        by_value.setdefault(grouping.value, []).append(number)
    return list(by_value.values())


def _part(connection, expressions, groupings, numbers, keys, slots) -> str:
    """SQL for one part of `grouped`'s query: the groupings `numbers`, each row with the
    grouping's number, every key (null where not grouped by), the count and `slots`."""
    quote = connection.ops.quote_name

    def nothing(name: str) -> str:
        # A null of the column's type: PostgreSQL types a union's columns by its first
        # parts, and would take two untyped nulls for text.
        return f"CAST(NULL AS {expressions[name].output_field.cast_db_type(connection)})"

    taken = [groupings[number] for number in numbers]
    value = taken[0].value
    column = quote(value) if value else None
    wanted = {fraction for grouping in taken for fraction in grouping.fractions}
    ranks = [
        _at_rank(connection, column, fraction, offset)
        if fraction in wanted
        else nothing(next(g.value for g in groupings if g.value))
        for fraction, offset in slots
    ]
    by = list(dict.fromkeys(key for grouping in taken for key in grouping.by))
    if len(taken) == 1:
        number = str(numbers[0])
        group_by = f" GROUP BY {', '.join(quote(key) for key in by)}" if by else ""
    else:
        # Which grouping set a row is of, by which of the keys it is not grouped by.
        def unused(grouping):
            return sum(1 << (len(by) - 1 - i) for i, key in enumerate(by) if key not in grouping.by)

        number = (
            f"CASE GROUPING({', '.join(quote(key) for key in by)}) "
            + " ".join(f"WHEN {unused(g)} THEN {n}" for n, g in zip(numbers, taken, strict=True))
            + " END"
        )
        sets = ", ".join(f"({', '.join(quote(key) for key in g.by)})" for g in taken)
        group_by = f" GROUP BY GROUPING SETS ({sets})"
    select = [
        number,
        *(quote(key) if key in by else nothing(key) for key in keys),
        f"COUNT({column})" if column else "COUNT(*)",
        *ranks,
    ]
    # Nothing but column names, numbers and the rows' own SQL (with its parameters).
    return f"SELECT {', '.join(select)} FROM grouped_rows{group_by}"  # noqa: S608


def _converter(compiler, expression):
    """What turns the database's value of `expression` into Django's, as a function that
    converts each value once (a grouping's keys repeat)."""
    found = compiler.get_converters([expression])
    if not found:
        return _same
    converters, connection = found[0][0], compiler.connection
    converted = {}

    def convert(value):
        known = converted.get(value, converted)
        if known is converted:
            known = value
            for converter in converters:
                known = converter(known, expression, connection)
            converted[value] = known
        return known

    return convert


def _same(value):
    return value
