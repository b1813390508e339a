"""Durable consumers of the event log.

A consumer is a name and a handler, registered from an ``AppConfig.ready()``::

    from pmhub.activity import consumers
    consumers.register("roadmap-changelog", handle, verbs={"item.status_changed"})

``dispatch(name)`` hands the handler the consumer's new events in log order,
a batch at a time, inside one transaction that also advances the consumer's
cursor (``ConsumerCursor``, row-locked, so two workers never process the same
events): the handler's own writes and the cursor commit together or not at
all, so each event reaches each consumer exactly once, however often dispatch
runs. Dispatch is queued after every transaction that recorded events
(``transaction.on_commit``) and runs every minute from beat as a sweep, so a
broker outage or a crash after commit only delays a consumer. Only final
events are handed out (``visibility``), so a transaction that commits late is
not skipped. A handler that raises rolls its batch back; the batch is retried
by the next dispatch.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction

from . import visibility

log = logging.getLogger(__name__)
BATCH_SIZE = 500


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: Callable
    verbs: frozenset | None


_registry: dict[str, Consumer] = {}
_skips: list[Callable] = []


def register(name: str, handler: Callable, verbs: Iterable[str] | None = None) -> None:
    """Register a durable consumer; ``handler(events)`` gets a list of Events
    (only of ``verbs`` when given; its cursor still passes the others)."""
    _registry[name] = Consumer(name, handler, frozenset(verbs) if verbs is not None else None)


def register_skip(predicate: Callable) -> None:
    """Register ``predicate(events) -> set of ids`` of events no consumer is
    handed (a workspace import's copied history: ``archive``)."""
    if predicate not in _skips:
        _skips.append(predicate)


def unregister(name: str) -> None:
    _registry.pop(name, None)


def registered() -> dict[str, Consumer]:
    return dict(_registry)


def dispatch_on_commit() -> None:
    """Queue a dispatch of every consumer once the current transaction commits
    (once per transaction, however many events it recorded)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _enqueue()
        return
    if any(fn is _enqueue_after_commit for _sids, fn, _robust in connection.run_on_commit):
        return
    transaction.on_commit(_enqueue_after_commit, robust=True)


def _enqueue_after_commit() -> None:
    _enqueue()


def _enqueue() -> None:
    if not _registry:
        return
    from celery import current_app

    if current_app.conf.task_always_eager:
        # Embedded mode runs tasks inline anyway. Calling the dispatch directly
        # (not through an eager task) keeps clear of Celery's process-wide
        # "joining would block" flag, which eager tasks committing in two
        # threads at once can leave set.
        dispatch_all()
        return
    from .tasks import dispatch_events

    try:
        dispatch_events.delay()
    except Exception:  # the broker is down: the beat sweep dispatches later
        log.warning("could not queue activity.dispatch; the sweep will run it", exc_info=True)


def dispatch(name: str, *, batch_size: int = BATCH_SIZE) -> int:
    """Hand consumer ``name`` its new events until none are left; returns
    how many events it was handed."""
    consumer = _registry[name]
    handled = 0
    while True:
        count, more = _dispatch_batch(consumer, batch_size)
        handled += count
        if not more:
            return handled


def dispatch_all() -> dict[str, int]:
    """Dispatch every registered consumer; a failing one does not stop the others."""
    done = {}
    for name in sorted(_registry):
        try:
            done[name] = dispatch(name)
        except Exception:
            log.exception("activity consumer %s failed; its batch will be retried", name)
            done[name] = -1
    return done


def _dispatch_batch(consumer: Consumer, batch_size: int) -> tuple[int, bool]:
    from .models import ConsumerCursor, Event

    with transaction.atomic():
        bound = visibility.safe_bound()
        ConsumerCursor.objects.get_or_create(name=consumer.name)
        cursor = ConsumerCursor.objects.select_for_update().get(name=consumer.name)
        position = (cursor.last_txid, cursor.last_id)
        events = list(
            visibility.visible_after(Event.objects.all(), position, bound).select_related(
                "actor_user", "actor_token"
            )[:batch_size]
        )
        if not events:
            return 0, False
        skipped = set().union(*(skip(events) for skip in _skips))
        wanted = [
            e
            for e in events
            if (consumer.verbs is None or e.verb in consumer.verbs) and e.id not in skipped
        ]
        if wanted:
            consumer.handler(wanted)
        cursor.last_txid, cursor.last_id = visibility.position_of(events[-1])
        cursor.save(update_fields=["last_txid", "last_id"])
        return len(wanted), len(events) == batch_size
