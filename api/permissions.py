"""Who may do what through the API: the token's scope, and the same rules as the pages,
asked of the token's owner.

- People's acknowledgement and training status, and compliance figures: policy admins
  and leadership for everyone (the compliance dashboard's scope), line managers for
  their team, direct and indirect (My team); site admins for everyone, as the Django
  admin shows them every person and assignment. Anyone else: refused.
- Policies: what the owner may read on the Policies page (the published version of
  their audience's policies); policy admins every policy and version, drafts included,
  as on the policy admin pages.
- Incidents: `incidents.permissions`, with the incident page's levels of detail.
- Acknowledging on someone's behalf: policy admins, as on the compliance page.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.models import IntegrationToken
from dashboards.compliance import Scope, scope_for
from people import roles
from policies.permissions import can_manage

PEOPLE_REFUSED = (
    "Only site admins, policy admins, leadership and line managers (for their team) may "
    "read people's status and compliance figures."
)
ON_BEHALF_REFUSED = "Only policy admins acknowledge on someone's behalf."


class TokenScope(BasePermission):
    """A token reads; only a read-write token changes anything."""

    message = "This token may only read."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, IntegrationToken):
            return False
        return request.method in SAFE_METHODS or token.can_write


def people_scope(user) -> Scope | None:
    """Whose status and figures `user` may read; None: nobody's (a 403)."""
    if roles.is_site_admin(user):
        return Scope(everyone=True)
    return scope_for(user)


def can_acknowledge_on_behalf(user) -> bool:
    return can_manage(user)
