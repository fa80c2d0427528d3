"""The compliance heatmap's figures kept exact by the database itself (PostgreSQL):
assignments counted by version, department, whether the person is active, status and
whether the acknowledgement is recorded.

The heatmap's live count reads every assignment of the current versions (1.5 million
rows at 100,000 people, 130 to 200 ms). Here every statement that changes assignments,
or a person's department or whether they are active, adds rows of changes to
`dashboards_assignment_tally` (+n under the new key, -n under the old), from triggers
made after every migrate (`install`). A change made anywhere (a service, an import, the
admin, SQL typed by hand) is counted in its own transaction, and a reader sums the rows
it sees: never stale, exactly the live count at the reader's snapshot. Writers only add
rows, so they never wait on one another for the tally; a reader outside a transaction
folds the rows into one per key once there are many (`fold`). "No department" is 0.

Two changes at once could each count from the other's row as it was before: a person
moved (or leaving) while one of their assignments is added, changes or goes. So each
statement that writes assignments first locks their people's rows FOR KEY SHARE, and a
move locks the moved people's rows FOR UPDATE (each in the order of their ids) before it
counts their assignments: the later of the two waits for the earlier to commit, then
reads what it wrote. FOR KEY SHARE is what the assignment's own foreign key takes at
commit: it never waits for a change to a person that leaves their id alone (signing in,
a new name, a new manager), only for a move of the same person; and a move waits only
for writers of the moved people's assignments.

Elsewhere (SQLite: one writer at a time, a small organisation) the heatmap counts live.
`check` (beat, every night) compares the tally with a live count and counts it again if
they ever differ: a safety net, never the way it is kept.
"""

from __future__ import annotations

import hashlib
import logging

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, transaction

log = logging.getLogger(__name__)

TABLE = "dashboards_assignment_tally"
KEY = "version_id, department_id, active, status, completed"
GROUPS = "1, 2, 3, 4, 5"
# Fold the rows into one per key once a read sees this many more than there can be keys
# (a version and department has at most 16: active or not, 4 statuses, recorded or not).
FOLD_AT = 5000
KEYS_PER_CELL = 16
TRIGGERS = 5


def _tables() -> tuple[str, str]:
    assignment = apps.get_model("policies", "Assignment")._meta.db_table
    person = apps.get_model("people", "User")._meta.db_table
    return assignment, person


def _counted(rows: str, sign: str, people: str) -> str:
    """The key and count of each group of assignment rows (`rows`: a transition table,
    or the table itself), with their person as they are now."""
    return (
        f"SELECT r.version_id, coalesce(u.department_id, 0), u.is_active, r.status, "  # noqa: S608
        f"r.completed_at IS NOT NULL, {sign}count(*) FROM {rows} r "
        f"JOIN {people} u ON u.id = r.person_id GROUP BY {GROUPS}"
    )


def _hold(people: str, ids: str, how: str) -> str:
    """Lock the rows of the people `ids` (a query of person ids), in the order of their
    ids (so that two statements locking many people never each wait for the other)."""
    return f"PERFORM 1 FROM {people} u WHERE u.id IN ({ids}) ORDER BY u.id FOR {how};"


