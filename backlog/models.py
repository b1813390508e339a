from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from metrics.models import Metric
from pmhub.csvimport import ImportJobBase
from pmhub.querysets import WorkspaceScopedQuerySet
from pmhub.versioning import Versioned
from products.models import Objective, Product

from . import scoring


class ByteOrderedCharField(models.CharField):
    """A CharField compared bytewise: fractional rank keys must sort by code
    point ("Z" < "a"), whatever the database's default collation. SQLite
    compares bytewise already; PostgreSQL gets the "C" collation."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class ItemType(models.TextChoices):
    EPIC = "epic", "Epic"
    FEATURE = "feature", "Feature"
    IMPROVEMENT = "improvement", "Improvement"
    BUG = "bug", "Bug"
    EXPERIMENT = "experiment", "Experiment"


class Status(models.TextChoices):
    IDEA = "idea", "Idea"
    CANDIDATE = "candidate", "Candidate"
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    SHIPPED = "shipped", "Shipped"
    DECLINED = "declined", "Declined"
    ARCHIVED = "archived", "Archived"


OPEN_STATUSES = (Status.IDEA, Status.CANDIDATE, Status.PLANNED, Status.IN_PROGRESS)
# A status's place in the workflow (idea first, archived last): the backlog's
# status sort, and an index, so that both compile to the same expression.
STATUS_ORDER = models.Case(
    *[models.When(status=value, then=models.Value(n)) for n, value in enumerate(Status.values)],
    output_field=models.IntegerField(),
)
REASON_STATUSES = (Status.DECLINED, Status.ARCHIVED)


class ScoringKind(models.TextChoices):
    RICE = "rice", "RICE"
    ICE = "ice", "ICE"
    WSJF = "wsjf", "WSJF"
    VALUE_EFFORT = "value_effort", "Value ÷ effort"
    WEIGHTED = "weighted", "Weighted criteria"


class ScoringModelQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "product__workspace"

    def for_api(self):
        """With the product's workspace and ``is_active`` (one LEFT JOIN to the
        product's backlog settings, no subquery per row)."""
        active = models.Case(
            models.When(product__backlog__active_model=models.F("pk"), then=models.Value(True)),
            default=models.Value(False),
            output_field=models.BooleanField(),
        )
        return self.select_related("product__workspace").annotate(is_active=active)


class ScoringModel(Versioned):
    """A saved way of scoring a product's backlog. ``criteria`` holds the
    weighted model's criteria: ``[{"name", "source", "weight", "min", "max",
    "higher_is_better"}]`` where ``source`` is a built-in input (``value``,
    ``effort``, ``reach``, …) or ``cf:<custom field id>``."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="scoring_models")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=20, choices=ScoringKind.choices)
    criteria = models.JSONField(default=list, blank=True)
    reach_from_demand = models.BooleanField(
        default=False, help_text="RICE: an item without Reach uses its customer demand"
    )

    objects = ScoringModelQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="scoring_model_name_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=ScoringKind.values), name="scoring_kind_valid"
            ),
        ]

    def __str__(self):
        return self.name

    def parsed_criteria(self) -> list[scoring.Criterion]:
        """The weighted model's criteria (validated); [] for the fixed frameworks."""
        return scoring.parse_criteria(self.criteria) if self.kind == ScoringKind.WEIGHTED else []

    def expression(self):
        """This model's score of an item, as one SQL expression."""
        return scoring.score_expression(
            self.kind, self.parsed_criteria(), reach_from_demand=self.reach_from_demand
        )


class BacklogSettingsQuerySet(models.QuerySet):
    def of(self, product) -> "BacklogSettings":
        """The product's settings with its active scoring model (one query).
        Every product has them from its creation on (``services.create_backlog``)."""
        return self.select_related("active_model").get(product=product)


