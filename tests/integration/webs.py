"""Web processes for integration tests: gunicorn, the production command,
serving the test settings against a database of the test's choosing."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from .workers import BASE_DIR, worker_database_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(
    port: int, log, *, database_url: str | None = None, workers: int = 2, **extra_env
) -> subprocess.Popen:
    """``gunicorn pmhub.wsgi`` on 127.0.0.1:``port`` with ``workers`` sync
    workers (as docker-compose.yml runs it), output to the open file ``log``."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url or worker_database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        env.pop(name, None)
    command = [
        *(sys.executable, "-m", "gunicorn", "pmhub.wsgi:application"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
        *("--timeout", "60", "--graceful-timeout", "5"),
    ]
    # A session of its own: killing its process group is a container dying
    # (the master and its workers at once).
    return subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the web process and its workers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)


def stop(process: subprocess.Popen) -> None:
    """Stop gunicorn gracefully (its workers with it), else kill it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill(process)
        except ProcessLookupError:
            pass


def wait_serving(process: subprocess.Popen, port: int, log_path, timeout: float = 60) -> None:
    """Wait until ``/healthz`` answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise AssertionError("gunicorn did not serve:\n" + log_path.read_text())