def _statements(schema: str) -> list[str]:
    assignment, person = (connection.ops.quote_name(t) for t in _tables())
    tally = f"{schema}.{TABLE}"
    into = f"INSERT INTO {tally} ({KEY}, n) "
    # Named with their schema: a writer's search_path may differ.
    people, assignments = f"{schema}.{person}", f"{schema}.{assignment}"
    moved = (
        "SELECT o.id, coalesce(o.department_id, 0) AS was_in, o.is_active AS was_active, "
        "coalesce(n.department_id, 0) AS now_in, n.is_active AS now_active "
        "FROM old_rows o JOIN new_rows n ON n.id = o.id "
        "WHERE o.department_id IS DISTINCT FROM n.department_id "
        "OR o.is_active IS DISTINCT FROM n.is_active"
    )

    def recounted(was: str, now: str) -> str:
        return (
            f"{into}SELECT {KEY}, sum(n) FROM ({now} UNION ALL {was}) AS c ({KEY}, n) "  # noqa: S608
            f"GROUP BY {GROUPS} HAVING sum(n) <> 0;"
        )

    def of_moved(department: str, active: str, sign: str) -> str:
        return (
            f"SELECT a.version_id, m.{department}, m.{active}, a.status, "  # noqa: S608
            f"a.completed_at IS NOT NULL, {sign}count(*) FROM {assignments} a "
            f"JOIN ({moved}) AS m ON m.id = a.person_id GROUP BY {GROUPS}"
        )

    written = "SELECT person_id FROM new_rows"
    gone = "SELECT person_id FROM old_rows"
    functions = {
        "inserted": _hold(people, written, "KEY SHARE")
        + f"{into}{_counted('new_rows', '', people)};",
        "deleted": _hold(people, gone, "KEY SHARE") + f"{into}{_counted('old_rows', '-', people)};",
        "updated": _hold(people, f"{written} UNION {gone}", "KEY SHARE")
        + recounted(_counted("old_rows", "-", people), _counted("new_rows", "", people)),
        "truncated": f"LOCK TABLE {tally} IN EXCLUSIVE MODE; DELETE FROM {tally};",  # noqa: S608
        "moved": (
            f"IF EXISTS ({moved}) THEN "  # noqa: S608
            + _hold(people, f"SELECT id FROM ({moved}) AS m", "UPDATE")  # noqa: S608
            + recounted(of_moved("was_in", "was_active", "-"), of_moved("now_in", "now_active", ""))
            + " END IF;"
        ),
    }
    statements = [
        f"CREATE TABLE IF NOT EXISTS {tally} (id bigserial PRIMARY KEY, "
        "version_id bigint NOT NULL, department_id bigint NOT NULL, active boolean NOT NULL, "
        "status varchar(12) NOT NULL, completed boolean NOT NULL, n bigint NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_version ON {tally} (version_id)",
        *(
            f"CREATE OR REPLACE FUNCTION {schema}.{TABLE}_{event}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"
            for event, body in functions.items()
        ),
    ]
    both = "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    triggers = [
        (assignment, "inserted", "INSERT", "REFERENCING NEW TABLE AS new_rows "),
        (assignment, "deleted", "DELETE", "REFERENCING OLD TABLE AS old_rows "),
        (assignment, "updated", "UPDATE", both),
        (assignment, "truncated", "TRUNCATE", ""),
        (person, "moved", "UPDATE", both),
    ]
    for table, event, operation, transition in triggers:
        statements += [
            f"DROP TRIGGER IF EXISTS {TABLE}_{event} ON {schema}.{table}",
            f"CREATE TRIGGER {TABLE}_{event} AFTER {operation} ON {schema}.{table} "
            f"{transition}FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{TABLE}_{event}()",
        ]
    return statements


