"""The heatmap's tally (`dashboards.tally`, PostgreSQL) equals a live count of the
assignments after every kind of change, and the heatmap's figures read from it equal
the figures counted from the assignments themselves, for everyone, the head of the whole
line, department filters and totals only; two changes at once that touch the same
person are counted as they committed; signing in never waits for the tally.

SQLite keeps no tally (the heatmap counts live there, which the rest of the suite
shows); a skipped test fails CI, which runs the suite on both, so the tests that need
the tally exist only on PostgreSQL."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards import compliance, tally
from people import services as people_services
from people.audience import heads_everyone_else
from people.models import Department, User
from policies import services as policy_services
from policies.models import Assignment, Policy, PolicyVersion
from policies.services.assignments import add_assignments
from policies.tests.factories import BODY_2, publish_version, published_policy

POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.mark.django_db
def test_sqlite_keeps_no_tally_and_the_heatmap_counts_live():
    assert tally.available() is POSTGRESQL
    assert tally.check()  # nothing to compare where there is none (always equal on PG here)


if POSTGRESQL:

    def kept() -> dict:
        with connection.cursor() as cursor:
            return tally._summed(
                cursor,
                f"SELECT {tally.KEY}, sum(n) FROM {tally.TABLE} GROUP BY {tally.GROUPS}",  # noqa: S608
            )

    def live() -> dict:
        with connection.cursor() as cursor:
            assignment, person = tally._tables()
            return tally._summed(cursor, tally._counted(assignment, "", person))

    def figures(scope, filters, *, by_department=True, counted=True) -> list:
        """The heatmap's grouped rows, from the tally (`counted`) or the assignments."""
        ids = sorted(
            pk for line in compliance.version_lines().current(None) for pk in line.version_ids
        )
        if counted:
            assert tally.available()
            found = compliance._counted(scope, filters, ids, by_department)
        else:
            with mock.patch.object(tally, "available", lambda: False):
                found = list(compliance._counted(scope, filters, ids, by_department))
        return sorted(tuple(-1 if v is None else int(v) for v in row) for row in found)

    @pytest.fixture
    def world(make_person, policy_admin, leader):
        """A head of the whole line (everyone else active reports to them, directly or
        through others), people in Sales, Support and none; two policies."""
        boss = make_person(full_name="Boss")
        sales = Department.objects.create(name="Sales")
        support = Department.objects.create(name="Support")
        ann = make_person(full_name="Ann", department=sales, manager=boss)
        ben = make_person(full_name="Ben", department=sales, manager=ann)
        pat = make_person(full_name="Pat", department=support, manager=boss)
        nia = make_person(full_name="Nia", manager=boss)
        User.objects.exclude(pk=boss.pk).filter(manager__isnull=True).update(manager=boss)
        conduct, first = published_policy(title="Conduct", owner=policy_admin, approver=leader)
        rota, rota_version = published_policy(
            title="Rota",
            owner=policy_admin,
            approver=leader,
            audience=Policy.Audience.DEPARTMENTS,
            departments=[support],
        )
        return {
            "boss": User.objects.get(pk=boss.pk),
            "sales": sales,
            "support": support,
            "departments": (sales.pk, support.pk),
            "people": {"ann": ann, "ben": ben, "pat": pat, "nia": nia},
            "conduct": conduct,
            "first": first,
            "rota": rota_version,
            "admin": policy_admin,
            "leader": leader,
        }

    def same_everywhere(world) -> None:
        """The tally equals a live count, and every way the heatmap reads it equals the
        live query's figures."""
        assert kept() == live()
        sales, support = world["departments"]
        boss = world["boss"]
        scopes = [
            compliance.Scope(everyone=True),
            compliance.Scope(everyone=False, person_ids=(), head=boss),
        ]
        filters = [
            compliance.Filters(),
            compliance.Filters(department_ids=frozenset({sales})),
            compliance.Filters(department_ids=frozenset({sales, support})),
            compliance.Filters(no_department=True),
        ]
        assert heads_everyone_else(boss)
        for scope in scopes:
            for narrowed in filters:
                for by_department in (True, False):
                    assert figures(scope, narrowed, by_department=by_department) == figures(
                        scope, narrowed, by_department=by_department, counted=False
                    ), (scope, narrowed, by_department)

    def acknowledge(version, person):
        policy_services.acknowledge(version=version, user=person, full_name=person.full_name)

    @pytest.mark.django_db
    def test_the_tally_equals_a_live_count_after_every_kind_of_change(world):
        people = world["people"]
        admin, leader = world["admin"], world["leader"]
        assert kept()  # counted from the start: the first versions' assignments
        same_everywhere(world)

        acknowledge(world["first"], people["ann"])  # acknowledge
        acknowledge(world["rota"], people["pat"])
        same_everywhere(world)
        policy_services.decline(version=world["first"], user=people["ben"], reason="No.")
        same_everywhere(world)  # decline

        minor = publish_version(  # a minor version keeps the line's acknowledgements
            world["conduct"],
            author=admin,
            approver=leader,
            body=BODY_2,
            change=PolicyVersion.Change.MINOR,
        )
        acknowledge(minor, people["nia"])
        same_everywhere(world)
        publish_version(world["conduct"], author=admin, approver=leader, body="Third.")
        same_everywhere(world)  # a new version: new assignments, the old line closed

        joiner = people_services.create_person(  # join
            values={"email": "joe@example.com", "full_name": "Joe", "department": "Support"}
        )
        User.objects.filter(pk=joiner.pk).update(manager=world["boss"])
        policy_services.reconcile_assignments()
        same_everywhere(world)

        people_services.update_person(person=people["ann"], values={"department": "Support"})
        same_everywhere(world)  # moved: their assignments move with them
        people_services.update_person(person=people["nia"], values={"department": "Sales"})
        policy_services.reconcile_assignments()  # moved into Support: the rota too
        same_everywhere(world)

        people_services.deactivate_person(person=people["pat"])  # leave
        policy_services.reconcile_assignments()
        same_everywhere(world)
        people_services.update_person(person=people["pat"], values={"active": True})
        policy_services.reconcile_assignments()  # back: their assignments open again
        same_everywhere(world)

        world["sales"].delete()  # their people have no department now
        same_everywhere(world)
        Assignment.objects.filter(person=people["ben"]).delete()  # deleted
        User.objects.filter(pk=people["ben"].pk).delete()
        same_everywhere(world)

        with connection.cursor() as cursor:  # SQL typed by hand, several rows at once
            cursor.execute(
                "UPDATE policies_assignment SET status = 'acknowledged', "
                "completed_at = now() WHERE status = 'open'"
            )
            cursor.execute("UPDATE people_user SET department_id = NULL")
        same_everywhere(world)
        assert tally.check()

    @pytest.mark.django_db
    def test_a_check_counts_a_wrong_tally_again(world):
        acknowledge(world["first"], world["people"]["ann"])
        assert tally.check()
        with connection.cursor() as cursor:  # a tally that no longer counts right
            cursor.execute(
                f"INSERT INTO {tally.TABLE} ({tally.KEY}, n) "  # noqa: S608
                "VALUES (%s, 0, true, 'open', false, 5)",
                [world["first"].pk],
            )
        assert kept() != live()
        assert not tally.check()
        assert kept() == live()
        assert tally.check()

    @pytest.mark.django_db
    def test_migrate_makes_a_missing_trigger_again_and_counts_from_scratch(world):
        with connection.cursor() as cursor:
            cursor.execute(
                f"DROP TRIGGER {tally.TABLE}_moved ON people_user; DELETE FROM {tally.TABLE}"  # noqa: S608
            )
        tally._AVAILABLE.clear()
        assert not tally.available()
        tally.install()
        assert tally.available()
        assert kept() == live() and kept()
        people_services.update_person(person=world["people"]["pat"], values={"department": "Sales"})
        assert kept() == live()

    @pytest.mark.django_db
    def test_the_heatmap_reads_the_tally_not_the_assignments(world):
        boss = world["boss"]
        for scope in (
            compliance.Scope(everyone=True),
            compliance.Scope(everyone=False, person_ids=(), head=boss),
        ):
            with CaptureQueriesContext(connection) as queries:
                figures(scope, compliance.Filters())
            sql = [query["sql"] for query in queries.captured_queries]
            assert any(tally.TABLE in text for text in sql)
            # The head's own assignments are read (one person's), no one else's.
            read = [text for text in sql if "policies_assignment" in text]
            assert len(read) == (0 if scope.everyone else 1)
            assert all(f'"person_id" = {boss.pk}' in text for text in read)

    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_a_read_folds_the_rows_once_there_are_many_and_no_sum_changes(world, monkeypatch):
        for person in world["people"].values():
            acknowledge(world["first"], person)
        people_services.update_person(
            person=world["people"]["ann"], values={"department": "Support"}
        )
        before = kept()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {tally.TABLE}")  # noqa: S608
            rows = cursor.fetchone()[0]
            monkeypatch.setattr(tally, "FOLD_AT", 1)
            monkeypatch.setattr(tally, "KEYS_PER_CELL", 0)
            figures(compliance.Scope(everyone=True), compliance.Filters())
            cursor.execute(f"SELECT count(*) FROM {tally.TABLE}")  # noqa: S608
            assert cursor.fetchone()[0] < rows
        assert kept() == before == live()

    @pytest.mark.django_db
    def test_a_disabled_trigger_means_no_tally(world):
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no checks left pending
            cursor.execute(f"ALTER TABLE people_user DISABLE TRIGGER {tally.TABLE}_moved")
        tally._AVAILABLE.clear()
        assert not tally.available()
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE people_user ENABLE TRIGGER {tally.TABLE}_moved")
        assert tally.available()

    # --- two changes at once -----------------------------------------------------------

    def _blocked(pid: int) -> bool:
        """Whether the backend `pid` waits for a lock another transaction holds."""
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", [pid])
            return cursor.fetchone()[0]

    def _at_once(first, second) -> None:
        """`first` runs in a transaction that stays open until `second` (another
        transaction, another connection) waits for it; then both commit."""
        started, finish = threading.Event(), threading.Event()
        pids = []

        def hold():
            try:
                with transaction.atomic():
                    first()
                    started.set()
                    assert finish.wait(20)
            finally:
                connection.close()

        def then():
            try:
                connection.ensure_connection()
                pids.append(connection.connection.info.backend_pid)
                with transaction.atomic():
                    second()
            finally:
                connection.close()

        with ThreadPoolExecutor(2) as pool:
            held = pool.submit(hold)
            assert started.wait(20)
            waiting = pool.submit(then)
            deadline = time.monotonic() + 20
            while not (pids and _blocked(pids[0])):
                assert time.monotonic() < deadline, "the second change never waited"
                assert not waiting.done(), waiting.result()
                time.sleep(0.05)
            finish.set()
            held.result(), waiting.result()

    def _assign(world, person):
        add_assignments(
            version=world["first"],
            person_ids={person.pk},
            due_date=timezone.localdate(),
            now=timezone.now(),
        )

    @pytest.fixture
    def moving(world):
        """A person with no assignment of the first version yet, and a department."""
        person = world["people"]["nia"]
        Assignment.objects.filter(person=person).delete()
        User.objects.filter(pk=person.pk).update(department=world["sales"])
        return person

    def _move(person, department):
        return lambda: User.objects.filter(pk=person.pk).update(department=department)

    @pytest.mark.service
    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_a_new_assignment_waits_for_its_person_being_moved(world, moving):
        _at_once(_move(moving, world["support"]), lambda: _assign(world, moving))
        assert kept() == live()
        assert live()[(world["first"].pk, world["support"].pk, True, "open", False)] >= 1

    @pytest.mark.service
    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_a_move_waits_for_a_new_assignment_of_the_person(world, moving):
        _at_once(lambda: _assign(world, moving), _move(moving, world["support"]))
        assert kept() == live()

    @pytest.mark.service
    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_a_move_and_an_acknowledgement_of_the_same_person_wait_for_each_other(world):
        ann = world["people"]["ann"]
        _at_once(
            lambda: acknowledge(world["first"], ann),
            _move(ann, world["support"]),
        )
        assert kept() == live()
        pat = world["people"]["pat"]
        _at_once(
            _move(pat, world["sales"]),
            lambda: acknowledge(world["first"], pat),
        )
        assert kept() == live()
        key = (world["first"].pk, world["sales"].pk, True, "acknowledged", True)
        assert live()[key] == kept()[key] == 1

    @pytest.mark.service
    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_publishing_and_a_move_of_someone_in_its_audience_do_not_deadlock(world):
        """Either waits for the other, in both orders: publishing closes the open
        assignments, then adds the new version's, while the person is moved (the
        directory's service locks them first)."""
        admin, leader, pat = world["admin"], world["leader"], world["people"]["pat"]

        def publish(body):
            return lambda: publish_version(
                world["conduct"], author=admin, approver=leader, body=body
            )

        def move(department):
            return lambda: people_services.update_person(
                person=pat, values={"department": department}
            )

        _at_once(move("Sales"), publish("Second."))
        assert kept() == live()
        _at_once(publish("Third."), move("Support"))
        assert kept() == live()
        assert live()[
            (world["conduct"].versions.latest("pk").pk, world["support"].pk, True, "open", False)
        ]

    @pytest.mark.service
    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_signing_in_never_waits_for_assignments_being_written(world, moving):
        """Nor does a new name or a new manager: only a move waits."""
        started, finish = threading.Event(), threading.Event()

        def hold():
            try:
                with transaction.atomic():
                    _assign(world, moving)
                    acknowledge(world["first"], world["people"]["ann"])
                    started.set()
                    assert finish.wait(20)
            finally:
                connection.close()

        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(hold)
            assert started.wait(20)
            try:
                for person in (moving, world["people"]["ann"]):
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = '2s'")
                        User.objects.filter(pk=person.pk).update(last_login=timezone.now())
                        User.objects.filter(pk=person.pk).update(
                            full_name="Renamed", manager=world["boss"]
                        )
            finally:
                finish.set()
                held.result()
        assert kept() == live()