class BacklogSettings(models.Model):
    """Per-product backlog state: the item counter, the active scoring model
    and the bookkeeping of background score recomputes.

    ``score_generation`` is bumped (in the same transaction) whenever the
    scoring model or its weights change; a recompute that finishes records the
    generation it computed in ``scored_generation``. While they differ, work
    is pending and the periodic sweep will finish it, whatever happened to
    the task that was enqueued."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="backlog")
    last_item_number = models.PositiveIntegerField(default=0)
    active_model = models.ForeignKey(
        ScoringModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    score_generation = models.PositiveIntegerField(default=0)
    scored_generation = models.PositiveIntegerField(default=0)
    score_cause = models.CharField(max_length=200, blank=True)
    recompute_claimed_at = models.DateTimeField(null=True, blank=True)
    recompute_total = models.PositiveIntegerField(default=0)
    recompute_done = models.PositiveIntegerField(default=0)

    objects = BacklogSettingsQuerySet.as_manager()

    def __str__(self):
        return f"Backlog of {self.product}"

    @property
    def recompute_pending(self) -> bool:
        return self.scored_generation < self.score_generation

    @property
    def recompute_percent(self) -> int:
        if not self.recompute_total:
            return 0
        return min(100, round(100 * self.recompute_done / self.recompute_total))


class Tag(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=40)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="tag_unique")]

    def __str__(self):
        return self.name


class FieldKind(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    SELECT = "select", "Single select"
    DATE = "date", "Date"


class CustomField(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="custom_fields")
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=FieldKind.choices)
    options = models.JSONField(default=list, blank=True, help_text="Choices of a single select")
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="custom_field_name_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=FieldKind.values), name="custom_field_kind_valid"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def json_key(self) -> str:
        return str(self.pk)

    @property
    def asc_sort(self) -> str:
        return f"cf{self.pk}"

    @property
    def desc_sort(self) -> str:
        return f"-cf{self.pk}"


class ItemQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "product__workspace"

    def open(self):
        """Items not shipped, declined or archived."""
        return self.filter(status__in=OPEN_STATUSES)

    def for_api(self):
        return self.select_related("product", "parent").prefetch_related("tags", "objectives")

    def scored_by(self, **models):
        """Annotate each item with its score under other models
        (``scored_by(score_a=model_a)``), computed in SQL, stored nowhere."""
        return self.annotate(**{alias: model.expression() for alias, model in models.items()})


class Item(Versioned):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="items")
    number = models.PositiveIntegerField(editable=False)
    key = models.CharField(max_length=24, editable=False, help_text="e.g. PAY-42; never reused")
    type = models.CharField(max_length=12, choices=ItemType.choices, default=ItemType.FEATURE)
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True, help_text="Markdown")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IDEA)
    status_reason = models.CharField(max_length=500, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    objectives = models.ManyToManyField(Objective, blank=True, related_name="items")
    tags = models.ManyToManyField(Tag, blank=True, related_name="items")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    effort = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.01)],
        help_text="Estimate in person-weeks; must be > 0",
    )
    external_url = models.URLField(blank=True)
    external_key = models.CharField(max_length=60, blank=True, help_text="e.g. JIRA-123 or #42")

    # Scoring inputs (validated ranges live in backlog.scoring.INPUTS).
    reach = models.FloatField(null=True, blank=True)
    impact = models.FloatField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    ease = models.FloatField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    business_value = models.FloatField(null=True, blank=True)
    time_criticality = models.FloatField(null=True, blank=True)
    risk_reduction = models.FloatField(null=True, blank=True)
    job_size = models.FloatField(null=True, blank=True)
    demand = models.FloatField(null=True, blank=True, help_text="Customer demand, set by feedback")
    custom = models.JSONField(default=dict, blank=True)

    score = models.FloatField(null=True, blank=True, editable=False)
    # Keys grow about one character per six moves into the same gap: 255 leaves
    # room for well over a thousand such moves before a rebalance is needed.
    rank = ByteOrderedCharField(max_length=255, editable=False)
    shipped_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ItemQuerySet.as_manager()

    class Meta:
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="item_number_unique"),
            models.UniqueConstraint(fields=["product", "rank"], name="item_rank_unique"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="item_status_valid"),
            models.CheckConstraint(condition=Q(type__in=ItemType.values), name="item_type_valid"),
            models.CheckConstraint(
                condition=Q(effort__isnull=True) | Q(effort__gt=0), name="item_effort_positive"
            ),
            models.CheckConstraint(
                condition=Q(job_size__isnull=True) | Q(job_size__gt=0),
                name="item_job_size_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["product", "score", "id"], name="item_product_score"),
            models.Index(fields=["product", "updated_at", "id"], name="item_product_updated"),
            models.Index(fields=["product", "status"], name="item_product_status"),
            # One per sort of the backlog page, each in that sort's order, so a
            # page is a range scan from its cursor (backlog.filters.KEYSETS).
            models.Index(fields=["product", "-score", "id"], name="item_product_score_desc"),
            models.Index(fields=["product", "title", "id"], name="item_product_title"),
            models.Index(fields=["product", "effort", "id"], name="item_product_effort"),
            models.Index(fields=["product", "-value", "id"], name="item_product_value_desc"),
            models.Index(fields=["product", "type", "rank"], name="item_product_type"),
            models.Index(F("product"), STATUS_ORDER, F("rank"), name="item_product_status_order"),
        ]

    def __str__(self):
        return f"{self.key} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ScoreChange(models.Model):
    """One change of an item's score and why it happened."""

    class Cause(models.TextChoices):
        INPUT = "input", "Input changed"
        MODEL = "model", "Scoring model changed"
        WEIGHTS = "weights", "Weights changed"
        DEMAND = "demand", "Customer demand changed"
        CREATED = "created", "Item created"

    # Written in bulk by recomputes (one row per changed score): no separate
    # index (score_change_item_at covers item) and, as django-simple-history
    # does for its tables, no database FK check; the ORM still cascades deletes.
    item = models.ForeignKey(
        Item,
        on_delete=models.CASCADE,
        related_name="score_changes",
        db_index=False,
        db_constraint=False,
    )
    old_score = models.FloatField(null=True)
    new_score = models.FloatField(null=True)
    cause = models.CharField(max_length=10, choices=Cause.choices)
    detail = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["item", "-at"], name="score_change_item_at")]

    def __str__(self):
        return f"{self.item_id}: {self.old_score} → {self.new_score} ({self.cause})"


