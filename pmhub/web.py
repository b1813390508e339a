"""Helpers every HTML view needs, written once.

- ``get_in_workspace(request, Model, **lookup)``: the row of the request's
  workspace or 404 (healthchecks' ``_get_check_for_user``), through the
  model's ``WorkspaceScopedQuerySet.in_workspace``.
- ``apply_errors(form, exc)``: a service's ``ValidationError`` onto a form.
- ``save_with_conflict(form, save, ...)``: validate, save through a service,
  and on ``VersionConflict`` keep what the person typed, based on the row as
  it is now, so the page can show both and the next save replaces theirs
  knowingly.
- ``int_param(raw)``: an integer from a query or form value, or None.
- ``safe_next(request, fallback)``: the posted ``next`` URL if it is ours.
- ``bad_request``: the 400 page (``handler400``), e.g. for a damaged
  "load more" cursor (``django.core.exceptions.BadRequest``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme

from .errors import VersionConflict


def get_in_workspace(request, model_or_queryset, **lookup):
    """The one row of ``request.workspace`` matching ``lookup``, else 404.

    ``model_or_queryset`` is a model or a queryset of one (to add
    ``select_related`` ...) whose QuerySet derives from
    ``pmhub.querysets.WorkspaceScopedQuerySet``. A row of another workspace
    answers 404 like a missing one: its existence is not revealed."""
    queryset = model_or_queryset
    if isinstance(queryset, type) and issubclass(queryset, models.Model):
        queryset = queryset._default_manager.all()
    return get_object_or_404(queryset.in_workspace(request.workspace), **lookup)


def apply_errors(form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to a form's fields (unknown fields
    and message lists without a field become non-field errors)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def safe_next(request, fallback: str) -> str:
    """The ``next`` URL posted (or passed) with the request when it points at
    this site, else ``fallback``: where an action returns the person to."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return fallback


def int_param(raw, default: int | None = None) -> int | None:
    """``raw`` (a GET or POST value, possibly missing) as an int, else ``default``."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


@dataclass
class Saved:
    """What ``save_with_conflict`` did. ``form`` is the form to show again
    when nothing was saved (with errors, or rebased on the current row)."""

    form: Any
    value: Any = None  # what the save returned
    saved: bool = False
    conflicted: bool = False
    conflict: Any = None  # the row as someone else saved it (None: deleted)

    @property
    def gone(self) -> bool:
        """Someone deleted the row meanwhile."""
        return self.conflicted and self.conflict is None


def save_with_conflict(
    form,
    save: Callable[[dict], Any],
    *,
    rebind: Callable[[Any, Any], Any] | None = None,
    fallback_version: int | None = None,
    rebase: bool = True,
) -> Saved:
    """The save-with-conflict flow of every edit form.

    Validates ``form`` and calls ``save(form.cleaned_data)``, which calls a
    service. A ``ValidationError`` becomes form errors. A ``VersionConflict``
    (someone saved first; nothing was written) returns ``conflicted`` with the
    current row in ``conflict``; unless ``rebase`` is off, the form keeps the
    typed values but its ``version`` becomes the current row's
    (``fallback_version`` when the row is gone), so saving again replaces
    theirs knowingly. ``rebind(data, current)`` builds that form anew (to bind
    it to the current instance); without it the form's data is swapped in
    place. The caller picks the status (409 for a plain post, 200 for an htmx
    swap) and the page."""
    if not form.is_valid():
        return Saved(form)
    try:
        value = save(form.cleaned_data)
    except ValidationError as exc:
        apply_errors(form, exc)
        return Saved(form)
    except VersionConflict as exc:
        current = exc.current
        if rebase:
            data = form.data.copy()
            version = current.version if current is not None else fallback_version
            data[form.add_prefix("version")] = "" if version is None else str(version)
            if rebind is not None:
                form = rebind(data, current)
                form.is_valid()
            else:
                form.data = data
        return Saved(form, conflicted=True, conflict=current)
    return Saved(form, value=value, saved=True)


def bad_request(request, exception=None):
    """400 handler (``handler400``): the site's page, rendered with the request
    (Django's default renders 400.html without one). JSON under /api/."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return render(request, "400.html", status=400)
