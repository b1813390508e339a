"""Real Celery workers for integration tests: a worker subprocess on a queue
of its own, against the test database and the Redis of ``REDIS_URL``.

The test process runs tasks inline (``CELERY_TASK_ALWAYS_EAGER`` is on in
tests/settings.py); a test switches the app to "send" while it talks to the
worker. Workers run with the same settings module and eager mode off."""

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def worker_database_url() -> str:
    """The URL of the database pytest-django created (``test_<name>``)."""
    db = settings.DATABASES["default"]
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{quote(db['NAME'], safe='')}"


def start_worker(
    queue: str, log, *, hostname: str | None = None, app: str = "pmhub", **extra_env
) -> subprocess.Popen:
    """A solo worker of the Celery app ``app`` (a module path, ``-A``)
    consuming ``queue`` only, its output (stdout and stderr) written to the
    open file ``log``; ``extra_env`` is added to its environment."""
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # The test settings (secret key, memory cache, ...), not a deployment's.
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        env.pop(name, None)  # broker and results follow REDIS_URL, as in the test process
    command = [
        sys.executable,
        *("-m", "celery", "-A", app, "worker", "--pool=solo", "--concurrency=1"),
        *("--loglevel=INFO", "--without-mingle", "--without-gossip", "--without-heartbeat"),
        f"--queues={queue}",
        f"--hostname={hostname or queue}@%h",
    ]
    return subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_ready(worker: subprocess.Popen, log_path: Path, seen: int = 0) -> int:
    """Wait for the worker's "ready." line (its queue is consumed from then on),
    looking past the first ``seen`` occurrences; returns the new count."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        text = log_path.read_text()
        if text.count(" ready.") > seen:
            return seen + 1
        assert worker.poll() is None, text
        time.sleep(0.1)
    raise AssertionError("the worker did not start:\n" + log_path.read_text())


def stop(worker: subprocess.Popen) -> None:
    """Terminate the worker (kill it if it does not stop within 20 s)."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def wait_for_worker_sessions_to_end() -> None:
    """Killed workers' database sessions end once PostgreSQL notices; the
    test database can only be dropped after that."""
    from django.db import connection

    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.2)
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@contextmanager
def running_worker(queue: str, **extra_env):
    """A worker for the ``with`` block, stopped afterwards; when the block
    fails, the worker's output is printed (pytest shows it with the failure)."""
    with tempfile.TemporaryFile(mode="w+") as log:
        worker = start_worker(queue, log, **extra_env)
        ok = False
        try:
            yield worker
            ok = True
        finally:
            stop(worker)
            if not ok:
                log.seek(0)
                print(f"--- celery worker output (exit {worker.returncode}) ---")
                print(log.read())
