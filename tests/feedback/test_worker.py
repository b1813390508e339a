"""Demand recomputed by a real Celery worker: linking feedback marks the item
in the same transaction, the task enqueued after commit runs in a worker
subprocess (Redis broker, the test database) and stores the demand."""

import os
import time
import uuid

import pytest
from celery.exceptions import TimeoutError as CeleryTimeout
from django.db import connection

from backlog.models import Item, ScoreChange
from feedback import services
from feedback.models import DemandQueue
from feedback.services import demand as demand_services
from feedback.tasks import recompute_demand, sweep_demand
from pmhub.accounts.tasks import ping
from pmhub.activity.models import Event
from pmhub.celery import app
from tests.conftest import require
from tests.integration.workers import running_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _demand(items):
    return Item.objects.get(pk=items["sepa"].pk).demand


def _pong(queue) -> bool:
    result = ping.apply_async(args=["ready"], queue=queue)
    try:
        return result.get(timeout=5)["pong"] == "ready"
    except CeleryTimeout:
        return False
    finally:
        result.forget()


def _computed_or_sweep(items, queue) -> bool:
    if _demand(items) is not None:
        return True
    sweep_demand.apply_async(queue=queue)
    return False


def _until(check, seconds: float) -> bool:
    """Call ``check`` every few seconds until it is true or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(1)
    return False


def test_a_real_worker_recomputes_demand_after_commit(pm, workspace, product, items, monkeypatch):
    redis_url = os.environ.get("REDIS_URL", "")
    require(bool(redis_url), "REDIS_URL not set")
    require(connection.vendor == "postgresql", "the worker test needs PostgreSQL (DATABASE_URL)")
    queue = f"pmhub-test-{uuid.uuid4().hex[:12]}"
    company = services.create_company(
        pm, workspace=workspace, name="Globex", segment="enterprise", annual_revenue=999_000
    )
    feedback = services.create_feedback(pm, product=product, text="SEPA!", company=company)
    # The task goes to this test's queue (Celery caches its router, so
    # task_routes cannot be changed once another test has sent a task).
    monkeypatch.setattr(
        demand_services,
        "_enqueue_demand",
        lambda ids: recompute_demand.apply_async(args=[ids], queue=queue),
    )
    eager = app.conf.task_always_eager
    with running_worker(queue):
        try:
            app.conf.task_always_eager = False
            # Other tests clear the cache, which shares its Redis database with
            # the broker (FLUSHDB): a message can vanish. So ask again until
            # the worker answers, and let the sweep finish a lost recompute,
            # as beat would.
            assert _until(lambda: _pong(queue), 90), "the worker never answered"
            services.link_feedback(pm, feedback=feedback, item=items["sepa"], importance="critical")
            assert DemandQueue.objects.filter(item=items["sepa"]).exists() or _demand(items)
            done = _until(lambda: _demand(items) is not None, 15)  # the task sent after commit
            if not done:
                done = _until(lambda: _computed_or_sweep(items, queue), 75)
            assert done, "the demand was never computed"
            item = Item.objects.get(pk=items["sepa"].pk)
            assert item.demand == pytest.approx(1000 * 2 * 3, rel=1e-3)
            assert not DemandQueue.objects.exists()
            demand = (
                Event.objects.filter(object_type="backlog.item", object_id=item.pk)
                .filter(changes__has_key="demand")
                .latest("id")
            )
            assert demand.changes["demand"][1] == pytest.approx(6000, rel=1e-3)
            assert not ScoreChange.objects.filter(item=item, cause="input").exists()
        finally:
            app.conf.task_always_eager = eager
