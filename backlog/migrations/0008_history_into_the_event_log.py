"""The item history becomes a view of the event log: every item that has
django-simple-history rows but no ``item.*`` event gets its history as
events (``item.created``, ``item.updated`` / ``item.status_changed`` with
``{field: [old, new]}`` from consecutive rows, ``item.deleted``), with the
person who made each change and its time. The next migration drops the
historical table.

The backfilled events take ids below every existing event (negative, in
the order they happened), and txid 0 on PostgreSQL: they sort before the
log, so the audit log and retention see them as the oldest events, and no
consumer (roadmap change log, portal emails, webhooks) or feed cursor,
which are all past (0, 0), hands them out as news."""

import datetime as dt
import decimal
import re

from django.db import migrations

SKIPPED = {"id", "number", "key", "product", "history_relation"}
RELATIONS = {"owner", "parent"}
CUSTOMERS = re.compile(r"^Customer demand \S+ from (\d+) customers?$")
BATCH = 500


def _value(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _fields(Historical) -> list[tuple[str, str]]:
    """(name in events, attribute) of the item fields the history kept."""
    out = []
    for field in Historical._meta.concrete_fields:
        if field.name.startswith("history_") or field.name in SKIPPED:
            continue
        out.append((field.name, field.attname))
    return out


def _label(user) -> str:
    if user is None:
        return "PMHub"
    full = f"{user.first_name} {user.last_name}".strip()
    return (full or user.username)[:150]


def _events(rows, fields, workspaces, users):
    """The events of one item's historical rows (oldest first)."""
    before = None
    for row in rows:
        changes = {}
        if row.history_type == "+":
            verb = "item.created"
            changes["status"] = [None, row.status]
        elif row.history_type == "-":
            verb = "item.deleted"
        else:
            for name, attname in fields:
                new = _value(getattr(row, attname))
                old = _value(getattr(before, attname)) if before is not None else None
                if before is not None and old != new:
                    changes[name] = [old, new]
            verb = "item.status_changed" if "status" in changes else "item.updated"
        reason = row.history_change_reason or ""
        match = CUSTOMERS.match(reason)
        if match:
            changes["demand_customers"] = [None, int(match[1])]
        elif reason:
            changes["note"] = [None, reason]
        before = row
        if row.product_id not in workspaces:
            continue  # its product is gone: no workspace to show it in
        user = users.get(row.history_user_id)
        yield {
            "workspace_id": workspaces[row.product_id],
            "actor_kind": "user" if user is not None else "system",
            "actor_user_id": user.pk if user is not None else None,
            "actor_label": _label(user),
            "verb": verb,
            "object_type": "backlog.item",
            "object_id": row.id,
            "object_key": row.key[:60],
            "object_title": (row.title or "")[:300],
            "product_id": row.product_id,
            "changes": changes,
            "created_at": row.history_date,
        }


def backfill(apps, schema_editor):
    Historical = apps.get_model("backlog", "HistoricalItem")
    Event = apps.get_model("activity", "Event")
    Product = apps.get_model("products", "Product")
    User = apps.get_model("accounts", "User")
    db = schema_editor.connection.alias
    logged = set(
        Event.objects.using(db)
        .filter(object_type="backlog.item", verb__startswith="item.")
        .values_list("object_id", flat=True)
        .distinct()
    )
    item_ids = sorted(
        set(Historical.objects.using(db).values_list("id", flat=True).distinct()) - logged
    )
    if not item_ids:
        return
    workspaces = dict(Product.objects.using(db).values_list("pk", "workspace_id"))
    users = {u.pk: u for u in User.objects.using(db).all()}
    fields = _fields(Historical)
    txid = 0 if schema_editor.connection.vendor == "postgresql" else None
    rows = []
    for start in range(0, len(item_ids), BATCH):
        chunk = item_ids[start : start + BATCH]
        history = Historical.objects.using(db).filter(id__in=chunk).order_by(
            "id", "history_date", "history_id"
        )
        per_item = {}
        for row in history:
            per_item.setdefault(row.id, []).append(row)
        for item_rows in per_item.values():
            rows.extend(_events(item_rows, fields, workspaces, users))
    rows.sort(key=lambda e: (e["created_at"], e["object_id"]))
    lowest = Event.objects.using(db).order_by("id").values_list("id", flat=True).first()
    first_id = min(lowest or 0, 0) - len(rows)
    Event.objects.using(db).bulk_create(
        [Event(id=first_id + n, txid=txid, **row) for n, row in enumerate(rows)],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("backlog", "0007_item_title_trigram_index"),
        ("activity", "0004_fewer_indexes"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
