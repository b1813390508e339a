"""Comments, reactions, watchers and notifications on any commentable object
(``registry``): objects are named generically by ``object_type`` (a model
label such as ``backlog.item``) and ``object_id``."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from pmhub.querysets import WorkspaceScopedQuerySet
from pmhub.versioning import Versioned

MAX_BODY = 10_000
MAX_MENTIONS = 20
EMOJI = ["👍", "👎", "😄", "🎉", "😕", "❤️", "🚀", "👀"]


class DiscussionSettings(Versioned):
    """A workspace's discussion rules (one row, made on first change)."""

    workspace = models.OneToOneField(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="discussion_settings"
    )
    editors_only = models.BooleanField(
        default=False, help_text="Only editors, admins and owners may comment (viewers read)"
    )

    objects = WorkspaceScopedQuerySet.as_manager()


class CommentQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "workspace"

    def on(self, object_type: str, object_id: int):
        """The comments of one object, oldest first."""
        return self.filter(object_type=object_type, object_id=object_id).order_by("id")

    def for_panel(self):
        """With author and reactions (one JOIN, one prefetch) for the panel and the API."""
        return self.select_related("author").prefetch_related(
            models.Prefetch("reactions", queryset=Reaction.objects.order_by("id"))
        )


class Comment(Versioned):
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    object_type = models.CharField(max_length=60)
    object_id = models.BigIntegerField()
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(
        max_length=MAX_BODY, blank=True, help_text="Markdown (empty once deleted)"
    )
    # The sanitized HTML of ``body`` with mentions marked, written with it.
    body_html = models.TextField(blank=True, editable=False)
    # [{"id": user id, "username": ...}] of the members it mentions.
    mentions = models.JSONField(default=list, blank=True, editable=False)
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CommentQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "object_type", "object_id", "id"], name="comment_object"
            ),
            models.Index(fields=["workspace", "updated_at", "id"], name="comment_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(object_id__gt=0) & ~Q(object_type=""), name="comment_object_named"
            )
        ]

    def __str__(self):
        return f"comment {self.pk} on {self.object_type} {self.object_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class ReactionQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "comment__workspace"


class Reaction(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=8, choices=[(e, e) for e in EMOJI])
    created_at = models.DateTimeField(default=timezone.now)

    objects = ReactionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "user", "emoji"], name="reaction_once"),
        ]

    def __str__(self):
        return f"{self.emoji} on comment {self.comment_id}"


class WatchQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "workspace"


class Watch(models.Model):
    """Someone's watch state of one object. ``watching=False`` records an
    unwatch, so the creator or owner (who watch implicitly) can stop."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    object_type = models.CharField(max_length=60)
    object_id = models.BigIntegerField()
    watching = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = WatchQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "object_type", "object_id"], name="watch_once_per_user"
            ),
        ]
        indexes = [models.Index(fields=["object_type", "object_id"], name="watch_object")]

    def __str__(self):
        return f"{self.user_id} {'watches' if self.watching else 'ignores'} {self.object_type}"


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", "Email at once"
    DIGEST = "digest", "Daily digest"
    OFF = "off", "No email"


class EmailState(models.TextChoices):
    NONE = "", "No email"
    PENDING = "pending", "Waiting to be emailed"
    DIGEST = "digest", "Waiting for the digest"
    SENT = "sent", "Emailed"


class NotificationQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "workspace"

    def of(self, user):
        """The notifications of ``user`` (in workspaces they still belong to)."""
        return self.visible_to(user).filter(recipient=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=30)  # a key of kinds.KINDS
    event_id = models.BigIntegerField(null=True, blank=True)
    verb = models.CharField(max_length=60)
    actor_label = models.CharField(max_length=150, blank=True)
    object_type = models.CharField(max_length=60)
    object_id = models.BigIntegerField()
    object_key = models.CharField(max_length=60, blank=True)
    object_title = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=300, blank=True)
    excerpt = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(
        max_length=10, choices=EmailState.choices, default=EmailState.NONE, blank=True
    )
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "id"], name="notification_recipient"),
            models.Index(
                fields=["recipient", "id"],
                name="notification_unread",
                condition=Q(read_at__isnull=True),
            ),
            models.Index(
                fields=["email_state", "recipient"],
                name="notification_email",
                condition=~Q(email_state=""),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event_id", "kind"], name="notification_once_per_event"
            ),
        ]

    def __str__(self):
        return f"{self.kind} for {self.recipient_id}: {self.object_key or self.object_id}"


class EmailPreference(models.Model):
    """How one person hears of one kind by email (no row: the kind's default)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30)  # a key of kinds.KINDS
    delivery = models.CharField(max_length=10, choices=Delivery.choices)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="email_preference_once"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.kind}: {self.delivery}"


class DigestRun(models.Model):
    """One row per person and day a digest was built: running the job twice
    sends nothing twice (the unique row is the claim)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_a_day")]

    def __str__(self):
        return f"digest {self.day} for {self.user_id}"
