"""A real Celery worker, a real Redis broker and the test database.

The test process runs tasks inline (``CELERY_TASK_ALWAYS_EAGER`` is on under
pytest); here the app is switched to "send" for the duration of one test, a
worker is started as a subprocess on a queue of its own, and a task makes the
full round trip: broker -> worker -> database -> result backend.
"""

import os
import uuid

import pytest
from django.db import connection

from pmhub.accounts.tasks import ping
from pmhub.celery import app
from tests.conftest import require
from tests.integration.workers import running_worker


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_task_round_trip_through_a_real_worker():
    redis_url = os.environ.get("REDIS_URL", "")
    require(bool(redis_url), "REDIS_URL not set")
    require(connection.vendor == "postgresql", "the worker test needs PostgreSQL (DATABASE_URL)")

    queue = f"pmhub-test-{uuid.uuid4().hex[:12]}"
    eager_before = app.conf.task_always_eager
    with running_worker(queue):
        try:
            app.conf.task_always_eager = False
            result = ping.apply_async(args=["hello"], queue=queue)
            try:
                value = result.get(timeout=60)
            finally:
                result.forget()
            assert value == {"pong": "hello", "database": True}
        finally:
            app.conf.task_always_eager = eager_before
