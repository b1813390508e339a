"""Manual ranking with fractional keys (backlog.services.move_item & co).

A state machine drives random inserts, moves and deletes and checks after
every step that the database order equals a plain Python list.
"""

import itertools

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from backlog import services
from backlog.models import Item
from tests.factories import ProductFactory


def db_order(product) -> list[int]:
    return list(Item.objects.filter(product=product).order_by("rank").values_list("pk", flat=True))


def fresh(pk: int) -> Item:
    return Item.objects.select_related("product__workspace").get(pk=pk)


class RankingMachine(RuleBasedStateMachine):
    """Bound to an actor and a product by ``machine_for``."""

    actor = None
    product = None

    def __init__(self):
        super().__init__()
        # Each run starts from an empty backlog (the test transaction spans all runs).
        Item.objects.filter(product=self.product).delete()
        self.model: list[int] = []
        self.created = 0

    @rule()
    def insert(self):
        self.created += 1
        item = services.create_item(self.actor, product=self.product, title=f"Item {self.created}")
        self.model.append(item.pk)  # new items go to the bottom

    @precondition(lambda self: self.model)
    @rule(data=st.data(), mode=st.sampled_from(["both", "before", "after"]))
    def move(self, data, mode):
        pk = data.draw(st.sampled_from(self.model), label="item")
        others = [p for p in self.model if p != pk]
        index = data.draw(st.integers(0, len(others)), label="index")
        before = others[index] if index < len(others) else None
        after = others[index - 1] if index > 0 else None
        if mode == "before" and before is not None:
            after = None
        elif mode == "after" and after is not None:
            before = None
        # Only ``before`` = directly above it; only ``after`` = directly below it;
        # neither = the bottom. Each case lands the item at ``index``.
        services.move_item(
            self.actor,
            item=fresh(pk),
            before=fresh(before) if before is not None else None,
            after=fresh(after) if after is not None else None,
        )
        others.insert(index, pk)
        self.model = others

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def move_to_top(self, data):
        pk = data.draw(st.sampled_from(self.model), label="item")
        services.move_item_to_top(self.actor, item=fresh(pk))
        self.model.remove(pk)
        self.model.insert(0, pk)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), steps=st.sampled_from([-1, 1]))
    def move_by_one(self, data, steps):
        pk = data.draw(st.sampled_from(self.model), label="item")
        services.move_item_by(self.actor, item=fresh(pk), steps=steps)
        index = self.model.index(pk)
        target = index + steps
        if 0 <= target < len(self.model):
            self.model[index], self.model[target] = self.model[target], self.model[index]

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def delete(self, data):
        pk = data.draw(st.sampled_from(self.model), label="item")
        services.delete_item(self.actor, item=fresh(pk))
        self.model.remove(pk)

    @invariant()
    def database_order_equals_model(self):
        assert db_order(self.product) == self.model

    @invariant()
    def ranks_are_distinct_and_strictly_increasing_bytewise(self):
        ranks = list(
            Item.objects.filter(product=self.product)
            .order_by("rank")
            .values_list("rank", flat=True)
        )
        encoded = [r.encode() for r in ranks]
        assert all(a < b for a, b in itertools.pairwise(encoded)), ranks


@pytest.mark.django_db
def test_random_inserts_moves_and_deletes_keep_the_database_order_equal_to_a_list(pm, product):
    # Run inside this django_db test: every step shares its transaction and fixtures.
    machine = type("BoundRankingMachine", (RankingMachine,), {"actor": pm, "product": product})
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=25, stateful_step_count=20, deadline=None, database=None),
    )


# --- examples ------------------------------------------------------------------------------------


@pytest.fixture
def five(pm, product):
    return [services.create_item(pm, product=product, title=f"Item {n}") for n in range(5)]


def test_new_items_go_to_the_bottom(five, product):
    assert db_order(product) == [i.pk for i in five]


def _item_updates(queries) -> list[str]:
    table = connection.ops.quote_name("backlog_item")
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith("UPDATE") and table in q["sql"]
    ]


def _writes(queries) -> list[str]:
    verbs = ("UPDATE", "INSERT", "DELETE")
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(verbs)]


@pytest.mark.parametrize("size", [5, 40])
def test_a_move_writes_exactly_one_row(pm, product, size):
    items = [services.create_item(pm, product=product, title=f"Item {n}") for n in range(size)]
    last, first, second = fresh(items[-1].pk), fresh(items[0].pk), fresh(items[1].pk)
    with CaptureQueriesContext(connection) as ctx:
        services.move_item(pm, item=last, after=first, before=second)
    updates = _item_updates(ctx.captured_queries)
    assert len(updates) == 1, updates
    others = [w for w in _writes(ctx.captured_queries) if w not in updates]
    assert len(others) == 1 and "activity_event" in others[0]  # its event, nothing else
    assert db_order(product)[:3] == [items[0].pk, items[-1].pk, items[1].pk]


