"""The reminders policies send through the outbox (see notifications/registry.py)."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.registry import Due, ReminderKind, load_subjects, register
from policies.models import Assignment, Decline


def _open_ids(notifications) -> set[int]:
    """The rows whose assignment is still open (loaded with version and policy)."""
    assignments = load_subjects(
        Assignment.objects.filter(status=Assignment.Status.OPEN).select_related(
            "version__policy", "policy"
        ),
        notifications,
    )
    return {n.pk for n in notifications if n.subject_id in assignments}


class _AssignmentKind(ReminderKind):
    """Reminders about one person's assignment; gone once it is no longer open."""

    def still_due(self, notifications):
        return _open_ids(notifications)

    def title(self, notification):
        assignment = notification.subject
        return f"{assignment.version.policy.title} {assignment.version.number}"

    def url(self, notification):
        return reverse("policies:detail", args=[notification.subject.policy.slug])

    def context(self, notification):
        assignment = notification.subject
        return {
            "assignment": assignment,
            "policy": assignment.policy,
            "version": assignment.version,
        }

    def _open(self, **filters):
        return Assignment.objects.filter(status=Assignment.Status.OPEN, **filters).select_related(
            "version__policy"
        )


@register
class PolicyPublished(_AssignmentKind):
    name = "policy-published"
    label = gettext_lazy("A policy was published for you to acknowledge")


@register
class PolicyDueSoon(_AssignmentKind):
    name = "policy-due-soon"
    label = gettext_lazy("A policy acknowledgement is due soon")

    def find_due(self, *, now):
        today = timezone.localdate(now)
        soon = today + timedelta(days=settings.POLICY_DUE_SOON_DAYS)
        for assignment in self._open(due_date__gt=today, due_date__lte=soon):
            yield Due(
                subject=assignment,
                recipient_id=assignment.person_id,
                stage=f"due-soon-{assignment.due_date:%Y%m%d}",
            )


@register
class PolicyDueToday(_AssignmentKind):
    name = "policy-due-today"
    label = gettext_lazy("A policy acknowledgement is due today")
    urgent = True

    def find_due(self, *, now):
        today = timezone.localdate(now)
        for assignment in self._open(due_date=today):
            yield Due(
                subject=assignment,
                recipient_id=assignment.person_id,
                stage=f"due-today-{assignment.due_date:%Y%m%d}",
            )


@register
class PolicyOverdue(_AssignmentKind):
    """Weekly while overdue; the manager hears after POLICY_ESCALATE_AFTER_DAYS."""

    name = "policy-overdue"
    label = gettext_lazy("A policy acknowledgement is overdue (weekly)")
    escalate_after_days = settings.POLICY_ESCALATE_AFTER_DAYS

    def find_due(self, *, now):
        today = timezone.localdate(now)
        for assignment in self._open(due_date__lt=today):
            week = (today - assignment.due_date).days // 7
            yield Due(
                subject=assignment,
                recipient_id=assignment.person_id,
                stage=f"overdue-{assignment.due_date:%Y%m%d}-week-{week}",
                overdue_since=assignment.due_date,
            )


@register
class PolicyNudge(_AssignmentKind):
    """ "Remind now" from the compliance page or a manager's nudge: at once."""

    name = "policy-nudge"
    label = gettext_lazy("A reminder sent by a policy admin or your manager")
    urgent = True


@register
class PolicyDeclined(ReminderKind):
    """To the owner: someone declined a policy, with their reason."""

    name = "policy-declined"
    label = gettext_lazy("Someone declined a policy you own")
    urgent = True

    def still_due(self, notifications):
        return {n.pk for n in notifications}

    def title(self, notification):
        decline = notification.subject
        return _("%(name)s declined %(version)s") % {
            "name": decline.person.get_full_name(),
            "version": decline.version,
        }

    def url(self, notification):
        decline: Decline = notification.subject
        return reverse("policies:manage_compliance", args=[decline.version_id])

    def context(self, notification):
        return {"decline": notification.subject}
