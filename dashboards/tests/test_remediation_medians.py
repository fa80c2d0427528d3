"""The Remediation dashboard's counts and medians, taken by the database, against the
same figures worked out here in Python from every row (the way the page once took
them): odd and even counts, ties, values a microsecond apart, empty months and
quarters, histories with more than one change of a kind, and a time zone whose months
do not start at midnight UTC. They run on SQLite and on PostgreSQL alike."""

import random
import statistics
from collections import Counter
from datetime import datetime, time, timedelta

import pytest
from django.db.models import Case, DurationField, ExpressionWrapper, F, IntegerField, When
from django.urls import reverse
from django.utils import timezone

from dashboards import remediation
from dashboards.remediation.ranks import MEDIAN, P90, Grouping, Ranked, grouped, lowest_rank
from dashboards.tests.test_remediation_noticed import by_intake
from incidents.models import ActionItem, Assessment, Incident, IncidentEvent, Review
from incidents.reminders import review_due_date
from incidents.tests.factories import reported
from prevention.models import IntakeItem

pytestmark = pytest.mark.django_db

Status = Incident.Status
PAGE = reverse("dashboards:remediation")
INCIDENTS = reverse("dashboards:remediation_incidents")
ZONE = "America/New_York"  # months start at 04:00 or 05:00 UTC


# --- the arithmetic -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [*range(1, 42), 99, 100, 101, 1000, 1001])
def test_the_values_at_two_ranks_give_the_median_and_percentiles_of_all(count):
    values = sorted(
        random.Random(count).choice([0.5, 1.0, 1.0, 2.25, 7.0, 30.1]) + i / 7 for i in range(count)
    )
    ranked = Ranked(count)
    for fraction in (MEDIAN, P90):
        low = lowest_rank(count, fraction)
        for rank in (low, low + 1):
            if rank < count:
                ranked.values[rank] = values[rank]
    assert ranked.median() == statistics.median(values)
    assert ranked.percentile(0.5) == remediation.percentile(values, 0.5)
    assert ranked.percentile(0.9) == remediation.percentile(values, 0.9)


def test_the_ninetieth_percentile_always_lies_between_the_two_ranks_read():
    for count in range(1, 200_000):
        low = lowest_rank(count, P90)
        position = (count - 1) * 0.9
        assert low <= int(position) and -int(-position) <= min(low + 1, count - 1)


def test_nothing_measured_has_no_median():
    assert (Ranked().median(), Ranked().percentile(0.9)) == (None, None)


# --- a world of incidents, and the figures worked out from every row --------------------------


def _event(incident, to, at, by):
    IncidentEvent.objects.create(incident=incident, what="status", to_value=to, by=by, at=at)


# Hours, chosen from few values so that ties are common; some a microsecond apart.
STRETCHES = [0.25, 0.5, 1, 1, 2, 6, 6, 24, 30.5, 100, 1000]
MICRO = timedelta(microseconds=1)