def test_move_to_top_and_keyboard_moves_write_one_row(pm, five, product):
    for move in (
        lambda: services.move_item_to_top(pm, item=fresh(five[3].pk)),
        lambda: services.move_item_by(pm, item=fresh(five[2].pk), steps=-1),
        lambda: services.move_item_by(pm, item=fresh(five[0].pk), steps=1),
    ):
        with CaptureQueriesContext(connection) as ctx:
            move()
        assert len(_item_updates(ctx.captured_queries)) == 1
    # [0,1,2,3,4] → top 3 → [3,0,1,2,4] → 2 up → [3,0,2,1,4] → 0 down → [3,2,0,1,4]
    assert db_order(product) == [five[i].pk for i in (3, 2, 0, 1, 4)]


def test_move_with_only_before_or_only_after(pm, five, product):
    services.move_item(pm, item=fresh(five[4].pk), before=fresh(five[1].pk))
    assert db_order(product) == [five[i].pk for i in (0, 4, 1, 2, 3)]
    services.move_item(pm, item=fresh(five[0].pk), after=fresh(five[2].pk))
    assert db_order(product) == [five[i].pk for i in (4, 1, 2, 0, 3)]
    services.move_item(pm, item=fresh(five[4].pk))
    assert db_order(product) == [five[i].pk for i in (1, 2, 0, 3, 4)]


def test_keyboard_moves_at_the_edges_change_nothing(pm, five, product):
    with CaptureQueriesContext(connection) as ctx:
        services.move_item_by(pm, item=fresh(five[0].pk), steps=-1)
        services.move_item_by(pm, item=fresh(five[4].pk), steps=1)
    assert _writes(ctx.captured_queries) == []
    services.move_item_to_top(pm, item=fresh(five[0].pk))
    assert db_order(product) == [i.pk for i in five]


def test_neighbour_in_another_product_is_a_bad_move(pm, workspace, five):
    other = ProductFactory(workspace=workspace, name="Ops", key="OPS")
    stranger_item = services.create_item(pm, product=other, title="Elsewhere")
    with pytest.raises(services.BadMove):
        services.move_item(pm, item=fresh(five[0].pk), before=fresh(stranger_item.pk))
    with pytest.raises(services.BadMove):
        services.move_item(pm, item=fresh(five[0].pk), after=fresh(stranger_item.pk))


def test_non_adjacent_neighbours_place_the_item_directly_below_after(pm, five, product):
    # A stale client list, or a concurrent move into the same gap: the item
    # lands right below "after" (still above "before"), nothing is refused.
    services.move_item(
        pm, item=fresh(five[4].pk), after=fresh(five[0].pk), before=fresh(five[2].pk)
    )
    assert db_order(product) == [five[0].pk, five[4].pk, five[1].pk, five[2].pk, five[3].pk]


def test_reversed_neighbours_are_a_bad_move(pm, five, product):
    with pytest.raises(services.BadMove):
        services.move_item(
            pm, item=fresh(five[4].pk), after=fresh(five[1].pk), before=fresh(five[0].pk)
        )
    with pytest.raises(services.BadMove):
        services.move_item(
            pm, item=fresh(five[4].pk), after=fresh(five[1].pk), before=fresh(five[1].pk)
        )
    assert db_order(product) == [i.pk for i in five]


def test_item_cannot_be_its_own_neighbour(pm, five):
    with pytest.raises(services.BadMove):
        services.move_item(pm, item=fresh(five[2].pk), before=fresh(five[2].pk))


def test_viewer_cannot_move(viewer, five, product):
    for move in (
        lambda: services.move_item(viewer, item=fresh(five[4].pk), before=fresh(five[0].pk)),
        lambda: services.move_item_to_top(viewer, item=fresh(five[4].pk)),
        lambda: services.move_item_by(viewer, item=fresh(five[4].pk), steps=-1),
    ):
        with pytest.raises(PermissionDenied):
            move()
    assert db_order(product) == [i.pk for i in five]


def test_stranger_cannot_move(stranger, five):
    with pytest.raises(PermissionDenied):
        services.move_item(stranger, item=fresh(five[4].pk), before=fresh(five[0].pk))


def test_teammate_can_move(teammate, five, product):
    services.move_item_to_top(teammate, item=fresh(five[4].pk))
    assert db_order(product)[0] == five[4].pk


def test_a_move_that_keeps_colliding_retries_in_the_gap_and_then_answers_409(
    pm, five, product, monkeypatch
):
    """Many movers into one gap: each retry picks a key at random in the gap
    (not the same key again in lockstep); one that still collides after every
    attempt is a 409 MoveContention, never an IntegrityError (a 500)."""
    from backlog.services import ranking

    taken = fresh(five[0].pk).rank
    spreads = []

    def always_taken(item, *, before, after, spread=False):
        spreads.append(spread)
        return taken

    monkeypatch.setattr(ranking, "_rank_between", always_taken)
    with pytest.raises(services.MoveContention):
        services.move_item(pm, item=fresh(five[3].pk), before=fresh(five[1].pk))
    assert spreads == [False] + [True] * 9
    assert db_order(product) == [i.pk for i in five]


def test_a_retry_lands_at_a_random_key_inside_the_gap(pm, five, product):
    from backlog.services import ranking

    lower, upper = fresh(five[0].pk).rank, fresh(five[1].pk).rank
    keys = {
        ranking._rank_between(
            fresh(five[3].pk), before=fresh(five[1].pk), after=fresh(five[0].pk), spread=True
        )
        for _ in range(20)
    }
    assert len(keys) > 1 and all(lower < key < upper for key in keys)
