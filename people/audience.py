"""Who an audience (everyone, chosen departments, chosen groups) is: used by policies
and training requirements alike."""

from django.contrib.auth import get_user_model

from people.models import Department

EVERYONE = "everyone"
DEPARTMENTS = "departments"
GROUPS = "groups"
CHOICES = [
    (EVERYONE, "Everyone"),
    (DEPARTMENTS, "Chosen departments"),
    (GROUPS, "Chosen groups"),
]


def with_sub_departments(department_ids) -> set[int]:
    """The departments and everything below them (one query)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Department.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    todo, included = list(department_ids), set()
    while todo:
        pk = todo.pop()
        if pk not in included:
            included.add(pk)
            todo.extend(children.get(pk, []))
    return included


def department_and_ancestors(department_id: int | None) -> set[int]:
    """A department and every department above it (one query): an audience of a
    department includes its sub-departments, so these are the departments whose
    audience a member of `department_id` belongs to."""
    parents = dict(Department.objects.values_list("pk", "parent_id"))
    found: set[int] = set()
    while department_id is not None and department_id not in found:
        found.add(department_id)
        department_id = parents.get(department_id)
    return found


def audience_people(kind: str, *, department_ids=(), group_ids=()):
    """A queryset of the active people in the audience."""
    people = get_user_model().objects.filter(is_active=True)
    if kind == DEPARTMENTS:
        people = people.filter(department_id__in=with_sub_departments(department_ids))
    elif kind == GROUPS:
        people = people.filter(groups__in=list(group_ids)).distinct()
    return people


def team_ids(manager) -> list[int]:
    """The active people who report to `manager`, directly or through others: one query
    per level of the reporting line (its depth, not its size). Inactive managers in
    between still pass their reports on, since the line itself is what counts."""
    people = get_user_model().objects
    found: dict[int, bool] = {}
    level = [manager.pk]
    while level:
        rows = [
            (pk, active)
            for pk, active in people.filter(manager_id__in=level).values_list("pk", "is_active")
            if pk not in found and pk != manager.pk
        ]
        found.update(rows)
        level = [pk for pk, _ in rows]
    return sorted(pk for pk, active in found.items() if active)
