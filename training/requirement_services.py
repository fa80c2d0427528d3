"""Everything that changes the programme's set-up: training requirements and topics.

Only policy admins change them. Every change is checked here (a name, no duplicate, an
audience that names someone, periods in range) and leaves a SetupChange row with the
fields before and after: who must attend is a compliance question, so who changed it,
and when, must be answerable later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from people import audience as audiences
from people.models import Department
from policyhub.history import TRAINING, changed_past
from training.models import Requirement, SetupChange, Topic, TrainingError
from training.services import can_organise

Action = SetupChange.Action
MAX_EVERY_MONTHS = 120  # ten years; far longer periods overflow the compliance dates
MAX_JOINER_DAYS = 365


class SetupError(TrainingError):
    """A refused change to a requirement or topic; `field` names the field it is about."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def _require_organiser(user) -> None:
    if not can_organise(user):
        raise SetupError(_("Only policy admins change training requirements and topics."))


def _name(value: str, *, model, exclude_pk: int | None = None) -> str:
    """A stripped name that is neither empty, too long, nor another's: not even in
    another case, which would look the same in every list."""
    name = (value or "").strip()
    if not name:
        raise SetupError(
            _("Give the requirement a name.")
            if model is Requirement
            else _("Give the topic a name."),
            field="name",
        )
    max_length = model._meta.get_field("name").max_length
    if len(name) > max_length:
        raise SetupError(
            _("A name has at most %(count)s characters.") % {"count": max_length}, field="name"
        )
    if model.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        message = (
            _("There is already a requirement called “%(name)s”.")
            if model is Requirement
            else _("There is already a topic called “%(name)s”.")
        )
        raise SetupError(message % {"name": name}, field="name")
    return name


def _whole_number(value, *, low: int, high: int, message: str, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = low - 1  # refused below like any other number out of range
    if not low <= number <= high:
        raise SetupError(message, field=field)
    return number


def _record(*, kind: str, subject, action: str, before: dict, after: dict, by, at: datetime):
    return SetupChange.objects.create(
        kind=kind,
        requirement=subject if kind == SetupChange.Kind.REQUIREMENT else None,
        topic=subject if kind == SetupChange.Kind.TOPIC else None,
        name=subject.name,
        action=action,
        before=before,
        after=after,
        by=by,
        at=at,
    )


# --- topics -----------------------------------------------------------------------


def topic_snapshot(topic: Topic) -> dict:
    return {"name": topic.name, "description": topic.description}


def add_topic(*, by, name: str, description: str = "", now: datetime | None = None) -> Topic:
    """A new topic: sessions are scheduled under it and requirements accept it."""
    now = now or timezone.now()
    _require_organiser(by)
    with transaction.atomic():
        name = _name(name, model=Topic)
        topic = Topic.objects.create(name=name, description=(description or "").strip())
        _record(
            kind=SetupChange.Kind.TOPIC,
            subject=topic,
            action=Action.CREATED,
            before={},
            after=topic_snapshot(topic),
            by=by,
            at=now,
        )
    return topic


# --- requirements -----------------------------------------------------------------


def requirement_snapshot(requirement: Requirement) -> dict:
    """The audited fields as a reader of the history needs them: chosen departments,
    groups and topics by name, sorted."""
    return {
        "name": requirement.name,
        "audience": requirement.audience,
        "departments": sorted(d.name for d in requirement.audience_departments.all()),
        "groups": sorted(g.name for g in requirement.audience_groups.all()),
        "topics": sorted(t.name for t in requirement.accepted_topics.all()),
        "every_months": requirement.every_months,
        "new_joiners_within_days": requirement.new_joiners_within_days,
        "active": requirement.active,
    }


def save_requirement(
    *,
    by,
    requirement: Requirement | None = None,
    name: str,
    audience: str,
    accepted_topics: Iterable[Topic],
    every_months: int,
    audience_departments: Iterable[Department] = (),
    audience_groups: Iterable[Group] = (),
    new_joiners_within_days: int | None = None,
    active: bool = True,
    now: datetime | None = None,
) -> Requirement:
    """Add a requirement (`requirement=None`) or change one. Saving without a difference
    records nothing. The arguments are the requirement's fields, by their names."""
    now = now or timezone.now()
    _require_organiser(by)
    departments, groups = list(audience_departments), list(audience_groups)
    topics = list(accepted_topics)
    if audience not in (audiences.EVERYONE, audiences.DEPARTMENTS, audiences.GROUPS):
        raise SetupError(_("Choose who must attend."), field="audience")
    if audience == audiences.DEPARTMENTS and not departments:
        raise SetupError(_("Choose at least one department."), field="audience_departments")
    if audience == audiences.GROUPS and not groups:
        raise SetupError(_("Choose at least one group."), field="audience_groups")
    if not topics:
        raise SetupError(_("Choose at least one topic."), field="accepted_topics")
    every_months = _whole_number(
        every_months,
        low=1,
        high=MAX_EVERY_MONTHS,
        message=_("Attend again after 1 to %(count)s months.") % {"count": MAX_EVERY_MONTHS},
        field="every_months",
    )
    if new_joiners_within_days not in (None, ""):
        new_joiners_within_days = _whole_number(
            new_joiners_within_days,
            low=1,
            high=MAX_JOINER_DAYS,
            message=_("New joiners attend within 1 to %(count)s days, or leave it empty.")
            % {"count": MAX_JOINER_DAYS},
            field="new_joiners_within_days",
        )
    else:
        new_joiners_within_days = None
    with transaction.atomic():
        if requirement is not None:
            # Fresh from the database and locked: a form may have changed the instance.
            requirement = Requirement.objects.select_for_update().get(pk=requirement.pk)
        before = requirement_snapshot(requirement) if requirement else {}
        name = _name(name, model=Requirement, exclude_pk=requirement.pk if requirement else None)
        requirement = requirement or Requirement()
        requirement.name = name
        requirement.audience = audience
        requirement.every_months = every_months
        requirement.new_joiners_within_days = new_joiners_within_days
        requirement.active = bool(active)
        requirement.save()
        requirement.audience_departments.set(departments)
        requirement.audience_groups.set(groups)
        requirement.accepted_topics.set(topics)
        after = requirement_snapshot(requirement)
        if after != before:
            # Its audience, topics or period count every month end again.
            changed_past(kind=TRAINING, now=now)
            _record(
                kind=SetupChange.Kind.REQUIREMENT,
                subject=requirement,
                action=Action.CHANGED if before else Action.CREATED,
                before=before,
                after=after,
                by=by,
                at=now,
            )
    return requirement
