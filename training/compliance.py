"""Who has met a training requirement, and who still has to attend.

Compliant means: attended (or attended late) a session of one of the requirement's
accepted topics within the last `every_months`. A new joiner, whose start date is
less than `new_joiners_within_days` ago, is due by their start date plus that many
days; everyone else not compliant is due now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from people.audience import audience_people
from training.models import Booking, Requirement


def period_start(requirement: Requirement, now: datetime) -> datetime:
    return now - timedelta(days=round(requirement.every_months * 30.44))


def requirement_people(requirement: Requirement):
    return audience_people(
        requirement.audience,
        department_ids=requirement.audience_departments.values_list("pk", flat=True),
        group_ids=requirement.audience_groups.values_list("pk", flat=True),
    )


def last_attended(requirement: Requirement, person_ids=None) -> dict[int, datetime]:
    """When each person last attended a session of an accepted topic (one query)."""
    bookings = Booking.objects.filter(
        status__in=Booking.PRESENT,
        session__topic__in=requirement.accepted_topics.all(),
    )
    if person_ids is not None:
        bookings = bookings.filter(person_id__in=person_ids)
    return dict(
        bookings.values("person_id")
        .annotate(last=Max("session__starts_at"))
        .values_list("person_id", "last")
    )


def compliant_ids(requirement: Requirement, *, now: datetime | None = None) -> set[int]:
    now = now or timezone.now()
    start = period_start(requirement, now)
    return {pk for pk, last in last_attended(requirement).items() if last >= start}


def still_required_ids(requirement: Requirement, *, now: datetime | None = None) -> set[int]:
    """Everyone in the requirement's audience who has not attended within the period."""
    audience = set(requirement_people(requirement).values_list("pk", flat=True))
    return audience - compliant_ids(requirement, now=now)


@dataclass(frozen=True)
class Status:
    requirement: Requirement
    compliant: bool
    last_attended: datetime | None
    due_by: date | None  # when not compliant: the joiner deadline, or None for "now"
    valid_until: date | None  # when compliant: when it must be renewed

    @property
    def overdue(self) -> bool:
        return not self.compliant and (self.due_by is None or self.due_by < timezone.localdate())


def status_for(person, *, now: datetime | None = None) -> list[Status]:
    """The person's standing against every active requirement whose audience they are in."""
    now = now or timezone.now()
    statuses = []
    requirements = Requirement.objects.filter(active=True).prefetch_related(
        "accepted_topics", "audience_departments", "audience_groups"
    )
    for requirement in requirements:
        if not requirement_people(requirement).filter(pk=person.pk).exists():
            continue
        last = last_attended(requirement, [person.pk]).get(person.pk)
        months = timedelta(days=round(requirement.every_months * 30.44))
        if last is not None and last >= now - months:
            statuses.append(Status(requirement, True, last, None, (last + months).date()))
            continue
        due_by = None
        days = requirement.new_joiners_within_days
        if (
            days
            and person.start_date
            and person.start_date + timedelta(days=days) >= (timezone.localdate(now))
        ):
            due_by = person.start_date + timedelta(days=days)
        statuses.append(Status(requirement, False, last, due_by, None))
    return statuses
