"""First run: the checklist that walks a new workspace from nothing to a
shared roadmap — product → vision → first items → first roadmap → first
share link — and ticks itself from the data.

Each app registers its steps from ``AppConfig.ready()`` (the project does
not import the apps)::

    register_step("items", "Add the first backlog items", order=30,
                  done=lambda ws: ..., url=lambda ws, product: ...)

``done(workspace)`` is one cheap ``exists()`` query; ``url(workspace,
product)`` is where the step is done, for the workspace's first product
(None until there is one). The workspace home shows the whole checklist
while a step is open; the pages in between show "Next step: …" (one
click to it) while the person is going through it — a session mark set by
the home, so pages of a finished workspace pay nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass

SESSION_KEY = "pmhub_firstrun"


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    order: int
    done: Callable
    url: Callable


@dataclass(frozen=True)
class StepState:
    key: str
    label: str
    done: bool
    url: str | None


_STEPS: dict[str, Step] = {}


def register_step(key: str, label: str, *, order: int, done: Callable, url: Callable) -> None:
    _STEPS[key] = Step(key, label, order, done, url)


def checklist(workspace, product) -> list[StepState]:
    """Every step, in order, for ``workspace`` (``product``: its first, or None)."""
    steps = sorted(_STEPS.values(), key=lambda s: (s.order, s.key))
    return [
        StepState(s.key, s.label, bool(s.done(workspace)), s.url(workspace, product)) for s in steps
    ]


def next_step(states: list[StepState]) -> StepState | None:
    return next((s for s in states if not s.done), None)


def first_product(workspace):
    return workspace.products.order_by("created_at", "id").first()


def firstrun_context(request) -> dict:
    """Context processor: "Next step" on a workspace's pages while its
    person is going through the checklist (marked by the workspace home)."""
    workspace = getattr(request, "workspace", None)
    session = getattr(request, "session", None)
    if workspace is None or session is None or session.get(SESSION_KEY) != workspace.slug:
        return {}
    states = checklist(workspace, first_product(workspace))
    upcoming = next_step(states)
    if upcoming is None:
        session.pop(SESSION_KEY, None)
        return {"firstrun_done": True}
    return {
        "firstrun_next": upcoming,
        "firstrun_position": states.index(upcoming) + 1,
        "firstrun_total": len(states),
    }
