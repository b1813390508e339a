"""HTML pages for post-launch metrics: the product's Metrics tab (charts of
rollups with target lines and launch markers) and a metric's page (chart,
edit, CSV upload with a row-by-row report, datapoints and rollups). Thin:
reads through QuerySets and products.metrics, writes through its services."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from metrics import reads
from metrics import services as metrics
from metrics.forms import DatapointUploadForm, MetricForm
from metrics.models import Datapoint, Metric, MetricRollup, Period
from pmhub.accounts.decorators import workspace_view
from pmhub.errors import VersionConflict
from pmhub.web import apply_errors, get_in_workspace, int_param

from .models import Product

# How many periods a chart shows, most recent last.
CHART_SPAN = {Period.DAY: 180, Period.WEEK: 78, Period.MONTH: 36}
METRICS = "products/metrics.html"
METRIC = "products/metric.html"


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


def _series(metric_list: list[Metric], period: str) -> dict[int, list[dict]]:
    """Chart series of several metrics in two queries: the window ends at the
    latest rollup of any of them, so historical data still shows."""
    if not metric_list:
        return {}
    ids = [m.pk for m in metric_list]
    latest = MetricRollup.objects.filter(metric_id__in=ids, period=period).aggregate(
        m=Max("start")
    )["m"]
    out: dict[int, list[dict]] = {pk: [] for pk in ids}
    if latest is None:
        return out
    span = CHART_SPAN[period]
    days = {Period.DAY: span, Period.WEEK: span * 7, Period.MONTH: span * 31}[period]
    by_id = {m.pk: m for m in metric_list}
    rows = (
        MetricRollup.objects.filter(
            metric_id__in=ids, period=period, start__gt=latest - timedelta(days=days)
        )
        .order_by("metric_id", "start")
        .values_list("metric_id", "start", "total", "count", "last")
    )
    for metric_id, start, total, count, last in rows:
        value = by_id[metric_id].value_of(total=total, count=count, last=last)
        out[metric_id].append({"start": start, "value": value})
    return out


def _chart(metric: Metric, points: list[dict], markers: list[dict], period: str) -> dict:
    """The JSON a chart reads (json_script): labels, values, target, markers
    placed on the period that contains each launch."""
    labels = [p["start"].isoformat() for p in points]
    starts = [p["start"] for p in points]
    placed = []
    for marker in markers:
        start = reads.period_start(period, marker["date"])
        if starts and starts[0] <= start <= starts[-1]:
            placed.append(
                {
                    "label": start.isoformat(),
                    "text": marker["label"],
                    "url": marker.get("url", ""),
                }
            )
    values = [None if p["value"] is None else round(p["value"], 4) for p in points]
    series = [{"label": metric.name, "values": values, "role": "main"}]
    if metric.target is not None and labels:
        series.append(
            {
                "label": f"Target {metric.target:g}",
                "values": [metric.target] * len(labels),
                "role": "target",
            }
        )
    return {
        "unit": metric.unit,
        "period": period,
        "labels": labels,
        "series": series,
        "markers": placed,
    }


def _latest(points: list[dict]):
    for p in reversed(points):
        if p["value"] is not None:
            return p
    return None


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
        if form.is_valid():
            try:
                metric = metrics.create_metric(request.user, product=product, **form.field_values())
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Metric “{metric.name}” created. Send it data.")
                return redirect(
                    "products:metric", slug=request.workspace.slug, key=key, pk=metric.pk
                )
        status = 400
    metric_list = list(Metric.objects.filter(product=product).order_by("name"))
    series = _series(metric_list, period)
    markers = reads.markers_for([m.pk for m in metric_list])
    krs = reads.followers([m.pk for m in metric_list])
    cards = []
    for metric in metric_list:
        points = series[metric.pk]
        cards.append(
            {
                "metric": metric,
                "chart_id": f"metric-chart-data-{metric.pk}",
                "chart": _chart(metric, points, markers.get(metric.pk, []), period),
                "latest": _latest(points),
                "krs": krs[metric.pk],
                "launches": len(markers.get(metric.pk, [])),
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


def _metric(product, pk) -> Metric:
    return get_object_or_404(Metric, product=product, pk=pk)


def _detail_context(request, product, metric, **extra) -> dict:
    period = _period(request)
    points = _series([metric], period)[metric.pk]
    markers = reads.markers_for([metric.pk]).get(metric.pk, [])
    table = list(reversed(points[-60:]))
    return _base(
        request,
        product,
        metric=metric,
        period=period,
        chart=_chart(metric, points, markers, period),
        latest=_latest(points),
        table=table,
        markers=markers,
        krs=reads.followers([metric.pk])[metric.pk],
        recent=list(Datapoint.objects.filter(metric=metric).order_by("-timestamp", "-id")[:25]),
        upload_form=DatapointUploadForm(),
        form=MetricForm(instance=metric, initial={"version": metric.version}),
        api_url=request.build_absolute_uri(reverse("metric-datapoints", args=[metric.pk])),
        **extra,
    )


@workspace_view()
def metric_detail(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    metric = _metric(product, pk)
    ctx = _detail_context(request, product, metric)
    return render(request, METRIC, ctx)


@require_POST
@workspace_view(edit=True)
def metric_edit(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    metric = _metric(product, pk)
    form = MetricForm(request.POST, instance=metric)
    conflict = None
    if form.is_valid():
        try:
            metrics.update_metric(
                request.user,
                metric=metric,
                expected_version=form.cleaned_data.get("version") or metric.version,
                fields=form.field_values(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except VersionConflict as exc:
            conflict = exc.current
            if conflict is None:
                messages.error(request, "This metric was deleted by someone else.")
                return redirect("products:metrics", slug=request.workspace.slug, key=key)
            data = request.POST.copy()
            data["version"] = conflict.version  # saving again replaces theirs, knowingly
            form = MetricForm(data, instance=conflict)
            form.is_valid()
        else:
            messages.success(request, f"“{form.cleaned_data['name']}” saved.")
            return redirect("products:metric", slug=request.workspace.slug, key=key, pk=pk)
    metric = _metric(product, pk)
    ctx = _detail_context(request, product, metric, conflict=conflict, edit_open=True)
    ctx["form"] = form
    return render(request, METRIC, ctx, status=409 if conflict else 400)


@require_POST
@workspace_view(edit=True)
def metric_upload(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    metric = _metric(product, pk)
    form = DatapointUploadForm(request.POST, request.FILES)
    result = None
    status = 400
    if form.is_valid():
        try:
            result = metrics.ingest_csv(
                request.user,
                metric=metric,
                file=form.cleaned_data["file"],
                all_or_nothing=form.cleaned_data["all_or_nothing"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            status = 200
    ctx = _detail_context(request, product, metric, upload_result=result)
    ctx["upload_form"] = form
    return render(request, METRIC, ctx, status=status)


@require_POST
@workspace_view(edit=True)
def metric_delete(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    metric = _metric(product, pk)
    try:
        metrics.delete_metric(
            request.user, metric=metric, expected_version=int_param(request.POST.get("version"))
        )
    except VersionConflict:
        messages.error(request, "The metric changed since you opened it; nothing was deleted.")
        return redirect("products:metric", slug=request.workspace.slug, key=key, pk=pk)
    messages.success(request, f"Metric “{metric.name}” deleted.")
    return redirect("products:metrics", slug=request.workspace.slug, key=key)
