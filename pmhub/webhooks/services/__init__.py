"""Writes of webhooks: endpoints (``endpoints``) and deliveries
(``deliveries``: fan-out, sending, retries, the sweep, resend and tests)."""

from .deliveries import (
    JITTER,
    LEASE,
    SCHEDULE,
    deliver,
    enqueue,
    event_body,
    fan_out,
    notify_disabled,
    resend,
    send_test,
    sweep,
)
from .endpoints import (
    OVERLAPS,
    create_endpoint,
    delete_endpoint,
    rotate_secret,
    set_enabled,
    update_endpoint,
)

__all__ = [
    "JITTER",
    "LEASE",
    "OVERLAPS",
    "SCHEDULE",
    "create_endpoint",
    "delete_endpoint",
    "deliver",
    "enqueue",
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
