"""Kept pages: a figures page rendered once and served again until the data under it
changes, or the clock moves past a moment that changes a figure.

The heaviest pages (the dashboards, My team, the compliance pages) read tens of thousands
of rows for a handful of figures. Between two changes to the data they would compute the
same thing again, so their title and content are kept (the cache alias "kept") under a
key made of:

- the *data version* of the areas the page reads: a token per area (an app of
  `WATCHED`: people, policies, training, incidents…) that changes whenever a statement
  changes rows of one of its tables, from triggers on every table of those apps
  (installed after every migrate, `install`), so a write made anywhere (a service, the
  admin, an import, SQL typed by hand) is seen, and never anything stale. A page names
  the areas it reads (`kept_page(reads=…)`, people always, for who may see what; a test
  checks every table a page's queries name is in them), so an incident triaged leaves
  the compliance pages served, and an acknowledgement the Remediation dashboard. A
  statement that changes no row (a periodic clean-up with nothing to do), or only a
  column in `ignored_columns()`, is no change. On PostgreSQL each changing statement
  adds a row holding its area and a random mark to policyhub_data_change, and an area's
  token is the sum of its marks the reader sees: a transaction's rows appear when it
  commits, so the token changes exactly then, and marks only ever add to the sum (a
  reader folds old rows into one row per area holding their sum), so a token is never
  seen again for other data. Writers only insert rows of their own: they never wait on
  one another. On SQLite (one writer at a time) each changed row sets a random token for
  its area in policyhub_data_versions.
- the person looking (who may see what is decided by rows that are watched too), the
  full URL, the language and the time zone;
- and it lasts only until the next moment the clock alone changes a figure: the next
  midnight (due dates, "overdue", the months) and whatever else the page names (the
  next moment training attendance starts or stops counting, `training.queries`).

Only the blocks `{% kept %}` marks in base.html are kept (the page's title and content).
What is around them (navigation, messages, the CSRF token of the log-out form) is
rendered for every request, and a kept page's own forms get this request's CSRF token.
Permission checks that run before the view (`role_required`) run on every request; the
ones inside the view ran for this person at this data version: `DataVersionMiddleware`
reads the version before the person and their roles are read, for the requests a kept
page answers (without it, the person and their roles are read again after the version,
when a page is computed to be kept). What the page names as its next moments is asked
once per process and data version, and reused until the first of them comes.
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
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone, translation

# The SQL names: policyhub_data_change (PostgreSQL's marks), policyhub_data_versions
# (SQLite's tokens), the triggers and functions policyhub_data_<event> on PostgreSQL and
# policyhub_data_changing_<table>_<event> on SQLite, and policyhub_data_watch, a digest
# of the SQL that installed them.
TRIGGER = "policyhub_data_changing"  # SQLite
EVENTS = ("inserted", "updated", "deleted", "truncated")  # PostgreSQL

# The apps whose tables a page reads, each an area of the data version. Not the
# dashboards' own kept months (figures derived from these tables, written while a page is
# computed), nor monitoring's heartbeat (written every minute). Group names are roles:
# auth's groups are in the people area.
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
WATCHED_MODELS = {"auth.Group": "people"}
# Marks made before there were areas (PostgreSQL): part of every page's version.
NO_AREA = ""


def ignored_columns() -> dict[str, set[str]]:
    """Columns whose change is not a change to any figure: a sign-in sets last_login; an
    API token or SCIM client notes when it was used; a news source's fetching notes its
    progress every few minutes (no kept page shows any of them)."""
    source = apps.get_model("prevention", "Source")
    return {
        "people_user": {"last_login"},
        "api_integrationtoken": {"last_used_at"},
        "scim_scimclient": {"last_used_at"},
        source._meta.db_table: set(source.FETCHING),
    }


# PostgreSQL folds the marks into one row once there are this many.
PRUNE_AT = 1000

CACHE = "kept"
TOKEN_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def watched_areas() -> dict[str, str]:
    """Every watched table, and its area."""
    areas = {
        model._meta.db_table: label
        for label in WATCHED
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    areas |= {apps.get_model(name)._meta.db_table: area for name, area in WATCHED_MODELS.items()}
    return dict(sorted(areas.items()))


def _columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, table)]


def _postgresql_statements(areas: dict[str, str], schema: str) -> list[str]:
    # The functions name the table with its schema: a writer's search_path may differ.
    marks = f"{schema}.policyhub_data_change"
    # The schema's name, quoted, is the only thing put in (S608: no one's input). The
    # first argument of every trigger: the table's area.
    mark = (
        f"INSERT INTO {marks} (area, mark) "  # noqa: S608
        "VALUES (TG_ARGV[0], floor(random() * 4503599627370496) + 1);"
    )
    changed = {
        "inserted": "EXISTS (SELECT 1 FROM new_rows)",
        "deleted": "EXISTS (SELECT 1 FROM old_rows)",
        # The arguments after the area: columns left out of the comparison (none: any
        # row updated).
        "updated": "EXISTS (SELECT 1 FROM new_rows) AND (TG_NARGS = 1 OR EXISTS ("
        "SELECT to_jsonb(n) - TG_ARGV[1:TG_NARGS - 1] FROM new_rows n "
        "EXCEPT ALL SELECT to_jsonb(o) - TG_ARGV[1:TG_NARGS - 1] FROM old_rows o))",
        "truncated": "true",
    }
    statements = [
        f"CREATE TABLE IF NOT EXISTS {marks} (id bigserial PRIMARY KEY, mark numeric NOT NULL, "
        f"area varchar(40) NOT NULL DEFAULT '{NO_AREA}')",
        *(
            f"CREATE OR REPLACE FUNCTION {schema}.policyhub_data_{event}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN IF {test} THEN {mark} END IF; RETURN NULL; END $$"
            for event, test in changed.items()
        ),
    ]
    referencing = {
        "inserted": ("INSERT", "REFERENCING NEW TABLE AS new_rows "),
        "updated": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "),
        "deleted": ("DELETE", "REFERENCING OLD TABLE AS old_rows "),
        "truncated": ("TRUNCATE", ""),
    }
    ignoring = ignored_columns()
    for table, area in areas.items():
        name = connection.ops.quote_name(table)
        ignored = "".join(f", '{column}'" for column in sorted(ignoring.get(table, ())))
        for event, (operation, transition) in referencing.items():
            arguments = f"'{area}'" + (ignored if event == "updated" else "")
            statements += [
                f"DROP TRIGGER IF EXISTS policyhub_data_{event} ON {name}",
                f"CREATE TRIGGER policyhub_data_{event} AFTER {operation} ON {name} "
                f"{transition}FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {schema}.policyhub_data_{event}({arguments})",
            ]
    return statements


def _sqlite_statements(areas: dict[str, str]) -> list[str]:
    # An area is an app's label (S608: no one's input).
    statements = [
        "CREATE TABLE IF NOT EXISTS policyhub_data_versions "
        "(area text PRIMARY KEY, token integer NOT NULL)",
        *(
            f"INSERT OR IGNORE INTO policyhub_data_versions VALUES ('{area}', random())"  # noqa: S608
            for area in sorted(set(areas.values()))
        ),
    ]
    ignoring = ignored_columns()
    for table, area in areas.items():
        token = "UPDATE policyhub_data_versions SET token = random()"
        change = f"BEGIN {token} WHERE area = '{area}'; END"
        name = connection.ops.quote_name(table)
        ignored = ignoring.get(table, set())
        # An update changes something when a column other than those ignored differs.
        differs = " OR ".join(
            f"OLD.{quoted} IS NOT NEW.{quoted}"
            for quoted in (
                connection.ops.quote_name(c) for c in _columns(table) if c not in ignored
            )
        )
        for event, when in (("insert", ""), ("delete", ""), ("update", f" WHEN {differs}")):
            trigger = f"{TRIGGER}_{table}_{event}"
            statements += [
                f"DROP TRIGGER IF EXISTS {trigger}",
                f"CREATE TRIGGER {trigger} AFTER {event.upper()} ON {name} "
                f"FOR EACH ROW{when} {change}",
            ]
    # The one token of every table, before there were areas.
    statements.append("DROP TABLE IF EXISTS policyhub_data_version")
    return statements


def install(app_config=None, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """The data version and its triggers on every watched table, made after each migrate
    (post_migrate, sent once for each app with models: this waits for the last), so a
    table or column a later migration adds is watched too. A digest of the SQL is kept
    beside it: when nothing would change (a test database's flush sends post_migrate
    too) and every trigger is there, nothing is done."""
    if app_config is not None and app_config is not _last_app_with_models():
        return
    if using != connection.alias or connection.vendor not in ("postgresql", "sqlite"):
        return
    tables = set(connection.introspection.table_names())
    watched = {t: area for t, area in watched_areas().items() if t in tables}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_schema()")
            statements = _postgresql_statements(
                watched, connection.ops.quote_name(cursor.fetchone()[0])
            )
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgname LIKE 'policyhub\\_data\\_%%'"
            )
            expected = len(watched) * len(EVENTS)
        else:
            statements = _sqlite_statements(watched)
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [f"{TRIGGER}_%"],
            )
            expected = len(watched) * 3
        found = cursor.fetchone()[0]
        digest = hashlib.sha256("\n".join(statements).encode()).hexdigest()
        cursor.execute("CREATE TABLE IF NOT EXISTS policyhub_data_watch (digest varchar(64))")
        cursor.execute("SELECT digest FROM policyhub_data_watch")
        # Made already, and all there (a table rebuilt by a migration loses its triggers).
        if [row[0] for row in cursor.fetchall()] == [digest] and found == expected:
            return
    # One transaction: no write goes unseen while the triggers are made again.
    with transaction.atomic(), connection.cursor() as cursor:
        columns = _mark_columns(cursor) if connection.vendor == "postgresql" else set()
        if columns and "area" not in columns:
            # Marks made before there were areas (once: altering the table locks it
            # against every writer's trigger while the triggers are made again).
            cursor.execute(
                "ALTER TABLE policyhub_data_change ADD COLUMN area varchar(40) NOT NULL "
                f"DEFAULT '{NO_AREA}'"
            )
        for statement in statements:
            cursor.execute(statement)
        cursor.execute("DELETE FROM policyhub_data_watch")
        cursor.execute("INSERT INTO policyhub_data_watch VALUES (%s)", [digest])


def _mark_columns(cursor) -> set[str]:
    """The columns of PostgreSQL's marks table (none: there is no such table yet)."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'policyhub_data_change'"
    )
    return {row[0] for row in cursor.fetchall()}


