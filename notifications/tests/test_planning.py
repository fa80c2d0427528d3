from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification, OptOut, Preference
from notifications.registry import unregister
from notifications.scheduling import next_digest_time
from notifications.services import plan_due
from notifications.tests.kinds import register_everyone_kinds

UTC = ZoneInfo("UTC")
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("example_kinds")]


def at(text: str, zone: str = "UTC") -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def test_planner_run_twice_plans_nothing_new(make_person):
    for _ in range(3):
        make_person(job_title="")
    now = at("2026-11-25 10:00")
    first = plan_due(now=now)
    assert first.planned["example-profile-incomplete"] == 3
    count = Notification.objects.count()
    second = plan_due(now=now)
    assert second.total == 0
    assert Notification.objects.count() == count


def test_rows_carry_the_typed_subject_stage_and_dedupe_key(make_person):
    person = make_person(job_title="")
    plan_due(now=at("2026-11-25 10:00"))
    row = Notification.objects.get(kind="example-profile-incomplete")
    assert row.subject == person and row.recipient == person and row.stage == "first"
    assert row.status == Notification.Status.PLANNED and row.attempts == 0
    assert row.dedupe_key.startswith("example-profile-incomplete:")


def test_non_urgent_rows_wait_for_nine_in_each_persons_time_zone(make_person):
    tokyo = make_person(job_title="", time_zone="Asia/Tokyo")
    new_york = make_person(job_title="", time_zone="America/New_York")
    # Wednesday 25 November 2026, 12:00 UTC: 21:00 in Tokyo, 07:00 in New York.
    plan_due(now=at("2026-11-25 12:00"))
    by_person = {row.recipient_id: row for row in Notification.objects.all()}
    assert by_person[tokyo.pk].digest and by_person[new_york.pk].digest
    assert by_person[tokyo.pk].send_after == at("2026-11-26 09:00", "Asia/Tokyo")
    assert by_person[new_york.pk].send_after == at("2026-11-25 09:00", "America/New_York")


@pytest.mark.parametrize(
    "after, expected",
    [
        ("2026-11-25 08:59", "2026-11-25 09:00"),  # Wednesday before nine: today
        ("2026-11-25 09:00", "2026-11-25 09:00"),
        ("2026-11-25 09:01", "2026-11-26 09:00"),
        ("2026-11-27 10:00", "2026-11-30 09:00"),  # Friday after nine: Monday
        ("2026-11-28 07:00", "2026-11-30 09:00"),  # Saturday: Monday
        ("2026-11-29 23:59", "2026-11-30 09:00"),  # Sunday night: Monday
    ],
)
def test_digest_time_is_nine_on_the_next_working_day(after, expected):
    zone = "Europe/Berlin"
    assert next_digest_time(at(after, zone), zone) == at(expected, zone)


def test_digest_time_stays_at_nine_across_daylight_saving():
    # Europe/London leaves summer time on Sunday 25 October 2026.
    after = at("2026-10-23 12:00", "Europe/London")  # Friday, UTC+1
    digest = next_digest_time(after, "Europe/London")
    assert digest == at("2026-10-26 09:00", "Europe/London")
    assert digest.astimezone(UTC).hour == 9  # GMT again: 09:00 local is 09:00 UTC
    assert (
        next_digest_time(at("2026-10-22 12:00", "Europe/London"), "Europe/London")
        .astimezone(UTC)
        .hour
        == 8
    )  # still summer time


def test_person_without_time_zone_uses_the_sites(make_person, settings):
    settings.TIME_ZONE = "Europe/Paris"
    make_person(job_title="", time_zone="")
    plan_due(now=at("2026-11-25 12:00"))
    row = Notification.objects.get(kind="example-profile-incomplete")
    assert row.send_after == at("2026-11-26 09:00", "Europe/Paris")


def test_immediate_preference_plans_for_now(make_person):
    person = make_person(job_title="")
    Preference.objects.create(user=person, delivery=Preference.Delivery.IMMEDIATE)
    now = at("2026-11-28 15:00")  # a Saturday afternoon
    plan_due(now=now)
    row = Notification.objects.get(kind="example-profile-incomplete")
    assert not row.digest and row.send_after == now


def test_optional_kind_is_not_planned_for_people_who_switched_it_off(make_person):
    keen = make_person(job_title="x", location="")
    not_keen = make_person(job_title="x", location="")
    OptOut.objects.create(user=not_keen, kind="example-optional-tip")
    plan_due(now=at("2026-11-25 10:00"))
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [keen.pk]


def test_inactive_people_get_nothing(make_person):
    make_person(job_title="", is_active=False)
    assert plan_due(now=at("2026-11-25 10:00")).total == 0


