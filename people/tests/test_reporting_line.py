"""The reporting-line table (people.ReportingLine) is kept by the database: after every way
PolicyHub or anyone else writes who reports to whom, it holds exactly the lines found by
walking people_user.manager_id up from each person."""

import io
import itertools
import json
import random
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from people import audience, roles, services
from people.importer import import_people
from people.models import ReportingLine, User
from scim import services as scim_services
from scim.tests.conftest import Scim

pytestmark = pytest.mark.django_db

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
TRIGGERS = (
    "people_reportingline_insert",
    "people_reportingline_update",
    "people_reportingline_delete",
)


def walked() -> set[tuple[int, int]]:
    """(manager, person) for every manager found by following manager_id up from each
    person, computed from scratch in Python; a loop ends the walk."""
    manager_of = dict(User.objects.values_list("pk", "manager_id"))
    lines = set()
    for person in manager_of:
        seen = set()
        above = manager_of.get(person)
        while above is not None and above not in seen:
            seen.add(above)
            above = manager_of.get(above)
        lines |= {(manager, person) for manager in seen if manager != person}
    return lines


def kept() -> set[tuple[int, int]]:
    rows = list(ReportingLine.objects.values_list("manager_id", "person_id"))
    assert len(rows) == len(set(rows))
    return set(rows)


def assert_kept():
    assert kept() == walked()


@pytest.fixture
def person(make_person):
    def make(name: str, manager: User | None = None, **fields) -> User:
        return make_person(
            email=f"{name}@example.com", full_name=name.title(), manager=manager, **fields
        )

    return make


@pytest.fixture
def org(person):
    """ceo ─ anna ─ ben ─ cara
        │      └ dan
        └ eve ─ finn
    gail (no manager, nobody reports to her)"""
    ceo = person("ceo")
    anna = person("anna", ceo)
    ben = person("ben", anna)
    cara = person("cara", ben)
    dan = person("dan", anna)
    eve = person("eve", ceo)
    finn = person("finn", eve)
    gail = person("gail")
    people = dict(ceo=ceo, anna=anna, ben=ben, cara=cara, dan=dan, eve=eve, finn=finn, gail=gail)
    assert_kept()
    return people


def ids(*people: User) -> set[int]:
    return {p.pk for p in people}


def team_of(manager: User) -> set[int]:
    return set(audience.team(manager).values_list("pk", flat=True))


# The database keeps it -------------------------------------------------------------------------


def test_the_triggers_exist():
    """A later migration that rebuilds people_user on SQLite drops them with the old
    table: it must create them again (see people/migrations/0007_reporting_line.py)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'people_user'::regclass")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'people_user'"
            )
        names = {name for (name,) in cursor.fetchall()}
    assert set(TRIGGERS) <= names


def test_a_new_person_with_a_manager_has_every_manager_above(org):
    ceo, anna, ben, cara = org["ceo"], org["anna"], org["ben"], org["cara"]
    lines = kept()
    assert {(m, cara.pk) for m, p in lines if p == cara.pk} == {
        (ben.pk, cara.pk),
        (anna.pk, cara.pk),
        (ceo.pk, cara.pk),
    }
    assert not {line for line in lines if line[1] in (ceo.pk, org["gail"].pk)}
    assert team_of(ceo) == ids(*(p for name, p in org.items() if name not in ("ceo", "gail")))
    assert team_of(anna) == ids(ben, cara, org["dan"])


def test_a_change_of_manager_through_the_service(org):
    services.update_person(person=org["ben"], values={"manager": org["eve"]})
    assert_kept()
    assert team_of(org["eve"]) == ids(org["finn"], org["ben"], org["cara"])
    assert team_of(org["anna"]) == ids(org["dan"])


def test_a_change_of_manager_in_the_admin(client, site_admin, org):
    client.force_login(site_admin)
    ben = org["ben"]
    joined = timezone.localtime(ben.date_joined)
    response = client.post(
        reverse("admin:people_user_change", args=[ben.pk]),
        {
            "email": ben.email,
            "full_name": ben.full_name,
            "manager": org["gail"].pk,
            "is_active": "on",
            "language": ben.language,
            "date_joined_0": joined.strftime("%d/%m/%Y"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert_kept()
    assert team_of(org["gail"]) == ids(ben, org["cara"])


def test_a_whole_subtree_moves_with_its_manager(org, person):
    below_cara = person("below-cara", org["cara"])
    anna = org["anna"]
    anna.manager = org["gail"]
    anna.save(update_fields=["manager"])
    assert_kept()
    assert team_of(org["gail"]) == ids(anna, org["ben"], org["cara"], org["dan"], below_cara)
    assert team_of(org["ceo"]) == ids(org["eve"], org["finn"])


def test_someone_made_top_level_takes_their_team_out_of_the_line(org):
    services.update_person(person=org["anna"], values={"manager": None})
    assert_kept()
    assert team_of(org["ceo"]) == ids(org["eve"], org["finn"])
    assert team_of(org["anna"]) == ids(org["ben"], org["cara"], org["dan"])


def test_deleting_a_manager_leaves_their_reports_without_one(org):
    """on_delete=SET_NULL: Django empties the reports' manager first, then deletes."""
    anna = org["anna"]
    anna.delete()
    assert_kept()
    assert not ReportingLine.objects.filter(manager_id=anna.pk).exists()
    assert not ReportingLine.objects.filter(person_id=anna.pk).exists()
    assert team_of(org["ceo"]) == ids(org["eve"], org["finn"])
    assert team_of(org["ben"]) == ids(org["cara"])


