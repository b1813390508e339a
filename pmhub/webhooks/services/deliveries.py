"""Deliveries: the fan-out of events to endpoints, sending one attempt, the
retry schedule, the sweep, resend, test events, and disabling an endpoint
that fails for a whole retry window.

At least once: a delivery stays pending (or failed, waiting for a retry)
until a 2xx answer is recorded. An attempt is claimed with a conditional
``UPDATE`` that takes a lease (``LEASE``) and counts the attempt; the result
is recorded only by the worker holding that attempt. A worker killed while
sending leaves its lease to expire; the sweep then hands the delivery to
another worker as the next attempt. ``webhook-id`` (``evt_<event id>``)
is the same on every attempt, so receivers can drop duplicates.
"""

import json
import logging
import random
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from pmhub import activity
from pmhub.accounts.models import ADMIN_ROLES, Membership
from pmhub.accounts.services import require_admin

from .. import signing, transport
from ..models import TEST_EVENT, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

# Seconds to wait after attempt n fails (n = 1..7); the 8th failure gives up.
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 27 h 35 min in all, ±10 % jitter.
SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000]
JITTER = 0.1
LEASE = timedelta(seconds=60)
# Retries due within this many seconds are queued with a countdown; later
# ones are picked up by the sweep (a broker should not hold hour-long ETAs).
COUNTDOWN_LIMIT = 300
# An endpoint with no success for this long, across a given-up delivery, is disabled.
DISABLE_AFTER = timedelta(hours=24)
SWEEP_BATCH = 5000
# The endpoint's last success is written at most this often (the disable
# rule compares it with attempts a day apart).
SUCCESS_RESOLUTION = timedelta(seconds=60)
STATUS = WebhookDelivery.Status


def retry_delay(attempt: int, rand: random.Random | None = None) -> float | None:
    """Seconds before the attempt after failed attempt ``attempt`` (1-based),
    jittered; None when the schedule is exhausted."""
    if attempt > len(SCHEDULE):
        return None
    spread = (rand or random).uniform(-JITTER, JITTER)
    return SCHEDULE[attempt - 1] * (1 + spread)


# --- bodies ------------------------------------------------------------------


def event_data(event) -> dict:
    """The ``data`` of an event's webhook: the event log row, JSON-safe."""
    return {
        "id": event.pk,
        "workspace": event.workspace.slug,
        "verb": event.verb,
        "actor": {
            "kind": event.actor_kind,
            "user_id": event.actor_user_id,
            "token_id": event.actor_token_id,
            "label": event.actor_label,
        },
        "object": {
            "type": event.object_type,
            "id": event.object_id,
            "key": event.object_key,
            "title": event.object_title,
        },
        "product_id": event.product_id,
        "changes": event.changes or {},
        "version": event.version,
        "created_at": event.created_at,
    }


def event_body(event) -> bytes:
    """The body of an event's webhook (the same bytes on every attempt)."""
    body = {"type": event.verb, "timestamp": event.created_at, "data": event_data(event)}
    return json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def _test_body(delivery: WebhookDelivery) -> bytes:
    endpoint = delivery.endpoint
    body = {
        "type": TEST_EVENT,
        "timestamp": delivery.created_at,
        "data": {
            "workspace": endpoint.workspace.slug,
            "endpoint_id": endpoint.pk,
            "message": "A test event from PMHub: the endpoint is reachable and signed.",
        },
    }
    return json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def body_of(delivery: WebhookDelivery) -> bytes:
    return event_body(delivery.event) if delivery.event_id else _test_body(delivery)


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
    event_ids = [e.pk for e in events if e.workspace_id in endpoints]
    transaction.on_commit(lambda: _enqueue_new(event_ids))
    return len(rows)


