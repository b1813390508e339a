"""Incremental rollups of datapoints by UTC day, week and month.

- A rollup row stores total (sum), count, minimum, maximum, and the last
  value with its timestamp. The metric's aggregation picks the value shown:
  sum → total, count → count, average → total / count, last value → last.
  Weeks and months are combined from day rows, so averages and last values
  stay exact.
- The last value is the value at the latest timestamp; several datapoints at
  that very instant resolve to the largest value, so the result never
  depends on insertion order.
- ``process_dirty`` locks the metric row (``FOR NO KEY UPDATE SKIP LOCKED``,
  so two workers never roll up the same metric at once), claims its dirty
  days (``FOR UPDATE SKIP LOCKED``: days a running ingestion is still marking
  stay for the next run), recomputes each affected day, week and month from
  scratch and upserts it, then updates the key results that follow the
  metric — all in one transaction. A worker killed mid-way rolls back,
  leaving the dirty days for the rerun, which computes identical rows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Max, Min

from ..models import Datapoint, DirtyDay, Metric, MetricRollup, Period
from ..periods import day_start, month_start, period_end, period_start, utc_day, week_start
from .follow import refresh_key_results
from .ingest import mark_dirty

# Dirty days closer than this are recomputed in one range scan (recomputing a
# clean day in the gap gives the row it already has).
MERGE_GAP_DAYS = 31


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days grouped into [first, last] ranges, merging small gaps."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][1]).days <= MERGE_GAP_DAYS:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(a, b) for a, b in runs]


_UPSERT_COLUMNS = ("total", "count", "minimum", "maximum", "last", "last_at")


def _day_rollups_sql(metric_id: int, first: date, last: date) -> set[date]:
    """PostgreSQL: recompute the day rows of [first, last] in one statement."""
    dp, ru = Datapoint._meta.db_table, MetricRollup._meta.db_table
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _UPSERT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ru} (metric_id, period, start, {", ".join(_UPSERT_COLUMNS)})
            SELECT %(m)s, 'day', g.day, g.total, g.n, g.lo, g.hi,
                   (SELECT max(p.value) FROM {dp} p
                     WHERE p.metric_id = %(m)s AND p.timestamp = g.last_at),
                   g.last_at
              FROM (SELECT (timestamp AT TIME ZONE 'UTC')::date AS day, sum(value) AS total,
                           count(*) AS n, min(value) AS lo, max(value) AS hi,
                           max(timestamp) AS last_at
                      FROM {dp}
                     WHERE metric_id = %(m)s AND timestamp >= %(a)s AND timestamp < %(b)s
                     GROUP BY 1) g
            ON CONFLICT (metric_id, period, start) DO UPDATE SET {updates}
            RETURNING start
            """,
            {
                "m": metric_id,
                "a": day_start(first),
                "b": day_start(last + timedelta(days=1)),
            },
        )
        return {row[0] for row in cursor.fetchall()}


def _day_rollups_python(metric_id: int, first: date, last: date) -> set[date]:
    """Any database: the same day rows computed in Python (the embedded SQLite
    default has no date_trunc)."""
    points = Datapoint.objects.filter(
        metric_id=metric_id,
        timestamp__gte=day_start(first),
        timestamp__lt=day_start(last + timedelta(days=1)),
    ).values_list("timestamp", "value")
    by_day: dict[date, list] = defaultdict(list)
    for ts, value in points.iterator(chunk_size=5000):
        by_day[utc_day(ts)].append((ts, value))
    rows = []
    for day, values in by_day.items():
        just = [v for _t, v in values]
        last_at, last_value = max(values)
        rows.append(_rollup_row(metric_id, Period.DAY, day, just, last_value, last_at))
    _upsert(rows)
    return set(by_day)


def _rollup_row(metric_id, period, start, values, last_value, last_at) -> MetricRollup:
    return MetricRollup(
        metric_id=metric_id,
        period=period,
        start=start,
        total=math.fsum(values),
        count=len(values),
        minimum=min(values),
        maximum=max(values),
        last=last_value,
        last_at=last_at,
    )


def _upsert(rows: list[MetricRollup]) -> None:
    MetricRollup.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["metric", "period", "start"],
        update_fields=list(_UPSERT_COLUMNS),
        batch_size=1000,
    )


