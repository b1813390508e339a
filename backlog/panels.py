"""Extra panels on the backlog item page, contributed by downstream apps.

backlog/ may not import feedback/ (or any app that builds on it), yet the item
page shows, say, the customer insights behind an item. A downstream app
registers a panel from ``AppConfig.ready()``::

    from backlog.panels import register_item_panel
    register_item_panel("feedback/_item_insights.html", insights_context, order=10)

``context(request, item)`` returns the template's context (a dict), or ``None``
to leave the panel out. Each panel must read with a constant number of queries.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ItemPanel:
    template: str
    context: Callable[[Any, Any], dict | None]
    order: int


_PANELS: list[ItemPanel] = []


def register_item_panel(template: str, context, *, order: int = 50) -> None:
    if any(p.template == template for p in _PANELS):
        return
    _PANELS.append(ItemPanel(template, context, order))
    _PANELS.sort(key=lambda p: p.order)


def panels_for(request, item) -> list[dict]:
    """[{"template": ..., "context": {...}}] for the panels that apply."""
    shown = []
    for panel in _PANELS:
        ctx = panel.context(request, item)
        if ctx is not None:
            shown.append({"template": panel.template, "context": ctx})
    return shown
