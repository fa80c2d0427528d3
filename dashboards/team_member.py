"""My team, one member: everything one of a manager's reports still has to do, item by
item (the list's figures are `dashboards.team`'s; the same rules).

Privacy: actions of accountability-track incidents are left out (`visible_open_actions`).
An action's title and its incident's reference are shown only when the manager may open
that incident (see incidents.permissions), and never what the incident was about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from dashboards.team import open_assignments, visible_open_actions
from incidents.permissions import visible_incidents
from people.audience import team
from training.compliance import Status as Standing
from training.compliance import accepted_topics, status_for, upcoming_seats
from training.models import Requirement, Session


def team_member(manager, pk: int):
    """One of the manager's active reports, or None."""
    return team(manager).filter(pk=pk).select_related("department", "manager").first()


@dataclass(frozen=True)
class Briefing:
    """Where one person stands against one training requirement."""

    status: Standing  # from training.compliance.status_for
    to_book: bool  # not attended and no seat: what a nudge reminds them of
    seat: Session | None  # when booked: the earliest upcoming session of an accepted topic

    @property
    def requirement(self) -> Requirement:
        return self.status.requirement

    @property
    def booked(self) -> bool:
        return not self.status.compliant and not self.to_book


@dataclass(frozen=True)
class Member:
    """Everything one person still has to do, item by item."""

    assignments: list  # open acknowledgements, with `overdue` set on each
    briefings: list[Briefing]
    actions: list  # open actions of incidents that are not restricted, `overdue` set

    @property
    def briefings_not_attended(self) -> list[Briefing]:
        return [b for b in self.briefings if not b.status.compliant]

    @property
    def nudgeable(self) -> bool:
        return bool(self.assignments or any(b.to_book for b in self.briefings) or self.actions)


def member_items(person, *, now: datetime, viewer) -> Member:
    """The person's open acknowledgements, training standing and open actions: a fixed
    number of queries however many of each they have. An action's title and incident
    are shown (`shown`) only when `viewer` may open that incident; otherwise it is just
    an action with a due date, as on the list."""
    today = timezone.localdate(now)
    assignments = list(
        open_assignments()
        .filter(person=person)
        .select_related("policy", "version")
        .order_by("due_date", "pk")
    )
    actions = list(
        visible_open_actions()
        .filter(owner=person)
        .select_related("incident")
        .order_by("due_date", "pk")
    )
    for item in (*assignments, *actions):
        item.overdue = item.due_date < today
    may_open = set(
        visible_incidents(viewer)
        .filter(pk__in={action.incident_id for action in actions})
        .values_list("pk", flat=True)
    )
    for action in actions:
        action.shown = action.incident_id in may_open
    # The rule of `requirements_to_book`: a requirement not met is booked when one of
    # these seats is on a session of an accepted topic (the earliest is shown).
    seats = list(
        upcoming_seats(now=now)
        .filter(person=person)
        .select_related("session")
        .order_by("session__starts_at", "pk")
    )
    briefings = []
    for status in status_for(person, now=now):
        seat = None
        if not status.compliant:
            accepted = accepted_topics(status.requirement)
            seat = next((b.session for b in seats if b.session.topic_id in accepted), None)
        briefings.append(Briefing(status, not status.compliant and seat is None, seat))
    briefings.sort(key=lambda b: (b.status.compliant, b.requirement.name.lower()))
    return Member(assignments=assignments, briefings=briefings, actions=actions)
