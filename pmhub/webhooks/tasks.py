"""Celery tasks of webhooks: thin, idempotent (deliveries are claimed before
they are sent; a task finding nothing due does nothing)."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def deliver_endpoint_webhooks(endpoint_id: int) -> None:
    """Send an endpoint's due deliveries, a batch at a time."""
    services.deliver_endpoint(endpoint_id)


@shared_task(ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    """One delivery (tasks queued by an older version before an upgrade)."""
    services.deliver(delivery_id)


@shared_task(ignore_result=True)
def sweep_webhook_deliveries() -> int:
    return services.sweep()


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def notify_endpoint_disabled(endpoint_id: int) -> int:
    return services.notify_disabled(endpoint_id)
