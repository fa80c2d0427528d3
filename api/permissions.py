from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.models import IntegrationToken


class TokenScope(BasePermission):
    """A token reads; only a read-write token changes anything."""

    message = "This token may only read."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, IntegrationToken):
            return False
        return request.method in SAFE_METHODS or token.can_write
