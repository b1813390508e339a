"""Custom fields of a product's items (text, number, single select, date)
and the validation of the values items give them."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from pmhub.accounts.services import require_editor
from products.models import Product

from ..models import CustomField, FieldKind, ScoringKind, ScoringModel


@transaction.atomic
def create_custom_field(
    actor, *, product: Product, name: str, kind: str, options=None, min_value=None, max_value=None
) -> CustomField:
    require_editor(actor, product.workspace)
    name = (name or "").strip()
    options = [str(o).strip() for o in (options or []) if str(o).strip()]
    if kind == FieldKind.SELECT and not options:
        raise ValidationError({"options": "A single select needs at least one option."})
    if kind != FieldKind.SELECT:
        options = []
    if min_value is not None and max_value is not None and min_value >= max_value:
        raise ValidationError({"max_value": "The maximum must be above the minimum."})
    if CustomField.objects.filter(product=product, name=name).exists():
        raise ValidationError({"name": f"There is already a field called {name}."})
    position = (
        CustomField.objects.filter(product=product).aggregate(m=Max("position"))["m"] or 0
    ) + 1
    field = CustomField(
        product=product,
        name=name,
        kind=kind,
        options=options,
        min_value=min_value,
        max_value=max_value,
        position=position,
    )
    field.full_clean()
    field.save()
    return field


@transaction.atomic
def delete_custom_field(actor, *, field: CustomField) -> None:
    """Delete a field; a weighted model that scores with it must drop it first."""
    require_editor(actor, field.product.workspace)
    source = f"cf:{field.pk}"
    for model in ScoringModel.objects.filter(product=field.product, kind=ScoringKind.WEIGHTED):
        if any(c.get("source") == source for c in model.criteria):
            raise ValidationError({"field": f"The scoring model {model} uses this field."})
    field.delete()


def clean_custom_values(product: Product, raw: dict, *, fields=None) -> dict:
    """Validate custom field values ({field id: value}); returns normalized
    values, ValidationError with the field names on bad input."""
    if not isinstance(raw, dict):
        raise ValidationError({"custom": "Custom values must be an object of field id → value."})
    fields = fields if fields is not None else {str(f.pk): f for f in product.custom_fields.all()}
    clean, errors = {}, {}
    for key, value in raw.items():
        field = fields.get(str(key))
        if field is None:
            errors[f"custom.{key}"] = "No such custom field on this product."
            continue
        if value in (None, ""):
            continue
        try:
            clean[str(field.pk)] = _clean_custom_value(field, value)
        except ValueError as exc:
            errors[f"custom.{field.name}"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return clean


def _clean_custom_value(field: CustomField, value):
    if field.kind == FieldKind.NUMBER:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{field.name} must be a number.") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(f"{field.name} must be a finite number.")
        if field.min_value is not None and number < field.min_value:
            raise ValueError(f"{field.name} must be at least {field.min_value:g}.")
        if field.max_value is not None and number > field.max_value:
            raise ValueError(f"{field.name} must be at most {field.max_value:g}.")
        return number
    if field.kind == FieldKind.SELECT:
        if str(value) not in field.options:
            raise ValueError(f"{field.name} must be one of: {', '.join(field.options)}.")
        return str(value)
    if field.kind == FieldKind.DATE:
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(f"{field.name} must be a date (YYYY-MM-DD).") from None
    text = str(value)
    if len(text) > 500:
        raise ValueError(f"{field.name} is too long (500 characters at most).")
    return text
