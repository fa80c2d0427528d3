"""The compliance dashboard's finished months counted by a worker (refill.fill, the
task dashboards.tasks.fill_finished_months) rather than by the first view: after a
change that forgot them, and after midnight every day. What it keeps is what a view
would have kept; a view after it counts nothing."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards import compliance, refill, summaries, tasks
from dashboards.models import MonthFigure
from dashboards.tests import test_compliance_summaries as kept_tests
from people import roles
from people import services as people_services
from people.signals import directory_changed
from policyhub import security
from policyhub.history import ACKNOWLEDGEMENTS, TRAINING, past_changed
from training.models import Booking

# The tests read the figures the view computed (and count its queries): never a kept page.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("computed_pages")]

# Two departments, a policy and a briefing, with a year of history (the kept months' tests).
history = kept_tests.history
page_trend, live_trend = kept_tests.page_trend, kept_tests.live_trend
kept_months, department_filter = kept_tests.kept_months, kept_tests.department_filter


LEAVERS = MonthFigure.Kind.LEAVERS


def kept_rows() -> list[tuple]:
    """Every kept figure (and mark) of everyone's months (what a view of everyone keeps,
    not the leavers'), without when it was counted."""
    return sorted(
        MonthFigure.objects.exclude(kind=LEAVERS).values_list(
            "kind", "month", "subject_id", "department_id", "count", "total"
        )
    )


def when_counted() -> dict[tuple, tuple]:
    """(kind, month) -> (the mark's id, when the month was counted)."""
    return {
        (kind, month): (pk, at)
        for pk, kind, month, at in MonthFigure.objects.filter(
            subject_id=MonthFigure.MARK
        ).values_list("pk", "kind", "month", "computed_at")
    }


@pytest.fixture
def asks(monkeypatch):
    """Each time a worker is asked to fill the months (the broker is not reached)."""
    asked = []
    monkeypatch.setattr(
        tasks.fill_finished_months, "apply_async", lambda **options: asked.append(options)
    )
    return asked


@pytest.fixture
def worker(monkeypatch):
    """The task runs where it is asked for, as a worker would; each ask is recorded."""
    asked = []

    def apply_async(**options):
        asked.append(options)
        tasks.fill_finished_months.apply()

    monkeypatch.setattr(tasks.fill_finished_months, "apply_async", apply_async)
    return asked


def test_the_task_counts_exactly_the_missing_months_as_a_view_would(client, policy_admin, history):
    client.force_login(policy_admin)
    page_trend(client)  # a view counts and keeps them
    by_a_view = kept_rows()
    assert kept_months() == 22
    months = compliance.last_months(timezone.now())
    summaries.forget(kind=TRAINING, since=months[7].at)  # from month 8 on
    before = when_counted()
    assert len(before) == 22 - 3  # training's months 8, 9 and 10

    # Those three, and the leavers' months (which a view of everyone does not need).
    assert tasks.fill_finished_months.apply().get() == 3 + 11

    after = when_counted()
    assert len(after) == 22 + 11
    assert {key: after[key] for key in before} == before  # the others left alone
    assert kept_rows() == by_a_view
    # Everything forgotten: all 33, everyone's the same rows as the view kept.
    summaries.forget()
    assert tasks.fill_finished_months.apply().get() == 33
    assert kept_rows() == by_a_view
    # And the dashboard, reading them (filtered too), shows the live count.
    assert page_trend(client) == live_trend()
    sales = history["sales"]
    assert page_trend(client, department=sales.pk) == live_trend(filters=department_filter(sales))
    assert kept_months() == 22


def test_running_it_again_reads_once_and_writes_nothing(history, django_assert_num_queries):
    assert refill.fill() == 33
    before = list(MonthFigure.objects.values_list("pk", "computed_at").order_by("pk"))
    with django_assert_num_queries(1):
        assert tasks.fill_finished_months.apply().get() == 0
    assert list(MonthFigure.objects.values_list("pk", "computed_at").order_by("pk")) == before


