"""The first-run step the backlog owns (pmhub/onboarding.py)."""

from django.urls import reverse

from .models import Item


def has_items(workspace) -> bool:
    return Item.objects.in_workspace(workspace).exists()


def items_url(workspace, product) -> str | None:
    if product is None:
        return None
    return reverse("backlog:backlog", args=[workspace.slug, product.key]) + "#id_title"
