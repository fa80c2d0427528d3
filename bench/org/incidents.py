"""Incidents: each walked through the workflow until now (or until it stalled), with the
history rows of every step, people involved, takedowns, assessments, actions and
reviews, as the services would have written them."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from bench.org.bulk import bulk
from bench.org.people import People
from bench.org.scale import Org
from incidents import assessment as guide
from incidents.models import (
    ActionItem,
    Assessment,
    Incident,
    IncidentCounter,
    IncidentEvent,
    Review,
    Takedown,
)
from incidents.services import PLAN_TEMPLATES
from people import roles

ORDER = ("reported", "triage", "contained", "classified", "remediation", "review", "closed")
# How long each step takes (hours): the lower and upper bound of a uniform draw.
STEP_HOURS = {
    "triage": (1, 24),
    "contained": (2, 72),
    "classified": (24, 240),
    "remediation": (12, 72),
    "review": (120, 960),
    "closed": (48, 480),
}
SEVERITIES = (("low", 0.35), ("medium", 0.4), ("high", 0.2), ("critical", 0.05))


def add_incidents(org: Org, rng: random.Random, people: People) -> None:
    counts, now = org.counts, org.now
    handlers, hr = people.handlers, people.groups[roles.HR_LEGAL]
    reporters = people.active
    managers = people.line_managers
    busy = org.busy_manager.pk
    busy_reports = [pk for pk, boss in people.manager.items() if boss == busy]
    reported = sorted(
        now - timedelta(minutes=rng.randint(30, 365 * 24 * 60)) for _ in range(org.scale.incidents)
    )
    per_year: Counter = Counter()
    incidents, stories = [], []
    for n, at in enumerate(reported):
        year = timezone.localdate(at).year
        per_year[year] += 1
        severity = rng.choices([s for s, _ in SEVERITIES], weights=[w for _, w in SEVERITIES])[0]
        reporter = rng.choice(reporters)
        self_reported = rng.random() < 0.3
        nobody = rng.random() < 0.1
        involved = (
            []
            if nobody
            else ([reporter] if self_reported else rng.sample(reporters, rng.choice((1, 1, 2))))
        )
        if n % org.scale.of(60) == 0 and not nobody:
            involved = [rng.choice(busy_reports)]  # My tasks: reviews for the busy manager
        accountable = not self_reported and rng.random() < 0.12
        # Walk the workflow until the next step would be in the future, or it stalls.
        steps = [("reported", at)]
        for status in ORDER[1:]:
            low, high = STEP_HOURS[status]
            when = steps[-1][1] + timedelta(hours=rng.uniform(low, high))
            if when >= now or rng.random() < 0.04:
                break
            steps.append((status, when))
        status = steps[-1][0]
        owner = (
            (rng.choice(hr) if accountable else rng.choice(handlers)) if len(steps) > 1 else None
        )
        times = dict(steps)
        incidents.append(
            Incident(
                reference=f"INC-{year}-{per_year[year]:04d}",
                year=year,
                number=per_year[year],
                reporter_id=reporter,
                self_reported=self_reported,
                what_happened="A post shared something it should not have.",
                platform=rng.choice(Incident.Platform.values),
                url=f"https://social.example.com/post/{n}",
                posted_at=at - timedelta(hours=rng.randint(0, 48)),
                noticed_at=at,
                information=rng.choice(Incident.Information.values),
                estimated_reach=rng.choice((None, 50, 500, 5000, 50000)),
                severity=severity,
                no_individual_involved=nobody,
                status=status,
                track=(
                    "none"
                    if "classified" not in times
                    else ("accountability" if accountable else "learning")
                ),
                owner_id=owner,
                no_takedown_note="Nothing public to take down." if "contained" in times else "",
                contained_at=times.get("contained"),
                closed_at=times.get("closed"),
                version=len(steps) * 2,
                created_at=at,
                updated_at=steps[-1][1],
            )
        )
        stories.append((steps, involved, owner))
    incidents = bulk(Incident, incidents, counts)
    IncidentCounter.objects.bulk_create(
        IncidentCounter(year=year, last=last) for year, last in per_year.items()
    )
    involved_rows = []
    for incident, (_steps, involved, _owner) in zip(incidents, stories, strict=True):
        involved_rows += [
            Incident.people_involved.through(incident_id=incident.pk, user_id=pk) for pk in involved
        ]
    bulk(Incident.people_involved.through, involved_rows, counts, ids=False)

    # How many actions each incident in remediation or later has: the 5 of the track's
    # template, some plans cut down to 3 or given follow-ups, exactly 12,000 in all (at
    # 10,000 people).
    planned = [i for i, inc in enumerate(incidents) if inc.status in ORDER[4:]]
    plan_size = dict.fromkeys(planned, 5)
    wanted_actions, total = org.scale.actions, sum(plan_size.values())
    while total != wanted_actions:
        index = rng.choice(planned)
        if total < wanted_actions:
            plan_size[index] += 1
            total += 1
        elif plan_size[index] > 3:
            plan_size[index] -= 1
            total -= 1

    events, assessments, actions, reviews, takedowns = [], [], [], [], []
    for index, (incident, (steps, involved, owner)) in enumerate(
        zip(incidents, stories, strict=True)
    ):
        times = dict(steps)
        previous = ""
        for status, when in steps:
            by = incident.reporter_id if status == "reported" else owner
            events.append(
                IncidentEvent(
                    incident=incident,
                    what="status",
                    from_value=previous,
                    to_value=status,
                    by_id=by,
                    at=when,
                    note=("Self-reported" if incident.self_reported else "Reported")
                    if status == "reported"
                    else "",
                )
            )
            previous = status
        if owner:
            events.append(
                IncidentEvent(
                    incident=incident,
                    what="owner",
                    to_value=people.name[owner],
                    by_id=owner,
                    at=times["triage"] - timedelta(minutes=5),
                )
            )
        if "contained" in times:
            if rng.random() < 0.4:
                requested = times["triage"] + (times["contained"] - times["triage"]) / 3
                takedowns.append(
                    Takedown(
                        incident=incident,
                        what="The post",
                        asked_of=incident.get_platform_display(),
                        requested_at=requested,
                        requested_by_id=owner,
                        status=rng.choice(("removed", "removed", "refused")),
                        resolved_at=times["contained"] - timedelta(minutes=10),
                    )
                )
        if "classified" in times:
            classified = times["classified"]
            for pk in involved:
                outcome = (
                    rng.choice(("reckless", "deliberate"))
                    if incident.track == "accountability"
                    else rng.choice(("human_error", "human_error", "at_risk"))
                )
                answers = {
                    key: {"value": guide.NO, "by": owner, "at": classified.isoformat()}
                    for key in guide.ANSWER_KEYS
                }
                started = classified - timedelta(hours=rng.randint(2, 48))
                if rng.random() < 0.05:
                    assessments.append(
                        Assessment(
                            incident=incident,
                            person_id=pk,
                            act="Posted it",
                            question_set=guide.QUESTION_SET_VERSION,
                            answers=answers,
                            suggested_outcome=outcome,
                            final_outcome=outcome,
                            assessor_id=owner,
                            started_at=started - timedelta(hours=3),
                            finished_at=started - timedelta(hours=2),
                            superseded_at=started + timedelta(hours=1),
                        )
                    )
                assessments.append(
                    Assessment(
                        incident=incident,
                        person_id=pk,
                        act="Posted it",
                        question_set=guide.QUESTION_SET_VERSION,
                        answers=answers,
                        suggested_outcome=outcome,
                        final_outcome=outcome,
                        assessor_id=owner,
                        started_at=started,
                        finished_at=started + timedelta(hours=1),
                    )
                )
            events.append(
                IncidentEvent(
                    incident=incident,
                    what="track",
                    from_value="none",
                    to_value=incident.track,
                    by_id=owner,
                    at=classified - timedelta(minutes=30),
                )
            )
        if "remediation" in times:
            start = times["remediation"]
            due = start.date() + timedelta(
                days=settings.INCIDENT_ACTION_DUE_DAYS[incident.severity]
            )
            titles = list(PLAN_TEMPLATES[incident.track])[: plan_size[index]]
            titles += [f"Follow-up {k + 1}" for k in range(plan_size[index] - len(titles))]
            finished = times.get("review") or now
            for k, title in enumerate(titles):
                action_owner = owner if k % 2 == 0 else rng.choice(reporters)
                if incident.status == "remediation" and index % org.scale.of(97) == 0:
                    action_owner = busy  # My tasks: the busy manager owns a few
                created = start + timedelta(minutes=k)
                done = created + (finished - created) * rng.uniform(0.1, 0.95)
                closed_by_now = incident.status != "remediation" or rng.random() < 0.4
                action = ActionItem(
                    incident=incident,
                    title=title,
                    owner_id=action_owner,
                    due_date=due,
                    created_at=created,
                )
                if closed_by_now and done < now:
                    waived = rng.random() < 0.08
                    action.status = "waived" if waived else "done"
                    action.note = "Not needed after all." if waived else "Done."
                    action.completed_at, action.completed_by_id = done, action_owner
                    events.append(
                        IncidentEvent(
                            incident=incident,
                            what="action",
                            to_value=action.status,
                            by_id=action_owner,
                            at=done,
                            note=f"{title}: {action.note}",
                        )
                    )
                actions.append(action)
                events.append(
                    IncidentEvent(
                        incident=incident,
                        what="action",
                        to_value="added",
                        by_id=owner,
                        at=created,
                        note=title,
                    )
                )
        if "review" in times:
            written = times["review"] - timedelta(hours=2)
            signed = "closed" in times or rng.random() < 0.5
            signer = people.manager.get(involved[0]) if involved else None
            if signer in (None, owner):
                signer = rng.choice([m for m in managers[:80] if m != owner])
            if incident.status == "review" and involved and involved[0] in busy_reports:
                signed, signer = False, None
            signed_at = (
                times["closed"] - timedelta(hours=1)
                if "closed" in times
                else times["review"] + (now - times["review"]) / 2
            )
            reviews.append(
                Review(
                    incident=incident,
                    summary="What happened, without blame.",
                    contributing_factors="No checklist for posting.",
                    spotted_sooner="A second pair of eyes.",
                    written_by_id=owner,
                    written_at=written,
                    signed_off_by_id=signer if signed else None,
                    signed_off_at=signed_at if signed else None,
                )
            )
            events.append(
                IncidentEvent(
                    incident=incident, what="review", to_value="written", by_id=owner, at=written
                )
            )
            if signed:
                events.append(
                    IncidentEvent(
                        incident=incident,
                        what="review",
                        to_value="signed off",
                        by_id=signer,
                        at=signed_at,
                    )
                )
    bulk(Takedown, takedowns, counts, ids=False)
    bulk(Assessment, assessments, counts, ids=False)
    bulk(ActionItem, actions, counts, ids=False)
    bulk(Review, reviews, counts, ids=False)
    bulk(IncidentEvent, events, counts, ids=False)
    org.incident_statuses = Counter(i.status for i in incidents)
    org.overdue_actions = sum(1 for a in actions if a.status == "open" and a.due_date < now.date())
