from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def rollup_metric(metric_id: int) -> int:
    """Recompute the dirty days, weeks and months of one metric (idempotent)."""
    return services.process_dirty(metric_id=metric_id)


@shared_task(acks_late=True)
def sweep_metric_rollups() -> int:
    """Periodic: roll up every metric with dirty days (missed enqueues, killed workers)."""
    return services.process_dirty()
