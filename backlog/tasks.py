from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def recompute_product_scores(product_id: int) -> int:
    """Rescore a product's backlog with its active model (idempotent)."""
    return services.recompute_scores(product_id)


@shared_task(acks_late=True)
def sweep_score_recomputes() -> list[int]:
    """Periodic: finish recomputes that were marked pending but never ran."""
    return services.sweep_pending_recomputes()


@shared_task(acks_late=True)
def run_import_step(job_id: int, step: str) -> str:
    """Validate or import a CSV import job (idempotent: a finished step is skipped)."""
    from . import importing

    return importing.IMPORTER.run_step(job_id, step).state
