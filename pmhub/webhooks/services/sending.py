"""Sending deliveries: bodies, claiming a batch of attempts, the POSTs, and
recording their outcomes (the retry schedule and the disable rule).

A worker drains an endpoint in batches (``deliver_endpoint``): one
transaction claims up to ``BATCH`` due deliveries of the endpoint
(``SELECT … FOR UPDATE SKIP LOCKED``, then one ``UPDATE`` that counts the
attempt and takes a lease, then one ``SELECT`` of the rows with their
events), the target is resolved and checked once for the batch, the POSTs go
one after the other over the kept-alive connection to that checked address,
and one transaction writes every outcome (one ``UPDATE`` for the batch,
guarded by the lease: a worker whose lease expired and was overtaken writes
nothing). About 0.1 database round trips per delivery instead of nine.

At least once: a delivery stays pending (or failed, waiting for a retry)
until a 2xx answer is recorded. A worker killed while sending leaves its
lease to expire; the sweep then queues the endpoint again and the delivery
is sent as its next attempt. ``webhook-id`` (``evt_<event id>``) is the same
on every attempt, so receivers can drop duplicates.

When an attempt gets no HTTP answer at all (refused, timed out, not a
public address), the rest of the batch is not sent: those deliveries are
handed back uncounted and wait with the failed one until its retry, so a
receiver that is down costs one timeout per retry, not one per delivery,
and when it is back every waiting delivery goes out together.
"""

import json
import logging
import random
import time
from contextlib import contextmanager
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from pmhub import activity

from .. import signing, transport
from ..models import TEST_EVENT, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

# Seconds to wait after attempt n fails (n = 1..7); the 8th failure gives up.
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 27 h 35 min in all, ±10 % jitter.
SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000]
JITTER = 0.1
LEASE = timedelta(seconds=60)
# Deliveries claimed at once; a batch stops sending after half its lease.
BATCH = 100
# Batches one task drains before it queues itself again (other endpoints'
# tasks get a turn on a busy worker).
BATCHES_PER_TASK = 50
# Retries due within this many seconds are queued with a countdown; later
# ones are picked up by the sweep (a broker should not hold hour-long ETAs).
COUNTDOWN_LIMIT = 300
# An endpoint with no success for this long, across a given-up delivery, is disabled.
DISABLE_AFTER = timedelta(hours=24)
# The endpoint's last success is written at most this often (the disable
# rule compares it with attempts a day apart).
SUCCESS_RESOLUTION = timedelta(seconds=60)
STATUS = WebhookDelivery.Status
RETRYING = WebhookDelivery.RETRYING


def retry_delay(attempt: int, rand: random.Random | None = None) -> float | None:
    """Seconds before the attempt after failed attempt ``attempt`` (1-based),
    jittered; None when the schedule is exhausted."""
    if attempt > len(SCHEDULE):
        return None
    spread = (rand or random).uniform(-JITTER, JITTER)
    return SCHEDULE[attempt - 1] * (1 + spread)


# --- bodies ------------------------------------------------------------------