def install(app_config=None, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """The tally and its triggers, made after each migrate (post_migrate, sent once for
    each app with models: this waits for the last) and counted from scratch whenever
    they are made; nothing is done when they are there already as this code would make
    them (a digest of the SQL is kept beside them)."""
    from policyhub.kept import _last_app_with_models

    if app_config is not None and app_config is not _last_app_with_models():
        return
    if using != connection.alias or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        statements = _statements(connection.ops.quote_name(cursor.fetchone()[0]))
        digest = hashlib.sha256("\n".join(statements).encode()).hexdigest()
        found = _triggers(cursor)
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {TABLE}_watch (digest varchar(64))")
        cursor.execute(f"SELECT digest FROM {TABLE}_watch")  # noqa: S608 (a constant)
        if [row[0] for row in cursor.fetchall()] == [digest] and found == TRIGGERS:
            return
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        for statement in statements:
            cursor.execute(statement)
        _count_again(cursor)
        cursor.execute(f"DELETE FROM {TABLE}_watch")  # noqa: S608 (a constant)
        cursor.execute(f"INSERT INTO {TABLE}_watch VALUES (%s)", [digest])  # noqa: S608
    _AVAILABLE.discard(_database())


def _triggers(cursor) -> int:
    """How many of the tally's triggers are on this schema's tables, and enabled."""
    cursor.execute(
        "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s "
        "AND tgenabled <> 'D' AND tgrelid IN (to_regclass(%s), to_regclass(%s))",
        [f"{TABLE}\\_%", *(connection.ops.quote_name(t) for t in _tables())],
    )
    return cursor.fetchone()[0]


def _lock(cursor) -> None:
    """No write to assignments or people while the tally is counted from scratch: one
    made meanwhile would be in neither the count nor the rows of changes."""
    names = ", ".join(connection.ops.quote_name(t) for t in _tables())
    cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")


def _count_again(cursor) -> None:
    assignment, person = (connection.ops.quote_name(t) for t in _tables())
    # No fold meanwhile: the sums it wrote after this delete began would be counted twice.
    cursor.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
    cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608 (a constant)
    cursor.execute(f"INSERT INTO {TABLE} ({KEY}, n) {_counted(assignment, '', person)}")  # noqa: S608


_AVAILABLE: set[str] = set()


def _database() -> str:
    return f"{connection.vendor}:{connection.settings_dict['NAME']}"


def available() -> bool:
    """Whether this database keeps the tally (PostgreSQL, installed by migrate): asked
    once per process, not at every view."""
    if connection.vendor != "postgresql":
        return False
    if _database() in _AVAILABLE:
        return True
    with connection.cursor() as cursor:
        if _triggers(cursor) != TRIGGERS:
            return False
    _AVAILABLE.add(_database())
    return True


def rows(
    version_ids,
    *,
    active_only: bool = False,
    department_ids=None,
    no_department: bool = False,
    by_department: bool = True,
) -> list[tuple]:
    """(version, department (None: none), not closed, acknowledged, acknowledged and
    recorded), or without the department (not `by_department`), as the heatmap's live
    query counts them: of everyone, or (`active_only`) the active people; only in
    `department_ids`, or only those without a department."""
    where, params = ["version_id = ANY(%s)"], [sorted(version_ids)]
    if active_only:
        where.append("active")
    if no_department:
        where.append("department_id = 0")
    elif department_ids is not None:
        where.append("department_id = ANY(%s)")
        params.append(sorted(department_ids))
    keys = "version_id, department_id" if by_department else "version_id"
    sql = (
        f"SELECT {keys}, "  # noqa: S608 (constants and placeholders)
        "sum(n) FILTER (WHERE status <> 'closed'), "
        "sum(n) FILTER (WHERE status = 'acknowledged'), "
        "sum(n) FILTER (WHERE status = 'acknowledged' AND completed), count(*) "
        f"FROM {TABLE} WHERE {' AND '.join(where)} GROUP BY {keys}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    if sum(row[-1] for row in found) - KEYS_PER_CELL * len(found) >= FOLD_AT:
        fold()
    counted = []
    for *key, total, acknowledged, recorded, _ in found:
        if total:
            if by_department:
                key[1] = key[1] or None
            counted.append((*key, int(total), int(acknowledged or 0), int(recorded or 0)))
    return counted


def fold() -> None:
    """The rows folded into one per key holding their sum (no sum changes), in a
    transaction of its own, by a reader outside any; skipped when another fold or a count
    from scratch holds the tally, or where it cannot write (a read-only replica). Rows a
    writer adds meanwhile are not among those deleted."""
    if connection.in_atomic_block:
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {TABLE} IN SHARE UPDATE EXCLUSIVE MODE NOWAIT")
            cursor.execute(
                f"WITH gone AS (DELETE FROM {TABLE} RETURNING {KEY}, n) "  # noqa: S608
                f"INSERT INTO {TABLE} ({KEY}, n) SELECT {KEY}, sum(n) FROM gone "
                f"GROUP BY {GROUPS} HAVING sum(n) <> 0"
            )
    except DatabaseError:
        pass


def _summed(cursor, sql: str) -> dict[tuple, int]:
    cursor.execute(sql)
    return {tuple(row[:5]): int(row[5]) for row in cursor.fetchall() if row[5]}


def check() -> bool:
    """Whether the tally equals a live count of every assignment (True); if not, it is
    counted again from scratch (False), and a warning logged."""
    if not available():
        return True
    assignment, person = (connection.ops.quote_name(t) for t in _tables())
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        kept = _summed(cursor, f"SELECT {KEY}, sum(n) FROM {TABLE} GROUP BY {GROUPS}")  # noqa: S608
        if kept == _summed(cursor, _counted(assignment, "", person)):
            return True
        log.warning("The assignment tally differed from a live count; counted it again.")
        _count_again(cursor)
    return False
