"""The incidents demo's stories as the player tells them: the ~30 told one by one
(`stories` in demo/incidents.json) and the ~40 that fill the year behind them (`past`,
each a telling of one of the `scenarios`).

The year behind the stories gives the remediation dashboard trends: two to five
incidents a month, on many platforms and kinds of information, the same kind of slip on
the same platform more than once, most closed, contained and closed more quickly as the
year went on (a year ago it took days to contain a post and weeks to close; since the
briefing on mistakes and the self-report button, hours and days), some actions done late
and some reviews signed off late, and a few still open with overdue actions. People from
every department are involved, Marcus Reid's sales team among them (he signs off their
reviews).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

from demo.players import load_story
from demo.players.people import DEMO_ACCOUNTS, HEADS, staff_rows
from incidents.models import Assessment, Incident, Takedown
from incidents.services import REVIEW_FIELDS

STORY = load_story("incidents")
COMMS = STORY["handlers"]["comms"]  # Chloe Summers, Head of Communications: owns most
HR = STORY["handlers"]["hr"]  # Hannah Brooks, HR/legal: owns the conduct cases
HOURS = STORY["step_hours"]
NOTES = STORY["notes"]

Outcome = Assessment.Outcome


@dataclass(frozen=True)
class Story:
    what: str  # what happened, in the reporter's words: also how a second run knows it
    reporter: str
    days_ago: float
    stage: str
    platform: str = Incident.Platform.LINKEDIN
    information: str = Incident.Information.CONFIDENTIAL
    severity: str = Incident.Severity.MEDIUM
    reach: int | None = None
    url: str = ""
    handle: str = ""
    posted_hours_before: float | None = 3
    self_reported: bool = False
    involved: tuple[str, ...] = ()
    no_individual: bool = False
    owner: str = COMMS
    outcome: str = ""  # an answer sheet's name; empty with no individual involved
    rerun_from: str = ""  # an earlier run's answer sheet, superseded by `outcome`
    act: str = ""
    takedowns: tuple[tuple[str, str, str, str], ...] = ()  # what, asked of, status, note
    no_takedown: str = ""
    statement: str = ""
    statement_approved: bool = True
    screenshot: str = ""  # a generated PNG: "post" or "thread"
    withdrawn_evidence: str = ""  # a second capture, withdrawn with this reason
    fix: str = NOTES["default_fix"]
    open_actions: int = 0  # in remediation: how many of the plan are still open
    waive_last: str = ""  # the last template action waived, with this reason
    extra_actions: tuple[tuple[str, str, str], ...] = ()  # title, owner, note when done
    review: tuple[str, str, str, str, str] = ()  # summary, factors, sooner, well, check
    signer: str = ""
    lesson: tuple[str, str] = ()  # title, text
    briefing_point: str = ""  # the lesson becomes a talking point for the briefing
    feeds_policy: bool = False  # the lesson is linked to the social media policy's version
    pace: float = 1.0
    hour: int = 10
    # The history adds its own timings; the stories keep the defaults.
    contain_pace: float | None = None  # pace up to containment (`pace` when None)
    # Hours (at `pace`) between one action closed and the next, from the last action to
    # the review, and from the review to its sign-off.
    action_gap: float = HOURS["action_gap"]
    review_after: float = HOURS["review_after"]
    sign_off_after: float = HOURS["sign_off_after"]


def _review(spec: dict) -> tuple[str, ...]:
    return tuple(spec[name] for name in REVIEW_FIELDS)


def _story(spec: dict) -> Story:
    """A story as written in the JSON: named parts become the player's tuples."""
    fields = dict(spec)
    if "review" in fields:
        fields["review"] = _review(fields["review"])
    if "takedowns" in fields:
        fields["takedowns"] = tuple(
            (t["what"], t["asked_of"], t["status"], t["note"]) for t in fields["takedowns"]
        )
    if "lesson" in fields:
        fields["lesson"] = (fields["lesson"]["title"], fields["lesson"]["text"])
    if "extra_actions" in fields:
        fields["extra_actions"] = tuple(
            (a["title"], a["owner"], a["note"]) for a in fields["extra_actions"]
        )
    if "involved" in fields:
        fields["involved"] = tuple(fields["involved"])
    return Story(**fields)


STORIES: tuple[Story, ...] = tuple(_story(spec) for spec in STORY["stories"])


# --- the year behind the stories ---------------------------------------------------------


