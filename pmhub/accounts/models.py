import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from pmhub.querysets import WorkspaceScopedQuerySet
from pmhub.versioning import Versioned


class User(AbstractUser):
    """PMHub's user; a custom model from day one so it can grow."""

    def __str__(self):
        return self.get_full_name() or self.username


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


EDIT_ROLES = (Role.OWNER, Role.ADMIN, Role.EDITOR)
ADMIN_ROLES = (Role.OWNER, Role.ADMIN)


class WorkspaceQuerySet(WorkspaceScopedQuerySet):
    workspace_path = ""  # a workspace is its own scope

    def with_role(self, user):
        """Annotate each workspace with the user's role in it (``my_role``)."""
        role = Membership.objects.filter(workspace=models.OuterRef("pk"), user=user).values("role")
        return self.annotate(my_role=models.Subquery(role[:1]))


class Workspace(Versioned):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class MembershipQuerySet(WorkspaceScopedQuerySet):
    def for_members_page(self):
        """Members with their users, owners first."""
        order = models.Case(
            *[models.When(role=r, then=i) for i, r in enumerate(Role.values)],
            output_field=models.IntegerField(),
        )
        return (
            self.select_related("user")
            .annotate(role_order=order)
            .order_by("role_order", "user__username")
        )


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def can_edit(self) -> bool:
        return self.role in EDIT_ROLES

    @property
    def can_admin(self) -> bool:
        return self.role in ADMIN_ROLES


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    """A random token with 256 bits of entropy and a recognisable prefix."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


class InviteQuerySet(WorkspaceScopedQuerySet):
    def pending(self):
        """Invites that can still be accepted."""
        return self.filter(
            used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invite(models.Model):
    """A single-use, expiring invite link. Only the token's hash is stored."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invites")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    token_hash = models.CharField(max_length=64, unique=True)
    note = models.CharField(max_length=200, blank=True, help_text="Who the link is for")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InviteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Invite to {self.workspace} as {self.role}"

    @property
    def is_pending(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ApiToken(models.Model):
    """A personal access token. The secret is shown once; only its hash is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to tell tokens apart")
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
