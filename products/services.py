"""Writes for products and their strategy: vision, objectives, key results,
competitors and personas. HTML views, the API and management commands all
call these functions; none of them writes these models directly."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Max
from django.utils import timezone

from pmhub import activity, versioning
from pmhub.accounts.models import Workspace
from pmhub.accounts.services import require_editor, require_workspace_user
from pmhub.errors import VersionConflict
from pmhub.versioning import save_versioned

from . import extensions
from .models import (
    VISION_FIELDS,
    Competitor,
    KeyResult,
    Objective,
    Persona,
    Product,
    Vision,
    VisionVersion,
)

PRODUCT_FIELDS = ("name", "description", "stage")
OBJECTIVE_FIELDS = ("title", "why", "period", "status", "owner")
KEY_RESULT_FIELDS = (
    "name",
    "unit",
    "start_value",
    "target_value",
    "current_value",
    "direction",
)
COMPETITOR_FIELDS = (
    "name",
    "website",
    "positioning",
    "strengths",
    "weaknesses",
    "notes",
    "threat_level",
)
PERSONA_FIELDS = ("name", "role", "goals", "pains")


def _only(fields: dict, allowed: tuple[str, ...]) -> dict:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    return fields


def _workspace_of(obj) -> Workspace:
    if isinstance(obj, Product):
        return obj.workspace
    if isinstance(obj, KeyResult):
        return obj.objective.product.workspace
    return obj.product.workspace


def _check_owner(product, owner) -> None:
    require_workspace_user(product.workspace_id, owner)


def _create(model: type[models.Model], actor=None, **values):
    obj = model(**values)
    obj.full_clean()
    obj.save()
    activity.record(_workspace_of(obj), f"{activity.noun_of(obj)}.created", obj, actor=actor)
    return obj


@transaction.atomic
def update_versioned(actor, *, obj, expected_version: int | None, fields: dict, allowed: tuple):
    """Validate and save ``fields`` on any strategy object if it is still at
    ``expected_version``; VersionConflict otherwise. One row, one UPDATE."""
    workspace = _workspace_of(obj)
    require_editor(actor, workspace)
    before = activity.values_of(obj, _only(fields, allowed))
    saved = save_versioned(obj, expected_version=expected_version, fields=fields)
    activity.record(
        workspace,
        f"{activity.noun_of(obj)}.updated",
        saved,
        changes=activity.diff(before, activity.values_of(saved, fields)),
        actor=actor,
    )
    return saved


@transaction.atomic
def delete_versioned(actor, *, obj, expected_version: int | None = None) -> None:
    """Delete a strategy object, refusing if it changed since ``expected_version``."""
    workspace = _workspace_of(obj)
    require_editor(actor, workspace)
    activity.record(workspace, f"{activity.noun_of(obj)}.deleted", obj, actor=actor)
    versioning.delete_versioned(obj, expected_version=expected_version)


# --- products -------------------------------------------------------------------


@transaction.atomic
def create_product(
    actor,
    *,
    workspace: Workspace,
    name: str,
    key: str,
    description: str = "",
    stage: str = "planning",
) -> Product:
    """Create a product (and its empty vision) in a workspace."""
    require_editor(actor, workspace)
    key = (key or "").strip().upper()
    if Product.objects.filter(workspace=workspace, key=key).exists():
        raise ValidationError(
            {"key": f"{key} is already used by another product in this workspace."}
        )
    try:
        with transaction.atomic():
            product = _create(
                Product,
                actor=actor,
                workspace=workspace,
                name=(name or "").strip(),
                key=key,
                description=description,
                stage=stage,
            )
    except IntegrityError as exc:  # a concurrent create took the key
        raise ValidationError({"key": f"{key} is already used in this workspace."}) from exc
    Vision.objects.create(product=product, updated_by=actor)
    return product


def update_product(
    actor, *, product: Product, expected_version: int | None, fields: dict
) -> Product:
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
    return update_versioned(
        actor, obj=product, expected_version=expected_version, fields=fields, allowed=PRODUCT_FIELDS
    )


def delete_product(actor, *, product: Product, expected_version: int | None = None) -> None:
    delete_versioned(actor, obj=product, expected_version=expected_version)


# --- vision ---------------------------------------------------------------------------


@transaction.atomic
def update_vision(actor, *, vision: Vision, expected_version: int | None, fields: dict) -> Vision:
    """Save a new vision; the version it replaces goes to the history."""
    require_editor(actor, vision.product.workspace)
    _only(fields, VISION_FIELDS)
    before = (
        Vision.objects.filter(pk=vision.pk)
        .values(*VISION_FIELDS, "version", "updated_by_id", "updated_at")
        .first()
    )
    base = vision.version if expected_version is None else expected_version
    if before is None or before["version"] != base:
        raise VersionConflict(current=Vision.objects.filter(pk=vision.pk).first())
    if all(before[f] == fields.get(f, before[f]) for f in VISION_FIELDS):
        return vision  # nothing changed: no new version, no history row
    saved = save_versioned(vision, expected_version=base, fields={**fields, "updated_by": actor})
    activity.record(
        vision.product.workspace,
        "vision.updated",
        saved,
        changes=activity.diff(before, {f: fields[f] for f in VISION_FIELDS if f in fields}),
        object_title=vision.product.name,
        product=vision.product,
        actor=actor,
    )
    if not any(before[f] for f in VISION_FIELDS):
        return saved  # the blank starting point is not worth keeping
    # Written after the conditional UPDATE won, so a losing writer leaves no trace.
    VisionVersion.objects.create(
        vision=vision,
        version=before["version"],
        edited_by_id=before["updated_by_id"],
        edited_at=before["updated_at"],
        **{f: before[f] for f in VISION_FIELDS},
    )
    return saved


def vision_of(product: Product) -> Vision:
    """The product's vision, created empty on first use."""
    vision, _ = Vision.objects.get_or_create(product=product)
    return vision


