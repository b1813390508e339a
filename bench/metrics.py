"""Metrics suite of ``make bench`` (``--suite metrics``).

1. Ingestion: 1 000 000 datapoints through ``metrics.services.ingest_datapoints``
   (100 requests of 10 000 rows as the API hands them over: ISO 8601 strings,
   parsed and validated per row, deduplicated with ON CONFLICT DO NOTHING, dirty
   days marked) against PostgreSQL's ``COPY`` of the same rows into the same
   table (no validation, no dedupe), in the same run. The rollup that ingestion
   enqueues runs in a worker and is measured below, not here.
2. Full rollup of 10 000 000 datapoints (one metric, a year, ~27 400 points a
   day): ``request_full_rollup`` + ``process_dirty`` against raw SQL producing
   the same rows (day rows by ``GROUP BY (timestamp AT TIME ZONE 'UTC')::date``
   with sum, count, min, max, last value and its timestamp; weeks and months
   grouped from the day rows) into a table of the same shape. Target ≤ 1.5×.
3. Incremental rollup after one new day of data (~27 400 points ingested
   through the service): ``process_dirty`` against the full rollup. Target ≤ 5 %.

The 10 M rows are seeded once with ``generate_series`` and kept (the metric's
description records it); days appended by step 3 are removed at the start of
the next run.
"""

import random
import time
from datetime import UTC, datetime, timedelta

from .core import interleaved, p50

BIG = 10_000_000
INGEST = 1_000_000
BATCH = 10_000
SEED_START = datetime(2025, 1, 1, tzinfo=UTC)
SEED_DAYS = 365
STEP_US = SEED_DAYS * 86_400_000_000 // BIG  # microseconds between seeded points
SEED_END = SEED_START + timedelta(microseconds=STEP_US * BIG)
BASELINE_TABLE = "bench_metric_rollup_baseline"
# Compared exactly (float sums may differ in the last bit with summation order).
SAME = "period, start, count, minimum, maximum, last, last_at"


def _metric(product, user, name, aggregation="average"):
    from metrics import services as metrics
    from metrics.models import Metric

    metric = Metric.objects.filter(product=product, name=name).first()
    return metric or metrics.create_metric(
        user, product=product, name=name, aggregation=aggregation
    )


def _clear(metric, *, since=None) -> None:
    from django.db import connection

    from metrics.models import Datapoint, DirtyDay, MetricRollup

    with connection.cursor() as cursor:
        where, params = "metric_id = %s", [metric.pk]
        if since is not None:
            where, params = where + " AND timestamp >= %s", [*params, since]
        cursor.execute(f"DELETE FROM {Datapoint._meta.db_table} WHERE {where}", params)
    DirtyDay.objects.filter(metric=metric).delete()
    if since is None:
        MetricRollup.objects.filter(metric=metric).delete()


def seed_big(product, user):
    """The 10 M-row metric, seeded with generate_series once."""
    from django.db import connection

    from metrics.models import Datapoint, Metric

    metric = _metric(product, user, "bench 10M")
    marker = f"seeded {BIG} rows from {SEED_START.isoformat()}"
    if metric.description == marker:
        _clear(metric, since=SEED_END)  # days added by earlier incremental runs
        return metric
    started = time.perf_counter()
    print(f"==> seeding {BIG:,} datapoints (once; kept for later runs)")
    _clear(metric)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Datapoint._meta.db_table} (metric_id, timestamp, value, dedupe_key) "
            "SELECT %s, %s + i * make_interval(secs => %s / 1e6), "
            "(i %% 997) / 10.0 + random(), '' FROM generate_series(0, %s) AS i",
            [metric.pk, SEED_START, STEP_US, BIG - 1],
        )
        cursor.execute(f"VACUUM ANALYZE {Datapoint._meta.db_table}")
    Metric.objects.filter(pk=metric.pk).update(description=marker)
    print(f"    seeded in {time.perf_counter() - started:.0f} s")
    metric.refresh_from_db()
    return metric


def _rows(n: int, start: datetime, seed: int) -> list[dict]:
    rng = random.Random(seed)
    step = 86_400 * 30 / n  # a month of data
    return [
        {
            "timestamp": (start + timedelta(seconds=i * step)).isoformat(),
            "value": round(rng.uniform(0, 100), 3),
            "dedupe_key": f"evt-{seed}-{i}",
        }
        for i in range(n)
    ]


def measure_ingest(report, data: dict) -> None:
    from django.db import connection

    from metrics import services as metrics
    from metrics.models import Datapoint

    user, product = data["user"], data["product"]
    ours_metric = _metric(product, user, "bench ingest")
    copy_metric = _metric(product, user, "bench copy")
    rows = _rows(INGEST, datetime(2026, 1, 1, tzinfo=UTC), seed=1)
    parsed = [(metrics.parse_timestamp(r["timestamp"]), r["value"], r["dedupe_key"]) for r in rows]
    table = Datapoint._meta.db_table
    enqueue = metrics.ingest._enqueue_rollup
    metrics.ingest._enqueue_rollup = lambda metric_id: None  # a worker's job, measured below

    def ours():
        _clear(ours_metric)
        started = time.perf_counter()
        for i in range(0, INGEST, BATCH):
            result = metrics.ingest_datapoints(user, metric=ours_metric, rows=rows[i : i + BATCH])
            assert result.created == BATCH, result.as_dict()
        return time.perf_counter() - started

    def baseline():
        _clear(copy_metric)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(
                f"COPY {table} (metric_id, timestamp, value, dedupe_key) FROM STDIN"
            ) as copy:
                for ts, value, key in parsed:
                    copy.write_row((copy_metric.pk, ts, value, key))
        return time.perf_counter() - started

    try:
        times = {"ours": [], "copy": []}
        for _ in range(2):
            times["ours"].append(ours())
            times["copy"].append(baseline())
    finally:
        metrics.ingest._enqueue_rollup = enqueue
    t_ours, t_copy = p50(times["ours"]), p50(times["copy"])
    report.ratio(
        "ingest 1M datapoints (service vs COPY)",
        t_ours,
        t_copy,
        3,
        baseline_name="COPY FROM STDIN",
        note=f"{INGEST / t_ours:,.0f} rows/s vs {INGEST / t_copy:,.0f} rows/s",
        extra={"rows_per_s": round(INGEST / t_ours), "copy_rows_per_s": round(INGEST / t_copy)},
    )
    report.facts["ingest_rows_per_s"] = round(INGEST / t_ours)
    report.facts["copy_rows_per_s"] = round(INGEST / t_copy)
    print(f"    ingestion {INGEST / t_ours:,.0f} rows/s; COPY {INGEST / t_copy:,.0f} rows/s")
    _clear(ours_metric)
    _clear(copy_metric)


