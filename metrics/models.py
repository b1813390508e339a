"""Post-launch metrics: a metric of a product, its datapoints, their rollups by
UTC day, week and month, the days waiting to be rolled up, the key results
that follow a metric, and the markers other apps put on its charts.

metrics/ sits between products/ and backlog/: it uses products' models (a
metric belongs to a product; a key result can follow a metric) and knows
nothing of backlog items. Launch markers arrive as data through
``metrics.services.replace_markers``.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from pmhub.versioning import Versioned
from products.models import Direction, KeyResult, Product, ProductChildQuerySet


class Aggregation(models.TextChoices):
    SUM = "sum", "Sum"
    COUNT = "count", "Count"
    AVERAGE = "average", "Average"
    LAST = "last", "Last value"


class Period(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"


class Metric(Versioned):
    """A product metric; values arrive as datapoints and are rolled up by day,
    week and month (UTC) into MetricRollup."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=120)
    unit = models.CharField(max_length=30, blank=True, help_text="e.g. %, users, ms, €")
    aggregation = models.CharField(
        max_length=10,
        choices=Aggregation.choices,
        default=Aggregation.SUM,
        help_text="How datapoints combine into a period's value",
    )
    direction = models.CharField(
        "good direction",
        max_length=10,
        choices=Direction.choices,
        default=Direction.INCREASE,
        help_text="Which way is good",
    )
    description = models.TextField(blank=True, help_text="Markdown")
    target = models.FloatField(null=True, blank=True, help_text="Drawn as a target line")

    objects = ProductChildQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="metric_name_unique"),
            models.CheckConstraint(
                condition=Q(aggregation__in=Aggregation.values), name="metric_aggregation_valid"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="metric_direction_valid"
            ),
        ]

    def __str__(self):
        return self.name

    def value_of(self, *, total, count, last):
        """A period's value under this metric's aggregation."""
        if not count:
            return None
        if self.aggregation == Aggregation.SUM:
            return total
        if self.aggregation == Aggregation.COUNT:
            return count
        if self.aggregation == Aggregation.AVERAGE:
            return total / count
        return last


class Datapoint(models.Model):
    """One measurement. Identity for de-duplication: ``(metric, dedupe_key)``
    when a key is given, else ``(metric, timestamp, value)``; re-sent rows are
    skipped by ``ON CONFLICT DO NOTHING``."""

    id = models.BigAutoField(primary_key=True)
    # db_index off: the (metric, timestamp, ...) unique index below serves lookups.
    metric = models.ForeignKey(
        Metric, on_delete=models.CASCADE, related_name="datapoints", db_index=False
    )
    timestamp = models.DateTimeField()
    value = models.FloatField()
    dedupe_key = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "timestamp", "value", "dedupe_key"],
                name="datapoint_identity_unique",
            ),
            models.UniqueConstraint(
                fields=["metric", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="datapoint_dedupe_key_unique",
            ),
        ]

    def __str__(self):
        return f"{self.metric_id} {self.timestamp:%Y-%m-%d %H:%M:%S} = {self.value}"


class MetricRollup(models.Model):
    """Aggregates of one metric over one UTC period (day, or week starting
    Monday, or calendar month). Recomputed from scratch for each dirty period
    and upserted, never incremented, so reruns give identical rows."""

    id = models.BigAutoField(primary_key=True)
    metric = models.ForeignKey(
        Metric, on_delete=models.CASCADE, related_name="rollups", db_index=False
    )
    period = models.CharField(max_length=5, choices=Period.choices)
    start = models.DateField(help_text="First UTC day of the period")
    total = models.FloatField(help_text="Sum of values")
    count = models.PositiveBigIntegerField()
    minimum = models.FloatField()
    maximum = models.FloatField()
    last = models.FloatField(help_text="Value at the latest timestamp (ties: the largest value)")
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["metric", "period", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "period", "start"], name="metric_rollup_unique"
            ),
            models.CheckConstraint(
                condition=Q(period__in=Period.values), name="metric_rollup_period_valid"
            ),
        ]

    def __str__(self):
        return f"{self.metric_id} {self.period} {self.start}"


class DirtyDay(models.Model):
    """A UTC day of a metric whose rollups must be recomputed. Written in the
    same transaction as the datapoints; claimed and deleted by the rollup."""

    id = models.BigAutoField(primary_key=True)
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["metric", "day"], name="dirty_day_unique"),
        ]

    def __str__(self):
        return f"{self.metric_id} {self.day}"


class KeyResultLink(models.Model):
    """The metric a key result follows: after every rollup of the metric, the
    key result's current value becomes the metric's value over the key
    result's period (from ``since``, or all data). The link lives here, on the
    downstream side, so products/ knows nothing of metrics; products.extensions
    is how the key result's form, API and strategy card show it.

    A link whose metric was deleted stays (metric empty, its ``since`` kept):
    the key result keeps its last value and is updated by hand again."""

    key_result = models.OneToOneField(
        KeyResult, on_delete=models.CASCADE, related_name="metric_link"
    )
    metric = models.ForeignKey(
        Metric,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="key_result_links",
        help_text="Current value follows this metric after each rollup",
    )
    since = models.DateField(
        null=True,
        blank=True,
        help_text="Start of the key result's period (UTC day); empty means all data",
    )

    def __str__(self):
        return f"{self.key_result_id} follows {self.metric_id}"


class ChartMarker(models.Model):
    """A dated marker on a metric's charts, handed over by a downstream app
    through ``services.replace_markers``: backlog/ marks the launch of each
    shipped item whose hypothesis names the metric. ``source`` is the writer's
    name for what the marker stands for (``"item:42"``), so it can replace all
    of its markers in one call when that thing changes."""

    id = models.BigAutoField(primary_key=True)
    metric = models.ForeignKey(
        Metric, on_delete=models.CASCADE, related_name="markers", db_index=False
    )
    source = models.CharField(max_length=100)
    day = models.DateField(help_text="UTC day the marker stands on")
    label = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["metric", "day", "id"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "source"], name="chart_marker_unique"),
        ]
        indexes = [models.Index(fields=["source"], name="chart_marker_source")]

    def __str__(self):
        return f"{self.metric_id} {self.day} {self.label}"
