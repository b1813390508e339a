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


def test_compose_scales_web_and_workers_behind_one_proxy_and_runs_one_beat():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    # Replicas cannot share a host port or a container name: only the proxy publishes one.
    for name in ("web", "worker"):
        assert "ports" not in services[name] and "container_name" not in services[name], name
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["ports"] == ["8000:8000"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert services["beat"]["deploy"]["replicas"] == 1
    env = services["web"]["environment"]
    assert env["TRUSTED_PROXY_COUNT"].startswith("${TRUSTED_PROXY_COUNT:-1}")
    assert "LOG_FORMAT" in env and "METRICS_TOKEN" in env


def test_the_proxy_finds_every_web_replica_and_passes_the_request_id():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "resolver 127.0.0.11" in conf  # Docker's DNS: every replica of "web"
    assert "server web:8000 resolve;" in conf
    assert "proxy_set_header X-Request-ID $pmhub_request_id;" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf


def test_deployment_docs_cover_scale_out_pooling_backups_and_metrics():
    text = (ROOT / "docs" / "deployment.md").read_text()
    for needle in (
        "--scale web=",
        "PgBouncer",
        "DB_TRANSACTION_POOLING",
        "pg_dump --format=custom",
        "pg_restore",
        "METRICS_TOKEN",
        "X-Request-ID",
    ):
        assert needle in text, needle
