"""Chart data of week and month rollups: the daily target scaled to the
period for summed metrics, and the running period marked partial (it looked
like a crash)."""

import datetime as dt

import pytest

from metrics import reads
from metrics.models import Aggregation, Metric, Period


def _metric(aggregation, target=50.0):
    return Metric(pk=1, name="Signups", aggregation=aggregation, target=target)


@pytest.mark.parametrize(
    ("aggregation", "period", "start", "target"),
    [
        (Aggregation.SUM, Period.DAY, dt.date(2026, 2, 2), 50),
        (Aggregation.SUM, Period.WEEK, dt.date(2026, 2, 2), 350),
        (Aggregation.SUM, Period.MONTH, dt.date(2026, 2, 1), 1400),  # 28 days
        (Aggregation.COUNT, Period.MONTH, dt.date(2026, 3, 1), 1550),  # 31 days
        (Aggregation.AVERAGE, Period.MONTH, dt.date(2026, 3, 1), 50),
        (Aggregation.LAST, Period.WEEK, dt.date(2026, 3, 2), 50),
    ],
)
def test_the_target_follows_the_period(aggregation, period, start, target):
    assert reads.target_for(_metric(aggregation), period, start) == target


def test_the_running_period_is_partial():
    today = dt.date(2026, 12, 9)  # a Wednesday
    assert reads.is_partial(Period.WEEK, dt.date(2026, 12, 7), today=today)
    assert not reads.is_partial(Period.WEEK, dt.date(2026, 11, 30), today=today)
    assert reads.is_partial(Period.MONTH, dt.date(2026, 12, 1), today=today)
    assert not reads.is_partial(Period.DAY, dt.date(2026, 12, 8), today=today)


def test_chart_json_carries_scaled_targets_and_partial_flags():
    points = [
        {"start": dt.date(2026, 1, 1), "value": 1000.0, "partial": False},
        {"start": dt.date(2026, 2, 1), "value": 300.0, "partial": True},
    ]
    data = reads.chart(_metric(Aggregation.SUM), points, [], Period.MONTH)
    main, target = data["series"]
    assert main["partial"] == [False, True]
    assert target["values"] == [1550, 1400]
    assert target["label"] == "Target 50 a day (1400 this month)"
