"""Background rescoring of a whole backlog: marked pending in the
transaction of the change that needs it, run by a Celery task after commit
(or by the periodic sweep), in id batches that write only the scores that
change, each with a ScoreChange row naming the cause."""

import datetime as dt
import logging

from django.db import connection, transaction
from django.db.models import F, Max, Min, Q
from django.utils import timezone

from pmhub import activity
from pmhub.activity import consumers
from pmhub.activity.models import Event
from products.models import Product

from ..models import BacklogSettings, Item, ScoreChange

log = logging.getLogger(__name__)

RECOMPUTE_BATCH = 20_000
CLAIM_TIMEOUT = dt.timedelta(minutes=10)


def request_recompute(settings_row: BacklogSettings, *, cause: str, kind: str) -> None:
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
    from ..tasks import recompute_product_scores

    try:
        recompute_product_scores.delay(product_id)
    except Exception:  # broker down: the sweep will finish the work
        log.warning("Could not enqueue score recompute for product %s", product_id, exc_info=True)


def _claim(settings_id: int) -> bool:
    """Claim the product's recompute: one conditional UPDATE, so two workers
    never recompute the same product at once. A claim older than
    CLAIM_TIMEOUT belongs to a dead worker and may be taken over."""
    now = timezone.now()
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
    event_sql, event_params = _score_events_sql(product_id, now)
    consumers.dispatch_on_commit()
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
                    RETURNING item.id, item.key, item.title, item.version,
                              calc.old_score, calc.new_score
                ),
                events AS (
                    {event_sql.format(source="changed", old="old_score", new="new_score")}
                )
                INSERT INTO {change_table}
                    (item_id, old_score, new_score, cause, detail, actor_id, at)
                SELECT id, old_score, new_score, %s, %s, %s, %s FROM changed
                """,
                [*params, start, end, *event_params, cause, detail[:300], actor_id, now],
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
        source = (
            "(SELECT r.id, i.key, i.title, i.version, r.old, r.new "
            f"FROM pmhub_rescore r JOIN {item_table} i ON i.id = r.id)"
        )
        cursor.execute(event_sql.format(source=source, old="old", new="new"), event_params)
        cursor.execute(
            f"UPDATE {item_table} SET score = (SELECT new FROM pmhub_rescore r "
            f"WHERE r.id = {item_table}.id) WHERE id IN (SELECT id FROM pmhub_rescore)"
        )
        return changed


def _score_events_sql(product_id: int, now) -> tuple[str, list]:
    """An ``INSERT … SELECT`` of one ``item.score_changed`` event per rescored
    item (the bulk rescoring records its events in the same statement as its
    score changes); ``{source}`` names the rows (id, key, title, version, old,
    new), ``{old}``/``{new}`` their score columns."""
    workspace_id = Product.objects.filter(pk=product_id).values_list("workspace_id", flat=True)[0]
    actor = activity.current_actor()
    table = connection.ops.quote_name(Event._meta.db_table)
    if connection.vendor == "postgresql":
        changes = "json_build_object('score', json_build_array(src.{old}, src.{new}))::jsonb"
    else:
        changes = "json_object('score', json_array(src.{old}, src.{new}))"
    sql = (
        f"INSERT INTO {table} (workspace_id, actor_kind, actor_user_id, actor_token_id, "
        "actor_label, verb, object_type, object_id, object_key, object_title, product_id, "
        "changes, version, created_at, parent_type) "
        "SELECT %s, %s, %s, %s, %s, 'item.score_changed', 'backlog.item', src.id, src.key, "
        f"src.title, %s, {changes}, src.version, %s, '' FROM {{source}} AS src"
    )
    params = [
        workspace_id,
        actor.kind,
        getattr(actor.user, "pk", None),
        getattr(actor.token, "pk", None),
        actor.label,
        product_id,
        now,
    ]
    return sql, params


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
