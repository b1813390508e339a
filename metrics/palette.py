"""Metrics in the command palette (pmhub/palette.py), by name."""

from django.urls import reverse

from pmhub.palette import PaletteQuery, Result

from .models import Metric


def metrics_source(query: PaletteQuery) -> list[Result]:
    if not query.text:
        return []
    metrics = (
        Metric.objects.in_workspace(query.workspace)
        .filter(name__icontains=query.text)
        .order_by("name", "id")
        .values("pk", "name", "product__key")[: query.limit]
    )
    return [
        Result(
            group="Metrics",
            label=m["name"],
            detail=m["product__key"],
            url=reverse("metrics:metric", args=[query.workspace.slug, m["product__key"], m["pk"]]),
        )
        for m in metrics
    ]
