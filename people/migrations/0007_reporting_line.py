"""The reporting-line table (people.ReportingLine) and the triggers that keep it.

For each person the table holds every manager reached by following people_user.manager_id
upwards, one step or more (never the person themself). After any change to who someone
reports to, a trigger rewrites the rows of that person and of everyone below them, read
from people_user as it then is: it walks down from the person to find who is below
(`below`), deletes their rows, and walks up from each of them (`up`). It uses nothing the
table held before, so it is right whatever order the rows of one statement are written
in: a bulk update that promotes a report over their manager passes through a loop
between two of its rows and still ends with the right lines; a report inserted before
their manager is picked up when the manager arrives (`below` starts at the new person).
A loop written by raw SQL ends the walks (UNION keeps each id or pair once): everyone in
the loop then has the whole loop, themselves excepted, as managers.

PostgreSQL: one plpgsql function for every row inserted, deleted or whose id or manager
changes (row triggers there run when the statement is over, on the table as the
statement left it), behind one transaction-level advisory lock, so that two
transactions moving people in the same line wait for each other rather than each
writing lines from what it alone sees (Django's READ COMMITTED: after the lock, the
walks read what the other committed). The walks join through LATERAL … OFFSET 0, which
keeps them one index lookup per person (a plan cached for a trigger must not scan the
table for each row written). Someone nobody reports to (most people, and everyone an
import or a bulk load writes before their reports) takes a shorter way: their manager's
lines plus the manager; if those are still to change in the same statement, the
manager's own trigger, which runs later, rewrites everyone below. About 0.1 ms a person
written at 100,000 people. TRUNCATE empties the table too.

SQLite: the same statements in each trigger, the recursive walks in subqueries (SQLite
refuses a WITH before a statement in a trigger body, not one inside a subquery; its own
test suite, with4.test, covers WITH in triggers). SQLite runs a row's trigger as the row
is written, so each trigger makes the table right for the table as it is at that point.
A later migration that rebuilds people_user on SQLite (Django copies it into a new table
for most field changes there) drops these triggers with the old table: it must run
SQLITE_TRIGGERS again; people/tests/test_reporting_line.py fails until it does.

Other databases: no triggers, the table stays empty and people.audience.team walks the
line itself.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Every person's managers, from scratch (the backfill); the same walk as `up` below.
BACKFILL = """
INSERT INTO people_reportingline (manager_id, person_id)
SELECT manager_id, person_id FROM (
    WITH RECURSIVE up(person_id, manager_id) AS (
        SELECT id, manager_id FROM people_user WHERE manager_id IS NOT NULL
        UNION
        SELECT up.person_id, u.manager_id
        FROM up JOIN people_user u ON u.id = up.manager_id
        WHERE u.manager_id IS NOT NULL
    )
    SELECT manager_id, person_id FROM up WHERE manager_id <> person_id
) everyone
"""

POSTGRESQL_TRIGGERS = [
    """
CREATE FUNCTION people_reportingline_refresh(seeds bigint[]) RETURNS void
LANGUAGE plpgsql AS $body$
DECLARE
    moved bigint[];
    lone bigint;
    boss bigint;
BEGIN
    PERFORM pg_advisory_xact_lock('people_reportingline'::regclass::oid::bigint);
    IF cardinality(seeds) = 1 THEN
        lone := seeds[1];
        IF NOT EXISTS (SELECT 1 FROM people_user WHERE manager_id = lone) THEN
            -- Nobody reports to them (most people): their manager and the manager's
            -- managers, as the table has them. Were those still to change in this
            -- statement, the manager's own trigger, later, rewrites everyone below.
            SELECT manager_id INTO boss FROM people_user WHERE id = lone;
            DELETE FROM people_reportingline WHERE person_id = lone;
            IF boss IS NOT NULL THEN
                INSERT INTO people_reportingline (manager_id, person_id)
                SELECT boss, lone WHERE boss <> lone
                UNION
                SELECT line.manager_id, lone FROM people_reportingline line
                WHERE line.person_id = boss AND line.manager_id <> lone
                ON CONFLICT DO NOTHING;
            END IF;
            RETURN;
        END IF;
    END IF;
    WITH RECURSIVE below(id) AS (
        SELECT unnest(seeds)
        UNION
        SELECT report.id
        FROM below CROSS JOIN LATERAL (
            SELECT u.id FROM people_user u WHERE u.manager_id = below.id OFFSET 0
        ) report
    )
    SELECT array_agg(id) INTO moved FROM below;
    DELETE FROM people_reportingline WHERE person_id = ANY (moved);
    INSERT INTO people_reportingline (manager_id, person_id)
    WITH RECURSIVE up(person_id, manager_id) AS (
        SELECT u.id, u.manager_id
        FROM people_user u
        WHERE u.id = ANY (moved) AND u.manager_id IS NOT NULL
        UNION
        SELECT up.person_id, above.manager_id
        FROM up CROSS JOIN LATERAL (
            SELECT u.manager_id FROM people_user u
            WHERE u.id = up.manager_id AND u.manager_id IS NOT NULL OFFSET 0
        ) above
    )
    SELECT up.manager_id, up.person_id FROM up WHERE up.manager_id <> up.person_id
    ON CONFLICT DO NOTHING;
END
$body$
""",
    """
