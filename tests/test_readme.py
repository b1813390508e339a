"""Every command the README shows works verbatim after `make run`.

The README's shell blocks are read from the file; the two commands
themselves (`make run`, `make test`) are what this suite and CI run, so the
rest is tried here against what `make run` sets up: a SQLite database,
migrated and seeded with the demo, served by `manage.py runserver`, with
`DEBUG=true`, in a child process. Only the port differs (a free one instead of
8000, which a developer's own `make run` may hold)."""

import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PYTHON = ROOT / ".venv" / "bin" / "python"
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
TWO_COMMANDS = ("make run", "make test")


def readme_commands() -> list[str]:
    """The README's shell lines other than the two commands (comments stripped
    only where they follow a command on its own line)."""
    lines = []
    for block in BLOCK.findall((ROOT / "README.md").read_text()):
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith(TWO_COMMANDS):
                lines.append(line)
    return lines


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    if not PYTHON.exists():
        pytest.fail(".venv/bin/python is missing: run the suite through `make test`")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DEBUG="true",
        SQLITE_PATH=str(tmp_path_factory.mktemp("readme") / "db.sqlite3"),
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    env.pop("REDIS_URL", None)
    env.pop("CACHE_URL", None)
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "timeout": 600}
    subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], **run)
    subprocess.run([PYTHON, "manage.py", "seed_demo"], **run)
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("manage.py runserver did not answer within 120 s")
                time.sleep(0.5)
        yield env, port
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_readme_shows_commands_besides_the_two():
    assert any("curl" in line for line in readme_commands())


def test_every_readme_command_works_verbatim_after_make_run(demo_server):
    env, port = demo_server
    script = "\n".join(readme_commands()).replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # The API example lists the demo's products (a 401 would print a detail).
    assert '"results"' in result.stdout and "Acme Pay" in result.stdout, result.stdout
    assert '"key":"PAY-1"' in result.stdout, result.stdout
