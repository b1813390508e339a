"""Helpers every roadmaps service uses: the roadmap's products and the
year range dates must fall in."""

from django.core.exceptions import ValidationError

from products.models import Product

from ..models import Roadmap


def roadmap_products(roadmap: Roadmap) -> list[Product]:
    if roadmap.product_id:
        return [roadmap.product]
    return list(roadmap.products.order_by("name", "id"))


def roadmap_product_ids(roadmap: Roadmap) -> list[int]:
    if roadmap.product_id:
        return [roadmap.product_id]
    return list(roadmap.products.values_list("id", flat=True))


MIN_YEAR, MAX_YEAR = 1990, 2200


def check_year(value, field: str) -> None:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError({field: f"Pick a date between {MIN_YEAR} and {MAX_YEAR}."})
