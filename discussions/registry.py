"""Which objects people can discuss, and how to find, show and link them.

A type is registered once (``types.py`` registers the built-in ones)::

    register(Commentable(
        label="backlog.item",
        noun="item",
        queryset=lambda: Item.objects.select_related("product"),
        url=lambda item: reverse(...),
        key=lambda item: item.key,
        title=lambda item: item.title,
        implicit_watchers=lambda ids: {...},   # creator / owner per object id
    ))

and from then on comments, watches and notifications work for it: the API
accepts its label, the generic discussion page shows it, and the panel can be
attached to its page. ``can_see(user, obj)`` defaults to every member of the
object's workspace (viewers read everything); a type with narrower
visibility says so, and mentions of someone who cannot see it are refused.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404


@dataclass(frozen=True)
class Commentable:
    label: str
    noun: str
    queryset: Callable[[], Any]  # a WorkspaceScopedQuerySet of the type
    url: Callable[[Any], str]
    key: Callable[[Any], str]
    title: Callable[[Any], str]
    # {object id: {user ids}} of those who watch without asking (creator, owner)
    implicit_watchers: Callable[[list[int]], dict[int, set[int]]] = field(default=lambda ids: {})
    can_see: Callable[[Any, Any], bool] = field(default=lambda user, obj: True)
    product_id: Callable[[Any], int | None] = field(
        default=lambda obj: getattr(obj, "product_id", None)
    )


_TYPES: dict[str, Commentable] = {}


def register(kind: Commentable) -> None:
    _TYPES[kind.label] = kind


def get(label: str) -> Commentable | None:
    return _TYPES.get(label)


def labels() -> list[str]:
    return sorted(_TYPES)


def find(label: str, workspace, object_id) -> tuple[Commentable, Any]:
    """The type and the object ``object_id`` of ``workspace``; 404 for an
    unknown type, a missing object or one of another workspace alike."""
    kind = _TYPES.get(label)
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        raise Http404("No such object.") from None
    if kind is None or not 0 < object_id < 2**63:
        raise Http404("No such object.")
    obj = kind.queryset().in_workspace(workspace).filter(pk=object_id).first()
    if obj is None:
        raise Http404("No such object.")
    return kind, obj


def describe(kind: Commentable, obj) -> dict:
    """How notifications and pages name the object."""
    return {
        "object_type": kind.label,
        "object_id": obj.pk,
        "object_key": str(kind.key(obj) or "")[:60],
        "object_title": str(kind.title(obj) or "")[:300],
        "url": kind.url(obj)[:300],
    }


def attach_panels() -> None:
    """The discussion panel on each page that has a panel registry."""
    from pmhub.panels import register_panel

    from .views import panel

    for page, label in PAGES.items():
        register_panel(
            page,
            "discussions/_panel.html",
            lambda request, obj, label=label: panel.panel_context(request, label, obj),
            order=90,
        )


# page name in pmhub.panels -> the commentable type it shows
PAGES = {"roadmaps.entry": "roadmaps.entry", "feedback.company": "feedback.company"}
