"""A real Celery worker, a real Redis broker and the test database.

The test process runs tasks inline (``CELERY_TASK_ALWAYS_EAGER`` is on under
pytest); here the app is switched to "send" for the duration of one test, a
worker is started as a subprocess on a queue of its own, and a task makes the
full round trip: broker -> worker -> database -> result backend.
"""

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from pmhub.accounts.tasks import ping
from pmhub.celery import app
from tests.conftest import require

BASE_DIR = Path(settings.BASE_DIR)


def _test_database_url() -> str:
    """The URL of the database pytest-django created (``test_<name>``)."""
    db = settings.DATABASES["default"]
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{quote(db['NAME'], safe='')}"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_task_round_trip_through_a_real_worker():
    redis_url = os.environ.get("REDIS_URL", "")
    require(bool(redis_url), "REDIS_URL not set")
    require(connection.vendor == "postgresql", "the worker test needs PostgreSQL (DATABASE_URL)")

    queue = f"pmhub-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PMHUB_TESTING": "1",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        env.pop(name, None)  # broker and results follow REDIS_URL, as in the test process
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "pmhub",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "--loglevel=INFO",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        f"--queues={queue}",
        f"--hostname={queue}@%h",
    ]
    eager_before = app.conf.task_always_eager
    with tempfile.TemporaryFile(mode="w+") as log:
        worker = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        ok = False
        try:
            app.conf.task_always_eager = False
            result = ping.apply_async(args=["hello"], queue=queue)
            try:
                value = result.get(timeout=60)
            finally:
                result.forget()
            assert value == {"pong": "hello", "database": True}
            ok = True
        finally:
            app.conf.task_always_eager = eager_before
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
            if not ok:
                log.seek(0)
                print(f"--- celery worker output (exit {worker.returncode}) ---")
                print(log.read())
