"""Writes of metric definitions: create, change, delete. Names are unique
per product, case-insensitively (checked here with a clear message, and by
the database's constraint for concurrent writers)."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from pmhub import activity
from pmhub.accounts.services import require_editor
from pmhub.errors import VersionConflict
from pmhub.versioning import save_versioned
from products.models import Product

from ..models import Aggregation, Datapoint, DirtyDay, Metric, MetricRollup
from .follow import refresh_key_results

METRIC_FIELDS = ("name", "unit", "aggregation", "direction", "description", "target")


def _check_name(product, name: str, exclude_pk=None) -> str:
    name = (name or "").strip()
    qs = Metric.objects.filter(product=product, name__iexact=name)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if name and qs.exists():
        raise ValidationError({"name": f"{product.key} already has a metric named “{name}”."})
    return name


@transaction.atomic
def create_metric(
    actor,
    *,
    product: Product,
    name: str,
    unit: str = "",
    aggregation: str = Aggregation.SUM,
    direction: str = "increase",
    description: str = "",
    target: float | None = None,
) -> Metric:
    """Create a metric of a product."""
    require_editor(actor, product.workspace)
    metric = Metric(
        product=product,
        name=_check_name(product, name),
        unit=unit or "",
        aggregation=aggregation,
        direction=direction,
        description=description or "",
        target=target,
    )
    metric.full_clean()
    try:
        with transaction.atomic():
            metric.save()
    except IntegrityError as exc:  # a concurrent create took the name
        raise ValidationError({"name": "A metric with this name already exists."}) from exc
    activity.record(product.workspace_id, "metric.created", metric, actor=actor)
    return metric


@transaction.atomic
def update_metric(actor, *, metric: Metric, expected_version: int | None, fields: dict) -> Metric:
    """Save changed metric fields if the metric is still at ``expected_version``.
    Changing the aggregation changes the values of linked key results at once
    (rollup rows keep every statistic, so nothing is recomputed)."""
    require_editor(actor, metric.product.workspace)
    unknown = set(fields) - set(METRIC_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    if "name" in fields:
        fields["name"] = _check_name(metric.product, fields["name"], exclude_pk=metric.pk)
    old_values = activity.values_of(metric, fields)
    try:
        with transaction.atomic():
            saved = save_versioned(metric, expected_version=expected_version, fields=fields)
    except IntegrityError as exc:  # a concurrent rename took the name (as in create_metric)
        raise ValidationError({"name": "A metric with this name already exists."}) from exc
    activity.record(
        metric.product.workspace_id,
        "metric.updated",
        saved,
        changes=activity.diff(old_values, activity.values_of(saved, fields)),
        actor=actor,
    )
    if "aggregation" in fields:
        refresh_key_results(saved)
    return saved


@transaction.atomic
def delete_metric(actor, *, metric: Metric, expected_version: int | None = None) -> None:
    """Delete a metric with its datapoints and rollups; linked key results keep
    their last value and become manual again."""
    require_editor(actor, metric.product.workspace)
    qs = Metric.objects.filter(pk=metric.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    victim = qs.select_for_update().first()
    if victim is None:
        raise VersionConflict(current=Metric.objects.filter(pk=metric.pk).first())
    activity.record(metric.product.workspace_id, "metric.deleted", victim, actor=actor)
    # Bulk deletes in SQL: the collector would load every datapoint first.
    Datapoint.objects.filter(metric=victim)._raw_delete(Datapoint.objects.db)
    MetricRollup.objects.filter(metric=victim)._raw_delete(MetricRollup.objects.db)
    DirtyDay.objects.filter(metric=victim)._raw_delete(DirtyDay.objects.db)
    victim.delete()
