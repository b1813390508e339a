"""Services for post-launch metrics: metric CRUD, datapoint ingestion (API and
CSV), incremental rollups and key results that follow their metric.

Rollup semantics (also in the README):

- Every period is a UTC period: a day, a week starting Monday, or a calendar
  month. Datapoints are stored with their instant; a timestamp sent with an
  offset (``+05:30``) lands in the UTC day it falls on, a timestamp without one
  is taken as UTC.
- A rollup row stores total (sum), count, minimum, maximum, and the last value
  with its timestamp. The metric's aggregation picks the value shown: sum →
  total, count → count, average → total / count, last value → last. Weeks and
  months are combined from day rows, so averages and last values stay exact.
- The last value is the value at the latest timestamp; several datapoints at
  that very instant resolve to the largest value, so the result never depends
  on insertion order.
- Ingestion marks the touched UTC days dirty (``DirtyDay``) in the same
  transaction as the datapoints and enqueues the rollup on commit; a beat job
  sweeps whatever was missed. The rollup locks the metric row (``FOR NO KEY
  UPDATE SKIP LOCKED``, so two workers never roll up the same metric at once),
  claims its dirty days (``FOR UPDATE SKIP LOCKED``: days a running ingestion
  is still marking stay for the next run), recomputes each affected day, week
  and month from scratch and upserts it, all in one transaction. A worker
  killed mid-way rolls back, leaving the dirty days for the rerun, which
  computes identical rows.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Min, Sum
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from pmhub.accounts.services import require_editor
from pmhub.csvimport import MAX_BYTES, read_csv
from pmhub.errors import VersionConflict
from pmhub.versioning import save_versioned

from .models import (
    Aggregation,
    Datapoint,
    DirtyDay,
    KeyResult,
    Metric,
    MetricRollup,
    Period,
    Product,
)

log = logging.getLogger(__name__)

MAX_BATCH = 10_000
MAX_CSV_ROWS = 100_000
METRIC_FIELDS = ("name", "unit", "aggregation", "direction", "description", "target")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# Dirty days closer than this are recomputed in one range scan (recomputing a
# clean day in the gap gives the row it already has).
MERGE_GAP_DAYS = 31


# --- periods ------------------------------------------------------------------------------------


def utc_day(ts: datetime) -> date:
    return ts.astimezone(UTC).date()


def week_start(day: date) -> date:
    """Weeks start on Monday (ISO 8601)."""
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def period_start(period: str, day: date) -> date:
    if period == Period.WEEK:
        return week_start(day)
    if period == Period.MONTH:
        return month_start(day)
    return day


def period_end(period: str, start: date) -> date:
    """The first day after the period that begins on ``start``."""
    if period == Period.WEEK:
        return start + timedelta(days=7)
    if period == Period.MONTH:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- metrics ------------------------------------------------------------------------------------


def _check_name(product, name: str, exclude_pk=None) -> str:
    name = (name or "").strip()
    qs = Metric.objects.filter(product=product, name__iexact=name)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if name and qs.exists():
        raise ValidationError({"name": f"{product.key} already has a metric named “{name}”."})
    return name


@transaction.atomic
def create_metric(
    actor,
    *,
    product: Product,
    name: str,
    unit: str = "",
    aggregation: str = Aggregation.SUM,
    direction: str = "increase",
    description: str = "",
    target: float | None = None,
) -> Metric:
    """Create a metric of a product."""
    require_editor(actor, product.workspace)
    metric = Metric(
        product=product,
        name=_check_name(product, name),
        unit=unit or "",
        aggregation=aggregation,
        direction=direction,
        description=description or "",
        target=target,
    )
    metric.full_clean()
    try:
        with transaction.atomic():
            metric.save()
    except IntegrityError as exc:  # a concurrent create took the name
        raise ValidationError({"name": "A metric with this name already exists."}) from exc
    return metric


@transaction.atomic
def update_metric(actor, *, metric: Metric, expected_version: int | None, fields: dict) -> Metric:
    """Save changed metric fields if the metric is still at ``expected_version``.
    Changing the aggregation changes the values of linked key results at once
    (rollup rows keep every statistic, so nothing is recomputed)."""
    require_editor(actor, metric.product.workspace)
    unknown = set(fields) - set(METRIC_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    if "name" in fields:
        fields["name"] = _check_name(metric.product, fields["name"], exclude_pk=metric.pk)
    try:
        with transaction.atomic():
            saved = save_versioned(metric, expected_version=expected_version, fields=fields)
    except IntegrityError as exc:  # a concurrent rename took the name (as in create_metric)
        raise ValidationError({"name": "A metric with this name already exists."}) from exc
    if "aggregation" in fields:
        refresh_key_results(saved)
    return saved


@transaction.atomic
def delete_metric(actor, *, metric: Metric, expected_version: int | None = None) -> None:
    """Delete a metric with its datapoints and rollups; linked key results keep
    their last value and become manual again."""
    require_editor(actor, metric.product.workspace)
    qs = Metric.objects.filter(pk=metric.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    victim = qs.select_for_update().first()
    if victim is None:
        raise VersionConflict(current=Metric.objects.filter(pk=metric.pk).first())
    # Bulk deletes in SQL: the collector would load every datapoint first.
    Datapoint.objects.filter(metric=victim)._raw_delete(Datapoint.objects.db)
    MetricRollup.objects.filter(metric=victim)._raw_delete(MetricRollup.objects.db)
    DirtyDay.objects.filter(metric=victim)._raw_delete(DirtyDay.objects.db)
    victim.delete()


# --- ingestion ----------------------------------------------------------------------------------


@dataclass
class IngestResult:
    received: int = 0
    created: int = 0
    duplicates: int = 0
    errors: list[dict] = field(default_factory=list)
    applied: bool = True

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def as_dict(self) -> dict:
        return {
            "received": self.received,
            "created": self.created,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "applied": self.applied,
            "errors": self.errors,
        }


def parse_timestamp(raw) -> datetime:
    """An ISO 8601 timestamp (or a date, meaning midnight UTC); without an
    offset it is UTC."""
    if isinstance(raw, datetime):
        ts = raw
    elif isinstance(raw, str) and raw.strip():
        text = raw.strip()
        try:
            ts = parse_datetime(text)
            if ts is None:
                day = parse_date(text)
                ts = None if day is None else datetime(day.year, day.month, day.day)
        except ValueError:
            ts = None
        if ts is None:
            raise ValidationError(
                "Enter an ISO 8601 timestamp, e.g. 2026-03-01T12:00:00Z.", code="invalid"
            )
    else:
        raise ValidationError("This field is required.", code="required")
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    try:
        ts = ts.astimezone(UTC)
    except OverflowError:
        ts = None
    if ts is None or not EARLIEST <= ts < LATEST:
        raise ValidationError("Timestamps must fall between 1970 and 2199.", code="range")
    return ts


def parse_value(raw) -> float:
    if isinstance(raw, bool) or raw is None or raw == "":
        raise ValidationError("Enter a number.", code="required")
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip().replace(",", "")) if raw.strip() else math.nan
        except ValueError:
            raise ValidationError("Enter a number.", code="invalid") from None
    else:
        raise ValidationError("Enter a number.", code="invalid")
    if not math.isfinite(value):
        raise ValidationError("Enter a finite number.", code="invalid")
    return value


def parse_key(raw) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise ValidationError("Enter a string of at most 100 characters.", code="invalid")
    key = str(raw)
    if len(key) > 100:
        raise ValidationError("Enter a string of at most 100 characters.", code="max_length")
    if "\x00" in key:
        raise ValidationError("Null characters are not allowed.", code="null_characters")
    return key


def _parse_plain(row) -> tuple | None:
    """The common case without exceptions: an ISO string, a number, an
    optional short key. Anything else (or anything invalid) returns None and
    takes the careful path, which gives the same result or the error."""
    if type(row) is not dict:
        return None
    raw_ts, value, key = row.get("timestamp"), row.get("value"), row.get("dedupe_key")
    if type(raw_ts) is not str or type(value) not in (int, float):
        return None
    if key is None:
        key = ""
    elif type(key) is not str or len(key) > 100 or "\x00" in key:
        return None
    try:
        ts = datetime.fromisoformat(raw_ts)
        ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    value = float(value)
    if not (EARLIEST <= ts < LATEST and math.isfinite(value)):
        return None
    return ts, value, key


def parse_rows(rows, *, first_index: int = 0) -> tuple[list[tuple], list[dict]]:
    """Validate raw rows. Returns (good rows as (timestamp, value, key), errors
    as ``{"index": i, "errors": {field: [messages]}}``)."""
    good, errors = [], []
    for offset, row in enumerate(rows):
        fast = _parse_plain(row)
        if fast is not None:
            good.append(fast)
            continue
        index = first_index + offset
        if not isinstance(row, dict):
            errors.append({"index": index, "errors": {"non_field_errors": ["Expected an object."]}})
            continue
        row_errors, parsed = {}, []
        for name, parse in (
            ("timestamp", parse_timestamp),
            ("value", parse_value),
            ("dedupe_key", parse_key),
        ):
            try:
                parsed.append(parse(row.get(name)))
            except ValidationError as exc:
                row_errors[name] = list(exc.messages)
        if row_errors:
            errors.append({"index": index, "errors": row_errors})
        else:
            good.append(tuple(parsed))
    return good, errors


def _insert(metric_id: int, rows: list[tuple]) -> int:
    """Insert rows, skipping ones already stored; returns how many were new."""
    if not rows:
        return 0
    table = Datapoint._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH ins AS (INSERT INTO {table} (metric_id, timestamp, value, dedupe_key) "
                "SELECT %s, t, v, k FROM unnest(%s::timestamptz[], %s::float8[], %s::text[]) "
                "AS r(t, v, k) ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM ins",
                [metric_id, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
            )
            return cursor.fetchone()[0]
        adapt = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            f"INSERT OR IGNORE INTO {table} (metric_id, timestamp, value, dedupe_key) "
            "VALUES (%s, %s, %s, %s)",
            [(metric_id, adapt(ts), value, key) for ts, value, key in rows],
        )
        return max(cursor.rowcount, 0)


def mark_dirty(metric_id: int, days) -> None:
    """Mark UTC days of a metric for recomputation, in the caller's transaction.
    An upsert (not DO NOTHING), so a day that a running rollup has claimed is
    waited for and marked again after it: the rollup may not see our rows."""
    now = timezone.now()
    DirtyDay.objects.bulk_create(
        [DirtyDay(metric_id=metric_id, day=d, marked_at=now) for d in sorted(set(days))],
        update_conflicts=True,
        unique_fields=["metric", "day"],
        update_fields=["marked_at"],
        batch_size=2000,
    )
    transaction.on_commit(lambda: _enqueue_rollup(metric_id))


def _enqueue_rollup(metric_id: int) -> None:
    from .tasks import rollup_metric

    try:
        rollup_metric.delay(metric_id)
    except Exception:  # broker down: the periodic sweep finishes the work
        log.warning("Could not enqueue the rollup of metric %s", metric_id, exc_info=True)


@transaction.atomic
def ingest_datapoints(actor, *, metric: Metric, rows, all_or_nothing: bool = False) -> IngestResult:
    """Store up to MAX_BATCH datapoints. Re-sent rows are skipped (see
    Datapoint), so retrying a batch changes nothing. Invalid rows are reported
    by index and the rest are stored, unless ``all_or_nothing`` asks to store
    nothing when any row is invalid."""
    require_editor(actor, metric.product.workspace)
    if not isinstance(rows, list | tuple):
        raise ValidationError({"datapoints": "Expected a list of datapoints."})
    if len(rows) > MAX_BATCH:
        raise ValidationError(
            {"datapoints": f"At most {MAX_BATCH:,} datapoints per request ({len(rows):,} sent)."}
        )
    good, errors = parse_rows(rows)
    return _store(metric, good, errors, received=len(rows), all_or_nothing=all_or_nothing)


def _store(metric, good, errors, *, received: int, all_or_nothing: bool) -> IngestResult:
    result = IngestResult(received=received, errors=errors)
    if errors and all_or_nothing:
        result.applied = False
        return result
    created = 0
    for start in range(0, len(good), MAX_BATCH):
        created += _insert(metric.pk, good[start : start + MAX_BATCH])
    result.created = created
    result.duplicates = len(good) - created
    if created:
        mark_dirty(metric.pk, (utc_day(ts) for ts, _v, _k in good))
    return result


CSV_COLUMNS = ("timestamp", "value", "dedupe_key")


@transaction.atomic
def ingest_csv(actor, *, metric: Metric, file, all_or_nothing: bool = False) -> IngestResult:
    """Store datapoints from a CSV file with a header row naming ``timestamp``
    and ``value`` (``dedupe_key`` optional). Errors name the CSV line."""
    require_editor(actor, metric.product.workspace)
    # One byte over the limit is enough for read_csv to refuse a big file
    # without holding all of it in memory.
    _headers, text = read_csv(file.read(MAX_BYTES + 1))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("timestamp", "value") if c not in header]
    if missing:
        raise ValidationError(
            {
                "file": "The header row must name timestamp and value "
                f"(missing: {', '.join(missing)})."
            }
        )
    reader.fieldnames = header
    rows, lines = [], []
    try:
        for row in reader:
            if len(rows) >= MAX_CSV_ROWS:
                raise ValidationError({"file": f"At most {MAX_CSV_ROWS:,} rows per file."})
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            rows.append({c: (row.get(c) or "").strip() or None for c in CSV_COLUMNS})
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise ValidationError({"file": f"Line {reader.line_num}: {exc}"}) from None
    if not rows:
        raise ValidationError({"file": "The file has no datapoints."})
    good, errors = parse_rows(rows)
    for error in errors:
        error["line"] = lines[error["index"]]
    return _store(metric, good, errors, received=len(rows), all_or_nothing=all_or_nothing)


# --- rollups ------------------------------------------------------------------------------------


@dataclass
class Stats:
    total: float
    count: int
    minimum: float
    maximum: float
    last: float
    last_at: datetime

    def key(self):
        return (self.last_at, self.last)


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


def _test_hold() -> None:
    """Integration-test hook: with PMHUB_TEST_ROLLUP_HOLD_FILE set, announce
    that a rollup is mid-transaction by creating that file, then wait there so
    the test can kill the worker at this point. Unset in every real deployment."""
    path = os.environ.get("PMHUB_TEST_ROLLUP_HOLD_FILE")
    if not path:
        return
    with open(path, "w") as marker:
        marker.write(str(os.getpid()))
    time.sleep(float(os.environ.get("PMHUB_TEST_ROLLUP_HOLD_SECONDS", "120")))


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
            _test_hold()
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


# --- key results --------------------------------------------------------------------------------


def metric_value_since(metric: Metric, since: date | None) -> float | None:
    """The metric's value over [since, now] (all data when ``since`` is None)."""
    days = MetricRollup.objects.filter(metric=metric, period=Period.DAY)
    if since is not None:
        days = days.filter(start__gte=since)
    agg = days.aggregate(total=Sum("total"), count=Sum("count"))
    if not agg["count"]:
        return None
    last = None
    if metric.aggregation == Aggregation.LAST:
        last = days.order_by("-start").values_list("last", flat=True).first()
    return metric.value_of(total=agg["total"], count=agg["count"], last=last)