def event_data(event, workspace_slug: str | None = None) -> dict:
    """The ``data`` of an event's webhook: the event log row, JSON-safe."""
    return {
        "id": event.pk,
        "workspace": workspace_slug or event.workspace.slug,
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


def event_body(event, workspace_slug: str | None = None) -> bytes:
    """The body of an event's webhook (the same bytes on every attempt)."""
    body = {
        "type": event.verb,
        "timestamp": event.created_at,
        "data": event_data(event, workspace_slug),
    }
    return json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def _test_body(delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> bytes:
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


def body_of(delivery: WebhookDelivery, endpoint: WebhookEndpoint | None = None) -> bytes:
    endpoint = endpoint or delivery.endpoint
    if delivery.event_id:
        return event_body(delivery.event, endpoint.workspace.slug)
    return _test_body(delivery, endpoint)


# --- queueing ----------------------------------------------------------------


def enqueue_endpoints(endpoint_ids, countdown: float | None = None) -> None:
    """Queue a drain of each endpoint; a broker that is down only logs (the
    sweep queues them later)."""
    from ..tasks import deliver_endpoint_webhooks

    endpoint_ids = sorted(set(endpoint_ids))
    try:
        for pk in endpoint_ids:
            deliver_endpoint_webhooks.apply_async(args=[pk], countdown=countdown)
    except Exception:
        log.warning("Could not queue webhook deliveries of %s", endpoint_ids, exc_info=True)


# --- attempts ----------------------------------------------------------------


@contextmanager
def _bookkeeping():
    """A transaction for a batch's claim or results, committed without
    waiting for the WAL flush on PostgreSQL (``synchronous_commit = off``).
    A crash can lose at most the last fraction of a second of these commits,
    and losing one only repeats an attempt, which at-least-once delivery
    allows (the receiver sees the same webhook-id again); the delivery row
    itself was written durably with its event."""
    with transaction.atomic():
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _claim(now, *, endpoint_id: int | None = None, ids=None, limit: int = BATCH):
    """Take up to ``limit`` due deliveries (of one endpoint, or these ids) for
    one attempt each: counted, with one lease for the batch. Returns the lease
    and the rows with their endpoint and event, oldest due first; rows another
    worker holds (locked or leased) are skipped."""
    with _bookkeeping():
        due = WebhookDelivery.objects.due(now)
        due = due.filter(pk__in=ids) if ids is not None else due.filter(endpoint_id=endpoint_id)
        picked = list(
            due.order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:limit]
        )
        if not picked:
            return None, []
        lease = now + LEASE
        WebhookDelivery.objects.filter(pk__in=picked).update(
            attempts=F("attempts") + 1,
            lease_until=lease,
            first_attempt_at=Coalesce(F("first_attempt_at"), now),
            last_attempt_at=now,
        )
        rows = list(
            WebhookDelivery.objects.filter(pk__in=picked)
            .select_related("endpoint__workspace", "event")
            .order_by("next_attempt_at", "id")
        )
        return lease, rows


def deliver(delivery_id: int, *, now=None) -> str | None:
    """One attempt of one delivery, if it is due: claim, sign, POST, record.
    Returns the new status, or None when there was nothing to do."""
    now = now or timezone.now()
    lease, rows = _claim(now, ids=[delivery_id], limit=1)
    if not rows:
        return None
    return _send_batch(rows, lease, now).get(delivery_id)


def deliver_endpoint(endpoint_id: int, *, now=None, limit: int | None = None) -> int:
    """Drain an endpoint: claim, send and record batches of due deliveries
    until none is due, an attempt gets no answer (the rest wait for its
    retry), ``limit`` deliveries were attempted or ``BATCHES_PER_TASK``
    batches were sent (then the endpoint is queued again). Returns the number
    of attempts made."""
    fixed = now
    done = 0
    for _ in range(BATCHES_PER_TASK):
        size = BATCH if limit is None else min(BATCH, limit - done)
        if size <= 0:
            return done
        now = fixed or timezone.now()
        lease, rows = _claim(now, endpoint_id=endpoint_id, limit=size)
        if not rows:
            return done
        outcomes = _send_batch(rows, lease, now)
        done += len(outcomes)
        # Stopped early by an attempt without an answer: the rest wait for its retry.
        if len(outcomes) < len(rows) and set(outcomes.values()) - {STATUS.SUCCEEDED}:
            return done
    if limit is None:
        transaction.on_commit(lambda: enqueue_endpoints([endpoint_id]))
    return done


def _send_batch(rows: list[WebhookDelivery], lease, now) -> dict[int, str]:
    """POST the claimed rows (all of one endpoint) and record the outcomes;
    returns ``{delivery id: new status}`` for the rows attempted."""
    endpoint = rows[0].endpoint
    secrets = endpoint.signing_secrets(now)
    timestamp = int(now.timestamp())
    try:
        target = transport.check_target(endpoint.url)  # one resolution per batch
    except (transport.UnsafeTarget, ValidationError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        target, refused = None, transport.Result(None, b"", 0, error=f"Refused: {message}")
    started = time.monotonic()
    results = []
    for delivery in rows:
        if target is None:
            result = refused
        else:
            body = body_of(delivery, endpoint)
            headers = signing.headers(secrets, delivery.msg_id, timestamp, body)
            result = transport.post(target, body, headers)
        results.append((delivery, result))
        if result.status is None or time.monotonic() - started > LEASE.total_seconds() / 2:
            break
    unsent = rows[len(results) :]
    return _record_batch(endpoint, rows, results, unsent, lease, now)


def _outcome(delivery: WebhookDelivery, result, now) -> dict:
    values = {
        "lease_until": None,
        "response_status": result.status,
        "latency_ms": result.latency_ms,
        "response_body": result.body.decode("utf-8", "replace"),
        "error": result.error[:500],
        "next_attempt_at": delivery.next_attempt_at,
        "queued_at": delivery.queued_at,
    }
    if result.ok:
        values["status"] = STATUS.SUCCEEDED
        return values
    delay = retry_delay(delivery.attempts)
    if delay is None:
        values["status"] = STATUS.GIVEN_UP
        return values
    values["status"] = STATUS.FAILED
    values["next_attempt_at"] = now + timedelta(seconds=delay)
    # The sweep leaves a retry alone while its countdown task is queued.
    values["queued_at"] = values["next_attempt_at"] if delay <= COUNTDOWN_LIMIT else None
    return values


_FIELDS = [
    "lease_until",
    "response_status",
    "latency_ms",
    "response_body",
    "error",
    "next_attempt_at",
    "queued_at",
    "status",
]


# (field, PostgreSQL array type) of an outcome, written by one UPDATE … FROM unnest.
_OUTCOME_TYPES = [
    ("status", "text"),
    ("response_status", "integer"),
    ("latency_ms", "integer"),
    ("response_body", "text"),
    ("error", "text"),
    ("next_attempt_at", "timestamptz"),
    ("queued_at", "timestamptz"),
]


def _write_outcomes(deliveries: list[WebhookDelivery]) -> None:
    """One UPDATE for a batch's outcomes, joined to a table of the values
    (Django's ``bulk_update`` builds a CASE per field and row, which cost
    more than the POSTs): on PostgreSQL one array per column, unnested; on
    SQLite a VALUES list."""
    if not deliveries:
        return
    connection = transaction.get_connection()
    names = [name for name, _ in _OUTCOME_TYPES]
    table = WebhookDelivery._meta.db_table
    assign = ", ".join(f"{name} = v.{name}" for name in names)
    if connection.vendor == "postgresql":
        source = (
            "unnest(%s::bigint[], "
            + ", ".join(f"%s::{kind}[]" for _, kind in _OUTCOME_TYPES)
            + f") AS v(id, {', '.join(names)})"
        )
        params = [[d.pk for d in deliveries]] + [[getattr(d, n) for d in deliveries] for n in names]
    else:
        adapt = connection.ops.adapt_datetimefield_value
        columns = ", ".join(f"column{i + 1} AS {n}" for i, n in enumerate(["id", *names]))
        row = "(" + ", ".join(["%s"] * (len(names) + 1)) + ")"
        source = f"(SELECT {columns} FROM (VALUES {', '.join([row] * len(deliveries))})) AS v"
        params = [
            value
            for d in deliveries
            for value in (
                d.pk,
                *(
                    adapt(getattr(d, n)) if kind == "timestamptz" else getattr(d, n)
                    for n, kind in _OUTCOME_TYPES
                ),
            )
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS d SET lease_until = NULL, {assign} FROM {source} WHERE d.id = v.id",
            params,
        )


def _record_batch(endpoint, rows, results, unsent, lease, now) -> dict[int, str]:
    """Write a batch's outcomes in one UPDATE (only rows still under this
    batch's lease: an overtaken worker writes nothing); hand back the unsent
    rows uncounted, waiting with the failure that stopped the batch; refresh
    the endpoint's last success (at most once a minute); run the disable rule
    after a delivery is given up; queue retries that are due soon."""
    outcomes = {}
    for delivery, result in results:
        values = _outcome(delivery, result, now)
        for name in _FIELDS:
            setattr(delivery, name, values[name])
        outcomes[delivery.pk] = values["status"]
    last = results[-1][0] if results else None
    with _bookkeeping():
        # Only rows still under this batch's lease are ours to write (a worker
        # whose lease expired and was overtaken writes nothing).
        mine = WebhookDelivery.objects.filter(lease_until=lease, status__in=RETRYING)
        ours = set(
            mine.filter(pk__in=[d.pk for d in rows])
            .select_for_update()
            .values_list("pk", flat=True)
        )
        outcomes = {pk: status for pk, status in outcomes.items() if pk in ours}
        _write_outcomes([d for d, _ in results if d.pk in ours])
        if unsent:
            wait = {}
            if last is not None and last.status == STATUS.FAILED:
                wait = {"next_attempt_at": last.next_attempt_at, "queued_at": last.queued_at}
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in unsent if d.pk in ours]).update(
                attempts=F("attempts") - 1,
                first_attempt_at=Case(
                    When(attempts=1, then=Value(None)),
                    default=F("first_attempt_at"),
                    output_field=models.DateTimeField(),
                ),
                lease_until=None,
                **wait,
            )
        statuses = set(outcomes.values())
        if STATUS.SUCCEEDED in statuses:
            seen = endpoint.last_success_at
            if seen is None or seen < now - SUCCESS_RESOLUTION:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).filter(
                    Q(last_success_at__isnull=True) | Q(last_success_at__lt=now)
                ).update(last_success_at=now)
            _release_waiting(endpoint.pk, now)
        if STATUS.GIVEN_UP in statuses:
            error = next(r.error for d, r in results if outcomes.get(d.pk) == STATUS.GIVEN_UP)
            _disable_if_failing(endpoint, now, error)
        soon = [
            (d.next_attempt_at - now).total_seconds()
            for d, _ in results
            if outcomes.get(d.pk) == STATUS.FAILED and d.queued_at is not None
        ]
        if soon:
            pk, countdown = endpoint.pk, max(min(soon), 0)
            transaction.on_commit(lambda: enqueue_endpoints([pk], countdown=countdown))
    return outcomes


def _release_waiting(endpoint_id: int, now) -> None:
    """The receiver answers (a batch had a success): what waits for a retry
    because the receiver did not answer goes out now, not at the retry's
    time, which may be hours away (one UPDATE a batch, on the partial index
    of due deliveries)."""
    released = WebhookDelivery.objects.filter(
        endpoint_id=endpoint_id,
        status__in=RETRYING,
        next_attempt_at__gt=now,
        response_status__isnull=True,
    ).update(next_attempt_at=now, queued_at=now)
    if released:
        transaction.on_commit(lambda: enqueue_endpoints([endpoint_id]))


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
