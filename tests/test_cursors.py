"""The cursor codec (pmhub.api.pagination): every keyset list reads only the
cursors it wrote. Crafted, foreign or tampered cursors are a 400 with a
message, never a 404 or a 500, on the API's lists and the HTML backlog."""

import base64
import datetime as dt
import os
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import QueryDict

from backlog.filters import BacklogQuery
from backlog.models import Item
from feedback import services as feedback_services
from pmhub.api.pagination import InvalidCursor, decode_cursor, encode_cursor
from roadmaps import services as roadmap_services
from roadmaps.models import Horizon, Layout
from tests.backlog.factories import bulk_items
from tests.factories import ProductFactory

# --- the codec ------------------------------------------------------------------------------


def test_a_cursor_round_trips_its_typed_values():
    when = dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC)
    values = [7, 0.5, "a0", True, when, dt.date(2026, 3, 1), Decimal("12.50"), None]
    kinds = [int, float, str, bool, dt.datetime, dt.date, Decimal, (float, None)]
    raw = encode_cursor("list:order", values)
    assert decode_cursor(raw, "list:order", kinds) == tuple(values)
    assert set(raw) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:")


@pytest.mark.parametrize(
    ("values", "kinds"),
    [
        ([1], [str]),  # wrong type
        (["x"], [int]),
        ([True], [int]),  # a bool is not an int here
        ([None], [int]),  # null where none is allowed
        (["2026-13-01T00:00:00+00:00"], [dt.datetime]),
        (["2026-03-01T00:00:00"], [dt.datetime]),  # naive
        (["NaN"], [Decimal]),
        ([1, 2], [int]),  # wrong number of values
    ],
)
def test_values_of_the_wrong_shape_are_refused(values, kinds):
    with pytest.raises(InvalidCursor):
        decode_cursor(encode_cursor("k", values), "k", kinds)


def test_foreign_and_tampered_cursors_are_refused():
    raw = encode_cursor("items:rank", [1, "a0"])
    with pytest.raises(InvalidCursor):
        decode_cursor(raw, "items:-score", [int, str])  # another ordering
    payload, signature = raw.rsplit(".", 1)
    other = "A" if signature[0] != "A" else "B"
    for bad in (
        f"{payload}.{other}{signature[1:]}",
        encode_cursor("items:rank", [2, "a0"]).rsplit(".", 1)[0] + "." + signature,
        "garbage",
        "",
        base64.urlsafe_b64encode(os.urandom(40)).decode(),
    ):
        with pytest.raises(InvalidCursor):
            decode_cursor(bad, "items:rank", [int, str])


# --- every keyset list answers 400 ------------------------------------------------------------


def _b64(text: bytes) -> str:
    return base64.b64encode(text).decode()


CRAFTED = {
    "p=abc": _b64(b"p=abc"),
    "p=%00": _b64(b"p=%00"),
    "p=2026-13-01": _b64(b"p=2026-13-01"),
    "o=5&p=1": _b64(b"o=5&p=1"),
    "random bytes": base64.urlsafe_b64encode(os.urandom(48)).decode(),
    "not base64": "%%%",
}


@pytest.fixture
def lists(pm, workspace, product):
    """The keyset lists of the API with three rows each: ``name -> (url,
    params, other ordering)``; page_size=1 so that each has a next page."""
    items = bulk_items(product, 3)
    for n in range(3):
        feedback_services.create_feedback(pm, product=product, text=f"Want export {n}")
        feedback_services.create_company(pm, workspace=workspace, name=f"Customer {n}")
    roadmap = roadmap_services.create_roadmap(
        pm, workspace=workspace, product=product, name="R", layout=Layout.NOW_NEXT_LATER
    )
    for item in items:
        roadmap_services.add_entry(pm, roadmap=roadmap, item=item, horizon=Horizon.NOW)
    return {
        "products": ("/api/v1/products/", {}, {"ordering": "-name"}),
        "feedback": ("/api/v1/feedback/", {}, {"ordering": "-received_at"}),
        "customers": ("/api/v1/customers/", {}, {"ordering": "name"}),
        "items": ("/api/v1/items/", {}, {"ordering": "-updated_at"}),
        "roadmap entries": ("/api/v1/roadmap-entries/", {"roadmap": roadmap.pk}, None),
    }