def test_a_burst_of_forgets_in_one_transaction_asks_once_when_it_commits(
    history, asks, django_capture_on_commit_callbacks
):
    refill.fill()
    person = history["people"][0]
    group = Group.objects.get_or_create(name=roles.COMMS)[0]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        person.groups.add(group)  # training's months forgotten
        person.groups.remove(group)
        past_changed.send(sender=None, kind=ACKNOWLEDGEMENTS, since=None)  # and the rest
        directory_changed.send(sender=type(person))
        assert kept_months() == 0
        assert asks == []  # not before the change commits
    for callback in callbacks:
        callback()
    assert asks == [{"retry": False}]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_each_change_that_forgets_months_asks_once_as_it_commits(asks, history):
    """With real commits: a change asks for one fill when it commits, however many ways
    it forgets; a change that finds nothing kept asks for nothing."""
    person = history["people"][0]
    people_services.update_person(person=person, values={"department": "Sales"})
    assert asks == []  # (nor did building the history: nothing was kept)
    refill.fill()
    group = Group.objects.get_or_create(name=roles.COMMS)[0]
    with transaction.atomic():
        person.groups.add(group)
        past_changed.send(sender=None, kind=ACKNOWLEDGEMENTS, since=None)
        person.groups.remove(group)
        assert kept_months() == 0
        assert asks == []
    assert asks == [{"retry": False}]
    refill.fill()
    people_services.update_person(person=person, values={"department": "Support"})
    assert kept_months() == 0
    assert asks == [{"retry": False}] * 2
    people_services.update_person(person=person, values={"department": "Sales"})
    assert asks == [{"retry": False}] * 2  # nothing kept since: nothing to count again


def test_after_a_change_the_worker_counts_and_the_next_view_counts_nothing(
    client, policy_admin, history, worker, monkeypatch, django_capture_on_commit_callbacks
):
    # The session's idle limit is pushed back (a write) at most once a minute: the clock
    # stands still, so that neither view pays for it.
    stopped = security._now()
    monkeypatch.setattr(security, "_now", lambda: stopped)
    client.force_login(policy_admin)
    page_trend(client)
    with django_capture_on_commit_callbacks(execute=True):
        people_services.update_person(person=history["people"][1], values={"department": "Sales"})
    assert worker == [{"retry": False}]
    assert kept_months() == 22
    counted = when_counted()

    def view() -> int:
        with CaptureQueriesContext(connection) as context:
            trend = page_trend(client)
        assert trend == live_trend()
        return len(context.captured_queries)

    first = view()
    assert first <= view()
    assert when_counted() == counted  # nothing counted again by the view


def test_beat_fills_the_months_shortly_after_midnight_every_day(settings, monkeypatch):
    from policyhub.celery import app

    entry = app.conf.beat_schedule["fill-compliance-months"]
    assert entry["task"] == "dashboards.tasks.fill_finished_months"
    assert entry["task"] == tasks.fill_finished_months.name
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert (schedule.hour, schedule.minute) == ({0}, {5})
    assert schedule.day_of_week == set(range(7))
    assert schedule.day_of_month == set(range(1, 32))
    assert schedule.month_of_year == set(range(1, 13))
    # At midnight where the months end: a month that ended a minute ago is five minutes
    # from being kept.
    assert app.conf.timezone == settings.TIME_ZONE
    midnight = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(schedule, "nowfun", lambda: midnight + timedelta(minutes=1))
    yesterday = midnight - timedelta(days=1) + timedelta(minutes=5)
    assert schedule.remaining_estimate(yesterday) == timedelta(minutes=4)


def test_counted_months_are_kept_in_one_insert_and_not_read_back(db):
    months = compliance.last_months(timezone.now())
    finished = summaries.FinishedMonths(months, compliance.Filters())
    counted = {(k, 7, None): [1, 2] for k in range(11)}
    with CaptureQueriesContext(connection) as context:
        assert finished.acknowledgements(lambda missing: counted, None) == [(1, 2)] * 11
    # Of the kept figures (the generation, read before counting, is counted apart).
    statements = [
        query["sql"].split()[0].upper()
        for query in context.captured_queries
        if '"dashboards_monthfigure"' in query["sql"]
    ]
    assert statements.count("SELECT") == 1  # the read before counting, none after
    assert statements.count("INSERT") == 1  # the marks and the figures together
    assert kept_months() == 11
    assert (
        summaries.FinishedMonths(months, compliance.Filters()).acknowledgements(
            lambda missing: pytest.fail("counted again"), None
        )
        == [(1, 2)] * 11
    )


def test_months_another_view_kept_first_are_shown_as_it_kept_them(db):
    """Two views count the same missing months at once: the second one's keeping is
    refused, and it shows what the first kept (as every later view will)."""
    months = compliance.last_months(timezone.now())
    finished = summaries.FinishedMonths(months, compliance.Filters())

    def count(missing):
        other = summaries.FinishedMonths(months, compliance.Filters())
        other.acknowledgements(lambda missing: {(k, 7, None): [3, 4] for k in range(11)}, None)
        return {(k, 7, None): [1, 2] for k in range(11)}

    assert finished.acknowledgements(count, None) == [(3, 4)] * 11
    assert kept_months() == 11