def test_deleting_someone_with_no_reports(org):
    org["cara"].delete()
    assert_kept()
    assert team_of(org["anna"]) == ids(org["ben"], org["dan"])


def test_a_leaver_stays_in_the_line_but_not_in_any_team(org):
    before = kept()
    services.deactivate_person(person=org["ben"])
    assert kept() == before
    assert team_of(org["anna"]) == ids(org["cara"], org["dan"])  # cara still counts for anna
    assert team_of(org["ben"]) == ids(org["cara"])
    assert audience.reports_to(org["ben"], org["ceo"])


def test_the_manager_is_never_in_their_own_team(org):
    for manager in org.values():
        assert manager.pk not in team_of(manager)


def test_the_head_of_everyone_has_everyone_else_without_reading_the_line(org, person):
    """Once nobody else is without a manager, every line ends at the chief executive: their
    team is every other active person, the same people the line gives, read without it.
    Someone else at the top again (a fresh read of the roles) brings the line back."""
    ceo = User.objects.get(pk=org["ceo"].pk)
    assert not roles.heads_everyone(ceo)  # gail is at the top too
    gail = org["gail"]
    gail.manager = org["eve"]
    gail.save(update_fields=["manager"])
    person("ivy", org["cara"], is_active=False)
    services.deactivate_person(person=org["ben"])  # cara still reports through him
    ceo = User.objects.get(pk=org["ceo"].pk)
    with CaptureQueriesContext(connection) as captured:
        found = team_of(ceo)
    assert not any("people_reportingline" in q["sql"] for q in captured.captured_queries)
    from_the_line = {p for m, p in kept() if m == ceo.pk}
    active = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
    assert found == from_the_line & active == ids(*org.values()) - ids(ceo, org["ben"])
    assert audience.team_ids(ceo) == sorted(found)
    # Outside the team: everyone else, the inactive and the chief executive.
    outside = set(audience.outside_team(ceo).values_list("pk", flat=True))
    everybody = set(User.objects.values_list("pk", flat=True))
    assert outside == everybody - found
    assert ids(ceo, org["ben"], User.objects.get(email__startswith="ivy")) <= outside
    assert audience.outside_team(User.objects.get(pk=org["anna"].pk)) is None
    services.update_person(person=org["anna"], values={"manager": None})
    ceo = User.objects.get(pk=org["ceo"].pk)
    assert team_of(ceo) == ids(org["eve"], org["finn"], gail)
    assert audience.outside_team(ceo) is None
    assert not roles.heads_everyone(User.objects.get(pk=org["anna"].pk))


def test_reports_to_is_direct_or_through_others(org):
    assert audience.reports_to(org["cara"], org["ceo"])
    assert audience.reports_to(org["cara"], org["ben"])
    assert not audience.reports_to(org["ceo"], org["cara"])
    assert not audience.reports_to(org["cara"], org["cara"])
    assert not audience.reports_to(org["finn"], org["anna"])


# Writes in bulk and behind the ORM's back ------------------------------------------------------


