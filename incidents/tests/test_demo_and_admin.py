import hashlib
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import with_second_factor
from demo.players import incidents as demo
from demo.players.people import seed_demo_organisation
from incidents import services
from incidents.models import (
    ActionItem,
    Assessment,
    Evidence,
    HoldingStatement,
    Incident,
    IncidentEvent,
    Lesson,
    Review,
    Takedown,
    TalkingPoint,
)
from notifications.models import Notification
from people import roles
from people.models import User
from training.models import Topic

pytestmark = pytest.mark.django_db

Status = Incident.Status
RECORDS = (
    Incident,
    IncidentEvent,
    Evidence,
    Takedown,
    HoldingStatement,
    Assessment,
    ActionItem,
    Review,
    Lesson,
    TalkingPoint,
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded() -> str:
    return _seed()


def _snapshot():
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True)) for model in RECORDS
    } | {
        "incidents": sorted(
            Incident.objects.values_list("reference", "status", "track", "version", "owner_id")
        ),
        "actions": sorted(ActionItem.objects.values_list("pk", "status", "due_date")),
        "notifications": sorted(
            Notification.objects.filter(kind__startswith="incident").values_list("pk", flat=True)
        ),
    }


def _current_outcomes():
    return Assessment.objects.filter(superseded_at=None).exclude(finished_at=None)


def _stories():
    """The told stories, without the year of history behind them."""
    return Incident.objects.filter(what_happened__in=[s.what for s in demo.STORIES])


def _history():
    return Incident.objects.filter(what_happened__in=[s.what for s in demo.HISTORY])


# --- demo data ------------------------------------------------------------------------


def test_seeding_twice_duplicates_nothing():
    first = _seed()
    count = len(demo.STORIES) + len(demo.HISTORY)
    assert f"Demo incidents ready: {count} incidents ({count} new)" in first
    before = _snapshot()
    second = _seed()
    assert f"Demo incidents ready: {count} incidents (0 new)" in second
    assert _snapshot() == before
    # Intake's incidents come from the prevention demo (prevention/tests/test_demo.py).
    assert Incident.objects.filter(intake=None).count() == count


def test_about_thirty_stories_in_every_state_and_on_both_tracks(seeded):
    incidents = _stories()
    assert 28 <= incidents.count() <= 35
    by_status = dict(incidents.values_list("status").annotate(n=Count("pk")))
    assert set(by_status) == set(Status.values)
    assert by_status[Status.CLOSED] >= 8 and by_status[Status.REMEDIATION] >= 4
    tracks = set(incidents.values_list("track", flat=True))
    assert {Incident.Track.LEARNING, Incident.Track.ACCOUNTABILITY} <= tracks
    # Reported over the last twelve months, the oldest last December and the newest today.
    now = timezone.now()
    noticed = sorted(incidents.values_list("noticed_at", flat=True))
    assert now - timedelta(days=366) < noticed[0] < now - timedelta(days=300)
    assert noticed[-1] > now - timedelta(hours=3)
    # Owners: Communications mostly, HR for the conduct cases; new reports wait for one.
    owners = dict(incidents.values_list("owner__email").annotate(n=Count("pk")))
    assert set(owners) == {"comms@example.com", "hr@example.com", None}
    assert owners["comms@example.com"] > 2 * owners["hr@example.com"] >= 4
    assert set(incidents.filter(owner=None).values_list("status", flat=True).distinct()) == {
        Status.REPORTED
    }


