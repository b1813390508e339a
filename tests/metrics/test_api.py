"""Metrics API: CRUD with ETag/If-Match, bulk datapoints, rollups, key
result links; permissions and query counts."""

import base64

import pytest

from metrics import services as metrics
from metrics.models import Datapoint, KeyResultLink, Metric
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def metric(product, pm):
    return metrics.create_metric(pm, product=product, name="Signups", aggregation="sum")


def _seed(metric, pm, days=20):
    rows = [
        {"timestamp": f"2026-01-{d:02d}T{h:02d}:00:00Z", "value": d + h}
        for d in range(1, days + 1)
        for h in (1, 13)
    ]
    metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    metrics.process_dirty()


def test_create_read_update_delete_with_etags(api, product):
    created = api.post(
        "/api/v1/metrics/",
        {"product": product.pk, "name": "Activation", "unit": "%", "aggregation": "average"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created["ETag"].startswith('"1.')
    stale = api.patch(f"/api/v1/metrics/{pk}/", {"target": 40}, format="json", HTTP_IF_MATCH='"0"')
    assert stale.status_code == 412
    ok = api.patch(f"/api/v1/metrics/{pk}/", {"target": 40}, format="json", HTTP_IF_MATCH='"1"')
    assert ok.status_code == 200
    assert ok.json()["target"] == 40 and ok["ETag"].startswith('"2.')
    gone = api.delete(f"/api/v1/metrics/{pk}/", HTTP_IF_MATCH='"1"')
    assert gone.status_code == 412
    assert api.delete(f"/api/v1/metrics/{pk}/", HTTP_IF_MATCH='"2"').status_code == 204


def test_bad_input_is_400_with_field_messages(api, product, metric):
    response = api.post(
        "/api/v1/metrics/",
        {"product": product.pk, "name": "signups", "aggregation": "median"},
        format="json",
    )
    assert response.status_code == 400
    assert "aggregation" in response.json()
    duplicate = api.post("/api/v1/metrics/", {"product": product.pk, "name": "SIGNUPS"})
    assert duplicate.status_code == 400 and "name" in duplicate.json()


def test_list_is_keyset_paginated_with_constant_queries(
    api, pm, product, django_assert_max_num_queries
):
    for n in range(5):
        metrics.create_metric(pm, product=product, name=f"M{n}")
    with django_assert_max_num_queries(4):
        first = api.get("/api/v1/metrics/", {"page_size": 2})
    body = first.json()
    seen = [m["name"] for m in body["results"]]
    while body["next"]:
        body = api.get(body["next"]).json()
        seen += [m["name"] for m in body["results"]]
    assert sorted(seen) == [f"M{n}" for n in range(5)]


def test_post_datapoints_reports_rows(api, metric, django_capture_on_commit_callbacks):
    body = {
        "datapoints": [
            {"timestamp": "2026-02-01T10:00:00Z", "value": 3, "dedupe_key": "e1"},
            {"timestamp": "nope", "value": 1},
        ]
    }
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(f"/api/v1/metrics/{metric.pk}/datapoints/", body, format="json")
    assert len(callbacks) == 1  # the rollup is enqueued after commit (and runs inline here)
    assert response.status_code == 200
    data = response.json()
    assert (data["created"], data["rejected"], data["applied"]) == (1, 1, True)
    assert data["errors"][0]["index"] == 1 and "timestamp" in data["errors"][0]["errors"]
    # Re-sending changes nothing; the rollup already ran inline.
    again = api.post(f"/api/v1/metrics/{metric.pk}/datapoints/", body, format="json").json()
    assert again["created"] == 0 and again["duplicates"] == 1
    rollups = api.get(f"/api/v1/metrics/{metric.pk}/rollups/?period=day").json()["results"]
    assert [(r["start"], r["value"]) for r in rollups] == [("2026-02-01", 3.0)]


def test_a_bare_list_is_accepted(api, metric):
    response = api.post(
        f"/api/v1/metrics/{metric.pk}/datapoints/",
        [{"timestamp": "2026-02-01", "value": 1}],
        format="json",
    )
    assert response.status_code == 200 and response.json()["created"] == 1


def test_all_or_nothing_answers_400_per_row(api, metric):
    body = {
        "all_or_nothing": True,
        "datapoints": [{"timestamp": "2026-02-01", "value": 1}, {"timestamp": "2026-02-02"}],
    }
    response = api.post(f"/api/v1/metrics/{metric.pk}/datapoints/", body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert data["datapoints"][0] == {} and "value" in data["datapoints"][1]
    assert not Datapoint.objects.exists()


def test_datapoints_body_must_be_a_list(api, metric):
    response = api.post(
        f"/api/v1/metrics/{metric.pk}/datapoints/", {"datapoints": "x"}, format="json"
    )
    assert response.status_code == 400 and "datapoints" in response.json()


def test_read_only_tokens_and_viewers_cannot_write(pm, viewer, metric):
    body = {"datapoints": [{"timestamp": "2026-02-01", "value": 1}]}
    read_only = api_client_for(pm, read_only=True)
    url = f"/api/v1/metrics/{metric.pk}/datapoints/"
    assert read_only.post(url, body, format="json").status_code == 403
    assert read_only.get(f"/api/v1/metrics/{metric.pk}/rollups/").status_code == 200
    as_viewer = api_client_for(viewer)
    assert as_viewer.post(url, body, format="json").status_code == 403
    assert as_viewer.patch(f"/api/v1/metrics/{metric.pk}/", {"unit": "x"}).status_code == 403
    assert not Datapoint.objects.exists()


def test_other_workspaces_get_404(stranger, metric):
    client = api_client_for(stranger)
    assert client.get(f"/api/v1/metrics/{metric.pk}/").status_code == 404
    assert client.get(f"/api/v1/metrics/{metric.pk}/rollups/").status_code == 404
    response = client.post(
        f"/api/v1/metrics/{metric.pk}/datapoints/",
        [{"timestamp": "2026-02-01", "value": 1}],
        format="json",
    )
    assert response.status_code == 404
    assert client.get("/api/v1/metrics/").json()["results"] == []


def test_rollups_by_period_and_range(api, pm, metric, django_assert_max_num_queries):
    _seed(metric, pm)
    url = f"/api/v1/metrics/{metric.pk}/rollups/"
    with django_assert_max_num_queries(5):
        weeks = api.get(url, {"period": "week"}).json()["results"]
    # 2026-01-01 is a Thursday: the first week starts Monday 2025-12-29.
    assert weeks[0]["start"] == "2025-12-29" and weeks[0]["end"] == "2026-01-05"
    assert weeks[0]["count"] == 8 and weeks[0]["value"] == weeks[0]["total"]
    days = api.get(url, {"period": "day", "from": "2026-01-05", "to": "2026-01-07"}).json()
    assert [d["start"] for d in days["results"]] == ["2026-01-05", "2026-01-06", "2026-01-07"]
    months = api.get(url, {"period": "month"}).json()["results"]
    assert len(months) == 1 and months[0]["count"] == 40


def test_rollups_paginate_every_row_once(api, pm, metric):
    _seed(metric, pm)
    url = f"/api/v1/metrics/{metric.pk}/rollups/?period=day&page_size=7"
    seen = []
    while url:
        body = api.get(url).json()
        seen += [r["start"] for r in body["results"]]
        url = body["next"]
    assert len(seen) == 20 and seen == sorted(seen)


def test_rollup_query_errors_are_400(api, metric):
    url = f"/api/v1/metrics/{metric.pk}/rollups/"
    assert api.get(url, {"period": "year"}).status_code == 400
    assert api.get(url, {"from": "2026-02-01", "to": "2026-01-01"}).status_code == 400


def test_key_result_links_to_a_metric_over_the_api(api, pm, metric, key_result):
    _seed(metric, pm, days=3)
    response = api.patch(
        f"/api/v1/key-results/{key_result.pk}/",
        {"metric": metric.pk, "metric_since": "2026-01-03"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["current_value"] == (3 + 1) + (3 + 13)
    assert KeyResultLink.objects.get(key_result=key_result).metric_id == metric.pk


def test_key_result_cannot_link_a_foreign_metric(api, stranger, key_result):
    from tests.factories import ProductFactory

    foreign_product = ProductFactory(workspace=stranger.memberships.first().workspace)
    foreign = Metric.objects.create(product=foreign_product, name="Theirs")
    response = api.patch(
        f"/api/v1/key-results/{key_result.pk}/", {"metric": foreign.pk}, format="json"
    )
    assert response.status_code == 400 and "metric" in response.json()


# --- reading datapoints -------------------------------------------------------------------------


def _read_all(client, url, **params):
    """Follow `next` to the end; returns the rows and the number of pages."""
    response = client.get(url, params)
    assert response.status_code == 200, response.json()
    body, pages = response.json(), 1
    rows = list(body["results"])
    while body["next"]:
        assert body["previous"] is None
        body = client.get(body["next"]).json()
        rows += body["results"]
        pages += 1
    return rows, pages


def test_get_datapoints_pages_every_row_exactly_once(api, pm, metric, django_assert_num_queries):
    # 30 rows at one instant (keys tell them apart), more around it: a page
    # boundary inside a group of equal timestamps must neither repeat nor skip.
    same = [
        {"timestamp": "2026-03-01T12:00:00Z", "value": 1, "dedupe_key": f"k{n}"} for n in range(30)
    ]
    spread = [{"timestamp": f"2026-03-{d:02d}T08:00:00+02:00", "value": d} for d in range(1, 21)]
    metrics.ingest_datapoints(pm, metric=metric, rows=same + spread)
    url = f"/api/v1/metrics/{metric.pk}/datapoints/"
    api.get(url)  # the token's first use records last_used_at
    with django_assert_num_queries(3):  # token, metric, page
        first = api.get(url, {"page_size": 7})
    assert len(first.json()["results"]) == 7
    rows, pages = _read_all(api, url, page_size=7)
    stored = Datapoint.objects.filter(metric=metric)
    assert len(rows) == 50 and pages == 8
    assert sorted(r["id"] for r in rows) == sorted(stored.values_list("id", flat=True))
    assert [(r["timestamp"], r["id"]) for r in rows] == sorted(
        (r["timestamp"], r["id"]) for r in rows
    )
    first_row = rows[0]
    assert set(first_row) == {"id", "timestamp", "value", "dedupe_key"}
    assert first_row["timestamp"] == "2026-03-01T06:00:00Z"  # stored in UTC
    keyed = [r for r in rows if r["dedupe_key"]]
    assert sorted(r["dedupe_key"] for r in keyed) == sorted(f"k{n}" for n in range(30))
    # Following pages costs the same number of queries.
    with django_assert_num_queries(3):
        api.get(first.json()["next"])


def test_get_datapoints_from_to(api, pm, metric):
    _seed(metric, pm, days=10)  # 01:00 and 13:00 on Jan 1..10
    url = f"/api/v1/metrics/{metric.pk}/datapoints/"
    rows, _pages = _read_all(api, url, **{"from": "2026-01-03", "to": "2026-01-05T13:00:00Z"})
    assert [r["timestamp"] for r in rows] == [
        "2026-01-03T01:00:00Z",
        "2026-01-03T13:00:00Z",
        "2026-01-04T01:00:00Z",
        "2026-01-04T13:00:00Z",
        "2026-01-05T01:00:00Z",
    ]
    assert _read_all(api, url, **{"from": "2026-01-10T12:00:00+00:00"})[0][0]["value"] == 23
    bad = api.get(url, {"from": "soon", "to": "2026-01-01"})
    assert bad.status_code == 400 and "from" in bad.json()
    backwards = api.get(url, {"from": "2026-01-05", "to": "2026-01-01"})
    assert backwards.status_code == 400 and "to" in backwards.json()


def test_post_datapoints_still_ingests_next_to_get(api, metric):
    url = f"/api/v1/metrics/{metric.pk}/datapoints/"
    batch = [{"timestamp": "2026-02-01T10:00:00Z", "value": 3.5, "dedupe_key": "a"}]
    assert api.post(url, batch, format="json").json()["created"] == 1
    assert api.post(url, batch, format="json").json()["duplicates"] == 1
    assert api.get(url).json()["results"] == [
        {
            "id": Datapoint.objects.get().pk,
            "timestamp": "2026-02-01T10:00:00Z",
            "value": 3.5,
            "dedupe_key": "a",
        }
    ]


def test_datapoints_read_permissions(pm, viewer, stranger, metric):
    metrics.ingest_datapoints(pm, metric=metric, rows=[{"timestamp": "2026-02-01", "value": 1}])
    url = f"/api/v1/metrics/{metric.pk}/datapoints/"
    for client in (api_client_for(viewer), api_client_for(pm, read_only=True)):
        assert len(client.get(url).json()["results"]) == 1
    assert api_client_for(stranger).get(url).status_code == 404


# --- crafted cursors ----------------------------------------------------------------------------


def _cursor(next_url: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(next_url).query)["cursor"][0]


def _crafted(real: str) -> list[str]:
    """Cursors this server never wrote for the list: junk, the old unsigned
    format, a tampered signature, and a signed cursor of values out of range
    or of the wrong type."""
    from pmhub.api.pagination import encode_cursor

    old = base64.urlsafe_b64encode(b'{"t":"2026-01-01T00:00:00+00:00","i":1}').decode()
    key = "metrics.datapoint:timestamp,id"
    return [
        "bogus",
        "",
        old,
        real[:-2] + ("AA" if not real.endswith("AA") else "BB"),
        encode_cursor(key, ["2026-01-01T00:00:00+00:00", 2**63]),
        encode_cursor(key, ["2026-01-01T00:00:00", 1]),  # naive
        encode_cursor(key, [1, 1]),
        encode_cursor("items:-score", [0.5, 42]),
    ]


def test_crafted_datapoint_cursors_are_400(api, pm, metric):
    _seed(metric, pm, days=3)
    url = f"/api/v1/metrics/{metric.pk}/datapoints/"
    real = _cursor(api.get(url, {"page_size": 2}).json()["next"])
    assert api.get(url, {"page_size": 2, "cursor": real}).status_code == 200
    for cursor in _crafted(real):
        response = api.get(url, {"cursor": cursor})
        assert response.status_code == 400, cursor
        assert "cursor" in response.json()


def test_crafted_rollup_cursors_are_400(api, pm, metric):
    _seed(metric, pm, days=5)
    url = f"/api/v1/metrics/{metric.pk}/rollups/"
    real = _cursor(api.get(url, {"page_size": 2}).json()["next"])
    assert api.get(url, {"page_size": 2, "cursor": real}).status_code == 200
    datapoints = f"/api/v1/metrics/{metric.pk}/datapoints/"
    foreign = _cursor(api.get(datapoints, {"page_size": 1}).json()["next"])
    for cursor in [*_crafted(real), foreign]:
        response = api.get(url, {"cursor": cursor})
        assert response.status_code == 400, cursor
        assert "cursor" in response.json()
    # And a datapoint list refuses a rollup cursor.
    assert api.get(datapoints, {"cursor": real}).status_code == 400
