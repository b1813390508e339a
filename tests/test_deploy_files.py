"""docker-compose.yml and the Dockerfile run the same commands as the README and CI."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_file_defines_the_production_stack():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "migrate"} <= set(services)
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][:4] == ["celery", "-A", "pmhub", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "pmhub", "beat"]
    env = services["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["REDIS_URL"].startswith("redis://")
    # The cache has a database of its own: clearing it never drops queued tasks.
    assert env["CACHE_URL"].startswith("redis://")
    assert env["CACHE_URL"] != env["REDIS_URL"]


def test_dockerfile_installs_from_the_lock_file():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "uv sync --frozen" in dockerfile
    assert "python:3.12" in dockerfile
