"""The one read scope of every workspace-owned model.

Each model's QuerySet derives from ``WorkspaceScopedQuerySet`` and declares,
once, the path from its rows to their workspace::

    class ItemQuerySet(WorkspaceScopedQuerySet):
        workspace_path = "product__workspace"

The API reads ``Model.objects.visible_to(request.user)`` (any workspace the
user belongs to); HTML views, which resolved the workspace from the URL and
checked the membership (``workspace_view``), read through
``in_workspace(request.workspace)``, usually via ``pmhub.web.get_in_workspace``.
Both are the same path, so a model cannot be scoped one way in the API and
another way on its page.
"""

from django.db import models


class WorkspaceScopedQuerySet(models.QuerySet):
    """Rows that belong to one workspace, reached through ``workspace_path``
    (``"workspace"``, ``"product__workspace"``, ...; empty for Workspace itself)."""

    workspace_path = "workspace"

    def _lookup(self, suffix: str) -> str:
        return f"{self.workspace_path}__{suffix}" if self.workspace_path else suffix

    def visible_to(self, user):
        """Rows in workspaces the user is a member of (none for anonymous users)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(**{self._lookup("memberships__user"): user})

    def in_workspace(self, workspace):
        """Rows of ``workspace`` (the request's, already checked by the view)."""
        if not self.workspace_path:
            return self.filter(pk=workspace.pk)
        return self.filter(**{self.workspace_path: workspace})
