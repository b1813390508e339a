"""Metric ingestion and rollups under real contention (PostgreSQL only).

Threads with their own connections ingest overlapping batches while other
threads run rollups; afterwards every rollup row must equal the plain-Python
reference over the stored datapoints, and no dirty day may be left behind.
"""

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from metrics import services as metrics
from metrics.models import Datapoint, DirtyDay, Metric
from tests.conftest import require
from tests.metrics.test_rollups import assert_matches

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

JOIN_TIMEOUT = 120


@pytest.fixture(autouse=True)
def postgres_only(monkeypatch):
    require(connection.vendor == "postgresql", "the metrics concurrency tests need PostgreSQL")
    # Rollups run when the test says so, not inline at each commit.
    monkeypatch.setattr(metrics.ingest, "_enqueue_rollup", lambda metric_id: None)


def _run(workers):
    barrier = threading.Barrier(len(workers), timeout=30)
    errors = []

    def run(work):
        try:
            barrier.wait()
            work()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    assert not errors, errors


def _batch(seed: int, n: int = 400):
    rng = random.Random(seed)
    base = datetime(2026, 1, 30, tzinfo=UTC)  # batches straddle a month end
    return [
        {
            "timestamp": (base + timedelta(minutes=rng.randint(0, 6 * 24 * 60))).isoformat(),
            "value": rng.randint(-50, 50),
        }
        for _ in range(n)
    ]


def _points(metric):
    return list(Datapoint.objects.filter(metric=metric).values_list("timestamp", "value"))


def test_rollups_stay_exact_while_ingestion_and_rollups_race(pm, product):
    metric = metrics.create_metric(pm, product=product, name="Events")
    stop = threading.Event()

    def ingest(seed):
        def work():
            for round_no in range(6):
                metrics.ingest_datapoints(
                    pm, metric=Metric.objects.get(pk=metric.pk), rows=_batch(seed * 100 + round_no)
                )

        return work

    def roll():
        try:
            while not stop.is_set():
                metrics.process_dirty()
        finally:
            connection.close()

    def ingesters_then_stop():
        _run([ingest(s) for s in range(4)])
        stop.set()

    runner = threading.Thread(target=ingesters_then_stop)
    rollers = [threading.Thread(target=roll) for _ in range(2)]
    runner.start()
    for r in rollers:
        r.start()
    runner.join(JOIN_TIMEOUT)
    stop.set()
    for r in rollers:
        r.join(JOIN_TIMEOUT)
    connection.close()
    metrics.process_dirty()  # the sweep after the storm
    assert not DirtyDay.objects.exists()
    assert Datapoint.objects.filter(metric=metric).count() > 0
    assert_matches(metric, _points(metric))


def test_two_rollups_at_once_double_count_nothing(pm, product):
    metric = metrics.create_metric(pm, product=product, name="Events")
    for seed in range(5):
        metrics.ingest_datapoints(pm, metric=metric, rows=_batch(seed))
    _run([metrics.process_dirty, metrics.process_dirty, metrics.process_dirty])
    assert not DirtyDay.objects.exists()
    assert_matches(metric, _points(metric))


def test_the_same_batch_sent_twice_at_once_is_stored_once(pm, product):
    metric = metrics.create_metric(pm, product=product, name="Events")
    rows = [{**row, "dedupe_key": f"k{n}"} for n, row in enumerate(_batch(7))]
    results = []

    def send():
        results.append(
            metrics.ingest_datapoints(pm, metric=Metric.objects.get(pk=metric.pk), rows=rows)
        )

    _run([send, send])
    assert sum(r.created for r in results) == len(rows)  # each row stored by one of them
    assert Datapoint.objects.filter(metric=metric).count() == len(rows)
    metrics.process_dirty()
    assert_matches(metric, _points(metric))
