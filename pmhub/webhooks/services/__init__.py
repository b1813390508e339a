"""Writes of webhooks: endpoints (``endpoints``), deliveries (``deliveries``:
fan-out, the sweep, resend and tests) and sending them (``sending``:
batches per endpoint, retries, the disable rule)."""

from .deliveries import fan_out, notify_disabled, resend, send_test, sweep
from .endpoints import (
    OVERLAPS,
    create_endpoint,
    delete_endpoint,
    rotate_secret,
    set_enabled,
    update_endpoint,
)
from .sending import (
    BATCH,
    JITTER,
    LEASE,
    SCHEDULE,
    deliver,
    deliver_endpoint,
    enqueue_endpoints,
    event_body,
)

__all__ = [
    "BATCH",
    "JITTER",
    "LEASE",
    "OVERLAPS",
    "SCHEDULE",
    "create_endpoint",
    "delete_endpoint",
    "deliver",
    "deliver_endpoint",
    "enqueue_endpoints",
    "event_body",
    "fan_out",
    "notify_disabled",
    "resend",
    "rotate_secret",
    "send_test",
    "set_enabled",
    "sweep",
    "update_endpoint",
]