def _last_app_with_models():
    return [config for config in apps.get_app_configs() if config.models_module][-1]


def data_version() -> tuple | None:
    """The data as this connection sees it now: (area, token) for every area, sorted; a
    page's version is the part of it for the areas it reads (`page_version`). None where
    there is none (a database the triggers are not installed in): then nothing is kept."""
    if not _installed():
        return None
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT area, token FROM policyhub_data_versions")
            return tuple(sorted(cursor.fetchall()))
        cursor.execute("SELECT area, sum(mark), count(*) FROM policyhub_data_change GROUP BY area")
        found = cursor.fetchall()
    if sum(rows for _, _, rows in found) >= PRUNE_AT and not connection.in_atomic_block:
        _fold()
    return tuple(sorted((area, token) for area, token, _ in found))


def page_version(version: tuple, reads: frozenset[str] | None) -> tuple:
    """The part of the data `version` of the areas a page reads (None: all of them). An
    area nothing has changed yet has no token on PostgreSQL: its first change adds one."""
    if reads is None:
        return version
    return tuple(pair for pair in version if pair[0] in reads or pair[0] == NO_AREA)


def _fold() -> None:
    """Old marks folded into one row holding their sum (the sum does not change), by a
    reader outside any transaction: a statement of its own, and where it cannot write (a
    read-only replica), left for another time."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH gone AS (DELETE FROM policyhub_data_change RETURNING area, mark) "
                "INSERT INTO policyhub_data_change (area, mark) "
                "SELECT area, sum(mark) FROM gone GROUP BY area"
            )
    except DatabaseError:
        pass


_INSTALLED: set[str] = set()


def _installed() -> bool:
    """Whether this database has the data version (once it has, it keeps it): asked once
    per process, not at every view, and never by a query that fails in a transaction."""
    database = f"{connection.vendor}:{connection.settings_dict['NAME']}"
    if database in _INSTALLED:
        return True
    if connection.vendor not in ("postgresql", "sqlite"):
        return False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # No area: the marks of a release older than this code (migrate has not run).
            if "area" not in _mark_columns(cursor):
                return False
    elif "policyhub_data_versions" not in connection.introspection.table_names():
        return False
    _INSTALLED.add(database)
    return True


def next_midnight(now: datetime) -> datetime:
    today = timezone.localdate(now)
    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time())
    return timezone.make_aware(tomorrow, timezone.get_current_timezone())


@dataclass(frozen=True)
class Kept:
    until: datetime
    blocks: dict[str, str]


def _key(request, view_name: str, token: tuple) -> str:
    parts = "\n".join(
        [
            view_name,
            str(request.user.pk),
            request.get_full_path(),
            str(token),
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
        ]
    )
    return "kept:" + hashlib.sha256(parts.encode()).hexdigest()


def kept_page(*changes_at, reads: tuple[str, ...] | None = None):
    """Keep the page the view renders (see the module's docstring). `changes_at`: functions
    of now giving the next moment the clock alone changes one of its figures (or None).
    `reads`: the areas (apps of `WATCHED`) whose tables the page reads, people always
    (None: every area)."""
    if reads is not None:
        unknown = set(reads) - set(WATCHED)
        if unknown:
            raise ValueError(f"kept_page reads: not areas: {', '.join(sorted(unknown))}")
        reads = frozenset(reads) | {"people"}

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
            read_first = hasattr(request, "kept_version")
            version = request.kept_version if read_first else data_version()
            if version is None:
                return view(request, *args, **kwargs)
            token = page_version(version, reads)
            now = timezone.now()
            key = _key(request, view_name, token)
            cache = caches[CACHE]
            found = cache.get(key)
            if found is not None and now < found.until:
                return _serve(request, found)
            request.kept_blocks = {}
            if not read_first:
                _read_again(request.user)
            response = view(request, *args, **kwargs)
            blocks = request.kept_blocks
            if (
                response.status_code == 200
                and type(response) is HttpResponse
                and set(blocks) == {"title", "content"}
            ):
                moments = [next_midnight(now)] + [
                    _next_moment(moment, token, now) for moment in changes_at
                ]
                until = min(m for m in moments if m is not None)
                seconds = (until - now).total_seconds()
                if seconds > 1:
                    timeout = min(seconds, settings.KEPT_PAGES_SECONDS)
                    cache.set(key, Kept(until=until, blocks=blocks), timeout)
            return response

        wrapper.kept_page = True  # for DataVersionMiddleware (wraps() passes it outwards)
        wrapper.kept_reads = reads
        return wrapper

    return decorate


# (function, database, data version) -> (asked at, the moment it gave), per process.
_MOMENTS: dict[tuple, tuple[datetime, datetime | None]] = {}


def _next_moment(changes_at, token, now: datetime) -> datetime | None:
    """`changes_at(now)`, asked once per data version: a moment found at `asked` is still
    the next one at any later `now` before it (no moment lies between, and the moments
    come from the data, which is the same at the same version)."""
    key = (changes_at, connection.settings_dict["NAME"], token)
    found = _MOMENTS.get(key)
    if found is not None and found[0] <= now and (found[1] is None or now < found[1]):
        return found[1]
    moment = changes_at(now)
    if len(_MOMENTS) >= 100:
        _MOMENTS.clear()
    _MOMENTS[key] = (now, moment)
    return moment


class DataVersionMiddleware:
    """Reads the data version for a request a kept page answers, before the person is
    read (it sits before AuthenticationMiddleware): what is computed to be kept under
    that version is then computed from the person and roles as they are at it or later,
    without reading them again. Other requests are left alone (no query)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.KEPT_PAGES
            and request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME in request.COOKIES  # nobody signed in: no page
            and _kept(request)
        ):
            request.kept_version = data_version()
        return self.get_response(request)


def _kept(request) -> bool:
    try:
        match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return getattr(match.func, "kept_page", False)


def _read_again(user) -> None:
    """The person and their roles were read before the data version (by the middleware
    and the view's permission decorator): what is kept under this version is computed from
    them as they are now, read after it (a role removed in between is not kept as held)."""
    for name in [name for name in vars(user) if name.startswith("_policyhub_")]:
        delattr(user, name)  # people.roles reads them again when asked
    user.refresh_from_db()


def _serve(request, found: Kept) -> HttpResponse:
    token = get_token(request)
    blocks = {
        name: TOKEN_INPUT.sub(lambda m: f"{m.group(1)}{token}{m.group(2)}", html)
        for name, html in found.blocks.items()
    }
    request.kept_serving = blocks
    return render(request, "kept_page.html")
