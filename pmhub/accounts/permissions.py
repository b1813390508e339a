from rest_framework import permissions

from .models import ApiToken


class TokenScopePermission(permissions.BasePermission):
    """A read-only token may only read."""

    message = "This API token is read-only."

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiToken) and request.auth.read_only:
            return request.method in permissions.SAFE_METHODS
        return True
