"""Markers on metric charts, handed over by downstream apps.

metrics/ knows nothing of backlog items, yet a metric's charts mark the
launches of the items whose hypothesis names it. backlog/ computes those
markers whenever a launch or a hypothesis changes and hands them over here
(DESIGN: data that flows upstream goes through the upstream app's service);
the charts read the stored rows (metrics.reads.markers_for).
"""

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from ..models import ChartMarker


@dataclass(frozen=True)
class NewMarker:
    metric_id: int
    day: date
    label: str
    url: str = ""


@transaction.atomic
def replace_markers(markers_by_source: dict[str, list[NewMarker]]) -> None:
    """Make each source's markers exactly the given ones (an empty list
    removes them): one DELETE and one INSERT however many sources. A source
    names the writer's object (``"item:42"``); one marker per metric and
    source. Markers of a deleted metric go with it."""
    if not markers_by_source:
        return
    ChartMarker.objects.filter(source__in=list(markers_by_source)).delete()
    rows = {}
    for source, markers in markers_by_source.items():
        for marker in markers:
            rows[(marker.metric_id, source)] = ChartMarker(
                metric_id=marker.metric_id,
                source=source,
                day=marker.day,
                label=marker.label[:300],
                url=marker.url,
            )
    ChartMarker.objects.bulk_create(rows.values())
