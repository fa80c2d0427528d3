"""Intake's pages: only comms (and the comms lead) open them; adding feeds and webhooks
(a webhook's secret shown once), editing, deactivating, "Fetch now" and "New secret";
failing sources shown with their error and next try; the matched posts of a source;
query counts that hold as rows grow; and the incident page's intake panel."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from html import unescape

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from people import roles
from prevention import intake, tasks
from prevention.intake import PublicPost
from prevention.models import Source
from prevention.tests import test_intake
from prevention.tests.test_intake import make_source, rss

pytestmark = pytest.mark.django_db

# The fixtures of the intake tests: the demo's kind of watch list, a temporary local
# feed folder, and a watch list compiled afresh for each test.
terms = test_intake.terms
feed_dir = test_intake.feed_dir
_fresh_watch_list = test_intake._fresh_watch_list


def text(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def comms_lead(make_person):
    return make_person(full_name="Lena Ward", email="lena@example.com", group=roles.COMMS_LEAD)


@pytest.fixture
def no_broker(monkeypatch):
    asked = []
    monkeypatch.setattr(tasks.fetch_feed, "apply_async", lambda **kw: asked.append(kw))
    return asked


def matched_posts(source: Source, count: int, *, start: int = 0) -> None:
    intake.ingest(
        source=source,
        items=[
            PublicPost(
                url=f"https://blog.example.com/{source.pk}/{n}",
                text=f"Project Atlas, part {n}",
                handle=f"@writer{n}",
                posted_at=timezone.now() - timedelta(hours=1),
            )
            for n in range(start, start + count)
        ],
    )


# --- who may open what -------------------------------------------------------------------

REFUSED = ["employee", "manager", "hr", "policy_admin", "leader", "site_admin", "outsider"]


def _pages(source: Source) -> list[str]:
    return [
        reverse("prevention:sources"),
        reverse("prevention:source_add"),
        reverse("prevention:source_detail", args=[source.pk]),
        reverse("prevention:source_edit", args=[source.pk]),
    ]


def _actions(source: Source) -> list[str]:
    return [
        reverse(f"prevention:{name}", args=[source.pk])
        for name in ("source_deactivate", "source_activate", "source_fetch", "source_secret")
    ]


@pytest.mark.parametrize("role", REFUSED)
def test_only_comms_open_the_sources_pages(client, request, employee, role):
    # `employee` makes `manager` a line manager.
    source = make_source(Source.Kind.WEBHOOK)
    secret = source.secret
    client.force_login(request.getfixturevalue(role))
    for url in _pages(source):
        assert client.get(url).status_code == 403, url
    for url in [*_actions(source), reverse("prevention:source_add")]:
        response = client.post(url, {"name": "Mine", "kind": "webhook", "platform": "other"})
        assert response.status_code == 403, url
    source.refresh_from_db()
    assert source.active and source.secret == secret
    assert Source.objects.count() == 1


@pytest.mark.parametrize("role", ["comms", "comms_lead"])
def test_comms_and_the_comms_lead_open_every_sources_page(client, request, role, feed_dir):
    (feed_dir / "feed.xml").write_bytes(rss())
    feed = make_source(feed_url="file://feed.xml")
    webhook = make_source(Source.Kind.WEBHOOK)
    client.force_login(request.getfixturevalue(role))
    for source in (feed, webhook):
        for url in _pages(source):
            assert client.get(url).status_code == 200, url


def test_anonymous_visitors_are_asked_to_log_in(client):
    source = make_source()
    for url in [*_pages(source), *_actions(source)]:
        response = client.get(url) if url in _pages(source) else client.post(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


def test_actions_only_take_posts(client, comms):
    source = make_source(Source.Kind.WEBHOOK)
    client.force_login(comms)
    for url in _actions(source):
        assert client.get(url).status_code == 405, url


# --- adding and changing sources -------------------------------------------------------------


def test_comms_add_a_feed_and_it_is_fetched_at_the_next_round(client, comms, feed_dir, terms):
    (feed_dir / "mentions.xml").write_bytes(
        rss({"link": "https://blog.example.com/1", "text": "Falcon X2 is real"})
    )
    client.force_login(comms)
    response = client.post(
        reverse("prevention:source_add"),
        {
            "name": "Blog mentions",
            "kind": "feed",
            "feed_url": "file://mentions.xml",
            "platform": "blog",
        },
        follow=True,
    )
    source = Source.objects.get()
    assert response.redirect_chain[-1][0] == reverse("prevention:source_detail", args=[source.pk])
    assert "“Blog mentions” is added" in text(response)
    assert (source.kind, source.feed_url, source.platform, source.created_by) == (
        "feed",
        "file://mentions.xml",
        "blog",
        comms,
    )
    assert source.slug == "blog-mentions" and source.secret == "" and source.next_fetch_at is None
    tasks.fetch_due_sources()
    assert Incident.objects.count() == 1


def test_a_new_webhooks_secret_is_shown_once(client, comms):
    client.force_login(comms)
    response = client.post(
        reverse("prevention:source_add"),
        {"name": "Talkwalker", "kind": "webhook", "feed_url": "ignored", "platform": "x"},
    )
    source = Source.objects.get()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    html = text(response)
    assert source.secret and len(source.secret) >= 40 and source.secret in html
    assert "Copy the secret now: it is not shown again." in html
    assert f"/prevention/intake/{source.slug}/" in html and source.feed_url == ""
    detail = text(client.get(reverse("prevention:source_detail", args=[source.pk])))
    assert source.secret not in detail
    assert f"/prevention/intake/{source.slug}/" in detail
    assert source.secret not in text(client.get(reverse("prevention:sources")))
    assert source.secret not in text(
        client.get(reverse("prevention:source_edit", args=[source.pk]))
    )


def test_new_secret_replaces_the_old_one_and_shows_it_once(client, comms):
    source = make_source(Source.Kind.WEBHOOK)
    old = source.secret
    client.force_login(comms)
    response = client.post(reverse("prevention:source_secret", args=[source.pk]))
    source.refresh_from_db()
    assert source.secret != old and source.secret in text(response)
    assert "The old secret no longer works" in text(response)
    assert response["Cache-Control"] == "no-store"


def test_a_feed_has_no_secret_to_renew(client, comms):
    source = make_source()
    client.force_login(comms)
    response = client.post(reverse("prevention:source_secret", args=[source.pk]), follow=True)
    assert "Only webhooks have a secret." in text(response)
    source.refresh_from_db()
    assert source.secret == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "kind": "feed", "feed_url": "file://a.xml"}, "Give the source a name."),
        ({"name": "A", "kind": "", "feed_url": "file://a.xml"}, "Choose whether this is a feed"),
        ({"name": "A", "kind": "feed", "feed_url": ""}, "A feed needs its address."),
        ({"name": "A", "kind": "feed", "feed_url": "ftp://x.example.com/f"}, "Only http://"),
        ({"name": "A", "kind": "feed", "feed_url": "file://../etc/passwd"}, "local feed folder"),
        ({"name": "A", "kind": "feed", "feed_url": "file://missing.xml"}, "no file missing.xml"),
        ({"name": "A", "kind": "feed", "feed_url": "http://127.0.0.1/f"}, "private or local"),
        ({"name": "existing", "kind": "webhook"}, "already a source with this name"),
    ],
)
def test_a_source_form_with_a_problem_says_so_and_adds_nothing(
    client, comms, feed_dir, data, message
):
    make_source(Source.Kind.WEBHOOK, name="Existing")
    client.force_login(comms)
    response = client.post(reverse("prevention:source_add"), {"platform": "other", **data})
    assert response.status_code == 200 and message in text(response)
    assert Source.objects.count() == 1


def test_comms_edit_a_feed_and_a_new_address_starts_afresh(client, comms, feed_dir):
    (feed_dir / "new.xml").write_bytes(rss())
    later = timezone.now() + timedelta(hours=3)
    source = make_source(
        feed_url="file://feed.xml",
        consecutive_failures=4,
        last_error="HTTP 500",
        next_fetch_at=later,
    )
    client.force_login(comms)
    form = text(client.get(reverse("prevention:source_edit", args=[source.pk])))
    assert 'name="kind"' not in form and "file://feed.xml" in form
    response = client.post(
        reverse("prevention:source_edit", args=[source.pk]),
        {"name": "Renamed", "feed_url": "file://new.xml", "platform": "forum"},
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.name, source.feed_url, source.platform, source.kind) == (
        "Renamed",
        "file://new.xml",
        "forum",
        "feed",
    )
    assert (source.consecutive_failures, source.last_error, source.next_fetch_at) == (0, "", None)


def test_editing_a_webhook_keeps_its_secret_and_slug(client, comms):
    source = make_source(Source.Kind.WEBHOOK, name="Tool")
    secret, slug = source.secret, source.slug
    client.force_login(comms)
    form = text(client.get(reverse("prevention:source_edit", args=[source.pk])))
    assert 'name="feed_url"' not in form
    client.post(
        reverse("prevention:source_edit", args=[source.pk]),
        {"name": "Tool (renamed)", "platform": "reddit", "feed_url": "file://x.xml"},
    )
    source.refresh_from_db()
    assert (source.name, source.platform, source.secret, source.slug, source.feed_url) == (
        "Tool (renamed)",
        "reddit",
        secret,
        slug,
        "",
    )


def test_a_deactivated_source_takes_nothing_in_until_reactivated(client, comms, feed_dir, terms):
    (feed_dir / "feed.xml").write_bytes(
        rss({"link": "https://a.example.com/1", "text": "Northwind"})
    )
    feed = make_source(feed_url="file://feed.xml")
    webhook = make_source(Source.Kind.WEBHOOK)
    client.force_login(comms)
    for source in (feed, webhook):
        response = client.post(
            reverse("prevention:source_deactivate", args=[source.pk]), follow=True
        )
        assert "is deactivated" in text(response)
    assert tasks.fetch_due_sources() == 0
    url = reverse("prevention:intake_webhook", args=[webhook.slug])
    body = json.dumps({"items": [{"url": "https://a.example.com/2", "text": "Northwind"}]})
    timestamp = str(int(time.time()))
    signed = intake.sign(secret=webhook.secret, timestamp=timestamp, body=body.encode())
    headers = {"X-PolicyHub-Timestamp": timestamp, "X-PolicyHub-Signature": f"sha256={signed}"}
    refused = client.post(url, body, content_type="application/json", headers=headers)
    assert refused.status_code == 401 and Incident.objects.count() == 0
    again = client.post(reverse("prevention:source_deactivate", args=[feed.pk]), follow=True)
    assert "already deactivated" in text(again)

    client.post(reverse("prevention:source_activate", args=[feed.pk]))
    feed.refresh_from_db()
    assert feed.active and feed.next_fetch_at is None
    assert tasks.fetch_due_sources() == 1 and Incident.objects.count() == 1


def test_fetch_now_asks_a_worker_and_says_so(
    client, comms, feed_dir, no_broker, django_capture_on_commit_callbacks
):
    source = make_source(
        feed_url="file://feed.xml", next_fetch_at=timezone.now() + timedelta(hours=2)
    )
    client.force_login(comms)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("prevention:source_fetch", args=[source.pk]), follow=True)
    assert "is being fetched" in text(response)
    assert no_broker == [{"args": (source.pk,), "retry": False}]
    source.refresh_from_db()
    assert source.next_fetch_at <= timezone.now()


def test_a_webhook_or_a_deactivated_feed_is_not_fetched_now(client, comms, no_broker):
    webhook = make_source(Source.Kind.WEBHOOK)
    off = make_source(active=False)
    client.force_login(comms)
    first = client.post(reverse("prevention:source_fetch", args=[webhook.pk]), follow=True)
    assert "Only feeds are fetched" in text(first)
    second = client.post(reverse("prevention:source_fetch", args=[off.pk]), follow=True)
    assert "reactivate it to fetch it" in text(second)
    assert no_broker == []


# --- failing sources and matched posts ----------------------------------------------------


def test_failing_sources_are_shown_first_with_their_error_and_next_try(client, comms):
    now = timezone.now()
    retry = now + timedelta(minutes=20)
    make_source(name="Healthy feed", last_success_at=now)
    make_source(
        name="Broken feed",
        consecutive_failures=3,
        last_error="The feed's server answered HTTP 500 (Internal Server Error).",
        next_fetch_at=retry,
    )
    client.force_login(comms)
    html = text(client.get(reverse("prevention:sources")))
    alert = html[html.index("1 source failing") : html.index("</section>")]
    assert "Broken feed" in alert and "Healthy feed" not in alert
    assert "HTTP 500 (Internal Server Error)" in alert and "3 failures in a row" in alert
    assert timezone.localtime(retry).strftime("%H:%M") in alert
    assert ">Failing</span>" in html and ">Active</span>" in html

    broken = Source.objects.get(name="Broken feed")
    detail = text(client.get(reverse("prevention:source_detail", args=[broken.pk])))
    assert "This feed is failing" in detail and "HTTP 500" in detail and "Next try" in detail


def test_a_source_lists_the_posts_it_matched_with_their_incidents(client, comms, terms):
    source = make_source(Source.Kind.WEBHOOK)
    matched_posts(source, 2)
    client.force_login(comms)
    html = text(client.get(reverse("prevention:source_detail", args=[source.pk])))
    for incident in Incident.objects.all():
        assert incident.reference in html
        assert reverse("incidents:detail", args=[incident.pk]) in html
    assert f"https://blog.example.com/{source.pk}/1" in html and "@writer1" in html
    assert "Project Atlas" in html


def test_sources_list_query_count_does_not_grow(client, comms, django_assert_max_num_queries):
    def fill(count, start=0):
        for n in range(start, start + count):
            make_source(name=f"Feed {n:03}", consecutive_failures=n % 2, last_error="HTTP 500")
            make_source(Source.Kind.WEBHOOK, name=f"Hook {n:03}")

    fill(2)
    client.force_login(comms)
    url = reverse("prevention:sources")
    client.get(url)
    with django_assert_max_num_queries(10) as few:
        client.get(url)
    fill(30, start=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = text(client.get(url))
    assert "1–25 of 64 sources" in html and "16 sources failing" in html


def test_source_detail_query_count_does_not_grow(
    client, comms, terms, django_assert_max_num_queries
):
    source = make_source(Source.Kind.WEBHOOK)
    matched_posts(source, 2)
    client.force_login(comms)
    url = reverse("prevention:source_detail", args=[source.pk])
    client.get(url)
    with django_assert_max_num_queries(10) as few:
        client.get(url)
    matched_posts(source, 30, start=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = text(client.get(url))
    assert "1–20 of 32 posts" in html and html.count("INC-") == 20


# --- the incident page's panel -----------------------------------------------------------


def test_the_incident_panel_says_how_intake_noticed_it_in_two_queries(
    comms, terms, django_assert_max_num_queries
):
    source = make_source(name="Brand mentions")
    intake.ingest(
        source=source,
        items=[PublicPost(url="https://a.example.com/1", text="PROJECT ATLAS and Northwind")],
    )
    incident = Incident.objects.get()
    with django_assert_max_num_queries(2):
        html = unescape(
            render_to_string("prevention/_incident_intake.html", {"incident": incident})
        )
    assert "Noticed by intake from Brand mentions" in html
    assert "Project Atlas</strong>: found “PROJECT ATLAS”" in html
    assert "<strong>Northwind</strong>" in html and "found “Northwind”" not in html
    assert incident.intake.text_sha256 in html


def test_the_incident_panel_shows_nothing_for_a_reported_incident(
    employee, django_assert_max_num_queries
):
    from incidents.tests.factories import reported

    incident = reported(employee)
    with django_assert_max_num_queries(1):
        html = render_to_string("prevention/_incident_intake.html", {"incident": incident})
    assert html.strip() == ""
