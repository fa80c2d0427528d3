"""Assignments: who has a published version to acknowledge, and by when. Publishing
assigns it; `reconcile_assignments` keeps it in line with the audience as people join,
leave or move, and asks again when an acknowledgement is older than the policy allows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from notifications.services import notify_many
from policies.audience import audience_ids
from policies.models import Assignment, Policy, PolicyVersion
from policies.services.workflow import Status
from policyhub.history import ACKNOWLEDGEMENTS, changed_past


def add_assignments(*, version, person_ids, due_date: date, now: datetime) -> list[Assignment]:
    already = set(Assignment.objects.filter(version=version).values_list("person_id", flat=True))
    new = [
        Assignment(
            person_id=pk,
            policy_id=version.policy_id,
            version=version,
            due_date=due_date,
            assigned_at=now,
        )
        for pk in sorted(set(person_ids) - already)
    ]
    Assignment.objects.bulk_create(new, batch_size=1000)
    return new


def notify_published(assignments: list[Assignment], *, now: datetime) -> None:
    """Tell each newly assigned person (bulk; their digest unless they chose otherwise)."""
    notify_many(
        kind="policy-published",
        items=[(a, a.person_id) for a in assignments],
        stage="published",
        now=now,
    )


def reconcile_assignments(*, policies=None, now: datetime | None = None) -> dict[str, int]:
    """Bring every published policy's assignments in line with its audience.

    Joiners (new, imported, moved or reactivated people) get an open assignment;
    leavers' open ones close; acknowledgements older than the re-acknowledgement
    period open again. A few queries per policy, whatever the number of people.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {"assigned": 0, "closed": 0, "reopened": 0}
    published = PolicyVersion.objects.filter(status=Status.PUBLISHED).select_related("policy")
    if policies is not None:
        published = published.filter(policy__in=policies)
    for version in published:
        with transaction.atomic():
            # The policy row is what publishing locks too: never both at once.
            policy = Policy.objects.select_for_update().get(pk=version.policy_id)
            version = PolicyVersion.objects.get(pk=version.pk)
            if version.status != Status.PUBLISHED:
                continue  # superseded or retired meanwhile
            audience = audience_ids(policy)
            # Everyone with an assignment in this version's line (same major number):
            # a minor version keeps its predecessors' acknowledgements.
            line = Assignment.objects.filter(policy=policy, version__major=version.major)
            assigned = set(
                line.exclude(status=Assignment.Status.CLOSED).values_list("person_id", flat=True)
            )
            joiners = audience - assigned
            due = max(today, version.effective_from or today) + timedelta(
                days=policy.acknowledgement_window_days
            )
            # People back in the audience (reactivated, moved back) had theirs closed when
            # they left: that assignment opens again (a second one would break the
            # one-per-person-and-version rule, so it is reused, not duplicated).
            returning = {
                person_id: pk
                for person_id, pk in line.filter(status=Assignment.Status.CLOSED)
                .order_by("completed_at", "pk")
                .values_list("person_id", "pk")
                if person_id in joiners
            }
            back = list(returning.values())
            if back:
                # Reopened, they count as assigned now and no longer when they were
                # before: the finished months' figures change.
                changed_past(kind=ACKNOWLEDGEMENTS, now=now)
            for start in range(0, len(back), 500):
                counts["assigned"] += Assignment.objects.filter(
                    pk__in=back[start : start + 500]
                ).update(
                    status=Assignment.Status.OPEN,
                    version=version,
                    due_date=due,
                    assigned_at=now,
                    completed_at=None,
                )
            new = add_assignments(
                version=version, person_ids=joiners - returning.keys(), due_date=due, now=now
            )
            counts["assigned"] += len(new)
            notify_published(new, now=now)
            leavers = [
                pk
                for pk in line.filter(status=Assignment.Status.OPEN).values_list(
                    "person_id", flat=True
                )
                if pk not in audience
            ]
            for start in range(0, len(leavers), 500):
                counts["closed"] += line.filter(
                    status=Assignment.Status.OPEN, person_id__in=leavers[start : start + 500]
                ).update(status=Assignment.Status.CLOSED, completed_at=now)
            if policy.reacknowledge_months:
                # Only people still in the audience are asked again: a leaver's
                # acknowledgement stays on record instead of becoming an open task.
                cutoff = now - timedelta(days=round(policy.reacknowledge_months * 30.44))
                expired = [
                    pk
                    for pk, person_id in line.filter(
                        status=Assignment.Status.ACKNOWLEDGED, completed_at__lte=cutoff
                    ).values_list("pk", "person_id")
                    if person_id in audience
                ]
                if expired:
                    changed_past(kind=ACKNOWLEDGEMENTS, now=now)
                for start in range(0, len(expired), 500):
                    counts["reopened"] += Assignment.objects.filter(
                        pk__in=expired[start : start + 500]
                    ).update(
                        status=Assignment.Status.OPEN,
                        version=version,
                        due_date=today + timedelta(days=policy.acknowledgement_window_days),
                        assigned_at=now,
                        completed_at=None,
                    )
    return counts


def open_assignment(*, policy: Policy, person) -> Assignment | None:
    return Assignment.objects.filter(
        policy=policy, person=person, status=Assignment.Status.OPEN
    ).first()
