"""The same change applied to many items of the backlog at once."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from pmhub import activity
from pmhub.accounts.services import require_editor
from products.models import Objective, Product

from ..models import REASON_STATUSES, Item, Status
from .hypotheses import sync_launch_markers
from .items import _check_owner, _check_status, _objectives_for, _tags_for, item_verb


@transaction.atomic
def bulk_update_items(
    actor,
    *,
    product: Product,
    item_ids: list[int],
    status: str | None = None,
    status_reason: str = "",
    owner=None,
    clear_owner: bool = False,
    add_tags=(),
    remove_tags=(),
    add_objective: Objective | None = None,
) -> int:
    """Apply the same change to many items: one UPDATE per changed column,
    one event per changed item (one INSERT). Returns the number of items changed."""
    require_editor(actor, product.workspace)
    items = Item.objects.filter(product=product, pk__in=item_ids)
    ids = list(items.values_list("pk", flat=True))
    if not ids:
        raise ValidationError({"items": "Select at least one item."})
    changes: dict = {}
    if status:
        if status not in Status.values:
            raise ValidationError({"status": "Unknown status."})
        _check_status({"status": status, "status_reason": status_reason})
        changes["status"] = status
        changes["status_reason"] = status_reason if status in REASON_STATUSES else ""
    if owner is not None:
        _check_owner(product, owner)
        changes["owner"] = owner
    elif clear_owner:
        changes["owner"] = None
    if add_objective is not None:
        _objectives_for(product, [add_objective])
    columns = [
        n for n in ("status", "status_reason", "owner_id") if n.removesuffix("_id") in changes
    ]
    old_rows = {row[0]: row[1:] for row in items.values_list("pk", *columns)}
    if changes:
        now = timezone.now()
        qs = Item.objects.filter(pk__in=ids)
        if changes.get("status") == Status.SHIPPED:
            # As update_item: the launch is stamped when an item becomes shipped.
            qs.filter(~Q(status=Status.SHIPPED) | Q(shipped_at__isnull=True)).update(shipped_at=now)
        qs.update(**changes, version=F("version") + 1, updated_at=now)
    if add_tags:
        through = Item.tags.through
        for tag in _tags_for(product, add_tags):
            through.objects.bulk_create(
                [through(item_id=i, tag_id=tag.pk) for i in ids], ignore_conflicts=True
            )
    if remove_tags:
        Item.tags.through.objects.filter(
            item_id__in=ids, tag__name__in=[t.lower() for t in remove_tags]
        ).delete()
    if add_objective is not None:
        through = Item.objectives.through
        through.objects.bulk_create(
            [through(item_id=i, objective_id=add_objective.pk) for i in ids], ignore_conflicts=True
        )
    if (add_tags or remove_tags or add_objective) and not changes:
        Item.objects.filter(pk__in=ids).update(version=F("version") + 1, updated_at=timezone.now())
    if "status" in changes:
        sync_launch_markers(ids)
    fresh = list(Item.objects.filter(pk__in=ids))
    _record_bulk_events(
        actor, product, fresh, columns, old_rows, add_tags, remove_tags, add_objective
    )
    return len(ids)


def _record_bulk_events(actor, product, items, columns, old_rows, add_tags, remove_tags, objective):
    """One event per item that changed, all in one INSERT."""
    relations = {}
    if add_tags:
        relations["tags_added"] = [None, sorted(t.lower() for t in add_tags)]
    if remove_tags:
        relations["tags_removed"] = [None, sorted(t.lower() for t in remove_tags)]
    if objective is not None:
        relations["objective_added"] = [None, objective.pk]
    rows = []
    for item in items:
        before = dict(zip(columns, old_rows[item.pk], strict=True))
        after = {name: getattr(item, name) for name in columns}
        changes = {
            name.removesuffix("_id"): pair for name, pair in activity.diff(before, after).items()
        } | relations
        if changes:
            verb = item_verb(changes)
            rows.append(
                {"workspace": product.workspace_id, "verb": verb, "obj": item, "changes": changes}
            )
    activity.record_many(rows, actor=actor)
