"""Screen-shaped reads of metrics: rollup rows for the API, chart series and
chart JSON for the pages, launch markers, the key results a metric drives.
Each reads with a constant number of queries however many metrics or rows."""

from datetime import UTC, date, timedelta

from django.db.models import F, Max
from django.utils import timezone

from products.models import KeyResult

from .models import Aggregation, ChartMarker, Metric, MetricRollup, Period
from .periods import period_end, period_start

# How many periods a chart shows, most recent last.
CHART_SPAN = {Period.DAY: 180, Period.WEEK: 78, Period.MONTH: 36}


def rollups(metric: Metric, period: str, *, first: date | None = None, last: date | None = None):
    """Rollup rows of a period kind whose start lies in [first, last], oldest first."""
    qs = MetricRollup.objects.filter(metric=metric, period=period)
    if first is not None:
        qs = qs.filter(start__gte=first)
    if last is not None:
        qs = qs.filter(start__lte=last)
    return qs.order_by("start", "id")


def markers_for(metric_ids) -> dict[int, list[dict]]:
    """The markers on each metric's charts, oldest first, as
    ``{metric_id: [{"date", "label", "url"}]}`` (stored by
    services.replace_markers; today: the launches backlog/ hands over)."""
    out: dict[int, list[dict]] = {}
    rows = ChartMarker.objects.filter(metric_id__in=list(metric_ids)).order_by("day", "id")
    for metric_id, day, label, url in rows.values_list("metric_id", "day", "label", "url"):
        out.setdefault(metric_id, []).append({"date": day, "label": label, "url": url})
    return out


def followers(metric_ids) -> dict[int, list[KeyResult]]:
    """The key results that follow each metric (with their objective and the
    period start as ``follow_since``), in key result order."""
    out: dict[int, list[KeyResult]] = {pk: [] for pk in metric_ids}
    rows = (
        KeyResult.objects.filter(metric_link__metric_id__in=list(metric_ids))
        .select_related("objective")
        .annotate(followed=F("metric_link__metric_id"), follow_since=F("metric_link__since"))
    )
    for kr in rows:
        out[kr.followed].append(kr)
    return out


def series(metric_list: list[Metric], period: str) -> dict[int, list[dict]]:
    """Chart series of several metrics in two queries: the window ends at the
    latest rollup of any of them, so historical data still shows."""
    if not metric_list:
        return {}
    ids = [m.pk for m in metric_list]
    latest = MetricRollup.objects.filter(metric_id__in=ids, period=period).aggregate(
        m=Max("start")
    )["m"]
    out: dict[int, list[dict]] = {pk: [] for pk in ids}
    if latest is None:
        return out
    span = CHART_SPAN[period]
    days = {Period.DAY: span, Period.WEEK: span * 7, Period.MONTH: span * 31}[period]
    by_id = {m.pk: m for m in metric_list}
    rows = (
        MetricRollup.objects.filter(
            metric_id__in=ids, period=period, start__gt=latest - timedelta(days=days)
        )
        .order_by("metric_id", "start")
        .values_list("metric_id", "start", "total", "count", "last")
    )
    today = timezone.now().astimezone(UTC).date()
    for metric_id, start, total, count, last in rows:
        value = by_id[metric_id].value_of(total=total, count=count, last=last)
        partial = is_partial(period, start, today=today)
        out[metric_id].append({"start": start, "value": value, "partial": partial})
    return out


def chart(metric: Metric, points: list[dict], markers: list[dict], period: str) -> dict:
    """The JSON a chart reads (json_script): labels, values, target, markers
    placed on the period that contains each one."""
    labels = [p["start"].isoformat() for p in points]
    starts = [p["start"] for p in points]
    placed = []
    for marker in markers:
        start = period_start(period, marker["date"])
        if starts and starts[0] <= start <= starts[-1]:
            placed.append(
                {
                    "label": start.isoformat(),
                    "text": marker["label"],
                    "url": marker.get("url", ""),
                }
            )
    values = [None if p["value"] is None else round(p["value"], 4) for p in points]
    partial = [p.get("partial", False) for p in points]
    lines = [{"label": metric.name, "values": values, "role": "main", "partial": partial}]
    if metric.target is not None and labels:
        targets = [target_for(metric, period, start) for start in starts]
        label = f"Target {metric.target:g}"
        if period != Period.DAY and summed(metric):
            label += f" a day ({targets[-1]:g} this {period})"
        lines.append({"label": label, "values": targets, "role": "target"})
    return {
        "unit": metric.unit,
        "period": period,
        "labels": labels,
        "series": lines,
        "markers": placed,
    }


def summed(metric: Metric) -> bool:
    """Whether a period's value adds up its days (so its target does too)."""
    return metric.aggregation in (Aggregation.SUM, Aggregation.COUNT)


def target_for(metric: Metric, period: str, start) -> float:
    """The target of one period: a metric's target is per day, so a week of a
    summed metric has seven times it and a month as many times as its days;
    an average or last value keeps the daily target."""
    if period == Period.DAY or not summed(metric):
        return metric.target
    return round(metric.target * (period_end(period, start) - start).days, 4)


def is_partial(period: str, start, *, today=None) -> bool:
    """Whether the period has not ended yet (today, in UTC, lies in it): its
    value is so far, not a drop."""
    today = today or timezone.now().astimezone(UTC).date()
    return start <= today < period_end(period, start)


def latest(points: list[dict]):
    """The most recent point with a value, or None."""
    for p in reversed(points):
        if p["value"] is not None:
            return p
    return None
