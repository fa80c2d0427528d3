"""Who may do what: the one place that turns groups and the directory into roles.

Views, templates (through the navigation context) and services ask these
helpers; nothing else looks at group names.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

COMMS = "Comms"
HR_LEGAL = "HR/Legal"
POLICY_ADMIN = "Policy admin"
LEADERSHIP = "Leadership"
# The comms lead answers for the comms team: late post reviews escalate to them.
COMMS_LEAD = "Comms lead"
ROLE_GROUPS = (COMMS, HR_LEGAL, POLICY_ADMIN, LEADERSHIP, COMMS_LEAD)
# The groups' names are data (the directory and SCIM use them); these are the words shown.
ROLE_WORDS = {
    COMMS: gettext_lazy("Comms"),
    HR_LEGAL: gettext_lazy("HR/Legal"),
    POLICY_ADMIN: gettext_lazy("Policy admin"),
    LEADERSHIP: gettext_lazy("Leadership"),
    COMMS_LEAD: gettext_lazy("Comms lead"),
}


def read_roles(user, **also) -> dict:
    """Read what every page asks of the signed-in person in one query, and keep it on the
    user object for the rest of the request: their groups (ids and names), whether they
    have an active direct report (a line manager), and whether they head the whole line
    (`heads_everyone`). Each of `also` (name -> an Exists over the person's row,
    OuterRef("pk")) is read in the same query; their answers are returned.

    Held on the user object only: the next request loads the user again, so a change of
    groups or reports counts from the next page on."""
    people = get_user_model()._default_manager
    rows = list(
        people.filter(pk=user.pk)
        .order_by()
        .annotate(
            manages_anyone=Exists(people.filter(manager=OuterRef("pk"), is_active=True)),
            # Without a manager, and nobody else without one who counts: active, or with
            # reports (a leaver's or a system account's row that nobody reports to does
            # not). Only asked of someone without a manager.
            heads_everyone=Case(
                When(
                    manager__isnull=True,
                    then=~Exists(
                        people.filter(manager__isnull=True)
                        .exclude(pk=OuterRef("pk"))
                        .filter(Q(is_active=True) | Exists(people.filter(manager=OuterRef("pk"))))
                    ),
                ),
                default=Value(False),
                output_field=BooleanField(),
            ),
            **{f"also_{name}": check for name, check in also.items()},
        )
        .values_list(
            "manages_anyone",
            "heads_everyone",
            "groups__pk",
            "groups__name",
            *(f"also_{n}" for n in also),
        )
    )
    groups = {row[2]: row[3] for row in rows if row[2] is not None}
    user._policyhub_group_ids = frozenset(groups)
    user._policyhub_group_names = frozenset(groups.values())
    user._policyhub_is_line_manager = bool(rows and rows[0][0])
    user._policyhub_heads_everyone = bool(rows and rows[0][1])
    return {name: bool(rows and rows[0][4 + i]) for i, name in enumerate(also)}


def _read_once(user) -> None:
    if getattr(user, "_policyhub_group_names", None) is None:
        read_roles(user)


def group_names(user) -> frozenset[str]:
    """The user's group names, read once per user object (with `read_roles`)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    _read_once(user)
    return user._policyhub_group_names


def group_ids(user) -> frozenset[int]:
    """The ids of the user's groups (for audiences chosen by group), read with their names."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    _read_once(user)
    return user._policyhub_group_ids


def heads_everyone(user) -> bool:
    """Whether `user` is the one person at the top of the whole reporting line: nobody
    else without a manager is active or has reports, so everyone else who is active
    reports to them, directly or through others (read with the roles)."""
    if not getattr(user, "is_authenticated", False):
        return False
    _read_once(user)
    return user._policyhub_heads_everyone


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_comms(user) -> bool:
    return _active(user) and COMMS in group_names(user)


def is_comms_lead(user) -> bool:
    return _active(user) and COMMS_LEAD in group_names(user)


def is_hr_legal(user) -> bool:
    return _active(user) and HR_LEGAL in group_names(user)


def is_policy_admin(user) -> bool:
    return _active(user) and POLICY_ADMIN in group_names(user)


def is_leadership(user) -> bool:
    return _active(user) and LEADERSHIP in group_names(user)


def is_site_admin(user) -> bool:
    return _active(user) and user.is_superuser


def is_line_manager(user) -> bool:
    """A line manager is anyone with at least one active direct report."""
    if not _active(user):
        return False
    _read_once(user)
    return user._policyhub_is_line_manager


def can_import_people(user) -> bool:
    return is_site_admin(user) or is_policy_admin(user)


def can_see_dashboards(user) -> bool:
    return (
        is_comms(user)
        or is_hr_legal(user)
        or is_policy_admin(user)
        or is_leadership(user)
        or is_line_manager(user)
    )


def role_labels(user) -> list[str]:
    """The roles a person holds, in the words of the product, for display."""
    held = group_names(user) if _active(user) else frozenset()
    labels = [str(ROLE_WORDS[name]) for name in ROLE_GROUPS if name in held]
    if is_line_manager(user):
        labels.append(_("Line manager"))
    if is_site_admin(user):
        labels.append(_("Site admin"))
    return labels or [_("Employee")]


def role_required(check: Callable[[object], bool]):
    """View decorator: 403 unless `check(request.user)` holds (login is already required)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
