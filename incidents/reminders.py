"""The reminders incidents send through the outbox (see notifications/registry.py).

Only what the recipient may see goes into a message: an action owner hears about
their action and the incident's reference, never the people involved."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from incidents.models import ActionItem, Incident
from notifications.registry import Due, ReminderKind, register


def _load(model, notifications, *related):
    objects = {
        obj.pk: obj
        for obj in model.objects.filter(
            pk__in={n.subject_id for n in notifications}
        ).select_related(*related)
    }
    if notifications:
        field = notifications[0]._meta.get_field("subject")
        for notification in notifications:
            if notification.subject_id in objects:
                field.set_cached_value(notification, objects[notification.subject_id])
    return objects


class _IncidentKind(ReminderKind):
    urgent = True

    def still_due(self, notifications):
        incidents = _load(Incident, notifications)
        return {n.pk for n in notifications if n.subject_id in incidents}

    def title(self, notification):
        return notification.subject.reference

    def url(self, notification):
        return reverse("incidents:detail", args=[notification.subject_id])

    def context(self, notification):
        return {"incident": notification.subject}


@register
class IncidentAssigned(_IncidentKind):
    name = "incident-assigned"
    label = "An incident was assigned to you"


@register
class SelfReportThanks(_IncidentKind):
    name = "incident-self-report-thanks"
    label = "Thank you for reporting your own mistake"


@register
class SelfReportClosed(_IncidentKind):
    name = "incident-self-report-closed"
    label = "How the incident you reported ended"


@register
class ReviewDue(_IncidentKind):
    """To the owner: the review is due 5 working days after the last action was done."""

    name = "incident-review-due"
    label = "An incident review is due"
    urgent = False

    def find_due(self, *, now):
        candidates = (
            Incident.objects.filter(status=Incident.Status.REMEDIATION)
            .exclude(owner=None)
            .exclude(actions__status=ActionItem.Status.OPEN)
            .filter(review__isnull=True)
        )
        for incident in candidates.distinct():
            last = (
                incident.actions.exclude(completed_at=None)
                .order_by("-completed_at")
                .values_list("completed_at", flat=True)
                .first()
            )
            if last is None:
                continue
            due_date = _add_working_days(timezone.localdate(last), 5)
            if timezone.localdate(now) >= due_date:
                yield Due(
                    subject=incident,
                    recipient_id=incident.owner_id,
                    stage=f"review-due-{incident.version}",
                )

    def still_due(self, notifications):
        incidents = _load(Incident, notifications)
        return {
            n.pk
            for n in notifications
            if n.subject_id in incidents and not hasattr(incidents[n.subject_id], "review")
        }


def _add_working_days(day, count):
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


class _ActionKind(ReminderKind):
    def still_due(self, notifications):
        actions = _load(ActionItem, notifications, "incident")
        return {
            n.pk
            for n in notifications
            if n.subject_id in actions and actions[n.subject_id].status == ActionItem.Status.OPEN
        }

    def title(self, notification):
        action = notification.subject
        return f"{action.title} ({action.incident.reference})"

    def url(self, notification):
        return reverse("incidents:my_actions")

    def context(self, notification):
        return {"action": notification.subject, "incident": notification.subject.incident}

    def _open(self, **filters):
        return ActionItem.objects.filter(status=ActionItem.Status.OPEN, **filters).exclude(
            incident__status=Incident.Status.CLOSED
        )


@register
class ActionAssigned(_ActionKind):
    name = "incident-action-assigned"
    label = "An incident action was assigned to you"
    urgent = True


@register
class ActionDueSoon(_ActionKind):
    name = "incident-action-due-soon"
    label = "An incident action is due in 2 days"

    def find_due(self, *, now):
        today = timezone.localdate(now)
        for action in self._open(due_date__gt=today, due_date__lte=today + timedelta(days=2)):
            yield Due(
                subject=action,
                recipient_id=action.owner_id,
                stage=f"due-soon-{action.due_date:%Y%m%d}",
            )


@register
class ActionOverdue(_ActionKind):
    """Daily for the first 3 days overdue, then weekly; the owner's manager is told
    after INCIDENT_ESCALATE_AFTER_DAYS."""

    name = "incident-action-overdue"
    label = "An incident action is overdue"
    escalate_after_days = settings.INCIDENT_ESCALATE_AFTER_DAYS

    def find_due(self, *, now):
        today = timezone.localdate(now)
        for action in self._open(due_date__lt=today):
            days = (today - action.due_date).days
            step = f"day-{days}" if days <= 3 else f"week-{(days - 4) // 7 + 1}"
            yield Due(
                subject=action,
                recipient_id=action.owner_id,
                stage=f"overdue-{action.due_date:%Y%m%d}-{step}",
                overdue_since=action.due_date,
            )