def _world(seed: int, comms, employee, size: int = 27) -> None:
    """Incidents noticed over the last fourteen months, noticed every way, some with no
    posted time or one edited to after they were noticed, contained and closed (some
    twice, some reopened, some with a time edited to before they were noticed),
    classified (some twice), with actions done or not and reviews written early, late
    or not at all."""
    pick = random.Random(seed)
    now = timezone.now()
    for _ in range(size):
        noticed = now - timedelta(days=pick.uniform(0, 420), minutes=pick.randrange(1440))
        posted = None
        if pick.random() < 0.8:
            posted = noticed - timedelta(hours=pick.choice(STRETCHES)) - pick.choice([0, 1]) * MICRO
        self_reported = pick.random() < 0.3
        incident = reported(
            employee if self_reported else comms,
            self_reported=self_reported,
            noticed_at=noticed,
            posted_at=posted,
            platform=pick.choice([Incident.Platform.X, Incident.Platform.LINKEDIN]),
            information=pick.choice([Incident.Information.FINANCIAL, Incident.Information.OTHER]),
            people_involved=[employee] if pick.random() < 0.5 else [],
        )
        if pick.random() < 0.3:
            by_intake(incident)
        fields = {"track": pick.choice([Incident.Track.LEARNING, Incident.Track.ACCOUNTABILITY])}
        if posted and pick.random() < 0.1:
            fields["posted_at"] = noticed + timedelta(hours=1)  # edited after noticed
        contained = closed = None
        if pick.random() < 0.85:
            contained = (
                noticed + timedelta(hours=pick.choice(STRETCHES)) + pick.choice([0, 1]) * MICRO
            )
            if pick.random() < 0.1:
                contained = noticed - timedelta(hours=2)  # noticed edited to after it
            _event(incident, Status.CONTAINED, contained, comms)
            if pick.random() < 0.2:  # a second one: the first counts
                _event(incident, Status.CONTAINED, contained + timedelta(days=40), comms)
            fields["contained_at"] = contained
        if contained and pick.random() < 0.7:
            classified = contained + timedelta(hours=pick.choice(STRETCHES))
            _event(incident, Status.CLASSIFIED, classified, comms)
            if pick.random() < 0.2:
                _event(incident, Status.CLASSIFIED, classified + timedelta(days=100), comms)
        if contained and pick.random() < 0.6:
            closed = contained + timedelta(days=pick.choice([1, 3, 3, 20, 45]))
            _event(incident, Status.CLOSED, closed, comms)
            if pick.random() < 0.25:  # reopened and closed again: the last counts
                closed += timedelta(days=pick.choice([2, 35]))
                _event(incident, Status.CLOSED, closed, comms)
            # Some reopened since: their closes no longer count.
            fields["status"] = Status.CLOSED if pick.random() < 0.8 else Status.REMEDIATION
            fields["closed_at"] = closed
        Incident.objects.filter(pk=incident.pk).update(**fields)
        _assessments(incident, pick, comms, employee)
        _actions_and_review(incident, pick, comms)


def _assessments(incident, pick, comms, employee) -> None:
    """Up to three runs, finished over the months (a few superseded, or not finished)."""
    for _ in range(pick.choice([0, 1, 1, 2, 3])):
        finished = incident.noticed_at + timedelta(days=pick.choice([0, 1, 50, 100]))
        Assessment.objects.create(
            incident=incident,
            person=employee,
            act="Shared a photo.",
            question_set="v1",
            final_outcome=pick.choice(Assessment.Outcome.values + [""]),
            assessor=comms,
            started_at=finished,
            finished_at=None if pick.random() < 0.1 else finished,
            superseded_at=finished if pick.random() < 0.15 else None,
        )


def _actions_and_review(incident, pick, comms) -> None:
    if pick.random() < 0.3:
        return
    done = incident.noticed_at + timedelta(days=pick.randrange(1, 30), hours=pick.randrange(24))
    for number in range(pick.choice([1, 2, 3])):
        still_open = pick.random() < 0.1
        ActionItem.objects.create(
            incident=incident,
            title=f"Action {number}",
            owner=comms,
            due_date=done.date(),
            status=ActionItem.Status.OPEN if still_open else ActionItem.Status.DONE,
            note="" if still_open else "Done.",
            completed_at=None if still_open else done - timedelta(days=number),
        )
    if pick.random() < 0.7:
        Review.objects.create(
            incident=incident,
            summary="What happened.",
            contributing_factors="Factors.",
            spotted_sooner="Intake.",
            written_by=comms,
            written_at=done + timedelta(days=pick.choice([0, 4, 5, 7, 8, 9, 12, 30])),
        )


