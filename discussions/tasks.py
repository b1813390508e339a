import datetime as dt

from celery import shared_task
from django.utils import timezone

from . import services

RETRY = {"autoretry_for": (ConnectionError, OSError), "retry_backoff": True, "max_retries": 5}


@shared_task(acks_late=True, **RETRY)
def send_notification_emails(user_id: int) -> int:
    """Email one person what waits to go out at once (idempotent: sent rows are marked)."""
    return services.send_pending_email(user_id)


@shared_task(acks_late=True)
def sweep_notification_emails() -> int:
    """Periodic: queue the emails a broker outage left pending."""
    users = services.pending_recipients()
    for uid in users:
        send_notification_emails.delay(uid)
    return len(users)


@shared_task(acks_late=True, **RETRY)
def send_digest(user_id: int, day: str) -> int:
    return services.send_digest(user_id, dt.date.fromisoformat(day))


@shared_task(acks_late=True)
def build_digests() -> int:
    """Periodic (daily): one digest task per person with notifications waiting."""
    day = timezone.localdate().isoformat()
    users = services.digest_recipients()
    for uid in users:
        send_digest.delay(uid, day)
    return len(users)
