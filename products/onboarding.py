"""The first-run steps products owns (pmhub/onboarding.py)."""

from django.urls import reverse

from .models import Product, Vision


def has_product(workspace) -> bool:
    return Product.objects.in_workspace(workspace).exists()


def product_url(workspace, product) -> str:
    return reverse("products:workspace", args=[workspace.slug]) + "#new-product"


def has_vision(workspace) -> bool:
    return Vision.objects.filter(product__workspace=workspace).exclude(statement="").exists()


def vision_url(workspace, product) -> str | None:
    if product is None:
        return None
    return reverse("products:region-edit", args=[workspace.slug, product.key, "vision"])
