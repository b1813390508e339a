"""``record`` and ``record_many``: one event per change, in the caller's
transaction (services call them; views and signals never do)."""

import datetime as dt
import decimal
import enum
import json
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
    return {
        "parent_type": parent._meta.label_lower if parent is not None else "",
        "parent_id": parent.pk if parent is not None else None,
        "object_type": object_type or "",
        "object_id": object_id,
        "object_key": str(object_key or "")[:60],
        "object_title": str(object_title or "")[:300],
        "product_id": product if isinstance(product, int) or product is None else product.pk,
        "version": version,
    }


def _product_of(obj):
    # The activity app imports no app: a product is recognised by its label.
    if obj._meta.label_lower == "products.product":
        return obj.pk
    return getattr(obj, "product_id", None)


def _event(workspace, verb, obj, actor, now, **fields):
    from .models import Event

    changes = fields.pop("changes", None)
    return Event(
        workspace_id=workspace if isinstance(workspace, int) else workspace.pk,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_token=actor.token,
        actor_label=actor.label,
        verb=verb,
        changes=json_safe(changes or {}),
        created_at=now,
        **_describe(obj, **fields),
    )


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
    event = _event(
        workspace,
        verb,
        obj,
        current_actor(actor),
        timezone.now(),
        changes=changes,
        product=product,
        object_type=object_type,
        object_id=object_id,
        object_key=object_key,
        object_title=object_title,
        version=version,
        parent=parent,
    )
    event.save(force_insert=True)
    _after_commit_dispatch()
    live_changed(event.workspace_id)
    return event


def record_many(rows: Iterable[Mapping], *, actor=None) -> int:
    """Record many events with one INSERT (bulk edits, imports, recomputes).

    Each row is a mapping of ``record``'s arguments: ``workspace``, ``verb``,
    and ``obj`` and/or the object's fields. Returns the number recorded."""
    who = current_actor(actor)
    now = timezone.now()
    events = []
    for row in rows:
        row = dict(row)
        workspace, verb, obj = row.pop("workspace"), row.pop("verb"), row.pop("obj", None)
        fields = {
            "changes": row.pop("changes", None),
            "product": row.pop("product", None),
            "object_type": row.pop("object_type", None),
            "object_id": row.pop("object_id", None),
            "object_key": row.pop("object_key", ""),
            "object_title": row.pop("object_title", ""),
            "version": row.pop("version", None),
            "parent": row.pop("parent", None),
        }
        if row:
            raise TypeError(f"unknown event fields: {sorted(row)}")
        events.append(_event(workspace, verb, obj, who, now, **fields))
    if not events:
        return 0
    from .models import Event

    if connection.vendor == "postgresql":
        for start in range(0, len(events), BULK_BATCH):
            _insert_unnest(events[start : start + BULK_BATCH])
    else:
        Event.objects.bulk_create(events, batch_size=BULK_BATCH)
    _after_commit_dispatch()
    live_changed(*{event.workspace_id for event in events})
    return len(events)


BULK_BATCH = 5000
# column, PostgreSQL array type of its values
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
    ("changes", "jsonb"),
    ("version", "integer"),
    ("created_at", "timestamptz"),
]
_UNNEST_SQL = "INSERT INTO activity_event ({columns}) SELECT * FROM unnest({arrays})".format(
    columns=", ".join(name for name, _ in _COLUMNS),
    arrays=", ".join(f"%s::{kind}[]" for _, kind in _COLUMNS),
)


def _insert_unnest(events) -> None:
    """One INSERT … SELECT unnest(…) for a batch of events: one array per
    column, no per-row SQL (the way the metrics ingestion inserts)."""
    columns = [[] for _ in _COLUMNS]
    for event in events:
        for values, (name, _kind) in zip(columns, _COLUMNS, strict=True):
            value = getattr(event, name)
            values.append(json.dumps(value) if name == "changes" else value)
    with connection.cursor() as cursor:
        cursor.execute(_UNNEST_SQL, columns)


def noun_of(obj_or_model) -> str:
    """An object's noun in verbs: ``KeyResult`` → ``key_result``."""
    name = obj_or_model._meta.object_name
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def values_of(obj, names) -> dict:
    """The current values of ``names`` on ``obj`` (before a change, for ``diff``)."""
    return {name: getattr(obj, name, None) for name in names}
