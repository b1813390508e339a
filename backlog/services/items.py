"""Backlog items: create, edit (versioned, with tags, objectives and custom
values), delete, and the customer demand feedback/ hands over. A change to
a scoring input rescores the item at once, in SQL."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from fractional_indexing import generate_key_between

from pmhub import activity
from pmhub.accounts.services import require_editor, require_workspace_user
from pmhub.errors import VersionConflict
from pmhub.versioning import save_versioned
from products.models import Objective, Product

from .. import scoring
from ..models import (
    REASON_STATUSES,
    BacklogSettings,
    Item,
    ScoreChange,
    Status,
    Tag,
)
from .fields import clean_custom_values
from .hypotheses import sync_launch_markers

INPUT_FIELDS = tuple(scoring.INPUTS)  # reach, impact, …, effort, …, demand
ITEM_FIELDS = (
    "type",
    "title",
    "description",
    "status",
    "status_reason",
    "parent",
    "owner",
    "external_url",
    "external_key",
    "custom",
    *INPUT_FIELDS,
)
M2M_FIELDS = ("tags", "objectives")


def _column_values(item: Item, names) -> dict:
    """Field values as stored (ids for relations), without loading relations."""
    return {n: getattr(item, Item._meta.get_field(n).attname) for n in names}


def item_verb(changes: dict) -> str:
    """``item.status_changed`` when the status is among the changes, else ``item.updated``."""
    return "item.status_changed" if "status" in changes else "item.updated"


def _check_owner(product, owner) -> None:
    require_workspace_user(product.workspace_id, owner)


def _check_parent(item_pk, product, parent) -> None:
    if parent is None:
        return
    if parent.product_id != product.pk:
        raise ValidationError({"parent": "The parent must be in the same product."})
    seen = set()
    node = parent
    while node is not None:  # walk up: refuse cycles (an item inside its own descendant)
        if item_pk is not None and node.pk == item_pk:
            raise ValidationError(
                {"parent": "An item cannot be inside itself or its own children."}
            )
        if node.pk in seen:
            break
        seen.add(node.pk)
        node = Item.objects.filter(pk=node.parent_id).only("pk", "parent_id").first()


def _check_inputs(fields: dict) -> None:
    errors = {}
    for name in INPUT_FIELDS:
        if name in fields and fields[name] is not None:
            try:
                scoring.validate_input(name, float(fields[name]))
            except ValidationError as exc:
                errors.update(exc.message_dict)
            except (TypeError, ValueError):
                errors[name] = f"{scoring.INPUTS[name].label} must be a number."
    if errors:
        raise ValidationError(errors)


def _check_status(fields: dict, current_status=None, current_reason="") -> None:
    status = fields.get("status", current_status)
    reason = fields.get("status_reason", current_reason) or ""
    if status in REASON_STATUSES and not reason.strip():
        raise ValidationError({"status_reason": "Say why the item is declined or archived."})


def _tags_for(product, names) -> list[Tag]:
    clean = sorted({n.strip().lower()[:40] for n in names if n and n.strip()})
    existing = {t.name: t for t in Tag.objects.filter(product=product, name__in=clean)}
    for name in clean:
        if name not in existing:
            existing[name], _ = Tag.objects.get_or_create(product=product, name=name)
    return [existing[n] for n in clean]


def _objectives_for(product, objectives) -> list[Objective]:
    objectives = list(objectives)
    for o in objectives:
        if o.product_id != product.pk:
            raise ValidationError({"objectives": "Objectives must belong to the same product."})
    return objectives


def _rank_after_last(product_id: int) -> str:
    last = Item.objects.filter(product_id=product_id).aggregate(m=Max("rank"))["m"]
    return generate_key_between(last, None)


def _rescore_item(item: Item, *, actor, cause: str, detail: str) -> float | None:
    """Recompute one item's score in SQL (the same expression as a bulk
    recompute, so both agree to the bit) and record a change."""
    model = BacklogSettings.objects.of(item.product).active_model
    row = Item.objects.filter(pk=item.pk)
    if model is None:
        old, new = row.values_list("score", flat=True).first(), None
    else:
        # The stored score and the new one in one read.
        old, new = row.annotate(s=model.expression()).values_list("score", "s").first()
    if new != old:
        Item.objects.filter(pk=item.pk).update(score=new)
        ScoreChange.objects.create(
            item=item, old_score=old, new_score=new, cause=cause, detail=detail[:300], actor=actor
        )
    item.score = new
    return new


@transaction.atomic
def create_item(
    actor,
    *,
    product: Product,
    title: str,
    type: str = "feature",
    status: str = "idea",
    tags=(),
    objectives=(),
    **fields,
) -> Item:
    """Create an item at the bottom of the backlog with the next key (PAY-43)."""
    require_editor(actor, product.workspace)
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    fields = {**fields, "title": (title or "").strip(), "type": type, "status": status}
    _check_inputs(fields)
    _check_status(fields)
    _check_owner(product, fields.get("owner"))
    _check_parent(None, product, fields.get("parent"))
    fields["custom"] = clean_custom_values(product, fields.get("custom") or {})
    objectives = _objectives_for(product, objectives)
    settings_row = BacklogSettings.objects.select_for_update().get(product=product)
    number = settings_row.last_item_number + 1
    item = Item(
        product=product,
        number=number,
        key=f"{product.key}-{number}",
        rank=_rank_after_last(product.pk),
        **fields,
    )
    if item.status == Status.SHIPPED:
        item.shipped_at = timezone.now()
    item.full_clean(exclude=["rank", "number", "key"])
    BacklogSettings.objects.filter(pk=settings_row.pk).update(last_item_number=number)
    item.save()
    if tags:
        item.tags.set(_tags_for(product, tags))
    if objectives:
        item.objectives.set(objectives)
    _rescore_item(item, actor=actor, cause=ScoreChange.Cause.CREATED, detail="Scored on creation")
    activity.record(
        product.workspace_id,
        "item.created",
        item,
        changes={"status": [None, item.status]},
        actor=actor,
    )
    return item


@transaction.atomic
def update_item(actor, *, item: Item, expected_version: int | None, fields: dict) -> Item:
    """Change an item's fields (and its tags / objectives) if it is still at
    ``expected_version``; rescore at once when a scoring input changed."""
    require_editor(actor, item.product.workspace)
    fields = dict(fields)
    tags = fields.pop("tags", None)
    objectives = fields.pop("objectives", None)
    if not fields and tags is None and objectives is None:
        if expected_version is not None and expected_version != item.version:
            raise VersionConflict(current=Item.objects.filter(pk=item.pk).first())
        return item  # nothing to change: no new version, no history row
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    product = item.product
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
    _check_inputs(fields)
    _check_status(fields, item.status, item.status_reason)
    if "owner" in fields:
        _check_owner(product, fields["owner"])
    if "parent" in fields:
        _check_parent(item.pk, product, fields["parent"])
    if "custom" in fields:
        fields["custom"] = clean_custom_values(product, fields["custom"] or {})
    if (
        "status" in fields
        and fields["status"] not in REASON_STATUSES
        and "status_reason" not in fields
    ):
        fields["status_reason"] = ""
    if fields.get("status") == Status.SHIPPED and item.status != Status.SHIPPED:
        fields["shipped_at"] = timezone.now()
    before_columns = _column_values(item, [n for n in fields if n in (*ITEM_FIELDS, "shipped_at")])
    before_inputs = {n: getattr(item, n) for n in INPUT_FIELDS}
    before_custom = dict(item.custom)
    relation_changes = {}
    if tags is not None:
        new_tags = _tags_for(product, tags)
        old_names, new_names = {t.name for t in item.tags.all()}, {t.name for t in new_tags}
        if old_names != new_names:
            relation_changes["tags"] = [sorted(old_names), sorted(new_names)]
    if objectives is not None:
        objectives = _objectives_for(product, objectives)
        old_ids = set(item.objectives.values_list("pk", flat=True))
        if old_ids != {o.pk for o in objectives}:
            relation_changes["objectives"] = [sorted(old_ids), sorted(o.pk for o in objectives)]
    if fields:
        allowed = (*ITEM_FIELDS, "shipped_at")
        item = save_versioned(
            item,
            expected_version=expected_version,
            fields={k: v for k, v in fields.items() if k in allowed},
        )
    elif expected_version is not None and expected_version != item.version:
        raise VersionConflict(current=Item.objects.filter(pk=item.pk).first())
    elif tags is not None or objectives is not None:
        # Only relations changed: still a new version, so concurrent edits conflict.
        item = save_versioned(item, expected_version=expected_version, fields={})
    if tags is not None:
        item.tags.set(new_tags)
    if objectives is not None:
        item.objectives.set(objectives)
    changed_inputs = [
        scoring.INPUTS[n].label
        for n in INPUT_FIELDS
        if n in fields and fields[n] != before_inputs[n]
    ]
    if "custom" in fields and fields["custom"] != before_custom:
        changed_inputs.append("custom fields")
    if changed_inputs:
        _rescore_item(
            item,
            actor=actor,
            cause=ScoreChange.Cause.INPUT,
            detail=f"{', '.join(changed_inputs)} changed by {actor}",
        )
    changes = {
        **activity.diff(before_columns, _column_values(item, before_columns)),
        **relation_changes,
    }
    activity.record(product.workspace_id, item_verb(changes), item, changes=changes, actor=actor)
    if {"status", "title"} & set(fields):
        sync_launch_markers([item.pk])
    return item


@transaction.atomic
def delete_item(actor, *, item: Item, expected_version: int | None = None) -> None:
    """Delete an item; its children stay, without a parent. Its key is never reused."""
    require_editor(actor, item.product.workspace)
    qs = Item.objects.filter(pk=item.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    victim = qs.select_for_update().first()
    if victim is None:
        raise VersionConflict(current=Item.objects.filter(pk=item.pk).first())
    # Its children lose their parent. The SET_NULL cascade would do that with
    # a plain UPDATE: no new version, no updated_at, so API clients syncing
    # with updated_since or ETags would keep the deleted parent.
    children = Item.objects.filter(parent_id=victim.pk)
    child_ids = list(children.values_list("pk", flat=True))
    if child_ids:
        children.update(parent=None, version=F("version") + 1, updated_at=timezone.now())
    item_id = victim.pk
    workspace_id = item.product.workspace_id
    activity.record(workspace_id, "item.deleted", victim, actor=actor)
    if child_ids:
        activity.record_many(
            {
                "workspace": workspace_id,
                "verb": "item.updated",
                "obj": child,
                "changes": {"parent": [item_id, None]},
            }
            for child in Item.objects.filter(pk__in=child_ids)
        )
    victim.delete()
    sync_launch_markers([item_id])  # its launch leaves the metric charts


def set_item_demand(
    *,
    item_id: int,
    demand: float | None,
    detail: str,
    force: bool = False,
    customers: int | None = None,
) -> None:
    """Store customer demand computed by feedback/ and rescore the item;
    ``force`` records it even when the value is the same (another customer
    counts, with next to no weight). ``customers``, how many customers the
    demand comes from, is kept in the event (``demand_customers``)."""
    item = Item.objects.select_related("product").get(pk=item_id)
    if item.demand == demand and not force:
        return
    Item.objects.filter(pk=item_id).update(
        demand=demand, version=F("version") + 1, updated_at=timezone.now()
    )
    _rescore_item(item, actor=None, cause=ScoreChange.Cause.DEMAND, detail=detail)
    changes = {"demand": [item.demand, demand]}
    if customers is not None:
        changes["demand_customers"] = [None, customers]
    activity.record(
        item.product.workspace_id,
        "item.updated",
        item,
        changes=changes,
        version=item.version + 1,
    )
