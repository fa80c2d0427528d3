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
    def test_folding_keeps_every_sum_and_a_check_counts_a_wrong_tally_again(world):
        acknowledge(world["first"], world["people"]["ann"])
        people_services.update_person(
            person=world["people"]["ann"], values={"department": "Support"}
        )
        before = kept()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {tally.TABLE}")  # noqa: S608
            rows = cursor.fetchone()[0]
            tally.fold()
            cursor.execute(f"SELECT count(*) FROM {tally.TABLE}")  # noqa: S608
            assert cursor.fetchone()[0] < rows
        assert kept() == before == live()

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

    # --- two changes at once -----------------------------------------------------------

    def _waiting(kind: str) -> bool:
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = %s", [kind]
            )
            return cursor.fetchone()[0] > 0

    def _in_thread(work):
        try:
            return work()
        finally:
            connection.close()

    def _at_once(first, second, wait_kind: str) -> None:
        """`first` runs in a transaction that stays open until `second` (another
        transaction) waits for a lock of `wait_kind`; then both commit."""
        started, finish = threading.Event(), threading.Event()

        def hold():
            with transaction.atomic():
                first()
                started.set()
                assert finish.wait(20)

        with ThreadPoolExecutor(2) as pool:
            held = pool.submit(_in_thread, hold)
            assert started.wait(20)

            def then():
                with transaction.atomic():
                    second()

            waiting = pool.submit(_in_thread, then)
            deadline = time.monotonic() + 20
            while not _waiting(wait_kind):
                assert time.monotonic() < deadline, f"the second change never waited ({wait_kind})"
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
        _at_once(_move(moving, world["support"]), lambda: _assign(world, moving), "advisory")
        assert kept() == live()
        assert live()[(world["first"].pk, world["support"].pk, True, "open", False)] >= 1

    @pytest.mark.service
    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_a_move_waits_for_a_new_assignment_of_the_person(world, moving):
        _at_once(lambda: _assign(world, moving), _move(moving, world["support"]), "advisory")
        assert kept() == live()

    @pytest.mark.service
    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_a_move_and_an_acknowledgement_of_the_same_person_wait_for_each_other(world):
        ann = world["people"]["ann"]
        _at_once(
            lambda: acknowledge(world["first"], ann),
            _move(ann, world["support"]),
            "transactionid",
        )
        assert kept() == live()
        pat = world["people"]["pat"]
        _at_once(
            _move(pat, world["sales"]),
            lambda: acknowledge(world["first"], pat),
            "transactionid",
        )
        assert kept() == live()
        key = (world["first"].pk, world["sales"].pk, True, "acknowledged", True)
        assert live()[key] == kept()[key] == 1

    @pytest.mark.service
    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_signing_in_never_waits_for_assignments_being_added(world, moving):
        started, finish = threading.Event(), threading.Event()

        def hold():
            with transaction.atomic():
                _assign(world, moving)
                started.set()
                assert finish.wait(20)

        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(_in_thread, hold)
            assert started.wait(20)
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                    User.objects.filter(pk=moving.pk).update(last_login=timezone.now())
            finally:
                finish.set()
                held.result()
        assert kept() == live()
