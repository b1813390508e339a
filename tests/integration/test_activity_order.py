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


def test_a_long_transaction_in_another_database_does_not_hold_the_log_back(workspace, pm):
    """Transaction ids are cluster-wide; only this database's writers count."""
    require(is_postgres(), "PostgreSQL is needed for concurrent transactions")
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    params.update(dbname="postgres", autocommit=False)
    seen = []
    consumers.register("test-other-db", lambda events: seen.extend(e.verb for e in events))
    try:
        with psycopg.connect(**params) as other:
            other.execute("SELECT pg_current_xact_id()")  # holds an xid, open
            record(workspace, "x.done", actor=pm)
            consumers.dispatch("test-other-db")
            assert seen == ["x.done"]
            other.rollback()
    finally:
        consumers.unregister("test-other-db")
