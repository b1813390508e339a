"""Rollups against a plain-Python reference, across day, week and month
boundaries and time zones; idempotency; dirty-day bookkeeping; key results."""

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics import services as metrics
from metrics.models import DirtyDay, KeyResultLink, MetricRollup

ZONES = [
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-8)),
    timezone(timedelta(hours=13)),
    timezone(timedelta(hours=-3, minutes=-30)),
]


def reference(points):
    """Plain Python: UTC days, weeks from Monday, calendar months."""
    out = {}
    for period in ("day", "week", "month"):
        groups = defaultdict(list)
        for ts, value in points:
            day = ts.astimezone(UTC).date()
            if period == "week":
                start = day - timedelta(days=day.weekday())
            elif period == "month":
                start = day.replace(day=1)
            else:
                start = day
            groups[start].append((ts.astimezone(UTC), value))
        for start, members in groups.items():
            values = [v for _t, v in members]
            last_at, last = max(members)
            out[(period, start)] = {
                "total": math.fsum(values),
                "count": len(values),
                "minimum": min(values),
                "maximum": max(values),
                "last": last,
                "last_at": last_at,
            }
    return out


def stored(metric):
    return {
        (r.period, r.start): {
            "total": r.total,
            "count": r.count,
            "minimum": r.minimum,
            "maximum": r.maximum,
            "last": r.last,
            "last_at": r.last_at,
        }
        for r in MetricRollup.objects.filter(metric=metric)
    }


def assert_matches(metric, points):
    expected, actual = reference(points), stored(metric)
    assert set(actual) == set(expected)
    for key, want in expected.items():
        got = actual[key]
        assert got["count"] == want["count"], key
        assert got["total"] == pytest.approx(want["total"], rel=1e-9, abs=1e-9), key
        for name in ("minimum", "maximum", "last", "last_at"):
            assert got[name] == want[name], (key, name)


@pytest.fixture
def metric(product, pm):
    return metrics.create_metric(pm, product=product, name="Signups", aggregation="sum")


# Around a month end that is also a week boundary (2024-03-31 is a Sunday),
# a year end, and a leap day.
BASES = [datetime(2024, 3, 31, 12, tzinfo=UTC), datetime(2025, 12, 31, 20, tzinfo=UTC)]
BASES.append(datetime(2024, 2, 29, 1, tzinfo=UTC))

point = st.tuples(
    st.sampled_from(BASES),
    st.integers(min_value=-72 * 60, max_value=72 * 60),  # minutes around the base
    st.sampled_from(ZONES),
    st.one_of(
        st.integers(min_value=-1000, max_value=1000).map(float),
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    ),
)


def _rows(raw):
    rows, points = [], []
    for base, minutes, zone, value in raw:
        ts = (base + timedelta(minutes=minutes)).astimezone(zone)
        rows.append({"timestamp": ts.isoformat(), "value": value})
        points.append((ts, value))
    return rows, points


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches=st.lists(st.lists(point, min_size=1, max_size=25), min_size=1, max_size=3))
def test_rollups_equal_a_python_reference(metric, pm, batches):
    MetricRollup.objects.filter(metric=metric).delete()
    metric.datapoints.all().delete()
    DirtyDay.objects.filter(metric=metric).delete()
    seen = {}
    for raw in batches:
        rows, points = _rows(raw)
        metrics.ingest_datapoints(pm, metric=metric, rows=rows)
        for ts, value in points:  # duplicates (same instant and value) are stored once
            seen[(ts.astimezone(UTC), value)] = (ts, value)
        metrics.process_dirty(metric_id=metric.pk)  # incremental, batch after batch
    assert not DirtyDay.objects.filter(metric=metric).exists()
    assert_matches(metric, list(seen.values()))


def test_weeks_start_on_monday_and_months_on_the_first(metric, pm):
    # Sunday 2024-03-31 23:30 in UTC-8 is Monday 2024-04-01 07:30 UTC.
    rows = [
        {"timestamp": "2024-03-31T23:30:00-08:00", "value": 5},
        {"timestamp": "2024-03-31T10:00:00Z", "value": 2},
    ]
    metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    metrics.process_dirty()
    starts = {(r.period, r.start): r.total for r in MetricRollup.objects.filter(metric=metric)}
    assert starts == {
        ("day", date(2024, 4, 1)): 5,
        ("day", date(2024, 3, 31)): 2,
        ("week", date(2024, 4, 1)): 5,
        ("week", date(2024, 3, 25)): 2,
        ("month", date(2024, 4, 1)): 5,
        ("month", date(2024, 3, 1)): 2,
    }


def test_rerun_gives_identical_rows(metric, pm):
    rows = [
        {"timestamp": f"2025-01-{d:02d}T{h:02d}:00:00Z", "value": d * 1.1 + h}
        for d in range(1, 29)
        for h in (0, 7, 23)
    ]
    metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    metrics.process_dirty()
    first = sorted(MetricRollup.objects.filter(metric=metric).values_list())
    metrics.request_full_rollup(metric)
    assert metrics.process_dirty() == 1
    again = sorted(MetricRollup.objects.filter(metric=metric).values_list())
    assert first == again
    assert metrics.process_dirty() == 0  # nothing left to do


def test_only_touched_periods_are_marked(metric, pm):
    metrics.ingest_datapoints(
        pm,
        metric=metric,
        rows=[
            {"timestamp": "2025-05-01T01:00:00Z", "value": 1},
            {"timestamp": "2025-05-01T05:00:00+09:00", "value": 1},  # Apr 30 in UTC
        ],
    )
    assert set(DirtyDay.objects.filter(metric=metric).values_list("day", flat=True)) == {
        date(2025, 4, 30),
        date(2025, 5, 1),
    }


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [("sum", 60.0), ("count", 3.0), ("average", 20.0), ("last", 30.0)],
)
def test_key_result_follows_its_metric(product, pm, key_result, aggregation, expected):
    metric = metrics.create_metric(pm, product=product, name="M", aggregation=aggregation)
    KeyResultLink.objects.create(key_result=key_result, metric=metric, since=date(2025, 2, 1))
    metrics.ingest_datapoints(
        pm,
        metric=metric,
        rows=[
            {"timestamp": "2025-01-31T12:00:00Z", "value": 1000},  # before the period
            {"timestamp": "2025-02-01T00:00:00Z", "value": 10},
            {"timestamp": "2025-02-03T00:00:00Z", "value": 30},
            {"timestamp": "2025-02-02T00:00:00Z", "value": 20},
        ],
    )
    metrics.process_dirty()
    key_result.refresh_from_db()
    assert key_result.current_value == expected
    assert key_result.version == 2


def test_the_beat_sweep_finishes_rollups_whose_enqueue_was_lost(metric, pm, monkeypatch):
    from django.conf import settings

    from metrics import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["sweep-metric-rollups"]
    assert entry["task"] == tasks.sweep_metric_rollups.name
    monkeypatch.setattr(metrics.ingest, "_enqueue_rollup", lambda metric_id: None)  # broker down
    metrics.ingest_datapoints(pm, metric=metric, rows=[{"timestamp": "2026-01-01", "value": 2}])
    assert not MetricRollup.objects.exists()
    assert tasks.sweep_metric_rollups.delay().get() == 1
    assert MetricRollup.objects.filter(metric=metric).count() == 3
    assert tasks.rollup_metric.delay(metric.pk).get() == 0  # nothing left: idempotent