def test_most_stories_are_human_error_a_couple_at_risk_and_exactly_one_deliberate(seeded):
    stories = _current_outcomes().filter(incident__in=_stories())
    outcomes = dict(stories.values_list("final_outcome").annotate(n=Count("pk")))
    assert outcomes[Assessment.Outcome.DELIBERATE] == 1
    assert 2 <= outcomes[Assessment.Outcome.AT_RISK] <= 4
    assert outcomes[Assessment.Outcome.HUMAN_ERROR] > sum(outcomes.values()) / 2
    assert Assessment.Outcome.RECKLESS not in outcomes

    deliberate = stories.get(final_outcome=Assessment.Outcome.DELIBERATE).incident
    assert deliberate.track == Incident.Track.ACCOUNTABILITY
    assert deliberate.owner.email == "hr@example.com"
    assert _stories().filter(track=Incident.Track.ACCOUNTABILITY).count() == 1
    titles = set(deliberate.actions.values_list("title", flat=True))
    assert titles == set(services.PLAN_TEMPLATES[Incident.Track.ACCOUNTABILITY])
    # Every run and answer is stored with who and when; one assessment was re-run.
    assert Assessment.objects.exclude(superseded_at=None).count() == 1
    for assessment in _current_outcomes():
        assert assessment.suggested_outcome == assessment.final_outcome
        assert assessment.question_set and assessment.answers
        assert all(entry["by"] == assessment.assessor_id for entry in assessment.answers.values())
    # One is still being assessed, answers so far kept.
    unfinished = Assessment.objects.get(finished_at=None)
    assert unfinished.incident.status == Status.CONTAINED and unfinished.answers


def test_classified_incidents_have_an_assessment_per_person_or_no_individual(seeded):
    later = (Status.CLASSIFIED, Status.REMEDIATION, Status.REVIEW, Status.CLOSED)
    for incident in Incident.objects.filter(status__in=later).prefetch_related("people_involved"):
        assert incident.track != Incident.Track.NONE, incident
        if incident.no_individual_involved:
            continue
        assessed = set(
            _current_outcomes().filter(incident=incident).values_list("person_id", flat=True)
        )
        assert assessed == {p.pk for p in incident.people_involved.all()}, incident


def test_self_reports_including_the_demo_employee_closed_with_a_thank_you(seeded):
    assert 4 <= _stories().filter(self_reported=True).count() <= 10
    self_reported = Incident.objects.filter(self_reported=True)
    for incident in self_reported:
        assert incident.people_involved.filter(pk=incident.reporter_id).exists()
        assert Notification.objects.filter(
            kind="incident-self-report-thanks", subject_id=incident.pk
        ).exists()
    employee = User.objects.get(email="employee@example.com")
    (own,) = Incident.objects.filter(reporter=employee)
    assert own.self_reported and own.status == Status.CLOSED
    assert own.track == Incident.Track.LEARNING
    closing = own.events.get(what="status", to_value=Status.CLOSED)
    assert "Thank you" in closing.note
    assert Notification.objects.filter(
        kind="incident-self-report-closed", subject_id=own.pk, recipient=employee
    ).exists()
    # Her line manager owned (and did) one of the actions.
    assert own.actions.filter(owner__email="manager@example.com", status="done").exists()


def test_history_and_exposure_windows_are_in_time_order(seeded):
    now = timezone.now()
    # Intake's incidents are the prevention demo's (checked in prevention/tests/test_demo.py).
    for incident in Incident.objects.filter(intake=None).prefetch_related("events"):
        if incident.posted_at:
            assert incident.posted_at <= incident.noticed_at, incident
        if incident.contained_at:
            assert incident.noticed_at < incident.contained_at, incident
        if incident.closed_at:
            assert incident.contained_at < incident.closed_at, incident
        events = list(incident.events.all())
        assert all(event.at < now for event in events)
        statuses = [e.to_value for e in events if e.what == "status"]
        # Every step of the workflow up to where it is, once each, in order.
        expected = list(Status.values)[: list(Status.values).index(incident.status) + 1]
        assert statuses == expected, incident
        assert events[0].at == incident.created_at
    # References are handed out in the order incidents were reported, per year.
    incidents = list(Incident.objects.filter(intake=None).order_by("noticed_at"))
    assert [(i.year, i.number) for i in incidents] == sorted((i.year, i.number) for i in incidents)
    assert Incident.objects.filter(reference__startswith="INC-").count() == Incident.objects.count()


