"""Metrics pages: the product tab, a metric's page, CSV upload, edits with
conflicts, permissions and query counts."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from metrics import services as metrics
from metrics.models import Datapoint, KeyResultLink, Metric

pytestmark = pytest.mark.django_db

URL = "/w/acme/p/PAY/metrics/"


def _metric(pm, product, name, days=30, **kwargs):
    metric = metrics.create_metric(pm, product=product, name=name, **kwargs)
    rows = [{"timestamp": f"2026-01-{d:02d}T12:00:00Z", "value": d} for d in range(1, days + 1)]
    metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    return metric


def test_metrics_tab_shows_charts_with_constant_queries(
    as_user, pm, product, key_result, django_assert_max_num_queries
):
    first = _metric(pm, product, "Signups", target=40)
    metrics.process_dirty()
    client = as_user(pm)
    client.get(URL)  # warm caches (session, ContentTypes)
    with django_assert_max_num_queries(12) as few:
        response = client.get(URL)
    assert response.status_code == 200
    for n in range(3):
        _metric(pm, product, f"Other {n}", aggregation="average")
    KeyResultLink.objects.create(key_result=key_result, metric=first)
    metrics.process_dirty()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    html = response.content.decode()
    assert html.count("<canvas data-chart=") == 4
    assert 'id="metric-chart-data-' in html and '"role": "target"' in html
    assert "Drives" in html and key_result.name in html
    assert 'aria-current="page">Metrics<' in html


def test_period_switch_shows_weeks_from_monday(as_user, pm, product):
    _metric(pm, product, "Signups")
    metrics.process_dirty()
    html = as_user(pm).get(URL, {"period": "week"}).content.decode()
    assert "2025-12-29" in html  # the Monday starting the week of Jan 1 2026
    assert 'href="?period=month"' in html


def test_viewer_sees_charts_but_no_edit_controls(as_user, pm, viewer, product):
    metric = _metric(pm, product, "Signups")
    client = as_user(viewer)
    page = client.get(URL).content.decode()
    assert "New metric" not in page
    detail = client.get(f"{URL}{metric.pk}/").content.decode()
    assert "Upload CSV" not in detail and "Edit metric" not in detail
    forced = client.post(f"{URL}{metric.pk}/upload/", {})
    assert forced.status_code == 403
    assert client.post(URL, {"name": "X", "aggregation": "sum"}).status_code == 403


def test_strangers_get_404(as_user, pm, stranger, product):
    metric = _metric(pm, product, "Signups")
    client = as_user(stranger)
    assert client.get(URL).status_code == 404
    assert client.get(f"{URL}{metric.pk}/").status_code == 404


def test_create_a_metric_from_the_tab(as_user, pm, product):
    response = as_user(pm).post(
        URL, {"name": "Activation", "aggregation": "average", "direction": "increase"}
    )
    metric = Metric.objects.get(name="Activation")
    assert response.status_code == 302 and response.url.endswith(f"/metrics/{metric.pk}/")
    invalid = as_user(pm).post(URL, {"name": "", "aggregation": "sum", "direction": "increase"})
    assert invalid.status_code == 400 and b"This field is required" in invalid.content


def test_metric_page_shows_chart_datapoints_and_key_results(
    as_user, pm, product, key_result, django_assert_max_num_queries
):
    metric = _metric(pm, product, "Signups")
    metrics.process_dirty()
    KeyResultLink.objects.create(key_result=key_result, metric=metric)
    client = as_user(pm)
    client.get(f"{URL}{metric.pk}/")
    with django_assert_max_num_queries(14):
        response = client.get(f"{URL}{metric.pk}/")
    html = response.content.decode()
    assert 'data-chart="metric-chart-data"' in html
    assert "2026-01-30 12:00:00" in html  # latest datapoint
    assert key_result.name in html
    assert f"/api/v1/metrics/{metric.pk}/datapoints/" in html


def test_csv_upload_shows_a_row_by_row_report(as_user, pm, product):
    metric = metrics.create_metric(pm, product=product, name="Signups")
    csv = b"timestamp,value\n2026-01-01,4\n2026-01-02,four\n2026-01-03,6\n"
    client = as_user(pm)
    response = client.post(
        f"{URL}{metric.pk}/upload/", {"file": SimpleUploadedFile("d.csv", csv, "text/csv")}
    )
    # Post/redirect/get: a refresh does not upload again, and the period
    # switch's links lead to the metric's page, not to a GET of the upload
    # URL (which answered a blank 405).
    assert response.status_code == 302
    assert response["Location"] == f"{URL}{metric.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert "2 stored" in html and "1 rejected" in html
    assert "<td>3</td>" in html and "Enter a number." in html
    assert f'href="{URL}{metric.pk}/?period=week"' in html
    assert Datapoint.objects.filter(metric=metric).count() == 2
    assert "stored" not in client.get(response["Location"]).content.decode()  # shown once
    assert client.get(f"{URL}{metric.pk}/?period=week").status_code == 200


def test_csv_upload_refuses_datapoints_dated_in_the_future(as_user, pm, product):
    metric = metrics.create_metric(pm, product=product, name="Signups")
    tomorrow = (timezone.now() + timedelta(days=1)).date()
    csv = f"timestamp,value\n2026-01-01,4\n{tomorrow},9\n".encode()
    client = as_user(pm)
    response = client.post(
        f"{URL}{metric.pk}/upload/", {"file": SimpleUploadedFile("d.csv", csv, "text/csv")}
    )
    html = client.get(response["Location"]).content.decode()
    assert "1 stored" in html and "1 rejected" in html
    assert "This timestamp is in the future" in html
    assert Datapoint.objects.filter(metric=metric).count() == 1


def test_csv_upload_with_a_bad_header_keeps_the_form(as_user, pm, product):
    metric = metrics.create_metric(pm, product=product, name="Signups")
    response = as_user(pm).post(
        f"{URL}{metric.pk}/upload/",
        {"file": SimpleUploadedFile("d.csv", b"a,b\n1,2\n", "text/csv")},
    )
    assert response.status_code == 400
    assert b"header row must name timestamp and value" in response.content


def test_stale_edit_shows_a_conflict_and_keeps_the_input(as_user, pm, teammate, product):
    metric = metrics.create_metric(pm, product=product, name="Signups")
    metrics.update_metric(teammate, metric=metric, expected_version=1, fields={"unit": "people"})
    response = as_user(pm).post(
        f"{URL}{metric.pk}/edit/",
        {
            "version": 1,
            "name": "Signups",
            "unit": "users",
            "aggregation": "sum",
            "direction": "increase",
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this metric first" in html
    assert 'value="users"' in html
    metric.refresh_from_db()
    assert metric.unit == "people"


def test_delete_metric(as_user, pm, product):
    metric = _metric(pm, product, "Signups")
    response = as_user(pm).post(f"{URL}{metric.pk}/delete/", {"version": metric.version})
    assert response.status_code == 302
    assert not Metric.objects.filter(pk=metric.pk).exists()


def test_strategy_page_shows_key_results_following_metrics(
    as_user, pm, product, key_result, django_assert_max_num_queries
):
    metric = _metric(pm, product, "Signups")
    KeyResultLink.objects.create(key_result=key_result, metric=metric)
    metrics.process_dirty()
    html = as_user(pm).get("/w/acme/p/PAY/").content.decode()
    assert "↻ Signups" in html
    assert f"/metrics/{metric.pk}/" in html


def test_key_result_form_links_a_metric_of_the_product(as_user, pm, product, key_result):
    metric = metrics.create_metric(pm, product=product, name="Signups")
    metrics.ingest_datapoints(
        pm, metric=metric, rows=[{"timestamp": "2026-01-05T10:00:00Z", "value": 7}]
    )
    metrics.process_dirty()
    url = f"/w/acme/p/PAY/keyresult/{key_result.pk}/edit/"
    form = as_user(pm).get(url).content.decode()
    assert "Follows metric" in form and f'<option value="{metric.pk}">Signups</option>' in form
    response = as_user(pm).post(
        url,
        {
            "version": key_result.version,
            "name": key_result.name,
            "unit": "",
            "start_value": 0,
            "target_value": 100,
            "current_value": 1,
            "direction": "increase",
            "metric": metric.pk,
            "metric_since": "2026-01-01",
        },
    )
    assert response.status_code in (200, 302)
    key_result.refresh_from_db()
    assert key_result.metric_link.metric_id == metric.pk and key_result.current_value == 7
