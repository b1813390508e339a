"""Roadmaps (product and portfolio), their settings, the investment target
split and custom lanes."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from pmhub import activity
from pmhub.accounts.services import require_editor
from pmhub.versioning import delete_versioned, save_versioned
from products.models import Objective, Product

from ..models import Granularity, Lane, LaneBy, Layout, Roadmap
from .changes import record_event, touch_roadmap
from .common import check_year, roadmap_product_ids

ROADMAP_FIELDS = (
    "name",
    "description",
    "layout",
    "lane_by",
    "granularity",
    "start_date",
    "periods",
)


def _clean_roadmap_fields(fields: dict) -> dict:
    fields = dict(fields)
    check_year(fields.get("start_date"), "start_date")
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            raise ValidationError({"name": "Name the roadmap."})
    if fields.get("start_date"):
        fields["start_date"] = fields["start_date"].replace(day=1)
    return fields


# --- roadmaps ----------------------------------------------------------------------------------


@transaction.atomic
def create_roadmap(
    actor,
    *,
    workspace,
    name: str,
    product: Product | None = None,
    products=(),
    layout: str = Layout.TIMELINE,
    lane_by: str = LaneBy.NONE,
    granularity: str = Granularity.MONTH,
    start_date: dt.date | None = None,
    periods: int = 12,
    description: str = "",
    investment_target: dict | None = None,
) -> Roadmap:
    """A roadmap of ``product``, or (product None) a portfolio roadmap of
    ``products``, which must be two or more products of ``workspace``."""
    require_editor(actor, workspace)
    if product is not None and product.workspace_id != workspace.pk:
        raise ValidationError({"product": "That product belongs to another workspace."})
    products = list(products)
    if product is None:
        if any(p.workspace_id != workspace.pk for p in products):
            raise ValidationError({"products": "Pick products of this workspace."})
        if len({p.pk for p in products}) < 2:
            raise ValidationError({"products": "A portfolio roadmap spans two or more products."})
    fields = _clean_roadmap_fields(
        {
            "name": name,
            "description": description,
            "layout": layout,
            "lane_by": lane_by,
            "granularity": granularity,
            "start_date": start_date or timezone.localdate().replace(day=1),
            "periods": periods,
        }
    )
    if fields["lane_by"] == LaneBy.PRODUCT and product is not None:
        fields["lane_by"] = LaneBy.NONE  # one product: one lane
    if investment_target:
        product_ids = [product.pk] if product is not None else [p.pk for p in products]
        fields["investment_target"] = _clean_investment_target(product_ids, investment_target)
    roadmap = Roadmap(workspace=workspace, product=product, created_by=actor, **fields)
    roadmap.full_clean()
    roadmap.save()
    if product is None:
        roadmap.products.set(products)
    record_event(actor, "roadmap.created", roadmap, roadmap)
    return roadmap


@transaction.atomic
def update_roadmap(actor, *, roadmap: Roadmap, expected_version: int | None, fields: dict):
    """Change settings and/or the investment target split in one versioned
    write: if any of it is invalid, nothing is saved."""
    require_editor(actor, roadmap.workspace)
    unknown = set(fields) - {*ROADMAP_FIELDS, "investment_target"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    fields = _clean_roadmap_fields(fields)
    if fields.get("lane_by") == LaneBy.PRODUCT and roadmap.product_id:
        raise ValidationError({"lane_by": "Lanes by product need a portfolio roadmap."})
    if "investment_target" in fields:
        fields["investment_target"] = _clean_investment_target(
            roadmap_product_ids(roadmap), fields["investment_target"]
        )
    before = activity.values_of(roadmap, fields)
    roadmap = save_versioned(roadmap, expected_version=expected_version, fields=fields)
    changes = activity.diff(before, activity.values_of(roadmap, fields))
    record_event(actor, "roadmap.updated", roadmap, roadmap, changes)
    touch_roadmap(roadmap.pk)
    return roadmap


@transaction.atomic
def delete_roadmap(actor, *, roadmap: Roadmap, expected_version: int | None = None) -> None:
    require_editor(actor, roadmap.workspace)
    # Its share links go with it; sharing.link_deleted drops their cached probes.
    record_event(actor, "roadmap.deleted", roadmap, roadmap)
    delete_versioned(roadmap, expected_version=expected_version)


def set_investment_target(
    actor, *, roadmap: Roadmap, expected_version: int | None, target: dict
) -> Roadmap:
    """The target split of effort per objective, in percent (summing to 100)."""
    return update_roadmap(
        actor,
        roadmap=roadmap,
        expected_version=expected_version,
        fields={"investment_target": target},
    )


def _clean_investment_target(product_ids: list[int], target: dict | None) -> dict:
    """``target`` as {objective id: percent}, checked against the objectives
    of ``product_ids``; zero shares are dropped, the rest must sum to 100."""
    allowed = set(Objective.objects.filter(product_id__in=product_ids).values_list("id", flat=True))
    clean = {}
    errors = {}
    for key, value in (target or {}).items():
        try:
            objective_id = int(key)
            percent = float(value)
        except (TypeError, ValueError):
            errors[str(key)] = "Enter a number of percent."
            continue
        if objective_id not in allowed:
            errors[str(key)] = "Not an objective of this roadmap's products."
        elif not 0 <= percent <= 100:
            errors[str(key)] = "Between 0 and 100."
        elif percent:
            clean[str(objective_id)] = round(percent, 1)
    if not errors and clean and abs(sum(clean.values()) - 100) > 0.5:
        errors["target"] = f"The split adds up to {sum(clean.values()):g}%, not 100%."
    if errors:
        raise ValidationError(errors)
    return clean


# --- lanes -------------------------------------------------------------------------------------


@transaction.atomic
def add_lane(actor, *, roadmap: Roadmap, name: str) -> Lane:
    require_editor(actor, roadmap.workspace)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the lane."})
    if Lane.objects.filter(roadmap=roadmap, name=name).exists():
        raise ValidationError({"name": f"There is already a lane called {name}."})
    position = (Lane.objects.filter(roadmap=roadmap).aggregate(m=Max("position"))["m"] or 0) + 1
    lane = Lane.objects.create(roadmap=roadmap, name=name[:60], position=position)
    record_event(actor, "lane.added", lane, roadmap)
    touch_roadmap(roadmap.pk)
    return lane


@transaction.atomic
def delete_lane(actor, *, lane: Lane) -> None:
    """Delete a custom lane; its entries stay, without a lane."""
    require_editor(actor, lane.roadmap.workspace)
    record_event(actor, "lane.deleted", lane, lane.roadmap)
    lane.delete()
    touch_roadmap(lane.roadmap_id)
