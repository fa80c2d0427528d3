"""How big the synthetic organisation is (`Scale`: everything counted at 10,000 people
and scaled to the size asked for) and what `build` hands back to the bench (`Org`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from people.models import User
from policies.models import PolicyVersion
from training.models import Requirement

PEOPLE = 10_000  # the default size; SIZE=100000 make bench builds ten times as many
DAY = timedelta(days=1)
# At 10,000 people: training sessions (the first 320 in the past) and bookings, incidents
# and their actions.
SESSIONS, BOOKINGS, PAST_SESSIONS = 400, 20_000, 320
INCIDENTS, ACTIONS = 3000, 12_000


@dataclass(frozen=True)
class Scale:
    """How much of everything an organisation of `people` has: at 10,000 people, 64
    directors, 640 line managers, 400 training sessions with 20,000 bookings, 3,000
    incidents with 12,000 actions; the same per person at any other size (a director's
    and a manager's span stay the same, so one person's pages hold as much as before)."""

    people: int = PEOPLE

    def of(self, count: int, least: int = 1) -> int:
        return max(least, round(count * self.people / PEOPLE))

    @property
    def directors(self) -> int:
        return self.of(64, least=8)

    @property
    def managers(self) -> int:
        return self.of(640, least=16)

    @property
    def sessions(self) -> int:
        return self.of(SESSIONS, least=10)

    @property
    def past_sessions(self) -> int:
        return self.sessions * PAST_SESSIONS // SESSIONS

    @property
    def bookings(self) -> int:
        return self.of(BOOKINGS, least=300)

    @property
    def incidents(self) -> int:
        return self.of(INCIDENTS, least=100)

    @property
    def actions(self) -> int:
        return self.of(ACTIONS, least=400)


@dataclass
class Org:
    """What the bench needs to know about what was built."""

    now: datetime
    scale: Scale = field(default_factory=Scale)
    ceo: User = None
    viewer: User = None  # holds every role group: sees the most on role pages
    busy_manager: User = None  # a line manager with the most to do on My tasks
    division_head: User = None  # a team about an eighth of the company
    counts: Counter = field(default_factory=Counter)
    biggest_version: PolicyVersion = None
    tenth_version: PolicyVersion = None
    biggest_requirement: Requirement = None
    incident_statuses: Counter = field(default_factory=Counter)
    assignment_statuses: Counter = field(default_factory=Counter)  # "overdue" among "open"
    overdue_actions: int = 0
    # The worker's count of the compliance trend's finished months after the build (a
    # bulk write forgets nothing, so it is run here as a change's commit would ask).
    months_filled_seconds: float = 0.0
