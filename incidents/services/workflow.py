"""The workflow: the table of statuses and the one way an incident changes status."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents import permissions
from incidents.models import ActionItem, Incident, IncidentError, Review, Takedown
from incidents.services.common import (
    Status,
    bump_version,
    claim_incident,
    record_event,
    require_handler,
)
from incidents.wording import in_sentence
from notifications import webhooks
from notifications.services import notify

# The workflow: from each status, where it may go next ("reopen" is closed → remediation).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.REPORTED: (Status.TRIAGE,),
    Status.TRIAGE: (Status.CONTAINED,),
    Status.CONTAINED: (Status.CLASSIFIED,),
    Status.CLASSIFIED: (Status.REMEDIATION,),
    Status.REMEDIATION: (Status.REVIEW,),
    Status.REVIEW: (Status.CLOSED, Status.REMEDIATION),
    Status.CLOSED: (Status.REMEDIATION,),
}


def _guard(incident: Incident, to: str, user) -> None:
    """The conditions of each step, with a message that says what is missing (and
    names people only to those who may see who was involved)."""
    if to == Status.CONTAINED:
        open_takedowns = incident.takedowns.filter(status=Takedown.Status.REQUESTED).count()
        if open_takedowns:
            raise IncidentError(
                ngettext(
                    "%(count)s takedown request(s) are still waiting: mark them removed, "
                    "refused or not needed first.",
                    "%(count)s takedown request(s) are still waiting: mark them removed, "
                    "refused or not needed first.",
                    open_takedowns,
                )
                % {"count": open_takedowns}
            )
        if not incident.takedowns.exists() and not incident.no_takedown_note.strip():
            raise IncidentError(_("Record a takedown request, or note why no takedown is needed."))
    elif to == Status.CLASSIFIED:
        people = [] if incident.no_individual_involved else list(incident.people_involved.all())
        if not people and not incident.no_individual_involved:
            raise IncidentError(
                _("Name the people involved, or record that no individual is involved.")
            )
        assessed = set(
            incident.assessments.filter(
                superseded_at__isnull=True, finished_at__isnull=False
            ).values_list("person_id", flat=True)
        )
        missing = [p.get_full_name() for p in people if p.pk not in assessed]
        if missing and permissions.sees_people_involved(user, incident):
            raise IncidentError(
                _("Finish the assessment for: %(people)s.") % {"people": ", ".join(missing)}
            )
        if missing:
            raise IncidentError(
                ngettext(
                    "Finish the assessment for %(count)s of the people involved "
                    "(HR/legal or the incident owner can).",
                    "Finish the assessment for %(count)s of the people involved "
                    "(HR/legal or the incident owner can).",
                    len(missing),
                )
                % {"count": len(missing)}
            )
        if incident.track == Incident.Track.NONE:
            raise IncidentError(_("Choose the track (learning or accountability)."))
    elif to == Status.REMEDIATION and incident.status == Status.CLASSIFIED:
        if incident.track == Incident.Track.NONE:
            raise IncidentError(_("Choose the track (learning or accountability)."))
    elif to == Status.REVIEW:
        if not incident.actions.exists():
            raise IncidentError(_("The remediation plan has no actions yet."))
    elif to == Status.CLOSED:
        open_actions = incident.actions.filter(status=ActionItem.Status.OPEN).count()
        if open_actions:
            raise IncidentError(
                ngettext(
                    "%(count)s action(s) are still open: mark them done, or waive them with a "
                    "reason.",
                    "%(count)s action(s) are still open: mark them done, or waive them with a "
                    "reason.",
                    open_actions,
                )
                % {"count": open_actions}
            )
        review = Review.objects.filter(incident=incident).first()
        if review is None or review.signed_off_at is None:
            raise IncidentError(_("The review must be signed off by a manager before closing."))
        if review.signed_off_by_id == incident.owner_id:
            # The owner may have changed since the sign-off.
            raise IncidentError(
                _(
                    "The review was signed off by the incident owner: a manager who is not "
                    "the owner signs it off."
                )
            )


def transition(
    *,
    incident: Incident,
    to: str,
    user,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """The one way an incident changes status."""
    require_handler(user)
    now = now or timezone.now()
    with transaction.atomic():
        incident = claim_incident(incident, expected_version)
        if to not in TRANSITIONS.get(incident.status, ()):
            target = in_sentence(Status(to).label) if to in Status.values else to
            raise IncidentError(
                _("An incident that is %(status)s cannot move to “%(target)s”.")
                % {"status": in_sentence(incident.get_status_display()), "target": target}
            )
        if incident.status == Status.CLOSED and not note.strip():
            raise IncidentError(_("Say why the incident is reopened."))
        _guard(incident, to, user)
        fields = {"status": to}
        if to == Status.CONTAINED:
            fields["contained_at"] = now
        if to == Status.CLOSED:
            fields["closed_at"] = now
        if incident.status == Status.CLOSED:
            fields["closed_at"] = None
        before = incident.status
        bump_version(incident, now=now, **fields)
        record_event(incident, what="status", by=user, before=before, after=to, note=note, at=now)
        if to in (Status.CLASSIFIED, Status.CLOSED):
            webhooks.emit(
                event=(
                    webhooks.INCIDENT_CLASSIFIED
                    if to == Status.CLASSIFIED
                    else webhooks.INCIDENT_CLOSED
                ),
                subject=incident,
                data=webhooks.incident_data(incident),
                now=now,
                stage=str(incident.version),
            )
        if to == Status.CLOSED and incident.self_reported:
            notify(
                kind="incident-self-report-closed",
                subject=incident,
                recipient=incident.reporter,
                stage=f"closed-{incident.version}",
                now=now,
            )
    return incident


def reopen(
    *,
    incident: Incident,
    user,
    note: str,
    expected_version: int | None = None,
    now: datetime | None = None,
):
    if not note.strip():
        raise IncidentError(_("Say why the incident is reopened."))
    return transition(
        incident=incident,
        to=Status.REMEDIATION,
        user=user,
        note=note,
        expected_version=expected_version,
        now=now,
    )
