"""Writing rows in bulk: bulk_create for the rows whose ids are needed later, and for the
millions of rows that nothing refers to, one `INSERT … VALUES` run over every row
(SQLite's executemany) or COPY (PostgreSQL), skipping the ORM's per-value work."""

from __future__ import annotations

import io
import json
from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime

from django.db import connection

BATCH = 2000


@contextmanager
def keeping_timestamps(*models):
    """bulk_create would stamp auto_now(_add) fields with the current time; the bench
    needs them spread over the past, like a real history."""
    fields = [
        f for m in models for f in m._meta.concrete_fields if getattr(f, "auto_now_add", False)
    ]
    fields += [f for m in models for f in m._meta.concrete_fields if getattr(f, "auto_now", False)]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def bulk(model, rows, counts: Counter | None = None, *, ids: bool = True) -> list:
    """Save `rows`; with `ids` (bulk_create) each gets its primary key, without them the
    rows are written the fast way (`insert`)."""
    rows = list(rows)
    if ids:
        model.objects.bulk_create(rows, batch_size=BATCH)
    else:
        insert(model, rows)
    if counts is not None:
        counts[model.__name__] += len(rows)
    return rows


COPY_BATCH = 50_000


def insert(model, rows: list) -> None:
    """Write model instances without the ORM's per-value preparation: every concrete
    field but an auto primary key, read off the instance (as bulk_create does with
    `keeping_timestamps`), converted once by its type. SQLite: executemany of one
    INSERT; PostgreSQL: COPY … FROM STDIN in text format; other databases: bulk_create."""
    if not rows:
        return
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        model.objects.bulk_create(rows, batch_size=BATCH)
        return
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and f.get_internal_type() in ("AutoField", "BigAutoField"))
    ]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    converters = [_converter(f, vendor) for f in fields]
    attnames = [f.attname for f in fields]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), COPY_BATCH):
            chunk = rows[start : start + COPY_BATCH]
            values = [
                [
                    convert(getattr(row, name))
                    for name, convert in zip(attnames, converters, strict=True)
                ]
                for row in chunk
            ]
            if vendor == "sqlite":
                marks = ", ".join("?" * len(fields))
                # Django's cursor wrapper speaks %s; the raw sqlite3 cursor takes ? at C speed.
                cursor.cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 (names from the models)
                    values,
                )
            else:
                text = "".join("\t".join(line) + "\n" for line in values)
                cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO(text))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _converter(field, vendor: str):
    """value on the instance -> what the database is given: a Python value for sqlite3,
    a line's text for COPY."""
    kind = field.get_internal_type()
    if vendor == "sqlite":
        if kind == "DateTimeField":
            return connection.ops.adapt_datetimefield_value
        if kind in ("UUIDField", "JSONField", "DecimalField", "GenericIPAddressField"):
            return lambda value: field.get_db_prep_save(value, connection)
        if kind in ("CharField", "TextField", "SlugField", "EmailField"):
            return lambda value: value if value is None else str(value)  # TextChoices too
        return lambda value: value

    def text(value):
        if value is None:
            return "\\N"
        if value is True or value is False:
            return "t" if value else "f"
        if isinstance(value, (datetime, date)):
            return value.isoformat()
        return str(value).translate(_COPY_ESCAPES)

    if kind == "JSONField":
        return lambda value: text(None if value is None else json.dumps(value))
    if kind == "GenericIPAddressField":
        return lambda value: text(field.get_db_prep_save(value, connection))
    return text
