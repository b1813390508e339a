"""Which events a reader may see yet, and in which order.

On PostgreSQL ids are handed out when rows are inserted, not when their
transactions commit: a reader that went by id would step over an event whose
transaction committed after a later one (the outbox gap). So every event
carries the id of the transaction that wrote it (``txid``), and readers see
only events of transactions older than every transaction still running
(``txid < pg_snapshot_xmin(pg_current_snapshot())``), in (txid, id) order.
Everything below that bound is final: committed or rolled back, never
changing again. SQLite has one writer at a time, so id order is commit order.
"""

from django.db import connection
from django.db.models import Q


def uses_txid() -> bool:
    return connection.vendor == "postgresql"


def safe_bound() -> int | None:
    """The lowest transaction id that may still commit (PostgreSQL), else None."""
    if not uses_txid():
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return cursor.fetchone()[0]


def ordering() -> list[str]:
    return ["txid", "id"] if uses_txid() else ["id"]


def position_of(event) -> tuple[int, int]:
    """An event's place in the log, as a (txid, id) pair (txid 0 on SQLite)."""
    return (event.txid or 0, event.id) if uses_txid() else (0, event.id)


def visible_after(queryset, position: tuple[int, int] | None, bound: int | None = None):
    """Events of ``queryset`` after ``position`` that are final, in log order."""
    if uses_txid():
        bound = safe_bound() if bound is None else bound
        queryset = queryset.filter(txid__lt=bound)
        if position is not None:
            txid, pk = position
            # txid >= ... first, so the scan starts at the position in the index
            queryset = queryset.filter(Q(txid__gte=txid) & (Q(txid__gt=txid) | Q(id__gt=pk)))
    elif position is not None:
        queryset = queryset.filter(id__gt=position[1])
    return queryset.order_by(*ordering())
