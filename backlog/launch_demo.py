"""Demo launches with hypotheses, on top of the demo backlog and the demo
metrics (metrics/demo.py): three shipped items whose launch reviews
tell three different stories — met, not met, inconclusive. Called at the end
of backlog/demo.seed, i.e. after both the metrics and the items exist."""

from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

from metrics.demo import LAUNCHES
from metrics.models import Metric
from products.models import Product

from . import services
from .models import Hypothesis, Item

# item title, metric key, expected change %, window days, adoption metric key, learnings
DEMO_HYPOTHESES = [
    (
        "Save cards for returning shoppers",
        "checkout",
        "Checkout conversion",
        5,
        28,
        "Saved-card checkouts",
        "Returning shoppers convert noticeably better when they skip the card form; "
        "saved-card checkouts passed 800 a day within a month. **Next:** offer saving "
        "the card on the confirmation page too.",
    ),
    (
        "Smart retries for soft declines",
        "declines",
        "Declines recovered",
        40,
        28,
        None,
        "Retries recover fewer declines than the issuer benchmarks promised: most soft "
        "declines in our mix are insufficient funds, which a retry an hour later rarely "
        "fixes. We over-rated confidence here — lower it for other decline work.",
    ),
    (
        "Show the total in the shopper's currency",
        "crossborder",
        "Cross-border conversion",
        8,
        14,
        None,
        "",
    ),
]


def seed(*, workspace, users) -> bool:
    product = Product.objects.filter(workspace=workspace, key="PAY").first()
    if product is None or Hypothesis.objects.filter(item__product=product).exists():
        return False
    owner = users["demo"]
    by_name = {m.name: m for m in Metric.objects.filter(product=product)}
    today = timezone.now().astimezone(UTC).date()
    created = False
    for title, key, metric_name, expected, window, adoption, learnings in DEMO_HYPOTHESES:
        item = Item.objects.filter(product=product, title=title).first()
        metric = by_name.get(metric_name)
        if item is None or metric is None:
            continue
        if item.status != "shipped":
            services.update_item(
                owner, item=item, expected_version=item.version, fields={"status": "shipped"}
            )
        # Backdate the launch to the day the demo metric moved.
        launched = datetime.combine(today - timedelta(days=LAUNCHES[key]), time(9, 30), UTC)
        Item.objects.filter(pk=item.pk).update(shipped_at=launched)
        item.refresh_from_db()
        hypothesis = services.save_hypothesis(
            owner,
            item=item,
            expected_version=None,
            fields={
                "metric": metric,
                "expected_change": expected,
                "window_days": window,
                "adoption_metric": by_name.get(adoption) if adoption else None,
            },
        )
        if learnings:
            services.save_learnings(
                owner,
                hypothesis=hypothesis,
                expected_version=hypothesis.version,
                learnings=learnings,
            )
        created = True
    # One planned item with a hypothesis, awaiting its launch.
    planned = Item.objects.filter(
        product=product, title="Google Pay on the hosted checkout"
    ).first()
    if planned is not None and "Checkout conversion" in by_name:
        services.save_hypothesis(
            owner,
            item=planned,
            expected_version=None,
            fields={
                "metric": by_name["Checkout conversion"],
                "expected_change": 2,
                "window_days": 28,
            },
        )
    return created