def _combine_periods(metric_id: int, days: set[date]) -> None:
    """Recompute the weeks and months containing ``days`` from day rows."""
    targets = {
        Period.WEEK: {week_start(d) for d in days},
        Period.MONTH: {month_start(d) for d in days},
    }
    lo = min(min(targets[Period.WEEK]), min(targets[Period.MONTH]))
    hi = max(
        max(period_end(Period.WEEK, s) for s in targets[Period.WEEK]),
        max(period_end(Period.MONTH, s) for s in targets[Period.MONTH]),
    )
    day_rows = MetricRollup.objects.filter(
        metric_id=metric_id, period=Period.DAY, start__gte=lo, start__lt=hi
    ).values_list("start", "total", "count", "minimum", "maximum", "last", "last_at")
    groups: dict[tuple, list] = defaultdict(list)
    for row in day_rows:
        for period, starts in targets.items():
            start = period_start(period, row[0])
            if start in starts:
                groups[(period, start)].append(row)
    rows = []
    for (period, start), members in groups.items():
        _d, _t, _n, _lo, _hi, last, last_at = max(members, key=lambda r: (r[6], r[5]))
        rows.append(
            MetricRollup(
                metric_id=metric_id,
                period=period,
                start=start,
                total=math.fsum(r[1] for r in members),
                count=sum(r[2] for r in members),
                minimum=min(r[3] for r in members),
                maximum=max(r[4] for r in members),
                last=last,
                last_at=last_at,
            )
        )
    _upsert(rows)
    for period, starts in targets.items():
        empty = starts - {s for (p, s) in groups if p == period}
        if empty:
            MetricRollup.objects.filter(
                metric_id=metric_id, period=period, start__in=empty
            ).delete()


def _recompute(metric_id: int, days: list[date]) -> None:
    compute = _day_rollups_sql if connection.vendor == "postgresql" else _day_rollups_python
    present: set[date] = set()
    for first, last in _runs(days):
        present |= compute(metric_id, first, last)
    empty = set(days) - present
    if empty:
        MetricRollup.objects.filter(
            metric_id=metric_id, period=Period.DAY, start__in=empty
        ).delete()
    _combine_periods(metric_id, set(days))


def process_dirty(*, metric_id: int | None = None, max_batches: int = 1000) -> int:
    """Roll up every metric with dirty days (or only ``metric_id``). Returns
    the number of metric batches processed. Idempotent; concurrent runs split
    the work and never process one metric twice at once."""
    processed = 0
    skip: set[int] = set()
    while True:
        with transaction.atomic():
            candidates = DirtyDay.objects.exclude(metric_id__in=skip)
            if metric_id is not None:
                candidates = candidates.filter(metric_id=metric_id)
            ids = list(candidates.values_list("metric_id", flat=True).distinct()[:20])
            if not ids:
                return processed
            metric = (
                Metric.objects.select_for_update(no_key=True, skip_locked=True)
                .filter(pk__in=ids)
                .order_by("pk")
                .first()
            )
            if metric is None:
                return processed  # every candidate is being rolled up right now
            claimed = list(
                DirtyDay.objects.select_for_update(skip_locked=True)
                .filter(metric=metric)
                .values_list("id", "day")
            )
            if not claimed:
                skip.add(metric.pk)  # an ingestion still marking: it enqueues again
                continue
            DirtyDay.objects.filter(id__in=[pk for pk, _d in claimed])._raw_delete(
                DirtyDay.objects.db
            )
            _recompute(metric.pk, [d for _pk, d in claimed])
            refresh_key_results(metric)
        processed += 1
        if processed >= max_batches:
            return processed  # under a constant stream, leave the rest to the next run


def request_full_rollup(metric: Metric) -> int:
    """Mark every day that has data dirty (e.g. after a bulk load that bypassed
    ingestion); returns the number of days marked."""
    with transaction.atomic():
        bounds = Datapoint.objects.filter(metric=metric).aggregate(
            lo=Min("timestamp"), hi=Max("timestamp")
        )
        if bounds["lo"] is None:
            return 0
        first, last = utc_day(bounds["lo"]), utc_day(bounds["hi"])
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        mark_dirty(metric.pk, days)
        return len(days)
