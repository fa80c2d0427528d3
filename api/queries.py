"""Reads for the API, built on the queries the pages use, so that a figure or a list
is the same here as there. Every list is a queryset the view pages, and a page costs a
fixed number of queries however many rows it has."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet, prefetch_related_objects

from dashboards import team as team_queries
from dashboards import team_member
from dashboards.compliance import Scope
from incidents import permissions as incident_permissions
from incidents.models import ActionItem, Incident
from incidents.services import can_assess
from people.audience import with_sub_departments
from policies.models import Assignment, Policy, PolicyVersion
from policies.permissions import can_manage
from policies.queries import NO_DEPARTMENT, Figures, version_line
from policies.reading import readable_policies_list
from training.compliance import active_requirements

PUBLISHED = PolicyVersion.Status.PUBLISHED


# --- people ----------------------------------------------------------------------------


def people_in(
    scope: Scope,
    *,
    email: str = "",
    department_ids: set[int] | None = None,
    no_department: bool = False,
) -> QuerySet:
    """The active people in `scope`, by name; optionally one email address, or one
    department and those below it (or people without a department)."""
    people = scope.people(get_user_model().objects.filter(is_active=True))
    if email:
        people = people.filter(email=email)
    if no_department:
        people = people.filter(department__isnull=True)
    elif department_ids is not None:
        people = people.filter(department_id__in=department_ids)
    return people.select_related("department", "manager").order_by("full_name", "email", "pk")


def department_ids(department_id: int) -> set[int]:
    return with_sub_departments([department_id])


def with_status(people, *, now: datetime) -> list:
    """A page of people, each with `outstanding`: open and overdue acknowledgements and
    training not attended, as My team counts them (a few queries per page, one more per
    active training requirement)."""
    rows = list(people)
    figures = team_queries.outstanding(
        [person.pk for person in rows], now=now, requirements=active_requirements()
    )
    for person in rows:
        person.outstanding = figures[person.pk]
    return rows


def person_items(person, *, now: datetime, viewer) -> team_member.Member:
    """One person's open acknowledgements and training standing, as on My team's page
    of a report."""
    return team_member.member_items(person, now=now, viewer=viewer)


# --- policies --------------------------------------------------------------------------


def policies_for(user, *, with_bodies: bool = False) -> QuerySet[Policy]:
    """The policies `user` may read, by title, each with `shown_versions`: every version
    for policy admins (drafts too, as on their pages), else the published one."""
    versions = PolicyVersion.objects.order_by("-major", "-minor", "-pk")
    if not with_bodies:
        versions = versions.defer("body")
    if can_manage(user):
        policies = Policy.objects.all()
    else:
        policies = readable_policies_list(user)
        versions = versions.filter(status=PUBLISHED)
    return (
        policies.select_related("owner")
        .prefetch_related(Prefetch("versions", queryset=versions, to_attr="shown_versions"))
        .order_by("title", "pk")
    )


def version_with_figures(pk: int) -> PolicyVersion | None:
    """A version that has been published (current, superseded or retired): the versions
    whose compliance page offers "acknowledge on behalf" (the service then accepts only
    the current one, and says which that is)."""
    return (
        PolicyVersion.objects.filter(pk=pk, status__in=PolicyVersion.LOCKED)
        .select_related("policy")
        .first()
    )


def outstanding_person(version: PolicyVersion, *, email: str):
    """The active person with this email who still has to acknowledge `version`'s line,
    or None (as the compliance page's on-behalf form chooses)."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            email=email,
            pk__in=version_line(version).filter(status=Assignment.Status.OPEN).values("person_id"),
        )
        .first()
    )


# --- compliance ------------------------------------------------------------------------


def published_versions() -> QuerySet[PolicyVersion]:
    """The current (published) version of every policy, by policy title."""
    return (
        PolicyVersion.objects.filter(status=PUBLISHED)
        .select_related("policy")
        .defer("body", "change_summary")
        .order_by("policy__title", "policy_id")
    )


@dataclass(frozen=True)
class DepartmentFigures(Figures):
    department_id: int | None = None


@dataclass
class PolicyCompliance:
    version: PolicyVersion
    overall: Figures
    departments: list[DepartmentFigures] = field(default_factory=list)