@dataclass(frozen=True)
class Past:
    """One incident of the year: when, which scenario, who, and how it went."""

    days_ago: float
    scenario: str
    detail: str
    involved: str = ""  # "" when no individual is involved
    reporter: str = COMMS  # "self" for a self-report
    sheet: str = Outcome.HUMAN_ERROR
    stage: str = Incident.Status.CLOSED
    severity: str = ""  # the scenario's unless given
    late_actions: bool = False
    late_review: bool = False
    open_actions: int = 0
    manager_action: str = ""  # an action for the person's line manager
    hour: int = 11


def _jitter(key: str, salt: str) -> float:
    """A stable factor between 0.75 and 1.25 per incident."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()
    return 0.75 + int(digest[:8], 16) / 0x1_0000_0000 / 2


def _managers() -> dict[str, str]:
    managers = {email: manager for email, _n, _d, _t, manager in staff_rows()}
    managers.update({email: "leader@example.com" for email, *_ in HEADS})
    managers.update({email: manager for email, _n, _d, _t, manager, *_ in DEMO_ACCOUNTS})
    return managers


def _past_story(past: Past, number: int, managers: dict[str, str]) -> Story:
    scenario = STORY["scenarios"][past.scenario]
    what = scenario["what"].format(detail=past.detail)
    severity = past.severity or scenario["severity"]
    accountable = past.sheet in (Outcome.RECKLESS, Outcome.DELIBERATE)
    owner = (
        HR if accountable or scenario["information"] == Incident.Information.OFFENSIVE else COMMS
    )
    close_pace = STORY["close_pace"]
    months = min(int(past.days_ago // 30.44), len(close_pace) - 1)
    contain_pace = STORY["contain_pace"][months] * _jitter(what, "contain")
    pace = close_pace[months] * _jitter(what, "close")
    # Actions closed within their due date, or well after it.
    due_hours = settings.INCIDENT_ACTION_DUE_DAYS[severity] * 24
    spread = due_hours * (2.2 if past.late_actions else 0.7)
    extra = ()
    person = past.involved
    manager = managers.get(person, "")
    if past.manager_action:
        done = "" if past.stage == Incident.Status.REMEDIATION else NOTES["manager_action_done"]
        extra = ((past.manager_action, manager, done),)
    steps = 5 + len(extra)
    # The review is due five working days after the last action: some came weeks late.
    review_hours = 24 * (11 + 6 * _jitter(what, "review")) if past.late_review else 30
    sign_off_hours = 24 * 5 if past.late_review else 26
    signer = manager if manager not in ("", COMMS, HR, owner) else "leader@example.com"
    if not person:
        signer = "support.head@example.com" if number % 2 else "sales.head@example.com"
    local = person.split("@")[0]
    first, _, last = local.partition(".")
    url, handle = STORY["handles"][scenario["platform"]]
    fields = {
        "name": local.replace(".", "-") or "exampleco",
        "short": first + last[:1],
        "n": number,
    }
    takedown = scenario["takedown"]
    return Story(
        what=what,
        reporter=person if past.reporter == "self" else past.reporter,
        days_ago=past.days_ago,
        stage=past.stage,
        platform=scenario["platform"],
        information=scenario["information"],
        severity=severity,
        reach=round(scenario["reach"] * _jitter(what, "reach")),
        url=url.format(**fields),
        handle=handle.format(**fields),
        posted_hours_before=round(2 + 30 * (_jitter(what, "posted") - 0.75), 1),
        self_reported=past.reporter == "self",
        involved=(person,) if person else (),
        no_individual=not person,
        owner=owner,
        outcome=past.sheet if person else "",
        act=scenario["act"],
        takedowns=((takedown["what"], takedown["asked_of"], Takedown.Status.REMOVED, ""),),
        statement=scenario["statement"],
        fix=scenario["fix"] or NOTES["case_fix"],
        open_actions=past.open_actions,
        waive_last=NOTES["no_individual_fix_waiver"] if not person else "",
        extra_actions=extra,
        review=_review(scenario["review"]),
        signer=signer if past.stage == Incident.Status.CLOSED else "",
        pace=pace,
        contain_pace=contain_pace,
        action_gap=spread / steps / pace,
        review_after=review_hours / pace,
        sign_off_after=sign_off_hours / pace,
        hour=past.hour,
    )


def history() -> tuple[Story, ...]:
    """The incidents of the year behind the stories, in the order of `past`."""
    managers = _managers()
    return tuple(
        _past_story(Past(**spec), number, managers)
        for number, spec in enumerate(STORY["past"], start=1)
    )
