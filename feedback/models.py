"""Customers, feedback, insights and the public ideas portal.

A customer is never recorded twice: companies are unique per workspace by
lower-cased domain, people by lower-cased email (``services.match_customer``
finds or creates them). Feedback belongs to a product; an insight links a
snippet of one piece of feedback to one backlog item. Public ideas are
backlog items the PM chose to show on the product's portal; the item itself
stays in backlog/ (this app points at it, backlog/ knows nothing of it)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from backlog.models import Item
from pmhub.accounts.models import Workspace
from pmhub.csvimport import ImportJobBase
from pmhub.querysets import WorkspaceScopedQuerySet
from pmhub.versioning import Versioned
from products.models import Product


class Segment(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-market"
    ENTERPRISE = "enterprise", "Enterprise"
    OTHER = "other", "Other"


class CompanyQuerySet(WorkspaceScopedQuerySet):
    def for_api(self):
        """What the API shows, in one query."""
        return self.select_related("workspace")

    def for_customer_list(self, product):
        """Rows of the customers page: owner joined, the product's feedback
        and the people counted."""
        return self.select_related("owner").annotate(
            feedback_count=models.Count(
                "feedback", filter=Q(feedback__product=product), distinct=True
            ),
            people_count=models.Count("people", distinct=True),
        )


class Company(Versioned):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="companies")
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True, help_text="e.g. acme.com")
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.OTHER)
    plan = models.CharField(max_length=60, blank=True)
    annual_revenue = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Annual recurring revenue from this customer",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(
                "workspace",
                Lower("domain"),
                condition=~Q(domain=""),
                name="company_domain_unique",
            ),
            models.CheckConstraint(
                condition=Q(segment__in=Segment.values), name="company_segment_valid"
            ),
            models.CheckConstraint(
                condition=Q(annual_revenue__isnull=True) | Q(annual_revenue__gte=0),
                name="company_revenue_positive",
            ),
        ]

    def __str__(self):
        return self.name


class PersonQuerySet(WorkspaceScopedQuerySet):
    def for_api(self):
        """What the API shows, in one query."""
        return self.select_related("company")


class Person(Versioned):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="people")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="people"
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                "workspace", Lower("email"), condition=~Q(email=""), name="person_email_unique"
            ),
        ]

    def __str__(self):
        return self.name or self.email or f"Person {self.pk}"


class Source(models.TextChoices):
    PORTAL = "portal", "Portal"
    EMAIL = "email", "Email"
    SUPPORT = "support", "Support"
    SALES_CALL = "sales_call", "Sales call"
    INTERVIEW = "interview", "Interview"
    SURVEY = "survey", "Survey"
    API = "api", "API"
    IMPORT = "import", "Import"
    SHARED_ROADMAP = "roadmap", "Shared roadmap"


class State(models.TextChoices):
    NEW = "new", "New"
    TRIAGED = "triaged", "Triaged"
    ARCHIVED = "archived", "Archived"


class FeedbackQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "product__workspace"

    def for_inbox(self):
        """A row of the triage inbox: its person and company, in one query."""
        return self.select_related("person", "company")

    def matching(self, *, state: str = "all", source: str = "", q: str = ""):
        """The inbox's filters: a state ("all" for every one), a source, and
        words in the text or the customer's name."""
        qs = self
        if state != "all":
            qs = qs.filter(state=state)
        if source:
            qs = qs.filter(source=source)
        if q:
            qs = qs.filter(
                Q(text__icontains=q) | Q(person__name__icontains=q) | Q(company__name__icontains=q)
            )
        return qs

    def for_api(self):
        """What the API shows: one query plus one for the tags' lists (none)."""
        return self.select_related("product", "person", "company")


class Feedback(Versioned):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="feedback")
    text = models.TextField()
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.EMAIL)
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    received_at = models.DateTimeField(default=timezone.now)
    tags = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.NEW)
    external_id = models.CharField(
        max_length=200, blank=True, help_text="Your id for this feedback; makes re-sends no-ops"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = FeedbackQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "feedback"
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=State.values), name="feedback_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=Source.values), name="feedback_source_valid"
            ),
            models.UniqueConstraint(
                fields=["product", "external_id"],
                condition=~Q(external_id=""),
                name="feedback_external_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["product", "state", "-received_at", "-id"], name="feedback_inbox"),
        ]

    def __str__(self):
        return self.text[:60]


