"""A Celery worker killed (SIGKILL) in the middle of rescoring a large
backlog: its claim dies with it, so the every-minute sweep on another worker
finishes the job well within 90 seconds of the kill (not after a claim
timeout), and every effect happens exactly once: each item's score is what
a clean run gives, with one score-history row per changed item. Needs
PostgreSQL and Redis."""

import os
import signal
import time
import uuid

import pytest
from django.db import connection
from django.db.models import Count
from fractional_indexing import generate_n_keys_between

from backlog import services, tasks
from backlog.models import BacklogSettings, Item, ScoreChange, ScoringKind
from backlog.services import recompute
from pmhub.celery import app
from tests.backlog.test_recompute import assert_scores, changed_between, scores
from tests.conftest import require
from tests.integration import workers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ITEMS = 20_000
BATCH = 2_000  # the doomed worker rescores in ten batches ...
HOLD_AT = 4  # ... and dies inside the fourth, three committed before it
RECOVERY_SECONDS = 90


def _seed(product, n: int) -> None:
    """``n`` items with varied RICE and ICE inputs, scored by the default model."""
    ranks = generate_n_keys_between(None, None, n)
    Item.objects.bulk_create(
        (
            Item(
                product=product,
                number=number,
                key=f"{product.key}-{number}",
                rank=rank,
                title=f"Item {number}",
                reach=None if number % 50 == 0 else float(1 + number % 997),
                impact=[0.25, 0.5, 1, 2, 3][number % 5],
                confidence=float([50, 80, 100][number % 3]),
                effort=None if number % 41 == 0 else float(1 + number % 8),
                ease=float(1 + number % 10),
            )
            for number, rank in zip(range(1, n + 1), ranks, strict=True)
        ),
        batch_size=5_000,
    )
    BacklogSettings.objects.filter(product=product).update(last_item_number=n)
    services.recompute_scores(product.pk)


def _start(queue, log, **kwargs):
    hostname = f"{queue}-{uuid.uuid4().hex[:6]}"
    return workers.start_worker(queue, log, hostname=hostname, **kwargs)


def test_worker_killed_mid_recompute_is_resumed_by_the_sweep_within_90_seconds(
    pm, product, tmp_path, monkeypatch
):
    redis_url = os.environ.get("REDIS_URL", "")
    require(bool(redis_url), "REDIS_URL not set")
    require(connection.vendor == "postgresql", "the worker test needs PostgreSQL (DATABASE_URL)")
    _seed(product, ITEMS)
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind=ScoringKind.ICE)
    before = scores(product)
    last_change = ScoreChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
    monkeypatch.setattr(recompute, "_enqueue_recompute", lambda product_id: None)
    services.activate_scoring_model(pm, product=product, model=ice)  # marked pending

    doomed_queue = f"pmhub-test-recompute-{uuid.uuid4().hex[:10]}"
    sweep_queue = f"{doomed_queue}-sweep"
    hold = tmp_path / "holding"
    log_path = tmp_path / "worker.log"
    eager_before = app.conf.task_always_eager
    with open(log_path, "w") as log:
        doomed = _start(
            doomed_queue,
            log,
            app="tests.integration.recompute_hold",
            RECOMPUTE_HOLD_FILE=str(hold),
            RECOMPUTE_HOLD_BATCH=str(BATCH),
            RECOMPUTE_HOLD_AT=str(HOLD_AT),
        )
        survivor = _start(sweep_queue, log)  # another worker, alive all along
        try:
            workers.wait_ready(doomed, log_path)
            workers.wait_ready(survivor, log_path, seen=1)
            app.conf.task_always_eager = False
            tasks.recompute_product_scores.apply_async(args=[product.pk], queue=doomed_queue)
            deadline = time.monotonic() + 120
            while not hold.exists() and time.monotonic() < deadline:
                assert doomed.poll() is None, log_path.read_text()
                time.sleep(0.1)
            assert hold.exists(), "the recompute never reached the hold point:\n" + (
                log_path.read_text()
            )
            time.sleep(0.2)  # the file is written before its text: let it land
            committed = int(hold.read_text())
            new_rows = ScoreChange.objects.filter(id__gt=last_change)
            assert 0 < new_rows.count() == committed  # three batches in, the fourth open

            os.kill(doomed.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            doomed.wait(timeout=20)

            state = BacklogSettings.objects.get(product=product)
            assert state.recompute_pending and state.recompute_claimed_at is not None
            assert new_rows.count() == committed  # the open batch was rolled back

            # Beat's every-minute sweep, sent to the live worker (the killed
            # task's message stays unacknowledged until the broker's
            # visibility timeout, an hour).
            sweeps = 0
            while BacklogSettings.objects.get(product=product).recompute_pending:
                assert time.monotonic() - killed_at < RECOVERY_SECONDS, log_path.read_text()
                result = tasks.sweep_score_recomputes.apply_async(queue=sweep_queue)
                try:
                    result.get(timeout=RECOVERY_SECONDS)
                finally:
                    result.forget()
                sweeps += 1
                time.sleep(1)
            recovered_in = time.monotonic() - killed_at
        finally:
            app.conf.task_always_eager = eager_before
            workers.stop(doomed)
            workers.stop(survivor)
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge(doomed_queue)
                conn.default_channel.queue_purge(sweep_queue)
            workers.wait_for_worker_sessions_to_end()

    print(f"recovered {ITEMS} items {recovered_in:.1f} s after the kill, {sweeps} sweep(s)")
    assert recovered_in < RECOVERY_SECONDS
    state = BacklogSettings.objects.get(product=product)
    assert state.recompute_claimed_at is None and state.recompute_percent == 100
    # Every effect exactly once: the scores of a clean run, one history row
    # per changed item, none twice.
    assert_scores(product, ice)
    changed = changed_between(before, scores(product))
    rows = ScoreChange.objects.filter(id__gt=last_change)
    assert len(changed) > ITEMS // 2
    assert sorted(rows.values_list("item_id", flat=True)) == sorted(changed)
    assert not rows.values("item_id").annotate(n=Count("id")).filter(n__gt=1).exists()
