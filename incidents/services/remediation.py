"""The remediation plan: actions from the track's template or added one by one, their due
dates, and closing them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from incidents import permissions
from incidents.models import ActionItem, Incident, IncidentError
from incidents.permissions import can_handle
from incidents.services.common import record_event, require_handler
from notifications.services import notify

# The remediation plan each track starts from.
PLAN_TEMPLATES: dict[str, tuple[str, ...]] = {
    Incident.Track.LEARNING: (
        "Correct or remove the post",
        "Fix the process that allowed it",
        "Have a coaching conversation (support, not blame)",
        "Update the policy or the briefing material",
        "Invite the person to help design the fix",
    ),
    Incident.Track.ACCOUNTABILITY: (
        "Preserve the evidence",
        "Open an HR case",
        "Legal review",
        "Review the person's access to company accounts and systems",
        "Complete containment",
    ),
}


def default_due(severity: str, today=None):
    days = settings.INCIDENT_ACTION_DUE_DAYS[severity]
    return (today or timezone.localdate()) + timedelta(days=days)


def fill_plan(*, incident, by, owner=None, now: datetime | None = None) -> list[ActionItem]:
    """Fill the remediation plan from the track's template (once)."""
    require_handler(by)
    if incident.track == Incident.Track.NONE:
        raise IncidentError(_("Choose the track first: the plan follows from it."))
    if incident.actions.exists():
        raise IncidentError(_("The plan already has actions."))
    owner = owner or incident.owner or by
    now = now or timezone.now()
    due = default_due(incident.severity, timezone.localdate(now))
    with transaction.atomic():
        actions = [
            add_action(incident=incident, by=by, title=title, owner=owner, due_date=due, now=now)
            for title in PLAN_TEMPLATES[incident.track]
        ]
    return actions


def add_action(
    *, incident, by, title: str, owner, due_date=None, now: datetime | None = None
) -> ActionItem:
    require_handler(by)
    now = now or timezone.now()
    if not title.strip():
        raise IncidentError(_("An action needs a title."))
    with transaction.atomic():
        action = ActionItem.objects.create(
            incident=incident,
            title=title.strip(),
            owner=owner,
            due_date=due_date or default_due(incident.severity, timezone.localdate(now)),
        )
        record_event(incident, what="action", by=by, after="added", note=action.title, at=now)
        notify(
            kind="incident-action-assigned",
            subject=action,
            recipient=owner,
            stage="assigned",
            now=now,
        )
    return action


def check_due_date(
    *, action: ActionItem, by, due_date: date | None, now: datetime | None = None
) -> None:
    """The rules of `change_due_date`, for a form that shows a refusal on its field: who
    may, an open action, not into the past nor before the incident was reported."""
    if not permissions.can_change_due_date(by):
        raise IncidentError(_("Only the communications team and HR/legal handle incidents."))
    if due_date is None:
        raise IncidentError(_("Choose the new due date."))
    if action.status != ActionItem.Status.OPEN:
        raise IncidentError(_("This action is already closed."))
    reported = timezone.localdate(action.incident.created_at)
    if due_date < reported:
        raise IncidentError(
            _("The due date cannot be before the incident was reported (%(date)s).")
            % {"date": formats.date_format(reported, "j M Y")}
        )
    if due_date < timezone.localdate(now or timezone.now()):
        raise IncidentError(_("The due date cannot be in the past."))


def change_due_date(
    *, action: ActionItem, by, due_date: date | None, now: datetime | None = None
) -> ActionItem:
    """Move an open action's due date; the history keeps the date before and after."""
    now = now or timezone.now()
    with transaction.atomic():
        action = (
            ActionItem.objects.select_for_update(of=("self",))
            .select_related("incident")
            .get(pk=action.pk)
        )
        check_due_date(action=action, by=by, due_date=due_date, now=now)
        if due_date == action.due_date:
            return action
        before = action.due_date
        action.due_date = due_date
        action.save(update_fields=["due_date"])
        record_event(
            action.incident,
            what="due date",
            by=by,
            before=before.isoformat(),
            after=due_date.isoformat(),
            note=action.title,
            at=now,
        )
    return action


def complete_action(
    *, action: ActionItem, by, status: str, note: str, now: datetime | None = None
) -> ActionItem:
    """Done (with how) or waived (with why): by the action's owner or a handler."""
    if by.pk != action.owner_id and not can_handle(by):
        raise IncidentError(_("Only the action's owner or the incident team can close it."))
    if status not in (ActionItem.Status.DONE, ActionItem.Status.WAIVED):
        raise IncidentError(_("An action is done or waived."))
    if not note.strip():
        raise IncidentError(
            _("Say how it was done.")
            if status == ActionItem.Status.DONE
            else _("Say why it is waived.")
        )
    now = now or timezone.now()
    with transaction.atomic():
        action = ActionItem.objects.select_for_update().get(pk=action.pk)
        if action.status != ActionItem.Status.OPEN:
            raise IncidentError(_("This action is already closed."))
        action.status, action.note = status, note.strip()
        action.completed_at, action.completed_by = now, by
        action.save()
        record_event(
            action.incident,
            what="action",
            by=by,
            after=status,
            note=f"{action.title}: {action.note}",
            at=now,
        )
    return action
