"""HTML for launch reviews: the product's "Launch reviews" tab, one item's
review page, the hypothesis and learnings forms, and the panel on the item
page. Thin: reads through backlog.launch_reviews, writes through backlog.services."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from metrics.models import Metric
from pmhub.accounts.decorators import workspace_view
from pmhub.errors import VersionConflict
from pmhub.web import get_in_workspace, int_param, save_with_conflict
from products.models import Product

from .. import launch_reviews, services
from ..forms import HypothesisForm, LearningsForm
from ..models import Hypothesis, Item, Status
from .common import get_item

REVIEW = "backlog/launch_review.html"


def review_context(request, item, *, hypothesis_form=None, learnings_form=None, conflict=None):
    """What the review partial needs; shared by the review page and the item panel."""
    review = launch_reviews.review_for_item(item)
    hypothesis = review.hypothesis if review else None
    has_metrics = Metric.objects.filter(product_id=item.product_id).exists()
    if hypothesis_form is None and request.can_edit:
        hypothesis_form = HypothesisForm(
            instance=hypothesis,
            product=item.product,
            initial={"version": hypothesis.version if hypothesis else 0},
        )
    if learnings_form is None and request.can_edit and hypothesis is not None:
        learnings_form = LearningsForm(
            initial={"version": hypothesis.version, "learnings": hypothesis.learnings}
        )
    return {
        "item": item,
        "review": review,
        "chart": review.chart() if review else {},
        "chart_id": f"launch-chart-data-{item.pk}",
        "hypothesis_form": hypothesis_form,
        "learnings_form": learnings_form,
        "conflict": conflict,
        "has_metrics": has_metrics,
        "shipped": item.status == Status.SHIPPED,
    }


def item_panel_context(request, item) -> dict | None:
    """The launch-review panel on the item page (backlog.panels); left out for
    viewers of items without a hypothesis (there is nothing to read)."""
    if not request.can_edit and launch_reviews.review_for_item(item) is None:
        return None
    return review_context(request, item)


@workspace_view()
def launch_reviews_page(request, key):
    product = get_in_workspace(request, Product, key=key)
    reviews = launch_reviews.reviews_for_product(product)
    shipped = [r for r in reviews if r.launch_day is not None]
    counts = {v: sum(1 for r in shipped if r.verdict == v) for v in launch_reviews.VERDICT_LABELS}
    without = (
        Item.objects.filter(product=product, status=Status.SHIPPED, hypothesis__isnull=True)
        .order_by("-shipped_at", "-id")
        .only("id", "number", "key", "title", "shipped_at")[:20]
    )
    return render(
        request,
        "backlog/launch_reviews.html",
        {
            "workspace": request.workspace,
            "product": product,
            "can_edit": request.can_edit,
            "section": "launch-reviews",
            "shipped": [
                {"review": r, "chart": r.chart(), "chart_id": f"launch-chart-data-{r.item.pk}"}
                for r in shipped
            ],
            "pending": [r for r in reviews if r.launch_day is None],
            "counts": counts,
            "without": list(without),
        },
    )


@workspace_view()
def launch_review(request, key, number):
    product = get_in_workspace(request, Product, key=key)
    item = get_item(request, product, number)
    return _render_review(request, product, item)


def _render_review(request, product, item, status=200, **forms):
    ctx = {
        "workspace": request.workspace,
        "product": product,
        "can_edit": request.can_edit,
        "section": "launch-reviews",
        **review_context(request, item, **forms),
    }
    return render(request, REVIEW, ctx, status=status)


@require_POST
@workspace_view(edit=True)
def hypothesis_save(request, key, number):
    product = get_in_workspace(request, Product, key=key)
    item = get_item(request, product, number)
    existing = Hypothesis.objects.filter(item=item).first()
    form = HypothesisForm(request.POST, instance=existing, product=product)
    result = save_with_conflict(
        form,
        lambda _data: services.save_hypothesis(
            request.user,
            item=item,
            expected_version=int_param(request.POST.get("version")),
            fields=form.field_values(),
        ),
        rebind=lambda data, current: HypothesisForm(data, instance=current, product=product),
        fallback_version=0,  # removed meanwhile: saving again creates it anew
    )
    if result.saved:
        messages.success(request, f"Hypothesis of {item.key} saved.")
        return redirect(_after(request, item))
    return _render_review(
        request,
        product,
        item,
        status=409 if result.conflicted else 400,
        hypothesis_form=result.form,
        conflict=result.conflict,
    )


@require_POST
@workspace_view(edit=True)
def learnings_save(request, key, number):
    product = get_in_workspace(request, Product, key=key)
    item = get_item(request, product, number)
    hypothesis = get_object_or_404(Hypothesis.objects.select_related("item__product"), item=item)
    result = save_with_conflict(
        LearningsForm(request.POST),
        lambda data: services.save_learnings(
            request.user,
            hypothesis=hypothesis,
            expected_version=data.get("version"),
            learnings=data["learnings"],
        ),
        rebind=lambda data, _current: LearningsForm(data),
        fallback_version=hypothesis.version,
    )
    if result.saved:
        messages.success(request, "Learnings saved.")
        return redirect(_after(request, item))
    return _render_review(
        request,
        product,
        item,
        status=409 if result.conflicted else 400,
        learnings_form=result.form,
        conflict=result.conflict,
    )


def _after(request, item) -> str:
    """Back where the form was: the item page (``next=item``) or the review."""
    to_item = request.POST.get("next") == "item"
    name = "backlog:item" if to_item else "backlog:launch-review"
    url = reverse(name, args=[request.workspace.slug, item.product.key, item.number])
    return url + ("#launch-review" if to_item else "")


@require_POST
@workspace_view(edit=True)
def hypothesis_delete(request, key, number):
    product = get_in_workspace(request, Product, key=key)
    item = get_item(request, product, number)
    hypothesis = get_object_or_404(Hypothesis.objects.select_related("item__product"), item=item)
    try:
        services.delete_hypothesis(
            request.user,
            hypothesis=hypothesis,
            expected_version=int_param(request.POST.get("version")),
        )
    except VersionConflict:
        messages.error(request, "The hypothesis changed since you opened it; nothing was removed.")
    else:
        messages.success(request, f"Hypothesis of {item.key} removed.")
    return redirect(_after(request, item))
