"""Bringing a deleted item back: the undo of a delete (backlog/undo.py).

``item_snapshot`` reads, before the delete, everything of the item's own row
and its tags and objectives; ``restore_item`` writes it back with its id,
number and key (keys are never reused, so they are still free), in its place
in the manual order when nobody took that rank, else at the bottom. What
the delete cascaded away with the item (its roadmap entries, linked
feedback, score history) is not restored: the undo message says so."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from pmhub.accounts.services import require_editor
from products.models import Objective, Product

from ..models import Item, ScoreChange, Tag
from .items import ITEM_FIELDS, _rank_after_last, _rescore_item

COPIED = (*(f for f in ITEM_FIELDS if f not in ("parent", "owner")), "number", "key", "rank")


def item_snapshot(item: Item) -> dict:
    """The item's row (JSON-safe), tags, objectives and children."""
    row = {f: getattr(item, f) for f in COPIED}
    return {
        **row,
        "id": item.pk,
        "product": item.product_id,
        "parent": item.parent_id,
        "owner": item.owner_id,
        "created_at": item.created_at.isoformat(),
        "shipped_at": item.shipped_at.isoformat() if item.shipped_at else None,
        "tags": list(item.tags.values_list("name", flat=True)),
        "objectives": list(item.objectives.values_list("pk", flat=True)),
        "children": list(Item.objects.filter(parent_id=item.pk).values_list("pk", flat=True)),
    }


@transaction.atomic
def restore_item(actor, *, product: Product, snapshot: dict, children_versions: dict) -> Item:
    """Recreate a deleted item from ``item_snapshot``; its children that
    nobody changed since the delete (``children_versions``: id → version
    right after it) become its children again."""
    require_editor(actor, product.workspace)
    if snapshot["product"] != product.pk:
        raise ValidationError("That item belongs to another product.")
    if Item.objects.filter(product=product, number=snapshot["number"]).exists():
        raise ValidationError(f"{snapshot['key']} exists already.")
    fields = {f: snapshot[f] for f in COPIED}
    if Item.objects.filter(product=product, rank=fields["rank"]).exists():
        fields["rank"] = _rank_after_last(product.pk)
    parent = Item.objects.filter(product=product, pk=snapshot["parent"]).first()
    owner_id = snapshot["owner"]
    if owner_id and not product.workspace.memberships.filter(user_id=owner_id).exists():
        owner_id = None
    item = Item(
        pk=None if Item.objects.filter(pk=snapshot["id"]).exists() else snapshot["id"],
        product=product,
        parent=parent,
        owner_id=owner_id,
        created_at=parse_datetime(snapshot["created_at"]),
        shipped_at=parse_datetime(snapshot["shipped_at"]) if snapshot["shipped_at"] else None,
        **fields,
    )
    item.save()
    item.tags.set(Tag.objects.filter(product=product, name__in=snapshot["tags"]))
    item.objectives.set(Objective.objects.filter(product=product, pk__in=snapshot["objectives"]))
    for child_id, version in children_versions.items():
        Item.objects.filter(
            pk=int(child_id), product=product, parent__isnull=True, version=version
        ).update(parent=item, version=F("version") + 1, updated_at=timezone.now())
    _rescore_item(item, actor=actor, cause=ScoreChange.Cause.CREATED, detail="Restored by undo")
    return item
