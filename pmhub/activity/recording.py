"""``record`` and ``record_many``: one event per change, in the caller's
transaction (services call them; views and signals never do)."""

import datetime as dt
import decimal
import enum
import json
import time
import uuid
from collections.abc import Iterable, Mapping

from django.db import connection, models
from django.utils import timezone

from pmhub.live.publish import changed as live_changed

from .actors import current_actor


def json_safe(value):
    """A value JSON can carry and a person can read: model rows become their
    id, dates ISO strings, decimals strings, sets sorted lists."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((json_safe(v) for v in value), key=repr)
    if isinstance(value, Iterable):
        return [json_safe(v) for v in value]
    return str(value)


def diff(before: Mapping, after: Mapping) -> dict:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {
        name: [json_safe(before.get(name)), json_safe(value)]
        for name, value in after.items()
        if json_safe(before.get(name)) != json_safe(value)
    }


def _describe(obj, object_type, object_id, object_key, object_title, product, version, parent):
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        object_key = object_key or getattr(obj, "key", "") or ""
        if not object_title:
            object_title = getattr(obj, "title", None) or getattr(obj, "name", None) or str(obj)
        if product is None:
            product = _product_of(obj)
        if version is None:
            version = getattr(obj, "version", None)
    return (
        object_type or "",
        object_id,
        str(object_key or "")[:60],
        str(object_title or "")[:300],
        parent._meta.label_lower if parent is not None else "",
        parent.pk if parent is not None else None,
        product if isinstance(product, int) or product is None else product.pk,
        version,
    )


def _product_of(obj):
    # The activity app imports no app: a product is recognised by its label.
    if obj._meta.label_lower == "products.product":
        return obj.pk
    return getattr(obj, "product_id", None)


# The columns an event is written with, in the order of a row tuple, and the
# PostgreSQL type of their values. ``id`` and ``txid`` come from the
# database (``txid`` is its column default: the writing transaction).
_COLUMNS = [
    ("workspace_id", "bigint"),
    ("actor_kind", "text"),
    ("actor_user_id", "bigint"),
    ("actor_token_id", "bigint"),
    ("actor_label", "text"),
    ("verb", "text"),
    ("object_type", "text"),
    ("object_id", "bigint"),
    ("object_key", "text"),
    ("object_title", "text"),
    ("parent_type", "text"),
    ("parent_id", "bigint"),
    ("product_id", "bigint"),
    ("version", "integer"),
    ("created_at", "timestamptz"),
    ("changes", "jsonb"),
]
_NAMES = [name for name, _ in _COLUMNS]


def _json_default(value):
    # What the C encoder cannot write itself, as ``json_safe`` writes it.
    return json_safe(value)


def changes_json(changes) -> str:
    """``changes`` as JSON text, the way ``json_safe`` would shape it."""
    return json.dumps(changes or {}, default=_json_default, separators=(",", ":"))


def _row(workspace, verb, obj, who: tuple, stamp, changes=None, **fields) -> tuple:
    """An event as a tuple of ``_COLUMNS`` values (no model instance: a bulk
    write of thousands of events builds only these). ``who`` is the actor's
    four columns, ``stamp`` the time as the database takes it."""
    return (
        workspace if isinstance(workspace, int) else workspace.pk,
        *who,
        verb,
        *_describe(obj, **fields),
        stamp,
        changes_json(changes),
    )


def _who(actor) -> tuple:
    return (actor.kind, actor.user_id, actor.token_id, actor.label)


def _after_commit_dispatch():
    from . import consumers

    consumers.dispatch_on_commit()


def record(
    workspace,
    verb: str,
    obj=None,
    *,
    changes: Mapping | None = None,
    product=None,
    object_type: str | None = None,
    object_id: int | None = None,
    object_key: str = "",
    object_title: str = "",
    version: int | None = None,
    parent=None,
    actor=None,
):
    """Record one event in the caller's transaction and return it.

    ``obj`` fills the object's type, id, key (``PAY-42``), title, product and
    version unless given; ``changes`` is ``{field: [old, new]}``. The actor
    is whoever acts in this context (request, token, visitor, job); ``actor``
    is only the fallback when nobody does. ``parent`` is the object this one
    belongs to (an entry's roadmap), so its activity panel shows the event."""
    from .models import Event

    now = timezone.now()
    row = _row(
        workspace,
        verb,
        obj,
        _who(current_actor(actor)),
        connection.ops.adapt_datetimefield_value(now),
        changes=changes,
        product=product,
        object_type=object_type,
        object_id=object_id,
        object_key=object_key,
        object_title=object_title,
        version=version,
        parent=parent,
    )
    with connection.cursor() as cursor:
        cursor.execute(_insert_one_sql(), row)
        pk, txid = cursor.fetchone()
    _after_commit_dispatch()
    live_changed(row[0])
    fields = dict(zip(_NAMES, row, strict=True))
    fields.update(changes=json.loads(fields["changes"]), created_at=now)
    return Event(id=pk, txid=txid, **fields)


def record_many(rows: Iterable[Mapping], *, actor=None) -> int:
    """Record many events with one INSERT (bulk edits, imports, recomputes).

    Each row is a mapping of ``record``'s arguments: ``workspace``, ``verb``,
    and ``obj`` and/or the object's fields. Returns the number recorded."""
    who = _who(current_actor(actor))
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    events = []
    for row in rows:
        unknown = row.keys() - _ROW_KEYS
        if unknown:
            raise TypeError(f"unknown event fields: {sorted(unknown)}")
        events.append(
            _row(
                row["workspace"],
                row["verb"],
                row.get("obj"),
                who,
                stamp,
                changes=row.get("changes"),
                product=row.get("product"),
                object_type=row.get("object_type"),
                object_id=row.get("object_id"),
                object_key=row.get("object_key", ""),
                object_title=row.get("object_title", ""),
                version=row.get("version"),
                parent=row.get("parent"),
            )
        )
    if not events:
        return 0
    for start in range(0, len(events), BULK_BATCH):
        _insert_many(events[start : start + BULK_BATCH])
    _after_commit_dispatch()
    live_changed(*{event[0] for event in events})
    return len(events)


BULK_BATCH = 5000
_ROW_KEYS = {
    "workspace",
    "verb",
    "obj",
    "changes",
    "product",
    "object_type",
    "object_id",
    "object_key",
    "object_title",
    "version",
    "parent",
}
_COPY_SQL = f"COPY activity_event ({', '.join(_NAMES)}) FROM STDIN"


def _insert_one_sql() -> str:
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    placeholders = ", ".join(["%s"] * (len(_COLUMNS) - 1)) + f", %s{cast}"
    return (
        f"INSERT INTO activity_event ({', '.join(_NAMES)}) VALUES ({placeholders}) "
        "RETURNING id, txid"
    )


def _insert_many(rows: list[tuple]) -> None:
    """One statement for a batch of events. PostgreSQL: ``COPY … FROM STDIN``
    (the rows streamed as they are; an INSERT of one array per column spent
    longer quoting the arrays on the client than the server spent inserting);
    SQLite: a multi-row VALUES (at most 32 766 variables: 2 000 rows of 16)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            started = time.monotonic()
            with cursor.cursor.copy(_COPY_SQL) as copy:
                for row in rows:
                    copy.write_row(row)
            if connection.queries_logged:  # psycopg's copy() bypasses Django's query log
                connection.queries_log.append(
                    {
                        "sql": f"{_COPY_SQL} -- {len(rows)} rows",
                        "time": f"{time.monotonic() - started:.3f}",
                    }
                )
            return
        for start in range(0, len(rows), 2000):
            chunk = rows[start : start + 2000]
            values = ", ".join(["(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"] * len(chunk))
            cursor.execute(
                f"INSERT INTO activity_event ({', '.join(_NAMES)}) VALUES {values}",
                [value for row in chunk for value in row],
            )


def noun_of(obj_or_model) -> str:
    """An object's noun in verbs: ``KeyResult`` → ``key_result``."""
    name = obj_or_model._meta.object_name
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def values_of(obj, names) -> dict:
    """The current values of ``names`` on ``obj`` (before a change, for ``diff``)."""
    return {name: getattr(obj, name, None) for name in names}
