"""Products in the command palette (pmhub/palette.py), by name or key."""

from django.db.models import Q
from django.urls import reverse

from pmhub.palette import PaletteQuery, Result

from .models import Product


def products_source(query: PaletteQuery) -> list[Result]:
    if not query.text:
        return []
    products = (
        Product.objects.in_workspace(query.workspace)
        .filter(Q(name__icontains=query.text) | Q(key__istartswith=query.text))
        .order_by("name", "id")
        .values("key", "name", "stage")[: query.limit]
    )
    return [
        Result(
            group="Products",
            label=f"{p['key']} {p['name']}",
            detail="Strategy and vision",
            url=reverse("products:strategy", args=[query.workspace.slug, p["key"]]),
        )
        for p in products
    ]