def _baseline_sql(metric_id: int) -> list[tuple[str, list]]:
    from metrics.models import Datapoint

    dp, cols = Datapoint._meta.db_table, "metric_id, period, start, total, count, "
    cols += "minimum, maximum, last, last_at"
    days = (
        f"INSERT INTO {BASELINE_TABLE} ({cols}) "
        "SELECT %s, 'day', g.day, g.total, g.n, g.lo, g.hi, "
        f"(SELECT max(p.value) FROM {dp} p WHERE p.metric_id = %s AND p.timestamp = g.last_at), "
        "g.last_at FROM (SELECT (timestamp AT TIME ZONE 'UTC')::date AS day, sum(value) AS total, "
        "count(*) AS n, min(value) AS lo, max(value) AS hi, max(timestamp) AS last_at "
        f"FROM {dp} WHERE metric_id = %s GROUP BY 1) g"
    )
    periods = [
        (
            f"INSERT INTO {BASELINE_TABLE} ({cols}) "
            f"SELECT metric_id, '{period}', date_trunc('{period}', start)::date, sum(total), "
            "sum(count), min(minimum), max(maximum), "
            "(array_agg(last ORDER BY last_at DESC))[1], max(last_at) "
            f"FROM {BASELINE_TABLE} WHERE metric_id = %s AND period = 'day' GROUP BY 1, 3",
            [metric_id],
        )
        for period in ("week", "month")
    ]
    return [(days, [metric_id, metric_id, metric_id]), *periods]


def measure_rollups(report, data: dict, reps: int) -> None:
    from django.db import connection, transaction

    from metrics import services as metrics
    from metrics.models import MetricRollup

    user, product = data["user"], data["product"]
    big = seed_big(product, user)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {BASELINE_TABLE} "
            f"(LIKE {MetricRollup._meta.db_table} INCLUDING ALL)"
        )
    statements = _baseline_sql(big.pk)
    enqueue = metrics.ingest._enqueue_rollup
    metrics.ingest._enqueue_rollup = lambda metric_id: None

    def ours():
        MetricRollup.objects.filter(metric=big).delete()
        metrics.request_full_rollup(big)
        metrics.process_dirty(metric_id=big.pk)

    def baseline():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {BASELINE_TABLE}")
            for sql, params in statements:
                cursor.execute(sql, params)

    try:
        times = interleaved({"ours": ours, "baseline": baseline}, reps=reps, warmup=1)
        full = p50(times["ours"])
        report.ratio(
            "full rollup of 10M datapoints",
            full,
            p50(times["baseline"]),
            1.5,
            baseline_name="INSERT … GROUP BY date",
            note="day, week and month rows",
        )
        # Same output: every row of ours equals the baseline's.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT {SAME} FROM {MetricRollup._meta.db_table} "
                f"WHERE metric_id = %s EXCEPT SELECT {SAME} FROM {BASELINE_TABLE}) d",
                [big.pk],
            )
            differing = cursor.fetchone()[0]
        rows = MetricRollup.objects.filter(metric=big).count()
        report.check(
            "full rollup rows equal the baseline's",
            f"{rows} rows, {differing} differ",
            "0 differ",
            differing == 0 and rows > 0,
        )

        # Incremental: one new day after the seeded year, through the service.
        incremental = []
        for rep in range(reps):
            day = SEED_END + timedelta(days=rep)
            points = [
                {
                    "timestamp": (day + timedelta(microseconds=STEP_US * i)).isoformat(),
                    "value": round((i % 997) / 10, 1),
                }
                for i in range(86_400_000_000 // STEP_US)
            ]
            for i in range(0, len(points), BATCH):
                metrics.ingest_datapoints(user, metric=big, rows=points[i : i + BATCH])
            started = time.perf_counter()
            metrics.process_dirty(metric_id=big.pk)
            incremental.append(time.perf_counter() - started)
        report.ratio(
            "incremental rollup after one new day",
            p50(incremental),
            full,
            0.05,
            baseline_name="our full rollup",
            note=f"{len(points):,} new datapoints",
            percent=True,
        )
    finally:
        metrics.ingest._enqueue_rollup = enqueue
        _clear(big, since=SEED_END)
        MetricRollup.objects.filter(metric=big).delete()


def measure(report, data: dict, args) -> None:
    print(f"==> metrics: ingest {INGEST:,} datapoints (service vs COPY)")
    measure_ingest(report, data)
    reps = max(2, min(args.recompute_reps, 3))
    print(f"==> metrics: rollups of {BIG:,} datapoints ({reps} repetitions, p50)")
    measure_rollups(report, data, reps)
