"""Extra panels on object pages, contributed by apps higher up the import graph.

A page that has no panel registry of its own (a roadmap entry, a customer)
names itself and includes the panels a downstream app registered::

    # roadmaps/views/entries.py
    from pmhub.panels import panels_for
    ctx["panels"] = panels_for("roadmaps.entry", request, entry)

    # discussions/apps.py (ready)
    from pmhub.panels import register_panel
    register_panel("roadmaps.entry", "discussions/_panel.html", context, order=90)

``context(request, obj)`` returns the template's context (a dict), or
``None`` to leave the panel out; it must read with a constant number of
queries. The item page keeps its own registry (``backlog.panels``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable[[Any, Any], dict | None]
    order: int


_PANELS: dict[str, list[Panel]] = {}


def register_panel(page: str, template: str, context, *, order: int = 50) -> None:
    panels = _PANELS.setdefault(page, [])
    if any(p.template == template for p in panels):
        return
    panels.append(Panel(template, context, order))
    panels.sort(key=lambda p: p.order)


def panels_for(page: str, request, obj) -> list[dict]:
    """[{"template": ..., "context": {...}}] for the panels of ``page`` that apply."""
    shown = []
    for panel in _PANELS.get(page, ()):
        ctx = panel.context(request, obj)
        if ctx is not None:
            shown.append({"template": panel.template, "context": ctx})
    return shown