def test_bulk_create_with_reports_before_their_managers(org):
    """Foreign keys are checked at commit: a bulk load may write a report first."""
    top = max(User.objects.values_list("pk", flat=True)) + 100
    people = [
        User(pk=top + 3, email="leaf@example.com", full_name="Leaf", manager_id=top + 2),
        User(pk=top + 2, email="middle@example.com", full_name="Middle", manager_id=top + 1),
        User(pk=top + 1, email="head@example.com", full_name="Head", manager_id=org["dan"].pk),
        User(pk=top + 4, email="other@example.com", full_name="Other", manager_id=top + 1),
    ]
    User.objects.bulk_create(people)
    assert_kept()
    assert (
        ReportingLine.objects.filter(person_id=top + 3).count() == 5
    )  # middle, head, dan, anna, ceo
    assert {top + 1, top + 2, top + 3, top + 4} <= team_of(org["ceo"])


def test_bulk_update_of_many_managers_at_once(org):
    ceo, anna, ben, cara, dan, eve, finn, gail = org.values()
    moves = {ben: gail, dan: cara, finn: ben, eve: dan, cara: None}
    for who, to in moves.items():
        who.manager = to
    User.objects.bulk_update(list(moves), ["manager"])
    assert_kept()
    assert team_of(gail) == ids(ben, finn)
    assert team_of(cara) == ids(dan, eve)
    assert team_of(anna) == set() and team_of(ceo) == ids(anna)


@pytest.mark.parametrize("order", ["report first", "manager first"])
def test_promoting_a_report_over_their_manager_in_one_statement(org, order):
    """Written one row after the other, the two moves pass through a loop (anna under
    ben while ben is still under anna); whichever row goes first, the end is right."""
    anna, ben = org["anna"], org["ben"]
    anna.manager, ben.manager = ben, org["ceo"]
    rows = [anna, ben] if order == "manager first" else [ben, anna]
    User.objects.bulk_update(rows, ["manager"])
    assert_kept()
    assert team_of(ben) == ids(anna, org["cara"], org["dan"])
    assert team_of(anna) == ids(org["dan"])


def test_a_queryset_update(org):
    User.objects.filter(pk__in=[org["ben"].pk, org["dan"].pk]).update(manager=org["finn"])
    assert_kept()
    assert team_of(org["eve"]) == ids(org["finn"], org["ben"], org["cara"], org["dan"])


def test_raw_sql_updates_and_deletes(org):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE people_user SET manager_id = %s WHERE id = %s", [org["gail"].pk, org["eve"].pk]
        )
        assert_kept()
        cursor.execute(
            "UPDATE people_user SET manager_id = CASE id WHEN %s THEN %s WHEN %s THEN NULL END "
            "WHERE id IN (%s, %s)",
            [org["gail"].pk, org["cara"].pk, org["ben"].pk, org["gail"].pk, org["ben"].pk],
        )
        assert_kept()
        cursor.execute(
            "UPDATE people_user SET manager_id = NULL WHERE manager_id = %s", [org["dan"].pk]
        )
        cursor.execute("DELETE FROM people_user WHERE id = %s", [org["finn"].pk])
    assert_kept()
    assert team_of(org["ben"]) == ids(org["cara"], org["gail"], org["eve"])


def test_a_changed_id_takes_its_lines_along(org):
    """Nothing in PolicyHub changes a primary key; raw SQL might."""
    ben = org["ben"]
    new_id = max(User.objects.values_list("pk", flat=True)) + 50
    with connection.cursor() as cursor:
        cursor.execute("UPDATE people_user SET manager_id = NULL WHERE manager_id = %s", [ben.pk])
        cursor.execute("UPDATE people_user SET id = %s WHERE id = %s", [new_id, ben.pk])
    assert_kept()
    assert not ReportingLine.objects.filter(person_id=ben.pk).exists()
    assert ReportingLine.objects.filter(person_id=new_id, manager_id=org["anna"].pk).exists()


