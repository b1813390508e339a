"""Saved views: named sets of backlog filters and sort order.

A saved view is shared: every member of the workspace sees it on the
product's backlog. So saving or deleting one is a write like any other and
takes an editor; a viewer keeps a view of their own as a bookmark (the
filters and sort are in the URL)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from pmhub.accounts.services import require_editor
from products.models import Product

from ..models import SavedView


@transaction.atomic
def save_view(actor, *, product: Product, name: str, query: str) -> SavedView:
    """Save the filters as a named view of the product (saving under an
    existing name replaces that view). Editors only: everyone sees it."""
    require_editor(actor, product.workspace)
    name = (name or "").strip()[:60]
    if not name:
        raise ValidationError({"name": "Name the view."})
    view, _ = SavedView.objects.update_or_create(
        product=product, name=name, defaults={"query": query[:1000], "created_by": actor}
    )
    return view


@transaction.atomic
def delete_view(actor, *, view: SavedView) -> None:
    require_editor(actor, view.product.workspace)
    view.delete()
