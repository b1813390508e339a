"""Retention: events older than ``ACTIVITY_RETENTION_DAYS`` are deleted in
batches (a beat job), so the log does not grow without bound. 0 keeps all."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

BATCH = 5000


def purge_old_events(*, now=None, batch: int = BATCH) -> int:
    """Delete expired events, ``batch`` per transaction; returns how many."""
    from .models import Event

    days = settings.ACTIVITY_RETENTION_DAYS
    if not days:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                Event.objects.filter(created_at__lt=cutoff)
                .order_by("created_at", "id")
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                return deleted
            Event.objects.filter(id__in=ids).delete()
            deleted += len(ids)
