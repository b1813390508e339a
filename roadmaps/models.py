"""Roadmaps: per-product and portfolio roadmaps, their lanes, entries (backlog
items or free-text cards), milestones, dependencies, the change log and the
share links stakeholders open without an account.

An entry that references a backlog item reads its title, status, score,
owner and objectives from the item (one source of truth); the entry holds
only what belongs to the roadmap: where it sits (horizon, dates, lane, rank),
the commitment level and the PM's notes."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone

from backlog.models import ByteOrderedCharField, Item, Status
from pmhub.accounts.models import Workspace
from pmhub.querysets import WorkspaceScopedQuerySet
from pmhub.versioning import Versioned
from products.models import Product


class Layout(models.TextChoices):
    TIMELINE = "timeline", "Timeline"
    NOW_NEXT_LATER = "now_next_later", "Now / Next / Later"
    STATUS = "status", "Status board"


class LaneBy(models.TextChoices):
    NONE = "none", "No lanes"
    OBJECTIVE = "objective", "Objective"
    PRODUCT = "product", "Product"
    TAG = "tag", "Tag"
    CUSTOM = "custom", "Custom lanes"


class Granularity(models.TextChoices):
    MONTH = "month", "Months"
    QUARTER = "quarter", "Quarters"


class Horizon(models.TextChoices):
    NOW = "now", "Now"
    NEXT = "next", "Next"
    LATER = "later", "Later"


HORIZON_ORDER = {h: n for n, h in enumerate(Horizon.values)}


class Commitment(models.TextChoices):
    COMMITTED = "committed", "Committed"
    LIKELY = "likely", "Likely"
    EXPLORING = "exploring", "Exploring"


# Status board columns: the backlog's statuses a roadmap shows.
BOARD_STATUSES = (Status.CANDIDATE, Status.PLANNED, Status.IN_PROGRESS, Status.SHIPPED)


class RoadmapQuerySet(WorkspaceScopedQuerySet):
    def for_list(self):
        """Roadmaps as the lists show them: with their product, their entry
        count and their live share links' count."""
        return self.select_related("product").annotate(
            entry_count=Count("entries", distinct=True),
            link_count=Count(
                "share_links", filter=Q(share_links__revoked_at__isnull=True), distinct=True
            ),
        )


