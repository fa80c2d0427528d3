"""The prevention demo that `manage.py seed_demo` adds (never in production).

The story is data, in demo/prevention.json; this module plays it through the services,
passing each its time (`now=`) where it takes one:

- The watch list: about a dozen entries kept by Chloe Summers (Communications) and Priya
  Shah (policy admin), code names, unreleased products, customers that may not be named
  and patterns for unpublished figures and internal host names, each naming its section
  of the social media policy. Two expire (a launch, a joint announcement), one's expiry
  was moved, one was unticked after its launch, one came from a published lesson. Every
  change is in the watch list's history.
- Post reviews in every state, asked by several people: one waiting and not yet due, one
  late (the reminder planner escalates it to the comms lead: Chloe is made one), approved,
  approved with edits (the demo employee's, answered and not yet read, so it is on her My
  tasks), advised against, and withdrawn. Two answers are kept as anonymised examples, one
  on a section of the social media policy and one on a briefing topic.
- Intake: a feed reading the local sample feed (prevention/demo_feeds/sample-feed.xml),
  registered and first fetched just after its newest post, whose matching posts opened
  incidents, and fetched again now (opening nothing: once per post); and a signed webhook
  from a social-listening tool whose deliveries over the past months opened incidents
  noticed sooner and sooner after they were posted (hours at first, minutes lately), as
  the Remediation dashboard's "posted → noticed by how it was noticed" shows next to the
  self-reports and colleague reports of the incidents demo. Those incidents were picked
  up (in triage) soon after, except the newest, still reported.

What is already there is left alone (entries by their text, reviews by requester and
draft, sources by name, intake by each post's dedupe key), so a second run changes
nothing. Policies, the briefing topic and the lesson come from the other demos when they
ran; without them the entries and examples are kept without those links.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import Incident, Lesson
from people import roles
from people.models import User
from policies.models import Policy
from prevention import intake, intake_feeds, review_services, watchlist_services
from prevention.intake_forms import webhook_posts
from prevention.models import IntakeItem, PostReview, ReviewExample, Source, WatchTerm
from prevention.watchlist_services import WatchTermError
from training.models import Topic

STORY = Path(settings.BASE_DIR) / "demo" / "prevention.json"
TRIAGE_NOTE = "Picked up from intake: checking the post and who wrote it."

Status = PostReview.Status


def load_story(path: Path = STORY) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@dataclass
class _Player:
    """Plays the story at `now`, looking people and policies up once."""

    now: datetime
    users: dict[str, User]
    policies: dict[str, Policy | None] = field(default_factory=dict)

    def user(self, email: str) -> User:
        try:
            return self.users[email]
        except KeyError:
            raise ValueError(
                f"The prevention demo needs {email}: run the people demo first."
            ) from None

    def past(self, at: datetime) -> datetime:
        if at >= self.now:
            raise ValueError(f"A demo step would happen in the future ({at:%Y-%m-%d %H:%M}).")
        return at

    def day_at(self, days_ago: int, clock: str) -> datetime:
        """`clock` ("10:05", the site's time) on the day `days_ago` days before now."""
        day = timezone.localdate(self.now) - timedelta(days=days_ago)
        hour, minute = (int(part) for part in clock.split(":"))
        return self.past(timezone.make_aware(datetime.combine(day, time(hour, minute))))

    def policy(self, title: str | None) -> Policy | None:
        if not title:
            return None
        if title not in self.policies:
            self.policies[title] = Policy.objects.filter(title=title).first()
        return self.policies[title]

    def section(self, spec: dict) -> tuple[Policy | None, str]:
        """The policy and section an entry or example names; no section without its
        policy (the policies demo did not run)."""
        policy = self.policy(spec.get("policy"))
        return policy, (spec.get("section", "") if policy else "")


# --- the comms lead -----------------------------------------------------------------------


def _make_comms_lead(user: User) -> None:
    """Late reviews escalate to the comms lead: the demo's head of communications."""
    user.groups.add(Group.objects.get_or_create(name=roles.COMMS_LEAD)[0])


# --- the watch list -----------------------------------------------------------------------


def _entry_fields(player: _Player, spec: dict) -> dict:
    policy, section = player.section(spec)
    expires = spec.get("expires_in_days")
    today = timezone.localdate(player.now, timezone=timezone.get_default_timezone())
    return {
        "kind": spec["kind"],
        "text": spec["text"],
        "name": spec.get("name", ""),
        "category": spec["category"],
        "severity": spec["severity"],
        "explanation": spec["explanation"],
        "policy": policy,
        "policy_section": section,
        "expires_on": today + timedelta(days=expires) if expires is not None else None,
        "active": spec.get("active", True),
    }


def _add_entry(player: _Player, spec: dict) -> WatchTerm | None:
    """Add the entry and play its changes; None when it is on the list already."""
    if WatchTerm.objects.filter(kind=spec["kind"], text=spec["text"]).exists():
        return None
    fields = _entry_fields(player, spec)
    by = player.user(spec["by"])
    lesson = None
    if spec.get("lesson"):
        lesson = Lesson.objects.filter(title=spec["lesson"], published=True).first()
    try:
        if lesson is not None:
            term = watchlist_services.term_from_lesson(lesson=lesson, by=by, **fields)
        else:
            term = watchlist_services.add_term(by=by, note=spec.get("note", ""), **fields)
    except WatchTermError as error:
        if "already on the watch list" in str(error):  # kept under another spelling
            return None
        raise
    for change in spec.get("changes", ()):
        spec = {**spec, **change["set"]}
        watchlist_services.change_term(
            term=term,
            by=player.user(change["by"]),
            note=change.get("note", ""),
            **_entry_fields(player, spec),
        )
    return term


def _watch_list(player: _Player, entries: list[dict]) -> int:
    return sum(_add_entry(player, spec) is not None for spec in entries)


# --- post reviews -------------------------------------------------------------------------


def _review(player: _Player, spec: dict) -> PostReview | None:
    """Ask comms, then answer, read, keep or withdraw, each at its time; None when this
    draft was asked about already."""
    requester = player.user(spec["requester"])
    if PostReview.objects.filter(requester=requester, draft=spec["draft"]).exists():
        return None
    asked = player.past(player.now - timedelta(hours=spec["asked_hours_ago"]))

    def after(hours: float) -> datetime:
        return player.past(asked + timedelta(hours=hours))

    review = review_services.ask_comms(
        requester=requester,
        draft=spec["draft"],
        platform=spec.get("platform", ""),
        image_text=spec.get("image_text", ""),
        needed_by=asked + timedelta(hours=spec["needed_in_hours"]),
        now=asked,
    )
    if "withdrawn_after_hours" in spec:
        return review_services.withdraw(
            review=review, by=requester, now=after(spec["withdrawn_after_hours"])
        )
    decision = spec.get("decision")
    if decision is None:
        return review
    decided_after = decision["after_hours"]
    review = review_services.decide(
        review=review,
        by=player.user(decision["by"]),
        decision=decision["status"],
        suggested_text=decision.get("suggested_text", ""),
        reason=decision.get("reason", ""),
        now=after(decided_after),
    )
    if "seen_after_hours" in spec:
        review_services.mark_answer_seen(
            review=review, by=requester, now=after(decided_after + spec["seen_after_hours"])
        )
    example = spec.get("example")
    if example:
        policy, section = player.section(example)
        topic = Topic.objects.filter(name=example["topic"]).first() if "topic" in example else None
        review_services.keep_example(
            review=review,
            by=player.user(example["by"]),
            text=example["text"],
            reason=example.get("reason", ""),
            policy=policy,
            policy_section=section,
            topic=topic,
            now=after(decided_after + example["after_hours"]),
        )
    return review


def _reviews(player: _Player, specs: list[dict]) -> int:
    return sum(_review(player, spec) is not None for spec in specs)


# --- intake -------------------------------------------------------------------------------


def _triage(player: _Player, incidents, at: datetime, by: User) -> None:
    for incident in incidents:
        incident_services.transition(
            incident=incident, to=Incident.Status.TRIAGE, user=by, note=TRIAGE_NOTE, now=at
        )


def _feed(player: _Player, spec: dict) -> tuple[Source, int]:
    """The sample feed, registered and first fetched just after its newest post (its
    matching posts open incidents), then fetched again now (nothing new)."""
    source = Source.objects.filter(name=spec["name"]).first()
    if source is not None:
        return source, 0
    content, headers = intake_feeds.read_feed(spec["feed"])
    posted = [post.posted_at for post in intake_feeds.parse_feed(content, headers)]
    newest = max(moment for moment in posted if moment is not None)
    fetched = newest + timedelta(minutes=spec["first_fetch_minutes_after_newest_post"])
    # A feed file dated after today (edited by hand) is read as if it came in just now.
    fetched = min(fetched, player.now - timedelta(minutes=spec["triage_after_minutes"] + 1))
    by = player.user(spec["by"])
    source, _secret = intake.create_source(
        by=by,
        name=spec["name"],
        kind=Source.Kind.FEED,
        platform=spec["platform"],
        feed_url=spec["feed"],
        now=fetched - timedelta(minutes=spec["registered_minutes_before_first_fetch"]),
    )
    first = intake_feeds.fetch_source(source=source, now=fetched)
    if not first.ok:
        raise ValueError(f"The demo's sample feed could not be read: {first.error}")
    opened = first.ingest.opened
    _triage(player, opened, fetched + timedelta(minutes=spec["triage_after_minutes"]), by)
    again = intake_feeds.fetch_source(source=source, now=player.now)
    if not again.ok or again.ingest.opened:
        raise ValueError("Fetching the sample feed again should open nothing.")
    return source, len(opened)


def _delivery_time(player: _Player, delivery: dict) -> datetime:
    if "minutes_ago" in delivery:
        return player.past(player.now - timedelta(minutes=delivery["minutes_ago"]))
    return player.day_at(delivery["days_ago"], delivery["at"])


def _payload(items: list[dict], at: datetime) -> bytes:
    """The body the tool sent: the documented {"items": [...]} with ISO times."""
    return json.dumps(
        {
            "items": [
                {
                    "url": item["url"],
                    "handle": item.get("handle", ""),
                    "platform": item.get("platform", ""),
                    "text": item["text"],
                    "posted_at": (at - timedelta(minutes=item["posted_minutes_before"]))
                    .astimezone(timezone.get_default_timezone())
                    .isoformat(),
                }
                for item in items
            ]
        },
        ensure_ascii=False,
    ).encode("utf-8")


def _delivered(source: Source, posts) -> bool:
    keys = [intake.dedupe_key(post, source=source, text=intake.post_text(post)) for post in posts]
    return IntakeItem.objects.filter(dedupe_key__in=keys).exists()


def _webhook(player: _Player, spec: dict) -> tuple[Source, int]:
    """The social-listening webhook and the deliveries it received over the months,
    each signed as the tool signs it and taken in as the webhook takes it in."""
    by = player.user(spec["by"])
    source = Source.objects.filter(name=spec["name"]).first()
    if source is None:
        source, _secret = intake.create_source(
            by=by,
            name=spec["name"],
            kind=Source.Kind.WEBHOOK,
            platform=spec["platform"],
            now=player.day_at(spec["created_days_ago"], spec["created_at"]),
        )
    opened = 0
    for delivery in spec["deliveries"]:
        at = _delivery_time(player, delivery)
        body = _payload(delivery["items"], at)
        posts = webhook_posts(body, now=at)
        if _delivered(source, posts):
            continue
        timestamp = str(int(at.timestamp()))
        signed = intake.sign(secret=source.secret, timestamp=timestamp, body=body)
        signature = intake.verify_delivery(
            source=source, timestamp=timestamp, signature=f"sha256={signed}", body=body, now=at
        )
        result = intake.deliver(source=source, signature=signature, posts=posts, now=at)
        opened += len(result.opened)
        if "triage_after_minutes" in delivery:
            triaged = player.past(at + timedelta(minutes=delivery["triage_after_minutes"]))
            _triage(player, result.opened, triaged, by)
    return source, opened


# --- the whole story ----------------------------------------------------------------------


@transaction.atomic
def seed_demo_prevention(*, now: datetime | None = None, story: dict | None = None) -> dict:
    """Play the prevention demo (demo/prevention.json by default); what is already there
    is left alone. Counts of what the demo holds, and of what this run added."""
    story = story if story is not None else load_story()
    player = _Player(
        now=now or timezone.now(),
        users={user.email: user for user in User.objects.filter(is_active=True)},
    )
    _make_comms_lead(player.user(story["comms_lead"]))
    terms_created = _watch_list(player, story["watch_list"])
    feed, feed_opened = _feed(player, story["intake"]["feed"])
    webhook, webhook_opened = _webhook(player, story["intake"]["webhook"])
    reviews_created = _reviews(player, story["reviews"])

    texts = {(spec["kind"], spec["text"]) for spec in story["watch_list"]}
    terms = [
        expires_on
        for kind, text, expires_on in WatchTerm.objects.values_list("kind", "text", "expires_on")
        if (kind, text) in texts
    ]
    reviews = PostReview.objects.filter(
        draft__in=[spec["draft"] for spec in story["reviews"]],
        requester__email__in=[spec["requester"] for spec in story["reviews"]],
    )
    waiting = reviews.filter(status=Status.PENDING)
    return {
        "terms": len(terms),
        "terms_created": terms_created,
        "expiring": sum(1 for expires_on in terms if expires_on is not None),
        "reviews": reviews.count(),
        "reviews_created": reviews_created,
        "waiting": waiting.count(),
        "late": waiting.filter(needed_by__lte=player.now).count(),
        "examples": ReviewExample.objects.filter(review__in=reviews).count(),
        "intake_incidents": IntakeItem.objects.filter(source__in=(feed, webhook)).count(),
        "intake_created": feed_opened + webhook_opened,
    }
