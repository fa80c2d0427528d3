"""What the dashboards change: a manager's nudge of one team member (what is outstanding
for them; notifications.nudging reminds of it at most once a day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from dashboards.team import open_assignments, visible_open_actions
from notifications.nudging import remind_today
from training.compliance import requirements_to_book


@dataclass(frozen=True)
class Nudge:
    outstanding: int  # items a reminder was asked for
    sent: int  # of those, new today (the rest had one already)

    @property
    def already_reminded(self) -> int:
        return self.outstanding - self.sent


def nudge(*, person, now: datetime | None = None) -> Nudge:
    """Remind `person` at once of each outstanding item: every open policy
    acknowledgement, every required briefing not yet attended (unless they have a seat
    on one that counts: the reminder would be withdrawn anyway) and every open action
    of an incident that is not restricted. The stage carries the day, so each item is
    reminded at most once a day however often the button is pressed."""
    now = now or timezone.now()
    assignments = list(open_assignments().filter(person=person).only("pk", "person_id"))
    requirements = [status.requirement for status in requirements_to_book(person, now=now)]
    actions = list(visible_open_actions().filter(owner=person).only("pk", "owner_id"))
    sent = 0
    for kind, items in (
        ("policy-nudge", [(a, person.pk) for a in assignments]),
        ("training-nudge", [(r, person.pk) for r in requirements]),
        ("incident-action-nudge", [(a, person.pk) for a in actions]),
    ):
        sent += remind_today(kind=kind, items=items, now=now)
    return Nudge(outstanding=len(assignments) + len(requirements) + len(actions), sent=sent)
