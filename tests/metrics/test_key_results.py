"""Key results that follow a metric: the link (metrics.KeyResultLink) is
edited as the key result's own fields through products.extensions, on the
form, the API and the services, and the value follows the metric."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics import services as metrics
from metrics.models import KeyResultLink
from products import extensions, forms, services
from products.models import KeyResult, Objective
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


def _rate(pm, product, name="Rate"):
    metric = metrics.create_metric(pm, product=product, name=name, aggregation="average")
    metrics.ingest_datapoints(
        pm,
        metric=metric,
        rows=[{"timestamp": "2026-01-01", "value": 10}, {"timestamp": "2026-01-02", "value": 20}],
    )
    metrics.process_dirty()
    return metric


def test_key_result_links_only_to_metrics_of_its_product(pm, objective, workspace):
    from products import services
    from tests.factories import ProductFactory

    other = ProductFactory(workspace=workspace, key="OTH")
    foreign = metrics.create_metric(pm, product=other, name="Foreign")
    with pytest.raises(ValidationError) as exc:
        services.create_key_result(
            pm, objective=objective, name="KR", target_value=10, metric=foreign
        )
    assert "metric" in exc.value.message_dict


def test_linking_a_key_result_sets_its_value_at_once(pm, product, key_result):
    from products import services

    metric = metrics.create_metric(pm, product=product, name="Rate", aggregation="average")
    metrics.ingest_datapoints(
        pm,
        metric=metric,
        rows=[{"timestamp": "2026-01-01", "value": 10}, {"timestamp": "2026-01-02", "value": 20}],
    )
    metrics.process_dirty()
    before = key_result.version
    saved = services.update_key_result(
        pm,
        key_result=key_result,
        expected_version=key_result.version,
        fields={"metric": metric, "metric_since": date(2026, 1, 2)},
    )
    assert saved.current_value == 20
    # The metric's value is a version of its own: the ETag a client holds changes.
    assert saved.version == KeyResult.objects.get(pk=key_result.pk).version == before + 2


def test_a_key_result_period_without_data_has_no_value_on_edit_as_after_a_rollup(
    pm, product, key_result
):
    """One rule (metrics.follow_metric): editing a linked key result and the
    rollup agree — no data in its period means no current value."""
    from products import services

    metric = metrics.create_metric(pm, product=product, name="Rate", aggregation="average")
    metrics.ingest_datapoints(pm, metric=metric, rows=[{"timestamp": "2026-01-01", "value": 10}])
    metrics.process_dirty()
    KeyResult.objects.filter(pk=key_result.pk).update(current_value=7)
    key_result.refresh_from_db()
    saved = services.update_key_result(
        pm,
        key_result=key_result,
        expected_version=key_result.version,
        fields={"metric": metric, "metric_since": date(2026, 6, 1)},
    )
    assert saved.current_value is None
    assert KeyResult.objects.get(pk=key_result.pk).current_value is None
    assert metrics.refresh_key_results(metric) == 0  # the rollup finds nothing to change


def test_changing_only_the_period_keeps_the_metric_and_unlinking_keeps_the_value(
    pm, product, key_result
):
    metric = _rate(pm, product)
    kr = services.update_key_result(
        pm, key_result=key_result, expected_version=key_result.version, fields={"metric": metric}
    )
    assert kr.current_value == 15
    kr = services.update_key_result(
        pm,
        key_result=kr,
        expected_version=kr.version,
        fields={"metric_since": date(2026, 1, 2)},
    )
    link = KeyResultLink.objects.get(key_result=kr)
    assert (link.metric_id, link.since, kr.current_value) == (metric.pk, date(2026, 1, 2), 20)
    kr = services.update_key_result(
        pm,
        key_result=kr,
        expected_version=kr.version,
        fields={"metric": None, "metric_since": None},
    )
    assert not KeyResultLink.objects.exists()
    assert KeyResult.objects.get(pk=kr.pk).current_value == 20  # kept, typed by hand from now


def test_a_typed_value_on_a_linked_key_result_gives_way_to_the_metric(pm, product, key_result):
    metric = _rate(pm, product)
    KeyResultLink.objects.create(key_result=key_result, metric=metric)
    kr = services.update_key_result(
        pm, key_result=key_result, expected_version=key_result.version, fields={"current_value": 3}
    )
    assert kr.current_value == KeyResult.objects.get(pk=kr.pk).current_value == 15
    # Other edits leave the value alone (no extra version).
    before = kr.version
    kr = services.update_key_result(
        pm, key_result=kr, expected_version=kr.version, fields={"name": "Renamed"}
    )
    assert kr.version == before + 1


def test_a_stale_edit_of_the_link_conflicts_and_stores_nothing(pm, teammate, product, key_result):
    from pmhub.errors import VersionConflict

    metric = _rate(pm, product)
    services.update_key_result(
        teammate, key_result=key_result, expected_version=key_result.version, fields={"unit": "%"}
    )
    with pytest.raises(VersionConflict):
        services.update_key_result(
            pm, key_result=key_result, expected_version=1, fields={"metric": metric}
        )
    assert not KeyResultLink.objects.exists()


def test_creating_a_key_result_that_follows_a_metric(pm, product, objective):
    metric = _rate(pm, product)
    kr = services.create_key_result(
        pm, objective=objective, name="Rate up", target_value=30, metric=metric
    )
    assert kr.current_value == 15 and kr.metric_link.metric == metric
    with pytest.raises(ValidationError) as exc:
        services.create_key_result(pm, objective=objective, name="X", target_value=1, colour="red")
    assert "colour" in exc.value.message_dict


def test_the_strategy_page_shows_the_followed_metric_in_constant_queries(
    as_user, pm, product, objective
):
    metric = _rate(pm, product)

    def page():
        with CaptureQueriesContext(connection) as queries:
            html = as_user(pm).get("/w/acme/p/PAY/").content.decode()
        return html, len(queries)

    services.create_key_result(pm, objective=objective, name="A", target_value=30, metric=metric)
    page()  # the first request of a session reads more (session, user)
    _html, one = page()
    for n in range(3):
        other = Objective.objects.create(product=product, title=f"O{n}")
        for m in range(2):
            services.create_key_result(
                pm, objective=other, name=f"K{n}{m}", target_value=30, metric=metric
            )
    html, many = page()
    assert one == many
    badge = f'href="/w/acme/p/PAY/metrics/{metric.pk}/" title="The current value follows'
    assert html.count(badge) == 7 and "↻ Rate" in html


def test_the_api_reads_the_link_on_key_results_and_objectives(pm, product, objective):
    metric = _rate(pm, product)
    kr = services.create_key_result(
        pm, objective=objective, name="A", target_value=30, metric=metric
    )
    services.create_key_result(pm, objective=objective, name="B", target_value=3)
    api = api_client_for(pm)
    rows = api.get("/api/v1/key-results/").json()["results"]
    assert [(r["name"], r["metric"], r["metric_since"]) for r in rows] == [
        ("A", metric.pk, None),
        ("B", None, None),
    ]
    nested = api.get(f"/api/v1/objectives/{objective.pk}/").json()["key_results"]
    assert nested[0]["metric"] == metric.pk and nested[0]["current_value"] == 15
    created = api.post(
        "/api/v1/key-results/",
        {"objective": objective.pk, "name": "C", "target_value": 9, "metric": metric.pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["metric"] == metric.pk and created.json()["current_value"] == 15
    assert KeyResult.objects.get(pk=kr.pk).metric_link.metric_id == metric.pk


def test_products_works_without_the_extension(pm, product, objective, monkeypatch):
    """products/ knows nothing of metrics: without the extension installed a
    key result has only its own fields on the form, the API and the services."""
    monkeypatch.setattr(extensions, "_EXTENSIONS", [])
    form = forms.KeyResultForm(product=product)
    assert "metric" not in form.fields and "metric_since" not in form.fields
    from products.api import KeyResultSerializer

    assert "metric" not in KeyResultSerializer().get_fields()
    with pytest.raises(ValidationError) as exc:
        services.create_key_result(pm, objective=objective, name="X", target_value=1, metric=None)
    assert "metric" in exc.value.message_dict
    kr = services.create_key_result(pm, objective=objective, name="X", target_value=1)
    assert list(Objective.objects.with_key_results().get(pk=objective.pk).key_results.all()) == [kr]
