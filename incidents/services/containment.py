"""Containment: takedown requests, or why none is needed, and holding statements."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import HoldingStatement, IncidentError, Takedown
from incidents.services.common import bump_version, claim_incident, record_event, require_handler
from incidents.wording import in_sentence


def request_takedown(
    *, incident, by, what: str, asked_of: str, now: datetime | None = None
) -> Takedown:
    require_handler(by)
    now = now or timezone.now()
    if not what.strip() or not asked_of.strip():
        raise IncidentError(_("Say what should be taken down and whom you asked."))
    with transaction.atomic():
        takedown = Takedown.objects.create(
            incident=incident,
            what=what.strip(),
            asked_of=asked_of.strip(),
            requested_at=now,
            requested_by=by,
        )
        record_event(
            incident, what="takedown", by=by, after=Takedown.Status.REQUESTED, note=what, at=now
        )
    return takedown


def resolve_takedown(
    *, takedown: Takedown, by, status: str, note: str = "", now: datetime | None = None
) -> Takedown:
    require_handler(by)
    now = now or timezone.now()
    if status not in (Takedown.Status.REMOVED, Takedown.Status.REFUSED, Takedown.Status.NOT_NEEDED):
        raise IncidentError(_("A takedown is resolved as removed, refused or not needed."))
    with transaction.atomic():
        takedown = Takedown.objects.select_for_update().get(pk=takedown.pk)
        if takedown.status != Takedown.Status.REQUESTED:
            raise IncidentError(
                _("This takedown is already resolved (%(status)s).")
                % {"status": in_sentence(takedown.get_status_display())}
            )
        before = takedown.status
        takedown.status, takedown.note, takedown.resolved_at = status, note, now
        takedown.save()
        record_event(
            takedown.incident,
            what="takedown",
            by=by,
            before=before,
            after=status,
            note=note,
            at=now,
        )
    return takedown


def note_no_takedown(
    *,
    incident,
    by,
    note: str,
    expected_version: int | None = None,
    now: datetime | None = None,
):
    require_handler(by)
    now = now or timezone.now()
    if not note.strip():
        raise IncidentError(_("Say why no takedown is needed."))
    with transaction.atomic():
        incident = claim_incident(incident, expected_version)
        bump_version(incident, now=now, no_takedown_note=note.strip())
        record_event(incident, what="no takedown", by=by, note=note, at=now)
    return incident


def draft_statement(*, incident, by, text: str, now: datetime | None = None) -> HoldingStatement:
    require_handler(by)
    if not text.strip():
        raise IncidentError(_("A holding statement needs some text."))
    return HoldingStatement.objects.create(
        incident=incident, text=text.strip(), drafted_by=by, drafted_at=now or timezone.now()
    )


def approve_statement(
    *, statement: HoldingStatement, by, now: datetime | None = None
) -> HoldingStatement:
    require_handler(by)
    now = now or timezone.now()
    if statement.drafted_by_id == by.pk:
        raise IncidentError(_("Someone other than the author approves a holding statement."))
    with transaction.atomic():
        statement = HoldingStatement.objects.select_for_update().get(pk=statement.pk)
        if statement.approved_at is not None:
            raise IncidentError(_("This holding statement is already approved."))
        statement.approved_by, statement.approved_at = by, now
        statement.save(update_fields=["approved_by", "approved_at"])
        record_event(statement.incident, what="statement", by=by, after="approved", at=now)
    return statement
