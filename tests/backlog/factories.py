"""Backlog items for tests, made through the services so keys, ranks and
scores are what the application would have made."""

import itertools

from fractional_indexing import generate_n_keys_between

from backlog import services
from backlog.models import BacklogSettings, Item

_titles = itertools.count(1)


def make_item(product, actor, **fields) -> Item:
    """One item at the bottom of ``product``'s backlog, created by ``actor``."""
    fields.setdefault("title", f"Item {next(_titles)}")
    return services.create_item(actor, product=product, **fields)


def make_rice_item(product, actor, *, reach, impact=1, confidence=100, effort=1, **fields) -> Item:
    """An item with every RICE input set, so it has a score under the default model."""
    return make_item(
        product, actor, reach=reach, impact=impact, confidence=confidence, effort=effort, **fields
    )


def bulk_items(product, n: int, **fields) -> list[Item]:
    """``n`` items appended to the backlog in a few statements (for tests that
    need hundreds of rows): numbered keys, fractional ranks after the last
    item, scores from one recompute, as ``create_item`` would give them."""
    settings_row = BacklogSettings.objects.get(product=product)
    last_rank = (
        Item.objects.filter(product=product)
        .order_by("-rank")
        .values_list("rank", flat=True)
        .first()
    )
    ranks = generate_n_keys_between(last_rank, None, n)
    first = settings_row.last_item_number + 1
    items = Item.objects.bulk_create(
        Item(
            product=product,
            number=number,
            key=f"{product.key}-{number}",
            rank=rank,
            **{"title": f"Bulk item {number}", **fields},
        )
        for number, rank in zip(range(first, first + n), ranks, strict=True)
    )
    BacklogSettings.objects.filter(pk=settings_row.pk).update(last_item_number=first + n - 1)
    services.recompute_scores(product.pk)
    return items
