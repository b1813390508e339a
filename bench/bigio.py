"""Big exports suite of `make bench` (``--suite bigio``): a backlog of
1 000 000 items (``--bigio-items``) in a product of its own, exported by the
background jobs of the archive app in a subprocess that does what a Celery
worker does for the task (``archive.services.run_job``), measuring that
process's memory: its resident set after Django's setup, and its peak
(``VmHWM``; ``ru_maxrss`` would carry the forking parent's peak over exec)
at the end; the growth is the difference. Beside it, for
scale, PostgreSQL's own ``COPY … TO STDOUT`` of the same rows' columns.

Measured: the CSV export of the whole backlog (target: growth ≤ 100 MB),
the workspace archive of the same product (reported; its id maps grow with
the rows), and a CSV import of 1 000 000 rows (``--bigio-rows``): its check
and its import each in a worker process (target: peak ≤ 150 MB), and its
time against a raw ``COPY`` of the same rows into the items table in a
transaction rolled back (target: ≤ 3×, i.e. throughput ≥ 1/3)."""

import json
import os
import random
import subprocess
import sys
import tempfile
import time

from .core import ROOT
from .seed import ITEM_COLUMNS, _item_rows

PRODUCT_KEY = "BIGIO"
WORKSPACE_SLUG = "pmhub-bench-bigio"
GROWTH_TARGET_MB = 100

WORKER = """
import json, os, sys, time
import django
django.setup()
from archive import services, exporting, loading  # noqa: F401  (imported before the baseline)
from backlog import importing  # noqa: F401

def status_mb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
base = status_mb("VmRSS:")
started = time.perf_counter()
state = services.run_job(int(sys.argv[1]))
seconds = time.perf_counter() - started
# VmHWM: this process image's peak (ru_maxrss would carry the forking parent's over exec).
peak = status_mb("VmHWM:")
print(json.dumps({"state": state, "seconds": seconds, "base_mb": base, "peak_mb": peak}))
"""


def seed_big(n: int, user):
    from django.db import connection, transaction
    from fractional_indexing import generate_n_keys_between

    from backlog.models import BacklogSettings, Item
    from pmhub.accounts.models import Membership, Role, Workspace
    from products.models import Product

    workspace, _ = Workspace.objects.get_or_create(
        slug=WORKSPACE_SLUG, defaults={"name": "Benchmark (big exports)"}
    )
    Membership.objects.get_or_create(workspace=workspace, user=user, defaults={"role": Role.OWNER})
    product, _ = Product.objects.get_or_create(
        workspace=workspace, key=PRODUCT_KEY, defaults={"name": "Big exports"}
    )
    have = Item.objects.filter(product=product).count()
    if have == n:
        print(f"==> bigio: {n:,} items already seeded")
        return workspace, product
    started = time.perf_counter()
    print(f"==> bigio: seeding {n:,} items (found {have:,})")
    table = Item._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE product_id = %s", [product.pk])
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        first_id = cursor.fetchone()[0] + 1
        ranks = generate_n_keys_between(None, None, n)
        copy_sql = f"COPY {table} ({', '.join(ITEM_COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for row in _item_rows(product, user.pk, first_id, n, ranks, random.Random(7)):
                copy.write_row(row)
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [first_id + n - 1]
        )
        BacklogSettings.objects.filter(product=product).update(last_item_number=n)
        cursor.execute(f"ANALYZE {table}")
    print(f"    seeded in {time.perf_counter() - started:.1f} s")
    return workspace, product


