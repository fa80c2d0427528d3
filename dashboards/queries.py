"""Read-only views across apps: what a person has to do."""

from dataclasses import dataclass
from datetime import date

from django.urls import reverse
from django.utils import timezone

from incidents.models import ActionItem, Incident
from incidents.permissions import awaiting_sign_off, sees_all
from policies.models import Assignment
from training.compliance import requirements_to_book
from training.models import Booking, Session


@dataclass(frozen=True)
class Task:
    kind: str
    title: str
    url: str
    due: date | None
    action: str

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.due < timezone.localdate()


def my_tasks(user) -> list[Task]:
    """Outstanding items for `user`, soonest due first (a fixed number of queries)."""
    tasks = [
        Task(
            kind="policy",
            title=f"{a.policy.title} {a.version.number}",
            url=reverse("policies:detail", args=[a.policy.slug]),
            due=a.due_date,
            action="Read and acknowledge",
        )
        for a in Assignment.objects.filter(person=user, status=Assignment.Status.OPEN)
        .select_related("policy", "version")
        .order_by("due_date")
    ]
    tasks += [
        Task(
            kind="briefing",
            title=f"{b.session.title}, {timezone.localtime(b.session.starts_at):%-d %b %H:%M}",
            url=reverse("training:session", args=[b.session_id]),
            due=timezone.localdate(b.session.starts_at),
            action="Attend the briefing you booked"
            if b.status == Booking.Status.BOOKED
            else "You are on the waitlist",
        )
        for b in Booking.objects.filter(
            person=user,
            status__in=Booking.ACTIVE,
            session__status=Session.Status.SCHEDULED,
            session__ends_at__gt=timezone.now(),
        ).select_related("session")
    ]
    tasks += [
        Task(
            kind="requirement",
            title=status.requirement.name,
            url=reverse("training:index"),
            due=status.due_by,
            action="Book a briefing: you still have to attend",
        )
        for status in requirements_to_book(user)
    ]
    tasks += [
        Task(
            kind="action",
            title=f"{action.title} ({action.incident.reference})",
            url=reverse("incidents:my_actions"),
            due=action.due_date,
            action="An incident action assigned to you",
        )
        for action in ActionItem.objects.filter(owner=user, status=ActionItem.Status.OPEN)
        .exclude(incident__status=Incident.Status.CLOSED)
        .select_related("incident")
    ]
    tasks += [
        Task(
            kind="sign-off",
            title=f"Review of {incident.reference}",
            url=reverse("incidents:detail", args=[incident.pk]),
            due=None,
            action="Read the review and sign it off",
        )
        for incident in awaiting_sign_off(user)
        if not sees_all(user)
    ]
    # Dated tasks soonest first; "due now" requirements (no date) first of all.
    return sorted(tasks, key=lambda task: (task.due is not None, task.due))
