"""Customers (companies) in the command palette (pmhub/palette.py), by name
or domain. A customer's page lives under a product: the one on screen, else
the workspace's first."""

from django.db.models import Q
from django.urls import reverse

from pmhub.palette import PaletteQuery, Result
from products.models import Product

from .models import Company


def customers_source(query: PaletteQuery) -> list[Result]:
    if not query.text:
        return []
    companies = list(
        Company.objects.in_workspace(query.workspace)
        .filter(Q(name__icontains=query.text) | Q(domain__istartswith=query.text))
        .order_by("name", "id")
        .values("pk", "name", "domain")[: query.limit]
    )
    if not companies:
        return []
    key = query.product_key
    if key is None:
        key = (
            Product.objects.in_workspace(query.workspace)
            .order_by("name", "id")
            .values_list("key", flat=True)
            .first()
        )
    if key is None:
        return []
    return [
        Result(
            group="Customers",
            label=c["name"],
            detail=c["domain"],
            url=reverse("feedback:feedback-company", args=[query.workspace.slug, key, c["pk"]]),
        )
        for c in companies
    ]
