"""Backup and restore as docs/deployment.md describes them: ``pg_dump
--format=custom`` of the database, ``pg_restore`` into a new, empty
database, and the application (gunicorn, the production command) serves
the restored data: an API token made before the dump reads an item. Needs
PostgreSQL and its client tools."""

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid

import pytest
from django.conf import settings
from django.db import connection

from backlog import services
from pmhub.accounts.services import create_api_token
from tests.conftest import require
from tests.integration import webs, workers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _pg_args() -> tuple[list[str], dict]:
    db = settings.DATABASES["default"]
    args = ["-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["-U", db["USER"]]
    env = {"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {}
    return args, env


def test_a_dump_restored_into_a_new_database_is_served(pm, product, tmp_path):
    require(connection.vendor == "postgresql", "backups need PostgreSQL (DATABASE_URL)")
    require(
        all(shutil.which(tool) for tool in ("pg_dump", "pg_restore", "createdb", "dropdb")),
        "the PostgreSQL client tools are not installed",
    )
    item = services.create_item(pm, product=product, title="Survives a restore")
    _token, secret = create_api_token(pm, name="before the dump")
    source = settings.DATABASES["default"]["NAME"]
    target = f"{source}_restore_{uuid.uuid4().hex[:6]}"
    args, pg_env = _pg_args()
    env = {**os.environ, **pg_env}
    dump = tmp_path / "pmhub.dump"

    # As in docs/deployment.md: a consistent snapshot while the app runs.
    subprocess.run(
        ["pg_dump", *args, "--format=custom", "--no-owner", f"--file={dump}", source],
        check=True,
        env=env,
    )
    subprocess.run(["createdb", *args, target], check=True, env=env)
    try:
        subprocess.run(
            ["pg_restore", *args, "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)],
            check=True,
            env=env,
        )
        url = workers.worker_database_url().rsplit("/", 1)[0] + f"/{target}"
        # The restored database has every migration: `migrate` has nothing to do.
        check = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--check"],
            cwd=workers.BASE_DIR,
            env={**env, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"},
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        port = webs.free_port()
        log_path = tmp_path / "web.log"
        with open(log_path, "w") as log:
            web = webs.start_web(port, log, database_url=url, workers=1, REDIS_URL="")
            try:
                webs.wait_serving(web, port, log_path)
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/items/{item.key}/",
                    headers={"Authorization": f"Bearer {secret}"},
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    body = json.loads(response.read())
            finally:
                webs.stop(web)
        assert (body["id"], body["title"], body["version"]) == (item.pk, item.title, 1)
    finally:
        subprocess.run(["dropdb", *args, "--if-exists", "--force", target], check=True, env=env)