def _expected(viewer_user, start, end):
    """Every figure the page takes over its incidents, from every row, in Python."""
    viewer = remediation.Viewer.of(viewer_user)
    filters = remediation.Filters(start=start, end=end)
    months = remediation.months_between(start, end)
    quarters = remediation.quarters_between(start, end)
    period = remediation.incidents(viewer, filters)
    intake = set(IntakeItem.objects.values_list("incident_id", flat=True))

    # Posted → noticed by how noticed, by quarter; the exposure window; recurrence.
    noticed = {way: [] for way in ("intake", "self", "colleague", "")}
    unposted = Counter()
    by_quarter = {(q, way): [] for q in quarters for way in noticed}
    stretches = {slug: [] for slug, _, _, _ in remediation.EXPOSURE}
    recurrence = Counter()
    count = Counter()
    rows = period.values_list(
        "pk",
        "self_reported",
        "information",
        "platform",
        "posted_at",
        "noticed_at",
        "contained_at",
        "closed_at",
    )
    for pk, self_reported, information, platform, posted, seen, contained, closed in rows:
        way = "intake" if pk in intake else "self" if self_reported else "colleague"
        quarter = remediation.quarter_of(timezone.localtime(seen))
        recurrence[(information, platform)] += 1
        for key in (way, ""):
            count[key] += 1
            count[(quarter, key)] += 1
            if posted is None:
                unposted[key] += 1
            elif seen >= posted:
                hours = (seen - posted).total_seconds() / 3600
                noticed[key].append(hours)
                by_quarter[(quarter, key)].append(hours)
        ends = {
            "posted_at": posted,
            "noticed_at": seen,
            "contained_at": contained,
            "closed_at": closed,
        }
        for slug, _, first, last in remediation.EXPOSURE:
            if ends[first] and ends[last] and ends[last] >= ends[first]:
                stretches[slug].append((ends[last] - ends[first]).total_seconds() / 3600)

    # Time to contain and to close, by month, from the history.
    found = remediation.incidents(viewer, filters, period=False)
    events = IncidentEvent.objects.filter(what="status", incident__in=found)
    first_contained, last_closed, first_classified = {}, {}, {}
    for incident_id, to, at in events.values_list("incident_id", "to_value", "at"):
        if to == Status.CONTAINED:
            first_contained[incident_id] = min(at, first_contained.get(incident_id, at))
        if to == Status.CLOSED:
            last_closed[incident_id] = max(at, last_closed.get(incident_id, at))
        if to == Status.CLASSIFIED:
            first_classified[incident_id] = min(at, first_classified.get(incident_id, at))
    noticed_at = dict(found.values_list("pk", "noticed_at"))
    closed_now = set(found.filter(status=Status.CLOSED).values_list("pk", flat=True))
    contain = {month: [] for month in months}
    close = {month: [] for month in months}
    for moments, hours in ((first_contained, contain), (last_closed, close)):
        for incident_id, at in moments.items():
            if hours is close and incident_id not in closed_now:
                continue
            month = f"{timezone.localtime(at):%Y-%m}"
            if at >= noticed_at[incident_id] and month in hours:
                hours[month].append((at - noticed_at[incident_id]).total_seconds() / 3600)
    timings = [
        (
            month,
            len(contain[month]),
            round(statistics.median(contain[month]), 1) if contain[month] else None,
            len(close[month]),
            round(statistics.median(close[month]) / 24, 1) if close[month] else None,
        )
        for month in months
    ]

    # Classification.
    mix = {quarter: Counter() for quarter in quarters}
    if remediation.sees_outcomes(viewer):
        seen_once = set()
        assessed = Assessment.objects.filter(
            incident__in=period, superseded_at=None, finished_at__isnull=False
        ).exclude(final_outcome="")
        for incident_id, outcome, finished in assessed.values_list(
            "incident_id", "final_outcome", "finished_at"
        ):
            quarter = remediation.quarter_of(timezone.localtime(finished))
            if quarter in mix and (incident_id, outcome, quarter) not in seen_once:
                seen_once.add((incident_id, outcome, quarter))
                mix[quarter][outcome] += 1
    else:
        tracks = dict(period.values_list("pk", "track"))
        for incident_id, at in first_classified.items():
            quarter = remediation.quarter_of(timezone.localtime(at))
            if incident_id in tracks and quarter in mix:
                mix[quarter][tracks[incident_id]] += 1

    # Reviews: due five working days after the last action was done.
    due = late = 0
    today = timezone.localdate()
    for incident in period.prefetch_related("actions"):
        actions = list(incident.actions.all())
        done = [a.completed_at for a in actions if a.completed_at]
        if not actions or not done or any(a.status == ActionItem.Status.OPEN for a in actions):
            continue
        due_date = review_due_date(max(done))
        review = Review.objects.filter(incident=incident).first()
        written = timezone.localdate(review.written_at) if review else None
        if written is None and due_date >= today:
            continue
        due += 1
        late += (written or today) > due_date

    return {
        "noticed": {
            way: (
                count[way],
                unposted[way],
                len(noticed[way]),
                _two(remediation.percentile(noticed[way], 0.5)),
                _two(remediation.percentile(noticed[way], 0.9)),
            )
            for way in noticed
        },
        "quarters": {
            (quarter, way): (
                len(values),
                _two(remediation.percentile(values, 0.5)),
            )
            for (quarter, way), values in by_quarter.items()
        },
        "exposure": (
            sum(count[way] for way in ("intake", "self", "colleague")),
            [
                (slug, round(statistics.median(values), 1) if values else None, len(values))
                for slug, values in stretches.items()
            ],
        ),
        "recurrence": recurrence,
        "timings": timings,
        "mix": {quarter: dict(counts) for quarter, counts in mix.items()},
        "reviews": (due, late),
    }


