"""Background recompute of a product's scores (services.recompute_scores).

Runs on SQLite and PostgreSQL alike (the SQL differs per vendor). Celery
tasks are eager in tests; ``on_commit`` callbacks run through
``django_capture_on_commit_callbacks(execute=True)``.
"""

import datetime as dt
import threading
from contextlib import contextmanager

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.utils import timezone

from backlog import scoring, services, tasks
from backlog.models import BacklogSettings, Item, ScoreChange, ScoringKind
from backlog.services import recompute
from tests.conftest import is_postgres
from tests.factories import ProductFactory

# reach, impact, confidence, effort, ease
ROWS = [
    (1000, 2, 80, 4, 5),  # RICE 400 → ICE 80
    (500, 1, 50, None, 4),  # RICE None → ICE 20
    (200, 3, 100, 2, None),  # RICE 300 → ICE None
    (None, None, None, None, None),  # None → None: unchanged
    (10, 2, 50, 1, 1),  # RICE 10 = ICE 10: unchanged
    (300, 0.5, 100, 1, 8),
    (50, 3, 20, 5, 2),
    (10, 4, 25, 1, 1),  # RICE 10 = ICE 10: unchanged
    (None, 2, 60, None, 9),
    (80, 1, 90, 3, 3),
    (7, 2, 30, 0.5, 10),
]


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(recompute, "RECOMPUTE_BATCH", 3)


@pytest.fixture
def items(pm, product, small_batches):
    names = ("reach", "impact", "confidence", "effort", "ease")
    created = []
    for n, row in enumerate(ROWS):
        inputs = {k: v for k, v in zip(names, row, strict=True) if v is not None}
        created.append(services.create_item(pm, product=product, title=f"Item {n}", **inputs))
    return created


@pytest.fixture
def ice(pm, product):
    return services.create_scoring_model(pm, product=product, name="ICE", kind=ScoringKind.ICE)


@pytest.fixture
def enqueued(monkeypatch):
    """Swallow enqueues (as if the worker has not picked the task up yet)."""
    calls = []
    monkeypatch.setattr(tasks.recompute_product_scores, "delay", calls.append)
    return calls


def scores(product) -> dict[int, float | None]:
    return dict(Item.objects.filter(product=product).values_list("pk", "score"))


def expected(product, model) -> dict[int, float | None]:
    criteria = services.model_criteria(model)
    result = {}
    for item in Item.objects.filter(product=product):
        values = {name: getattr(item, name) for name in scoring.INPUTS}
        values.update({f"cf:{k}": v for k, v in item.custom.items()})
        result[item.pk] = scoring.explain(model.kind, criteria, values).score
    return result


def assert_scores(product, model):
    actual, wanted = scores(product), expected(product, model)
    assert actual.keys() == wanted.keys()
    for pk, score in wanted.items():
        if score is None:
            assert actual[pk] is None, pk
        else:
            assert actual[pk] == pytest.approx(score, rel=1e-9), pk


def changed_between(before: dict, after: dict) -> set[int]:
    return {pk for pk in after if before.get(pk) != after[pk]}


def backlog(product) -> BacklogSettings:
    return BacklogSettings.objects.get(product=product)


def test_activating_a_model_rescores_everything_and_records_only_changes(
    pm, product, items, ice, django_capture_on_commit_callbacks
):
    before = scores(product)
    with django_capture_on_commit_callbacks(execute=True):
        services.activate_scoring_model(pm, product=product, model=ice)
    after = scores(product)
    assert_scores(product, ice)

    changed = changed_between(before, after)
    unchanged = {items[3].pk, items[4].pk, items[7].pk}
    assert changed == {i.pk for i in items} - unchanged
    rows = ScoreChange.objects.filter(cause=ScoreChange.Cause.MODEL)
    assert sorted(rows.values_list("item_id", flat=True)) == sorted(changed)
    for row in rows:
        assert row.old_score == before[row.item_id]
        assert row.new_score == after[row.item_id]
        assert "RICE to ICE" in row.detail

    state = backlog(product)
    assert not state.recompute_pending
    assert state.recompute_claimed_at is None
    assert state.recompute_total > recompute.RECOMPUTE_BATCH  # several batches ran
    assert state.recompute_done == state.recompute_total
    assert state.recompute_percent == 100


