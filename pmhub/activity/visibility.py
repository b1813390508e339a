"""Which events a reader may see yet, and in which order.

On PostgreSQL ids are handed out when rows are inserted, not when their
transactions commit: a reader that went by id would step over an event whose
transaction committed after a later one (the outbox gap). So every event
carries the id of the transaction that wrote it (``txid``), and readers see
only events of transactions older than every transaction still running
(``txid < pg_snapshot_xmin(pg_current_snapshot())``), in (txid, id) order.
Everything below that bound is final: committed or rolled back, never
changing again. SQLite has one writer at a time, so id order is commit order.

Transaction ids are cluster-wide, so the plain snapshot xmin would also wait
for a long transaction in another database of the same server (another
application, a test run). ``safe_bound`` therefore leaves out the running
transactions that ``pg_stat_activity`` shows in *another* database; a
transaction it cannot place (no permission to see it) still counts, so the
rule can delay a reader but never make it skip. The reader's own
transaction, when it has written, caps the bound too: its events are not
final until it commits.
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
        cursor.execute(SAFE_BOUND_SQL)
        return cursor.fetchone()[0]


# The oldest transaction still running that may write to this database: the
# snapshot's in-progress ids minus those known to belong to other databases
# (backend_xid is a 32-bit xid, the snapshot's are xid8: compared modulo 2^32),
# capped by the snapshot's xmax and the reader's own transaction.
SAFE_BOUND_SQL = """
SELECT LEAST(
    pg_snapshot_xmax(snap.s)::text::bigint,
    pg_current_xact_id_if_assigned()::text::bigint,
    (
        SELECT min(running::text::bigint) FROM pg_snapshot_xip(snap.s) AS running
        WHERE running::text::bigint % 4294967296 NOT IN (
            SELECT backend_xid::text::bigint FROM pg_stat_activity
            WHERE backend_xid IS NOT NULL
              AND datid IS DISTINCT FROM (
                  SELECT oid FROM pg_database WHERE datname = current_database()
              )
        )
    )
)
FROM (SELECT pg_current_snapshot() AS s) AS snap
"""


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