def test_copy_and_executemany_with_reports_before_their_managers(org):
    """How bench/org/bulk.py writes large tables: COPY on PostgreSQL, one INSERT run over
    many rows (executemany) on SQLite."""
    top = max(User.objects.values_list("pk", flat=True)) + 10
    columns = (
        "id, password, is_superuser, email, full_name, employee_id, job_title, location, "
        "time_zone, language, is_active, is_staff, date_joined, manager_id"
    )
    now = timezone.now().isoformat()
    rows = [
        (
            top + i,
            "!",
            False,
            f"copied{i}@example.com",
            f"Copied {i}",
            "",
            "",
            "",
            "",
            "en-gb",
            True,
            False,
            now,
            top + i - 1 if i else org["finn"].pk,
        )
        for i in range(5)
    ][::-1]  # reports before their managers
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            text = "".join(
                "\t".join("t" if v is True else "f" if v is False else str(v) for v in row) + "\n"
                for row in rows
            )
            cursor.copy_expert(f"COPY people_user ({columns}) FROM STDIN", io.StringIO(text))
        else:
            marks = ", ".join("?" * len(rows[0]))
            cursor.cursor.executemany(f"INSERT INTO people_user ({columns}) VALUES ({marks})", rows)
    assert_kept()
    assert {top + i for i in range(5)} <= team_of(org["eve"])


def test_loaddata_with_a_report_before_their_manager(org, tmp_path):
    top = max(User.objects.values_list("pk", flat=True)) + 10
    fields = {"password": "!", "date_joined": "2026-01-01T00:00:00Z", "language": "en-gb"}
    fixture = [
        {
            "model": "people.user",
            "pk": top + 2,
            "fields": {
                **fields,
                "email": "loaded2@example.com",
                "full_name": "L2",
                "manager": top + 1,
            },
        },
        {
            "model": "people.user",
            "pk": top + 1,
            "fields": {
                **fields,
                "email": "loaded1@example.com",
                "full_name": "L1",
                "manager": org["cara"].pk,
            },
        },
        # An existing person moved by the fixture (loaddata updates the row).
        {
            "model": "people.user",
            "pk": org["eve"].pk,
            "fields": {**fields, "email": org["eve"].email, "full_name": "Eve", "manager": top + 2},
        },
    ]
    path = tmp_path / "people.json"
    path.write_text(json.dumps(fixture))
    call_command("loaddata", str(path), verbosity=0)
    assert_kept()
    assert ids(org["eve"], org["finn"]) <= team_of(org["cara"])


def test_emptying_the_directory_empties_the_lines(org):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("TRUNCATE people_user CASCADE")
        else:
            cursor.execute("DELETE FROM people_user")
    assert not ReportingLine.objects.exists()


def test_a_loop_written_by_raw_sql_ends_and_breaking_it_mends_the_lines(org):
    """The services, the import and the admin refuse loops; raw SQL is not stopped. The
    triggers still end, and everyone in the loop has the whole loop, themself excepted,
    as managers (and those below it everyone in it)."""
    anna, ben, cara = org["anna"], org["ben"], org["cara"]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE people_user SET manager_id = %s WHERE id = %s", [cara.pk, anna.pk])
    assert_kept()
    assert {m for m, p in kept() if p == ben.pk} == ids(anna, cara)
    assert {m for m, p in kept() if p == org["dan"].pk} == ids(anna, ben, cara)
    assert team_of(anna) == ids(ben, cara, org["dan"])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE people_user SET manager_id = NULL WHERE id = %s", [ben.pk])
    assert_kept()
    assert team_of(ben) == ids(cara, anna, org["dan"])


# The directory's own ways in -------------------------------------------------------------------


HEADER = "email,full_name,manager_email"


def test_the_directory_import_creates_and_reorganises_the_line():
    first = [
        HEADER,
        "ana@example.com,Ana,",
        "bo@example.com,Bo,ana@example.com",
        "cy@example.com,Cy,bo@example.com",
        "di@example.com,Di,cy@example.com",
        "ed@example.com,Ed,ana@example.com",
        "fay@example.com,Fay,ed@example.com",
    ]
    report = import_people(source="\n".join(first) + "\n")
    assert report.ok and report.applied, report.errors
    assert_kept()
    # The next export promotes Cy over Bo (the rows are written with Bo first: for a
    # moment each is the other's manager), moves Ed's team under Di and adds Gus.
    second = [
        HEADER,
        "ana@example.com,Ana,",
        "bo@example.com,Bo,cy@example.com",
        "cy@example.com,Cy,ana@example.com",
        "di@example.com,Di,cy@example.com",
        "ed@example.com,Ed,di@example.com",
        "fay@example.com,Fay,ed@example.com",
        "gus@example.com,Gus,fay@example.com",
    ]
    report = import_people(source="\n".join(second) + "\n")
    assert report.ok and report.applied, report.errors
    assert_kept()
    people = {p.email.split("@")[0]: p for p in User.objects.all()}
    assert team_of(people["cy"]) == ids(*(people[n] for n in ("bo", "di", "ed", "fay", "gus")))
    assert team_of(people["bo"]) == set()