def _next_cursor(api, url, params) -> str:
    body = api.get(url, {**params, "page_size": 1}).json()
    assert body["next"], body
    return parse_qs(urlsplit(body["next"]).query)["cursor"][0]


LISTS = ["products", "feedback", "customers", "items", "roadmap entries"]


@pytest.mark.parametrize("name", LISTS)
def test_next_links_still_walk_the_list(api, lists, product, name):
    url, params, _other = lists[name]
    if name == "products":  # one product per workspace here: add two
        ProductFactory(workspace=product.workspace, key="B2")
        ProductFactory(workspace=product.workspace, key="C3")
    seen, page = [], api.get(url, {**params, "page_size": 1}).json()
    while True:
        seen += [row["id"] for row in page["results"]]
        if not page["next"]:
            break
        page = api.get(page["next"]).json()
    assert len(seen) == len(set(seen)) == 3


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("label", list(CRAFTED))
def test_a_crafted_cursor_is_400(api, lists, name, label):
    url, params, _other = lists[name]
    response = api.get(url, {**params, "cursor": CRAFTED[label]})
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()


@pytest.mark.parametrize("name", LISTS)
def test_a_tampered_cursor_is_400(api, lists, product, name):
    url, params, _other = lists[name]
    if name == "products":
        ProductFactory(workspace=product.workspace, key="B2")
    cursor = _next_cursor(api, url, params)
    assert api.get(url, {**params, "cursor": cursor}).status_code == 200
    tampered = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    assert api.get(url, {**params, "cursor": tampered}).status_code == 400


@pytest.mark.parametrize("name", [n for n in LISTS if n != "roadmap entries"])
def test_a_cursor_of_another_ordering_is_400(api, lists, product, name):
    url, params, other = lists[name]
    if name == "products":
        ProductFactory(workspace=product.workspace, key="B2")
    cursor = _next_cursor(api, url, other)
    response = api.get(url, {**params, "cursor": cursor})
    assert response.status_code == 400 and "cursor" in response.json()


def test_a_cursor_of_another_list_is_400(api, lists):
    cursor = _next_cursor(api, "/api/v1/customers/", {"ordering": "id"})
    assert api.get("/api/v1/feedback/", {"ordering": "id", "cursor": cursor}).status_code == 400


# --- the HTML backlog's "load more" -----------------------------------------------------------


@pytest.mark.parametrize("sort", ["rank", "-score", "score", "-updated"])
def test_the_backlog_load_more_cursor_is_checked(as_user, pm, product, sort):
    bulk_items(product, 3)
    client = as_user(pm)
    url = "/w/acme/p/PAY/backlog/"
    item = Item.objects.filter(product=product).first()
    good = BacklogQuery.from_params(QueryDict(f"sort={sort}"), []).cursor_for(item)
    hx = {"HTTP_HX_REQUEST": "true"}
    assert client.get(url, {"sort": sort, "after": good}, **hx).status_code == 200
    other = "rank" if sort != "rank" else "-updated"
    foreign = BacklogQuery.from_params(QueryDict(f"sort={other}"), []).cursor_for(item)
    for bad in (*CRAFTED.values(), good[:-1] + ("A" if good[-1] != "A" else "B"), foreign):
        response = client.get(url, {"sort": sort, "after": bad}, **hx)
        assert response.status_code == 400, bad
    page = client.get(url, {"sort": sort, "after": "junk"})
    assert page.status_code == 400 and b"Bad request" in page.content
