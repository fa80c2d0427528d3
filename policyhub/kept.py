"""Kept pages: a figures page rendered once and served again until the data under it
changes, or the clock moves past a moment that changes a figure.

The heaviest pages (the dashboards, My team, the compliance pages) read tens of thousands
of rows for a handful of figures. Between two changes to the data they would compute the
same thing again, so their title and content are kept (the cache alias "kept") under a
key made of:

- the *data version*: a token the database replaces whenever a watched table changes,
  from triggers on every table of the apps in `WATCHED` (installed after every migrate,
  `install`), so a write made anywhere (a service, the admin, an import, SQL typed by
  hand) is seen, and never anything stale. On PostgreSQL the token changes when the
  writing transaction commits (a deferred trigger, so writers do not queue behind one
  row while their transaction runs); the token comes from a sequence, so a rolled-back
  transaction's token is never used again. On SQLite each row changed sets a random one.
- the person looking (who may see what is decided by rows that are watched too), the
  full URL, the language and the time zone;
- and it lasts only until the next moment the clock alone changes a figure: the next
  midnight (due dates, "overdue", the months) and whatever else the page names (the
  next moment training attendance starts or stops counting, `training.compliance`).

Only the blocks `{% kept %}` marks in base.html are kept (the page's title and content).
What is around them (navigation, messages, the CSRF token of the log-out form) is
rendered for every request, and a kept page's own forms get this request's CSRF token.
Permission checks that run before the view (`role_required`) run on every request; the
ones inside the view ran for this person at this data version.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils import timezone, translation

# The SQL names the data version's objects: the table policyhub_data_version (its
# token), on PostgreSQL the sequence policyhub_data_version_seq and the table
# policyhub_data_change (a row per writing transaction until it commits), and the
# triggers policyhub_data_changing (on each watched table) and policyhub_data_changed;
# policyhub_data_watch holds a digest of the SQL that installed them.
TRIGGER = "policyhub_data_changing"

# The apps whose tables a page reads. Not the dashboards' own kept months (figures
# derived from these tables, written while a page is computed), nor monitoring's
# heartbeat (written every minute). Group names are roles.
WATCHED = (
    "people",
    "policies",
    "training",
    "incidents",
    "prevention",
    "notifications",
    "evidence",
    "api",
    "scim",
)
WATCHED_MODELS = ("auth.Group",)
# Columns whose change is not a change to any figure: a sign-in sets last_login.
IGNORED_COLUMNS = {"people_user": {"last_login"}}

CACHE = "kept"
TOKEN_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def watched_tables() -> list[str]:
    models = [
        model
        for label in WATCHED
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]
    models += [apps.get_model(name) for name in WATCHED_MODELS]
    return sorted({m._meta.db_table for m in models if m._meta.managed and not m._meta.proxy})


def _columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, table)]


def _update_of(table: str) -> str:
    """UPDATE, or UPDATE OF every column but those ignored."""
    ignored = IGNORED_COLUMNS.get(table)
    if not ignored:
        return "UPDATE"
    kept = [connection.ops.quote_name(c) for c in _columns(table) if c not in ignored]
    return f"UPDATE OF {', '.join(kept)}"


def _postgresql_statements(tables: list[str]) -> list[str]:
    statements = [
        "CREATE SEQUENCE IF NOT EXISTS policyhub_data_version_seq",
        "CREATE TABLE IF NOT EXISTS policyhub_data_version "
        "(id integer PRIMARY KEY, token bigint NOT NULL)",
        "INSERT INTO policyhub_data_version VALUES (1, nextval('policyhub_data_version_seq')) "
        "ON CONFLICT DO NOTHING",
        "CREATE TABLE IF NOT EXISTS policyhub_data_change (txid bigint PRIMARY KEY)",
        # Every statement that writes a watched table notes its transaction, once (the
        # row stays until the commit; a second note does nothing).
        """CREATE OR REPLACE FUNCTION policyhub_data_changing() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO policyhub_data_change VALUES (txid_current()) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$""",
        # At the commit, the transaction's note gives the data a new token.
        """CREATE OR REPLACE FUNCTION policyhub_data_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE policyhub_data_version SET token = nextval('policyhub_data_version_seq') WHERE id = 1;
  DELETE FROM policyhub_data_change WHERE txid = NEW.txid;
  RETURN NULL;
