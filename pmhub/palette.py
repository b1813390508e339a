"""The command palette (Ctrl/⌘+K on every page): one search box over the
whole workspace — products, items, roadmaps, customers, metrics, pages —
and the actions that apply to the object on screen.

The project does not import the apps (``tests/test_import_graph.py``): each
app registers what it contributes from its ``AppConfig.ready()``::

    from pmhub.palette import register_source
    register_source("items", palette.find_items, order=20)

A source is ``fn(query: PaletteQuery) -> list[Result]``. It reads through the
workspace scope (``in_workspace(query.workspace)``), answers at most
``query.limit`` results (a bounded, index-served read: never a scan of the
workspace), ``query.context`` says which object the page shows
(``("item", "PAY-42")``, ``("roadmap", "7")``) and ``query.product_key``
the product it belongs to, so a source can offer actions on them. The view
(``palette_results``) asks every source in order, groups the results
(``GROUPS``) and renders ``templates/_palette_results.html``: the options of
the palette's listbox.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.shortcuts import render
from django.views.decorators.http import require_GET

from pmhub.accounts.decorators import workspace_view

MAX_QUERY = 100
PER_SOURCE = 8
# The order of the palette's groups; "Create" last, so Enter on a typed name
# opens what exists before it makes something new.
GROUPS = ("Actions", "Items", "Products", "Roadmaps", "Metrics", "Customers", "Pages", "Create")
CONTEXT = re.compile(r"^(item|roadmap):([A-Za-z0-9_-]{1,40})$")
PRODUCT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,9}$")


@dataclass(frozen=True)
class Result:
    """One option of the palette: a link, or (``fields`` set) a POST that runs
    an action through the app's own view and service."""

    group: str
    label: str
    url: str
    detail: str = ""
    fields: dict = field(default_factory=dict)

    @property
    def method(self) -> str:
        return "post" if self.fields else "get"


@dataclass(frozen=True)
class PaletteQuery:
    request: object
    text: str
    context: tuple[str, str] | None
    product_key: str | None = None
    limit: int = PER_SOURCE

    @property
    def workspace(self):
        return self.request.workspace

    @property
    def user(self):
        return self.request.user

    @property
    def can_edit(self) -> bool:
        return self.request.can_edit

    def context_of(self, kind: str) -> str | None:
        """The id or key of the page's object when it is a ``kind``."""
        if self.context and self.context[0] == kind:
            return self.context[1]
        return None


@dataclass(frozen=True)
class Source:
    name: str
    find: Callable[[PaletteQuery], list[Result]]
    order: int


_SOURCES: dict[str, Source] = {}


def register_source(name: str, find: Callable[[PaletteQuery], list[Result]], *, order: int):
    _SOURCES[name] = Source(name, find, order)


def sources() -> list[Source]:
    return sorted(_SOURCES.values(), key=lambda s: (s.order, s.name))


def fuzzy_score(text: str, label: str) -> float | None:
    """How well ``text`` matches ``label``, for the short lists ranked in
    Python (pages, actions): a substring beats initials, initials beat a
    subsequence (``nnl`` finds "Now/Next/Later"); None when the letters of
    ``text`` do not all appear in order."""
    text, label = text.lower().strip(), label.lower()
    if not text:
        return 0.0
    if label.startswith(text):
        return 3.0
    if text in label:
        return 2.0 + len(text) / max(len(label), 1)
    words = [w for w in re.split(r"[^a-z0-9]+", label) if w]
    if "".join(w[0] for w in words).startswith(text.replace(" ", "")):
        return 1.5
    at = 0
    for ch in text.replace(" ", ""):
        at = label.find(ch, at)
        if at < 0:
            return None
        at += 1
    return 1.0


def rank_fuzzy(text: str, results: list[Result], limit: int) -> list[Result]:
    """The ``results`` whose label matches ``text``, best first (stable)."""
    scored = [(fuzzy_score(text, r.label), i, r) for i, r in enumerate(results)]
    kept = [(s, i, r) for s, i, r in scored if s is not None]
    kept.sort(key=lambda t: (-t[0], t[1]))
    return [r for _, _, r in kept[:limit]]


def parse_context(raw: str | None) -> tuple[str, str] | None:
    match = CONTEXT.match(raw or "")
    return (match.group(1), match.group(2)) if match else None


def search(
    request, text: str, context=None, *, product_key=None, limit: int = PER_SOURCE
) -> list[Result]:
    """Every source's results for ``text`` (already trimmed), in source order."""
    query = PaletteQuery(
        request=request, text=text, context=context, product_key=product_key, limit=limit
    )
    results: list[Result] = []
    for source in sources():
        results.extend(source.find(query)[:limit])
    return results


@require_GET
@workspace_view()
def palette_results(request):
    """The palette's options for ``?q=`` on the page of ``?context=``."""
    text = " ".join(request.GET.get("q", "").split())[:MAX_QUERY]
    context = parse_context(request.GET.get("context"))
    product_key = request.GET.get("product", "")
    product_key = product_key.upper() if PRODUCT_KEY.match(product_key) else None
    results = search(request, text, context, product_key=product_key)
    groups: dict[str, list[Result]] = {}
    for result in results:
        groups.setdefault(result.group, []).append(result)
    order = {name: n for n, name in enumerate(GROUPS)}
    groups = dict(sorted(groups.items(), key=lambda g: order.get(g[0], len(order))))
    return render(
        request,
        "_palette_results.html",
        {"groups": list(groups.items()), "query": text, "count": len(results)},
    )


def pages_source(query: PaletteQuery) -> list[Result]:
    """The workspace's pages and the sections of the product on screen."""
    from django.urls import reverse

    from pmhub.navigation import product_tabs

    slug = query.workspace.slug
    pages = [
        Result("Pages", "Workspace home", reverse("products:workspace", args=[slug])),
        Result("Pages", "Members", reverse("accounts:members", args=[slug])),
        Result("Pages", "API tokens", reverse("accounts:tokens")),
        Result("Pages", "API documentation", reverse("api-docs")),
    ]
    if query.product_key:
        pages = [
            Result(
                "Pages",
                f"{tab.label} · {query.product_key}",
                reverse(tab.url_name, args=[slug, query.product_key]),
            )
            for tab in product_tabs()
        ] + pages
    if not query.text:
        return pages[: query.limit]
    return rank_fuzzy(query.text, pages, query.limit)


register_source("pages", pages_source, order=80)
