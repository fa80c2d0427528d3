"""Who may do what: the one place that turns groups and the directory into roles.

Views, templates (through the navigation context) and services ask these
helpers; nothing else looks at group names.
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
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


def group_names(user) -> frozenset[str]:
    """The user's group names, read once per user object (one query)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_policyhub_group_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._policyhub_group_names = cached
    return cached


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
    cached = getattr(user, "_policyhub_is_line_manager", None)
    if cached is None:
        cached = user.direct_reports.filter(is_active=True).exists()
        user._policyhub_is_line_manager = cached
    return cached


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
