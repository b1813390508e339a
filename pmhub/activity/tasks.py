from celery import shared_task

from . import consumers, retention


@shared_task(name="activity.dispatch", acks_late=True)
def dispatch_events() -> dict[str, int]:
    """Hand every consumer its new events (after a commit, and every minute)."""
    return consumers.dispatch_all()


@shared_task(name="activity.purge", acks_late=True)
def purge_old_events() -> int:
    """Delete events older than ACTIVITY_RETENTION_DAYS, in batches."""
    return retention.purge_old_events()
