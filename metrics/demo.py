"""Demo metrics of Acme Pay: six metrics with twelve months of daily data,
key results linked to three of them, and the effects of three launches.

The launches themselves (items shipped on these days, with hypotheses) are
seeded by backlog/launch_demo.py, which runs after the backlog demo and reads
LAUNCHES from here: metrics/ must not know about backlog items. The demo
objectives and key results come from products/demo.py, which runs first
(seed_demo calls each app's demo in INSTALLED_APPS order)."""

import math
import random
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

from products.models import KeyResult, Product

from . import services
from .models import KeyResultLink, Metric

DAYS = 365
# metric name -> (days before today the effect starts, relative change)
# The matching backlog items and hypotheses are in backlog/launch_demo.py.
LAUNCHES = {
    "checkout": 70,  # Save cards: conversion +6 %, a clear win
    "declines": 42,  # Smart retries: +4 % where +40 % was promised
    "crossborder": 30,  # Currency display: +5 % inside ±9 % daily noise
}
# A noise sample in which the real +5 % effect of the currency display stays
# statistically ambiguous over its two-week window (the review says so).
SEED_SUFFIX = {"crossborder": "-v6"}

METRICS = [
    # key, name, unit, aggregation, direction, target, description
    (
        "checkout",
        "Checkout conversion",
        "%",
        "average",
        "increase",
        85,
        "Share of checkout sessions that end in a successful payment (daily average).",
    ),
    (
        "declines",
        "Declines recovered",
        "%",
        "average",
        "increase",
        30,
        "Share of soft-declined payments that succeed on a retry.",
    ),
    (
        "crossborder",
        "Cross-border conversion",
        "%",
        "average",
        "increase",
        None,
        "Checkout conversion of shoppers paying in a foreign currency. Small samples: noisy.",
    ),
    (
        "saved_cards",
        "Saved-card checkouts",
        "checkouts",
        "sum",
        "increase",
        None,
        "Checkouts paid with a saved card: adoption of *Save cards for returning shoppers*.",
    ),
    (
        "eu_merchants",
        "EU merchants live",
        "merchants",
        "last",
        "increase",
        150,
        "Merchants processing EU payments (a running count; the latest value counts).",
    ),
    (
        "volume",
        "Payment volume",
        "k€",
        "sum",
        "increase",
        None,
        "Value of successful payments per day.",
    ),
]

# key result name -> (metric key, period start in days before today or None)
KR_LINKS = {
    "Checkout conversion": ("checkout", 28),
    "Payment declines recovered": ("declines", 28),
    "EU merchants live": ("eu_merchants", None),
}


def _value(key: str, ago: int, rng: random.Random) -> float:
    """The demo value of a metric ``ago`` days before today."""
    weekday_factor = 1.0
    t = DAYS - ago  # days since the series began
    if key == "checkout":
        base = 73.0 + 0.004 * t + rng.gauss(0, 0.8)
        if ago <= LAUNCHES["checkout"]:
            ramp = min(1.0, (LAUNCHES["checkout"] - ago + 1) / 3)
            base *= 1 + 0.06 * ramp
        return round(base, 2)
    if key == "declines":
        base = 12.0 + rng.gauss(0, 0.5)
        if ago <= LAUNCHES["declines"]:
            base *= 1.04
        return round(base, 2)
    if key == "crossborder":
        base = 58.0 + rng.gauss(0, 5.0)
        if ago <= LAUNCHES["crossborder"]:
            base *= 1.05
        return round(base, 2)
    if key == "saved_cards":
        since = LAUNCHES["checkout"] - ago
        if since < 0:
            return 0.0
        return float(round(900 * (1 - math.exp(-since / 12)) + rng.gauss(0, 25)))
    if key == "eu_merchants":
        # Slow start, faster since the EU push began ~100 days ago.
        return float(max(0, int(0.02 * t + max(0, 100 - ago) * 0.32)))
    if key == "volume":
        day = (timezone.now() - timedelta(days=ago)).weekday()
        weekday_factor = 0.6 if day >= 5 else 1.0
        return round((900 + 1.2 * t) * weekday_factor * (1 + rng.gauss(0, 0.05)), 1)
    raise KeyError(key)


def seed(*, workspace, users) -> bool:
    """Create the demo metrics of Acme Pay with a year of daily data, link key
    results, and roll everything up. Returns True when something was created."""
    product = Product.objects.filter(workspace=workspace, key="PAY").first()
    if product is None or Metric.objects.filter(product=product).exists():
        return False
    owner = users["demo"]
    today = timezone.now().astimezone(UTC).date()
    created = {}
    for key, name, unit, aggregation, direction, target, description in METRICS:
        metric = services.create_metric(
            owner,
            product=product,
            name=name,
            unit=unit,
            aggregation=aggregation,
            direction=direction,
            target=target,
            description=description,
        )
        created[key] = metric
        rng = random.Random(f"pmhub-demo-metric-{key}{SEED_SUFFIX.get(key, '')}")
        rows = []
        for ago in range(DAYS, 0, -1):
            day = today - timedelta(days=ago)
            ts = datetime.combine(day, time(12, 0), tzinfo=UTC)
            rows.append(
                {
                    "timestamp": ts.isoformat(),
                    "value": _value(key, ago, rng),
                    "dedupe_key": f"demo-{key}-{day.isoformat()}",
                }
            )
        services.ingest_datapoints(owner, metric=metric, rows=rows)
    # Linked as data (as a bulk load would): the rollup below sets their values.
    for kr in KeyResult.objects.filter(objective__product=product, name__in=list(KR_LINKS)):
        key, since = KR_LINKS[kr.name]
        KeyResultLink.objects.create(
            key_result=kr,
            metric=created[key],
            since=None if since is None else today - timedelta(days=since),
        )
    # Roll up now rather than after the seed's transaction commits, so the
    # demo is complete even where on-commit tasks do not run.
    services.process_dirty()
    return True
