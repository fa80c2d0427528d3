"""The prevention demo (`manage.py seed_demo`, story in demo/prevention.json): a dozen
audited watch-list entries, post reviews in every state (the demo employee's answer on
her My tasks, a late one escalated to the comms lead, two kept as anonymised examples),
and intake incidents from the local sample feed and a signed webhook, noticed sooner
over the months. A second run changes nothing.

The whole demo is seeded once for this module (it takes a few seconds); each test runs
in a savepoint rolled back after it, so tests do not see each other's changes."""

from __future__ import annotations

import hashlib
import re
import statistics
from copy import deepcopy
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from dashboards import remediation
from dashboards.queries import my_tasks
from demo.players import prevention as demo
from incidents.models import Evidence, Incident, IncidentEvent
from notifications.models import Notification
from notifications.services import plan_due
from people import roles
from people.models import User
from policies.models import Policy
from prevention import intake, intake_feeds, review_services, watchlist_services
from prevention.matching import WATCH_TERM, current_watch_list, forget_current_watch_list
from prevention.models import (
    IntakeItem,
    PostReview,
    ReviewExample,
    Source,
    WatchTerm,
    WatchTermChange,
    WebhookDelivery,
)

pytestmark = pytest.mark.django_db

Status = PostReview.Status
STORY = demo.load_story()
SOCIAL_MEDIA = "Social media policy"
LINE = re.compile(
    r"Demo prevention ready: (\d+) watch-list entries \((\d+) new\), (\d+) post reviews "
    r"\((\d+) new, (\d+) waiting, (\d+) late\), (\d+) kept as examples, (\d+) incidents "
    r"opened by intake \((\d+) new\)\."
)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """`seed_demo`'s output; the data stays for the module's tests, then is rolled back."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        with transaction.atomic():
            forget_current_watch_list()
            out = StringIO()
            call_command("seed_demo", stdout=out)
            yield out.getvalue()
            transaction.set_rollback(True)
    forget_current_watch_list()


def _line(output: str) -> tuple[int, ...]:
    found = LINE.search(output)
    assert found, output
    return tuple(int(number) for number in found.groups())


def _snapshot():
    return {
        "terms": sorted(WatchTerm.objects.values_list("pk", "text", "active", "updated_at")),
        "changes": sorted(WatchTermChange.objects.values_list("pk", flat=True)),
        "reviews": sorted(
            PostReview.objects.values_list("pk", "status", "decided_at", "answer_seen_at")
        ),
        "examples": sorted(ReviewExample.objects.values_list("pk", flat=True)),
        "sources": sorted(
            Source.objects.values_list("pk", "items_seen", "items_matched", "last_fetched_at")
        ),
        "items": sorted(IntakeItem.objects.values_list("pk", "dedupe_key")),
        "deliveries": sorted(WebhookDelivery.objects.values_list("pk", flat=True)),
        "incidents": sorted(Incident.objects.values_list("pk", "status", "version")),
        "events": IncidentEvent.objects.count(),
        "evidence": Evidence.objects.count(),
        "notifications": sorted(
            Notification.objects.filter(kind__startswith="post-review").values_list("pk", flat=True)
        ),
        "leads": sorted(User.objects.filter(groups__name=roles.COMMS_LEAD).values_list("email")),
    }


def _demo_reviews():
    return PostReview.objects.filter(
        draft__in=[spec["draft"] for spec in STORY["reviews"]]
    ).select_related("requester", "decided_by")


def _person(email: str) -> User:
    return User.objects.get(email=email)


# --- seeding --------------------------------------------------------------------------


def test_seed_demo_prints_the_prevention_demo_and_a_second_run_changes_nothing(seeded):
    terms, new_terms, reviews, new_reviews, waiting, late, examples, opened, new_opened = _line(
        seeded
    )
    assert (new_terms, new_reviews, new_opened) == (terms, reviews, opened)
    assert terms == len(STORY["watch_list"]) and reviews == len(STORY["reviews"])
    assert (waiting, late, examples) == (2, 1, 2) and opened >= 10
    before = _snapshot()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert _line(out.getvalue()) == (terms, 0, reviews, 0, waiting, late, examples, opened, 0)
    assert _snapshot() == before


def test_a_story_step_in_the_future_is_refused_and_adds_nothing(seeded):
    story = deepcopy(STORY)
    story["reviews"].append(
        {**story["reviews"][0], "draft": "Something new.", "asked_hours_ago": -1}
    )
    story["watch_list"].append({**story["watch_list"][0], "text": "Project Osprey"})
    before = _snapshot()
    with pytest.raises(ValueError, match="in the future"):
        demo.seed_demo_prevention(story=story)
    assert _snapshot() == before


# --- the watch list ---------------------------------------------------------------------


def test_a_dozen_watch_list_entries_from_the_policy_each_audited_by_its_keepers(seeded):
    entries = WatchTerm.objects.select_related("policy", "lesson")
    assert 10 <= entries.count() <= 15
    assert {entry.kind for entry in entries} == set(WatchTerm.Kind.values)
    assert len({entry.category for entry in entries}) >= 4
    assert len({entry.severity for entry in entries}) >= 3
    policy = Policy.objects.get(title=SOCIAL_MEDIA)
    headings = watchlist_services.current_sections([policy])[policy.pk][1]
    for entry in entries:
        assert entry.explanation and entry.policy == policy, entry
        assert entry.policy_section in headings, entry
        created = entry.changes.get(action=WatchTermChange.Action.CREATED)
        assert roles.is_comms(created.by) or roles.is_policy_admin(created.by)
        assert created.after["text"] == entry.text
    # Launches and announcements: an expiry or two, one moved; one entry unticked after
    # its launch; one added from a published lesson.
    today = timezone.localdate()
    expiring = entries.exclude(expires_on=None)
    assert 1 <= expiring.count() <= 3
    assert all(entry.expires_on > today for entry in expiring)
    moved = WatchTermChange.objects.get(
        action=WatchTermChange.Action.CHANGED, term__text="Falcon X2"
    )
    assert moved.before["expires_on"] < moved.after["expires_on"] and moved.note
    unticked = entries.get(active=False)
    assert unticked.changes.filter(action=WatchTermChange.Action.CHANGED).get().after == {
        **unticked.changes.get(action=WatchTermChange.Action.CREATED).after,
        "active": False,
    }
    assert entries.exclude(lesson=None).get().lesson.published
    assert {"Project Atlas", "Falcon X2", "Northwind"} <= {entry.text for entry in entries}


# --- post reviews -------------------------------------------------------------------------


def test_post_reviews_in_every_state_by_several_people_answered_by_comms(seeded):
    reviews = list(_demo_reviews())
    assert {review.status for review in reviews} == set(Status.values)
    assert len({review.requester_id for review in reviews}) >= 5
    now = timezone.now()
    pending = [review for review in reviews if review.status == Status.PENDING]
    assert sorted(review.needed_by > now for review in pending) == [False, True]
    for review in reviews:
        assert review.created_at < now
        if review.status in review_services.ANSWERED:
            assert roles.is_comms(review.decided_by)
            assert review.created_at < review.decided_at < now
            assert review.reason or review.status == Status.APPROVED
    edited = next(review for review in reviews if review.status == Status.APPROVED_WITH_EDITS)
    assert edited.suggested_text and edited.suggested_text != edited.draft
    # The findings of the check were kept as they were when the draft was sent.
    assert sum(bool(review.findings) for review in reviews) >= 5


def test_a_late_review_escalates_to_the_comms_lead(seeded):
    chloe = _person("comms@example.com")
    assert roles.is_comms_lead(chloe) and roles.is_comms(chloe)
    (late,) = _demo_reviews().filter(status=Status.PENDING, needed_by__lte=timezone.now())
    plan_due()
    escalation = Notification.objects.get(kind="post-review-late", subject_id=late.pk)
    assert escalation.recipient == chloe


def test_the_demo_employees_answered_review_is_on_her_my_tasks(client, seeded):
    emily = _person("employee@example.com")
    review = PostReview.objects.get(requester=emily)
    assert review.status in review_services.ANSWERED and review.answer_seen_at is None
    tasks = [task for task in my_tasks(emily).tasks if task.kind == "my-post-review"]
    assert [task.url for task in tasks] == [reverse("prevention:review", args=[review.pk])]
    client.force_login(emily)
    page = client.get(reverse("my_tasks")).content.decode()
    assert "Comms answered your post review" in page
    assert client.get(tasks[0].url).status_code == 200


def test_two_answers_kept_as_anonymised_examples_on_the_policy_and_a_briefing(seeded):
    examples = ReviewExample.objects.select_related("review__requester", "policy", "topic")
    assert examples.count() == 2
    on_policy = examples.get(topic=None)
    assert on_policy.policy.title == SOCIAL_MEDIA
    assert on_policy.policy_section in review_services.policy_sections(on_policy.policy)
    on_topic = examples.get(policy=None)
    assert on_topic.topic.name == "Social media basics"
    for example in examples:
        assert example.decision == example.review.status
        assert example.text != example.review.draft
        assert review_services.identifying_details(example.review, example.text) == []


# --- intake -------------------------------------------------------------------------------


def test_intake_incidents_have_their_post_evidence_hash_and_item(seeded):
    items = IntakeItem.objects.select_related("incident__reporter", "source").prefetch_related(
        "terms"
    )
    assert items.count() >= 10
    account = intake.intake_account()
    for item in items:
        incident = item.incident
        assert incident.reporter == account and not account.is_active
        assert incident.status in (Incident.Status.REPORTED, Incident.Status.TRIAGE)
        assert item.posted_at <= item.noticed_at == incident.noticed_at
        assert incident.posted_at == item.posted_at and incident.url == item.url
        (evidence,) = incident.evidence.all()
        assert evidence.sha256 == item.text_sha256
        assert hashlib.sha256(evidence.note.encode()).hexdigest() == evidence.sha256
        assert item.matched and item.terms.exists()
        statuses = list(
            incident.events.filter(what="status").order_by("at").values_list("to_value", "at")
        )
        assert statuses[0] == (Incident.Status.REPORTED, item.noticed_at)
        if incident.status == Incident.Status.TRIAGE:
            assert item.noticed_at < statuses[1][1] < timezone.now()
    # The newest is waiting to be picked up; the others were picked up soon after.
    assert items.filter(incident__status=Incident.Status.REPORTED).count() == 1
    assert items.first().incident.status == Incident.Status.REPORTED
    # Both kinds of source, every webhook delivery signed once.
    kinds = set(items.values_list("source__kind", flat=True))
    assert kinds == set(Source.Kind.values)
    webhook = Source.objects.get(kind=Source.Kind.WEBHOOK)
    deliveries = STORY["intake"]["webhook"]["deliveries"]
    assert WebhookDelivery.objects.filter(source=webhook).count() == len(deliveries)
    assert webhook.items_seen == sum(len(delivery["items"]) for delivery in deliveries)


def test_the_sample_feed_parses_and_its_matching_posts_opened_the_feeds_incidents(seeded):
    source = Source.objects.get(kind=Source.Kind.FEED)
    assert source.feed_url.startswith("file://") and not source.failing
    content, headers = intake_feeds.read_feed(source.feed_url)
    posts = intake_feeds.parse_feed(content, headers)
    assert len(posts) >= 6 and all(post.posted_at and post.url for post in posts)
    watch_list = current_watch_list()
    matching = [
        post
        for post in posts
        if any(f.rule == WATCH_TERM for f in watch_list.match(intake.post_text(post)))
    ]
    assert 2 <= len(matching) < len(posts)
    # Whole words and phrases: a hike in the Atlas mountains is not "Project Atlas".
    for post in matching:
        text = intake.post_text(post).casefold()
        assert "atlas" not in text or "project atlas" in text, post
    kept = set(source.items.values_list("dedupe_key", flat=True))
    assert kept == {intake.normalise_url(post.url) for post in matching}
    # Fetched again after the first fetch: every post seen twice, each opened once.
    assert source.items_seen == 2 * len(posts) and source.items_matched == len(matching)
    assert source.last_success_at > timezone.now() - timedelta(minutes=5)


def test_intake_notices_sooner_over_the_months_and_lately_sooner_than_people(seeded):
    now = timezone.now()
    lags = [
        (item.noticed_at, (item.noticed_at - item.posted_at).total_seconds() / 3600)
        for item in IntakeItem.objects.order_by("noticed_at")
    ]
    assert lags[-1][0] - lags[0][0] > timedelta(days=180)
    third = len(lags) // 3
    early = statistics.median(lag for _at, lag in lags[:third])
    late = statistics.median(lag for _at, lag in lags[-third:])
    assert early > 2 and late < 0.25 and early > 10 * late
    # The Remediation dashboard's figure for the last quarter says the same.
    viewer = remediation.Viewer.of(_person("comms@example.com"))
    today = timezone.localdate(now)
    start = today - timedelta(days=90)
    quarters = remediation.quarters_between(start, today)
    noticing = remediation.noticing(viewer, remediation.Filters(start=start, end=today), quarters)
    by = {channel.value: channel for channel in noticing.channels}
    intake_hours = by[remediation.NoticedBy.INTAKE].median_hours
    assert by[remediation.NoticedBy.INTAKE].measured >= 3
    assert intake_hours < by[remediation.NoticedBy.SELF].median_hours
    assert intake_hours < by[remediation.NoticedBy.COLLEAGUE].median_hours


def test_every_intake_incident_opens_for_comms_with_its_intake_panel(client, seeded):
    client.force_login(_person("comms@example.com"))
    for item in IntakeItem.objects.select_related("source"):
        page = client.get(reverse("incidents:detail", args=[item.incident_id]))
        assert page.status_code == 200
        assert item.source.name in page.content.decode()


def test_the_prevention_pages_open_on_the_demo_for_the_demo_accounts(client, seeded):
    pages = {
        "comms@example.com": (
            "prevention:watchlist",
            "prevention:watchlist_history",
            "prevention:queue",
            "prevention:sources",
            "prevention:examples",
        ),
        "policyadmin@example.com": ("prevention:watchlist", "prevention:examples"),
        "employee@example.com": ("prevention:my_reviews", "prevention:check"),
    }
    for email, names in pages.items():
        client.force_login(_person(email))
        for name in names:
            assert client.get(reverse(name)).status_code == 200, (email, name)
    client.force_login(_person("comms@example.com"))
    for source in Source.objects.all():
        page = client.get(reverse("prevention:source_detail", args=[source.pk]))
        assert page.status_code == 200
    for review in _demo_reviews():
        assert client.get(reverse("prevention:review", args=[review.pk])).status_code == 200
    # The example kept on the social media policy is on its page, for everyone.
    example = ReviewExample.objects.get(topic=None)
    client.force_login(_person("employee@example.com"))
    page = client.get(reverse("policies:detail", args=[example.policy.slug])).content.decode()
    assert "Examples from comms" in page and "[unreleased product]" in page
