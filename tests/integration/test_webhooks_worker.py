"""A real Celery worker killed while it sends a webhook: the delivery is not
lost, and each attempt reaches the receiver exactly once. The first worker
is SIGKILLed while the receiver holds its request; once the attempt's lease
has expired the sweep hands the delivery to a fresh worker, whose attempt
(the second) succeeds; further sweeps send nothing. Needs PostgreSQL and
Redis."""

import os
import signal
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from pmhub.celery import app
from pmhub.webhooks import services
from pmhub.webhooks.models import WebhookDelivery
from tests.conftest import require
from tests.integration import workers
from tests.webhooks.conftest import record_event
from tests.webhooks.receiver import running_receiver

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ALLOW = {"WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"}


def _wait(condition, log_path, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}:\n{log_path.read_text()}"
        time.sleep(0.1)


def test_a_worker_killed_mid_delivery_loses_nothing_and_sends_once_per_attempt(
    pm, workspace, tmp_path, settings
):
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL not set")
    require(connection.vendor == "postgresql", "the worker test needs PostgreSQL (DATABASE_URL)")
    settings.WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]
    queue = f"pmhub-test-webhooks-{uuid.uuid4().hex[:10]}"
    log_path = tmp_path / "worker.log"
    eager, default_queue = app.conf.task_always_eager, app.conf.task_default_queue
    with running_receiver() as receiver, open(log_path, "w") as log:
        receiver.release = threading.Event()  # hold requests until released
        # Only the test's event type: the endpoint's own creation event (handed
        # to the fan-out whenever the log releases it) must not add a delivery.
        endpoint, secret = services.create_endpoint(
            pm, workspace=workspace, url=receiver.url, event_types=["item.status_changed"]
        )
        doomed = workers.start_worker(queue, log, hostname=f"{queue}-a", **ALLOW)
        survivor = None
        try:
            workers.wait_ready(doomed, log_path)
            app.conf.task_always_eager = False
            app.conf.task_default_queue = queue
            with transaction.atomic():
                event = record_event(workspace)
                services.fan_out([event])  # queued to the worker on commit
            delivery = WebhookDelivery.objects.get(endpoint=endpoint, event=event)

            _wait(receiver.arrived.is_set, log_path, "the first attempt never arrived")
            os.kill(doomed.pid, signal.SIGKILL)  # mid-request: no answer recorded
            doomed.wait(timeout=20)
            receiver.release.set()
            delivery.refresh_from_db()
            assert (delivery.status, delivery.attempts) == ("pending", 1)
            assert delivery.lease_until is not None

            # A sweep while the dead worker's lease lasts leaves it alone.
            assert services.sweep(endpoint_id=endpoint.pk) == 0
            # A minute later the lease has expired (moved back here rather than
            # waited for): the sweep queues the delivery again.
            past = timezone.now() - timedelta(seconds=1)
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                lease_until=past, queued_at=past - services.LEASE
            )
            survivor = workers.start_worker(queue, log, hostname=f"{queue}-b", **ALLOW)
            workers.wait_ready(survivor, log_path, seen=1)
            assert services.sweep(endpoint_id=endpoint.pk) == 1

            def done():
                delivery.refresh_from_db()
                return delivery.status == "succeeded"

            _wait(done, log_path, "the second attempt did not succeed")
            assert (
                services.sweep(now=timezone.now() + timedelta(minutes=5), endpoint_id=endpoint.pk)
                == 0
            )
            time.sleep(1)  # nothing more arrives
        finally:
            app.conf.task_always_eager = eager
            app.conf.task_default_queue = default_queue
            workers.stop(doomed)
            if survivor is not None:
                workers.stop(survivor)
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge(queue)
            workers.wait_for_worker_sessions_to_end()

    # Two attempts, two requests, one webhook-id; the second verifies.
    assert delivery.attempts == 2
    assert [r.headers["webhook-id"] for r in receiver.requests] == [f"evt_{event.pk}"] * 2
    Webhook(secret).verify(receiver.requests[1].body, receiver.requests[1].headers)
