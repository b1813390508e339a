"""What the backlog contributes to the command palette (pmhub/palette.py):
items by key or title, and the actions on the item or product on screen —
a new item titled with what was typed, a status, an owner."""

from django.urls import reverse

from pmhub.accounts.models import User
from pmhub.palette import PaletteQuery, Result, rank_fuzzy

from .models import Item, Status
from .search import find_items

STATUS_LABELS = dict(Status.choices)


def item_url(workspace, product_key: str, number: int) -> str:
    return reverse("backlog:item", args=[workspace.slug, product_key, number])


def items_source(query: PaletteQuery) -> list[Result]:
    if not query.text:
        return []
    return [
        Result(
            group="Items",
            label=f"{row['key']} {row['title']}",
            detail=STATUS_LABELS.get(row["status"], row["status"]),
            url=item_url(query.workspace, row["product__key"], row["number"]),
        )
        for row in find_items(query.workspace, query.text, limit=query.limit)
    ]


def item_in_context(query: PaletteQuery) -> Item | None:
    """The item on screen (``item:PAY-12``), if it is in the workspace."""
    key = query.context_of("item")
    if not key:
        return None
    return (
        Item.objects.in_workspace(query.workspace)
        .select_related("product")
        .filter(key=key.upper())
        .first()
    )


def create_source(query: PaletteQuery) -> list[Result]:
    """ "New item “…”" in the product on screen, titled with what was typed."""
    if not query.can_edit or not query.text or not query.product_key:
        return []
    return [
        Result(
            group="Create",
            label=f"New item “{query.text}”",
            detail=f"Add to the {query.product_key} backlog",
            url=reverse("backlog:item-create", args=[query.workspace.slug, query.product_key]),
            fields={"title": query.text, "type": "feature"},
        )
    ]


def actions_source(query: PaletteQuery) -> list[Result]:
    """Status and owner of the item on screen."""
    if not query.can_edit:
        return []
    ws = query.workspace
    actions: list[Result] = []
    item = item_in_context(query)
    if item is not None:
        url = reverse("backlog:item-set", args=[ws.slug, item.product.key, item.number])
        base = {"version": str(item.version)}
        options = [
            Result(
                group="Actions",
                label=f"Set status: {label}",
                detail=item.key,
                url=url,
                fields={**base, "field": "status", "value": value},
            )
            for value, label in Status.choices
            if value != item.status
        ]
        members = User.objects.filter(memberships__workspace=ws).order_by("username")[:50]
        options += [
            Result(
                group="Actions",
                label=f"Assign to {member}",
                detail=item.key,
                url=url,
                fields={**base, "field": "owner", "value": str(member.pk)},
            )
            for member in members
            if member.pk != item.owner_id
        ]
        if item.owner_id:
            options.append(
                Result(
                    group="Actions",
                    label="Unassign",
                    detail=item.key,
                    url=url,
                    fields={**base, "field": "owner", "value": ""},
                )
            )
        actions += rank_fuzzy(query.text, options, query.limit) if query.text else options
    return actions
