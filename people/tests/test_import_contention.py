"""An import that meets another write in its way: a clear message, nothing imported.

PostgreSQL: the import and another transaction each hold a person the other wants (a
deadlock; the database rolls the import back). SQLite: another connection holds the
file for longer than the import may wait. Either way the page says to try again,
rather than failing with a server error, and the other write is not lost."""

import threading
import time

import pytest
from django.db import OperationalError, connection, transaction

from people.importer import _CHANGED_MEANWHILE, import_people
from people.models import User
from people.tests.test_import import csv_text, person
from policyhub.db import contention


def _in_background(work, errors: list) -> threading.Thread:
    """`work` started in a thread of its own (its own connection, closed after it); what
    it raises goes to `errors`."""

    def run():
        try:
            work()
        except Exception as error:  # pragma: no cover - reported by the test
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _blocked(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT cardinality(pg_blocking_pids(%s))", [pid])
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_in_the_way_of_another_write_says_so_and_imports_nothing():
    ana = person("ana@example.com", "Ana Lima")
    bea = person("bea@example.com", "Bea Boss")
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            importer = cursor.fetchone()[0]
    else:
        # Not the 20 s a real write may wait: the test would only be slower.
        connection.ensure_connection()
        connection.connection.execute("PRAGMA busy_timeout = 200")
    holding, finished = threading.Event(), threading.Event()
    errors = []

    def other_write():
        with transaction.atomic():
            User.objects.filter(pk=bea.pk).update(job_title="Held")
            holding.set()
            if postgresql:
                # Once the import waits for Bea (having updated Ana), want Ana: a
                # deadlock, found by the import, which has waited longer.
                deadline = time.monotonic() + 20
                while not _blocked(importer) and time.monotonic() < deadline:
                    time.sleep(0.02)
                # Half a second later than the import: its deadlock check, a second
                # after it began to wait, comes first, so it is the one rolled back.
                time.sleep(0.5)
                User.objects.filter(pk=ana.pk).update(location="Porto")
            else:
                finished.wait(20)

    thread = _in_background(other_write, errors)
    try:
        assert holding.wait(20)
        report = import_people(
            source=csv_text(
                "ana@example.com,Ana Lima-Costa,,,,,,,,",
                "bea@example.com,Bea Boss-Lee,,,,,,,,",
            )
        )
    finally:
        finished.set()
        thread.join(30)
        if not postgresql:
            connection.connection.execute("PRAGMA busy_timeout = 20000")
    assert not errors
    assert [(error.line, error.message) for error in report.errors] == [
        (0, str(_CHANGED_MEANWHILE))
    ]
    assert not report.applied
    ana.refresh_from_db()
    bea.refresh_from_db()
    assert (ana.full_name, bea.full_name) == ("Ana Lima", "Bea Boss")  # nothing imported
    assert bea.job_title == "Held"  # the other write was kept
    if postgresql:
        assert ana.location == "Porto"


def test_only_a_write_that_lost_to_another_is_contention():
    class Cause(Exception):
        def __init__(self, pgcode):
            self.pgcode = pgcode

    def wrapped(message, pgcode=None):
        error = OperationalError(message)
        error.__cause__ = Cause(pgcode) if pgcode else None
        return error

    assert contention(wrapped("deadlock detected", "40P01"))
    assert contention(wrapped("could not serialize access", "40001"))
    assert contention(wrapped("canceling statement due to lock timeout", "55P03"))
    assert contention(wrapped("database is locked"))
    assert not contention(wrapped("server closed the connection unexpectedly", "08006"))
    assert not contention(wrapped("disk I/O error"))
    assert not contention(ValueError("database is locked"))


@pytest.mark.django_db
def test_any_other_database_failure_is_not_hidden(monkeypatch):
    import people.importer

    def broken(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(people.importer, "_check_plan_apply", broken)
    with pytest.raises(OperationalError):
        import_people(source=csv_text("ana@example.com,Ana Lima,,,,,,,,"))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_change_of_language_does_not_hold_up_writes_that_refer_to_the_person():
    """Choosing a language locks the person's row only against other changes of it
    (PostgreSQL's FOR NO KEY UPDATE): joining a group, which refers to them, goes on
    while it is open. SQLite writes one transaction at a time, so there it waits."""
    from django.contrib.auth.models import Group

    from people.services import set_language

    ana = person("ana@example.com", "Ana Lima")
    group = Group.objects.create(name="Readers")
    chosen, joined = threading.Event(), threading.Event()
    errors = []

    def choose_language():
        with transaction.atomic():
            set_language(person=User.objects.get(pk=ana.pk), language="fr")
            chosen.set()
            joined.wait(10)  # held open until the other write is done

    thread = _in_background(choose_language, errors)
    try:
        assert chosen.wait(20)
        if connection.vendor == "postgresql":
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                ana.groups.add(group)  # refused after 2 s if the row were locked FOR UPDATE
            joined.set()
    finally:
        joined.set()
        thread.join(30)
    if connection.vendor != "postgresql":
        ana.groups.add(group)
    assert not errors
    ana.refresh_from_db()
    assert ana.language == "fr" and list(ana.groups.all()) == [group]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failure_after_the_import_committed_is_not_reported_as_nothing_imported():
    """What follows a committed import (the directory's signal, run on commit) may meet
    a locked database too; the import is in by then, so its failure is raised as it is,
    not turned into "nothing was imported"."""
    from people.signals import directory_changed

    def locked(**kwargs):
        raise OperationalError("database is locked")

    directory_changed.connect(locked, dispatch_uid="test-locked")
    try:
        with pytest.raises(OperationalError):
            import_people(source=csv_text("ana@example.com,Ana Lima,,,,,,,,"))
    finally:
        directory_changed.disconnect(dispatch_uid="test-locked")
    assert User.objects.filter(email="ana@example.com").exists()  # imported
