"""`make bench` (``python -m bench.run``): seed a product with 100 000 backlog
items in PostgreSQL and measure, in one run, the application against
raw-SQL baselines; print a table of ratios, write bench/results.json and
exit non-zero when a target is missed. bench/README.md explains each metric.

The benchmark owns its database (``pmhub_bench``, created if missing): it
truncates and re-seeds it when the item count differs from ``--items``.
``BENCH_DATABASE_URL`` names another database for it; otherwise the server
and credentials of ``DATABASE_URL`` (if it is PostgreSQL) are used, with the
database name ``pmhub_bench``, so your own data is never touched."""

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import statistics
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.metrics import measure as measure_metrics
from bench.roadmaps import measure as measure_roadmaps

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.json"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pmhub_bench"
BENCH_DB = "pmhub_bench"
WORKSPACE_SLUG = "pmhub-bench"
PRODUCT_KEY = "BENCH"
USERNAME = "bench"


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


# --- seeding --------------------------------------------------------------------------------

VERBS = ["Add", "Support", "Improve", "Speed up", "Simplify", "Redesign", "Export", "Sync", "Audit"]
NOUNS = [
    "invoice PDFs",
    "SSO login",
    "bulk edit",
    "CSV export",
    "webhooks",
    "dark mode",
    "search filters",
    "mobile checkout",
    "usage dashboard",
    "team permissions",
    "Slack alerts",
    "API rate limits",
    "onboarding tour",
    "audit log",
    "currency conversion",
    "refund flow",
]
WHO = ["admins", "new users", "finance teams", "enterprise accounts", "developers", "support"]
STATUSES = [
    ("idea", 30),
    ("candidate", 20),
    ("planned", 15),
    ("in_progress", 10),
    ("shipped", 15),
    ("declined", 5),
    ("archived", 5),
]
TYPES = [("feature", 50), ("improvement", 20), ("bug", 20), ("experiment", 10)]
EPIC_EVERY = 500  # items 1, 501, 1001, … are epics; every third other item is in one


def _weighted(rng, choices):
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _item_rows(product, owner_id, first_id, n, ranks, rng):
    """Realistic rows for COPY: RICE and ICE inputs (2% without an effort,
    so they have no RICE score), value, some WSJF inputs, owners, statuses."""
    now = dt.datetime.now(dt.UTC)
    for number in range(1, n + 1):
        item_id = first_id + number - 1
        is_epic = number % EPIC_EVERY == 1
        status = _weighted(rng, STATUSES)
        created = now - dt.timedelta(minutes=rng.randint(60, 2 * 365 * 24 * 60))
        updated = created + (now - created) * rng.random()
        epic_id = first_id + (number - 1) // EPIC_EVERY * EPIC_EVERY
        parent_id = epic_id if (not is_epic and number % 3 == 0) else None
        wsjf = rng.random() < 0.5
        title = f"{rng.choice(VERBS)} {rng.choice(NOUNS)} for {rng.choice(WHO)}"
        yield (
            item_id,
            product.pk,
            number,
            f"{product.key}-{number}",
            "epic" if is_epic else _weighted(rng, TYPES),
            title,
            f"**{title}.** Customers asked for this in {rng.randint(1, 40)} "
            f"conversations; see the linked research notes.\n\n- scope: {rng.choice(NOUNS)}",
            status,
            "Out of scope this year" if status in ("declined", "archived") else "",
            parent_id,
            owner_id if rng.random() < 0.3 else None,
            None if rng.random() < 0.02 else rng.choice([0.5, 1, 2, 3, 5, 8, 13]),
            "",
            "",
            float(round(rng.lognormvariate(6, 1.2)) + 1),  # reach
            rng.choice([0.25, 0.5, 1, 2, 3]),  # impact
            float(rng.choice([50, 80, 100])),  # confidence
            float(rng.randint(1, 10)),  # ease
            None if rng.random() < 0.1 else float(rng.randint(0, 10)),  # value
            float(rng.randint(1, 20)) if wsjf else None,
            float(rng.randint(1, 20)) if wsjf else None,
            float(rng.randint(1, 20)) if wsjf else None,
            float(rng.randint(1, 20)) if wsjf else None,
            None,  # demand
            "{}",  # custom
            None,  # score: one recompute fills it in
            ranks[number - 1],
            updated if status == "shipped" else None,
            1,
            created,
            updated,
        )


