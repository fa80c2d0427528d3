"""Read-only views across apps: what a person has to do."""

from dataclasses import dataclass
from datetime import date

from django.urls import reverse
from django.utils import timezone

from policies.models import Assignment


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
    return sorted(tasks, key=lambda task: (task.due is None, task.due))
