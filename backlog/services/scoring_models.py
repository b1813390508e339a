"""Scoring models: each product's backlog settings (created with the
product), its saved ways of scoring, which one is active, and their weights.
Changing the active model or its weights rescores the backlog in the
background (``recompute``)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from pmhub import activity
from pmhub.accounts.services import require_editor
from pmhub.errors import VersionConflict
from pmhub.versioning import save_versioned
from products.models import Product

from .. import scoring
from ..models import BacklogSettings, CustomField, FieldKind, ScoreChange, ScoringKind, ScoringModel
from .recompute import request_recompute


@transaction.atomic
def create_backlog(*, product: Product) -> BacklogSettings:
    """A new product's backlog settings, scoring with a RICE model. Runs in
    the transaction that creates the product (``backlog.receivers``), so
    reads never have to create them; idempotent."""
    settings_row, _ = BacklogSettings.objects.get_or_create(product=product)
    if settings_row.active_model_id is None:
        model, _ = ScoringModel.objects.get_or_create(
            product=product, name="RICE", defaults={"kind": ScoringKind.RICE}
        )
        settings_row.active_model = model
        settings_row.save(update_fields=["active_model"])
    return settings_row


def model_criteria(model: ScoringModel) -> list[scoring.Criterion]:
    return model.parsed_criteria()


def _number_fields(product) -> dict[int, str]:
    return dict(
        CustomField.objects.filter(product=product, kind=FieldKind.NUMBER).values_list("pk", "name")
    )


def _check_model(product, kind, criteria) -> list:
    if kind not in ScoringKind.values:
        raise ValidationError({"kind": f"Unknown scoring framework {kind!r}."})
    if kind == ScoringKind.WEIGHTED:
        parsed = scoring.parse_criteria(criteria, number_fields=_number_fields(product))
        return [c.__dict__ for c in parsed]
    return []


@transaction.atomic
def create_scoring_model(
    actor, *, product: Product, name: str, kind: str, criteria=None, reach_from_demand=False
) -> ScoringModel:
    require_editor(actor, product.workspace)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the scoring model."})
    if ScoringModel.objects.filter(product=product, name=name).exists():
        raise ValidationError({"name": f"There is already a model called {name}."})
    criteria = _check_model(product, kind, criteria or [])
    model = ScoringModel.objects.create(
        product=product,
        name=name,
        kind=kind,
        criteria=criteria,
        reach_from_demand=bool(reach_from_demand),
    )
    activity.record(product.workspace_id, "scoring_model.created", model, actor=actor)
    return model


@transaction.atomic
def update_scoring_model(actor, *, model: ScoringModel, expected_version: int | None, fields: dict):
    """Change a model's name, framework or weights. If it is the active model,
    the whole backlog is rescored in the background."""
    require_editor(actor, model.product.workspace)
    unknown = set(fields) - {"name", "kind", "criteria", "reach_from_demand"}
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed here."))
    kind = fields.get("kind", model.kind)
    if "criteria" in fields or "kind" in fields:
        fields["criteria"] = _check_model(
            model.product, kind, fields.get("criteria", model.criteria)
        )
    before = activity.values_of(model, fields)
    saved = save_versioned(model, expected_version=expected_version, fields=fields)
    activity.record(
        model.product.workspace_id,
        "scoring_model.updated",
        saved,
        changes=activity.diff(before, activity.values_of(saved, fields)),
        actor=actor,
    )
    settings_row = BacklogSettings.objects.of(model.product)
    if settings_row.active_model_id == model.pk and (
        {"kind", "criteria", "reach_from_demand"} & set(fields)
    ):
        request_recompute(
            settings_row,
            cause=f"Weights of {model.name} changed by {actor}",
            kind=ScoreChange.Cause.WEIGHTS,
        )
    return saved


@transaction.atomic
def activate_scoring_model(actor, *, product: Product, model: ScoringModel) -> BacklogSettings:
    """Make ``model`` the product's scoring model and rescore in the background."""
    require_editor(actor, product.workspace)
    if model.product_id != product.pk:
        raise ValidationError({"model": "That model belongs to another product."})
    settings_row = BacklogSettings.objects.select_for_update().get(product=product)
    if settings_row.active_model_id == model.pk:
        return settings_row
    previous = settings_row.active_model
    settings_row.active_model = model
    settings_row.save(update_fields=["active_model"])
    activity.record(
        product.workspace_id,
        "scoring_model.activated",
        model,
        changes={"active_model": [previous.pk if previous else None, model.pk]},
        actor=actor,
    )
    request_recompute(
        settings_row,
        cause=f"Scoring model changed from {previous} to {model} by {actor}",
        kind=ScoreChange.Cause.MODEL,
    )
    return settings_row


@transaction.atomic
def delete_scoring_model(
    actor, *, model: ScoringModel, expected_version: int | None = None
) -> None:
    """Delete a model that is not active, if it is still at ``expected_version``."""
    require_editor(actor, model.product.workspace)
    if BacklogSettings.objects.of(model.product).active_model_id == model.pk:
        raise ValidationError({"model": "This is the active model; activate another one first."})
    qs = ScoringModel.objects.filter(pk=model.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    if not qs.delete()[0]:
        raise VersionConflict(current=ScoringModel.objects.filter(pk=model.pk).first())
    activity.record(model.product.workspace_id, "scoring_model.deleted", model, actor=actor)
