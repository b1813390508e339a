"""Extra panels in the inbox's detail pane of one piece of feedback,
contributed by downstream apps.

feedback/ may not import the apps that build on it, yet a piece of feedback
may have come from one of them (a stakeholder's question on a shared
roadmap, which the PM answers from here). A downstream app registers a
panel from ``AppConfig.ready()``::

    from feedback.panels import register_feedback_panel
    register_feedback_panel("questions/_feedback_panel.html", answer_context)

``context(request, feedback)`` returns the template's context (a dict), or
``None`` to leave the panel out. Each panel reads with a constant number of
queries."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FeedbackPanel:
    template: str
    context: Callable[[Any, Any], dict | None]
    order: int


_PANELS: list[FeedbackPanel] = []


def register_feedback_panel(template: str, context, *, order: int = 50) -> None:
    if any(p.template == template for p in _PANELS):
        return
    _PANELS.append(FeedbackPanel(template, context, order))
    _PANELS.sort(key=lambda p: p.order)


def panels_for(request, feedback) -> list[dict]:
    """[{"template": ..., "context": {...}}] for the panels that apply."""
    if feedback is None:
        return []
    shown = []
    for panel in _PANELS:
        ctx = panel.context(request, feedback)
        if ctx is not None:
            shown.append({"template": panel.template, "context": ctx})
    return shown
