"""Reporting an incident and the first steps of triage: its owner, its details, the
people involved."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import Incident, IncidentCounter, IncidentError
from incidents.permissions import can_handle
from incidents.services.common import (
    Status,
    bump_version,
    claim_incident,
    record_event,
    require_handler,
)
from notifications import webhooks
from notifications.services import notify


def _next_reference(now: datetime) -> tuple[int, int, str]:
    year = timezone.localdate(now).year
    IncidentCounter.objects.get_or_create(year=year)
    counter = IncidentCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return year, counter.last, f"INC-{year}-{counter.last:04d}"


def report_incident(
    *,
    reporter,
    what_happened: str,
    self_reported: bool = False,
    platform: str = Incident.Platform.OTHER,
    url: str = "",
    account_handle: str = "",
    posted_at: datetime | None = None,
    noticed_at: datetime | None = None,
    information: str = Incident.Information.OTHER,
    estimated_reach: int | None = None,
    severity: str = Incident.Severity.MEDIUM,
    people_involved=(),
    now: datetime | None = None,
) -> Incident:
    """Anyone reports a concern; anyone self-reports a mistake (then they are involved)."""
    now = now or timezone.now()
    if not what_happened.strip():
        raise IncidentError(_("Tell us what happened, in a sentence or two."))
    noticed_at = noticed_at or now
    if posted_at and posted_at > noticed_at:
        raise IncidentError(_("It cannot have been noticed before it was posted."))
    if severity not in Incident.Severity.values:
        raise IncidentError(_("Choose a severity from the list."))
    with transaction.atomic():
        year, number, reference = _next_reference(now)
        incident = Incident.objects.create(
            reference=reference,
            year=year,
            number=number,
            reporter=reporter,
            self_reported=self_reported,
            what_happened=what_happened.strip(),
            platform=platform,
            url=url,
            account_handle=account_handle,
            posted_at=posted_at,
            noticed_at=noticed_at,
            information=information,
            estimated_reach=estimated_reach,
            severity=severity,
            created_at=now,
        )
        involved = set(people_involved)
        if self_reported:
            involved.add(reporter)
        incident.people_involved.set(involved)
        record_event(
            incident,
            what="status",
            by=reporter,
            after=Status.REPORTED,
            at=now,
            note="Self-reported" if self_reported else "Reported",
        )
        webhooks.emit(
            event=webhooks.INCIDENT_REPORTED,
            subject=incident,
            data=webhooks.incident_data(incident),
            now=now,
        )
        if self_reported:
            notify(
                kind="incident-self-report-thanks",
                subject=incident,
                recipient=reporter,
                stage="thanks",
                now=now,
            )
    return incident


def assign_owner(
    *,
    incident: Incident,
    owner,
    by,
    expected_version: int | None = None,
    now: datetime | None = None,
):
    now = now or timezone.now()
    require_handler(by)
    if not can_handle(owner):
        raise IncidentError(_("The owner must be in the communications team or HR/legal."))
    with transaction.atomic():
        incident = claim_incident(incident, expected_version)
        before = incident.owner
        bump_version(incident, now=now, owner=owner)
        record_event(incident, what="owner", by=by, before=before or "", after=owner, at=now)
        notify(
            kind="incident-assigned",
            subject=incident,
            recipient=owner,
            stage=f"owner-{incident.version}",
            now=now,
        )
    return incident


# What triage may correct about an incident (the details form offers exactly these).
DETAIL_FIELDS = (
    "severity",
    "information",
    "estimated_reach",
    "platform",
    "url",
    "account_handle",
    "posted_at",
    "noticed_at",
    "what_happened",
)


def update_details(
    *,
    incident: Incident,
    by,
    expected_version: int | None = None,
    now: datetime | None = None,
    **fields,
):
    """Triage edits: severity, information kind, reach, platform, link, handle, times."""
    if set(fields) - set(DETAIL_FIELDS):
        raise IncidentError(_("Those details cannot be changed here."))
    require_handler(by)
    now = now or timezone.now()
    with transaction.atomic():
        incident = claim_incident(incident, expected_version)
        changes = {k: v for k, v in fields.items() if getattr(incident, k) != v}
        if not changes:
            return incident
        for key, value in changes.items():
            record_event(
                incident, what=key, by=by, before=getattr(incident, key), after=value, at=now
            )
        bump_version(incident, now=now, **changes)
    return incident


def set_people_involved(
    *,
    incident,
    by,
    people,
    no_individual: bool,
    expected_version: int | None = None,
    now: datetime | None = None,
):
    require_handler(by)
    now = now or timezone.now()
    with transaction.atomic():
        incident = claim_incident(incident, expected_version)
        if no_individual and people:
            raise IncidentError(_("Either name the people involved or say no individual is."))
        incident.people_involved.set(people)
        bump_version(incident, now=now, no_individual_involved=no_individual)
        record_event(
            incident,
            what="people involved",
            by=by,
            after="no individual" if no_individual else f"{len(people)} people",
            at=now,
        )
    return incident
