"""The event log: one row per change, written in the transaction of the change."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from pmhub.querysets import WorkspaceScopedQuerySet


class ActorKind(models.TextChoices):
    USER = "user", "Person"
    TOKEN = "token", "API token"
    VISITOR = "visitor", "Portal visitor"
    SYSTEM = "system", "System"


class CurrentTxid(models.Func):
    """The id (xid8, as bigint) of the transaction that writes the row, on
    PostgreSQL; NULL on SQLite, whose single writer makes id order commit order."""

    template = "NULL"
    output_field = models.BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return "(pg_current_xact_id()::text::bigint)", []


class EventQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "workspace"

    def for_object(self, obj=None, *, object_type=None, object_id=None):
        """The events of one object and of the objects that belong to it
        (a roadmap's entries, an item's insights), newest first."""
        if obj is not None:
            object_type, object_id = obj._meta.label_lower, obj.pk
        own = models.Q(object_type=object_type, object_id=object_id)
        children = models.Q(parent_type=object_type, parent_id=object_id)
        return self.filter(own | children).order_by("-id")

    def audited_by(self, user):
        """Events of the workspaces where ``user`` is an admin or owner (the
        audit log and the change feed show a whole workspace's activity)."""
        from pmhub.accounts.models import ADMIN_ROLES, Membership

        if not user.is_authenticated:
            return self.none()
        ids = list(
            Membership.objects.filter(user=user, role__in=ADMIN_ROLES).values_list(
                "workspace_id", flat=True
            )
        )
        return self.filter(workspace_id__in=ids)

    def for_list(self):
        """With the actor's user and token (one JOIN each) for pages and the API."""
        return self.select_related("actor_user", "actor_token")


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    # No index of its own: every index below starts with the workspace.
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="events", db_index=False
    )
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=True,
        db_index=False,  # event_actor_ws leads with it
    )
    actor_token = models.ForeignKey(
        "accounts.ApiToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # event_token: only the rows that have one
    )
    actor_label = models.CharField(max_length=150, blank=True)
    verb = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    object_key = models.CharField(max_length=60, blank=True)
    object_title = models.CharField(max_length=300, blank=True)
    # The object this one belongs to, for activity panels: a roadmap entry's
    # roadmap, a hypothesis's or an insight's item, a feedback's customer.
    parent_type = models.CharField(max_length=60, blank=True)
    parent_id = models.BigIntegerField(null=True, blank=True)
    # Nothing reads events by product alone: no index (deleting a product
    # clears its id with one scan of the log; every change would pay for one).
    product = models.ForeignKey(
        "products.Product",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    changes = models.JSONField(default=dict, blank=True)
    version = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    txid = models.BigIntegerField(null=True, blank=True, editable=False, db_default=CurrentTxid())

    objects = EventQuerySet.as_manager()

    class Meta:
        # Each index is a reader's range scan (docs/activity.md#indexes, with
        # the EXPLAIN that shows it used on 10 million events); every other
        # index would be written by every recorded change for nothing.
        indexes = [
            # The audit log, newest first, and its date filters.
            models.Index(fields=["workspace", "id"], name="event_ws_id"),
            # Activity panels: an object's own events ...
            models.Index(
                fields=["workspace", "object_type", "object_id", "id"], name="event_ws_object"
            ),
            # ... and those of what belongs to it (most events belong to nothing).
            models.Index(
                fields=["workspace", "parent_type", "parent_id", "id"],
                name="event_ws_parent",
                condition=models.Q(parent_id__isnull=False),
            ),
            # The audit log's person filter (system and visitor events have
            # none), and clearing a deleted user's id: person first.
            models.Index(
                fields=["actor_user", "workspace", "id"],
                name="event_actor_ws",
                condition=models.Q(actor_user__isnull=False),
            ),
            # Clearing a deleted token's id (most events have no token).
            models.Index(
                fields=["actor_token"],
                name="event_token",
                condition=models.Q(actor_token__isnull=False),
            ),
            # The audit log's action filter.
            models.Index(fields=["workspace", "verb", "id"], name="event_ws_verb"),
            # The change feed of a workspace, and consumers (every workspace).
            models.Index(fields=["workspace", "txid", "id"], name="event_ws_txid"),
            models.Index(fields=["txid", "id"], name="event_txid_id"),
        ]

    def __str__(self):
        return f"{self.verb} {self.object_key or self.object_id} by {self.actor_label}"


class ConsumerCursor(models.Model):
    """How far one durable consumer has read the log: (txid, id) on PostgreSQL,
    id alone on SQLite. Advanced in the same transaction as the consumer's work."""

    name = models.CharField(max_length=60, unique=True)
    last_txid = models.BigIntegerField(default=0)
    last_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.name} at ({self.last_txid}, {self.last_id})"