# --- objectives and key results ---------------------------------------------------------


@transaction.atomic
def create_objective(
    actor,
    *,
    product: Product,
    title: str,
    why: str = "",
    period: str = "",
    status: str = "not_started",
    owner=None,
) -> Objective:
    require_editor(actor, product.workspace)
    _check_owner(product, owner)
    position = (
        Objective.objects.filter(product=product).aggregate(m=Max("position"))["m"] or 0
    ) + 1
    return _create(
        Objective,
        actor=actor,
        product=product,
        title=(title or "").strip(),
        why=why,
        period=period,
        status=status,
        owner=owner,
        position=position,
    )


def update_objective(actor, *, objective: Objective, expected_version: int | None, fields: dict):
    if "owner" in fields:
        _check_owner(objective.product, fields["owner"])
    return update_versioned(
        actor,
        obj=objective,
        expected_version=expected_version,
        fields=fields,
        allowed=OBJECTIVE_FIELDS,
    )


def delete_objective(actor, *, objective: Objective, expected_version: int | None = None) -> None:
    delete_versioned(actor, obj=objective, expected_version=expected_version)


@transaction.atomic
def create_key_result(
    actor,
    *,
    objective: Objective,
    name: str,
    target_value,
    start_value=0,
    current_value=None,
    unit: str = "",
    direction: str | None = None,
    **extended,
) -> KeyResult:
    """Create a key result. ``extended`` holds the fields downstream apps add
    to key results (products.extensions; e.g. the metric it follows), saved
    in the same transaction."""
    require_editor(actor, objective.product.workspace)
    _only(extended, tuple(extensions.extended_field_names()))
    _own, shares = extensions.split_values(extended)
    extensions.clean_extended(objective, shares)
    if direction is None and target_value is not None and start_value is not None:
        direction = "decrease" if target_value < start_value else "increase"
    kr = _create(
        KeyResult,
        actor=actor,
        objective=objective,
        name=(name or "").strip(),
        unit=unit,
        start_value=start_value,
        target_value=target_value,
        current_value=current_value,
        direction=direction or "increase",
    )
    if extensions.save_extended(actor, kr, shares, changed=set(extended)):
        kr.refresh_from_db(fields=["current_value", "version", "updated_at"])
    return kr


@transaction.atomic
def update_key_result(actor, *, key_result: KeyResult, expected_version: int | None, fields: dict):
    """Save a key result, with the fields downstream apps add to it
    (products.extensions). A key result that follows a metric takes the
    metric's value: a typed-in current value is replaced by it, written as a
    version of its own when it differs."""
    own, shares = extensions.split_values(fields)
    _only(own, KEY_RESULT_FIELDS)
    extensions.clean_extended(key_result.objective, shares)
    saved = update_versioned(
        actor,
        obj=key_result,
        expected_version=expected_version,
        fields=own,
        allowed=KEY_RESULT_FIELDS,
    )
    if extensions.save_extended(actor, saved, shares, changed=set(fields)):
        saved.refresh_from_db(fields=["current_value", "version", "updated_at"])
    return saved


def set_key_result_value(*, key_result: KeyResult, value: float | None) -> bool:
    """Store a current value computed downstream (the metric a key result
    follows, after a rollup). Writes, bumping the version, only when the
    value changed, so an ETag a client holds stays valid otherwise."""
    if value == key_result.current_value:
        return False
    key_result.current_value = value
    return bool(
        KeyResult.objects.filter(pk=key_result.pk).update(
            current_value=value, version=F("version") + 1, updated_at=timezone.now()
        )
    )


def delete_key_result(actor, *, key_result: KeyResult, expected_version: int | None = None) -> None:
    delete_versioned(actor, obj=key_result, expected_version=expected_version)


# --- market notes ------------------------------------------------------------------------


@transaction.atomic
def create_competitor(actor, *, product: Product, **fields) -> Competitor:
    require_editor(actor, product.workspace)
    return _create(Competitor, actor, product=product, **_only(fields, COMPETITOR_FIELDS))


def update_competitor(actor, *, competitor: Competitor, expected_version: int | None, fields: dict):
    return update_versioned(
        actor,
        obj=competitor,
        expected_version=expected_version,
        fields=fields,
        allowed=COMPETITOR_FIELDS,
    )


def delete_competitor(
    actor, *, competitor: Competitor, expected_version: int | None = None
) -> None:
    delete_versioned(actor, obj=competitor, expected_version=expected_version)


@transaction.atomic
def create_persona(actor, *, product: Product, **fields) -> Persona:
    require_editor(actor, product.workspace)
    return _create(Persona, actor, product=product, **_only(fields, PERSONA_FIELDS))


def update_persona(actor, *, persona: Persona, expected_version: int | None, fields: dict):
    return update_versioned(
        actor, obj=persona, expected_version=expected_version, fields=fields, allowed=PERSONA_FIELDS
    )


def delete_persona(actor, *, persona: Persona, expected_version: int | None = None) -> None:
    delete_versioned(actor, obj=persona, expected_version=expected_version)
