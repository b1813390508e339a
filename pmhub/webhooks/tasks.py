"""Celery tasks of webhooks: thin, idempotent (a delivery is claimed before
it is sent; a task for a delivery that is not due does nothing)."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
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