def test_a_scim_update_moves_someone(site_admin, org):
    client, token = scim_services.create_client(name="Okta", may_assign_roles=False, by=site_admin)
    scim = Scim(token)
    body = {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": str(org["finn"].pk)}
        ],
    }
    response = scim.patch(f"/Users/{org['anna'].pk}", body)
    assert response.status_code == 200, response.content
    assert_kept()
    assert team_of(org["eve"]) == ids(org["finn"], org["anna"], org["ben"], org["cara"], org["dan"])


def test_loops_are_refused_and_change_nothing(org):
    before = kept()
    with pytest.raises(services.DirectoryError):
        services.update_person(person=org["anna"], values={"manager": org["cara"]})
    assert kept() == before


def test_a_new_manager_is_checked_for_loops_in_one_lookup_however_big_the_company(org, person):
    """A manager change asks the reporting line whether the new manager is below the
    person (one query); it reads who manages whom only to name a loop it refuses."""

    def move(who, to) -> int:
        with CaptureQueriesContext(connection) as captured:
            services._check_management_chain(who, to)
        return len(captured)

    few = move(org["cara"], org["eve"])
    for n in range(30):
        person(f"extra{n}", org["gail"])
    assert move(org["cara"], org["eve"]) == few == 1
    assert move(org["dan"], org["gail"]) == 1
    with pytest.raises(services.DirectoryError, match="Manager cycle: anna@example.com"):
        services._check_management_chain(org["anna"], org["cara"])
    with pytest.raises(services.DirectoryError, match="cannot be their own manager"):
        services._check_management_chain(org["anna"], org["anna"])


# Whatever the order of the moves ---------------------------------------------------------------


def test_random_moves_keep_the_table_equal_to_the_walk(make_person):
    rng = random.Random(20261203)
    people = [
        make_person(email=f"random{i}@example.com", full_name=f"Random {i}") for i in range(60)
    ]
    for p in people[1:]:
        # A forest: a few top-level people, everyone else under someone made before.
        if rng.random() < 0.9:
            p.manager_id = rng.choice(people[: people.index(p)]).pk
    User.objects.bulk_update(people, ["manager"])
    assert_kept()
    by_id = {p.pk: p for p in people}

    def managers() -> dict[int, int | None]:
        return dict(User.objects.filter(pk__in=by_id).values_list("pk", "manager_id"))

    def loops(manager_of) -> bool:
        for start in manager_of:
            seen, at = set(), start
            while at is not None:
                if at in seen:
                    return True
                seen.add(at)
                at = manager_of.get(at)
        return False

    joined = itertools.count()
    for step in range(300):
        manager_of = managers()
        way = rng.choice(["save", "update", "bulk", "bulk", "raw", "join", "leave"])
        if way == "join":
            # A few new people in one statement, some reporting to one of the others,
            # written before them.
            top = max(User.objects.values_list("pk", flat=True)) + 1
            new = [top + i for i in range(rng.randint(1, 4))]
            rows = [
                User(
                    pk=pk,
                    email=f"joined{next(joined)}@example.com",
                    full_name="Joined",
                    manager_id=rng.choice(new[i + 1 :] or sorted(by_id)),
                )
                for i, pk in enumerate(new)
            ]
            User.objects.bulk_create(rows)
            by_id.update({row.pk: row for row in rows})
            moves = {row.pk: row.manager_id for row in rows}
        elif way == "leave":
            pk = rng.choice(sorted(by_id))
            User.objects.get(pk=pk).delete()  # their reports lose their manager
            del by_id[pk]
            moves = {pk: "deleted"}
        else:
            count = rng.randint(2, 6) if way == "bulk" else 1
            while True:
                chosen = rng.sample(sorted(by_id), count)
                moves = {
                    pk: (None if rng.random() < 0.1 else rng.choice(sorted(by_id))) for pk in chosen
                }
                after = {**manager_of, **moves}
                if all(pk != to for pk, to in moves.items()) and not loops(after):
                    break
        if way == "save":
            ((pk, to),) = moves.items()
            person = User.objects.get(pk=pk)
            person.manager_id = to
            person.save(update_fields=["manager"])
        elif way == "update":
            ((pk, to),) = moves.items()
            User.objects.filter(pk=pk).update(manager_id=to)
        elif way == "bulk":
            rows = [User(pk=pk, manager_id=to) for pk, to in moves.items()]
            User.objects.bulk_update(rows, ["manager"])
        elif way == "raw":
            ((pk, to),) = moves.items()
            with connection.cursor() as cursor:
                cursor.execute("UPDATE people_user SET manager_id = %s WHERE id = %s", [to, pk])
        assert kept() == walked(), f"step {step}: {way} {moves}"
    assert len(by_id) > 20  # people joined and left, and there are still teams


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_transactions_moving_people_in_the_same_line(person):
    """One moves a manager, the other, before the first commits, someone in that
    manager's team: the second waits (PostgreSQL: for the triggers' lock; SQLite: to
    write at all) and then writes its lines from what the first committed."""
    top, other = person("top"), person("other")
    middle = person("middle", top)
    below = person("below", middle)
    moved, waiting = threading.Event(), threading.Event()
    errors = []

    def first():
        try:
            with transaction.atomic():
                User.objects.filter(pk=middle.pk).update(manager=other)
                moved.set()
                waiting.wait(5)
                time.sleep(0.5)  # the second is now waiting for this transaction
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    def second():
        try:
            moved.wait(5)
            waiting.set()
            with transaction.atomic():
                User.objects.filter(pk=below.pk).update(manager=top)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert_kept()
    assert team_of(top) == ids(below) and team_of(other) == ids(middle)


