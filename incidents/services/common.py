"""What every change to an incident shares: the check that the person handles incidents,
the lock that refuses a change made meanwhile (`version`), and the history row."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.models import Incident, IncidentError, IncidentEvent
from incidents.permissions import can_handle

Status = Incident.Status
CHANGED_MEANWHILE = gettext_lazy("This incident changed while you were working on it.")


def require_handler(user) -> None:
    if not can_handle(user):
        raise IncidentError(_("Only the communications team and HR/legal handle incidents."))


def record_event(incident, *, what, by, before="", after="", note="", at=None) -> None:
    IncidentEvent.objects.create(
        incident=incident,
        what=what,
        from_value=str(before or ""),
        to_value=str(after or ""),
        by=by,
        at=at or timezone.now(),
        note=note,
    )


def claim_incident(incident: Incident, expected_version: int | None) -> Incident:
    """Lock the incident and check nobody changed it since the form was opened: one
    wins, the other is told and writes nothing."""
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if expected_version is not None and locked.version != expected_version:
        raise IncidentError(CHANGED_MEANWHILE)
    return locked


def bump_version(incident: Incident, *, now: datetime, **fields) -> None:
    """Save changed fields and raise the version, only if it is still the one we read."""
    updated = Incident.objects.filter(pk=incident.pk, version=incident.version).update(
        version=F("version") + 1, updated_at=now, **fields
    )
    if not updated:
        raise IncidentError(CHANGED_MEANWHILE)
    incident.version += 1
    for key, value in fields.items():
        setattr(incident, key, value)