class SavedView(models.Model):
    """A named set of backlog filters and sort order (the URL query string)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="saved_view_unique")
        ]

    def __str__(self):
        return self.name


class ImportJob(ImportJobBase):
    """A CSV import of backlog items (see ``pmhub.csvimport``). Nothing is
    imported until every row is valid, and then all rows are imported in one
    transaction."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="import_jobs")
    text = models.TextField(help_text="The uploaded CSV, decoded as UTF-8")
    mapping = models.JSONField(default=dict, help_text="CSV column → item field")
    errors = models.JSONField(default=list, help_text="[{row, column, message}]")
    first_number = models.PositiveIntegerField(null=True, blank=True)

    class Meta(ImportJobBase.Meta):
        pass

    def __str__(self):
        return f"Import {self.filename or self.pk} into {self.product}"


class HypothesisQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "item__product__workspace"


class Hypothesis(Versioned):
    """What an item should move after launch: the metric, the expected change
    in percent, and the window compared before and after the launch day. The
    PM's learnings after the launch review live here too (versioned edits)."""

    objects = HypothesisQuerySet.as_manager()

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="hypothesis")
    metric = models.ForeignKey(
        Metric, on_delete=models.SET_NULL, null=True, blank=True, related_name="hypotheses"
    )
    expected_change = models.FloatField(
        "expected change (%)",
        help_text="e.g. 10 for +10 %, -20 for a 20 % drop",
    )
    window_days = models.PositiveSmallIntegerField(
        "window (days)",
        default=28,
        validators=[MinValueValidator(7), MaxValueValidator(182)],
        help_text="Days compared on each side of the launch day",
    )
    adoption_metric = models.ForeignKey(
        Metric,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="adoption_of",
        help_text="Optional: usage of the feature itself",
    )
    learnings = models.TextField(blank=True, help_text="Markdown: what the launch taught us")
    learnings_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    learnings_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(window_days__gte=7) & Q(window_days__lte=182),
                name="hypothesis_window_range",
            ),
            models.CheckConstraint(
                condition=~Q(expected_change=0), name="hypothesis_expects_a_change"
            ),
        ]

    def __str__(self):
        return f"{self.item_id}: {self.expected_change:+g}% on {self.metric_id}"