def _two(hours):
    return None if hours is None else round(hours, 2)


def _shown(context):
    noticing = context["noticing"]
    recurrence = context["recurrence"]
    return {
        "noticed": {
            c.value: (c.noticed, c.unposted, c.measured, c.median_hours, c.p90_hours)
            for c in noticing.channels
        },
        "quarters": {
            (row.quarter, c.value): (c.measured, c.median_hours)
            for row in noticing.quarters
            for c in row.channels
        },
        "exposure": (
            context["measured"],
            [(s.slug, s.median_hours, s.measured) for s in context["stretches"]],
        ),
        "recurrence": Counter(
            {
                (information, platform): n
                for information, _, counts in recurrence.rows
                for (platform, _), n in zip(recurrence.platforms, counts, strict=True)
                if n
            }
        ),
        "timings": [
            (t.month, t.contained, t.contain_hours, t.closed, t.close_days)
            for t in context["timings"]
        ],
        "mix": {
            row.quarter: {value: n for value, n in row.counts.items() if n}
            for row in context["mix"]
        },
        "reviews": (context["reviews"].due, context["reviews"].late),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("role", ["comms", "hr", "manager"])
def test_every_figure_is_what_every_row_gives(client, request, comms, employee, seed, role):
    _world(seed, comms, employee)
    viewer = request.getfixturevalue(role)
    viewer.time_zone = ZONE
    viewer.save(update_fields=["time_zone"])
    client.force_login(viewer)
    response = client.get(PAGE)
    assert response.status_code == 200
    filters = response.context["filters"]
    with timezone.override(ZONE):
        expected = _expected(viewer, filters.start, filters.end)
    shown = _shown(response.context)
    for figure in expected:
        assert shown[figure] == expected[figure], figure
    # The world has something to measure in every figure, even a line manager's.
    assert expected["noticed"][""][2] >= 2 and any(t[1] for t in expected["timings"])


def test_a_months_count_and_its_list_agree_however_many_times_it_changed(client, comms):
    """The figure and the list behind it both take the first containment and the last
    close (of an incident closed now)."""
    now = timezone.now()
    twice = reported(comms, noticed_at=now - timedelta(days=70))
    _event(twice, Status.CONTAINED, now - timedelta(days=69), comms)
    _event(twice, Status.CONTAINED, now - timedelta(days=1), comms)
    _event(twice, Status.CLOSED, now - timedelta(days=60), comms)
    _event(twice, Status.CLOSED, now - timedelta(days=2), comms)
    Incident.objects.filter(pk=twice.pk).update(status=Status.CLOSED)
    client.force_login(comms)
    timings = client.get(PAGE).context["timings"]
    month = f"{timezone.localtime(now - timedelta(days=69)):%Y-%m}"
    contained = {t.month: t.contained for t in timings if t.contained}
    closed = {t.month: t.closed for t in timings if t.closed}
    assert contained == {month: 1}
    assert closed == {f"{timezone.localtime(now - timedelta(days=2)):%Y-%m}": 1}
    for drill, months in (("contained", contained), ("closed", closed)):
        for listed_month, n in months.items():
            listed = client.get(f"{INCIDENTS}?{drill}={listed_month}").context["page"]
            assert [i.pk for i in listed.object_list] == [twice.pk] and n == 1


def test_two_people_assessed_alike_count_once_and_differently_in_both(
    client, hr, comms, make_person
):
    incident = reported(comms)
    finished = timezone.now()
    for outcome in (
        Assessment.Outcome.HUMAN_ERROR,
        Assessment.Outcome.HUMAN_ERROR,
        Assessment.Outcome.RECKLESS,
    ):
        Assessment.objects.create(
            incident=incident,
            person=make_person(),
            act="Shared a photo.",
            question_set="v1",
            final_outcome=outcome,
            assessor=hr,
            started_at=finished,
            finished_at=finished,
        )
    client.force_login(hr)
    mix = client.get(PAGE).context["mix"]
    assert sum(row.counts["human_error"] for row in mix) == 1
    assert sum(row.counts["reckless"] for row in mix) == 1


def test_a_review_due_on_a_weekend_counts_as_its_list_lists(client, comms):
    """Done on a Friday: due five working days later; written on the due day is in time,
    a day later is late; not written and past it is late; not yet due is not counted."""
    today = timezone.localdate()
    friday = today - timedelta(days=(today.weekday() - 4) % 7 + 14)
    done = timezone.make_aware(datetime.combine(friday, time.min))
    due = review_due_date(done + timedelta(hours=12))
    cases = {"in time": due, "late": due + timedelta(days=1), "unwritten": None}
    made = {}
    for name, written in cases.items():
        incident = reported(comms, noticed_at=done - timedelta(days=2))
        ActionItem.objects.create(
            incident=incident,
            title="Remove the post",
            owner=comms,
            due_date=friday,
            status=ActionItem.Status.DONE,
            note="Done.",
            completed_at=done + timedelta(hours=12),
        )
        if written:
            Review.objects.create(
                incident=incident,
                summary="S.",
                contributing_factors="F.",
                spotted_sooner="I.",
                written_by=comms,
                written_at=timezone.make_aware(datetime.combine(written, time(12))),
            )
        made[name] = incident.pk
    not_yet = reported(comms)
    ActionItem.objects.create(
        incident=not_yet,
        title="Remove the post",
        owner=comms,
        due_date=today,
        status=ActionItem.Status.DONE,
        note="Done.",
        completed_at=timezone.now(),
    )
    client.force_login(comms)
    reviews = client.get(PAGE).context["reviews"]
    assert (reviews.due, reviews.late) == (3, 2)
    late = client.get(f"{INCIDENTS}?late_review=1").context["page"].object_list
    due_list = client.get(f"{INCIDENTS}?review_due=1").context["page"].object_list
    assert {i.pk for i in late} == {made["late"], made["unwritten"]}
    assert {i.pk for i in due_list} == set(made.values())


def test_an_empty_period_shows_no_medians(client, comms):
    client.force_login(comms)
    response = client.get(f"{PAGE}?start=2001-01-01&end=2001-12-31")
    assert response.status_code == 200
    context = response.context
    assert all(t.contained == t.closed == 0 and t.contain_hours is None for t in context["timings"])
    assert [(s.median_hours, s.measured) for s in context["stretches"]] == [(None, 0)] * 3
    assert [c.median_words for c in context["noticing"].channels] == ["–"] * 4
    assert context["recurrence"].rows == [] and context["measured"] == 0
    assert (context["reviews"].due, context["reviews"].late) == (0, 0)


def test_groupings_of_one_value_keep_a_null_key_apart_from_the_total(comms):
    """A key that is null in the data is a group of its own, not the grouping over all
    (PostgreSQL answers both in one part, as grouping sets)."""
    now = timezone.now()
    hours = {1: [1, 2, 4], None: [8, 16], 2: [3]}
    for number, values in hours.items():
        for value in values:
            reported(
                comms,
                posted_at=now - timedelta(hours=value),
                noticed_at=now,
                estimated_reach=number,
            )
    groups = grouped(
        Incident.objects.all(),
        {
            "reach": Case(
                When(estimated_reach__isnull=False, then=F("estimated_reach")),
                output_field=IntegerField(),
            ),
            "up": ExpressionWrapper(F("noticed_at") - F("posted_at"), output_field=DurationField()),
        },
        (
            Grouping("by reach", by=("reach",), value="up", fractions=(MEDIAN,)),
            Grouping("all", value="up", fractions=(MEDIAN, P90)),
        ),
    )
    by_reach = {key: (group.count, group.median()) for key, group in groups["by reach"].items()}
    assert by_reach == {(1,): (3, 2.0), (None,): (2, 12.0), (2,): (1, 3.0)}
    every = groups["all"][()]
    values = [1, 2, 4, 8, 16, 3]
    assert (every.count, every.median()) == (6, statistics.median(values))
    assert every.percentile(0.9) == remediation.percentile(values, 0.9)
