"""Saved views: named sets of backlog filters and sort order."""

from django.core.exceptions import ValidationError
from django.db import transaction

from pmhub.accounts.services import require_editor, require_member
from products.models import Product

from ..models import SavedView


@transaction.atomic
def save_view(actor, *, product: Product, name: str, query: str) -> SavedView:
    """Save the filters as a named view of the product; saving under the name
    of someone else's view replaces it, which (as deleting it) takes an editor."""
    require_member(actor, product.workspace)
    name = (name or "").strip()[:60]
    if not name:
        raise ValidationError({"name": "Name the view."})
    existing = SavedView.objects.filter(product=product, name=name).first()
    if existing is not None and existing.created_by_id != actor.pk:
        require_editor(actor, product.workspace)
    view, _ = SavedView.objects.update_or_create(
        product=product, name=name, defaults={"query": query[:1000], "created_by": actor}
    )
    return view


@transaction.atomic
def delete_view(actor, *, view: SavedView) -> None:
    if view.created_by_id != actor.pk:
        require_editor(actor, view.product.workspace)
    view.delete()
