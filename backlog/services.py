"""Writes for the backlog: items, ranking, scoring models, recomputes, custom
fields, saved views. HTML views, the API, Celery tasks and commands all call
these functions."""

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Min, Q
from django.utils import timezone
from fractional_indexing import generate_key_between

from pmhub.accounts.services import require_editor, require_member, require_workspace_user
from pmhub.errors import DomainError, VersionConflict
from pmhub.versioning import save_versioned
from products.models import Objective, Product

from . import launch_reviews, scoring
from .models import (
    REASON_STATUSES,
    BacklogSettings,
    CustomField,
    FieldKind,
    Item,
    SavedView,
    ScoreChange,
    ScoringKind,
    ScoringModel,
    Status,
    Tag,
)
from .signals import send_status_changed_on_commit

log = logging.getLogger(__name__)

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
RECOMPUTE_BATCH = 20_000
CLAIM_TIMEOUT = dt.timedelta(minutes=10)


class BadMove(DomainError):
    """The neighbours given for a move are not adjacent or not in this list."""

    status_code = 400


# --- settings and scoring models -------------------------------------------------------


def backlog_of(product: Product) -> BacklogSettings:
    """The product's backlog settings, created with a RICE model on first use."""
    settings_row = (
        BacklogSettings.objects.filter(product=product).select_related("active_model").first()
    )
    if settings_row is not None:
        return settings_row
    with transaction.atomic():
        settings_row, created = BacklogSettings.objects.select_for_update().get_or_create(
            product=product
        )
        if created or settings_row.active_model_id is None:
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
    return ScoringModel.objects.create(
        product=product,
        name=name,
        kind=kind,
        criteria=criteria,
        reach_from_demand=bool(reach_from_demand),
    )


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
    saved = save_versioned(model, expected_version=expected_version, fields=fields)
    settings_row = backlog_of(model.product)
    if settings_row.active_model_id == model.pk and (
        {"kind", "criteria", "reach_from_demand"} & set(fields)
    ):
        _request_recompute(
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
    settings_row = BacklogSettings.objects.select_for_update().get(pk=backlog_of(product).pk)
    if settings_row.active_model_id == model.pk:
        return settings_row
    previous = settings_row.active_model
    settings_row.active_model = model
    settings_row.save(update_fields=["active_model"])
    _request_recompute(
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
    if backlog_of(model.product).active_model_id == model.pk:
        raise ValidationError({"model": "This is the active model; activate another one first."})
    qs = ScoringModel.objects.filter(pk=model.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    if not qs.delete()[0]:
        raise VersionConflict(current=ScoringModel.objects.filter(pk=model.pk).first())


def _request_recompute(settings_row: BacklogSettings, *, cause: str, kind: str) -> None:
    """Mark a full rescore pending (same transaction as the change) and enqueue it
    after commit. If the broker is down, the periodic sweep picks it up."""
    BacklogSettings.objects.filter(pk=settings_row.pk).update(
        score_generation=F("score_generation") + 1,
        score_cause=f"{kind}|{cause}"[:200],
        recompute_done=0,
    )
    product_id = settings_row.product_id
    transaction.on_commit(lambda: _enqueue_recompute(product_id))


def _enqueue_recompute(product_id: int) -> None:
    from .tasks import recompute_product_scores

    try:
        recompute_product_scores.delay(product_id)
    except Exception:  # broker down: the sweep will finish the work
        log.warning("Could not enqueue score recompute for product %s", product_id, exc_info=True)


# --- recompute -------------------------------------------------------------------------------


def _claim(settings_id: int) -> bool:
    """Claim the product's recompute: one conditional UPDATE, so two workers
    never recompute the same product at once. A claim older than
    CLAIM_TIMEOUT belongs to a dead worker and may be taken over."""
    now = timezone.now()
    from django.db.models import Q

    return bool(
        BacklogSettings.objects.filter(pk=settings_id)
        .filter(
            Q(recompute_claimed_at__isnull=True) | Q(recompute_claimed_at__lt=now - CLAIM_TIMEOUT)
        )
        .update(recompute_claimed_at=now)
    )


def recompute_scores(product_id: int) -> int:
    """Rescore every item of a product with its active model, in id batches;
    only rows whose score changes are written (each with a ScoreChange row
    naming the cause). Returns the number of items whose score changed.

    Idempotent and safe to run twice at once (the second run finds the claim
    taken and returns); a crash leaves the generation unfinished, so the sweep
    runs it again and gets the same result."""
    settings_row = BacklogSettings.objects.filter(product_id=product_id).first()
    if settings_row is None or not _claim(settings_row.pk):
        return 0
    changed = 0
    try:
        while True:
            settings_row.refresh_from_db()
            generation = settings_row.score_generation
            model = settings_row.active_model
            if model is None:
                break
            cause_kind, _, cause = settings_row.score_cause.partition("|")
            bounds = Item.objects.filter(product_id=product_id).aggregate(
                lo=Min("id"), hi=Max("id")
            )
            # Progress is measured along the id range: no COUNT(*) needed.
            total = 0 if bounds["lo"] is None else bounds["hi"] - bounds["lo"] + 1
            BacklogSettings.objects.filter(pk=settings_row.pk).update(
                recompute_total=total, recompute_done=0
            )
            if total:
                start = bounds["lo"]
                while start <= bounds["hi"]:
                    end = start + RECOMPUTE_BATCH
                    with transaction.atomic():
                        changed += _rescore_range(
                            product_id,
                            model,
                            start,
                            end,
                            cause=cause_kind or ScoreChange.Cause.MODEL,
                            detail=cause,
                        )
                    BacklogSettings.objects.filter(pk=settings_row.pk).update(
                        recompute_done=min(end, bounds["hi"] + 1) - bounds["lo"]
                    )
                    start = end
            # Finished this generation; if another change arrived meanwhile, go again.
            finished = BacklogSettings.objects.filter(
                pk=settings_row.pk, score_generation=generation
            ).update(scored_generation=generation, recompute_done=total)
            if finished:
                break
    finally:
        BacklogSettings.objects.filter(pk=settings_row.pk).update(recompute_claimed_at=None)
    return changed


def _expression_sql(expr, product_id: int, start: int, end: int):
    """SQL of ``SELECT id, score, <expr>`` for the batch, compiled by Django so
    the same formula works on SQLite and PostgreSQL."""
    qs = (
        Item.objects.filter(product_id=product_id, id__gte=start, id__lt=end)
        .annotate(new_score=expr)
        .values_list("id", "score", "new_score")
        .order_by()
    )
    return qs.query.sql_with_params()


def _rescore_range(product_id, model, start, end, *, cause, detail, actor_id=None) -> int:
    expr = model.expression()
    select_sql, params = _expression_sql(expr, product_id, start, end)
    item_table = connection.ops.quote_name(Item._meta.db_table)
    change_table = connection.ops.quote_name(ScoreChange._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
                WITH calc AS (
                    SELECT * FROM ({select_sql}) AS s(id, old_score, new_score)
                    WHERE old_score IS DISTINCT FROM new_score
                ),
                changed AS (
                    UPDATE {item_table} AS item SET score = calc.new_score
                    FROM calc
                    WHERE item.id = calc.id AND item.id >= %s AND item.id < %s
                      AND item.score IS DISTINCT FROM calc.new_score
                    RETURNING item.id, calc.old_score, calc.new_score
                )
                INSERT INTO {change_table}
                    (item_id, old_score, new_score, cause, detail, actor_id, at)
                SELECT id, old_score, new_score, %s, %s, %s, %s FROM changed
                """,
                [*params, start, end, cause, detail[:300], actor_id, now],
            )
            return cursor.rowcount
        # SQLite (embedded mode): stage the batch in a temp table, record the
        # changes, then apply them, all in the caller's transaction.
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS pmhub_rescore "
            "(id INTEGER PRIMARY KEY, old REAL, new REAL)"
        )
        cursor.execute("DELETE FROM pmhub_rescore")
        cursor.execute(f"INSERT INTO pmhub_rescore (id, old, new) {select_sql}", params)
        cursor.execute("DELETE FROM pmhub_rescore WHERE old IS new")
        cursor.execute(
            f"INSERT INTO {change_table} "
            "(item_id, old_score, new_score, cause, detail, actor_id, at) "
            "SELECT id, old, new, %s, %s, %s, %s FROM pmhub_rescore",
            [cause, detail[:300], actor_id, now],
        )
        changed = cursor.rowcount
        cursor.execute(
            f"UPDATE {item_table} SET score = (SELECT new FROM pmhub_rescore r "
            f"WHERE r.id = {item_table}.id) WHERE id IN (SELECT id FROM pmhub_rescore)"
        )
        return changed


def sweep_pending_recomputes() -> list[int]:
    """Finish any recompute that was marked pending but never completed
    (broker down, worker killed). Run periodically by Celery beat."""
    pending = list(
        BacklogSettings.objects.filter(scored_generation__lt=F("score_generation")).values_list(
            "product_id", flat=True
        )
    )
    for product_id in pending:
        recompute_scores(product_id)
    return pending


# --- custom fields ----------------------------------------------------------------------------


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


# --- items -----------------------------------------------------------------------------------


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
    settings_row = backlog_of(item.product)
    model = settings_row.active_model
    old = Item.objects.filter(pk=item.pk).values_list("score", flat=True).first()
    new = None
    if model is not None:
        expr = model.expression()
        new = Item.objects.filter(pk=item.pk).annotate(s=expr).values_list("s", flat=True).first()
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
    settings_row = BacklogSettings.objects.select_for_update().get(pk=backlog_of(product).pk)
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
    item._history_user = actor
    item.save()
    if tags:
        item.tags.set(_tags_for(product, tags))
    if objectives:
        item.objectives.set(objectives)
    _rescore_item(item, actor=actor, cause=ScoreChange.Cause.CREATED, detail="Scored on creation")
    return item


def _describe_m2m(label, before: set[str], after: set[str]) -> str:
    added, removed = sorted(after - before), sorted(before - after)
    parts = [f"+{n}" for n in added] + [f"−{n}" for n in removed]
    return f"{label}: {' '.join(parts)}" if parts else ""


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
    before_inputs = {n: getattr(item, n) for n in INPUT_FIELDS}
    before_custom = dict(item.custom)
    before_status = item.status
    reasons = []
    if tags is not None:
        new_tags = _tags_for(product, tags)
        reasons.append(
            _describe_m2m("Tags", {t.name for t in item.tags.all()}, {t.name for t in new_tags})
        )
    if objectives is not None:
        objectives = _objectives_for(product, objectives)
        reasons.append(
            _describe_m2m(
                "Objectives",
                {o.title for o in item.objectives.all()},
                {o.title for o in objectives},
            )
        )
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
    _record_history(item, actor, "; ".join(r for r in reasons if r))
    if {"status", "title"} & set(fields):
        launch_reviews.sync_launch_markers([item.pk])
    if "status" in fields:
        send_status_changed_on_commit(
            item_id=item.pk,
            old_status=before_status,
            new_status=item.status,
            reason=item.status_reason,
            actor_id=actor.pk,
        )
    return item


def _record_history(item: Item, actor, reason: str = "") -> None:
    """One history row for a change made with a conditional UPDATE (which
    bypasses save(), so django-simple-history's signal does not fire)."""
    fresh = Item.objects.get(pk=item.pk)
    fresh._history_user = actor
    fresh._change_reason = reason
    Item.history.bulk_history_create(
        [fresh], update=True, default_user=actor, default_change_reason=reason
    )


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
        Item.history.bulk_history_create(
            list(Item.objects.filter(pk__in=child_ids)),
            update=True,
            default_user=actor,
            default_change_reason=f"Parent {victim.key} deleted",
        )
    victim._history_user = actor
    item_id = victim.pk
    victim.delete()
    launch_reviews.sync_launch_markers([item_id])  # its launch leaves the metric charts


def set_item_demand(*, item_id: int, demand: float | None, detail: str) -> None:
    """Store customer demand computed by feedback/ and rescore the item."""
    item = Item.objects.select_related("product").get(pk=item_id)
    if item.demand == demand:
        return
    Item.objects.filter(pk=item_id).update(
        demand=demand, version=F("version") + 1, updated_at=timezone.now()
    )
    _rescore_item(item, actor=None, cause=ScoreChange.Cause.DEMAND, detail=detail)
    _record_history(item, None, detail)


# --- ranking ---------------------------------------------------------------------------------


def move_item(
    actor, *, item: Item, before: Item | None = None, after: Item | None = None, attempts: int = 5
) -> Item:
    """Place ``item`` directly above ``before`` and/or directly below ``after``
    (either may be None: None for both, or only ``after`` = bottom of the list;
    only ``before`` = directly above it). Writes exactly one row: the item's
    new fractional rank. Two concurrent moves into the same gap compute the
    same key; the unique (product, rank) constraint rejects the second, which
    retries with fresh neighbours, so the order stays total."""
    require_editor(actor, item.product.workspace)
    for neighbour in (before, after):
        if neighbour is not None and (
            neighbour.product_id != item.product_id or neighbour.pk == item.pk
        ):
            raise BadMove("Neighbours must be other items of the same product.")
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                rank = _rank_between(item, before=before, after=after)
                # updated_at moves too, so incremental sync sees reorders; the
                # version does not: a move never conflicts with a field edit.
                Item.objects.filter(pk=item.pk).update(rank=rank, updated_at=timezone.now())
                item.rank = rank
                return item
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    return item


def _rank_between(item: Item, *, before: Item | None, after: Item | None) -> str:
    siblings = Item.objects.filter(product_id=item.product_id).exclude(pk=item.pk)
    lower = upper = None
    if after is not None:
        lower = Item.objects.filter(pk=after.pk).values_list("rank", flat=True).first()
        if lower is None:
            raise BadMove("The item to place this one after was deleted; reload and try again.")
    if before is not None:
        upper = Item.objects.filter(pk=before.pk).values_list("rank", flat=True).first()
        if upper is None:
            raise BadMove("The item to place this one before was deleted; reload and try again.")
    if after is not None and before is None:
        upper = siblings.filter(rank__gt=lower).aggregate(m=Min("rank"))["m"]
    elif before is not None and after is None:
        lower = siblings.filter(rank__lt=upper).aggregate(m=Max("rank"))["m"]
    elif before is None and after is None:
        lower = siblings.aggregate(m=Max("rank"))["m"]
    if lower is not None and upper is not None and lower >= upper:
        raise BadMove("“after” must come before “before” in the list.")
    if after is not None and before is not None:
        between = siblings.filter(rank__gt=lower, rank__lt=upper).aggregate(m=Min("rank"))["m"]
        if between is not None:
            # Someone moved an item into this gap meanwhile (or the client's
            # list is stale): land directly below "after", which still sorts
            # above "before". Nothing is refused, nothing is lost.
            upper = between
    return generate_key_between(lower, upper)


def move_item_to_top(actor, *, item: Item) -> Item:
    first = (
        Item.objects.filter(product_id=item.product_id).exclude(pk=item.pk).order_by("rank").first()
    )
    return move_item(actor, item=item, before=first) if first else item


def move_item_by(actor, *, item: Item, steps: int) -> Item:
    """Keyboard moves: one place up (steps=-1) or down (steps=1)."""
    siblings = Item.objects.filter(product_id=item.product_id).exclude(pk=item.pk)
    if steps < 0:
        above = list(siblings.filter(rank__lt=item.rank).order_by("-rank")[:2])
        if not above:
            return item
        return move_item(
            actor, item=item, before=above[0], after=above[1] if len(above) > 1 else None
        )
    below = list(siblings.filter(rank__gt=item.rank).order_by("rank")[:2])
    if not below:
        return item
    return move_item(actor, item=item, after=below[0], before=below[1] if len(below) > 1 else None)


# --- bulk edit -------------------------------------------------------------------------------


@transaction.atomic
def bulk_update_items(
    actor,
    *,
    product: Product,
    item_ids: list[int],
    status: str | None = None,
    status_reason: str = "",
    owner=None,
    clear_owner: bool = False,
    add_tags=(),
    remove_tags=(),
    add_objective: Objective | None = None,
) -> int:
    """Apply the same change to many items: one UPDATE per changed column,
    one history row per item. Returns the number of items changed."""
    require_editor(actor, product.workspace)
    items = Item.objects.filter(product=product, pk__in=item_ids)
    ids = list(items.values_list("pk", flat=True))
    if not ids:
        raise ValidationError({"items": "Select at least one item."})
    changes: dict = {}
    if status:
        if status not in Status.values:
            raise ValidationError({"status": "Unknown status."})
        _check_status({"status": status, "status_reason": status_reason})
        changes["status"] = status
        changes["status_reason"] = status_reason if status in REASON_STATUSES else ""
    if owner is not None:
        _check_owner(product, owner)
        changes["owner"] = owner
    elif clear_owner:
        changes["owner"] = None
    if add_objective is not None:
        _objectives_for(product, [add_objective])
    old_statuses = dict(items.values_list("pk", "status")) if status else {}
    if changes:
        now = timezone.now()
        qs = Item.objects.filter(pk__in=ids)
        if changes.get("status") == Status.SHIPPED:
            # As update_item: the launch is stamped when an item becomes shipped.
            qs.filter(~Q(status=Status.SHIPPED) | Q(shipped_at__isnull=True)).update(shipped_at=now)
        qs.update(**changes, version=F("version") + 1, updated_at=now)
    if add_tags:
        through = Item.tags.through
        for tag in _tags_for(product, add_tags):
            through.objects.bulk_create(
                [through(item_id=i, tag_id=tag.pk) for i in ids], ignore_conflicts=True
            )
    if remove_tags:
        Item.tags.through.objects.filter(
            item_id__in=ids, tag__name__in=[t.lower() for t in remove_tags]
        ).delete()
    if add_objective is not None:
        through = Item.objectives.through
        through.objects.bulk_create(
            [through(item_id=i, objective_id=add_objective.pk) for i in ids], ignore_conflicts=True
        )
    if (add_tags or remove_tags or add_objective) and not changes:
        Item.objects.filter(pk__in=ids).update(version=F("version") + 1, updated_at=timezone.now())
    reason = "Bulk edit: " + ", ".join(
        filter(
            None,
            [
                f"status → {status}" if status else "",
                "owner" if "owner" in changes else "",
                f"+tags {', '.join(add_tags)}" if add_tags else "",
                f"−tags {', '.join(remove_tags)}" if remove_tags else "",
                f"+objective {add_objective}" if add_objective else "",
            ],
        )
    )
    if "status" in changes:
        launch_reviews.sync_launch_markers(ids)
    fresh = list(Item.objects.filter(pk__in=ids))
    Item.history.bulk_history_create(
        fresh, update=True, default_user=actor, default_change_reason=reason
    )
    for item_id, old_status in old_statuses.items():
        send_status_changed_on_commit(
            item_id=item_id,
            old_status=old_status,
            new_status=status,
            reason=changes.get("status_reason", ""),
            actor_id=actor.pk,
        )
    return len(ids)


# --- saved views --------------------------------------------------------------------------------


@transaction.atomic
def save_view(actor, *, product: Product, name: str, query: str) -> SavedView:
    """Save the filters as a named view of the product; saving under the name
    of someone else's view replaces it, which (as deleting it) takes an editor."""
    require_member(actor, product.workspace)
    name = (name or "").strip()[:60]
    if not name:
        raise ValidationError({"name": "Name the view."})
    existing = SavedView.objects.filter(product=product, name=name).first()
    if existing is not None and existing.created_by_id != actor.pk:
        require_editor(actor, product.workspace)
    view, _ = SavedView.objects.update_or_create(
        product=product, name=name, defaults={"query": query[:1000], "created_by": actor}
    )
    return view


@transaction.atomic
def delete_view(actor, *, view: SavedView) -> None:
    if view.created_by_id != actor.pk:
        require_editor(actor, view.product.workspace)
    view.delete()
