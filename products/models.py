from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from pmhub.accounts.models import Workspace
from pmhub.querysets import WorkspaceScopedQuerySet
from pmhub.versioning import Versioned

product_key_validator = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,9}$",
    "Use 2–10 capital letters or digits, starting with a letter (e.g. PAY).",
)


class Stage(models.TextChoices):
    RESEARCH = "research", "Research"
    PLANNING = "planning", "Planning"
    DEVELOPMENT = "development", "Development"
    LAUNCH = "launch", "Launch"
    SUPPORT = "support", "Support"
    OPTIMIZATION = "optimization", "Optimization"


class ProductQuerySet(WorkspaceScopedQuerySet):
    def for_home(self):
        """Products with the counts the workspace home shows."""
        return self.annotate(
            objective_count=models.Count("objectives", distinct=True),
        ).order_by("name", "id")

    def for_api(self):
        return self.select_related("workspace")


class Product(Versioned):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=120)
    key = models.CharField(max_length=10, validators=[product_key_validator])
    description = models.TextField(blank=True, help_text="Markdown")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.PLANNING)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "key"], name="product_key_unique_in_workspace"
            ),
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="product_stage_valid"),
        ]

    def __str__(self):
        return f"{self.name} ({self.key})"


VISION_FIELDS = ("statement", "target_customers", "problem", "value_proposition", "differentiation")


class Vision(Versioned):
    """The product's current vision; earlier versions live in VisionVersion."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="vision")
    statement = models.TextField(blank=True, help_text="Markdown")
    target_customers = models.TextField(blank=True, help_text="Markdown")
    problem = models.TextField("customer problem", blank=True, help_text="Markdown")
    value_proposition = models.TextField(blank=True, help_text="Markdown")
    differentiation = models.TextField(blank=True, help_text="Markdown")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self):
        return f"Vision of {self.product}"

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f).strip() for f in VISION_FIELDS)


class VisionVersion(models.Model):
    """A snapshot of a vision as it was before an edit replaced it."""

    vision = models.ForeignKey(Vision, on_delete=models.CASCADE, related_name="history")
    version = models.PositiveIntegerField()
    statement = models.TextField(blank=True)
    target_customers = models.TextField(blank=True)
    problem = models.TextField(blank=True)
    value_proposition = models.TextField(blank=True)
    differentiation = models.TextField(blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["vision", "version"], name="vision_version_unique"),
        ]

    def __str__(self):
        return f"{self.vision} v{self.version}"


class ObjectiveStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"
    ACHIEVED = "achieved", "Achieved"
    MISSED = "missed", "Missed"


class ProductChildQuerySet(WorkspaceScopedQuerySet):
    """Rows of one product (``product`` field)."""

    workspace_path = "product__workspace"

    def for_api(self):
        return self.select_related("product")


class ObjectiveQuerySet(ProductChildQuerySet):
    def for_strategy(self):
        """Objectives with owners and key results, for the strategy page."""
        return (
            self.select_related("owner")
            .prefetch_related("key_results__metric")
            .order_by("position", "id")
        )

    def for_api(self):
        return self.select_related("product", "owner")


class Objective(Versioned):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="objectives")
    title = models.CharField(max_length=200)
    why = models.TextField(blank=True, help_text="Markdown: why this objective matters")
    period = models.CharField(
        max_length=40, blank=True, help_text="Time period, e.g. 2027 Q1 or H1 2027"
    )
    status = models.CharField(
        max_length=20, choices=ObjectiveStatus.choices, default=ObjectiveStatus.NOT_STARTED
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)

    objects = ObjectiveQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ObjectiveStatus.values), name="objective_status_valid"
            ),
        ]

    def __str__(self):
        return self.title

    def progress(self) -> float | None:
        """Average progress of the key results (uses prefetched key results)."""
        values = [kr.progress for kr in self.key_results.all() if kr.progress is not None]
        if not values:
            return None
        return sum(values) / len(values)


class Direction(models.TextChoices):
    INCREASE = "increase", "Increase"
    DECREASE = "decrease", "Decrease"


class KeyResultQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "objective__product__workspace"

    def for_api(self):
        return self.select_related("objective__product")


class KeyResult(Versioned):
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="key_results")
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=30, blank=True, help_text="e.g. %, users, ms, €")
    start_value = models.FloatField(default=0)
    target_value = models.FloatField()
    current_value = models.FloatField(null=True, blank=True)
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.INCREASE
    )
    # A key result linked to a metric takes its current value from the metric
    # after every rollup (see products.metrics.refresh_key_results).
    metric = models.ForeignKey(
        "Metric",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="key_results",
        help_text="Current value follows this metric after each rollup",
    )
    metric_since = models.DateField(
        null=True,
        blank=True,
        help_text="Start of the key result's period (UTC day); empty means all data",
    )

    objects = KeyResultQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="key_result_direction_valid"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.target_value is None or self.start_value is None:
            return
        if self.target_value == self.start_value:
            raise ValidationError({"target_value": "The target must differ from the start value."})
        increasing = self.target_value > self.start_value
        if increasing != (self.direction == Direction.INCREASE):
            raise ValidationError(
                {
                    "direction": (
                        "The direction must match start → target "
                        f"({'increase' if increasing else 'decrease'} here)."
                    )
                }
            )

    @property
    def progress(self) -> float | None:
        """Share of the way from start to target, clamped to 0..1."""
        if self.current_value is None or self.target_value == self.start_value:
            return None
        share = (self.current_value - self.start_value) / (self.target_value - self.start_value)
        return max(0.0, min(1.0, share))

    @property
    def progress_percent(self) -> int | None:
        p = self.progress
        return None if p is None else round(p * 100)


class ThreatLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Competitor(Versioned):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="competitors")
    name = models.CharField(max_length=120)
    website = models.URLField(blank=True)
    positioning = models.TextField(blank=True, help_text="Markdown")
    strengths = models.TextField(blank=True, help_text="Markdown")
    weaknesses = models.TextField(blank=True, help_text="Markdown")
    notes = models.TextField(blank=True, help_text="Markdown")
    threat_level = models.CharField(
        max_length=10, choices=ThreatLevel.choices, default=ThreatLevel.MEDIUM
    )

    objects = ProductChildQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(threat_level__in=ThreatLevel.values), name="competitor_threat_valid"
            ),
        ]

    def __str__(self):
        return self.name


class Persona(Versioned):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="personas")
    name = models.CharField(max_length=120)
    role = models.CharField(max_length=120, blank=True)
    goals = models.TextField(blank=True, help_text="Markdown")
    pains = models.TextField(blank=True, help_text="Markdown")

    objects = ProductChildQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


# --- post-launch metrics ---------------------------------------------------------------------


class Aggregation(models.TextChoices):
    SUM = "sum", "Sum"
    COUNT = "count", "Count"
    AVERAGE = "average", "Average"
    LAST = "last", "Last value"


class Period(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"


class MetricQuerySet(ProductChildQuerySet):
    pass


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

    objects = MetricQuerySet.as_manager()

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