# The migration ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_fills_the_table_for_people_already_there():
    executor = MigrationExecutor(connection)
    before = [("people", "0006_people_listed_order")]
    after = [("people", "0007_reporting_line")]
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    try:
        executor.loader.build_graph()
        apps = executor.loader.project_state(before).apps
        Person = apps.get_model("people", "User")
        now = timezone.now()

        def add(name, manager=None):
            return Person.objects.create(
                email=f"{name}@example.com",
                full_name=name,
                password="!",
                manager=manager,
                date_joined=now - timedelta(days=1),
            )

        top = add("top")
        middle = add("middle", top)
        add("leaf", middle)
        add("other", top)
        add("alone")
        loop_a = add("loop-a")
        loop_b = add("loop-b", loop_a)
        with connection.cursor() as cursor:
            # A loop written behind the services' back: the backfill still ends.
            cursor.execute(
                "UPDATE people_user SET manager_id = %s WHERE id = %s", [loop_b.pk, loop_a.pk]
            )

        executor.loader.build_graph()
        executor.migrate(after)
        assert kept() == walked()
        assert len(kept()) == 3 + 1 + 2  # leaf: 2, middle and other: 1 each, the loop: 1 each
    finally:
        executor.loader.build_graph()
        executor.migrate(latest)
    assert_kept()


# team() itself ----------------------------------------------------------------------------------


def test_team_reads_the_table_in_one_query(org, django_assert_num_queries):
    """One query once the roles are read (every page reads them first): someone at the
    top asks them whether they head everyone."""
    roles.read_roles(org["ceo"])
    with django_assert_num_queries(1) as captured:
        audience.team_ids(org["ceo"])
    assert "people_reportingline" in captured.captured_queries[0]["sql"]
    assert "RECURSIVE" not in captured.captured_queries[0]["sql"]


def test_elsewhere_team_walks_the_line_itself(org, monkeypatch):
    monkeypatch.setattr(audience, "_line_kept", lambda: False)
    services.deactivate_person(person=org["ben"])
    for manager in org.values():
        expected = {p for m, p in walked() if m == manager.pk}
        expected = set(
            User.objects.filter(pk__in=expected, is_active=True).values_list("pk", flat=True)
        )
        assert team_of(manager) == expected
        for other in org.values():
            assert audience.reports_to(other, manager) == ((manager.pk, other.pk) in walked())
