"""What every suite of `make bench` shares: the benchmark's database and
environment, timing (interleaved runs, p50), the report table, and a log of
the SQL statements a request runs."""

import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.json"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pmhub_bench"
BENCH_DB = "pmhub_bench"


# --- environment and database --------------------------------------------------------------


def database_url() -> tuple[str, str]:
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit, "BENCH_DATABASE_URL"
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(base)
        return urlunsplit(parts._replace(path=f"/{BENCH_DB}")), "DATABASE_URL's server"
    return DEFAULT_URL, "default"


def configure_environment(url: str) -> None:
    """Production-like settings: DEBUG off (no query log), persistent
    connections with health checks, the API throttle on (with a rate this run
    cannot reach). bench/settings.py supplies a secret key and plain static
    file storage (no collectstatic manifest needed)."""
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    os.environ["API_THROTTLE_USER"] = "1000000/min"
    os.environ["API_THROTTLE_ANON"] = "1000000/min"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(ROOT))


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url).get("dbname")
    if not name:
        raise SystemExit(f"bench: the database URL names no database: {url}")
    try:
        admin = psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"bench: cannot reach PostgreSQL at {url}: {exc}") from exc
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"==> creating database {name}")
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- timing ----------------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def interleaved(fns: dict, reps: int, warmup: int) -> dict[str, list[float]]:
    """Run each callable ``warmup`` times, then ``reps`` times taking turns
    (so drift and background noise hit every side alike); seconds per call."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


class Report:
    """The table: ratios (ours ÷ baseline, p50 each) and plain checks."""

    def __init__(self):
        self.rows: list[dict] = []
        self.facts: dict = {}

    def ratio(
        self, metric, ours, baseline, target, *, baseline_name, note="", extra=None, percent=False
    ):
        ratio = ours / baseline if baseline else float("inf")
        row = {
            "metric": metric,
            "ours_ms": ms(ours),
            "baseline_ms": ms(baseline),
            "baseline": baseline_name,
            "ratio": round(ratio, 4),
            "target": f"≤ {target * 100:g}%" if percent else f"≤ {target:g}×",
            "passed": ratio <= target,
            "note": note,
            **(extra or {}),
        }
        self.rows.append(row)
        return row

    def check(self, metric, value, target: str, passed: bool, note=""):
        row = {"metric": metric, "value": value, "target": target, "passed": bool(passed)}
        row["note"] = note
        self.rows.append(row)
        return row

    @property
    def passed(self) -> bool:
        return all(row["passed"] for row in self.rows)

    def print(self):
        header = ("metric", "ours", "baseline", "ratio", "target", "result")
        lines = []
        for r in self.rows:
            verdict = "PASS" if r["passed"] else "FAIL"
            if "ratio" in r:
                as_percent = r["target"].endswith("%")
                shown = f"{r['ratio'] * 100:.1f}%" if as_percent else f"{r['ratio']:.2f}×"
                cells = (
                    r["metric"],
                    f"{r['ours_ms']:.2f} ms",
                    f"{r['baseline_ms']:.2f} ms",
                    shown,
                    r["target"],
                    verdict,
                )
            else:
                cells = (r["metric"], str(r["value"]), "", "", r["target"], verdict)
            lines.append(cells)
        widths = [max(len(str(c)) for c in col) for col in zip(header, *lines, strict=True)]
        aligns = ["<", ">", ">", ">", "<", "<"]

        def fmt(cells):
            return "  ".join(f"{c!s:{a}{w}}" for c, w, a in zip(cells, widths, aligns, strict=True))

        print()
        print(fmt(header))
        print("  ".join("-" * w for w in widths))
        for cells in lines:
            print(fmt(cells).rstrip())
        print()
        for r in self.rows:
            if r.get("note"):
                mark = "" if r["passed"] else "MISSED: "
                print(f"  {mark}{r['metric']}: {r['note']}")


class QueryLog:
    """Every statement run on the connection (an execute wrapper: works with
    DEBUG off and across requests), with its parameters and row count."""

    def __init__(self):
        self.queries: list[tuple[str, object, int]] = []

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        self.queries.append((sql, params, context["cursor"].rowcount))
        return result

    def __enter__(self):
        from django.db import connection

        self._cm = connection.execute_wrapper(self)
        self._cm.__enter__()
        return self

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)

    @property
    def sql(self) -> list[str]:
        return [q[0] for q in self.queries]


def explain(sql: str, params) -> dict:
    """EXPLAIN ANALYZE of one query: execution time and the rows its scans
    read and threw away (a keyset page should throw away none)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    plan = plan[0]
    removed, nodes = 0, [plan["Plan"]]
    while nodes:
        node = nodes.pop()
        removed += int(node.get("Rows Removed by Filter", 0)) * int(node.get("Actual Loops", 1))
        nodes.extend(node.get("Plans", []))
    return {"execution_ms": plan["Execution Time"], "rows_removed_by_filter": removed}