# --- a change that commits while months are being counted -----------------------------


def test_months_counted_while_a_change_forgot_them_are_not_kept(history, monkeypatch):
    """The count reads the data, then a change commits and forgets (nothing kept yet, so
    nothing to delete): what was counted from before it must not be kept."""
    count = refill.compliance_trend.coverage_counts

    def counted_then_a_change(*args, **kwargs):
        found = count(*args, **kwargs)
        summaries.forget(kind=TRAINING)  # the change's forget, while the count runs
        return found

    monkeypatch.setattr(refill.compliance_trend, "coverage_counts", counted_then_a_change)
    refill.fill()
    assert not MonthFigure.objects.filter(kind=TRAINING).exists()
    # Counted after it: everyone's acknowledgements, and the leavers'.
    assert MonthFigure.objects.filter(kind=ACKNOWLEDGEMENTS).exists()
    assert MonthFigure.objects.filter(kind=LEAVERS).exists()
    monkeypatch.undo()
    assert refill.fill() == 11  # the next count keeps them
    assert kept_months() == 22


def test_a_count_started_before_a_forget_keeps_nothing(history):
    generation = summaries.current_generation()
    months = [m for m in compliance.last_months(timezone.now()) if not m.to_date]
    summaries.forget()
    assert summaries.current_generation() == generation + 1
    assert not summaries.keep(TRAINING, months[:1], {}, generation=generation)
    assert not MonthFigure.objects.exists()
    assert summaries.keep(TRAINING, months[:1], {}, generation=generation + 1)
    assert MonthFigure.objects.count() == 1


def test_months_end_in_the_sites_time_zone_whoever_counts_them_first(client, policy_admin, history):
    """The finished months are kept once for everyone: a viewer in another time zone who
    counts them first cuts them at the site's month ends, as the worker does."""
    months = compliance.last_months(timezone.now())
    # Attended 3 hours before month 4 ends in the site's zone: in Tokyo, month 5 already.
    session = history["month_10"]
    session.starts_at = months[4].at - timedelta(hours=3)
    session.ends_at = session.starts_at + timedelta(hours=1)
    session.save()
    Booking.objects.filter(pk=history["unmarked"].pk).update(status=Booking.Status.ATTENDED)
    policy_admin.time_zone = "Asia/Tokyo"
    policy_admin.save()
    client.force_login(policy_admin)
    in_tokyo = page_trend(client)  # counts and keeps the months
    policy_admin.time_zone = ""
    policy_admin.save()
    assert page_trend(client) == live_trend() == in_tokyo


# A keep in progress holds the generation's row: on PostgreSQL a forget on another
# connection waits for it. (SQLite has one writer at a time; a skipped test fails CI,
# which runs the suite on both, so this test exists only on PostgreSQL.)
if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":

    @pytest.mark.service
    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_a_forget_waits_for_months_being_kept_then_deletes_them():
        months = [m for m in compliance.last_months(timezone.now()) if not m.to_date]
        generation = summaries.current_generation()

        def forget_elsewhere():
            try:
                return summaries.forget()
            finally:
                connections.close_all()

        with ThreadPoolExecutor(1) as pool:
            with transaction.atomic():
                assert summaries.keep(
                    TRAINING, months[:1], {(0, 7, None): 3}, generation=generation
                )
                forgetting = pool.submit(forget_elsewhere)
                time.sleep(0.5)
                assert not forgetting.done()  # waiting for this transaction
            assert forgetting.result(timeout=30) == 2  # the mark and the figure, committed
        assert not MonthFigure.objects.exists()
        assert summaries.current_generation() == generation + 1

    @pytest.mark.service
    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_a_keep_does_not_wait_for_a_change_that_forgot_and_has_not_committed():
        months = [m for m in compliance.last_months(timezone.now()) if not m.to_date]
        generation = summaries.current_generation()
        forgot, done = threading.Event(), threading.Event()

        def change_in_progress() -> bool:
            """True if the change had to give up waiting: the keep waited for it."""
            try:
                with transaction.atomic():
                    summaries.forget(kind=TRAINING)  # holds the generation until commit
                    forgot.set()
                    return not done.wait(timeout=30)
            finally:
                connections.close_all()

        with ThreadPoolExecutor(1) as pool:
            changing = pool.submit(change_in_progress)
            assert forgot.wait(timeout=30)
            assert not summaries.keep(TRAINING, months[:1], {}, generation=generation)
            done.set()  # the change commits only now: the keep did not wait for it
            assert changing.result(timeout=60) is False
        assert not MonthFigure.objects.exists()
