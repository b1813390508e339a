from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import ADMIN_ROLES, EDIT_ROLES, Membership


def workspace_view(*, edit: bool = False, admin: bool = False):
    """Resolve the ``slug`` URL argument to a workspace the user belongs to.

    Non-members get 404 (a workspace's existence is not revealed); members
    without the needed role get 403. Sets ``request.workspace``,
    ``request.role``, ``request.can_edit`` and ``request.can_admin``.
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            membership = (
                Membership.objects.select_related("workspace")
                .filter(user=request.user, workspace__slug=slug)
                .first()
            )
            if membership is None:
                raise Http404("No such workspace.")
            request.workspace = membership.workspace
            request.role = membership.role
            request.can_edit = membership.role in EDIT_ROLES
            request.can_admin = membership.role in ADMIN_ROLES
            if (edit and not request.can_edit) or (admin and not request.can_admin):
                raise PermissionDenied("Your role does not allow this.")
            if request.session.get("workspace") != slug:
                request.session["workspace"] = slug
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
