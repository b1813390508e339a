"""The demo workspace's history: ``seed_demo`` creates everything through
the services, so each write already recorded its event, all within a second.
Spread them over the past eight weeks, in the order they were recorded, so
the audit log and the activity panels read like a team's recent work."""

import datetime as dt

from django.utils import timezone

from .models import Event

SPAN = dt.timedelta(weeks=8)


def spread_demo_history(workspace, *, now=None) -> int:
    """Give the workspace's events times from eight weeks ago until now, in
    id order, at working hours. Returns the number of events."""
    events = list(Event.objects.filter(workspace=workspace).order_by("id").only("id"))
    if not events:
        return 0
    now = now or timezone.now()
    # The eight weeks before today: every time is at working hours and in the
    # past, whatever the hour of the seed (a seed at night put the last day's
    # events all at "now").
    start = (now - SPAN).replace(hour=0, minute=0, second=0, microsecond=0)
    days = SPAN.days
    for n, event in enumerate(events):
        position = n * days / len(events)  # days since the start, fraction = time of day
        day = start + dt.timedelta(days=int(position))
        minute = 9 * 60 + int((position % 1) * 9 * 60)  # between 9:00 and 18:00
        event.created_at = min(now, day.replace(hour=minute // 60, minute=minute % 60))
    Event.objects.bulk_update(events, ["created_at"], batch_size=1000)
    return len(events)
