"""The reminders incidents send through the outbox (see notifications/registry.py).

Only what the recipient may see goes into a message: an action owner (and their
manager, when it is escalated) hears about the action and the incident's reference,
never the people involved nor what happened; a self-reporter hears about their own
report; the incident owner may see it all.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from incidents.models import ActionItem, Incident
from notifications.models import Notification
from notifications.registry import Due, ReminderKind, load_subjects, register

Status = Incident.Status


def _load(model, notifications, *related):
    return load_subjects(model.objects.select_related(*related), notifications)


def add_working_days(day, count: int):
    """`count` working days after `day` (the working days of the reminder settings)."""
    while count:
        day += timedelta(days=1)
        if day.weekday() in settings.NOTIFICATIONS_WORKING_DAYS:
            count -= 1
    return day


REVIEW_DUE_WORKING_DAYS = 5


# --- about the incident: to its owner or to the self-reporter -------------------------


class _IncidentKind(ReminderKind):
    urgent = True

    def still_due(self, notifications):
        incidents = _load(Incident, notifications)
        return {
            n.pk
            for n in notifications
            if n.subject_id in incidents and self._holds(incidents[n.subject_id], n)
        }

    def _holds(self, incident: Incident, notification) -> bool:
        return True

    def title(self, notification):
        return notification.subject.reference

    def url(self, notification):
        return reverse("incidents:detail", args=[notification.subject_id])

    def context(self, notification):
        return {"incident": notification.subject}


@register
class IncidentAssigned(_IncidentKind):
    """To the new owner, at once."""

    name = "incident-assigned"
    label = gettext_lazy("An incident was assigned to you")

    def _holds(self, incident, notification):
        # Reassigned before this went out: the new owner has their own.
        return incident.owner_id == notification.recipient_id


@register
class SelfReportThanks(_IncidentKind):
    """To someone who reported their own mistake: thank you, and what happens next."""

    name = "incident-self-report-thanks"
    label = gettext_lazy("Thank you for reporting your own mistake")


@register
class SelfReportClosed(_IncidentKind):
    """To the self-reporter, when the incident closes: how it ended."""

    name = "incident-self-report-closed"
    label = gettext_lazy("How the incident you reported ended")

    def _holds(self, incident, notification):
        return incident.status == Status.CLOSED  # reopened before it went out: not yet

    def context(self, notification):
        incident = notification.subject
        return {
            "incident": incident,
            "learning": incident.track == Incident.Track.LEARNING,
            "lesson_published": incident.lessons.filter(published=True).exists(),
        }


@register
class ReviewDue(_IncidentKind):
    """To the owner: the review is due 5 working days after the last action was done,
    unless a review has been written by then."""

    name = "incident-review-due"
    label = gettext_lazy("An incident review is due")
    urgent = False

    def _waiting(self):
        """Incidents with actions, all closed, and no review yet, with when the last
        action was closed."""
        return (
            Incident.objects.filter(status__in=(Status.REMEDIATION, Status.REVIEW))
            .exclude(owner=None)
            .filter(review__isnull=True)
            .exclude(actions__status=ActionItem.Status.OPEN)
            .annotate(last_done=Max("actions__completed_at"))
            .exclude(last_done=None)
        )

    def find_due(self, *, now):
        today = timezone.localdate(now)
        for incident in self._waiting():
            due_date = review_due_date(incident.last_done)
            if today >= due_date:
                # A later action closed moves the date, and so asks again.
                yield Due(
                    subject=incident,
                    recipient_id=incident.owner_id,
                    stage=f"review-due-{due_date:%Y%m%d}",
                )

    def still_due(self, notifications):
        waiting = {
            incident.pk: incident
            for incident in self._waiting().filter(pk__in={n.subject_id for n in notifications})
        }
        _load(Incident, [n for n in notifications if n.subject_id in waiting])
        return {
            n.pk
            for n in notifications
            if n.subject_id in waiting and waiting[n.subject_id].owner_id == n.recipient_id
        }

    def context(self, notification):
        incident = notification.subject
        last_done = incident.actions.aggregate(last=Max("completed_at"))["last"]
        return {
            "incident": incident,
            "last_done": last_done,
            "review_due": review_due_date(last_done) if last_done else None,
        }


def review_due_date(last_done):
    return add_working_days(timezone.localdate(last_done), REVIEW_DUE_WORKING_DAYS)


# --- about one action: to its owner (and, overdue, their manager) -----------------------


class _ActionKind(ReminderKind):
    def still_due(self, notifications):
        actions = _load(ActionItem, notifications, "incident")
        return {
            n.pk
            for n in notifications
            if n.subject_id in actions
            and actions[n.subject_id].status == ActionItem.Status.OPEN
            and actions[n.subject_id].incident.status != Status.CLOSED
            # Given to someone else meanwhile: the new owner hears of it, not the old.
            and (
                n.stage == Notification.ESCALATION
                or actions[n.subject_id].owner_id == n.recipient_id
            )
        }

    def title(self, notification):
        action = notification.subject
        return f"{action.title} ({action.incident.reference})"

    def url(self, notification):
        return reverse("incidents:my_actions")

    def context(self, notification):
        # The action and the reference only: an action owner may not see who was involved.
        action = notification.subject
        return {"action": action, "reference": action.incident.reference}

    def _open(self, **filters):
        return ActionItem.objects.filter(status=ActionItem.Status.OPEN, **filters).exclude(
            incident__status=Status.CLOSED
        )


@register
class ActionAssigned(_ActionKind):
    name = "incident-action-assigned"
    label = gettext_lazy("An incident action was assigned to you")
    urgent = True


@register
class ActionDueSoon(_ActionKind):
    name = "incident-action-due-soon"
    label = gettext_lazy("An incident action is due in 2 days")
    days_before = 2

    def find_due(self, *, now):
        today = timezone.localdate(now)
        for action in self._open(
            due_date__gt=today, due_date__lte=today + timedelta(days=self.days_before)
        ):
            yield Due(
                subject=action,
                recipient_id=action.owner_id,
                stage=f"due-soon-{action.due_date:%Y%m%d}",
            )


def overdue_stage(days_overdue: int) -> str:
    """Daily for the first 3 days overdue (day-1, day-2, day-3), then weekly from the
    third day: week-1 on day 10, week-2 on day 17. Days 4 to 9 stay "day-3", so a
    planner that missed day 3 still sends it once, and never a fourth daily one."""
    if days_overdue < 10:
        return f"day-{min(days_overdue, 3)}"
    return f"week-{(days_overdue - 3) // 7}"


@register
class ActionOverdue(_ActionKind):
    """Daily for the first 3 days overdue, then weekly; the owner's manager is told
    after INCIDENT_ESCALATE_AFTER_DAYS."""

    name = "incident-action-overdue"
    label = gettext_lazy("An incident action is overdue")
    escalate_after_days = settings.INCIDENT_ESCALATE_AFTER_DAYS

    def find_due(self, *, now):
        today = timezone.localdate(now)
        for action in self._open(due_date__lt=today):
            days = (today - action.due_date).days
            yield Due(
                subject=action,
                recipient_id=action.owner_id,
                stage=f"overdue-{action.due_date:%Y%m%d}-{overdue_stage(days)}",
                overdue_since=action.due_date,
            )

    def context(self, notification):
        context = super().context(notification)
        # As of when the reminder was planned, not when a digest carries it.
        planned_on = timezone.localdate(notification.due_at)
        context["days_overdue"] = (planned_on - notification.subject.due_date).days
        return context


@register
class ActionNudge(_ActionKind):
    """A manager's nudge from My team: at once, and it says who asked. Never about an
    action of an accountability-track incident, even one that moved there after the
    nudge was planned."""

    name = "incident-action-nudge"
    label = gettext_lazy("A reminder from your manager about an incident action")
    urgent = True

    def still_due(self, notifications):
        keep = super().still_due(notifications)  # loads and caches the actions
        return {n.pk for n in notifications if n.pk in keep and not n.subject.incident.restricted}
