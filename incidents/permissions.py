"""Who may see what of an incident. Enforced in the queries, so that a restricted item
never appears in a list, count, search, export or email for someone who may not open it.

- Comms, HR/legal and leadership see incidents.
- A reporter sees their own reports and their status.
- An action owner sees their actions and the incident's summary.
- A line manager sees the summary of learning-track incidents that involve one of their
  people (direct or indirect reports): that is what their dashboards count.
- Individual assessments, and who was involved in an accountability-track case: only
  HR/legal and the incident owner.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from incidents.models import ActionItem, Assessment, Incident
from people import audience, roles


def sees_all(user) -> bool:
    return roles.is_comms(user) or roles.is_hr_legal(user) or roles.is_leadership(user)


def can_handle(user) -> bool:
    return roles.is_comms(user) or roles.is_hr_legal(user)


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def visible_incidents(user):
    """Every incident `user` may open at all (full or summary view)."""
    if not _active(user):
        return Incident.objects.none()
    if sees_all(user):
        return Incident.objects.all()
    visible = Q(reporter=user) | Q(actions__owner=user) | _awaiting_my_sign_off(user)
    if roles.is_line_manager(user):
        visible |= _involving_my_people(user)
    return Incident.objects.filter(visible).distinct()


def _involving_my_people(user, *, involving: Q | None = None, by_outside: bool = False) -> Q:
    """Learning-track incidents that involve someone in `user`'s team. Never an
    accountability-track case, nor one not yet classified: either would tell a manager
    who is under assessment. `involving`: a condition on the people involved (their
    department, `user__department_id__in`) that the one in the team must also meet.

    `by_outside` (the dashboards' figures, which read most of these incidents): the team
    tested as `audience.in_team` does, for the head of everyone as "not one of the few
    outside the team" (a person involved is never null), or on the person's row where
    it is joined anyway (for their department)."""
    involved = Incident.people_involved.through.objects.all()
    if involving is not None:
        involved = involved.filter(involving)
    if by_outside:
        involved = involved.filter(audience.in_team(user, "user", joined=involving is not None))
    else:
        involved = involved.filter(user_id__in=audience.team(user).values("pk"))
    return Q(track=Incident.Track.LEARNING, pk__in=involved.values("incident_id"))


def awaiting_sign_off(user):
    """The learning-track reviews `user` is asked to sign off as a line manager."""
    if not roles.is_line_manager(user):
        return Incident.objects.none()
    return Incident.objects.filter(_awaiting_my_sign_off(user)).distinct()


def _awaiting_my_sign_off(user) -> Q:
    """A line manager signs off the blameless review of a learning-track incident that
    involves one of their reports (directly, or as an action owner). Accountability
    cases stay with HR/legal: showing them would tell who was involved."""
    return (
        Q(status=Incident.Status.REVIEW, review__isnull=False, review__signed_off_at=None)
        & ~Q(track=Incident.Track.ACCOUNTABILITY)
        & ~Q(owner=user)
        & (Q(people_involved__manager=user) | Q(actions__owner__manager=user))
    )


def access_level(user, incident: Incident) -> str:
    """ "full" (the team), "summary" (an action owner, or the manager asked to sign off
    the review), "reporter" (their own report)."""
    return access_levels(user, [incident]).get(incident.pk, "")


def access_levels(user, incidents) -> dict[int, str]:
    """`access_level` for many incidents at once (a page of a list, or the API): at most
    three queries however many. Incidents `user` may not open are left out."""
    ids = [incident.pk for incident in incidents]
    if not ids or not _active(user):
        return {}
    if sees_all(user):
        return dict.fromkeys(ids, "full")
    summary = set(
        ActionItem.objects.filter(owner=user, incident_id__in=ids).values_list(
            "incident_id", flat=True
        )
    )
    summary |= set(
        Incident.objects.filter(_awaiting_my_sign_off(user), pk__in=ids).values_list(
            "pk", flat=True
        )
    )
    if roles.is_line_manager(user):
        summary |= set(
            Incident.objects.filter(_involving_my_people(user), pk__in=ids).values_list(
                "pk", flat=True
            )
        )
    levels = {}
    for incident in incidents:
        if incident.pk in summary:
            levels[incident.pk] = "summary"
        elif incident.reporter_id == user.pk:
            levels[incident.pk] = "reporter"
    return levels


def get_incident_for(user, pk: int) -> tuple[Incident, str]:
    incident = Incident.objects.select_related("owner", "reporter").filter(pk=pk).first()
    if incident is None:
        raise Http404("No such incident.")
    level = access_level(user, incident)
    if not level:
        raise Http404("No such incident.")
    return incident, level


def sees_people_involved(user, incident: Incident) -> bool:
    """Names of the people involved: hidden on the accountability track except for
    HR/legal and the owner; otherwise shown to the team."""
    if not _active(user):
        # Also keeps an anonymous user (pk None) from passing as the owner of an
        # incident without one.
        return False
    if roles.is_hr_legal(user) or incident.owner_id == user.pk:
        return True
    return sees_all(user) and not incident.restricted


def visible_assessments(user, incident: Incident):
    if not _active(user):
        return Assessment.objects.none()
    if roles.is_hr_legal(user) or (incident.owner_id == user.pk and can_handle(user)):
        return incident.assessments.all()
    return Assessment.objects.none()


def visible_actions(user):
    """Actions a person may see: their own, or all of incidents they see in full."""
    if not _active(user):
        return ActionItem.objects.none()
    if sees_all(user):
        return ActionItem.objects.all()
    return ActionItem.objects.filter(owner=user)


def can_change_due_date(user) -> bool:
    """An open action's due date: the incident team on the incident page, and site admins
    correcting it in the Django admin."""
    return can_handle(user) or roles.is_site_admin(user)


def require_handler(user) -> None:
    if not can_handle(user):
        raise PermissionDenied


# --- figures ------------------------------------------------------------------------


def can_see_remediation(user) -> bool:
    """The Remediation dashboard: the incident team and leadership, and line managers
    for their own people."""
    return sees_all(user) or roles.is_line_manager(user)


def incidents_for_figures(user, *, involving: Q | None = None):
    """The incidents a dashboard may count for `user`, as a plain queryset (no joins that
    repeat rows, so that it can be grouped): every incident for the incident team and
    leadership; for a line manager, those they may open in summary (see
    `_involving_my_people`; for the head of everyone, found by the few people outside
    their team). `involving`: only those involving someone (for a line manager, in their
    team) who meets it, a condition on the people involved (`user__department_id__in`)."""
    if not _active(user):
        return Incident.objects.none()
    if sees_all(user):
        if involving is None:
            return Incident.objects.all()
        involved = Incident.people_involved.through.objects.filter(involving)
        return Incident.objects.filter(pk__in=involved.values("incident_id"))
    if not roles.is_line_manager(user):
        return Incident.objects.none()
    return Incident.objects.filter(_involving_my_people(user, involving=involving, by_outside=True))


def counts_people_of_restricted(user) -> bool:
    """Whether figures broken down by the people involved (their department) may include
    accountability-track cases: only for HR/legal, who may see who was involved."""
    return roles.is_hr_legal(user)
