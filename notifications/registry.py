"""The kinds of reminder. Each domain app declares its own in `<app>/reminders.py`:

    from notifications.registry import Due, ReminderKind, register

    @register
    class AcknowledgementOverdue(ReminderKind):
        name = "policy-acknowledgement-overdue"
        label = "A policy you have not acknowledged is overdue"
        escalate_after_days = 7

        def find_due(self, *, now):
            for assignment in overdue_assignments(now):
                yield Due(subject=assignment, recipient_id=assignment.person_id,
                          stage=f"week-{weeks_overdue(assignment, now)}",
                          overdue_since=assignment.due_date)

        def still_due(self, notifications):
            ...  # the ids whose assignment is still open

and four templates: emails/<name>-subject.txt, -body.txt and -body.html for email,
and emails/<name>-chat.txt for people who get their reminders in Slack or Microsoft
Teams (rendered with autoescaping; `{% load chat %}` gives `{% chat_link url title %}`
and `{% bold %}…{% endbold %}`, written right for each service; see notifications.chat).
The engine (notifications.services) does the rest: dedupe, digest, escalation,
channel, claiming, retries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from django.db import models

if TYPE_CHECKING:
    from notifications.emails import Attachment
    from notifications.models import Notification


@dataclass(frozen=True)
class Due:
    """Something a kind says is due: one reminder for one person about one thing."""

    subject: models.Model
    recipient_id: int
    stage: str
    due_at: datetime | None = None  # None: now
    overdue_since: date | None = None  # set when overdue, for escalation


class ReminderKind:
    name: ClassVar[str]
    label: ClassVar[str]  # what it is, in the words on the preferences page
    urgent: ClassVar[bool] = False  # urgent ones go at once, never in a digest
    mandatory: ClassVar[bool] = True  # mandatory ones cannot be switched off
    # "After N days overdue, tell the recipient's manager" (None: never).
    escalate_after_days: ClassVar[int | None] = None
    # emails/<template_name>-subject.txt, -body.txt, -body.html, -chat.txt; defaults to
    # the name.
    template_name: ClassVar[str | None] = None

    def find_due(self, *, now: datetime) -> Iterable[Due]:
        """What is due now. Kinds that only fire on events return nothing."""
        return ()

    def still_due(self, notifications: Sequence[Notification]) -> set[int]:
        """The ids among these planned rows whose reason still holds; the rest are
        cancelled before sending. One or two queries for the whole batch."""
        return {notification.pk for notification in notifications}

    def title(self, notification: Notification) -> str:
        """One line naming the item, for digests and escalations."""
        return str(notification.subject)

    def url(self, notification: Notification) -> str:
        """Where the recipient completes it (a path; the engine makes it absolute)."""
        return "/"

    def context(self, notification: Notification) -> dict:
        """Extra template context for this kind's own emails."""
        return {}

    def attachments(self, notification: Notification) -> list[Attachment]:
        return []

    @property
    def template_prefix(self) -> str:
        return f"emails/{self.template_name or self.name}"


def load_subjects(queryset, notifications) -> dict:
    """The subjects of a batch of rows in one query (`queryset` says which and with what
    related rows), cached on the rows: a kind's still_due calls this, and the titles and
    links of a whole digest then cost no further query. Rows whose subject the queryset
    leaves out keep no subject cached."""
    objects = {obj.pk: obj for obj in queryset.filter(pk__in={n.subject_id for n in notifications})}
    if notifications:
        field = notifications[0]._meta.get_field("subject")
        for notification in notifications:
            if notification.subject_id in objects:
                field.set_cached_value(notification, objects[notification.subject_id])
    return objects


_kinds: dict[str, ReminderKind] = {}


def register(kind_class: type[ReminderKind]) -> type[ReminderKind]:
    name = kind_class.name
    if name in _kinds and type(_kinds[name]) is not kind_class:
        raise ValueError(f"Two reminder kinds are called {name!r}.")
    _kinds[name] = kind_class()
    return kind_class


def unregister(name: str) -> None:
    _kinds.pop(name, None)


def get_kind(name: str) -> ReminderKind | None:
    return _kinds.get(name)


def all_kinds() -> list[ReminderKind]:
    return sorted(_kinds.values(), key=lambda kind: kind.name)
