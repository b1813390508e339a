"""Fixtures of the discussions tests: an item of PAY created by the pm and
owned by the teammate, and ``notify()``, which hands the notifications
consumer every event recorded since the last call (the handler itself: the
dispatch path, with its final-events bound, has its own transactional test)."""

import pytest

from discussions import kinds
from pmhub.activity.models import Event
from tests.backlog.factories import make_item


@pytest.fixture
def item(product, pm, teammate):
    return make_item(product, pm, title="One-click checkout", owner=teammate)


@pytest.fixture
def notify(db):
    seen = {"id": 0}

    def run():
        events = list(Event.objects.filter(id__gt=seen["id"]).order_by("id"))
        if events:
            seen["id"] = events[-1].id
            kinds.notify_consumer(events)
        return events

    return run
