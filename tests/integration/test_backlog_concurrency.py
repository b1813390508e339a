"""Backlog writes under real contention (PostgreSQL only).

Each worker runs in its own thread with its own connection; a barrier
releases them together. Covered: two edits at the same version (exactly one
wins), two moves into the same gap (a total order, nothing lost), and two
recomputes of the same product at once (one ScoreChange per changed item).
"""

import itertools
import threading

import pytest
from django.db import connection

from backlog import scoring, services, tasks
from backlog.models import BacklogSettings, Item, ScoreChange, ScoringKind
from backlog.services import recompute as recompute_module
from pmhub.activity.models import Event
from pmhub.errors import VersionConflict
from tests.conftest import require

ROUNDS = 20
BARRIER_TIMEOUT = 20
JOIN_TIMEOUT = 60

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres_only():
    require(connection.vendor == "postgresql", "the backlog concurrency tests need PostgreSQL")


def _race(workers):
    """Run each callable in its own thread, released together by a barrier.

    Returns one ``("ok", value)`` or ``("error", exception)`` per worker, in order.
    """
    barrier = threading.Barrier(len(workers), timeout=BARRIER_TIMEOUT)
    outcomes = [None] * len(workers)

    def run(index, work):
        try:
            outcomes[index] = ("ok", work(barrier))
        except BaseException as exc:
            outcomes[index] = ("error", exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, w), name=f"worker-{i}") for i, w in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    return outcomes


def fresh(pk: int) -> Item:
    return Item.objects.select_related("product__workspace").get(pk=pk)


# --- (a) same version ----------------------------------------------------------------------------


def _editor(user, item_pk, title):
    def work(barrier):
        item = fresh(item_pk)  # loaded in this thread, at version 1
        barrier.wait()
        return services.update_item(user, item=item, expected_version=1, fields={"title": title})

    return work


def test_two_edits_at_the_same_version_exactly_one_wins(pm, teammate, product):
    for round_no in range(ROUNDS):
        item = services.create_item(pm, product=product, title=f"Round {round_no}")
        outcomes = _race([_editor(pm, item.pk, "A"), _editor(teammate, item.pk, "B")])
        wins = [i for i, (kind, _) in enumerate(outcomes) if kind == "ok"]
        losses = [value for kind, value in outcomes if kind == "error"]
        assert len(wins) == 1, f"round {round_no}: {outcomes}"
        assert len(losses) == 1 and isinstance(losses[0], VersionConflict), outcomes
        assert losses[0].current is not None and losses[0].current.version == 2
        item = fresh(item.pk)
        assert (item.version, item.title) == (2, "AB"[wins[0]])
        events = Event.objects.filter(object_type="backlog.item", object_id=item.pk)
        assert events.count() == 2  # created + the winner's edit


# --- (b) same gap --------------------------------------------------------------------------------


def _mover(user, item_pk, *, before_pk, after_pk):
    def work(barrier):
        item = fresh(item_pk)
        before = fresh(before_pk) if before_pk else None
        after = fresh(after_pk) if after_pk else None
        barrier.wait()
        return services.move_item(user, item=item, before=before, after=after).rank

    return work


def _same_gap_rounds(pm, teammate, product, mode):
    for round_no in range(ROUNDS):
        x, y, a, b = (
            services.create_item(pm, product=product, title=f"{name}{round_no}") for name in "XYAB"
        )
        before_pk = y.pk if mode in ("both", "before") else None
        after_pk = x.pk if mode in ("both", "after") else None
        outcomes = _race(
            [
                _mover(pm, a.pk, before_pk=before_pk, after_pk=after_pk),
                _mover(teammate, b.pk, before_pk=before_pk, after_pk=after_pk),
            ]
        )
        assert [kind for kind, _ in outcomes] == ["ok", "ok"], f"round {round_no}: {outcomes}"

        rows = list(Item.objects.filter(product=product).order_by("rank").values_list("pk", "rank"))
        order = [pk for pk, _ in rows]
        ranks = [rank.encode() for _, rank in rows]
        assert len(order) == len(set(order)) == 4 * (round_no + 1)  # nothing lost or doubled
        assert all(r1 < r2 for r1, r2 in itertools.pairwise(ranks))  # total order
        start = order.index(x.pk)
        assert order[start + 3] == y.pk, f"round {round_no}: {order[start : start + 4]}"
        assert set(order[start + 1 : start + 3]) == {a.pk, b.pk}


@pytest.mark.parametrize("mode", ["after", "before"])
def test_two_moves_into_the_same_gap_by_one_neighbour_keep_a_total_order(
    pm, teammate, product, mode
):
    _same_gap_rounds(pm, teammate, product, mode)


def test_two_moves_into_the_same_gap_between_two_neighbours_both_succeed(pm, teammate, product):
    _same_gap_rounds(pm, teammate, product, "both")


# --- (c) recompute twice at once -----------------------------------------------------------------


def test_two_recomputes_at_once_write_each_change_once(pm, product, monkeypatch):
    monkeypatch.setattr(recompute_module, "RECOMPUTE_BATCH", 4)
    monkeypatch.setattr(tasks.recompute_product_scores, "delay", lambda product_id: None)
    for n in range(24):
        services.create_item(
            pm,
            product=product,
            title=f"Item {n}",
            reach=10 * (n + 1),
            impact=1 + n % 3,
            confidence=50 + n,
            effort=1 + n % 4,
            ease=None if n % 5 == 0 else 1 + n % 10,
        )
    rice = BacklogSettings.objects.of(product).active_model
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind=ScoringKind.ICE)

    for round_no, model in enumerate([ice, rice, ice, rice, ice]):
        before = dict(Item.objects.filter(product=product).values_list("pk", "score"))
        last_change = ScoreChange.objects.order_by("-id").values_list("id", flat=True).first()
        services.activate_scoring_model(pm, product=product, model=model)  # enqueue swallowed

        def recompute(barrier):
            barrier.wait()
            return services.recompute_scores(product.pk)

        outcomes = _race([recompute, recompute])
        assert all(kind == "ok" for kind, _ in outcomes), f"round {round_no}: {outcomes}"

        after = dict(Item.objects.filter(product=product).values_list("pk", "score"))
        for item in Item.objects.filter(product=product):
            values = {name: getattr(item, name) for name in scoring.INPUTS}
            wanted = scoring.explain(model.kind, [], values).score
            assert after[item.pk] == (pytest.approx(wanted) if wanted is not None else None)
        changed = {pk for pk in after if after[pk] != before[pk]}
        assert changed, "the model switch should change some scores"
        assert sum(count for _, count in outcomes) == len(changed)
        rows = list(
            ScoreChange.objects.filter(
                id__gt=last_change or 0, cause=ScoreChange.Cause.MODEL
            ).values_list("item_id", flat=True)
        )
        assert sorted(rows) == sorted(changed), f"round {round_no}"  # exactly one per item

        state = BacklogSettings.objects.of(product)
        state.refresh_from_db()
        assert not state.recompute_pending
        assert state.recompute_claimed_at is None
