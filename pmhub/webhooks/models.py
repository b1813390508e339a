"""Webhook endpoints of a workspace and their deliveries (one per endpoint and
event; ``webhook.test`` deliveries have no event)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from pmhub.querysets import WorkspaceScopedQuerySet
from pmhub.versioning import Versioned

TEST_EVENT = "webhook.test"


class EndpointQuerySet(WorkspaceScopedQuerySet):
    def enabled(self):
        """Endpoints that receive events."""
        return self.filter(enabled=True)


class WebhookEndpoint(Versioned):
    """A URL that receives a workspace's events, signed with ``secret``.

    The secret is a signing key: it is kept (the server must sign with it) and
    shown once, when it is made. During a rotation's overlap the previous
    secret signs too, until ``previous_secret_expires_at``."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(
        default=list, blank=True, help_text="Event types to send; empty: every type"
    )
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["workspace", "enabled"], name="webhook_ep_ws_enabled")]

    def __str__(self):
        return self.description or self.url

    def wants(self, verb: str) -> bool:
        return not self.event_types or verb in self.event_types

    def signing_secrets(self, now=None) -> list[str]:
        """The secrets that sign now: the current one, plus the previous one
        while its overlap lasts."""
        now = now or timezone.now()
        if self.previous_secret and (
            self.previous_secret_expires_at is not None and self.previous_secret_expires_at > now
        ):
            return [self.secret, self.previous_secret]
        return [self.secret]


class DeliveryQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "endpoint__workspace"

    def due(self, now=None):
        """Pending deliveries of enabled endpoints whose time has come and that
        no worker holds (no lease, or an expired one)."""
        now = now or timezone.now()
        return self.filter(
            status__in=WebhookDelivery.RETRYING,
            endpoint__enabled=True,
            next_attempt_at__lte=now,
        ).filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed, will retry"
        GIVEN_UP = "given_up", "Given up"

    # Not finished: waiting for a first attempt or for a retry.
    RETRYING = (Status.PENDING, Status.FAILED)

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        "activity.Event",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for a test delivery",
    )
    event_type = models.CharField(max_length=60)
    msg_id = models.CharField(
        max_length=60, help_text="The webhook-id header: the same on every attempt"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is sending it until then"
    )
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="Last handed to the broker (the sweep waits a minute)"
    )
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The first 1 KB of the answer")
    error = models.CharField(max_length=500, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"], name="webhook_delivery_once_per_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=Q(status__in=["pending", "failed"]),
            ),
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_log"),
        ]

    def __str__(self):
        return f"{self.event_type} → {self.endpoint} ({self.status})"