CREATE FUNCTION people_reportingline_row() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- Someone new with no manager and nobody yet reporting to them has no lines.
        IF NEW.manager_id IS NOT NULL
            OR EXISTS (SELECT 1 FROM people_user WHERE manager_id = NEW.id) THEN
            PERFORM people_reportingline_refresh(ARRAY[NEW.id]);
        END IF;
    ELSIF TG_OP = 'UPDATE' AND OLD.id = NEW.id THEN
        PERFORM people_reportingline_refresh(ARRAY[NEW.id]);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM people_reportingline_refresh(ARRAY[OLD.id, NEW.id]);
    ELSE
        PERFORM people_reportingline_refresh(ARRAY[OLD.id]);
    END IF;
    RETURN NULL;
END
$body$
""",
    """
CREATE FUNCTION people_reportingline_truncate() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    DELETE FROM people_reportingline;
    RETURN NULL;
END
$body$
""",
    """
CREATE TRIGGER people_reportingline_insert AFTER INSERT ON people_user
FOR EACH ROW EXECUTE FUNCTION people_reportingline_row()
""",
    """
CREATE TRIGGER people_reportingline_update AFTER UPDATE OF id, manager_id ON people_user
FOR EACH ROW
WHEN (OLD.manager_id IS DISTINCT FROM NEW.manager_id OR OLD.id <> NEW.id)
EXECUTE FUNCTION people_reportingline_row()
""",
    """
CREATE TRIGGER people_reportingline_delete AFTER DELETE ON people_user
FOR EACH ROW EXECUTE FUNCTION people_reportingline_row()
""",
    """
CREATE TRIGGER people_reportingline_truncate AFTER TRUNCATE ON people_user
FOR EACH STATEMENT EXECUTE FUNCTION people_reportingline_truncate()
""",
]

POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS people_reportingline_truncate ON people_user",
    "DROP TRIGGER IF EXISTS people_reportingline_delete ON people_user",
    "DROP TRIGGER IF EXISTS people_reportingline_update ON people_user",
    "DROP TRIGGER IF EXISTS people_reportingline_insert ON people_user",
    "DROP FUNCTION IF EXISTS people_reportingline_truncate()",
    "DROP FUNCTION IF EXISTS people_reportingline_row()",
    "DROP FUNCTION IF EXISTS people_reportingline_refresh(bigint[])",
]

# SQLite: the body of each trigger, for the people given as `{seeds}` (OLD.id, NEW.id).
_SQLITE_REFRESH = """
    DELETE FROM people_reportingline WHERE person_id IN (
        WITH RECURSIVE below(id) AS (
            VALUES {seeds}
            UNION
            SELECT u.id FROM people_user u JOIN below ON u.manager_id = below.id
        )
        SELECT id FROM below
    );
    INSERT OR IGNORE INTO people_reportingline (manager_id, person_id)
    SELECT manager_id, person_id FROM (
        WITH RECURSIVE below(id) AS (
            VALUES {seeds}
            UNION
            SELECT u.id FROM people_user u JOIN below ON u.manager_id = below.id
        ),
        up(person_id, manager_id) AS (
            SELECT u.id, u.manager_id
            FROM people_user u JOIN below ON u.id = below.id
            WHERE u.manager_id IS NOT NULL
            UNION
            SELECT up.person_id, u.manager_id
            FROM up JOIN people_user u ON u.id = up.manager_id
            WHERE u.manager_id IS NOT NULL
        )
        SELECT manager_id, person_id FROM up WHERE manager_id <> person_id
    );
"""

SQLITE_TRIGGERS = [
    f"""
CREATE TRIGGER people_reportingline_insert AFTER INSERT ON people_user
WHEN NEW.manager_id IS NOT NULL
    OR EXISTS (SELECT 1 FROM people_user WHERE manager_id = NEW.id)
BEGIN{_SQLITE_REFRESH.format(seeds="(NEW.id)")}END
""",  # noqa: S608 (no value in the text: the trigger's own OLD and NEW)
    f"""
CREATE TRIGGER people_reportingline_update AFTER UPDATE OF id, manager_id ON people_user
WHEN OLD.manager_id IS NOT NEW.manager_id OR OLD.id IS NOT NEW.id
BEGIN{_SQLITE_REFRESH.format(seeds="(OLD.id), (NEW.id)")}END
""",
    f"""
CREATE TRIGGER people_reportingline_delete AFTER DELETE ON people_user
BEGIN{_SQLITE_REFRESH.format(seeds="(OLD.id)")}END
""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS people_reportingline_delete",
    "DROP TRIGGER IF EXISTS people_reportingline_update",
    "DROP TRIGGER IF EXISTS people_reportingline_insert",
]


def install(apps, schema_editor):
    """The triggers first (on PostgreSQL creating them locks people_user against writes
    until the migration commits), then the rows for everyone already there."""
    statements = {"postgresql": POSTGRESQL_TRIGGERS, "sqlite": SQLITE_TRIGGERS}.get(
        schema_editor.connection.vendor
    )
    if statements is None:
        return
    for sql in statements:
        schema_editor.execute(sql, params=None)
    schema_editor.execute(BACKFILL, params=None)


def uninstall(apps, schema_editor):
    statements = {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0006_people_listed_order"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReportingLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "manager",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["person", "manager"], name="people_reportingline_person")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("manager", "person"), name="people_reportingline_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