def test_containment_has_every_kind_of_takedown_evidence_and_statements(seeded):
    statuses = set(Takedown.objects.values_list("status", flat=True))
    assert statuses == set(Takedown.Status.values)
    for incident in Incident.objects.exclude(status__in=(Status.REPORTED, Status.TRIAGE)):
        assert not incident.takedowns.filter(status=Takedown.Status.REQUESTED).exists()
        assert incident.takedowns.exists() or incident.no_takedown_note
    assert not Incident.objects.filter(status__in=(Status.TRIAGE,), evidence=None).exists()
    screenshots = Evidence.objects.exclude(file="")
    assert 1 <= screenshots.count() <= 3
    for evidence in screenshots:
        data = evidence.file.read()
        assert data.startswith(b"\x89PNG") and len(data) == evidence.size
        assert hashlib.sha256(data).hexdigest() == evidence.sha256
    withdrawn = Evidence.objects.exclude(withdrawn_at=None).get()
    assert withdrawn.withdrawn_reason and withdrawn.withdrawn_by
    statements = HoldingStatement.objects.all()
    assert statements.filter(approved_at=None).count() == 1
    for statement in statements.exclude(approved_at=None):
        assert statement.approved_by_id != statement.drafted_by_id


def test_actions_some_overdue_and_reviews_signed_off_by_managers(seeded):
    today = timezone.localdate()
    overdue = ActionItem.objects.filter(status=ActionItem.Status.OPEN, due_date__lt=today)
    assert overdue.count() >= 5
    assert set(overdue.values_list("incident__status", flat=True)) == {Status.REMEDIATION}
    assert overdue.filter(owner__email="manager@example.com").exists()
    assert ActionItem.objects.filter(status=ActionItem.Status.WAIVED).exists()
    for incident in Incident.objects.filter(status__in=(Status.REVIEW, Status.CLOSED)):
        assert not incident.actions.filter(status=ActionItem.Status.OPEN).exists(), incident
        assert incident.review.summary and incident.review.contributing_factors
    signed = Review.objects.exclude(signed_off_at=None).select_related("incident", "signed_off_by")
    closed = Incident.objects.filter(status=Status.CLOSED).count()
    assert signed.filter(incident__in=_stories()).count() == (
        _stories().filter(status=Status.CLOSED).count() + 1
    )
    assert signed.count() == closed + 1
    signers = set()
    for review in signed:
        assert review.signed_off_by_id != review.incident.owner_id
        assert roles.is_line_manager(review.signed_off_by)
        signers.add(review.signed_off_by.email)
    assert "manager@example.com" in signers and len(signers) >= 3
    assert Review.objects.filter(signed_off_at=None, incident__in=_stories()).count() == 2


def test_three_published_anonymised_lessons(seeded):
    lessons = Lesson.objects.filter(published=True).select_related("incident")
    assert lessons.count() == 3
    for lesson in lessons:
        assert lesson.incident.status == Status.CLOSED
        assert services.identifying_details(lesson.incident, lesson.text) == []
    assert TalkingPoint.objects.get().topic.name == demo.BRIEFING_TOPIC
    assert Lesson.objects.filter(policy_versions__isnull=False).count() == 1


# --- the year of history behind the stories ---------------------------------------------


