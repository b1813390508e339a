"""Reading the event log for streams: positions, the head, the events after a
position, and the bytes of one Server-Sent Event.

Positions are the change feed's ``(txid, id)`` pairs (``txid`` 0 on SQLite),
read through ``pmhub.activity.visibility``: a stream never steps over an
event whose transaction commits after a later one, so resuming from the last
position it sent gives every change exactly once."""

import json

from django.db import close_old_connections, connection

from pmhub.activity import visibility
from pmhub.activity.models import Event

# A resumed stream replays at most this many events; more than that and the
# page is better reloaded (the stream tells it to).
REPLAY_LIMIT = 1000
BATCH = 500
_FIELDS = (
    "id",
    "txid",
    "verb",
    "object_type",
    "object_id",
    "object_key",
    "parent_type",
    "parent_id",
    "product_id",
    "actor_label",
    "actor_user_id",
    "version",
    "changes",
)

Position = tuple[int, int]
START: Position = (0, 0)


def encode(position: Position) -> str:
    return f"{position[0]}-{position[1]}"


def decode(text: str | None) -> Position | None:
    """A position from a ``Last-Event-ID``; None for anything else."""
    if not text or len(text) > 50:
        return None
    txid, sep, pk = text.strip().partition("-")
    if not sep or not txid.isdigit() or not pk.isdigit():
        return None
    return (int(txid), int(pk))


def _log(workspace_id: int):
    return Event.objects.filter(workspace_id=workspace_id).only(*_FIELDS)


def head(workspace_id: int) -> Position:
    """The position of the workspace's last event a reader may see now: a page
    rendered now is up to date with everything up to here."""
    last = visibility.visible_after(_log(workspace_id), None).reverse().first()
    return visibility.position_of(last) if last is not None else START


def read_after(workspace_id: int, position: Position, limit: int = BATCH) -> list[Event]:
    """The workspace's final events after ``position``, in log order."""
    return list(visibility.visible_after(_log(workspace_id), position)[:limit])


def fresh_connection() -> None:
    """Before a read outside a request (the stream hub's thread): drop a
    connection that broke or outlived CONN_MAX_AGE."""
    close_old_connections()
    if connection.connection is not None and not connection.is_usable():
        connection.close()


def payload(event: Event) -> dict:
    """What a page learns of an event: which object changed, how, and by whom
    (field names only; the page fetches what it shows through its own views)."""
    parent = f"{event.parent_type}:{event.parent_id}" if event.parent_type else None
    return {
        "verb": event.verb,
        "type": event.object_type,
        "id": event.object_id,
        "key": event.object_key,
        "parent": parent,
        "product": event.product_id,
        "actor": event.actor_label,
        "actor_id": event.actor_user_id,
        "version": event.version,
        "fields": sorted(event.changes or {}),
    }


def message(event: Event) -> bytes:
    """One ``change`` Server-Sent Event, its id the event's position."""
    data = json.dumps(payload(event), separators=(",", ":"))
    position = encode(visibility.position_of(event))
    return f"id: {position}\nevent: change\ndata: {data}\n\n".encode()


def control(kind: str, data: dict, position: Position | None = None) -> bytes:
    """A stream's own event (``hello``, ``role``, ``revoked``, ``reset``)."""
    head_line = f"id: {encode(position)}\n" if position is not None else ""
    return f"{head_line}event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


KEEPALIVE = b": keepalive\n\n"
