"""HTML pages of post-launch metrics: the product's Metrics tab (charts of
rollups with target lines and launch markers, the form for a new metric) and
a metric's page (chart, edit, CSV upload with a row-by-row report, recent
datapoints and rollups). Thin: reads through metrics.reads and QuerySets,
writes through metrics.services, lookups and the conflict flow through
pmhub.web."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from pmhub.accounts.decorators import workspace_view
from pmhub.errors import VersionConflict
from pmhub.web import get_in_workspace, int_param, save_with_conflict
from products.models import Product

from . import reads, services
from .forms import DatapointUploadForm, MetricForm
from .models import Datapoint, Metric, Period

METRICS = "metrics/metrics.html"
METRIC = "metrics/metric.html"


def _period(request) -> str:
    period = request.GET.get("period", Period.DAY)
    return period if period in Period.values else Period.DAY


def _base(request, product, **extra) -> dict:
    return {
        "workspace": request.workspace,
        "product": product,
        "can_edit": request.can_edit,
        "section": "metrics",
        "periods": Period.choices,
        **extra,
    }


def _metric(request, key, pk) -> tuple[Product, Metric]:
    product = get_in_workspace(request, Product, key=key)
    return product, get_in_workspace(request, Metric.objects.filter(product=product), pk=pk)


@workspace_view()
def metrics_page(request, key):
    product = get_in_workspace(request, Product, key=key)
    period = _period(request)
    form = None
    status = 200
    if request.method == "POST":
        if not request.can_edit:
            raise PermissionDenied
        form = MetricForm(request.POST)
        result = save_with_conflict(
            form,
            lambda _data: services.create_metric(
                request.user, product=product, **form.field_values()
            ),
        )
        form = result.form
        if result.saved:
            metric = result.value
            messages.success(request, f"Metric “{metric.name}” created. Send it data.")
            return redirect("metrics:metric", slug=request.workspace.slug, key=key, pk=metric.pk)
        status = 400
    metric_list = list(Metric.objects.filter(product=product).order_by("name"))
    ids = [m.pk for m in metric_list]
    series = reads.series(metric_list, period)
    markers = reads.markers_for(ids)
    followers = reads.followers(ids)
    cards = []
    for metric in metric_list:
        points, marks = series[metric.pk], markers.get(metric.pk, [])
        cards.append(
            {
                "metric": metric,
                "chart_id": f"metric-chart-data-{metric.pk}",
                "chart": reads.chart(metric, points, marks, period),
                "latest": reads.latest(points),
                "krs": followers[metric.pk],
                "launches": len(marks),
            }
        )
    ctx = _base(
        request,
        product,
        period=period,
        cards=cards,
        form=form or MetricForm(initial={"aggregation": "sum"}),
        show_form=form is not None,
    )
    return render(request, METRICS, ctx, status=status)


def _detail_context(request, product, metric, **extra) -> dict:
    period = _period(request)
    points = reads.series([metric], period)[metric.pk]
    markers = reads.markers_for([metric.pk]).get(metric.pk, [])
    return _base(
        request,
        product,
        metric=metric,
        period=period,
        chart=reads.chart(metric, points, markers, period),
        latest=reads.latest(points),
        table=list(reversed(points[-60:])),
        markers=markers,
        krs=reads.followers([metric.pk])[metric.pk],
        recent=list(Datapoint.objects.filter(metric=metric).order_by("-timestamp", "-id")[:25]),
        upload_form=DatapointUploadForm(),
        form=MetricForm(instance=metric, initial={"version": metric.version}),
        api_url=request.build_absolute_uri(reverse("metric-datapoints", args=[metric.pk])),
        period_base=reverse(
            "metrics:metric",
            kwargs={"slug": request.workspace.slug, "key": product.key, "pk": metric.pk},
        ),
        **extra,
    )


@workspace_view()
def metric_detail(request, key, pk):
    product, metric = _metric(request, key, pk)
    report = request.session.pop(_upload_key(metric), None)
    return render(request, METRIC, _detail_context(request, product, metric, upload_result=report))


@require_POST
@workspace_view(edit=True)
def metric_edit(request, key, pk):
    product, metric = _metric(request, key, pk)
    form = MetricForm(request.POST, instance=metric)
    result = save_with_conflict(
        form,
        lambda data: services.update_metric(
            request.user,
            metric=metric,
            expected_version=data.get("version") or metric.version,
            fields=form.field_values(),
        ),
        rebind=lambda data, current: MetricForm(data, instance=current),
    )
    if result.saved:
        messages.success(request, f"“{result.value.name}” saved.")
        return redirect("metrics:metric", slug=request.workspace.slug, key=key, pk=pk)
    if result.gone:
        messages.error(request, "This metric was deleted by someone else.")
        return redirect("metrics:metrics", slug=request.workspace.slug, key=key)
    product, metric = _metric(request, key, pk)
    ctx = _detail_context(request, product, metric, conflict=result.conflict, edit_open=True)
    ctx["form"] = result.form
    return render(request, METRIC, ctx, status=409 if result.conflicted else 400)


@require_POST
@workspace_view(edit=True)
def metric_upload(request, key, pk):
    product, metric = _metric(request, key, pk)
    result = save_with_conflict(
        DatapointUploadForm(request.POST, request.FILES),
        lambda data: services.ingest_csv(
            request.user,
            metric=metric,
            file=data["file"],
            all_or_nothing=data["all_or_nothing"],
        ),
    )
    if result.saved:
        # Post/redirect/get: a refresh does not upload again, and the page's
        # links (the period switch) resolve against the metric's own URL.
        # The report travels in the session, its first rows only.
        report = result.value.as_dict()
        report["errors_more"] = max(0, len(report["errors"]) - UPLOAD_REPORT_ROWS)
        report["errors"] = report["errors"][:UPLOAD_REPORT_ROWS]
        request.session[_upload_key(metric)] = report
        return redirect("metrics:metric", slug=request.workspace.slug, key=key, pk=pk)
    ctx = _detail_context(request, product, metric)
    ctx["upload_form"] = result.form
    return render(request, METRIC, ctx, status=400)


UPLOAD_REPORT_ROWS = 200


def _upload_key(metric) -> str:
    return f"metric-upload-{metric.pk}"


@require_POST
@workspace_view(edit=True)
def metric_delete(request, key, pk):
    _product, metric = _metric(request, key, pk)
    try:
        services.delete_metric(
            request.user, metric=metric, expected_version=int_param(request.POST.get("version"))
        )
    except VersionConflict:
        messages.error(request, "The metric changed since you opened it; nothing was deleted.")
        return redirect("metrics:metric", slug=request.workspace.slug, key=key, pk=pk)
    messages.success(request, f"Metric “{metric.name}” deleted.")
    return redirect("metrics:metrics", slug=request.workspace.slug, key=key)