def _months_ago(moment, now) -> int:
    """Whole months of 30.44 days before `now`, as the demo lays out its year (by days
    ago): calendar months would make these tests depend on today's day of the month."""
    return int((now - moment).total_seconds() // (30.44 * 86400))


def test_a_year_of_incidents_two_to_five_a_month_on_top_of_the_stories(seeded):
    now = timezone.now()
    history = _history()
    assert 35 <= history.count() <= 45
    assert history.count() + _stories().count() == Incident.objects.filter(intake=None).count()
    reported = Counter(_months_ago(i.noticed_at, now) for i in history)
    # Every one of the last twelve months (the latest 30 days too) has its share of reports.
    assert set(reported) == set(range(12))
    assert all(1 <= n <= 5 for n in reported.values())
    assert sum(1 for n in reported.values() if n >= 2) >= 10
    # Most are closed; a few are still being remediated or reviewed.
    statuses = Counter(history.values_list("status", flat=True))
    assert statuses[Status.CLOSED] >= 30
    assert statuses[Status.REMEDIATION] >= 2 and statuses[Status.REVIEW] >= 2
    # Many platforms and kinds of information, and the same slip more than once.
    assert len(set(history.values_list("platform", flat=True))) >= 8
    assert len(set(history.values_list("information", flat=True))) >= 5
    pairs = Counter(history.values_list("information", "platform"))
    assert sum(1 for n in pairs.values() if n >= 3) >= 3
    assert len(set(history.values_list("severity", flat=True))) == 4
    tracks = set(history.values_list("track", flat=True))
    assert {Incident.Track.LEARNING, Incident.Track.ACCOUNTABILITY} <= tracks
    departments = set(history.values_list("people_involved__department__name", flat=True))
    assert len(departments - {None}) >= 6


def test_incidents_closed_in_most_months_contained_and_closed_faster_over_the_year(seeded):
    now = timezone.now()
    closed = Incident.objects.filter(status=Status.CLOSED, closed_at__gt=now - timedelta(days=366))
    by_month = {}
    for incident in closed:
        month = _months_ago(incident.closed_at, now)
        contain = (incident.contained_at - incident.noticed_at).total_seconds() / 3600
        close = (incident.closed_at - incident.noticed_at).total_seconds() / 86400
        by_month.setdefault(month, []).append((contain, close))
    assert len([m for m in by_month if m < 12]) >= 8

    def average(month, which):
        values = [pair[which] for pair in by_month[month]]
        return sum(values) / len(values)

    contain = {month: average(month, 0) for month in by_month}
    close = {month: average(month, 1) for month in by_month}
    # From hours to days: a year ago containing took days, lately hours.
    assert max(contain.values()) > 24 and min(contain.values()) < 8
    early = [contain[m] for m in by_month if m >= 8]
    late = [contain[m] for m in by_month if m <= 3]
    assert sum(early) / len(early) > 2 * sum(late) / len(late)
    assert max(close.values()) > 1.5 * min(close.values())
    # Events carry the past: the history rows are what the service wrote back then.
    events = IncidentEvent.objects.filter(incident__in=_history(), what="status")
    assert events.filter(at__lt=now - timedelta(days=300)).exists()


def test_the_four_outcomes_over_the_quarters(seeded):
    now = timezone.now()
    current = _current_outcomes().select_related("incident")
    outcomes = Counter(a.final_outcome for a in current)
    assert set(outcomes) == set(Assessment.Outcome.values)
    assert outcomes[Assessment.Outcome.HUMAN_ERROR] > sum(outcomes.values()) / 2
    assert outcomes[Assessment.Outcome.RECKLESS] >= 2
    quarters = {}
    for assessment in current:
        quarter = _months_ago(assessment.incident.noticed_at, now) // 3
        quarters.setdefault(assessment.final_outcome, set()).add(quarter)
    assert len(quarters[Assessment.Outcome.AT_RISK]) == 4
    assert len(quarters[Assessment.Outcome.HUMAN_ERROR]) == 4
    assert len(quarters[Assessment.Outcome.RECKLESS] | quarters[Assessment.Outcome.DELIBERATE]) >= 3
    for incident in Incident.objects.filter(track=Incident.Track.ACCOUNTABILITY):
        assert incident.owner.email == "hr@example.com"
        outcomes = {a.final_outcome for a in current if a.incident_id == incident.pk}
        assert outcomes & {Assessment.Outcome.RECKLESS, Assessment.Outcome.DELIBERATE}
    # An accountability case went all the way: every action done, the review signed off.
    closed = Incident.objects.filter(track=Incident.Track.ACCOUNTABILITY, status=Status.CLOSED)
    assert closed.count() >= 2
    for incident in closed:
        assert not incident.actions.exclude(status=ActionItem.Status.DONE).exists()


def test_some_actions_done_late_some_overdue_and_some_reviews_late(seeded):
    from incidents.reminders import REVIEW_DUE_WORKING_DAYS, add_working_days

    done = ActionItem.objects.filter(incident__in=_history()).exclude(completed_at=None)
    late = [a for a in done if timezone.localdate(a.completed_at) > a.due_date]
    assert 10 <= len(late) < done.count() / 2
    overdue = ActionItem.objects.filter(
        incident__in=_history(), status=ActionItem.Status.OPEN, due_date__lt=timezone.localdate()
    )
    assert overdue.count() >= 3
    late_reviews = 0
    for review in Review.objects.filter(incident__in=_history()).select_related("incident"):
        last = max(review.incident.actions.values_list("completed_at", flat=True))
        due = add_working_days(timezone.localdate(last), REVIEW_DUE_WORKING_DAYS)
        late_reviews += timezone.localdate(review.written_at) > due
        if review.signed_off_by:
            assert review.signed_off_by_id != review.incident.owner_id
            assert roles.is_line_manager(review.signed_off_by)
    assert 3 <= late_reviews <= 10


def test_the_demo_manager_has_a_team_with_learning_track_incidents(seeded):
    from people.audience import team_ids

    manager = User.objects.get(email="manager@example.com")
    team = team_ids(manager)
    direct = set(manager.direct_reports.values_list("pk", flat=True))
    assert len(direct) >= 3 and len(set(team) - direct) >= 2
    involving = Incident.objects.filter(people_involved__in=team).distinct()
    learning = involving.filter(track=Incident.Track.LEARNING)
    assert learning.count() >= 6
    assert learning.filter(status=Status.CLOSED).count() >= 4
    assert learning.exclude(status=Status.CLOSED).exists()
    assert Review.objects.filter(signed_off_by=manager).count() >= 4
    assert ActionItem.objects.filter(
        owner=manager, status=ActionItem.Status.OPEN, due_date__lt=timezone.localdate()
    ).exists()
    assert ActionItem.objects.filter(owner=manager, status=ActionItem.Status.DONE).count() >= 3


def test_a_run_without_policies_or_training_still_tells_every_story():
    seed_demo_organisation()
    counts = demo.seed_demo_incidents()
    assert counts["created"] == counts["incidents"] == len(demo.STORIES) + len(demo.HISTORY)
    assert counts["lessons"] == 3 and counts["overdue_actions"] >= 5
    assert not TalkingPoint.objects.exists()
    assert demo.seed_demo_incidents()["created"] == 0


def test_every_demo_incident_opens_for_the_team_and_the_screenshots_download(client, seeded):
    incidents = list(Incident.objects.order_by("pk"))
    for email in ("comms@example.com", "hr@example.com"):
        # HR/legal sign in with a second factor.
        client.force_login(with_second_factor(User.objects.get(email=email)))
        assert client.get(reverse("incidents:list")).status_code == 200
        for incident in incidents:
            response = client.get(reverse("incidents:detail", args=[incident.pk]))
            assert response.status_code == 200, (email, incident)
    for evidence in Evidence.objects.exclude(file=""):
        url = reverse("incidents:evidence_file", args=[evidence.incident_id, evidence.pk])
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")


# --- the admin ------------------------------------------------------------------------

MODELS = (
    "incident",
    "evidence",
    "takedown",
    "holdingstatement",
    "assessment",
    "actionitem",
    "review",
    "lesson",
    "talkingpoint",
)


def _admin(model, view, *args):
    return reverse(f"admin:incidents_{model}_{view}", args=args)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200, url
    return len(queries)


@pytest.fixture
def site_admin_client(client):
    seed_demo_organisation()
    client.force_login(with_second_factor(User.objects.get(email="admin@example.com")))
    return client


@pytest.mark.parametrize("model", MODELS)
def test_admin_lists_do_not_query_per_row(site_admin_client, monkeypatch, model):
    Topic.objects.create(name=demo.BRIEFING_TOPIC)
    client = site_admin_client
    # A few incidents first (every kind of record among them), then all of them.
    monkeypatch.setattr(demo, "STORIES", demo.STORIES[:3])
    monkeypatch.setattr(demo, "HISTORY", ())
    demo.seed_demo_incidents()
    url = _admin(model, "changelist")
    few = _queries(client, url)
    monkeypatch.undo()
    demo.seed_demo_incidents()
    assert Incident.objects.count() == len(demo.STORIES) + len(demo.HISTORY)
    assert _queries(client, url) <= few
    assert _queries(client, url + "?q=the") <= few + 1


def test_every_incidents_admin_page_opens_for_a_site_admin(site_admin_client):
    Topic.objects.create(name=demo.BRIEFING_TOPIC)
    demo.seed_demo_incidents()
    client = site_admin_client
    models = dict(zip(MODELS, RECORDS[:1] + RECORDS[2:], strict=True))
    for name, model in models.items():
        obj = model.objects.order_by("pk").first()
        assert client.get(_admin(name, "changelist")).status_code == 200, name
        assert client.get(_admin(name, "change", obj.pk)).status_code == 200, name
        assert client.get(_admin(name, "add")).status_code == 403, name
    page = client.get(
        _admin("incident", "change", Incident.objects.order_by("noticed_at").first().pk)
    )
    # The history is shown on the incident, read-only.
    assert "history" in page.content.decode().lower()
    overdue = client.get(_admin("actionitem", "changelist") + "?overdue=yes")
    assert overdue.context["cl"].result_count >= 5


def test_evidence_assessments_and_incidents_are_read_only_records(site_admin_client):
    demo.seed_demo_incidents()
    client = site_admin_client
    evidence = Evidence.objects.exclude(file="").first()
    assessment = Assessment.objects.first()
    incident = Incident.objects.first()
    for model, obj in (("evidence", evidence), ("assessment", assessment), ("incident", incident)):
        page = client.get(_admin(model, "change", obj.pk)).content.decode()
        assert 'name="_save"' not in page, model
        assert client.post(_admin(model, "change", obj.pk), {}).status_code == 403, model
        assert client.post(_admin(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    # The file is named, never linked from the media folder.
    page = client.get(_admin("evidence", "change", evidence.pk)).content.decode()
    assert evidence.sha256 in page and evidence.file.name not in page


def test_open_actions_drafts_and_unsigned_reviews_can_be_corrected_closed_ones_cannot(
    site_admin_client,
):
    demo.seed_demo_incidents()
    client = site_admin_client
    open_action = ActionItem.objects.filter(status=ActionItem.Status.OPEN).first()
    page = client.get(_admin("actionitem", "change", open_action.pk)).content.decode()
    assert 'name="due_date"' in page and 'name="status"' not in page
    done = ActionItem.objects.filter(status=ActionItem.Status.DONE).first()
    assert client.post(_admin("actionitem", "change", done.pk), {}).status_code == 403
    signed = Review.objects.exclude(signed_off_at=None).first()
    assert client.post(_admin("review", "change", signed.pk), {}).status_code == 403
    unsigned = Review.objects.filter(signed_off_at=None).first()
    assert 'name="summary"' in client.get(_admin("review", "change", unsigned.pk)).content.decode()
    approved = HoldingStatement.objects.exclude(approved_at=None).first()
    assert client.post(_admin("holdingstatement", "change", approved.pk), {}).status_code == 403


def test_staff_with_permissions_cannot_see_evidence_assessments_or_incidents(client, make_person):
    seed_demo_organisation()
    demo.seed_demo_incidents()
    staff = make_person(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="incidents"))
    client.force_login(staff)
    for model in ("evidence", "assessment", "incident"):
        assert client.get(_admin(model, "changelist")).status_code == 403, model
        obj_pk = (
            {"evidence": Evidence, "assessment": Assessment, "incident": Incident}[model]
            .objects.first()
            .pk
        )
        assert client.get(_admin(model, "change", obj_pk)).status_code == 403, model
    assert client.get(_admin("lesson", "changelist")).status_code == 200
    index = client.get(reverse("admin:index")).content.decode()
    assert "Lessons" in index and "Assessments" not in index and "Evidence" not in index


def test_people_without_staff_access_cannot_open_the_incidents_admin(client, comms, employee):
    for person in (comms, employee):
        client.force_login(person)
        response = client.get(_admin("incident", "changelist"))
        assert response.status_code == 302 and "/admin/login/" in response.url