def _enqueue_new(event_ids: list[int]) -> None:
    ids = (
        WebhookDelivery.objects.filter(event_id__in=event_ids, status=STATUS.PENDING, attempts=0)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    enqueue(list(ids))


def enqueue(delivery_ids: list[int], countdown: float | None = None) -> None:
    """Hand deliveries to the broker; a broker that is down only logs (the
    sweep sends them later)."""
    from ..tasks import deliver_webhook

    try:
        for pk in delivery_ids:
            deliver_webhook.apply_async(args=[pk], countdown=countdown)
    except Exception:
        log.warning("Could not enqueue %d webhook deliveries", len(delivery_ids), exc_info=True)


def kick_endpoint(endpoint_id: int) -> None:
    """After commit, queue the due deliveries of an endpoint turned on."""
    transaction.on_commit(lambda: sweep(endpoint_id=endpoint_id))


# --- one attempt -------------------------------------------------------------


def _claim(delivery_id: int, now) -> WebhookDelivery | None:
    """Take the delivery for one attempt (counted, with a lease) and load it
    with its endpoint and event; None when it is not due, already done, held
    by another worker, or its endpoint is off."""
    with _bookkeeping():
        claimed = (
            WebhookDelivery.objects.due(now)
            .filter(pk=delivery_id)
            .update(
                attempts=F("attempts") + 1,
                lease_until=now + LEASE,
                first_attempt_at=Coalesce(F("first_attempt_at"), now),
                last_attempt_at=now,
            )
        )
        if claimed != 1:
            return None
        return WebhookDelivery.objects.select_related(
            "endpoint__workspace", "event__workspace"
        ).get(pk=delivery_id)


@contextmanager
def _bookkeeping():
    """A transaction for an attempt's claim or result, committed without
    waiting for the WAL flush on PostgreSQL (``synchronous_commit = off``).
    A crash can lose at most the last fraction of a second of these commits,
    and losing one only repeats an attempt, which at-least-once delivery
    allows (the receiver sees the same webhook-id again); the delivery row
    itself was written durably with its event. It saves a disk flush per
    statement, most of an attempt's cost on a busy machine."""
    with transaction.atomic():
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def deliver(delivery_id: int, *, now=None) -> str | None:
    """One attempt of a delivery, if it is due: claim, sign, POST, record.
    Returns the status recorded, or None when there was nothing to do."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    body = body_of(delivery)
    timestamp = int(now.timestamp())
    headers = signing.headers(endpoint.signing_secrets(now), delivery.msg_id, timestamp, body)
    try:
        target = transport.check_target(endpoint.url)
    except (transport.UnsafeTarget, ValidationError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        result = transport.Result(None, b"", 0, error=f"Refused: {message}")
    else:
        result = transport.post(target, body, headers)
    return _record(delivery, delivery.attempts, result, now)


def _record(delivery: WebhookDelivery, attempt: int, result, now) -> str | None:
    """Write the attempt's outcome: one UPDATE on success (the endpoint's
    last success is refreshed at most once a minute), a transaction with the
    disable rule when the delivery is given up."""
    values = {
        "lease_until": None,
        "response_status": result.status,
        "latency_ms": result.latency_ms,
        "response_body": result.body.decode("utf-8", "replace"),
        "error": result.error[:500],
    }
    retry_in = None
    if result.ok:
        values["status"] = STATUS.SUCCEEDED
    else:
        delay = retry_delay(attempt)
        if delay is None:
            values["status"] = STATUS.GIVEN_UP
        else:
            retry_in = delay
            values["status"] = STATUS.FAILED
            values["next_attempt_at"] = now + timedelta(seconds=delay)
            # The sweep leaves a retry alone while its countdown task is queued.
            values["queued_at"] = values["next_attempt_at"] if delay <= COUNTDOWN_LIMIT else None
    with _bookkeeping():
        # Only the worker holding this attempt records it (a worker whose
        # lease expired and was overtaken writes nothing).
        written = WebhookDelivery.objects.filter(
            pk=delivery.pk, attempts=attempt, status__in=WebhookDelivery.RETRYING
        ).update(**values)
        if not written:
            return None
        endpoint = delivery.endpoint
        if result.ok:
            seen = endpoint.last_success_at
            if seen is None or seen < now - SUCCESS_RESOLUTION:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).filter(
                    Q(last_success_at__isnull=True) | Q(last_success_at__lt=now)
                ).update(last_success_at=now)
        elif values["status"] == STATUS.GIVEN_UP:
            _disable_if_failing(endpoint, now, result.error)
        elif retry_in is not None and retry_in <= COUNTDOWN_LIMIT:
            pk = delivery.pk
            transaction.on_commit(lambda: enqueue([pk], countdown=retry_in))
    return values["status"]


def _disable_if_failing(endpoint: WebhookEndpoint, now, error: str) -> bool:
    """The rule: an endpoint with no successful delivery since the first
    attempt of its oldest given-up delivery, at least DISABLE_AFTER ago, has
    failed for a whole retry window: disable it and tell the admins."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.enabled:
        return False
    given_up = endpoint.deliveries.filter(status=STATUS.GIVEN_UP, first_attempt_at__isnull=False)
    if endpoint.last_success_at is not None:
        given_up = given_up.filter(first_attempt_at__gt=endpoint.last_success_at)
    oldest = given_up.order_by("first_attempt_at").values_list("first_attempt_at", flat=True)
    oldest = oldest.first()
    if oldest is None or now - oldest < DISABLE_AFTER:
        return False
    reason = (
        f"Disabled automatically on {now:%Y-%m-%d %H:%M} UTC: no delivery succeeded since "
        f"{oldest:%Y-%m-%d %H:%M} UTC (a whole retry window). Last error: {error or 'none'}"
    )[:300]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False,
        disabled_reason=reason,
        disabled_at=now,
        version=F("version") + 1,
        updated_at=now,
    )
    endpoint.refresh_from_db()
    with activity.acting_as("system", label="Webhook deliveries"):
        activity.record(
            endpoint.workspace_id,
            "webhook_endpoint.disabled",
            endpoint,
            changes={"enabled": [True, False]},
            object_title=endpoint.url,
        )
    pk = endpoint.pk
    transaction.on_commit(lambda: _queue_notice(pk))
    return True


def _queue_notice(endpoint_id: int) -> None:
    from ..tasks import notify_endpoint_disabled

    try:
        notify_endpoint_disabled.delay(endpoint_id)
    except Exception:  # the page shows the reason in any case
        log.warning("Could not enqueue the disabled-endpoint notice", exc_info=True)


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
    ids = list(due.order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    WebhookDelivery.objects.filter(pk__in=ids).update(queued_at=now)
    enqueue(ids)
    return len(ids)


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
        pk = delivery.pk
        transaction.on_commit(lambda: enqueue([pk]))
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
    pk = delivery.pk
    transaction.on_commit(lambda: enqueue([pk]))
    return delivery