def _run_worker(job_id: int, media: str) -> dict:
    env = dict(os.environ, MEDIA_ROOT=media, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(job_id)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _raw_copy_seconds(product) -> float:
    from django.db import connection

    from backlog.models import Item

    columns = ", ".join(c for c in ITEM_COLUMNS if c != "id")
    started = time.perf_counter()
    with connection.cursor() as cursor, tempfile.TemporaryFile() as f:
        rows = f"SELECT {columns} FROM {Item._meta.db_table} WHERE product_id = {product.pk}"
        sql = f"COPY ({rows} ORDER BY rank) TO STDOUT WITH CSV HEADER"
        with cursor.cursor.copy(sql) as copy:
            for block in copy:
                f.write(block)
    return time.perf_counter() - started


def measure(report, data, args):
    from archive.models import ArchiveJob

    n = args.bigio_items
    user = data["user"]
    workspace, product = seed_big(n, user)
    from django.test import override_settings

    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
        measure_import(report, data, args, workspace, media)
        csv_job = ArchiveJob.objects.create(
            kind=ArchiveJob.Kind.ITEMS_CSV,
            workspace=workspace,
            created_by=user,
            params={"product": product.pk, "product_key": product.key, "query": ""},
            total=n,
        )
        print(f"==> bigio: CSV export of {n:,} items in a worker process")
        csv = _run_worker(csv_job.pk, media)
        csv_job.refresh_from_db()
        raw = _raw_copy_seconds(product)
        growth = csv["peak_mb"] - csv["base_mb"]
        report.check(
            f"CSV export of {n:,} items: worker memory growth",
            f"{growth:.0f} MB",
            f"≤ {GROWTH_TARGET_MB} MB",
            csv["state"] == "done" and growth <= GROWTH_TARGET_MB,
            note=(
                f"{csv['seconds']:.1f} s, {csv_job.size / 1e6:.0f} MB file; "
                f"raw COPY TO of the same rows {raw:.1f} s ({csv['seconds'] / raw:.1f}×)"
            ),
        )
        archive_job = ArchiveJob.objects.create(
            kind=ArchiveJob.Kind.EXPORT, workspace=workspace, created_by=user, total=n
        )
        print(f"==> bigio: workspace archive of {n:,} items in a worker process")
        arc = _run_worker(archive_job.pk, media)
        archive_job.refresh_from_db()
        report.facts.setdefault("bigio", {}).update(
            {"csv": csv, "archive": arc, "raw_copy_seconds": raw}
        )
        print(
            f"    archive: {arc['state']}, {arc['seconds']:.1f} s, "
            f"memory growth {arc['peak_mb'] - arc['base_mb']:.0f} MB, "
            f"{archive_job.size / 1e6:.0f} MB file (reported, no target)"
        )


# --- CSV import --------------------------------------------------------------------------------

IMPORT_KEY = "BIGIMP"
PEAK_TARGET_MB = 150
THROUGHPUT_TARGET = 3.0  # the import may take at most 3× a raw COPY of the same rows

IMPORT_WORKER = """
import json, sys, time
import django
django.setup()
from backlog import importing

started = time.perf_counter()
job = importing.IMPORTER.run_step(int(sys.argv[1]), sys.argv[2])
seconds = time.perf_counter() - started
with open("/proc/self/status") as f:  # VmHWM: this process image's peak
    peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
print(json.dumps({"state": job.state, "seconds": seconds, "peak_mb": peak,
                  "errors": job.errors[:3], "created": job.created_count}))
"""

CSV_COLUMNS = (
    "Title",
    "Type",
    "Status",
    "Status reason",
    "Effort",
    "Value",
    "Reach",
    "Impact",
    "Confidence",
)


def _clear_import_product(workspace, product):
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in (
            "DELETE FROM activity_event WHERE workspace_id = %s AND verb = 'item.created'",
            "DELETE FROM backlog_scorechange WHERE item_id IN "
            "(SELECT id FROM backlog_item WHERE product_id = %s)",
            "DELETE FROM backlog_item WHERE product_id = %s",
        ):
            cursor.execute(sql, [workspace.pk if "activity" in sql else product.pk])
        cursor.execute(
            "UPDATE backlog_backlogsettings SET last_item_number = 0 WHERE product_id = %s",
            [product.pk],
        )


def _csv_file(rows: list[tuple], path: str) -> int:
    import csv

    index = {c: i for i, c in enumerate(ITEM_COLUMNS)}
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            writer.writerow(
                [
                    r[index["title"]],
                    "feature" if r[index["type"]] == "epic" else r[index["type"]],
                    r[index["status"]],
                    r[index["status_reason"]],
                    "" if r[index["effort"]] is None else r[index["effort"]],
                    "" if r[index["value"]] is None else r[index["value"]],
                    r[index["reach"]],
                    r[index["impact"]],
                    r[index["confidence"]],
                ]
            )
    return os.path.getsize(path)


def _raw_copy_in_seconds(rows: list[tuple]) -> float:
    """COPY the same rows into the items table, in a transaction rolled back."""
    from django.db import connection, transaction

    from backlog.models import Item

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        sql = f"COPY {Item._meta.db_table} ({', '.join(ITEM_COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def _run_import_worker(job_id: int, step: str, media: str) -> dict:
    env = dict(os.environ, MEDIA_ROOT=media, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_WORKER, str(job_id), step],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"bench: the import worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_import(report, data, args, workspace, media):
    from django.db import connection
    from fractional_indexing import generate_n_keys_between

    from backlog import importing
    from backlog.models import ImportJob, Item
    from products.models import Product

    n = args.bigio_rows
    user = data["user"]
    product, _ = Product.objects.get_or_create(
        workspace=workspace, key=IMPORT_KEY, defaults={"name": "Big import"}
    )
    _clear_import_product(workspace, product)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Item._meta.db_table}")
        first_id = cursor.fetchone()[0] + 1
    ranks = generate_n_keys_between(None, None, n)
    rows = list(_item_rows(product, None, first_id, n, ranks, random.Random(11)))
    copy_seconds = _raw_copy_in_seconds(rows)
    path = os.path.join(media, "bigio-import.csv")
    size = _csv_file(rows, path)
    del rows, ranks
    print(f"==> bigio: CSV import of {n:,} rows ({size / 1e6:.0f} MB) in worker processes")
    with open(path, "rb") as f:
        job = importing.IMPORTER.start(user, product=product, filename="big.csv", raw=f)
    assert len(job.mapping) == len(CSV_COLUMNS), job.mapping  # every column guessed
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.VALIDATING, total_rows=n)
    checked = _run_import_worker(job.pk, "validate", media)
    ImportJob.objects.filter(pk=job.pk, state="ready").update(state=ImportJob.State.IMPORTING)
    done = _run_import_worker(job.pk, "import", media)
    peak = max(checked["peak_mb"], done["peak_mb"])
    ok = done["state"] == "done" and done["created"] == n
    report.check(
        f"CSV import of {n:,} rows: peak worker memory",
        f"{peak:.0f} MB",
        f"≤ {PEAK_TARGET_MB} MB",
        ok and peak <= PEAK_TARGET_MB,
        note=(
            f"check {checked['seconds']:.0f} s ({checked['peak_mb']:.0f} MB), import "
            f"{done['seconds']:.0f} s ({done['peak_mb']:.0f} MB), {done['state']} "
            f"{done['created']:,} rows {done['errors'] or ''}"
        ),
    )
    ratio = done["seconds"] / copy_seconds if copy_seconds else float("inf")
    report.check(
        f"CSV import of {n:,} rows: time ÷ raw COPY of the same rows",
        f"{ratio:.1f}× ({done['seconds']:.0f} s vs {copy_seconds:.1f} s)",
        f"≤ {THROUGHPUT_TARGET:g}× (throughput ≥ 1/3)",
        ok and ratio <= THROUGHPUT_TARGET,
        note="the import also checks every row, numbers, ranks, scores, and writes "
        "one event and one history row per item",
    )
    report.facts.setdefault("bigio", {})["import"] = {
        "check": checked,
        "import": done,
        "raw_copy_seconds": copy_seconds,
        "file_mb": size / 1e6,
    }
