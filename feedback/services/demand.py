"""Customer demand of backlog items: queued in the writer's transaction
(``mark_demand_dirty``), recomputed after commit by a Celery task and by a
periodic sweep, and handed to backlog/ through ``set_item_demand``, which
rescores the item. The formula itself is ``feedback.demand``."""

import logging

from django.db import transaction
from django.utils import timezone

from backlog import services as backlog_services
from backlog.models import Item
from pmhub.activity.models import Event
from products.models import Product

from .. import demand as demand_formula
from ..models import DemandQueue, Insight, Segment
from ..reads import portal_settings

log = logging.getLogger(__name__)


def mark_demand_dirty(item_ids) -> None:
    """Queue items for a demand recompute in the caller's transaction; the
    task is enqueued after commit, and the sweep finishes lost work."""
    ids = sorted({int(i) for i in item_ids})
    if not ids:
        return
    now = timezone.now()
    DemandQueue.objects.bulk_create(
        [DemandQueue(item_id=i, marked_at=now) for i in ids], ignore_conflicts=True
    )
    DemandQueue.objects.filter(item_id__in=ids).update(marked_at=now)
    transaction.on_commit(lambda: _enqueue_demand(ids))


def _enqueue_demand(ids: list[int]) -> None:
    from ..tasks import recompute_demand

    try:
        recompute_demand.delay(ids)
    except Exception:  # broker down: the sweep will do it
        log.warning("Could not enqueue demand recompute for %s", ids, exc_info=True)


def demand_signals(item_id: int, *, now=None) -> list[demand_formula.Signal]:
    now = now or timezone.now()
    rows = Insight.objects.filter(item_id=item_id).values_list(
        "feedback_id",
        "feedback__person_id",
        "feedback__company_id",
        "feedback__company__annual_revenue",
        "feedback__company__segment",
        "importance",
        "feedback__received_at",
    )
    signals = []
    for feedback_id, person_id, company_id, revenue, segment, importance, received in rows:
        signals.append(
            demand_formula.Signal(
                customer=demand_formula.customer_key(feedback_id, person_id, company_id),
                revenue=float(revenue or 0),
                segment=segment or Segment.OTHER,
                importance=importance,
                age_days=max(0.0, (now - received).total_seconds() / 86400),
            )
        )
    return signals


def compute_item_demand(item_id: int, product, *, now=None) -> tuple[float, int]:
    """(demand, number of customers) of an item, by the formula in demand.py."""
    settings_row = portal_settings(product)
    signals = demand_signals(item_id, now=now)
    value = demand_formula.compute(
        signals, half_life_days=settings_row.half_life_days, weights=settings_row.weights()
    )
    return value, len({s.customer for s in signals})


def _changed_enough(old: float | None, new: float) -> bool:
    """Whether a recomputed demand is worth storing: any change to or from
    nothing or zero, else more than 0.1 % (a day of decay at a 90-day
    half-life is 0.8 %)."""
    if old is None or old == 0 or new == 0:
        return old != new
    return abs(new - old) > 0.001 * abs(old)


def _stored_customers(item_id: int, workspace_id: int) -> int | None:
    """How many customers the demand stored last came from: the count in the
    item's last event that stored demand (``demand_customers``), None before any."""
    changes = (
        Event.objects.filter(
            workspace_id=workspace_id,
            object_type="backlog.item",
            object_id=item_id,
            changes__has_key="demand_customers",
        )
        .order_by("-id")
        .values_list("changes", flat=True)
        .first()
    )
    return changes["demand_customers"][1] if changes else None


def recompute_demand(item_ids) -> int:
    """Recompute and store the demand of queued items (idempotent). Each item
    is locked while it is recomputed, so two workers never record the same
    change twice; its queue row is removed only if nobody re-marked it
    meanwhile. Returns the number of items processed."""
    done = 0
    products = {}
    for item_id in sorted({int(i) for i in item_ids}):
        with transaction.atomic():
            row = (
                Item.objects.select_for_update()
                .filter(pk=item_id)
                .values_list("product_id", "demand")
                .first()
            )
            if row is None:  # deleted meanwhile: its queue row went with it
                continue
            product_id, current = row
            marked_at = (
                DemandQueue.objects.filter(item_id=item_id)
                .values_list("marked_at", flat=True)
                .first()
            )
            if product_id not in products:
                products[product_id] = Product.objects.get(pk=product_id)
            value, customers = compute_item_demand(item_id, products[product_id])
            # Seconds of decay between two recomputes are not worth a new score;
            # a customer more or less always is, however little they weigh (an
            # old request adds almost nothing, yet the panel counts it).
            recounted = customers != _stored_customers(item_id, products[product_id].workspace_id)
            if _changed_enough(current, value) or recounted:
                backlog_services.set_item_demand(
                    item_id=item_id,
                    demand=value,
                    detail=f"Customer demand {value:g} from {customers} customer"
                    f"{'s' if customers != 1 else ''}",
                    force=recounted,
                    customers=customers,
                )
            if marked_at is not None:
                DemandQueue.objects.filter(item_id=item_id, marked_at=marked_at).delete()
        done += 1
    return done


def sweep_demand(limit: int = 500) -> int:
    """Periodic: recompute whatever is still queued (a lost task, a broker outage)."""
    ids = list(DemandQueue.objects.order_by("marked_at").values_list("item_id", flat=True)[:limit])
    return recompute_demand(ids) if ids else 0


def mark_decayed_demand() -> int:
    """Periodic (daily): demand decays with age, so every item with insights
    is queued again."""
    ids = list(Insight.objects.values_list("item_id", flat=True).distinct())
    with transaction.atomic():
        mark_demand_dirty(ids)
    return len(ids)
