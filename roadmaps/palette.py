"""Roadmaps in the command palette (pmhub/palette.py): roadmaps by name, and
the actions on what is on screen — put the item in Now, Next or Later on a
Now/Next/Later roadmap of its product, start such a roadmap named with what
was typed, open a roadmap's share dialog."""

from django.db.models import Q
from django.urls import reverse

from backlog.models import Item
from pmhub.palette import PaletteQuery, Result, rank_fuzzy

from .models import Entry, Horizon, Layout, Roadmap


def roadmaps_source(query: PaletteQuery) -> list[Result]:
    slug = query.workspace.slug
    results = []
    if query.text:
        roadmaps = (
            Roadmap.objects.in_workspace(query.workspace)
            .filter(name__icontains=query.text)
            .order_by("name", "id")
            .values("pk", "name", "layout")[: query.limit]
        )
        results = [
            Result(
                group="Roadmaps",
                label=r["name"],
                detail=Layout(r["layout"]).label,
                url=reverse("roadmaps:roadmap", args=[slug, r["pk"]]),
            )
            for r in roadmaps
        ]
    page = Result(
        "Pages", "All roadmaps and portfolios", reverse("roadmaps:roadmaps-home", args=[slug])
    )
    if not query.text or rank_fuzzy(query.text, [page], 1):
        results.append(page)
    return results


def _item_on_screen(query: PaletteQuery) -> Item | None:
    key = query.context_of("item")
    if not key:
        return None
    return Item.objects.in_workspace(query.workspace).filter(key=key.upper()).first()


def actions_source(query: PaletteQuery) -> list[Result]:
    slug = query.workspace.slug
    options: list[Result] = []
    roadmap_pk = query.context_of("roadmap")
    if roadmap_pk and query.request.can_admin:
        roadmap = (
            Roadmap.objects.in_workspace(query.workspace).filter(pk=roadmap_pk).values("pk").first()
        )
        if roadmap:
            options.append(
                Result(
                    "Actions",
                    "Share this roadmap…",
                    reverse("roadmaps:roadmap-share", args=[slug, roadmap["pk"]]),
                    detail="Share links",
                )
            )
    item = _item_on_screen(query) if query.can_edit else None
    if item is not None:
        roadmaps = list(
            Roadmap.objects.in_workspace(query.workspace)
            .filter(layout=Layout.NOW_NEXT_LATER)
            .filter(Q(product_id=item.product_id) | Q(products=item.product_id))
            .distinct()
            .order_by("name", "id")
            .values("pk", "name")[:10]
        )
        placed = dict(
            Entry.objects.filter(item=item, roadmap__in=[r["pk"] for r in roadmaps]).values_list(
                "roadmap_id", "horizon"
            )
        )
        for r in roadmaps:
            for value, label in Horizon.choices:
                if placed.get(r["pk"]) == value:
                    continue
                options.append(
                    Result(
                        "Actions",
                        f"Move to {label} on “{r['name']}”",
                        reverse("roadmaps:palette-place", args=[slug, r["pk"]]),
                        detail=item.key,
                        fields={"item": item.key, "horizon": value},
                    )
                )
    if query.text:
        options = rank_fuzzy(query.text, options, query.limit)
    if query.can_edit and query.text and query.product_key:
        options.append(
            Result(
                "Create",
                f"New Now/Next/Later roadmap “{query.text}”",
                reverse("roadmaps:palette-create", args=[slug, query.product_key]),
                detail=f"A roadmap of {query.product_key}",
                fields={"name": query.text},
            )
        )
    return options