def compliance(versions, *, scope: Scope, today: date) -> list[PolicyCompliance]:
    """For a page of published versions: % acknowledged overall and per department,
    outstanding, overdue and declined, counted as `policies.queries.compliance_figures`
    counts them (the version line: same policy and major number; assignments that are
    not closed; people once each), for the people in `scope` only. One grouped query
    for the whole page."""
    versions = list(versions)
    majors = {version.policy_id: version.major for version in versions}
    counts: dict[int, list[DepartmentFigures]] = {version.policy_id: [] for version in versions}
    if versions:
        ack, open_ = Assignment.Status.ACKNOWLEDGED, Assignment.Status.OPEN
        assignments = scope.people(
            Assignment.objects.filter(policy_id__in=list(majors)), "person_id"
        ).exclude(status=Assignment.Status.CLOSED)
        rows = (
            assignments.values(
                "policy_id", "version__major", "person__department_id", "person__department__name"
            )
            .annotate(
                total=Count("person", distinct=True),
                acknowledged=Count("person", distinct=True, filter=Q(status=ack)),
                outstanding=Count("person", distinct=True, filter=Q(status=open_)),
                overdue=Count("person", distinct=True, filter=Q(status=open_, due_date__lt=today)),
                declined=Count(
                    "person", distinct=True, filter=Q(status=Assignment.Status.DECLINED)
                ),
            )
            .order_by()
        )
        for row in rows:
            if row["version__major"] != majors[row["policy_id"]]:
                continue  # an earlier major version: not the current line
            counts[row["policy_id"]].append(
                DepartmentFigures(
                    name=row["person__department__name"] or NO_DEPARTMENT,
                    total=row["total"],
                    acknowledged=row["acknowledged"],
                    outstanding=row["outstanding"],
                    overdue=row["overdue"],
                    declined=row["declined"],
                    department_id=row["person__department_id"],
                )
            )
    result = []
    for version in versions:
        departments = sorted(
            counts[version.policy_id],
            key=lambda d: (d.department_id is None, d.name.casefold(), d.department_id or 0),
        )
        # Each person has one department (or none), so the departments add up.
        overall = Figures(
            name="Everyone",
            total=sum(d.total for d in departments),
            acknowledged=sum(d.acknowledged for d in departments),
            outstanding=sum(d.outstanding for d in departments),
            overdue=sum(d.overdue for d in departments),
            declined=sum(d.declined for d in departments),
        )
        result.append(PolicyCompliance(version, overall, departments))
    return result


# --- incidents -------------------------------------------------------------------------


def incidents_for(user) -> QuerySet[Incident]:
    """Every incident `user` may open, newest first (`incidents.permissions`)."""
    return (
        incident_permissions.visible_incidents(user)
        .select_related("owner", "reporter")
        .order_by("-created_at", "-id")
    )


def access_levels(user, incidents) -> dict[int, str]:
    """What of each incident on a page `user` may see, as on the incident page."""
    return incident_permissions.access_levels(user, incidents)


def prepare_incidents(user, incidents, levels: dict[int, str], *, detail: bool = False) -> None:
    """Load what each incident's level shows, for all of them at once: the people
    involved (to name the reporter, or not) for the full view, one's own actions for
    the summary; with `detail`, also every action and the assessments the user may see."""
    full = [incident for incident in incidents if levels.get(incident.pk) == "full"]
    summary = [incident for incident in incidents if levels.get(incident.pk) == "summary"]
    if full:
        prefetch_related_objects(full, "people_involved")
    if summary:
        mine = ActionItem.objects.filter(owner=user).order_by("due_date", "id")
        prefetch_related_objects(summary, Prefetch("actions", queryset=mine, to_attr="my_actions"))
    if detail:
        for incident in full:
            incident.all_actions = list(
                incident.actions.select_related("owner").order_by("due_date", "id")
            )
            # The restricted individual assessments: None for who may not see them.
            incident.shown_assessments = (
                list(
                    incident_permissions.visible_assessments(user, incident).select_related(
                        "person"
                    )
                )
                if can_assess(user, incident)
                else None
            )
