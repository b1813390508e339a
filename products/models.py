from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from pmhub.accounts.models import Workspace
from pmhub.querysets import WorkspaceScopedQuerySet
from pmhub.versioning import Versioned

from . import extensions

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
        return self.select_related("owner").with_key_results().order_by("position", "id")

    def with_key_results(self):
        """Key results prefetched in one query, joined with what the
        extensions show of them (products.extensions)."""
        key_results = KeyResult.objects.all()
        if lookups := extensions.related_lookups():
            key_results = key_results.select_related(*lookups)
        return self.prefetch_related(models.Prefetch("key_results", queryset=key_results))

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
        """With what the extensions' fields read (products.extensions)."""
        return self.select_related("objective__product", *extensions.related_lookups())


class KeyResult(Versioned):
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="key_results")
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=30, blank=True, help_text="e.g. %, users, ms, €")
    start_value = models.FloatField(default=0)
    target_value = models.FloatField()
    # Typed in, or computed downstream: a key result can follow a metric
    # (metrics.KeyResultLink), which sets it after every rollup.
    current_value = models.FloatField(null=True, blank=True)
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.INCREASE
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