class Importance(models.TextChoices):
    NICE_TO_HAVE = "nice", "Nice to have"
    IMPORTANT = "important", "Important"
    CRITICAL = "critical", "Critical"


class InsightQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "feedback__product__workspace"

    def for_item_panel(self):
        """Insights as the item page lists them: customer and company joined."""
        return self.select_related("feedback__person", "feedback__company")

    def for_api(self):
        """What the API shows, in one query."""
        return self.select_related("feedback__product", "item")


class Insight(Versioned):
    """A snippet of feedback that supports a backlog item."""

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="insights")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="insights")
    snippet = models.TextField()
    start = models.PositiveIntegerField(default=0)
    end = models.PositiveIntegerField(default=0)
    importance = models.CharField(
        max_length=10, choices=Importance.choices, default=Importance.IMPORTANT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = InsightQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["feedback", "item"], name="insight_unique"),
            models.CheckConstraint(
                condition=Q(importance__in=Importance.values), name="insight_importance_valid"
            ),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="insight_span"),
        ]

    def __str__(self):
        return f"{self.feedback_id} → {self.item_id}"


class DemandQueue(models.Model):
    """Items whose demand must be recomputed: written in the same transaction
    as the insight change, removed once the recompute has stored the value.
    The periodic sweep finishes whatever a lost task left here."""

    item = models.OneToOneField(Item, on_delete=models.CASCADE, primary_key=True, related_name="+")
    marked_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"demand of item {self.item_id}"


DEFAULT_SEGMENT_WEIGHTS = {"smb": 1.0, "mid_market": 1.5, "enterprise": 2.0, "other": 1.0}


class PortalSettings(Versioned):
    """Per product: is the public portal on, and how demand is weighed."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="portal")
    enabled = models.BooleanField(default=False)
    title = models.CharField(max_length=120, blank=True)
    intro = models.TextField(blank=True)
    half_life_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(1)], help_text="Demand halves every N days"
    )
    segment_weights = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "portal settings"
        constraints = [
            models.CheckConstraint(condition=Q(half_life_days__gte=1), name="portal_half_life_min")
        ]

    def __str__(self):
        return f"Portal of {self.product}"

    def weights(self) -> dict[str, float]:
        return {**DEFAULT_SEGMENT_WEIGHTS, **(self.segment_weights or {})}


class PublicIdeaQuerySet(models.QuerySet):
    def for_portal(self, product):
        """The product's public ideas with their item and verified vote count."""
        return (
            self.filter(product=product)
            .select_related("item")
            .annotate(votes=models.Count("vote", filter=Q(vote__verified_at__isnull=False)))
            .order_by("-votes", "id")
        )


class PublicIdea(Versioned):
    """A backlog item shown on the portal, with the title and description
    customers see (the internal ones stay internal)."""

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="public_idea")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="public_ideas")
    public_title = models.CharField(max_length=200)
    public_description = models.TextField(blank=True)

    objects = PublicIdeaQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.public_title


class Vote(models.Model):
    """One vote per idea and email address; counted once verified (at once
    for a logged-in account, after the emailed link otherwise)."""

    idea = models.ForeignKey(PublicIdea, on_delete=models.CASCADE)
    email = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint("idea", Lower("email"), name="vote_one_per_email"),
            models.UniqueConstraint(
                fields=["idea", "user"], condition=Q(user__isnull=False), name="vote_one_per_user"
            ),
        ]

    def __str__(self):
        return f"vote on {self.idea_id}"


class Subscription(models.Model):
    """Whether an address gets the portal's status emails for a product.
    Rows exist only for addresses that unsubscribed (or came back)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("product", Lower("email"), name="subscription_unique"),
        ]

    def __str__(self):
        return self.email


class ImportJob(ImportJobBase):
    """A CSV import of feedback (see ``pmhub.csvimport``): mapping, row-by-row
    report, then every row in one transaction."""

    JobState = ImportJobBase.State

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")

    class Meta(ImportJobBase.Meta):
        pass

    def __str__(self):
        return f"Feedback import {self.filename or self.pk}"