END $$""",
        "DROP TRIGGER IF EXISTS policyhub_data_changed ON policyhub_data_change",
        "CREATE CONSTRAINT TRIGGER policyhub_data_changed AFTER INSERT ON policyhub_data_change "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION policyhub_data_changed()",
    ]
    for table in tables:
        name = connection.ops.quote_name(table)
        statements += [
            f"DROP TRIGGER IF EXISTS policyhub_data_changing ON {name}",
            "CREATE TRIGGER policyhub_data_changing AFTER INSERT OR DELETE OR TRUNCATE OR "
            f"{_update_of(table)} ON {name} "
            "FOR EACH STATEMENT EXECUTE FUNCTION policyhub_data_changing()",
        ]
    return statements


def _sqlite_statements(tables: list[str]) -> list[str]:
    statements = [
        "CREATE TABLE IF NOT EXISTS policyhub_data_version "
        "(id integer PRIMARY KEY, token integer NOT NULL)",
        "INSERT OR IGNORE INTO policyhub_data_version VALUES (1, random())",
    ]
    change = "BEGIN UPDATE policyhub_data_version SET token = random() WHERE id = 1; END"
    for table in tables:
        name = connection.ops.quote_name(table)
        for event in ("INSERT", "DELETE", _update_of(table)):
            trigger = f"policyhub_data_changing_{table}_{event.split()[0].lower()}"
            statements += [
                f"DROP TRIGGER IF EXISTS {trigger}",
                f"CREATE TRIGGER {trigger} AFTER {event} ON {name} FOR EACH ROW {change}",
            ]
    return statements


def install(app_config=None, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """The data version and its triggers on every watched table, made after each migrate
    (post_migrate, sent once for each app with models: this waits for the last), so a
    table or column a later migration adds is watched too. A digest of the SQL is kept
    beside it: when nothing would change (a test database's flush sends post_migrate
    too), nothing is done."""
    if app_config is not None and app_config is not _last_app_with_models():
        return
    if using != connection.alias or connection.vendor not in ("postgresql", "sqlite"):
        return
    tables = set(connection.introspection.table_names())
    watched = [t for t in watched_tables() if t in tables]
    if connection.vendor == "postgresql":
        statements = _postgresql_statements(watched)
    else:
        statements = _sqlite_statements(watched)
    digest = hashlib.sha256("\n".join(statements).encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS policyhub_data_watch (digest varchar(64))")
        cursor.execute("SELECT digest FROM policyhub_data_watch")
        if [row[0] for row in cursor.fetchall()] == [digest]:
            return
        for statement in statements:
            cursor.execute(statement)
        cursor.execute("DELETE FROM policyhub_data_watch")
        cursor.execute("INSERT INTO policyhub_data_watch VALUES (%s)", [digest])


def _last_app_with_models():
    return [config for config in apps.get_app_configs() if config.models_module][-1]


def data_version() -> int | None:
    """The token of the data as this connection sees it now; None where there is none
    (a database the triggers are not installed in): then nothing is kept."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT token FROM policyhub_data_version WHERE id = 1")
            row = cursor.fetchone()
    except DatabaseError:
        return None
    return row[0] if row else None


def next_midnight(now: datetime) -> datetime:
    today = timezone.localdate(now)
    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time())
    return timezone.make_aware(tomorrow, timezone.get_current_timezone())


@dataclass(frozen=True)
class Kept:
    until: datetime
    blocks: dict[str, str]


def _key(request, view_name: str, token: int, now: datetime) -> str:
    parts = "\n".join(
        [
            view_name,
            str(request.user.pk),
            request.get_full_path(),
            str(token),
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
            timezone.localdate(now).isoformat(),
        ]
    )
    return "kept:" + hashlib.sha256(parts.encode()).hexdigest()


def kept_page(*changes_at):
    """Keep the page the view renders (see the module's docstring). `changes_at`: functions
    of now giving the next moment the clock alone changes one of its figures (or None)."""

    def decorate(view):
        view_name = f"{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if (
                not settings.KEPT_PAGES
                or request.method not in ("GET", "HEAD")
                or not request.user.is_authenticated
            ):
                return view(request, *args, **kwargs)
            token = data_version()
            if token is None:
                return view(request, *args, **kwargs)
            now = timezone.now()
            key = _key(request, view_name, token, now)
            cache = caches[CACHE]
            found = cache.get(key)
            if found is not None and now < found.until:
                return _serve(request, found)
            request.kept_blocks = {}
            response = view(request, *args, **kwargs)
            blocks = request.kept_blocks
            if (
                response.status_code == 200
                and type(response) is HttpResponse
                and set(blocks) == {"title", "content"}
            ):
                moments = [next_midnight(now)] + [moment(now) for moment in changes_at]
                until = min(m for m in moments if m is not None)
                seconds = (until - now).total_seconds()
                if seconds > 1:
                    timeout = min(seconds, settings.KEPT_PAGES_SECONDS)
                    cache.set(key, Kept(until=until, blocks=blocks), timeout)
            return response

        return wrapper

    return decorate


def _serve(request, found: Kept) -> HttpResponse:
    token = get_token(request)
    blocks = {
        name: TOKEN_INPUT.sub(lambda m: f"{m.group(1)}{token}{m.group(2)}", html)
        for name, html in found.blocks.items()
    }
    request.kept_serving = blocks
    return render(request, "kept_page.html")
