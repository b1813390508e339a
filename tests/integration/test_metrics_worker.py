"""A Celery worker killed in the middle of a rollup (SIGKILL while the rollup
transaction is open, paused there by tests/integration/rollup_hold.py) leaves
nothing half-written; the periodic sweep on a fresh worker then produces
exactly the rows of a clean run. Needs PostgreSQL and Redis."""

import os
import signal
import subprocess
import time
import uuid

import pytest
from django.db import connection

from metrics import services as metrics
from metrics import tasks
from metrics.models import Datapoint, DirtyDay, MetricRollup
from pmhub.celery import app
from tests.conftest import require
from tests.integration import workers
from tests.metrics.test_rollups import assert_matches

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _start_worker(queue: str, log, **kwargs) -> subprocess.Popen:
    """Two workers consume the queue, one after the other: distinct hostnames."""
    hostname = f"{queue}-{uuid.uuid4().hex[:6]}"
    return workers.start_worker(queue, log, hostname=hostname, **kwargs)


def _rollup_rows(metric):
    return sorted(
        MetricRollup.objects.filter(metric=metric).values_list(
            "period", "start", "total", "count", "minimum", "maximum", "last", "last_at"
        )
    )


def test_worker_killed_mid_rollup_then_recovery_equals_a_clean_run(
    pm, product, tmp_path, monkeypatch
):
    redis_url = os.environ.get("REDIS_URL", "")
    require(bool(redis_url), "REDIS_URL not set")
    require(connection.vendor == "postgresql", "the worker test needs PostgreSQL (DATABASE_URL)")
    monkeypatch.setattr(metrics.ingest, "_enqueue_rollup", lambda metric_id: None)
    metric = metrics.create_metric(pm, product=product, name="Orders")
    rows = [
        {"timestamp": f"2026-0{m}-{d:02d}T{h:02d}:15:00+02:00", "value": m * 100 + d + h / 10}
        for m in (1, 2, 3)
        for d in range(1, 29)
        for h in (0, 9, 23)
    ]
    metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    dirty_before = DirtyDay.objects.filter(metric=metric).count()
    assert dirty_before > 80 and not MetricRollup.objects.exists()

    queue = f"pmhub-test-rollup-{uuid.uuid4().hex[:10]}"
    hold = tmp_path / "holding"
    eager_before = app.conf.task_always_eager
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        # This worker pauses inside the rollup transaction (tests/integration/rollup_hold.py).
        doomed = _start_worker(
            queue, log, app="tests.integration.rollup_hold", ROLLUP_HOLD_FILE=str(hold)
        )
        survivor = None
        try:
            workers.wait_ready(doomed, log_path)
            app.conf.task_always_eager = False
            tasks.rollup_metric.apply_async(args=[metric.pk], queue=queue)
            deadline = time.monotonic() + 60
            while not hold.exists() and time.monotonic() < deadline:
                assert doomed.poll() is None, log_path.read_text()
                time.sleep(0.1)
            assert hold.exists(), (
                "the rollup never reached the hold point:\n" + log_path.read_text()
            )
            # The worker has recomputed every day, week and month inside its
            # transaction and sits before the commit: kill it there.
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait(timeout=20)

            assert not MetricRollup.objects.filter(metric=metric).exists()
            assert DirtyDay.objects.filter(metric=metric).count() == dirty_before

            # Recovery: the periodic sweep on a fresh worker (the killed task's
            # message stays unacknowledged until the broker's visibility timeout).
            survivor = _start_worker(queue, log)
            workers.wait_ready(survivor, log_path, seen=1)
            deadline = time.monotonic() + 60
            while DirtyDay.objects.filter(metric=metric).exists():
                assert time.monotonic() < deadline, log_path.read_text()
                result = tasks.sweep_metric_rollups.apply_async(queue=queue)
                try:
                    result.get(timeout=30)
                finally:
                    result.forget()
                time.sleep(0.2)  # the killed backend may still hold its lock briefly
        finally:
            app.conf.task_always_eager = eager_before
            workers.stop(doomed)
            if survivor is not None:
                workers.stop(survivor)
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge(queue)
            workers.wait_for_worker_sessions_to_end()

    recovered = _rollup_rows(metric)
    assert recovered
    assert_matches(
        metric, list(Datapoint.objects.filter(metric=metric).values_list("timestamp", "value"))
    )
    # A clean run from scratch gives the very same rows.
    metrics.request_full_rollup(metric)
    metrics.process_dirty()
    assert _rollup_rows(metric) == recovered
