"""Launch markers on metric charts: backlog/ hands them to metrics/ through
metrics.services.replace_markers whenever a launch or a hypothesis changes
(metrics/ never reads backlog items), and the metric pages show them."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog import services
from backlog.models import Item
from metrics import reads
from metrics import services as metrics
from metrics.models import ChartMarker
from tests.backlog.factories import make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversion(pm, product):
    return metrics.create_metric(pm, product=product, name="Conversion", aggregation="average")


@pytest.fixture
def adoption(pm, product):
    return metrics.create_metric(pm, product=product, name="Saved cards")


def _hypothesis(pm, item, metric, adoption=None):
    return services.save_hypothesis(
        pm,
        item=item,
        expected_version=None,
        fields={"metric": metric, "expected_change": 5, "adoption_metric": adoption},
    )


def _ship(pm, item):
    return services.update_item(
        pm, item=item, expected_version=item.version, fields={"status": "shipped"}
    )


def _markers(*metrics_):
    found = reads.markers_for([m.pk for m in metrics_])
    return {m.name: [(x["date"], x["label"]) for x in found.get(m.pk, [])] for m in metrics_}


def test_shipping_an_item_with_a_hypothesis_marks_its_metrics(pm, product, conversion, adoption):
    item = make_item(product, pm, title="Save cards")
    _hypothesis(pm, item, conversion, adoption)
    assert _markers(conversion, adoption) == {"Conversion": [], "Saved cards": []}

    item = _ship(pm, item)
    day = item.shipped_at.astimezone(UTC).date()
    label = f"{item.key} Save cards"
    assert _markers(conversion, adoption) == {
        "Conversion": [(day, label)],
        "Saved cards": [(day, label)],
    }
    marker = reads.markers_for([conversion.pk])[conversion.pk][0]
    assert marker["url"] == f"/w/acme/p/PAY/backlog/items/{item.number}/launch/"


def test_the_marker_follows_renames_unshipping_and_the_hypothesis(
    pm, product, conversion, adoption
):
    item = _ship(pm, make_item(product, pm, title="Save cards"))
    hypothesis = _hypothesis(pm, item, conversion)
    day = item.shipped_at.astimezone(UTC).date()
    assert _markers(conversion) == {"Conversion": [(day, f"{item.key} Save cards")]}

    item = services.update_item(
        pm, item=item, expected_version=item.version, fields={"title": "Remember cards"}
    )
    assert _markers(conversion) == {"Conversion": [(day, f"{item.key} Remember cards")]}

    # The hypothesis names another metric: the marker moves with it.
    hypothesis = services.update_hypothesis(
        pm, hypothesis=hypothesis, expected_version=hypothesis.version, fields={"metric": adoption}
    )
    assert _markers(conversion, adoption) == {
        "Conversion": [],
        "Saved cards": [(day, f"{item.key} Remember cards")],
    }

    item = services.update_item(
        pm, item=item, expected_version=item.version, fields={"status": "in_progress"}
    )
    assert not ChartMarker.objects.exists()

    # Bulk shipping stamps a new launch day and marks it again.
    services.bulk_update_items(pm, product=product, item_ids=[item.pk], status="shipped")
    item.refresh_from_db()
    assert _markers(adoption) == {
        "Saved cards": [(item.shipped_at.astimezone(UTC).date(), f"{item.key} Remember cards")]
    }

    hypothesis.refresh_from_db()
    services.delete_hypothesis(pm, hypothesis=hypothesis, expected_version=hypothesis.version)
    assert not ChartMarker.objects.exists()


def test_deleting_a_shipped_item_takes_its_marker_off_the_charts(pm, product, conversion):
    item = _ship(pm, make_item(product, pm))
    _hypothesis(pm, item, conversion)
    assert ChartMarker.objects.count() == 1
    services.delete_item(pm, item=item)
    assert not ChartMarker.objects.exists()


def test_deleting_a_metric_takes_its_markers_with_it(pm, product, conversion, adoption):
    item = _ship(pm, make_item(product, pm))
    _hypothesis(pm, item, conversion, adoption)
    metrics.delete_metric(pm, metric=adoption)
    assert list(ChartMarker.objects.values_list("metric_id", flat=True)) == [conversion.pk]


def test_syncing_many_items_takes_constant_queries(pm, product, conversion):
    items = []
    for _n in range(6):
        item = _ship(pm, make_item(product, pm))
        _hypothesis(pm, item, conversion)
        items.append(item.pk)
    with CaptureQueriesContext(connection) as few:
        services.sync_launch_markers(items[:2])
    with CaptureQueriesContext(connection) as many:
        services.sync_launch_markers(items)
    assert len(few) == len(many) <= 5  # read, delete, insert (+ a savepoint pair)
    assert ChartMarker.objects.count() == 6


def test_metric_pages_show_the_launches(as_user, pm, product, conversion):
    today = datetime.now(UTC).date()
    rows = [
        {"timestamp": f"{(today - timedelta(days=ago)).isoformat()}T12:00:00Z", "value": 50 + ago}
        for ago in range(1, 40)
    ]
    metrics.ingest_datapoints(pm, metric=conversion, rows=rows)
    metrics.process_dirty()
    item = _ship(pm, make_item(product, pm, title="Save cards"))
    Item.objects.filter(pk=item.pk).update(shipped_at=datetime.now(UTC) - timedelta(days=10))
    item.refresh_from_db()
    _hypothesis(pm, item, conversion)  # the hypothesis write hands the backdated launch over

    response = as_user(pm).get(f"/w/acme/p/PAY/metrics/{conversion.pk}/")
    page = response.content.decode()
    link = f'href="/w/acme/p/PAY/backlog/items/{item.number}/launch/">{item.key} Save cards</a>'
    assert link in page
    chart = json.loads(page.split('id="metric-chart-data"', 1)[1].split(">", 1)[1].split("<")[0])
    assert [m["text"] for m in chart["markers"]] == [f"{item.key} Save cards"]
    listing = as_user(pm).get("/w/acme/p/PAY/metrics/").content.decode()
    assert "1 launch marked" in listing
