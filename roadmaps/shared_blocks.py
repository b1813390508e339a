"""Extra blocks on the public shared pages, contributed by downstream apps.

roadmaps/ renders the shared roadmap (``/s/<token>/``) and its entry pages,
and may not import the apps that build on it (questions/, say). A
downstream app registers a block from ``AppConfig.ready()``::

    from roadmaps.shared_blocks import register_shared_block
    register_shared_block("entry", "questions/_entry_block.html", entry_context)

``where`` is ``"page"`` (the roadmap page, under the board) or ``"entry"``
(an entry's page). ``context(request, link, token, **kw)`` gets the live
ShareLink and its raw token (``entry=`` on an entry page, ``board=`` on the
roadmap page) and returns the template's context, or ``None`` to leave the
block out: then not a byte of it is in the page. Blocks must read with a
constant number of queries.

The roadmap page is cached by ETag (``views.public._etag``): a block whose
markup depends on a setting of the app must make the link's ETag change
when the setting does (``services.touch_share_link``)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WHERE = ("page", "entry")


@dataclass(frozen=True)
class SharedBlock:
    where: str
    template: str
    context: Callable[..., dict | None]
    order: int


_BLOCKS: list[SharedBlock] = []


def register_shared_block(where: str, template: str, context, *, order: int = 50) -> None:
    if where not in WHERE:
        raise ValueError(f"where must be one of {WHERE}")
    if any(b.template == template and b.where == where for b in _BLOCKS):
        return
    _BLOCKS.append(SharedBlock(where, template, context, order))
    _BLOCKS.sort(key=lambda b: b.order)


def blocks_for(where: str, request, link, token: str, **kw: Any) -> list[dict]:
    """[{"template": ..., "context": {...}}] of the blocks that apply."""
    shown = []
    for block in _BLOCKS:
        if block.where != where:
            continue
        ctx = block.context(request, link, token, **kw)
        if ctx is not None:
            shown.append({"template": block.template, "context": ctx})
    return shown


def audience_unlocked(request, link) -> bool:
    """Whether this request may see the link's pages: no password, or the
    unlock cookie the password form set. For downstream apps' forms on the
    shared pages, which must refuse what the page itself would refuse."""
    from .views.public import _unlocked

    return _unlocked(request, link)
