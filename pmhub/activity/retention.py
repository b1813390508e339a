"""Retention: events older than ``ACTIVITY_RETENTION_DAYS`` are deleted in
batches (a beat job), so the log does not grow without bound. 0 keeps all.

The log is read from its oldest id on (the primary key: no index on
``created_at`` for every recorded change to keep up), and deleting stops at
the first event that is not expired yet. Ids follow ``created_at``, except
for rows written with an older date (the item history's backfill): those
wait, at most one retention period, until the events before them expire."""

import datetime as dt
from itertools import takewhile

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
            oldest = list(Event.objects.order_by("id").values_list("id", "created_at")[:batch])
            expired = [pk for pk, created in takewhile(lambda row: row[1] < cutoff, oldest)]
            if expired:
                Event.objects.filter(id__in=expired).delete()
                deleted += len(expired)
        if len(expired) < batch:
            return deleted
