"""What PolicyHub already knows about a person, shown at the assessment's steps about
rules: which versions of the related policy they acknowledged and when, whether the
current version is acknowledged, and the last briefing they attended.

The related policy is the social media policy (category "social-media"); an
organisation without one is shown every published policy instead. Three queries,
however long the person's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch

from incidents.models import Incident
from policies.models import Acknowledgement, Policy, PolicyVersion
from training.models import Booking, Session


@dataclass
class PolicyFacts:
    policy: Policy
    current: PolicyVersion | None
    acknowledgements: list[Acknowledgement] = field(default_factory=list)
    # The latest acknowledgement before the post: what the person had read when they
    # posted (None if nothing, or if when it was posted is not known).
    before_post: Acknowledgement | None = None

    @property
    def current_acknowledged(self) -> Acknowledgement | None:
        """The acknowledgement that covers the current version: of it, or of an earlier
        version of the same major number (a minor change keeps acknowledgements)."""
        if self.current is None:
            return None
        return next(
            (
                ack
                for ack in self.acknowledgements
                if ack.version.major == self.current.major
                and (ack.version.major, ack.version.minor)
                <= (self.current.major, self.current.minor)
            ),
            None,
        )


@dataclass
class PersonFacts:
    person: object
    posted_at: datetime | None
    policies: list[PolicyFacts]
    last_briefing: Booking | None
    related_category: bool  # False when no social media policy exists and all are shown


def _published(queryset):
    return queryset.filter(versions__status=PolicyVersion.Status.PUBLISHED).distinct()


def related_policies() -> tuple[list[Policy], bool]:
    current = Prefetch(
        "versions",
        queryset=PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED),
        to_attr="published_versions",
    )
    policies = list(
        _published(Policy.objects.filter(category=Policy.Category.SOCIAL_MEDIA)).prefetch_related(
            current
        )
    )
    if policies:
        return policies, True
    return list(_published(Policy.objects.all()).prefetch_related(current)), False


def for_person(person, incident: Incident) -> PersonFacts:
    policies, related = related_policies()
    acknowledgements = (
        Acknowledgement.objects.filter(person=person, version__policy__in=policies)
        .select_related("version")
        .order_by("-acknowledged_at", "-sequence")
    )
    by_policy: dict[int, list[Acknowledgement]] = {}
    for ack in acknowledgements:
        by_policy.setdefault(ack.version.policy_id, []).append(ack)
    last_briefing = (
        Booking.objects.filter(person=person, status__in=Booking.PRESENT)
        .exclude(session__status=Session.Status.CANCELLED)
        .select_related("session__topic")
        .order_by("-session__starts_at", "-id")
        .first()
    )
    posted_at = incident.posted_at
    facts = []
    for policy in policies:
        acks = by_policy.get(policy.pk, [])
        facts.append(
            PolicyFacts(
                policy=policy,
                current=(policy.published_versions or [None])[0],
                acknowledgements=acks,
                before_post=next(
                    (ack for ack in acks if posted_at and ack.acknowledged_at <= posted_at), None
                ),
            )
        )
    return PersonFacts(
        person=person,
        posted_at=posted_at,
        policies=facts,
        last_briefing=last_briefing,
        related_category=related,
    )
