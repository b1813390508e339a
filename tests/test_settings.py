"""Production configuration is safe: check --deploy passes, migrations are complete."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_pass_check_deploy():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="prod-" + "k3y-" * 15,
        ALLOWED_HOSTS="pmhub.example.com",
        SITE_URL="https://pmhub.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_warns_without_site_url():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="prod-" + "k3y-" * 15,
        ALLOWED_HOSTS="pmhub.example.com",
        SITE_URL="",
    )
    assert result.returncode != 0
    assert "pmhub.W001" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_malformed_boolean_settings_fail_loudly():
    result = _manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true/false" in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT must be 0 or more"),
        ({"TRUSTED_PROXY_COUNT": "one"}, "TRUSTED_PROXY_COUNT must be an integer"),
        ({"LOGIN_FAILURE_LIMIT": "0"}, "must be positive"),
        ({"LOGIN_COOLOFF_SECONDS": "0"}, "must be positive"),
    ],
)
def test_abuse_limit_settings_fail_loudly(env, message):
    result = _manage("check", DEBUG="true", **env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_makemigrations_check_runs_without_any_configuration():
    result = _manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
