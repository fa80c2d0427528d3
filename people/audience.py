"""Who an audience (everyone, chosen departments, chosen groups) is: used by policies
and training requirements alike."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models.expressions import RawSQL

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


def team(manager):
    """The active people who report to `manager`, directly or through others, as a
    queryset (one recursive subquery, however deep or wide the reporting line).
    Inactive managers in between still pass their reports on, since the line itself is
    what counts; the manager is never in their own team."""
    people = get_user_model()
    quote = connection.ops.quote_name
    table = quote(people._meta.db_table)
    manager_column = quote(people._meta.get_field("manager").column)
    pk = quote(people._meta.pk.column)
    # Only quoted names from the model go into the text; the manager is a parameter.
    below = (
        f"WITH RECURSIVE below(id) AS ("  # noqa: S608
        f"SELECT {pk} FROM {table} WHERE {manager_column} = %s "
        f"UNION SELECT p.{pk} FROM {table} p JOIN below b ON p.{manager_column} = b.id"
        f") SELECT id FROM below"
    )
    in_line = RawSQL(below, [manager.pk])  # noqa: S611
    return people.objects.filter(is_active=True, pk__in=in_line).exclude(pk=manager.pk)


def team_ids(manager) -> list[int]:
    """The ids of `team(manager)`, in order (one query)."""
    return list(team(manager).order_by("pk").values_list("pk", flat=True))
