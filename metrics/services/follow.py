"""Key results that follow a metric (``KeyResultLink``).

A linked key result's current value is the metric's value over the key
result's period — its aggregation from ``since`` (or over all data) —
recomputed after every rollup of the metric and whenever the link or the
key result's value is edited, so the two paths agree. The value is handed
to products/ through ``products.services.set_key_result_value``: this app
never writes products' tables itself.

The link is edited on the key result's own form and API: products/ calls
``clean_link`` and ``save_link`` through the extension in
metrics/key_results.py, inside its key result services' transaction.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import F, Sum

from products import services as products_services
from products.models import KeyResult

from ..models import Aggregation, KeyResultLink, Metric, MetricRollup, Period

# Names the link's fields carry on the key result's form and API.
LINK_FIELDS = ("metric", "metric_since")
# A write naming one of these re-reads the followed metric's value.
FOLLOW_TRIGGERS = {"metric", "metric_since", "current_value"}


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
    """Set the current value of the key results that follow ``metric``: the
    metric's aggregation over each key result's period. Writes (and bumps the
    version) only where the value changed; returns how many changed."""
    changed = 0
    cache: dict = {}
    followers = (
        KeyResult.objects.filter(metric_link__metric=metric)
        .annotate(follow_since=F("metric_link__since"))
        .only("id", "current_value", "version")
    )
    for kr in followers:
        if kr.follow_since not in cache:
            cache[kr.follow_since] = metric_value_since(metric, kr.follow_since)
        changed += follow_metric(
            kr, metric=metric, since=kr.follow_since, value=cache[kr.follow_since]
        )
    return changed


_UNSET = object()


def follow_metric(kr: KeyResult, *, metric: Metric, since: date | None, value=_UNSET) -> int:
    """The one rule for a key result that follows a metric: its current value
    is the metric's value over its period (empty when the period has no
    data). Writes, bumping the version, only when that changes; returns 0 or 1."""
    if value is _UNSET:
        value = metric_value_since(metric, since)
    if value is not None:
        value = round(value, 6)
    return int(products_services.set_key_result_value(key_result=kr, value=value))


def clean_link(*, objective, values: dict) -> None:
    """A key result follows only a metric of its own product."""
    metric = values.get("metric")
    if metric is not None and metric.product_id != objective.product_id:
        raise ValidationError({"metric": "Pick a metric of this key result's product."})


def save_link(actor, *, key_result: KeyResult, values: dict, changed: set[str]) -> bool:
    """Store the link fields named in ``values`` (``metric``, ``metric_since``)
    and, when the key result follows a metric and the write touched the link
    or the current value, take the metric's value. Called by products' key
    result services (which checked ``actor`` may edit) in their transaction.
    Returns True when the key result row changed."""
    link = KeyResultLink.objects.filter(key_result=key_result).select_related("metric").first()
    if values:
        metric = values.get("metric", link.metric if link else None)
        since = values.get("metric_since", link.since if link else None)
        if metric is None and since is None:
            if link is not None:
                link.delete()
            link = None
        elif link is None:
            link = KeyResultLink.objects.create(key_result=key_result, metric=metric, since=since)
        else:
            link.metric, link.since = metric, since
            link.save(update_fields=["metric", "since"])
    if link is None or link.metric is None or not FOLLOW_TRIGGERS & changed:
        return False
    return bool(follow_metric(key_result, metric=link.metric, since=link.since))
