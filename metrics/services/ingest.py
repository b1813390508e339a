"""Datapoint ingestion (API batches and CSV files).

- Every period is a UTC period: a datapoint is stored with its instant; a
  timestamp sent with an offset (``+05:30``) lands in the UTC day it falls
  on, a timestamp without one is taken as UTC.
- Re-sent rows are skipped (``Datapoint`` identity, ``ON CONFLICT DO
  NOTHING`` on PostgreSQL, ``INSERT OR IGNORE`` on SQLite), so retrying a
  batch changes nothing.
- Ingestion marks the touched UTC days dirty (``DirtyDay``) in the same
  transaction as the datapoints and enqueues the rollup on commit; a beat job
  sweeps whatever was missed (metrics.services.rollups).
"""

from __future__ import annotations

import csv
import io
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from pmhub.accounts.services import require_editor
from pmhub.csvimport import MAX_BYTES, read_csv

from ..models import Datapoint, DirtyDay, Metric
from ..periods import utc_day

log = logging.getLogger(__name__)

MAX_BATCH = 10_000
MAX_CSV_ROWS = 100_000
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
FUTURE_SKEW = timedelta(minutes=5)


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
    # A datapoint records something that happened: none is dated later than
    # now (five minutes of clock skew allowed). A date without a time means
    # midnight UTC, so today's date is accepted and tomorrow's is not.
    horizon = timezone.now() + FUTURE_SKEW
    for offset, row in enumerate(rows):
        fast = _parse_plain(row)
        if fast is not None and fast[0] <= horizon:
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
        if "timestamp" not in row_errors and parsed[0] > horizon:
            row_errors["timestamp"] = [
                f"This timestamp is in the future (it is now {timezone.now():%Y-%m-%d %H:%M} UTC)."
            ]
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
    from ..tasks import rollup_metric

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