def test_other_products_are_not_touched(
    pm, product, workspace, items, ice, django_capture_on_commit_callbacks
):
    other = ProductFactory(workspace=workspace, name="Ops", key="OPS")
    foreign = services.create_item(
        pm, product=other, title="Ops item", reach=10, impact=1, confidence=100, effort=1
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.activate_scoring_model(pm, product=product, model=ice)
    assert Item.objects.get(pk=foreign.pk).score == pytest.approx(10)
    assert not ScoreChange.objects.filter(item=foreign).exclude(cause="created").exists()


def test_changing_weights_rescores_with_cause_weights(
    pm, product, items, django_capture_on_commit_callbacks
):
    criteria = [
        {"name": "Impact", "source": "impact", "weight": 1, "min": 0, "max": 4},
        {"name": "Confidence", "source": "confidence", "weight": 1, "min": 0, "max": 100},
    ]
    model = services.create_scoring_model(
        pm, product=product, name="Team", kind="weighted", criteria=criteria
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.activate_scoring_model(pm, product=product, model=model)
    assert_scores(product, model)
    before = scores(product)
    model.refresh_from_db()

    reweighted = [{**criteria[0], "weight": 3}, criteria[1]]
    with django_capture_on_commit_callbacks(execute=True):
        model = services.update_scoring_model(
            pm, model=model, expected_version=model.version, fields={"criteria": reweighted}
        )
    model.refresh_from_db()
    assert_scores(product, model)
    after = scores(product)
    changed = changed_between(before, after)
    # Equal shares of both criteria (impact 2 of 4, confidence 50 of 100) keep their score.
    assert items[4].pk not in changed
    assert items[3].pk not in changed  # no inputs: None stays None
    assert changed
    rows = ScoreChange.objects.filter(cause=ScoreChange.Cause.WEIGHTS)
    assert sorted(rows.values_list("item_id", flat=True)) == sorted(changed)
    assert all("Weights of Team changed" in r.detail for r in rows)


def test_renaming_the_active_model_does_not_recompute(pm, product, items, ice, enqueued):
    services.activate_scoring_model(pm, product=product, model=ice)
    state = backlog(product)
    services.recompute_scores(product.pk)
    generation = backlog(product).score_generation
    ice.refresh_from_db()
    services.update_scoring_model(
        pm, model=ice, expected_version=ice.version, fields={"name": "ICE (team)"}
    )
    assert backlog(product).score_generation == generation == state.score_generation


def test_running_again_changes_nothing(pm, product, items, ice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.activate_scoring_model(pm, product=product, model=ice)
    before, rows = scores(product), ScoreChange.objects.count()
    assert services.recompute_scores(product.pk) == 0
    assert tasks.recompute_product_scores(product.pk) == 0
    assert scores(product) == before
    assert ScoreChange.objects.count() == rows
    assert backlog(product).recompute_percent == 100


@contextmanager
def claim_held_elsewhere(product):
    """Another live worker holds the product's claim for the ``with`` block:
    on PostgreSQL its advisory lock, taken by another database session (a
    thread has its own); on SQLite a fresh heartbeat."""
    settings_id = backlog(product).pk
    if connection.vendor != "postgresql":
        BacklogSettings.objects.filter(pk=settings_id).update(recompute_claimed_at=timezone.now())
        yield
        BacklogSettings.objects.filter(pk=settings_id).update(recompute_claimed_at=None)
        return
    taken, done = threading.Event(), threading.Event()

    def hold():
        try:
            with connections["default"].cursor() as cursor:
                key = [recompute.CLAIM_LOCK_NAMESPACE, settings_id]
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", key)
                taken.set()
                done.wait(30)
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
        finally:
            connections["default"].close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert taken.wait(10)
        yield
    finally:
        done.set()
        thread.join(10)


def test_a_claim_held_by_another_run_makes_a_second_run_return_0(
    pm, product, items, ice, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.activate_scoring_model(pm, product=product, model=ice)
    assert enqueued == [product.pk]
    before, rows = scores(product), ScoreChange.objects.count()

    with claim_held_elsewhere(product):
        assert services.recompute_scores(product.pk) == 0
        assert services.sweep_pending_recomputes() == [product.pk]  # tried, and left alone

    assert scores(product) == before
    assert ScoreChange.objects.count() == rows
    assert backlog(product).recompute_pending
    # Once the other run is gone, the next run does the work.
    assert services.recompute_scores(product.pk) > 0
    assert_scores(product, ice)


def test_a_claim_is_free_again_when_its_run_ends_even_by_an_error(
    pm, product, items, ice, enqueued, monkeypatch
):
    services.activate_scoring_model(pm, product=product, model=ice)

    def boom(*args, **kwargs):
        raise RuntimeError("worker crashed")

    with monkeypatch.context() as patched:
        patched.setattr(recompute, "_rescore_range", boom)
        with pytest.raises(RuntimeError):
            services.recompute_scores(product.pk)
    assert backlog(product).recompute_claimed_at is None

    assert services.recompute_scores(product.pk) > 0
    assert_scores(product, ice)


def test_the_claim_of_a_run_that_died_is_taken_over(pm, product, items, ice, enqueued):
    services.activate_scoring_model(pm, product=product, model=ice)
    before = scores(product)
    if is_postgres():
        # Its timestamp is fresh, but its session (and the advisory lock) is gone.
        leftover = timezone.now()
    else:
        # SQLite: a heartbeat that is still fresh holds; one that stopped does not.
        alive = timezone.now() - recompute.CLAIM_STALE + dt.timedelta(seconds=30)
        BacklogSettings.objects.filter(product=product).update(recompute_claimed_at=alive)
        assert services.recompute_scores(product.pk) == 0
        leftover = timezone.now() - recompute.CLAIM_STALE - dt.timedelta(seconds=5)
    BacklogSettings.objects.filter(product=product).update(recompute_claimed_at=leftover)

    changed = services.recompute_scores(product.pk)
    assert changed == len(changed_between(before, scores(product))) > 0
    assert_scores(product, ice)
    state = backlog(product)
    assert not state.recompute_pending
    assert state.recompute_claimed_at is None
    assert state.recompute_percent == 100


def test_broker_down_the_change_commits_and_the_sweep_finishes_it(
    pm, product, items, ice, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(tasks.recompute_product_scores, "delay", broker_down)
    before = scores(product)
    with django_capture_on_commit_callbacks(execute=True):
        services.activate_scoring_model(pm, product=product, model=ice)  # no error for the user

    state = backlog(product)
    assert state.active_model == ice  # the change committed
    assert state.recompute_pending
    assert state.scored_generation < state.score_generation
    assert scores(product) == before  # stale until the sweep

    assert services.sweep_pending_recomputes() == [product.pk]
    assert_scores(product, ice)
    state = backlog(product)
    assert not state.recompute_pending
    assert state.recompute_total > recompute.RECOMPUTE_BATCH
    assert (state.recompute_done, state.recompute_percent) == (state.recompute_total, 100)
    rows = ScoreChange.objects.filter(cause=ScoreChange.Cause.MODEL)
    assert sorted(rows.values_list("item_id", flat=True)) == sorted(
        changed_between(before, scores(product))
    )

    assert services.sweep_pending_recomputes() == []  # nothing left
    assert tasks.sweep_score_recomputes() == []


def test_recompute_of_an_empty_backlog(pm, product, ice, enqueued):
    services.activate_scoring_model(pm, product=product, model=ice)
    assert services.recompute_scores(product.pk) == 0
    state = backlog(product)
    assert not state.recompute_pending
    assert state.recompute_total == 0


def test_recompute_of_an_unknown_product_returns_0(db):
    assert services.recompute_scores(999_999) == 0


def test_viewer_cannot_change_the_model(viewer, product, ice):
    with pytest.raises(PermissionDenied):
        services.activate_scoring_model(viewer, product=product, model=ice)
    assert backlog(product).score_generation == 0
