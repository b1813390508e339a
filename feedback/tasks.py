from celery import shared_task

from . import services

RETRY = {"autoretry_for": (ConnectionError,), "retry_backoff": True, "max_retries": 5}


@shared_task(acks_late=True, **RETRY)
def recompute_demand(item_ids: list[int]) -> int:
    """Recompute and store the demand of queued items (idempotent)."""
    return services.recompute_demand(item_ids)


@shared_task(acks_late=True)
def sweep_demand() -> int:
    """Periodic: finish demand recomputes that were queued but never ran."""
    return services.sweep_demand()


@shared_task(acks_late=True)
def decay_demand() -> int:
    """Periodic (daily): demand decays with age; queue every item with insights."""
    return services.mark_decayed_demand()


@shared_task(acks_late=True)
def send_status_emails(item_id: int, news: str) -> int:
    """Email voters and requesters of a public item that was planned, shipped
    or declined: one task per address, so that a retry after a mail-server
    error resends only the email that failed, never the ones already sent."""
    emails = services.status_email_recipients(item_id)
    for email in emails:
        send_status_email.delay(item_id, news, email)
    return len(emails)


@shared_task(acks_late=True, **RETRY)
def send_status_email(item_id: int, news: str, email: str) -> int:
    return services.send_status_emails(item_id, news, only=[email])


@shared_task(acks_late=True, **RETRY)
def send_vote_verification(vote_id: int) -> bool:
    """Email the link that makes an anonymous vote count (skipped once verified)."""
    return services.send_vote_verification(vote_id)


@shared_task(acks_late=True)
def run_import_step(job_id: int, step: str) -> str:
    """Validate or import a feedback CSV job (a finished step is skipped)."""
    from . import importing

    return importing.IMPORTER.run_step(job_id, step).state
