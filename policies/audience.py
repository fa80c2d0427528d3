"""Who a policy is for: its audience (everyone, departments with their sub-departments,
or groups), as a set of people for one policy or as the policies one person is in."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from people.audience import audience_people, department_and_ancestors
from policies.models import Policy, PolicyVersion


def audience_ids(policy: Policy) -> set[int]:
    """The active people a policy is for (departments include their sub-departments)."""
    people = audience_people(
        policy.audience,
        department_ids=policy.audience_departments.values_list("pk", flat=True),
        group_ids=policy.audience_groups.values_list("pk", flat=True),
    )
    return set(people.values_list("pk", flat=True))


def in_audience(policy: Policy, person) -> bool:
    return person.pk in audience_ids(policy) if person.is_active else False


def published_for(user) -> QuerySet[Policy]:
    """The published policies whose audience includes `user` (none for an inactive
    person), by title, in a fixed number of queries however many policies there are.

    An audience of departments includes their sub-departments, so a person is in a
    policy addressed to their own department or any department above it.
    """
    if not user.is_active:
        return Policy.objects.none()
    in_departments = Policy.audience_departments.through.objects.filter(
        department_id__in=department_and_ancestors(user.department_id)
    ).values("policy_id")
    in_groups = Policy.audience_groups.through.objects.filter(
        group_id__in=user.groups.through.objects.filter(user_id=user.pk).values("group_id")
    ).values("policy_id")
    return Policy.objects.filter(
        Q(audience=Policy.Audience.EVERYONE)
        | Q(audience=Policy.Audience.DEPARTMENTS, pk__in=in_departments)
        | Q(audience=Policy.Audience.GROUPS, pk__in=in_groups),
        versions__status=PolicyVersion.Status.PUBLISHED,
    ).order_by("title")
