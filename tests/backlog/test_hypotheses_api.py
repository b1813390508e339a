"""Hypotheses API: CRUD with ETag/If-Match, learnings, the computed launch
review (equal to what the HTML shows), permissions, filters and query counts."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils.html import escape

from backlog import launch_reviews, services
from backlog.models import Hypothesis, Item
from metrics import services as metrics
from products.models import Product
from tests.backlog.factories import make_item
from tests.conftest import api_client_for
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/hypotheses/"


@pytest.fixture
def metric(product, pm):
    return metrics.create_metric(pm, product=product, name="Conversion", aggregation="average")


def _shipped(product, pm, days_ago=20, **kwargs):
    item = make_item(product, pm, status="shipped", **kwargs)
    Item.objects.filter(pk=item.pk).update(shipped_at=datetime.now(UTC) - timedelta(days=days_ago))
    item.refresh_from_db()
    return item


def _daily(pm, metric, values_by_ago):
    today = datetime.now(UTC).date()
    rows = [
        {"timestamp": f"{(today - timedelta(days=ago)).isoformat()}T12:00:00Z", "value": v}
        for ago, v in values_by_ago.items()
    ]
    metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    metrics.process_dirty()


def _hypothesis(pm, item, metric, **fields):
    fields = {"metric": metric, "expected_change": 10, "window_days": 14, **fields}
    return services.save_hypothesis(pm, item=item, expected_version=None, fields=fields)


# --- CRUD ---------------------------------------------------------------------------------------


def test_create_read_update_delete_with_etags(api, pm, product, metric):
    item = _shipped(product, pm)
    _daily(pm, metric, {ago: 50.0 + (ago < 20) * 10 + ago % 2 for ago in range(1, 40)})
    created = api.post(
        URL,
        {"item": item.pk, "metric": metric.pk, "expected_change": 10, "window_days": 14},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert created["ETag"].startswith('"1.')
    assert body["item_key"] == item.key and body["product"] == product.pk
    assert body["review"]["verdict"] == "met"
    assert body["review"]["launch_date"] == item.shipped_at.astimezone(UTC).date().isoformat()
    url = f"{URL}{body['id']}/"

    read = api.get(url)
    assert read.status_code == 200 and read["ETag"].startswith('"1.')
    # The review moves without a new version, so a cached copy is never "not modified".
    assert api.get(url, HTTP_IF_NONE_MATCH='"1"').status_code == 200
    assert read.json()["review"] == body["review"]

    patched = api.patch(
        url, {"learnings": "  Saved cards worked.  "}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert patched.status_code == 200, patched.json()
    assert patched["ETag"].startswith('"2.')
    data = patched.json()
    assert data["learnings"] == "Saved cards worked." and data["learnings_by"] == pm.pk
    assert data["learnings_at"] is not None

    both = api.patch(
        url, {"expected_change": 50, "learnings": "More"}, format="json", HTTP_IF_MATCH='"2"'
    )
    assert both.status_code == 200 and both["ETag"].startswith('"3.')  # one versioned write
    assert both.json()["review"]["verdict"] == "not_met"

    # The item is fixed once set.
    other = make_item(product, pm)
    api.patch(url, {"item": other.pk}, format="json", HTTP_IF_MATCH='"3"')
    assert Hypothesis.objects.get(pk=body["id"]).item_id == item.pk

    stale = api.delete(url, HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and Hypothesis.objects.filter(pk=body["id"]).exists()
    current = api.get(url)["ETag"]
    assert api.delete(url, HTTP_IF_MATCH=current).status_code == 204
    assert not Hypothesis.objects.filter(pk=body["id"]).exists()


def test_stale_if_match_is_412_and_changes_nothing(api, pm, teammate, product, metric):
    h = _hypothesis(pm, make_item(product, pm), metric)
    services.save_learnings(teammate, hypothesis=h, expected_version=1, learnings="Theirs")
    response = api.patch(
        f"{URL}{h.pk}/",
        {"learnings": "Mine", "expected_change": 30},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 412
    assert response["ETag"] == '"2"' and response.json()["current_version"] == 2
    h.refresh_from_db()
    assert (h.learnings, h.expected_change, h.version) == ("Theirs", 10, 2)


def test_bad_input_is_400_with_field_messages(api, pm, product, workspace, metric):
    item = make_item(product, pm)
    foreign = metrics.create_metric(pm, product=ProductFactory(workspace=workspace), name="Other")

    def post(**body):
        response = api.post(URL, {"item": item.pk, **body}, format="json")
        assert response.status_code == 400, response.json()
        return response.json()

    assert "metric" in post(expected_change=5)  # required
    assert post(metric=foreign.pk, expected_change=5)["metric"] == [
        "Pick a metric of this item's product."
    ]
    assert "adoption_metric" in post(
        metric=metric.pk, expected_change=5, adoption_metric=foreign.pk
    )
    assert "expected_change" in post(metric=metric.pk, expected_change=0)
    assert "window_days" in post(metric=metric.pk, expected_change=5, window_days=3)
    assert "metric" in post(metric=None, expected_change=5)
    assert not Hypothesis.objects.exists()

    _hypothesis(pm, item, metric)
    second = post(metric=metric.pk, expected_change=5)
    assert second["item"] == ["This item already has a hypothesis; change that one instead."]
    h = Hypothesis.objects.get()
    bad = api.patch(f"{URL}{h.pk}/", {"metric": foreign.pk}, format="json")
    assert bad.status_code == 400 and "metric" in bad.json()
    h.refresh_from_db()
    assert h.metric_id == metric.pk and h.version == 1


# --- permissions --------------------------------------------------------------------------------


def test_viewers_and_read_only_tokens_read_but_cannot_write(pm, viewer, product, metric):
    h = _hypothesis(pm, make_item(product, pm), metric)
    free = make_item(product, pm)
    for client in (api_client_for(viewer), api_client_for(pm, read_only=True)):
        assert client.get(f"{URL}{h.pk}/").status_code == 200
        assert [r["id"] for r in client.get(URL).json()["results"]] == [h.pk]
        body = {"item": free.pk, "metric": metric.pk, "expected_change": 5}
        assert client.post(URL, body, format="json").status_code == 403
        assert client.patch(f"{URL}{h.pk}/", {"learnings": "x"}, format="json").status_code == 403
        assert client.delete(f"{URL}{h.pk}/").status_code == 403
    h.refresh_from_db()
    assert h.version == 1 and h.learnings == ""
    assert Hypothesis.objects.count() == 1


def test_other_workspaces_get_404(pm, stranger, product, metric):
    h = _hypothesis(pm, make_item(product, pm), metric)
    client = api_client_for(stranger)
    assert client.get(f"{URL}{h.pk}/").status_code == 404
    assert client.patch(f"{URL}{h.pk}/", {"learnings": "x"}, format="json").status_code == 404
    assert client.delete(f"{URL}{h.pk}/").status_code == 404
    assert client.get(URL).json()["results"] == []
    free = make_item(product, pm)
    response = client.post(
        URL, {"item": free.pk, "metric": metric.pk, "expected_change": 5}, format="json"
    )
    assert response.status_code == 400 and set(response.json()) == {"item", "metric"}
    assert Hypothesis.objects.count() == 1


# --- lists --------------------------------------------------------------------------------------


def test_list_filters_and_constant_queries(
    api, pm, product, workspace, metric, django_assert_num_queries
):
    adoption = metrics.create_metric(pm, product=product, name="Saved cards", aggregation="sum")
    _daily(pm, metric, {ago: 50.0 + (ago < 22) * 10 + ago % 2 for ago in range(1, 45)})
    _daily(pm, adoption, {ago: float(ago < 20) for ago in range(1, 45)})
    hs = [
        _hypothesis(pm, _shipped(product, pm, days_ago=20 + n), metric, adoption_metric=adoption)
        for n in range(2)
    ]
    api.get(URL)
    # The token, the page of hypotheses (items and metrics joined), one
    # read of the day rollups of every metric on the page.
    with django_assert_num_queries(3):
        first = api.get(URL)
    assert [r["id"] for r in first.json()["results"]] == [h.pk for h in hs]
    for n in range(4):
        hs.append(_hypothesis(pm, _shipped(product, pm, days_ago=21 + n), metric))
    hs.append(_hypothesis(pm, make_item(product, pm, status="planned"), adoption))
    other_product = ProductFactory(workspace=workspace)
    other_metric = metrics.create_metric(pm, product=other_product, name="Elsewhere")
    hs.append(_hypothesis(pm, _shipped(other_product, pm), other_metric))
    with django_assert_num_queries(3):
        results = api.get(URL).json()["results"]
    assert len(results) == 8
    verdicts = {r["id"]: r["review"]["verdict"] for r in results}
    assert verdicts[hs[6].pk] == "awaiting_launch"
    assert all(verdicts[h.pk] == "met" for h in hs[:6])
    # Adoption counts the 14-day after window only (1 a day since the launch).
    assert results[0]["review"]["adoption_total"] == 14

    def ids(**params):
        return [r["id"] for r in api.get(URL, params).json()["results"]]

    assert ids(product=other_product.pk) == [hs[7].pk]
    assert ids(item=hs[3].item_id) == [hs[3].pk]
    assert ids(metric=adoption.pk) == [hs[6].pk]
    assert ids(adoption_metric=adoption.pk) == [h.pk for h in hs[:2]]
    services.save_learnings(pm, hypothesis=hs[4], expected_version=1, learnings="New")
    since = Hypothesis.objects.get(pk=hs[4].pk).updated_at.isoformat()
    assert ids(updated_since=since) == [hs[4].pk]
    assert api.get(URL, {"updated_since": "yesterday"}).status_code == 400

    seen, pages, url = [], 0, URL + "?page_size=3"
    while url:
        body = api.get(url).json()
        seen += [r["id"] for r in body["results"]]
        pages, url = pages + 1, body["next"]
    assert pages == 3 and sorted(seen) == sorted(h.pk for h in hs)


# --- the review equals the HTML -----------------------------------------------------------------


def test_review_payload_matches_the_html_for_the_demo_stories(pm, settings):
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off
    call_command("seed_demo", verbosity=0)
    product = Product.objects.get(workspace__slug="acme", key="PAY")
    client = api_client_for(pm)
    results = client.get(URL, {"product": product.pk, "page_size": 100}).json()["results"]
    by_title = {Item.objects.get(pk=r["item"]).title: r for r in results}
    expected = {
        "Save cards for returning shoppers": "met",
        "Smart retries for soft declines": "not_met",
        "Show the total in the shopper's currency": "inconclusive",
    }
    for title, verdict in expected.items():
        row = by_title[title]
        review = row["review"]
        assert review["verdict"] == verdict
        item = Item.objects.get(pk=row["item"])
        # The same computation as the page: verdict, reason and figures agree.
        html_review = launch_reviews.review_for_item(item)
        assert html_review.verdict == verdict
        assert review["explanation"] == html_review.judgement.reason
        assert review["actual_change"] == pytest.approx(html_review.judgement.change)
        assert review["before"]["days_with_data"] == len(html_review.before)
        retrieved = client.get(f"{URL}{row['id']}/").json()["review"]
        assert retrieved == review
    awaiting = [r for r in results if r["review"]["launch_date"] is None]
    assert all(r["review"]["verdict"] == "awaiting_launch" for r in awaiting)


def test_review_payload_matches_the_rendered_page(as_user, pm, product, metric):
    stories = {
        "Met": ({ago: 50.0 + (ago < 20) * 10 + ago % 2 for ago in range(1, 40)}, 10),
        "Not met": ({ago: 50.0 + (ago < 20) * 1 + ago % 2 for ago in range(1, 40)}, 30),
        "Inconclusive": ({ago: 50.0 + (ago < 20) * 3 + (ago % 4) * 8 for ago in range(1, 40)}, 5),
    }
    client = api_client_for(pm)
    browser = as_user(pm)
    for n, (label, (values, expected)) in enumerate(stories.items()):
        m = metrics.create_metric(pm, product=product, name=f"Story {n}", aggregation="sum")
        _daily(pm, m, values)
        item = _shipped(product, pm, title=f"Story {n}")
        h = _hypothesis(pm, item, m, expected_change=expected)
        review = client.get(f"{URL}{h.pk}/").json()["review"]
        html = browser.get(
            f"/w/{product.workspace.slug}/p/{product.key}/backlog/items/{item.number}/launch/"
        ).content.decode()
        assert review["verdict_label"] == label
        assert f'data-verdict="{review["verdict"]}"' in html
        assert escape(review["explanation"]) in html
        assert f"· {review['before']['days_with_data']} d" in html


def test_a_deleted_metric_leaves_a_review_without_figures(api, pm, product, metric):
    h = _hypothesis(pm, _shipped(product, pm), metric)
    metrics.delete_metric(pm, metric=metric)
    review = api.get(f"{URL}{h.pk}/").json()["review"]
    assert review["verdict"] == "no_metric" and review["verdict_label"] == "No metric"
    assert review["launch_date"] is not None and review["actual_change"] is None
    assert "no metric" in review["explanation"]
