"""What the figures count: who is looking (Viewer), the filters they chose (Filters)
and the incidents both let them count (incidents)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from dashboards.remediation.periods import local_day_start
from incidents import permissions
from incidents.models import Incident
from people import audience
from people.models import Department


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters, already validated (see dashboards.forms)."""

    start: date | None = None  # noticed on or after
    end: date | None = None  # noticed on or before
    department: Department | None = None
    platform: str = ""
    # The department and everything below it, looked up once (see dashboards.forms).
    department_ids: frozenset[int] = frozenset()

    def query(self, *, period: bool = True) -> dict[str, str]:
        """The filters as GET parameters, for links to the lists."""
        params = {}
        if period and self.start:
            params["start"] = self.start.isoformat()
        if period and self.end:
            params["end"] = self.end.isoformat()
        if self.department:
            params["department"] = str(self.department.pk)
        if self.platform:
            params["platform"] = self.platform
        return params


@dataclass
class Viewer:
    """Who is looking, and what that lets them count."""

    user: object
    team: QuerySet | None  # a line manager's people (ids); None for the incident team
    sees_restricted_people: bool

    @classmethod
    def of(cls, user) -> Viewer:
        team = None if permissions.sees_all(user) else audience.team(user).values("pk")
        return cls(user, team, permissions.counts_people_of_restricted(user))

    def in_team(self, person: str) -> Q:
        """`person` (a relation to a person who is never null, "owner") is in the team
        (`audience.in_team`: for the head of everyone, not one of the few outside it)."""
        return audience.in_team(self.user, person)

    def departments(self) -> QuerySet[Department]:
        """The departments the filter offers: a manager's are those of their people."""
        if self.team is None:
            return Department.objects.order_by("name")
        if audience.heads_everyone_else(self.user):
            # Nearly every department: one lookup in each finds a member of the team at
            # once, where joining the team to the departments reads everyone.
            people = self.team.filter(department_id=OuterRef("pk"))
            return Department.objects.filter(Exists(people)).order_by("name")
        return Department.objects.filter(members__pk__in=self.team).distinct().order_by("name")


def incidents(
    viewer: Viewer, filters: Filters, *, period: bool = True, base: QuerySet | None = None
) -> QuerySet[Incident]:
    """The incidents the figures count, with the filters applied; `base`: other
    incidents than those the viewer's figures count (a manager's own actions')."""
    # A department picks incidents by the people involved; for a line manager, by those
    # in their team, tested in the same subquery as the team (one test of each).
    involving = None
    if filters.department is not None:
        involving = Q(user__department_id__in=filters.department_ids)
    if base is None:
        found = permissions.incidents_for_figures(viewer.user, involving=involving)
    else:
        found = base
        if involving is not None:
            involved = Incident.people_involved.through.objects.filter(involving)
            if viewer.team is not None:
                involved = involved.filter(user_id__in=viewer.team)
            found = found.filter(pk__in=involved.values("incident_id"))
    if involving is not None and not viewer.sees_restricted_people:
        found = found.exclude(track=Incident.Track.ACCOUNTABILITY)
    if filters.platform:
        found = found.filter(platform=filters.platform)
    if period and filters.start:
        found = found.filter(noticed_at__gte=local_day_start(filters.start))
    if period and filters.end:
        found = found.filter(noticed_at__lt=local_day_start(filters.end + timedelta(days=1)))
    return found
