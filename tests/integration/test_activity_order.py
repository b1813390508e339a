"""The outbox gap on PostgreSQL: a transaction that took a lower event id
commits after a later one. Readers of the log (consumers here, the change
feed in tests/activity/test_feed.py) must see both, each exactly once."""

import threading

import pytest
from django.db import connection, transaction

from pmhub.activity import consumers, record
from tests.conftest import is_postgres, require

pytestmark = pytest.mark.django_db(transaction=True)


def hold_open(workspace, pm, started, release):
    """Record an event in a transaction that stays open until ``release``."""
    try:
        with transaction.atomic():
            record(workspace, "slow.done", actor=pm)
            started.set()
            assert release.wait(20)
    finally:
        connection.close()


def test_a_late_commit_is_not_skipped_by_a_consumer(workspace, pm):
    require(is_postgres(), "PostgreSQL is needed for concurrent transactions")
    seen = []
    consumers.register("test-order", lambda events: seen.extend(e.verb for e in events))
    try:
        started, release = threading.Event(), threading.Event()
        slow = threading.Thread(target=hold_open, args=(workspace, pm, started, release))
        slow.start()
        assert started.wait(20)
        record(workspace, "fast.done", actor=pm)  # commits first, with a higher id
        consumers.dispatch("test-order")
        assert seen == []  # the fast event waits behind the open transaction
        release.set()
        slow.join(30)
        consumers.dispatch("test-order")
        consumers.dispatch("test-order")
        assert sorted(seen) == ["fast.done", "slow.done"]
        assert seen == ["slow.done", "fast.done"]  # log order: the older transaction first
    finally:
        release.set()
        consumers.unregister("test-order")