ITEM_COLUMNS = (
    "id",
    "product_id",
    "number",
    "key",
    "type",
    "title",
    "description",
    "status",
    "status_reason",
    "parent_id",
    "owner_id",
    "effort",
    "external_url",
    "external_key",
    "reach",
    "impact",
    "confidence",
    "ease",
    "value",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "job_size",
    "demand",
    "custom",
    "score",
    "rank",
    "shipped_at",
    "version",
    "created_at",
    "updated_at",
)


def seed(n: int, force: bool) -> dict:
    """One workspace, user and product with ``n`` items (kept between runs
    when the count matches), two scoring models (RICE active, ICE), tags,
    objectives, epics."""
    from django.db import connection, transaction
    from fractional_indexing import generate_n_keys_between

    from backlog import services
    from backlog.models import BacklogSettings, Item, ScoreChange, ScoringKind, ScoringModel, Tag
    from pmhub.accounts.models import Membership, Role, User, Workspace
    from products.models import Objective, Product

    user, _ = User.objects.get_or_create(username=USERNAME, defaults={"email": "bench@localhost"})
    workspace, _ = Workspace.objects.get_or_create(
        slug=WORKSPACE_SLUG, defaults={"name": "Benchmark"}
    )
    Membership.objects.get_or_create(workspace=workspace, user=user, defaults={"role": Role.OWNER})
    product, _ = Product.objects.get_or_create(
        workspace=workspace, key=PRODUCT_KEY, defaults={"name": "Benchmark product"}
    )
    settings_row = services.backlog_of(product)  # creates the RICE model
    rice, _ = ScoringModel.objects.get_or_create(
        product=product, name="RICE", defaults={"kind": ScoringKind.RICE}
    )
    ice, _ = ScoringModel.objects.get_or_create(
        product=product, name="ICE", defaults={"kind": ScoringKind.ICE}
    )
    have = Item.objects.filter(product=product).count()
    settings_row.refresh_from_db()
    if have == n and settings_row.last_item_number == n and not force:
        print(f"==> {n:,} items already seeded in {connection.settings_dict['NAME']}")
        return {"user": user, "workspace": workspace, "product": product, "a": rice, "b": ice}

    started = time.perf_counter()
    print(f"==> seeding {n:,} items (found {have:,})")
    item_table = Item._meta.db_table
    with connection.cursor() as cursor:
        # The benchmark owns this database: start from empty item tables.
        tables = [item_table, Item.history.model._meta.db_table, ScoreChange._meta.db_table]
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    tags = [Tag.objects.get_or_create(product=product, name=f"tag-{i}")[0] for i in range(12)]
    objectives = []
    for i in range(6):
        objective = Objective.objects.filter(product=product, title=f"Objective {i + 1}").first()
        objectives.append(
            objective
            or Objective.objects.create(product=product, title=f"Objective {i + 1}", position=i)
        )
    ranks = generate_n_keys_between(None, None, n)
    rng = random.Random(20250101)
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's cursor: COPY
        copy_sql = f"COPY {item_table} ({', '.join(ITEM_COLUMNS)}) FROM STDIN"
        with raw.copy(copy_sql) as copy:
            for row in _item_rows(product, user.pk, 1, n, ranks, rng):
                copy.write_row(row)
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{item_table}', 'id'), %s)", [n])
        tag_table = Item.tags.through._meta.db_table
        objective_table = Item.objectives.through._meta.db_table
        tag_ids = [t.pk for t in tags]
        objective_ids = [o.pk for o in objectives]
        # A tag on every 4th item, a second one on every 10th; an objective on every 6th.
        cursor.execute(
            f"INSERT INTO {tag_table} (item_id, tag_id) "
            f"SELECT id, (%s::bigint[])[1 + (number / 4) %% 12] FROM {item_table} "
            "WHERE product_id = %s AND number %% 4 = 0 "
            f"UNION SELECT id, (%s::bigint[])[1 + (number / 10 + 5) %% 12] FROM {item_table} "
            "WHERE product_id = %s AND number %% 10 = 0",
            [tag_ids, product.pk, tag_ids, product.pk],
        )
        cursor.execute(
            f"INSERT INTO {objective_table} (item_id, objective_id) "
            f"SELECT id, (%s::bigint[])[1 + (number / 6) %% 6] FROM {item_table} "
            "WHERE product_id = %s AND number %% 6 = 0",
            [objective_ids, product.pk],
        )
        BacklogSettings.objects.filter(pk=settings_row.pk).update(
            last_item_number=n, active_model=rice
        )
    print(f"    rows copied in {time.perf_counter() - started:.1f} s; scoring them")
    services.recompute_scores(product.pk)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"    seeded in {time.perf_counter() - started:.1f} s")
    return {"user": user, "workspace": workspace, "product": product, "a": rice, "b": ice}


