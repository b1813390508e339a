"""The manual order of a backlog: fractional rank keys, so a move writes
one row (the moved item's rank) however long the backlog is."""

import random

from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone
from fractional_indexing import generate_key_between, generate_n_keys_between

from pmhub import activity
from pmhub.accounts.services import require_editor
from pmhub.errors import DomainError

from ..models import Item


class BadMove(DomainError):
    """The neighbours given for a move are not adjacent or not in this list."""

    status_code = 400


class MoveContention(DomainError):
    """Too many moves into the same place at once; try again."""

    status_code = 409


def move_item(
    actor, *, item: Item, before: Item | None = None, after: Item | None = None, attempts: int = 10
) -> Item:
    """Place ``item`` directly above ``before`` and/or directly below ``after``
    (either may be None: None for both, or only ``after`` = bottom of the list;
    only ``before`` = directly above it). Writes exactly one row: the item's
    new fractional rank. Two concurrent moves into the same gap compute the
    same key; the unique (product, rank) constraint rejects the second, which
    retries with fresh neighbours and a key picked at random in the gap (so
    that many movers into one gap do not collide again in lockstep); the
    order stays total. Past ``attempts``: ``MoveContention`` (409)."""
    require_editor(actor, item.product.workspace)
    for neighbour in (before, after):
        if neighbour is not None and (
            neighbour.product_id != item.product_id or neighbour.pk == item.pk
        ):
            raise BadMove("Neighbours must be other items of the same product.")
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                rank = _rank_between(item, before=before, after=after, spread=attempt > 0)
                # updated_at moves too, so incremental sync sees reorders; the
                # version does not: a move never conflicts with a field edit.
                now = timezone.now()
                Item.objects.filter(pk=item.pk).update(rank=rank, updated_at=now)
                old_rank, item.rank, item.updated_at = item.rank, rank, now
                activity.record(
                    item.product.workspace_id,
                    "item.moved",
                    item,
                    changes={"rank": [old_rank, rank]},
                    actor=actor,
                )
                return item
        except IntegrityError:
            continue
    raise MoveContention()


def _rank_between(
    item: Item, *, before: Item | None, after: Item | None, spread: bool = False
) -> str:
    siblings = Item.objects.filter(product_id=item.product_id).exclude(pk=item.pk)
    lower = upper = None
    if after is not None:
        lower = Item.objects.filter(pk=after.pk).values_list("rank", flat=True).first()
        if lower is None:
            raise BadMove("The item to place this one after was deleted; reload and try again.")
    if before is not None:
        upper = Item.objects.filter(pk=before.pk).values_list("rank", flat=True).first()
        if upper is None:
            raise BadMove("The item to place this one before was deleted; reload and try again.")
    if after is not None and before is None:
        upper = siblings.filter(rank__gt=lower).aggregate(m=Min("rank"))["m"]
    elif before is not None and after is None:
        lower = siblings.filter(rank__lt=upper).aggregate(m=Max("rank"))["m"]
    elif before is None and after is None:
        lower = siblings.aggregate(m=Max("rank"))["m"]
    if lower is not None and upper is not None and lower >= upper:
        raise BadMove("“after” must come before “before” in the list.")
    if after is not None and before is not None:
        between = siblings.filter(rank__gt=lower, rank__lt=upper).aggregate(m=Min("rank"))["m"]
        if between is not None:
            # Someone moved an item into this gap meanwhile (or the client's
            # list is stale): land directly below "after", which still sorts
            # above "before". Nothing is refused, nothing is lost.
            upper = between
    if spread:
        return random.choice(generate_n_keys_between(lower, upper, 16))
    return generate_key_between(lower, upper)


def move_item_to_top(actor, *, item: Item) -> Item:
    first = (
        Item.objects.filter(product_id=item.product_id).exclude(pk=item.pk).order_by("rank").first()
    )
    return move_item(actor, item=item, before=first) if first else item


def move_item_by(actor, *, item: Item, steps: int) -> Item:
    """Keyboard moves: one place up (steps=-1) or down (steps=1)."""
    siblings = Item.objects.filter(product_id=item.product_id).exclude(pk=item.pk)
    if steps < 0:
        above = list(siblings.filter(rank__lt=item.rank).order_by("-rank")[:2])
        if not above:
            return item
        return move_item(
            actor, item=item, before=above[0], after=above[1] if len(above) > 1 else None
        )
    below = list(siblings.filter(rank__gt=item.rank).order_by("rank")[:2])
    if not below:
        return item
    return move_item(actor, item=item, after=below[0], before=below[1] if len(below) > 1 else None)
