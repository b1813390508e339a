"""Specs that engineering signs off: one spec per backlog item or epic, its
sections in Markdown, a stored version per save, and the reviews that
approve it or ask for changes (``docs/specs.md``)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from backlog.models import Item
from pmhub.querysets import WorkspaceScopedQuerySet
from pmhub.versioning import Versioned

# The sections PMs use, in the order a spec shows and exports them.
SECTIONS = [
    ("problem", "Problem"),
    ("goals", "Goals"),
    ("non_goals", "Non-goals"),
    ("requirements", "Requirements"),
    ("acceptance_criteria", "Acceptance criteria"),
    ("open_questions", "Open questions"),
]
SECTION_NAMES = [name for name, _label in SECTIONS]


class SpecState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


class Verdict(models.TextChoices):
    PENDING = "pending", "Waiting"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


# What a reviewer decides (a verdict other than "waiting").
DECISIONS = [
    (Verdict.APPROVED.value, Verdict.APPROVED.label),
    (Verdict.CHANGES_REQUESTED.value, Verdict.CHANGES_REQUESTED.label),
]


class SpecQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "item__product__workspace"

    def for_api(self):
        """Specs with their item, product and reviews (with reviewers), in a
        constant number of queries."""
        return self.select_related("item__product", "created_by").prefetch_related(
            models.Prefetch(
                "reviews", queryset=SpecReview.objects.select_related("reviewer", "requested_by")
            ),
            "item__objectives",
        )


class Spec(Versioned):
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="spec")
    problem = models.TextField(blank=True, help_text="Markdown")
    goals = models.TextField(blank=True, help_text="Markdown")
    non_goals = models.TextField(blank=True, help_text="Markdown")
    requirements = models.TextField(blank=True, help_text="Markdown")
    acceptance_criteria = models.TextField(blank=True, help_text="Markdown")
    open_questions = models.TextField(blank=True, help_text="Markdown")
    # Derived from the reviews by the services after every write (stored so
    # lists and the item panel read it without the reviews).
    state = models.CharField(
        max_length=20, choices=SpecState.choices, default=SpecState.DRAFT, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = SpecQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=SpecState.values), name="spec_state_valid")
        ]
        indexes = [models.Index(fields=["updated_at", "id"], name="spec_updated")]

    def __str__(self):
        return f"Spec of {self.item.key}"

    def sections(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in SECTION_NAMES}


class SpecVersionQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "spec__item__product__workspace"


class SpecVersion(models.Model):
    """The spec's sections as one save left them (``number`` is the spec's
    version after that save)."""

    spec = models.ForeignKey(Spec, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    sections = models.JSONField(default=dict)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SpecVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["spec", "number"], name="spec_version_unique")
        ]

    def __str__(self):
        return f"v{self.number}"


class SpecReviewQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "spec__item__product__workspace"


class SpecReview(models.Model):
    """One named reviewer's review of a spec. ``spec_version`` is the
    version the verdict was given on: an approval of an older version is
    stale."""

    spec = models.ForeignKey(Spec, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    verdict = models.CharField(max_length=20, choices=Verdict.choices, default=Verdict.PENDING)
    comment = models.TextField(blank=True)
    spec_version = models.PositiveIntegerField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = SpecReviewQuerySet.as_manager()

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["spec", "reviewer"], name="spec_review_unique"),
            models.CheckConstraint(
                condition=Q(verdict__in=Verdict.values), name="spec_review_verdict_valid"
            ),
        ]

    def __str__(self):
        return f"{self.reviewer} on {self.spec_id}"

    def is_stale(self, spec_version: int) -> bool:
        """A verdict given on an older version than ``spec_version``."""
        return self.verdict != Verdict.PENDING and (self.spec_version or 0) < spec_version
