from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_archive_job(job_id: int) -> str:
    """Run an export, import or CSV export job (a finished job is skipped)."""
    from . import services

    return services.run_job(job_id)


@shared_task
def sweep_archive_jobs() -> dict:
    """Periodic: queue lost jobs again; delete expired export files."""
    from . import services

    return services.sweep_jobs()