# --- scoring state -----------------------------------------------------------------------------


def score_update_sql(model, product_id: int) -> tuple[str, list]:
    """``UPDATE backlog_item SET score = <the model's formula> WHERE
    product_id = %s``: the formula is the application's own expression
    (backlog.scoring.score_expression) compiled by Django, so the baseline
    computes exactly what the recompute does."""
    from django.db import connection
    from django.db.models import Q
    from django.db.models.sql import UpdateQuery

    from backlog import scoring, services
    from backlog.models import Item

    query = UpdateQuery(Item)
    query.add_update_values(
        {"score": scoring.score_expression(model.kind, services.model_criteria(model))}
    )
    query.add_q(Q(product_id=product_id))
    sql, params = query.get_compiler(connection.alias).as_sql()
    return sql, list(params)


class ScoreState:
    """Two scoring models, A (RICE) and B (ICE), whose formulas give every
    item a different score. Each timed run flips every score from one
    formula to the other, so each one writes all rows: the recompute by
    activating the other model, the baseline by one UPDATE with the other
    formula. Before each timed run: the active model matches the scores and
    is up to date, no score history (TRUNCATE), no dead rows (VACUUM) and a
    CHECKPOINT, so that no run pays for another's dirty pages."""

    def __init__(self, data):
        from backlog.models import BacklogSettings

        self.product = data["product"]
        self.a, self.b = data["a"], data["b"]
        self.settings_pk = BacklogSettings.objects.get(product=self.product).pk
        self.sql = {
            self.a.pk: score_update_sql(self.a, self.product.pk),
            self.b.pk: score_update_sql(self.b, self.product.pk),
        }
        self.current = None  # the model whose formula the scores hold

    def other(self, model=None):
        model = model or self.current
        return self.b if model.pk == self.a.pk else self.a

    def execute(self, sql_params) -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(*sql_params)
            return cursor.rowcount

    def maintenance(self):
        from django.db import connection

        from backlog.models import Item

        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {Item._meta.db_table}")
            cursor.execute("CHECKPOINT")

    def settle(self, model=None):
        """Scores computed by ``model`` (A by default), which is active and up
        to date; no score history."""
        from django.db import connection
        from django.db.models import F

        from backlog.models import BacklogSettings, ScoreChange

        model = model or self.a
        if self.current is None or self.current.pk != model.pk:
            self.execute(self.sql[model.pk])
            self.current = model
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {ScoreChange._meta.db_table}")
        BacklogSettings.objects.filter(pk=self.settings_pk).update(
            active_model=model,
            scored_generation=F("score_generation"),
            recompute_claimed_at=None,
            recompute_done=0,
        )

    def request(self, model, cause: str):
        """What activating a model (or saving its weights) records in the
        same transaction: the active model and a bumped generation. The
        recompute itself is timed apart, as the Celery task runs it."""
        from django.db.models import F

        from backlog.models import BacklogSettings

        BacklogSettings.objects.filter(pk=self.settings_pk).update(
            active_model=model,
            score_generation=F("score_generation") + 1,
            score_cause=cause,
            recompute_done=0,
        )

    def changed_rows(self) -> int:
        """How many items score differently under A and B."""
        from backlog import scoring, services
        from backlog.models import Item

        diff = (
            Item.objects.filter(product=self.product)
            .annotate(
                sa=scoring.score_expression(self.a.kind, services.model_criteria(self.a)),
                sb=scoring.score_expression(self.b.kind, services.model_criteria(self.b)),
            )
            .values_list("sa", "sb")
        )
        return sum(1 for sa, sb in diff.iterator(chunk_size=20_000) if sa != sb)