def refresh_key_results(metric: Metric) -> int:
    """Set the current value of key results linked to ``metric``: the metric's
    aggregation over the key result's period (from ``metric_since``, or all
    data). Writes (and bumps the version) only where the value changed."""
    changed = 0
    cache: dict = {}
    for kr in KeyResult.objects.filter(metric=metric).only(
        "id", "current_value", "metric_since", "version"
    ):
        if kr.metric_since not in cache:
            cache[kr.metric_since] = metric_value_since(metric, kr.metric_since)
        changed += follow_metric(kr, metric=metric, value=cache[kr.metric_since])
    return changed


_UNSET = object()


def follow_metric(kr: KeyResult, *, metric: Metric | None = None, value=_UNSET) -> int:
    """The one rule for a key result linked to a metric: its current value is
    the metric's value over its period (empty when the period has no data).
    Writes, bumping the version, only when that changes; returns 0 or 1."""
    if value is _UNSET:
        value = metric_value_since(metric or kr.metric, kr.metric_since)
    if value is not None:
        value = round(value, 6)
    if value == kr.current_value:
        return 0
    kr.current_value = value
    return KeyResult.objects.filter(pk=kr.pk).update(
        current_value=value, version=F("version") + 1, updated_at=timezone.now()
    )


# --- reads --------------------------------------------------------------------------------------


def rollups(metric: Metric, period: str, *, first: date | None = None, last: date | None = None):
    """Rollup rows of a period kind whose start lies in [first, last], oldest first."""
    qs = MetricRollup.objects.filter(metric=metric, period=period)
    if first is not None:
        qs = qs.filter(start__gte=first)
    if last is not None:
        qs = qs.filter(start__lte=last)
    return qs.order_by("start", "id")


# --- launch markers (contributed by downstream apps) ---------------------------------------------

_MARKER_SOURCES: list = []


def register_marker_source(fn) -> None:
    """``fn(metric_ids) -> {metric_id: [{"date", "label", "url"?}]}``; backlog/
    registers the launches of items whose hypothesis names a metric."""
    if fn not in _MARKER_SOURCES:
        _MARKER_SOURCES.append(fn)


def markers_for(metric_ids) -> dict[int, list[dict]]:
    merged: dict[int, list[dict]] = defaultdict(list)
    for source in _MARKER_SOURCES:
        for metric_id, markers in source(list(metric_ids)).items():
            merged[metric_id].extend(markers)
    return merged