def test_overdue_past_the_threshold_escalates_to_the_manager(make_person):
    boss = make_person(job_title="Head", time_zone="Europe/London")
    late = make_person(job_title="", manager=boss, start_date=date(2026, 11, 20))
    recent = make_person(job_title="", manager=boss, start_date=date(2026, 11, 24))
    plan_due(now=at("2026-11-25 10:00"))
    escalations = Notification.objects.filter(stage=Notification.ESCALATION)
    assert [(row.recipient_id, row.about_person_id) for row in escalations] == [(boss.pk, late.pk)]
    assert escalations[0].overdue_since == date(2026, 11, 20)
    assert not Notification.objects.filter(
        stage=Notification.ESCALATION, about_person=recent
    ).exists()
    assert plan_due(now=at("2026-11-25 10:00")).total == 0  # escalated once


def test_no_escalation_without_an_active_manager(make_person):
    gone = make_person(job_title="Head", is_active=False)
    make_person(job_title="", manager=gone, start_date=date(2026, 1, 1))
    make_person(job_title="", start_date=date(2026, 1, 1))
    plan_due(now=at("2026-11-25 10:00"))
    assert not Notification.objects.filter(stage=Notification.ESCALATION).exists()


def _plan_and_count() -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        plan_due(now=at("2026-11-25 10:00"))
    inserts = sum(
        1 for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")
    )
    return len(queries.captured_queries) - inserts, inserts


def _insert_batches(rows: int) -> int:
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    batch = min(1000, connection.ops.bulk_batch_size(fields, [None] * rows) or 1000)
    return -(-rows // batch)


def test_planning_query_count_does_not_grow_with_people(django_user_model):
    names = register_everyone_kinds(5)

    def add_people(start, stop):
        django_user_model.objects.bulk_create(
            django_user_model(
                email=f"p{i}@example.com", full_name=f"P {i}", job_title="t", location="l"
            )
            for i in range(start, stop)
        )

    ContentType.objects.get_for_model(django_user_model)  # a warm cache for both rounds
    try:
        add_people(0, 20)
        reads_few, inserts_few = _plan_and_count()
        assert inserts_few == len(names)
        Notification.objects.all().delete()
        add_people(20, 10_000)
        reads_many, inserts_many = _plan_and_count()
        # Reads are the same whatever the size (people once; per kind its own query
        # and the existing keys); writes are one INSERT per batch of rows.
        assert reads_many == reads_few
        assert inserts_many <= len(names) * _insert_batches(10_000)
        assert Notification.objects.count() == 10_000 * len(names)
        reads_again, inserts_again = _plan_and_count()
        assert inserts_again == 0 and reads_again == reads_few
    finally:
        for name in names:
            unregister(name)


def test_notify_many_to_a_few_reads_only_those_people_and_counts_only_their_rows(make_person):
    from notifications.services import notify_many

    crowd = [make_person(job_title="") for _ in range(5)]
    first, second, other = crowd[0], crowd[1], crowd[2]
    # Already planned: one of the recipients' rows, and a row of someone else's of the
    # same kind and stage; neither is new here.
    assert notify_many(kind="example-urgent-event", items=[(second, second.pk)], stage="day") == 1
    assert notify_many(kind="example-urgent-event", items=[(other, other.pk)], stage="day") == 1
    with CaptureQueriesContext(connection) as captured:
        created = notify_many(
            kind="example-urgent-event",
            items=[(first, first.pk), (second, second.pk)],
            stage="day",
        )
    assert created == 1
    people_query = next(q["sql"] for q in captured if '"people_user"' in q["sql"].split("FROM")[1])
    assert " IN (" in people_query
    counts = [q["sql"] for q in captured if q["sql"].startswith("SELECT COUNT(*)")]
    assert len(counts) == 2 and all('"recipient_id" IN (' in sql for sql in counts)
    assert Notification.objects.filter(kind="example-urgent-event", stage="day").count() == 3


def test_events_inside_one_send_for_all_queue_one_send_at_the_end(
    make_person, monkeypatch, django_capture_on_commit_callbacks
):
    from notifications import services
    from notifications.tasks import send_due_reminders

    asked = []
    monkeypatch.setattr(send_due_reminders, "apply_async", lambda **kw: asked.append(kw))
    people = [make_person() for _ in range(3)]

    def event(person, stage):
        with django_capture_on_commit_callbacks(execute=True):
            services.notify_many(
                kind="example-urgent-event", items=[(person, person.pk)], stage=stage
            )

    with services.one_send_for_all():
        with services.one_send_for_all():  # nested: still one, at the very end
            for person in people:
                event(person, "bulk")
        assert asked == []
    assert len(asked) == 1
    # Outside it, each event asks again.
    event(people[0], "later")
    assert len(asked) == 2