# --- measurements ----------------------------------------------------------------------------


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


def page_query(log: QueryLog):
    """The statement that reads the page's items (the one with ORDER BY on backlog_item)."""
    for sql, params, _ in log.queries:
        if 'FROM "backlog_item"' in sql and "ORDER BY" in sql and "LIMIT" in sql:
            return sql, params
    return None


def measure_lists(report: Report, data: dict, reps: int, n: int) -> None:
    from django.test import Client

    from backlog.api.pagination import Cursor, ItemKeysetPagination
    from backlog.models import Item
    from pmhub.accounts import services as accounts
    from pmhub.accounts.models import ApiToken

    from . import baselines

    product = data["product"]
    user = data["user"]
    ApiToken.objects.filter(user=user).delete()
    _, secret = accounts.create_api_token(user, name="bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    plain = Client()
    pid = product.pk

    def api_get(page_size=50, cursor=None):
        params = {"product": pid, "ordering": "rank", "page_size": page_size}
        if cursor:
            params["cursor"] = cursor
        response = api.get("/api/v1/items/", params)
        if response.status_code != 200:
            raise SystemExit(
                f"bench: the items API answered {response.status_code}: {response.content[:500]!r}"
            )
        return response

    def raw_view(page_size):
        response = plain.get("/__bench__/raw-items/", {"product": pid, "page_size": page_size})
        assert response.status_code == 200
        return response

    # Correctness first: the API returns the rows the baseline does.
    first = api_get(50).json()
    raw_first = json.loads(baselines.raw_items_json(pid, 50))["results"]
    if [r["id"] for r in first["results"]] != [r["id"] for r in raw_first]:
        raise SystemExit("bench: the API's first page differs from the raw-SQL baseline's rows")
    # The deep page starts at row 90 000 (1-based): its cursor is the row
    # before, encoded by the API's own paginator. Built this way, a cursor is
    # the very string the API puts in `next` (checked on the first page).
    deep_start = min(90_000, n - 50)
    ordered = Item.objects.filter(product_id=pid).order_by("rank").values_list("product_id", "rank")
    pager = ItemKeysetPagination()
    cursor_50 = pager.encode_cursor(Cursor("rank", tuple(ordered[49])))
    if f"cursor={cursor_50}" not in (first["next"] or ""):
        raise SystemExit(f"bench: a constructed cursor differs from the API's: {first['next']}")
    deep_cursor = pager.encode_cursor(Cursor("rank", tuple(ordered[deep_start - 2])))
    deep_ids = list(
        Item.objects.filter(product_id=pid)
        .order_by("rank")
        .values_list("id", flat=True)[deep_start - 1 : deep_start + 49]
    )
    deep = api_get(50, deep_cursor).json()
    if [r["id"] for r in deep["results"]] != deep_ids:
        raise SystemExit(f"bench: the deep page is not rows {deep_start:,}–{deep_start + 49:,}")

    # Queries per request, and no COUNT(*) anywhere on the list path.
    counts, count_sql, logs = {}, [], {}
    for label, size, cursor in [
        ("1", 1, None),
        ("50", 50, None),
        ("500", 500, None),
        ("50 deep", 50, deep_cursor),
    ]:
        api_get(size, cursor)  # warm: a token's last use is written at most once a minute
        with QueryLog() as log:
            api_get(size, cursor)
        logs[label] = log
        counts[label] = len(log.queries)
        count_sql += [sql for sql in log.sql if "COUNT(" in sql.upper()]
    report.facts["queries_per_request"] = counts
    report.facts["list_queries_page_50"] = [sql[:160] for sql in logs["50"].sql]
    sizes = [counts["1"], counts["50"], counts["500"]]
    report.check(
        "API queries per request (page_size 1 / 50 / 500)",
        " / ".join(map(str, sizes)),
        "equal",
        len(set(sizes)) == 1,
        note="" if len(set(sizes)) == 1 else "the number of queries grows with the page size",
    )
    report.check(
        "API list: COUNT( in any query (pages 1, 50, 500, deep)",
        "none" if not count_sql else f"{len(count_sql)} queries",
        "none",
        not count_sql,
        note="" if not count_sql else count_sql[0][:300],
    )
    plans = {}
    for label in ("50", "50 deep"):
        query = page_query(logs[label])
        if query:
            plans[label] = explain(*query)
    report.facts["page_query_plans"] = plans

    def raw_view_authenticated(page_size):
        response = api.get(
            "/__bench__/raw-items-authenticated/", {"product": pid, "page_size": page_size}
        )
        assert response.status_code == 200
        return response

    # 1. a page of 50 vs the raw-SQL view; 2. the deep page vs the first.
    t = interleaved(
        {
            "api50": lambda: api_get(50),
            "api50deep": lambda: api_get(50, deep_cursor),
            "raw50view": lambda: raw_view(50),
            "raw50auth": lambda: raw_view_authenticated(50),
            "raw50": lambda: baselines.raw_items_json(pid, 50),
        },
        reps=reps,
        warmup=max(3, reps // 10),
    )
    report.ratio(
        "API page of 50 vs raw-SQL view",
        p50(t["api50"]),
        p50(t["raw50view"]),
        3,
        baseline_name="raw SQL + json.dumps in a plain Django view (same client, middleware)",
        extra={
            "bare_raw_sql_json_ms": ms(p50(t["raw50"])),
            "raw_view_with_token_check_ms": ms(p50(t["raw50auth"])),
        },
        note=f"{counts['50']} queries per request (baseline: 1); bare SQL + json.dumps "
        f"without a request: {ms(p50(t['raw50'])):.2f} ms; the raw view with the same "
        f"bearer-token check in SQL: {ms(p50(t['raw50auth'])):.2f} ms "
        f"({p50(t['api50']) / p50(t['raw50auth']):.2f}×, not a target)",
    )
    deep_note = ""
    if "50 deep" in plans and "50" in plans:
        d, f = plans["50 deep"], plans["50"]
        deep_note = (
            f"page query (EXPLAIN ANALYZE): first page {f['execution_ms']:.2f} ms, "
            f"{f['rows_removed_by_filter']:,} rows filtered; deep page {d['execution_ms']:.2f} ms, "
            f"{d['rows_removed_by_filter']:,} rows filtered"
        )
    report.ratio(
        f"API deep page (rows {deep_start:,}–{deep_start + 49:,}) vs first page",
        p50(t["api50deep"]),
        p50(t["api50"]),
        1.2,
        baseline_name="API first page",
        note=deep_note,
    )

    # 3. 1 000 rows: the API caps page_size at 500, so two pages of 500 (the
    # first and the one its `next` names) against the raw view with 1 000 rows.
    page500 = api_get(500).json()
    next500 = page500["next"].split("cursor=")[1].split("&")[0]
    t = interleaved(
        {
            "api500": lambda: api_get(500),
            "api500next": lambda: api_get(500, next500),
            "raw1000view": lambda: raw_view(1000),
            "raw500view": lambda: raw_view(500),
        },
        reps=max(5, reps // 3),
        warmup=2,
    )
    pair = [a + b for a, b in zip(t["api500"], t["api500next"], strict=True)]
    report.ratio(
        "API 1 000 rows (2 pages of 500) vs raw-SQL view of 1 000",
        p50(pair),
        p50(t["raw1000view"]),
        2,
        baseline_name="raw SQL + json.dumps view, page_size=1000",
        extra={
            "api_page_500_ms": ms(p50(t["api500"])),
            "raw_view_500_ms": ms(p50(t["raw500view"])),
        },
        note=f"page_size is capped at 500 by the API; one page of 500 takes "
        f"{ms(p50(t['api500'])):.2f} ms vs {ms(p50(t['raw500view'])):.2f} ms for the raw view "
        f"of 500 ({p50(t['api500']) / p50(t['raw500view']):.2f}×)",
    )


TABLE_ROW = re.compile(r'<tr id="row-.*?</tr>\n', re.S)


def measure_html(report: Report, data: dict, reps: int) -> None:
    from django.test import Client

    from . import baselines

    product, user, workspace = data["product"], data["user"], data["workspace"]
    browser = Client()
    browser.force_login(user)
    url = f"/w/{workspace.slug}/p/{product.key}/backlog/"

    def page():
        response = browser.get(url)
        if response.status_code != 200:
            raise SystemExit(f"bench: the backlog page answered {response.status_code}")
        return response

    def rows_view():
        response = browser.get("/__bench__/backlog-rows/", {"product": product.pk})
        assert response.status_code == 200
        return response

    def minimal():
        response = browser.get("/__bench__/minimal-backlog/", {"product": product.pk})
        assert response.status_code == 200
        return response

    from backlog.models import Item

    html = page().content.decode()
    ranked = Item.objects.filter(product=product).order_by("rank")
    keys = list(ranked.values_list("key", flat=True)[:51])
    shown = [key for key in keys if f"{key}<" in html]
    if shown != keys[:50]:
        raise SystemExit(f"bench: the page shows {len(shown)} of the first 51 items, not 50")
    # The baseline writes the very rows the page shows, byte for byte.
    ours = TABLE_ROW.findall(html)
    theirs = TABLE_ROW.findall(rows_view().content.decode())
    if ours != theirs:
        diff = next((n for n, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), None)
        raise SystemExit(
            f"bench: the page's table rows ({len(ours)}) differ from the baseline's "
            f"({len(theirs)}), first at row {diff}"
        )
    with QueryLog() as log:
        page()
    report.facts["backlog_page_queries"] = [sql[:160] for sql in log.sql]
    t = interleaved(
        {
            "page": page,
            "rows": rows_view,
            "minimal": minimal,
            "bare_rows": lambda: baselines.backlog_rows_html(product.pk),
            "bare": lambda: baselines.minimal_backlog_html(product.pk),
        },
        reps=reps,
        warmup=max(3, reps // 10),
    )
    eight = p50(t["page"]) / p50(t["minimal"])
    report.ratio(
        "backlog HTML page (50 rows) vs the same rows, minimal template",
        p50(t["page"]),
        p50(t["rows"]),
        1.5,
        baseline_name=".values() + a plain template writing the page's table rows (same markup, "
        "checked byte for byte), no page around them, in a plain Django view (same client)",
        extra={
            "bare_rows_template_ms": ms(p50(t["bare_rows"])),
            "eight_column_template_view_ms": ms(p50(t["minimal"])),
            "eight_column_ratio": round(eight, 4),
            "bare_eight_column_template_ms": ms(p50(t["bare"])),
        },
        note=f"{len(log.queries)} queries per page (baseline: 1); the same rows without a "
        f"request: {ms(p50(t['bare_rows'])):.2f} ms; against the first baseline, 8 columns of "
        f"plain text without controls: {ms(p50(t['minimal'])):.2f} ms ({eight:.2f}×, not a "
        "target)",
    )


def measure_moves(report: Report, data: dict) -> None:
    from backlog import services
    from backlog.models import Item

    product, user = data["product"], data["user"]
    ordered = list(
        Item.objects.filter(product=product).order_by("rank").values_list("pk", flat=True)
    )
    n = len(ordered)

    def item(position):
        return Item.objects.select_related("product__workspace").get(pk=ordered[position])

    mover = item(n // 2)
    moves = [
        ("to the top", {"before": item(0)}),
        ("between rows 10 and 11", {"after": item(9), "before": item(10)}),
        ("to the bottom", {"after": item(-1)}),
        ("back to its place", {"after": item(n // 2 - 1), "before": item(n // 2 + 1)}),
    ]
    results = []
    for label, where in moves:
        start = time.perf_counter()
        with QueryLog() as log:
            services.move_item(user, item=mover, **where)
        elapsed = time.perf_counter() - start
        writes = [
            (sql, rowcount)
            for sql, _, rowcount in log.queries
            if sql.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "MERGE")
            or (sql.lstrip().upper().startswith("WITH") and "UPDATE" in sql.upper())
        ]
        results.append(
            {
                "move": label,
                "statements": len(log.queries),
                "write_statements": len(writes),
                "rows_written": sum(max(r, 0) for _, r in writes),
                "ms": ms(elapsed),
                "writes": [sql[:120] for sql, _ in writes],
            }
        )
    order_now = list(
        Item.objects.filter(product=product).order_by("rank").values_list("pk", flat=True)
    )
    if order_now != ordered:
        raise SystemExit("bench: moving the item back did not restore the backlog order")
    report.facts["moves"] = results
    report.check(
        "rows written per move (top, middle, bottom, back)",
        " / ".join(str(r["rows_written"]) for r in results),
        "= 1",
        all(r["rows_written"] == 1 and r["write_statements"] == 1 for r in results),
        note=f"one UPDATE of backlog_item each; a move takes "
        f"{statistics.median(r['ms'] for r in results):.1f} ms with "
        f"{statistics.median(r['statements'] for r in results):.0f} statements (p50 of the 4)",
    )


def measure_recompute(report: Report, data: dict, reps: int) -> None:
    from backlog import services
    from backlog.models import BacklogSettings

    state = data["state"]
    product = data["product"]
    expected = state.changed_rows()
    samples = {"ours": [], "baseline": [], "noop": []}

    def run_ours():
        target = state.other()
        state.settle(state.current)
        state.request(target, f"model|bench: {state.current} → {target}")
        state.maintenance()
        start = time.perf_counter()
        changed = services.recompute_scores(product.pk)
        elapsed = time.perf_counter() - start
        state.current = target
        if changed != expected:
            raise SystemExit(f"bench: the recompute changed {changed} scores, not {expected}")
        if BacklogSettings.objects.get(pk=state.settings_pk).recompute_pending:
            raise SystemExit("bench: the recompute left its generation pending")
        return elapsed

    def run_noop():
        # Right after a full recompute: bump the generation, change nothing.
        state.request(state.current, "weights|bench: saved without changes")
        state.maintenance()
        start = time.perf_counter()
        changed = services.recompute_scores(product.pk)
        elapsed = time.perf_counter() - start
        if changed != 0:
            raise SystemExit(f"bench: a recompute with nothing changed wrote {changed} scores")
        return elapsed

    def run_baseline():
        target = state.other()
        state.maintenance()
        start = time.perf_counter()
        written = state.execute(state.sql[target.pk])
        elapsed = time.perf_counter() - start
        state.current = target
        if written != data["n"]:
            raise SystemExit(f"bench: the raw UPDATE wrote {written} rows, not {data['n']}")
        return elapsed

    state.settle(state.a)
    run_ours()  # warm-up
    run_baseline()
    for _ in range(reps):
        samples["ours"].append(run_ours())
        samples["noop"].append(run_noop())
        samples["baseline"].append(run_baseline())
    state.settle(state.a)
    state.maintenance()
    report.facts["recompute_rows"] = expected
    report.facts["recompute_baseline_sql"] = state.sql[state.b.pk][0]
    report.ratio(
        f"full recompute of {expected:,} scores vs one raw UPDATE",
        p50(samples["ours"]),
        p50(samples["baseline"]),
        1.5,
        baseline_name="UPDATE backlog_item SET score = <same formula> WHERE product_id = %s",
        extra={
            "ours_samples_ms": [ms(x) for x in samples["ours"]],
            "baseline_samples_ms": [ms(x) for x in samples["baseline"]],
        },
        note=f"models {state.a} ⇄ {state.b}; the recompute also writes a ScoreChange row per "
        "changed score (the score history), the UPDATE does not",
    )
    report.ratio(
        "recompute with nothing changed vs full recompute",
        p50(samples["noop"]),
        p50(samples["ours"]),
        0.05,
        baseline_name="full recompute",
        extra={"samples_ms": [ms(x) for x in samples["noop"]]},
        percent=True,
        note="the generation is bumped with the same model and weights: every score is "
        "computed again and none is written",
    )


# --- main ------------------------------------------------------------------------------------


def measure_feedback(report: Report, data: dict, args) -> None:
    from .feedback import measure

    measure(report, data, args)


def measure_backlog(report: Report, data: dict, args) -> None:
    print(f"==> list API ({args.reps} repetitions per request, p50)")
    measure_lists(report, data, args.reps, args.items)
    print("==> backlog HTML page")
    measure_html(report, data, args.reps)
    print("==> moves")
    measure_moves(report, data)
    print(f"==> recompute ({args.recompute_reps} repetitions, each from the same state)")
    measure_recompute(report, data, args.recompute_reps)


# Each suite: (name, measure(report, data, args)). Other apps' benchmarks live in
# their own modules (bench/roadmaps.py, bench/metrics.py) and are listed here.
SUITES = [
    ("backlog", measure_backlog),
    ("roadmaps", measure_roadmaps),
    ("feedback", measure_feedback),
    ("metrics", measure_metrics),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="backlog size (100 000)")
    parser.add_argument("--reps", type=int, default=40, help="repetitions of each request")
    parser.add_argument(
        "--recompute-reps", type=int, default=4, help="repetitions of each recompute"
    )
    parser.add_argument("--reseed", action="store_true", help="seed again even if seeded")
    parser.add_argument(
        "--suite",
        action="append",
        choices=[name for name, _ in SUITES],
        help="run only this suite (repeatable; default: all)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic
    url, source = database_url()
    configure_environment(url)
    ensure_database(url)
    started = time.perf_counter()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench: needs PostgreSQL")
    # The baseline views live beside the application's URLs; whitenoise
    # checks the disk per request only in development, so not here either.
    settings.ROOT_URLCONF = "bench.urls"
    settings.WHITENOISE_AUTOREFRESH = False
    print(f"==> database {connection.settings_dict['NAME']} ({source}); migrating")
    call_command("migrate", verbosity=0, interactive=False)

    data = seed(args.items, args.reseed)
    data["n"] = args.items
    data["state"] = state = ScoreState(data)
    state.settle(state.a)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]

    load_before = os.getloadavg()
    report = Report()
    for name, measure in SUITES:
        if args.suite and name not in args.suite:
            continue
        measure(report, data, args)

    report.print()
    load_after = os.getloadavg()
    busy = max(load_before[0], load_after[0]) > (os.cpu_count() or 1)
    if busy:
        print(
            f"  note: the machine was busy (load average {load_before[0]:.1f} → "
            f"{load_after[0]:.1f} on {os.cpu_count()} CPUs); each side of a ratio is measured "
            "in turns, but absolute times are inflated and ratios noisier"
        )
    counts = report.facts.get("queries_per_request")
    if counts:
        print(
            "  queries per list request: "
            + ", ".join(f"page_size {k}: {v}" for k, v in counts.items())
        )
    elapsed = time.perf_counter() - started
    import django as dj

    results = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "passed": report.passed,
        "items": args.items,
        "repetitions": {"requests": args.reps, "recompute": args.recompute_reps},
        "statistic": "p50 (median) after warm-up",
        "environment": {
            "python": platform.python_version(),
            "django": dj.get_version(),
            "postgresql": pg_version,
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        },
        "metrics": report.rows,
        "facts": report.facts,
        "seconds": round(elapsed, 1),
    }
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"  wrote {shown} in {elapsed:.0f} s")
    if not report.passed:
        failed = [r["metric"] for r in report.rows if not r["passed"]]
        print(f"\nbench: {len(failed)} target(s) missed: {'; '.join(failed)}", file=sys.stderr)
        return 1
    print("\nbench: every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