class Roadmap(Versioned):
    """A roadmap of one product (``product`` set) or a portfolio roadmap
    spanning several products of the workspace (``product`` empty,
    ``products`` listing them)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="roadmaps")
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="roadmaps"
    )
    products = models.ManyToManyField(Product, related_name="portfolio_roadmaps", blank=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="Who this roadmap is for, in a line")
    layout = models.CharField(max_length=20, choices=Layout.choices, default=Layout.TIMELINE)
    lane_by = models.CharField(max_length=12, choices=LaneBy.choices, default=LaneBy.NONE)
    granularity = models.CharField(
        max_length=10, choices=Granularity.choices, default=Granularity.MONTH
    )
    start_date = models.DateField(null=True, blank=True, help_text="First month of the timeline")
    periods = models.PositiveSmallIntegerField(
        default=12, help_text="Number of months or quarters the timeline shows"
    )
    investment_target = models.JSONField(
        default=dict, blank=True, help_text="Objective id → target share of effort in percent"
    )
    # Bumped (F() + 1) by every change to what the roadmap shows; the shared
    # page's ETag is built from it. Not the version: moving an entry must not
    # make an open settings form stale.
    revision = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RoadmapQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(layout__in=Layout.values), name="roadmap_layout"),
            models.CheckConstraint(condition=Q(lane_by__in=LaneBy.values), name="roadmap_lane_by"),
            models.CheckConstraint(
                condition=Q(granularity__in=Granularity.values), name="roadmap_granularity"
            ),
            models.CheckConstraint(
                condition=Q(periods__gte=1) & Q(periods__lte=36), name="roadmap_periods"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_portfolio(self) -> bool:
        return self.product_id is None

    def timeline_start(self) -> dt.date:
        start = self.start_date or timezone.localdate().replace(day=1)
        if self.granularity == Granularity.QUARTER:
            return start.replace(month=(start.month - 1) // 3 * 3 + 1, day=1)
        return start.replace(day=1)


class Lane(models.Model):
    """A lane the PM defines (used when ``lane_by`` is custom)."""

    roadmap = models.ForeignKey(Roadmap, on_delete=models.CASCADE, related_name="lanes")
    name = models.CharField(max_length=60)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["roadmap", "name"], name="lane_unique")]

    def __str__(self):
        return self.name


class EntryQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "roadmap__workspace"


class Entry(Versioned):
    roadmap = models.ForeignKey(Roadmap, on_delete=models.CASCADE, related_name="entries")
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, null=True, blank=True, related_name="roadmap_entries"
    )
    title = models.CharField(max_length=255, blank=True, help_text="Free-text cards only")
    summary = models.TextField(
        blank=True, help_text="What stakeholders read about this entry (shared pages show it)"
    )
    note = models.TextField(blank=True, help_text="Internal notes (share links can hide them)")
    horizon = models.CharField(max_length=8, choices=Horizon.choices, default=Horizon.NEXT)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    lane = models.ForeignKey(
        Lane, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries"
    )
    commitment = models.CharField(
        max_length=10, choices=Commitment.choices, default=Commitment.LIKELY
    )
    rank = ByteOrderedCharField(max_length=255, editable=False)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["rank", "id"]
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["roadmap", "rank"], name="entry_rank_unique"),
            models.UniqueConstraint(
                fields=["roadmap", "item"],
                condition=Q(item__isnull=False),
                name="entry_item_once",
            ),
            models.CheckConstraint(
                condition=Q(item__isnull=False) | ~Q(title=""), name="entry_item_or_title"
            ),
            models.CheckConstraint(condition=Q(horizon__in=Horizon.values), name="entry_horizon"),
            models.CheckConstraint(
                condition=Q(commitment__in=Commitment.values), name="entry_commitment"
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="entry_dates_ordered",
            ),
        ]

    def __str__(self):
        return self.display_title

    @property
    def display_title(self) -> str:
        return self.item.title if self.item_id else self.title

    @property
    def status(self) -> str:
        return self.item.status if self.item_id else ""


class MilestoneQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "roadmap__workspace"


class Milestone(Versioned):
    class Kind(models.TextChoices):
        MILESTONE = "milestone", "Milestone"
        RELEASE = "release", "Release"

    roadmap = models.ForeignKey(Roadmap, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(max_length=120)
    date = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MILESTONE)

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["milestone", "release"]), name="milestone_kind"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.date})"


class Dependency(models.Model):
    """``blocker`` must finish before ``blocked`` can start."""

    roadmap = models.ForeignKey(Roadmap, on_delete=models.CASCADE, related_name="dependencies")
    blocker = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="blocks")
    blocked = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="blocked_by")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "dependencies"
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="dependency_unique"),
            models.CheckConstraint(
                condition=~Q(blocker=models.F("blocked")), name="dependency_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.blocker_id} blocks {self.blocked_id}"


class ChangeKind(models.TextChoices):
    ADDED = "added", "Added"
    MOVED = "moved", "Moved"
    SLIPPED = "slipped", "Slipped"
    SHIPPED = "shipped", "Shipped"
    REMOVED = "removed", "Removed"


class Change(models.Model):
    """One line of a roadmap's change log ("what changed since …").

    ``title``, ``commitment`` and ``tags`` are copies taken when the change
    happened: a removed entry is gone, yet a share link must still decide
    whether its audience may see that it was removed."""

    roadmap = models.ForeignKey(Roadmap, on_delete=models.CASCADE, related_name="changes")
    entry = models.ForeignKey(
        Entry, on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    title = models.CharField(max_length=255)
    detail = models.CharField(max_length=300, blank=True, help_text="e.g. Next → Later")
    from_start = models.DateField(null=True, blank=True)
    from_end = models.DateField(null=True, blank=True)
    to_start = models.DateField(null=True, blank=True)
    to_end = models.DateField(null=True, blank=True)
    commitment = models.CharField(max_length=10, blank=True)
    tags = models.JSONField(default=list, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["roadmap", "-at"], name="change_roadmap_at")]

    def __str__(self):
        return f"{self.kind}: {self.title}"


class DateMode(models.TextChoices):
    EXACT = "exact", "Exact dates"
    COARSE = "coarse", "Quarters and horizons only"


class ShareLinkQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "roadmap__workspace"

    def live(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class ShareLink(Versioned):
    """A read-only link to one roadmap for people without an account. Only
    the SHA-256 of the token is stored; the token is shown once."""

    roadmap = models.ForeignKey(Roadmap, on_delete=models.CASCADE, related_name="share_links")
    label = models.CharField(max_length=80, help_text="Who it is for, e.g. “Board, Q1 review”")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    password = models.CharField(max_length=200, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    hide_scores = models.BooleanField(default=True)
    hide_owners = models.BooleanField(default=True)
    hide_notes = models.BooleanField(default=True)
    date_mode = models.CharField(max_length=8, choices=DateMode.choices, default=DateMode.EXACT)
    exclude_tags = models.JSONField(default=list, blank=True)
    exclude_commitments = models.JSONField(default=list, blank=True)
    # The shared page updates itself while open (docs/live.md): opt-in per link.
    live = models.BooleanField(default=False)
    views = models.PositiveIntegerField(default=0, editable=False)
    last_viewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_mode__in=DateMode.values), name="share_link_date_mode"
            )
        ]

    def __str__(self):
        return self.label

    @property
    def has_password(self) -> bool:
        return bool(self.password)

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    @property
    def exact_dates(self) -> bool:
        return self.date_mode == DateMode.EXACT
