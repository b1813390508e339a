"""Deliveries: the fan-out of events to endpoints, the sweep, resend, test
events and the notice when an endpoint is disabled. Sending them (batches,
the retry schedule, the disable rule) is ``sending``."""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pmhub.accounts.models import ADMIN_ROLES, Membership
from pmhub.accounts.services import require_admin

from ..models import TEST_EVENT, WebhookDelivery, WebhookEndpoint
from .sending import LEASE, enqueue_endpoints

log = logging.getLogger(__name__)
SWEEP_BATCH = 5000
STATUS = WebhookDelivery.Status


# --- fan-out -----------------------------------------------------------------


def fan_out(events) -> int:
    """One pending delivery per event and enabled endpoint of its workspace
    that wants its type (one INSERT; the unique (endpoint, event) makes a
    re-run add nothing). Runs in the consumer's transaction; the deliveries
    are queued after commit. Returns the number of rows offered."""
    events = list(events)
    if not events:
        return 0
    workspace_ids = {e.workspace_id for e in events}
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.enabled().filter(workspace_id__in=workspace_ids):
        endpoints.setdefault(endpoint.workspace_id, []).append(endpoint)
    if not endpoints:
        return 0
    now = timezone.now()
    rows = [
        WebhookDelivery(
            endpoint=endpoint,
            event_id=event.pk,
            event_type=event.verb,
            msg_id=f"evt_{event.pk}",
            created_at=now,
            next_attempt_at=now,
            queued_at=now,
        )
        for event in events
        for endpoint in endpoints.get(event.workspace_id, ())
        # An endpoint gets what happens from its creation on, not the history
        # (the consumer may hand out older events late, or for the first time).
        if endpoint.wants(event.verb) and event.created_at >= endpoint.created_at
    ]
    if not rows:
        return 0
    WebhookDelivery.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    endpoint_ids = {row.endpoint_id for row in rows}
    transaction.on_commit(lambda: enqueue_endpoints(endpoint_ids))
    return len(rows)


def kick_endpoint(endpoint_id: int) -> None:
    """After commit, queue the due deliveries of an endpoint turned on."""
    transaction.on_commit(lambda: sweep(endpoint_id=endpoint_id))


def notify_disabled(endpoint_id: int) -> int:
    """Email the workspace's owners and admins that an endpoint was disabled."""
    from django.core.mail import send_mail

    endpoint = WebhookEndpoint.objects.select_related("workspace").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.enabled:
        return 0
    emails = sorted(
        {
            e
            for e in Membership.objects.filter(
                workspace=endpoint.workspace, role__in=ADMIN_ROLES
            ).values_list("user__email", flat=True)
            if e
        }
    )
    if not emails:
        return 0
    site = settings.SITE_URL or ""
    link = f"{site}/w/{endpoint.workspace.slug}/settings/webhooks/{endpoint.pk}/"
    send_mail(
        f"[PMHub] Webhook disabled: {endpoint}",
        f"The webhook endpoint {endpoint.url} of {endpoint.workspace} was disabled.\n\n"
        f"{endpoint.disabled_reason}\n\nFix the receiver, then enable it again: {link}\n"
        "Deliveries that were given up can be resent from the delivery log.",
        None,
        emails,
    )
    return len(emails)


# --- sweep, resend, test -----------------------------------------------------


def sweep(*, now=None, endpoint_id: int | None = None, limit: int = SWEEP_BATCH) -> int:
    """Queue due deliveries that are not queued already (queued more than a
    lease ago, or never): after a broker outage, a killed worker (its lease
    expires) or a retry's time. Returns how many were queued."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.due(now).filter(
        Q(queued_at__isnull=True) | Q(queued_at__lt=now - LEASE)
    )
    if endpoint_id is not None:
        due = due.filter(endpoint_id=endpoint_id)
    rows = list(due.order_by("next_attempt_at", "id").values_list("pk", "endpoint_id")[:limit])
    if not rows:
        return 0
    WebhookDelivery.objects.filter(pk__in=[pk for pk, _ in rows]).update(queued_at=now)
    enqueue_endpoints({endpoint_id for _, endpoint_id in rows})
    return len(rows)


@transaction.atomic
def resend(actor, *, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now (same webhook-id and body), with a fresh
    retry schedule. A delivery being sent right now is left alone."""
    require_admin(actor, delivery.endpoint.workspace)
    now = timezone.now()
    updated = (
        WebhookDelivery.objects.filter(pk=delivery.pk)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            status=STATUS.PENDING,
            attempts=0,
            first_attempt_at=None,
            next_attempt_at=now,
            queued_at=now,
            lease_until=None,
        )
    )
    if updated:
        pk = delivery.endpoint_id
        transaction.on_commit(lambda: enqueue_endpoints([pk]))
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def send_test(actor, *, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` delivery (no event behind it), sent like any other."""
    import uuid

    require_admin(actor, endpoint.workspace)
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=None,
        event_type=TEST_EVENT,
        msg_id=f"evt_test_{uuid.uuid4().hex}",
        created_at=now,
        next_attempt_at=now,
        queued_at=now,
    )
    pk = endpoint.pk
    transaction.on_commit(lambda: enqueue_endpoints([pk]))
    return delivery
