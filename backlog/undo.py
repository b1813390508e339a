"""Undo for the backlog (pmhub/undo.py): a bulk edit or an archive puts the
items' status, reason, owner, tags and objectives back, through
``services.update_item`` at the version each item had right after the
action — if someone changed one since, nothing is undone."""

from django.contrib.auth import get_user_model

from pmhub.errors import VersionConflict
from products.models import Objective

from . import services
from .models import Item

KIND = "backlog.items"
DELETE_KIND = "backlog.delete"


def snapshot(item_ids) -> list[dict]:
    """What an undo puts back, read before the action (three queries)."""
    ids = list(item_ids)
    rows = {
        r["pk"]: {
            "id": r["pk"],
            "status": r["status"],
            "reason": r["status_reason"],
            "owner": r["owner_id"],
            "tags": [],
            "objectives": [],
        }
        for r in Item.objects.filter(pk__in=ids).values("pk", "status", "status_reason", "owner_id")
    }
    for item_id, name in Item.tags.through.objects.filter(item_id__in=ids).values_list(
        "item_id", "tag__name"
    ):
        rows[item_id]["tags"].append(name)
    for item_id, objective_id in Item.objectives.through.objects.filter(
        item_id__in=ids
    ).values_list("item_id", "objective_id"):
        rows[item_id]["objectives"].append(objective_id)
    return [rows[i] for i in sorted(rows)]


def stamp_versions(rows: list[dict]) -> dict:
    """The payload: the snapshot plus each item's version after the action."""
    versions = dict(
        Item.objects.filter(pk__in=[r["id"] for r in rows]).values_list("pk", "version")
    )
    return {"items": [{**r, "v": versions.get(r["id"])} for r in rows if r["id"] in versions]}


def undo_items(actor, workspace, payload) -> str:
    rows = payload["items"]
    items = {
        i.pk: i
        for i in Item.objects.in_workspace(workspace)
        .select_related("product")
        .select_for_update(of=("self",))
        .filter(pk__in=[r["id"] for r in rows])
    }
    owners = {
        u.pk: u
        for u in get_user_model().objects.filter(pk__in=[r["owner"] for r in rows if r["owner"]])
    }
    objectives = {
        o.pk: o for o in Objective.objects.filter(pk__in=[o for r in rows for o in r["objectives"]])
    }
    for row in rows:
        item = items.get(row["id"])
        if item is None:
            raise VersionConflict("an item was deleted since.")
        if item.version != row["v"]:
            raise VersionConflict(f"someone else changed {item.key} since.", current=item)
        services.update_item(
            actor,
            item=item,
            expected_version=row["v"],
            fields={
                "status": row["status"],
                "status_reason": row["reason"],
                "owner": owners.get(row["owner"]),
                "tags": row["tags"],
                "objectives": [objectives[o] for o in row["objectives"] if o in objectives],
            },
        )
    n = len(rows)
    if n == 1:
        return f"Undone: {next(iter(items.values())).key} is as it was."
    return f"Undone: {n} items are as they were."


def delete_payload(snapshot_row: dict) -> dict:
    """After a delete: its snapshot and its children's versions (the delete
    gave them a new one when it took their parent away)."""
    children = dict(
        Item.objects.filter(pk__in=snapshot_row["children"]).values_list("pk", "version")
    )
    return {"item": snapshot_row, "children": {str(k): v for k, v in children.items()}}


def undo_delete(actor, workspace, payload) -> str:
    from products.models import Product

    product = Product.objects.in_workspace(workspace).filter(pk=payload["item"]["product"]).first()
    if product is None:
        raise VersionConflict("its product was deleted since.")
    item = services.restore_item(
        actor, product=product, snapshot=payload["item"], children_versions=payload["children"]
    )
    return (
        f"Undone: {item.key} is back (its roadmap entries and linked feedback went with the "
        "delete)."
    )
