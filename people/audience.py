"""Who an audience (everyone, chosen departments, chosen groups) is: used by policies
and training requirements alike; and who is in a line manager's team."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from people import roles
from people.models import Department, ReportingLine

EVERYONE = "everyone"
DEPARTMENTS = "departments"
GROUPS = "groups"
CHOICES = [
    (EVERYONE, "Everyone"),
    (DEPARTMENTS, "Chosen departments"),
    (GROUPS, "Chosen groups"),
]
# Who can be in an audience at all, as a condition on people: everyone's audience is
# exactly these (`audience_people`; `training.compliance.in_audience` tests the same on
# the person's row).
IN_ANY_AUDIENCE = Q(is_active=True)


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
    people = get_user_model().objects.filter(IN_ANY_AUDIENCE)
    if kind == DEPARTMENTS:
        people = people.filter(department_id__in=with_sub_departments(department_ids))
    elif kind == GROUPS:
        people = people.filter(groups__in=list(group_ids)).distinct()
    return people


def _line_kept() -> bool:
    """Whether the database keeps people.ReportingLine (its triggers exist on
    PostgreSQL and SQLite only; see people/migrations/0007_reporting_line.py)."""
    return connection.vendor in ("postgresql", "sqlite")


def heads_everyone_else(manager) -> bool:
    """Whether `manager`'s team is every other active person: they head the whole line
    (see `team`)."""
    return manager.manager_id is None and roles.heads_everyone(manager)


def everyone_else(manager, prefix: str = "") -> Q:
    """The team of the head of the whole line (`heads_everyone_else`) as a condition on
    a person's row, `prefix` the relation to it ("person__"): active, and not them. A
    query that joins the person's row anyway (for their department) tests it there,
    rather than matching the whole company's ids."""
    return Q(**{f"{prefix}is_active": True}) & ~Q(**{f"{prefix}pk": manager.pk})


def outside_team(manager):
    """When `manager`'s team is every other active person (`heads_everyone_else`): the
    people outside it, as a queryset (everyone inactive, and the manager); None for any
    other team. A figure that adds up over people is then everyone's less theirs: a few
    people, where the team is nearly all."""
    if not heads_everyone_else(manager):
        return None
    return get_user_model().objects.exclude(everyone_else(manager))


def in_team(manager, relation: str = "", *, joined: bool = False) -> Q:
    """A condition that a person is in `manager`'s team: on people themselves (`relation`
    ""), or on rows with a person who is never null (`relation` "person", "owner"). For
    the head of the whole line, tested on the person's row when the query joins it
    anyway (`joined`, e.g. for the department), else as "not one of the few outside the
    team" (a hashed set of a few ids; exact only because the person is never null); for
    anyone else, one of the team's ids."""
    if heads_everyone_else(manager):
        if not relation or joined:
            return everyone_else(manager, f"{relation}__" if relation else "")
        return ~Q(**{f"{relation}__in": outside_team(manager).values("pk")})
    return Q(**{f"{relation or 'pk'}__in": team(manager).values("pk")})


def team(manager):
    """The active people who report to `manager`, directly or through others, as a
    queryset: one range of the reporting-line table's index, however deep or wide the
    line. Inactive managers in between still pass their reports on, since the line
    itself is what counts; the manager is never in their own team.

    The one person at the top of the whole line (`roles.heads_everyone`, read with their
    roles) has everyone else: every line ends at someone without a manager, and they are
    the only one who is active or has reports (a leaver nobody reports to is in no line
    below anyone). Their team is then every other active person, with no table to read
    (the biggest team is the one that gains most). A loop that raw SQL wrote, which
    the services refuse, is the exception: the people in it end nowhere, and count here."""
    people = get_user_model()
    if heads_everyone_else(manager):
        return people.objects.filter(everyone_else(manager))
    if _line_kept():
        below = ReportingLine.objects.filter(manager_id=manager.pk).values("person_id")
        return people.objects.filter(is_active=True, pk__in=below)
    return people.objects.filter(is_active=True, pk__in=_walked_down(manager.pk))


def reports_to(person, manager) -> bool:
    """Whether `person` reports to `manager`, directly or through others, active or
    not (one query)."""
    if _line_kept():
        return ReportingLine.objects.filter(manager_id=manager.pk, person_id=person.pk).exists()
    people = get_user_model()
    return people.objects.filter(pk=person.pk, pk__in=_walked_down(manager.pk)).exists()


def _walked_down(manager_id: int) -> RawSQL:
    """The ids below `manager_id`, by a recursive walk down people_user: for a database
    that does not keep the reporting-line table."""
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
        f") SELECT id FROM below WHERE id <> %s"
    )
    return RawSQL(below, [manager_id, manager_id])  # noqa: S611


def team_ids(manager) -> list[int]:
    """The ids of `team(manager)`, in order (one query)."""
    return list(team(manager).order_by("pk").values_list("pk", flat=True))
