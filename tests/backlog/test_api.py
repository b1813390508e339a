"""REST API for backlog items and scoring models: CRUD through the services,
roles and workspace isolation, If-Match, filters, keyset pagination in
every ordering, moves that write one row, self-explaining scores, scoring
models and their recompute, and query counts that do not grow with pages."""

import base64
import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from backlog import services
from backlog.api.serializers import ItemSerializer
from backlog.models import Item, ScoreChange, ScoringKind, ScoringModel
from tests.conftest import api_client_for, is_postgres
from tests.factories import MembershipFactory, ObjectiveFactory, ProductFactory

from .factories import bulk_items, make_item, make_rice_item

ITEMS = reverse("item-list")
MODELS = reverse("scoring-model-list")
ORDERINGS = [
    "rank",
    "-rank",
    "score",
    "-score",
    "updated_at",
    "-updated_at",
    "created_at",
    "-created_at",
]
ITEM_FIELDS = {
    "id",
    "key",
    "url",
    "product",
    "type",
    "title",
    "description",
    "status",
    "status_reason",
    "parent",
    "objectives",
    "tags",
    "owner",
    "effort",
    "external_url",
    "external_key",
    "reach",
    "impact",
    "confidence",
    "ease",
    "value",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "job_size",
    "demand",
    "custom",
    "score",
    "score_breakdown",
    "rank",
    "version",
    "created_at",
    "updated_at",
}


def item_url(item) -> str:
    return reverse("item-detail", args=[item.pk])


def move_url(item) -> str:
    return reverse("item-move", args=[item.pk])


def model_url(model) -> str:
    return reverse("scoring-model-detail", args=[model.pk])


def walk(client: APIClient, params: dict, *, between_pages=None) -> list[dict]:
    """Follow ``next`` until it is null, collecting rows in order; call
    ``between_pages()`` after each page (to add rows while paging)."""
    rows: list[dict] = []
    response = client.get(ITEMS, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["previous"] is None
        rows += body["results"]
        if body["next"] is None:
            return rows
        if between_pages is not None:
            between_pages()
        response = client.get(body["next"])


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def backlog_order(product) -> list[int]:
    return list(Item.objects.filter(product=product).order_by("rank").values_list("pk", flat=True))


def sort_key(ordering: str):
    """The documented order in Python: (field, id) in the given direction,
    with null scores last either way."""
    field = ordering.lstrip("-")
    descending = ordering.startswith("-")

    def key(item):
        value = getattr(item, field)
        if field == "score":
            # nulls after every number; within them, by id in the same direction
            null = value is None
            value = 0.0 if null else value
            return (null, -value if descending else value, -item.pk if descending else item.pk)
        return (value, item.pk)

    if field == "score":
        return key, False
    if field == "rank":  # the manual order is per product, and unique in it
        return (lambda item: (item.product_id, item.rank)), descending
    return key, descending


def expected_ids(product_items, ordering: str) -> list[int]:
    key, reverse_ = sort_key(ordering)
    return [i.pk for i in sorted(product_items, key=key, reverse=reverse_)]


def update_statements_on_items(queries) -> int:
    table = Item._meta.db_table
    return sum(
        1
        for q in queries
        if q["sql"].lstrip().upper().startswith("UPDATE") and table in q["sql"].split("SET")[0]
    )


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture
def items(product, pm):
    """Three items in PAY's backlog, in this order: a scored feature, an
    unscored bug, a scored experiment."""
    first = make_rice_item(product, pm, title="One-click checkout", reach=1000, impact=2)
    second = make_item(product, pm, title="Refund crash", type="bug")
    third = make_rice_item(product, pm, title="Apple Pay test", type="experiment", reach=10)
    return [first, second, third]


@pytest.fixture
def other_product(workspace):
    return ProductFactory(workspace=workspace, name="Billing", key="BILL")


@pytest.fixture
def strangers_item(stranger):
    product = ProductFactory(workspace=stranger.memberships.get().workspace, key="OTH")
    return make_item(product, stranger, title="Secret plan")


# --- CRUD ----------------------------------------------------------------------------


def test_pm_creates_an_item_at_the_bottom_with_the_next_key(api, items, product, objective):
    response = api.post(
        ITEMS,
        {
            "product": product.pk,
            "title": "Saved cards",
            "type": "feature",
            "tags": ["Checkout", "mobile"],
            "objectives": [objective.pk],
            "reach": 500,
            "impact": 1,
            "confidence": 50,
            "effort": 2,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key"] == "PAY-4"
    assert body["tags"] == ["checkout", "mobile"]
    assert body["objectives"] == [objective.pk]
    assert body["score"] == pytest.approx(125.0)
    assert body["version"] == 1
    assert response["ETag"] == '"1"'
    assert body["url"] == f"http://testserver/api/v1/items/{body['id']}/"
    assert backlog_order(product)[-1] == body["id"]


def test_item_json_has_every_documented_field(api, items):
    body = api.get(item_url(items[0])).json()

    assert set(body) == ITEM_FIELDS
    assert body["product"] == items[0].product_id
    assert body["rank"] == items[0].rank


def test_list_rows_are_the_same_as_the_detail(api, items):
    rows = api.get(ITEMS).json()["results"]

    assert rows == [api.get(item_url(item)).json() for item in items]


def test_rows_are_written_out_exactly_as_the_declared_fields_render_them(
    items, product, pm, teammate
):
    field = services.create_custom_field(pm, product=product, name="Segment", kind="text")
    goals = [ObjectiveFactory(product=product, position=p) for p in (2, 1)]
    item = services.update_item(
        pm,
        item=items[2],
        expected_version=None,
        fields={
            "tags": ["b", "a"],
            "objectives": goals,
            "owner": teammate,
            "parent": items[0],
            "custom": {str(field.pk): "SMB"},
            "effort": 3,
            "external_url": "https://example.com/1",
        },
    )
    request = Request(APIRequestFactory().get(ITEMS))
    request.user = pm

    for row in (item, items[1]):
        row = Item.objects.get(pk=row.pk)
        fast = ItemSerializer(row, context={"request": request}).data
        generic = ItemSerializer(context={"request": request}).to_representation_generic(row)
        assert fast == generic
        assert list(fast) == list(generic)


def test_create_needs_a_product_and_a_title(api):
    response = api.post(ITEMS, {})

    assert response.status_code == 400
    assert set(response.json()) == {"product", "title"}


def test_create_in_a_product_of_another_workspace_is_400(api, strangers_item):
    response = api.post(ITEMS, {"product": strangers_item.product_id, "title": "Sneaky"})

    assert response.status_code == 400
    assert "product" in response.json()
    assert not Item.objects.filter(title="Sneaky").exists()


def test_retrieve_carries_the_etag_and_answers_304_to_it(api, items):
    response = api.get(item_url(items[0]))
    assert response["ETag"] == '"1"'

    again = api.get(item_url(items[0]), headers={"If-None-Match": '"1"'})

    assert again.status_code == 304


def test_patch_with_the_current_version_saves_and_bumps_it(api, items, objective):
    response = api.patch(
        item_url(items[1]),
        {"title": "Refunds crash on iOS", "tags": ["ios"], "objectives": [objective.pk]},
        headers={"If-Match": '"1"'},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["tags"], body["objectives"]) == (
        "Refunds crash on iOS",
        ["ios"],
        [objective.pk],
    )
    assert body["version"] == 2
    assert response["ETag"] == '"2"'


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(api, items):
    url = item_url(items[0])
    assert api.patch(url, {"title": "First"}, headers={"If-Match": '"1"'}).status_code == 200

    response = api.patch(url, {"title": "Second", "reach": 1}, headers={"If-Match": '"1"'})

    assert response.status_code == 412
    assert response.json()["current_version"] == 2
    assert response["ETag"] == '"2"'
    item = Item.objects.get(pk=items[0].pk)
    assert (item.title, item.reach, item.version) == ("First", 1000, 2)


def test_editing_an_input_rescores_the_item_at_once(api, items):
    response = api.patch(item_url(items[0]), {"reach": 2000})

    assert response.json()["score"] == pytest.approx(4000.0)
    assert response.json()["score_breakdown"]["worked"].endswith("= 4,000")


def test_product_cannot_change_after_creation(api, items, other_product):
    response = api.patch(item_url(items[0]), {"product": other_product.pk})

    assert response.status_code == 200
    assert Item.objects.get(pk=items[0].pk).product_id == items[0].product_id


def test_put_replaces_the_item(api, items):
    response = api.put(
        item_url(items[1]),
        {"title": "Refund crash (Android)", "type": "bug", "status": "planned"},
        headers={"If-Match": '"1"'},
    )

    assert response.status_code == 200, response.content
    item = Item.objects.get(pk=items[1].pk)
    assert (item.title, item.status) == ("Refund crash (Android)", "planned")


def test_delete_removes_the_item_and_never_reuses_its_key(api, items, product):
    assert api.delete(item_url(items[2]), headers={"If-Match": '"1"'}).status_code == 204
    assert api.get(item_url(items[2])).status_code == 404

    created = api.post(ITEMS, {"product": product.pk, "title": "Next"}).json()

    assert created["key"] == "PAY-4"


def test_delete_with_a_stale_if_match_is_412_and_keeps_the_item(api, items):
    api.patch(item_url(items[0]), {"title": "Edited"})

    response = api.delete(item_url(items[0]), headers={"If-Match": '"1"'})

    assert response.status_code == 412
    assert Item.objects.filter(pk=items[0].pk).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"effort": 0}, "effort"),
        ({"confidence": 150}, "confidence"),
        ({"status": "declined"}, "status_reason"),
        ({"status": "nope"}, "status"),
        ({"external_url": "not a url"}, "external_url"),
        ({"custom": {"999": "x"}}, "custom.999"),
    ],
)
def test_invalid_values_are_400_with_the_field_named(api, items, body, field):
    response = api.patch(item_url(items[0]), body)

    assert response.status_code == 400
    assert field in response.json()
    assert Item.objects.get(pk=items[0].pk).version == 1


def test_a_parent_from_another_product_is_refused(api, items, other_product, pm):
    elsewhere = make_item(other_product, pm, title="Billing epic", type="epic")

    response = api.patch(item_url(items[0]), {"parent": elsewhere.pk})

    assert response.status_code == 400
    assert "parent" in response.json()


def test_an_item_cannot_be_its_own_grandparent(api, items):
    api.patch(item_url(items[1]), {"parent": items[0].pk})

    response = api.patch(item_url(items[0]), {"parent": items[1].pk})

    assert response.status_code == 400
    assert "parent" in response.json()


def test_owner_must_be_a_member_of_the_workspace(api, items, teammate, stranger):
    assert api.patch(item_url(items[0]), {"owner": teammate.pk}).json()["owner"] == teammate.pk

    response = api.patch(item_url(items[0]), {"owner": stranger.pk})

    assert response.status_code == 400
    assert "owner" in response.json()


def test_custom_field_values_are_validated_and_round_trip(api, items, product, pm):
    field = services.create_custom_field(
        pm, product=product, name="Revenue", kind="number", min_value=0
    )

    saved = api.patch(item_url(items[0]), {"custom": {str(field.pk): "1200"}})
    refused = api.patch(item_url(items[0]), {"custom": {str(field.pk): -5}})

    assert saved.json()["custom"] == {str(field.pk): 1200.0}
    assert refused.status_code == 400
    assert "custom.Revenue" in refused.json()


def test_demand_and_score_are_read_only(api, items):
    response = api.patch(item_url(items[1]), {"demand": 50, "score": 99, "key": "X-1"})

    assert response.status_code == 200
    body = response.json()
    assert (body["demand"], body["score"], body["key"]) == (None, None, "PAY-2")


# --- roles and workspaces ------------------------------------------------------------------


def test_teammate_editor_can_write(items, teammate, product):
    client = api_client_for(teammate)

    assert client.post(ITEMS, {"product": product.pk, "title": "Mine"}).status_code == 201
    assert client.patch(item_url(items[0]), {"title": "Theirs"}).status_code == 200
    assert client.post(move_url(items[0]), {"before": None, "after": None}).status_code == 200


def test_viewer_reads_but_every_write_is_403(items, viewer, product):
    client = api_client_for(viewer)

    assert ids(client.get(ITEMS)) == [i.pk for i in items]
    assert client.get(item_url(items[0])).status_code == 200
    assert client.post(ITEMS, {"product": product.pk, "title": "No"}).status_code == 403
    assert client.patch(item_url(items[0]), {"title": "No"}).status_code == 403
    assert client.put(item_url(items[0]), {"title": "No"}).status_code == 403
    assert client.delete(item_url(items[0])).status_code == 403
    assert client.post(move_url(items[0]), {"before": items[1].pk}).status_code == 403
    assert Item.objects.get(pk=items[0].pk).version == 1
    assert backlog_order(product) == [i.pk for i in items]


def test_read_only_token_reads_but_every_write_is_403(items, pm, product):
    client = api_client_for(pm, read_only=True)

    assert client.get(ITEMS).status_code == 200
    assert client.post(ITEMS, {"product": product.pk, "title": "No"}).status_code == 403
    assert client.patch(item_url(items[0]), {"title": "No"}).status_code == 403
    assert client.delete(item_url(items[0])).status_code == 403
    assert client.post(move_url(items[0]), {"before": items[1].pk}).status_code == 403
    assert Item.objects.count() == 3


def test_stranger_gets_404_for_items_of_another_workspace(items, stranger, strangers_item):
    client = api_client_for(stranger)

    assert ids(client.get(ITEMS)) == [strangers_item.pk]
    assert client.get(ITEMS, {"product": items[0].product_id}).json()["results"] == []
    for request in (
        lambda: client.get(item_url(items[0])),
        lambda: client.patch(item_url(items[0]), {"title": "Mine now"}),
        lambda: client.delete(item_url(items[0])),
        lambda: client.post(move_url(items[0]), {"before": None}),
    ):
        assert request().status_code == 404
    assert Item.objects.get(pk=items[0].pk).title == "One-click checkout"


def test_unauthenticated_requests_get_401(items):
    client = APIClient()

    assert client.get(ITEMS).status_code == 401
    assert client.get(item_url(items[0])).status_code == 401
    assert client.post(move_url(items[0]), {}).status_code == 401
    assert client.get(MODELS).status_code == 401


# --- filters ---------------------------------------------------------------------------


def test_filter_by_product(api, items, other_product, pm):
    elsewhere = make_item(other_product, pm)

    assert ids(api.get(ITEMS, {"product": other_product.pk})) == [elsewhere.pk]
    assert ids(api.get(ITEMS, {"product": items[0].product_id})) == [i.pk for i in items]


def test_filter_by_one_status_or_a_comma_separated_list(api, items, pm):
    services.update_item(pm, item=items[0], expected_version=None, fields={"status": "planned"})
    services.update_item(pm, item=items[2], expected_version=None, fields={"status": "shipped"})

    assert ids(api.get(ITEMS, {"status": "planned"})) == [items[0].pk]
    assert ids(api.get(ITEMS, {"status": "planned,shipped"})) == [items[0].pk, items[2].pk]
    assert api.get(ITEMS, {"status": "planned,bogus"}).status_code == 400


def test_filter_by_type(api, items):
    assert ids(api.get(ITEMS, {"type": "bug"})) == [items[1].pk]


def test_filter_by_tag_name_in_any_case(api, items, pm):
    services.update_item(pm, item=items[1], expected_version=None, fields={"tags": ["Mobile"]})

    assert ids(api.get(ITEMS, {"tag": "mobile"})) == [items[1].pk]
    assert ids(api.get(ITEMS, {"tag": "MOBILE"})) == [items[1].pk]
    assert ids(api.get(ITEMS, {"tag": "desktop"})) == []


def test_filter_by_objective(api, items, objective, product, pm):
    other = ObjectiveFactory(product=product, title="Cut costs")
    services.update_item(
        pm, item=items[0], expected_version=None, fields={"objectives": [objective]}
    )
    services.update_item(
        pm, item=items[2], expected_version=None, fields={"objectives": [objective, other]}
    )

    assert ids(api.get(ITEMS, {"objective": objective.pk})) == [items[0].pk, items[2].pk]
    assert ids(api.get(ITEMS, {"objective": other.pk})) == [items[2].pk]


def test_filter_by_owner(api, items, teammate, pm):
    services.update_item(pm, item=items[2], expected_version=None, fields={"owner": teammate})

    assert ids(api.get(ITEMS, {"owner": teammate.pk})) == [items[2].pk]


def test_filter_by_parent(api, items, pm):
    services.update_item(pm, item=items[1], expected_version=None, fields={"parent": items[0]})
    services.update_item(pm, item=items[2], expected_version=None, fields={"parent": items[0]})

    assert ids(api.get(ITEMS, {"parent": items[0].pk})) == [items[1].pk, items[2].pk]


def test_text_search_matches_title_key_and_description(api, items, pm):
    services.update_item(
        pm, item=items[2], expected_version=None, fields={"description": "Wallets on **iOS**"}
    )

    assert ids(api.get(ITEMS, {"q": "CHECKOUT"})) == [items[0].pk]
    assert ids(api.get(ITEMS, {"q": "PAY-2"})) == [items[1].pk]
    assert ids(api.get(ITEMS, {"q": "wallets"})) == [items[2].pk]


def test_updated_since_returns_items_changed_at_or_after(api, items, pm):
    Item.objects.update(updated_at=timezone.now() - dt.timedelta(days=2))
    since = timezone.now() - dt.timedelta(days=1)
    services.update_item(pm, item=items[1], expected_version=None, fields={"title": "Edited"})

    assert ids(api.get(ITEMS, {"updated_since": since.isoformat()})) == [items[1].pk]
    assert api.get(ITEMS, {"updated_since": "yesterday"}).status_code == 400


def test_filters_combine(api, items, pm):
    services.update_item(pm, item=items[2], expected_version=None, fields={"tags": ["pilot"]})

    assert ids(api.get(ITEMS, {"type": "experiment", "tag": "pilot", "q": "apple"})) == [
        items[2].pk
    ]
    assert ids(api.get(ITEMS, {"type": "bug", "tag": "pilot"})) == []


# --- ordering and keyset pagination ------------------------------------------------------


@pytest.fixture
def varied(product, pm):
    """Twelve items whose scores tie, are missing, and whose timestamps tie,
    so each ordering needs its id tie-breaker and its null handling."""
    reaches = [50, None, 10, 50, None, 30, 10, None, 50, 20, None, 40]
    made = [
        make_rice_item(product, pm, reach=r) if r is not None else make_item(product, pm)
        for r in reaches
    ]
    # Ties on the timestamps too: three groups of four.
    base = timezone.now() - dt.timedelta(hours=1)
    for n, item in enumerate(made):
        stamp = base + dt.timedelta(minutes=n // 4)
        Item.objects.filter(pk=item.pk).update(updated_at=stamp, created_at=stamp)
    # A manual order different from creation order.
    services.move_item(pm, item=made[7], before=made[0])
    services.move_item(pm, item=made[3], after=made[10])
    return list(Item.objects.filter(product=product))


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_every_ordering_walks_all_pages_in_the_documented_order(api, varied, ordering):
    rows = walk(api, {"ordering": ordering, "page_size": 3})

    assert [row["id"] for row in rows] == expected_ids(varied, ordering)


@pytest.mark.parametrize("ordering", ["score", "-score"])
def test_items_without_a_score_come_last_in_both_directions(api, varied, ordering):
    scores = [row["score"] for row in walk(api, {"ordering": ordering, "page_size": 5})]

    known = [s for s in scores if s is not None]
    assert scores == known + [None] * 4
    assert known == sorted(known, reverse=ordering.startswith("-"))


@pytest.mark.parametrize("page_size", [1, 2, 7, 8, 9, 50])
def test_score_pages_cross_from_scored_to_unscored_items_at_any_boundary(api, varied, page_size):
    for ordering in ("score", "-score"):
        rows = walk(api, {"ordering": ordering, "page_size": page_size})
        assert [row["id"] for row in rows] == expected_ids(varied, ordering)


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_rows_added_while_paging_never_repeat_or_hide_existing_rows(
    api, varied, product, pm, ordering
):
    reaches = iter([45, None, 5, 50, None, 1000, 10, None, 30, None])

    def add_one():
        reach = next(reaches, None)
        if reach is None:
            make_item(product, pm)
        else:
            make_rice_item(product, pm, reach=reach)

    rows = walk(api, {"ordering": ordering, "page_size": 2}, between_pages=add_one)

    seen = [row["id"] for row in rows]
    assert len(seen) == len(set(seen))
    assert {i.pk for i in varied} <= set(seen)
    everything = {i.pk: i for i in Item.objects.filter(product=product)}
    assert seen == expected_ids([everything[pk] for pk in seen], ordering)


def test_default_ordering_is_the_manual_rank(api, varied, product):
    assert [row["id"] for row in walk(api, {"page_size": 5})] == backlog_order(product)


@pytest.mark.parametrize("ordering", ["rank", "-rank"])
def test_rank_order_across_products_lists_each_backlog_in_turn(
    api, items, other_product, pm, ordering
):
    billing = [make_item(other_product, pm) for _ in range(3)]
    services.move_item(pm, item=billing[2], before=billing[0])

    rows = walk(api, {"ordering": ordering, "page_size": 2})

    everything = list(Item.objects.all())
    assert [row["id"] for row in rows] == expected_ids(everything, ordering)
    products = [row["product"] for row in rows]
    assert products == sorted(products, reverse=ordering.startswith("-"))


def test_next_keeps_filters_ordering_and_page_size(api, varied):
    body = api.get(ITEMS, {"ordering": "-score", "page_size": 2, "type": "feature"}).json()

    assert "ordering=-score" in body["next"]
    assert "page_size=2" in body["next"]
    assert "type=feature" in body["next"]
    assert body["next"].startswith("http://testserver/api/v1/items/?")


def test_deep_pages_use_a_keyset_condition_not_offset_or_count(api, varied):
    first = api.get(ITEMS, {"ordering": "-updated_at", "page_size": 4}).json()

    with CaptureQueriesContext(connection) as ctx:
        response = api.get(first["next"])

    assert response.status_code == 200
    sql = " ".join(q["sql"].upper() for q in ctx.captured_queries)
    assert "OFFSET" not in sql
    assert "COUNT(" not in sql
    assert '"UPDATED_AT" <' in sql  # the keyset bound on (updated_at, id)


@pytest.mark.parametrize("ordering", ["rank", "-rank", "score", "-score", "-updated_at"])
def test_a_deep_page_reads_the_index_in_order_without_sorting(api, varied, product, ordering):
    if not is_postgres():
        pytest.skip("the plan check needs PostgreSQL")
    first = api.get(ITEMS, {"ordering": ordering, "page_size": 2, "product": product.pk}).json()
    with CaptureQueriesContext(connection) as ctx:
        api.get(first["next"])
    page_sql = next(
        q["sql"] for q in ctx.captured_queries if f'FROM "{Item._meta.db_table}"' in q["sql"]
    )

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {page_sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "bm90IGpzb24",  # "not json"
        base64.urlsafe_b64encode(b'{"o":"rank","v":1,"i":1}').decode(),  # wrong value type
        base64.urlsafe_b64encode(b'{"o":"score","v":1.5,"i":1}').decode(),  # other ordering
        base64.urlsafe_b64encode(b'{"o":"rank","v":"a0","i":"1"}').decode(),
        base64.urlsafe_b64encode(b'{"o":"rank","v":null,"i":1}').decode(),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
    ],
)
def test_an_invalid_cursor_is_400_not_a_server_error(api, items, cursor):
    assert api.get(ITEMS, {"cursor": cursor}).status_code == 400


def test_an_invalid_datetime_cursor_is_400(api, items):
    raw = json.dumps({"o": "updated_at", "v": "2020-13-45", "i": 1}).encode()
    cursor = base64.urlsafe_b64encode(raw).decode()

    assert api.get(ITEMS, {"ordering": "updated_at", "cursor": cursor}).status_code == 400


def test_an_unknown_ordering_is_400(api, items):
    response = api.get(ITEMS, {"ordering": "title"})

    assert response.status_code == 400
    assert "ordering" in response.json()


# --- move ------------------------------------------------------------------------------


def test_move_to_the_top(api, items, product):
    response = api.post(move_url(items[2]), {"before": items[0].pk, "after": None})

    assert response.status_code == 200, response.content
    assert response.json()["id"] == items[2].pk
    assert backlog_order(product) == [items[2].pk, items[0].pk, items[1].pk]


def test_move_to_the_bottom(api, items, product):
    response = api.post(move_url(items[0]), {"after": items[2].pk, "before": None})

    assert response.status_code == 200
    assert backlog_order(product) == [items[1].pk, items[2].pk, items[0].pk]


def test_move_between_two_neighbours(api, items, product):
    response = api.post(move_url(items[2]), {"after": items[0].pk, "before": items[1].pk})

    assert response.status_code == 200
    assert response.json()["rank"] == Item.objects.get(pk=items[2].pk).rank
    assert backlog_order(product) == [items[0].pk, items[2].pk, items[1].pk]


def test_a_move_writes_exactly_one_item_row(api, items, product):
    bulk_items(product, 30)
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(move_url(items[2]), {"after": items[0].pk, "before": items[1].pk})

    assert response.status_code == 200
    assert update_statements_on_items(ctx.captured_queries) == 1
    assert not any(q["sql"].lstrip().upper().startswith("INSERT") for q in ctx.captured_queries)


BAD_MOVES = {
    "wrong way": lambda items, other, foreign: {"after": items[2].pk, "before": items[0].pk},
    "itself": lambda items, other, foreign: {"before": items[1].pk, "after": None},
    "another product": lambda items, other, foreign: {"before": other.pk},
    "another workspace": lambda items, other, foreign: {"after": foreign.pk},
    "no such item": lambda items, other, foreign: {"before": 999999},
    "not an id": lambda items, other, foreign: {"before": "top"},
}


@pytest.mark.parametrize("why", BAD_MOVES)
def test_bad_neighbours_are_400_and_move_nothing(
    api, items, product, other_product, pm, strangers_item, why
):
    items = [*items, make_item(product, pm)]
    other = make_item(other_product, pm)
    before = backlog_order(product)

    response = api.post(move_url(items[1]), BAD_MOVES[why](items, other, strangers_item))

    assert response.status_code == 400, why
    assert backlog_order(product) == before


# --- score breakdown -----------------------------------------------------------------------


def test_a_rice_item_explains_its_score(api, product, pm):
    item = make_rice_item(product, pm, reach=1000, impact=2, confidence=80, effort=4)

    body = api.get(item_url(item)).json()

    assert body["score"] == pytest.approx(400.0)
    breakdown = body["score_breakdown"]
    assert {k: v for k, v in breakdown.items() if k != "terms"} == {
        "model": "RICE",
        "kind": "rice",
        "score": pytest.approx(400.0),
        "formula": "Reach × Impact × Confidence% ÷ Effort",
        "worked": "1,000 × 2 × 80% ÷ 4 = 400",
        "missing": [],
        "recompute_pending": False,
    }
    assert [(t["label"], t["value"]) for t in breakdown["terms"]] == [
        ("Reach", 1000.0),
        ("Impact", 2.0),
        ("Confidence", 80.0),
        ("Effort", 4.0),
    ]


def test_an_item_with_missing_inputs_has_no_score_and_says_what_is_missing(api, product, pm):
    item = make_item(product, pm, reach=100, impact=1, confidence=50)

    body = api.get(item_url(item)).json()

    assert body["score"] is None
    assert body["score_breakdown"]["missing"] == ["Effort"]
    assert body["score_breakdown"]["worked"] == ""


def test_a_weighted_model_explains_each_criterion_including_custom_fields(api, product, pm):
    field = services.create_custom_field(pm, product=product, name="Revenue", kind="number")
    model = services.create_scoring_model(
        pm,
        product=product,
        name="Strategy fit",
        kind=ScoringKind.WEIGHTED,
        criteria=[
            {"name": "Value", "source": "value", "weight": 3, "min": 0, "max": 10},
            {"name": "Revenue", "source": f"cf:{field.pk}", "weight": 1, "min": 0, "max": 100},
        ],
    )
    services.activate_scoring_model(pm, product=product, model=model)
    item = make_item(product, pm, value=5, custom={str(field.pk): 100})

    breakdown = api.get(item_url(item)).json()["score_breakdown"]

    assert breakdown["kind"] == "weighted"
    assert [t["label"] for t in breakdown["terms"]] == ["Value", "Revenue"]
    assert [t["points"] for t in breakdown["terms"]] == pytest.approx([37.5, 25.0])
    assert breakdown["score"] == pytest.approx(62.5)


# --- scoring models -------------------------------------------------------------------------


@pytest.fixture
def rice(product):
    return services.backlog_of(product).active_model


def test_scoring_models_list_by_product_with_the_active_one_marked(
    api, rice, product, other_product, pm
):
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind="ice")
    services.backlog_of(other_product)

    rows = api.get(MODELS, {"product": product.pk}).json()["results"]

    assert [(r["id"], r["is_active"]) for r in rows] == [(rice.pk, True), (ice.pk, False)]
    assert set(rows[0]) == {
        "id",
        "product",
        "name",
        "kind",
        "criteria",
        "reach_from_demand",
        "is_active",
        "version",
        "created_at",
        "updated_at",
    }


def test_create_a_weighted_scoring_model(api, product, rice):
    response = api.post(
        MODELS,
        {
            "product": product.pk,
            "name": "Fit",
            "kind": "weighted",
            "criteria": [{"name": "Value", "source": "value", "weight": 2}],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["is_active"]) == ("weighted", False)
    assert body["criteria"][0]["weight"] == 2.0
    assert response["ETag"] == '"1"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "RICE", "kind": "rice"}, "name"),
        ({"name": "Fit", "kind": "weighted", "criteria": []}, "criteria"),
        ({"name": "Fit", "kind": "weighted", "criteria": [{"source": "nope"}]}, "criteria"),
        ({"name": "Fit", "kind": "magic"}, "kind"),
    ],
)
def test_invalid_scoring_models_are_400(api, product, rice, body, field):
    response = api.post(MODELS, {"product": product.pk, **body})

    assert response.status_code == 400
    assert field in response.json()


def test_activating_a_model_rescores_the_backlog(
    api, items, product, pm, django_capture_on_commit_callbacks
):
    for item in items:
        services.update_item(
            pm, item=item, expected_version=None, fields={"impact": 2, "confidence": 50, "ease": 4}
        )
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind="ice")

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("scoring-model-activate", args=[ice.pk]))

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is True
    assert not api.get(item_url(items[0])).json()["score_breakdown"]["recompute_pending"]
    scores = {row["id"]: row["score"] for row in api.get(ITEMS).json()["results"]}
    assert scores == {i.pk: pytest.approx(40.0) for i in items}
    row = api.get(item_url(items[0])).json()
    assert row["score_breakdown"]["formula"] == "Impact × Confidence/10 × Ease"
    assert ScoreChange.objects.filter(item=items[0], cause=ScoreChange.Cause.MODEL).exists()
    rows = api.get(MODELS, {"product": product.pk}).json()["results"]
    assert {r["name"]: r["is_active"] for r in rows} == {"ICE": True, "RICE": False}


def test_the_breakdown_says_when_a_rescore_is_still_pending(api, items, product, pm):
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind="ice")
    services.activate_scoring_model(pm, product=product, model=ice)  # the task runs on commit

    breakdown = api.get(item_url(items[0])).json()["score_breakdown"]

    assert (breakdown["kind"], breakdown["recompute_pending"]) == ("ice", True)


def test_changing_the_active_models_weights_rescores_the_backlog(
    api, product, pm, django_capture_on_commit_callbacks
):
    fit = services.create_scoring_model(
        pm,
        product=product,
        name="Fit",
        kind="weighted",
        criteria=[{"name": "Value", "source": "value", "weight": 1, "min": 0, "max": 10}],
    )
    services.activate_scoring_model(pm, product=product, model=fit)
    item = make_item(product, pm, value=5, ease=10)
    assert item.score == pytest.approx(50.0)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            model_url(fit),
            {
                "criteria": [
                    {"name": "Value", "source": "value", "weight": 1, "min": 0, "max": 10},
                    {"name": "Ease", "source": "ease", "weight": 1, "min": 0, "max": 10},
                ]
            },
            headers={"If-Match": '"1"'},
        )

    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert api.get(item_url(item)).json()["score"] == pytest.approx(75.0)


def test_scoring_model_stale_if_match_is_412(api, rice):
    assert api.patch(model_url(rice), {"name": "RICE v2"}).status_code == 200

    response = api.patch(model_url(rice), {"name": "RICE v3"}, headers={"If-Match": '"1"'})

    assert response.status_code == 412
    assert ScoringModel.objects.get(pk=rice.pk).name == "RICE v2"


def test_the_active_model_cannot_be_deleted(api, rice):
    response = api.delete(model_url(rice))

    assert response.status_code == 400
    assert ScoringModel.objects.filter(pk=rice.pk).exists()


def test_an_inactive_model_is_deleted_unless_the_if_match_is_stale(api, rice, product, pm):
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind="ice")
    api.patch(model_url(ice), {"name": "ICE 2"})

    assert api.delete(model_url(ice), headers={"If-Match": '"1"'}).status_code == 412
    assert api.delete(model_url(ice), headers={"If-Match": '"2"'}).status_code == 204
    assert not ScoringModel.objects.filter(pk=ice.pk).exists()


def test_scoring_model_roles(rice, product, viewer, stranger, pm):
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind="ice")
    activate = reverse("scoring-model-activate", args=[ice.pk])
    for client, read, write in (
        (api_client_for(viewer), 200, 403),
        (api_client_for(pm, read_only=True), 200, 403),
        (api_client_for(stranger), 404, 404),
    ):
        assert client.get(model_url(ice)).status_code == read
        assert client.patch(model_url(ice), {"name": "X"}).status_code == write
        assert client.post(activate).status_code == write
        assert client.delete(model_url(ice)).status_code == write
    assert api_client_for(viewer).post(MODELS, {"product": product.pk, "name": "W", "kind": "ice"})
    assert services.backlog_of(product).active_model_id == rice.pk
    assert ScoringModel.objects.get(pk=ice.pk).name == "ICE"


def test_stranger_does_not_see_scoring_models_of_other_workspaces(rice, stranger):
    assert api_client_for(stranger).get(MODELS).json()["results"] == []


# --- query counts -------------------------------------------------------------------------


def test_list_queries_do_not_grow_with_page_size(api, product, pm, objective, teammate):
    other = ProductFactory(workspace=product.workspace, key="OPS")
    MembershipFactory(workspace=product.workspace)
    made = bulk_items(product, 510, reach=10, impact=1, confidence=50, effort=2, owner=teammate)
    made += bulk_items(other, 10)
    Item.tags.through.objects.bulk_create(
        Item.tags.through(item_id=i.pk, tag_id=tag.pk)
        for tag in services._tags_for(product, ["alpha", "beta"])
        for i in made[:510]
    )
    Item.objectives.through.objects.bulk_create(
        Item.objectives.through(item_id=i.pk, objective_id=objective.pk) for i in made[:510]
    )
    api.get(ITEMS, {"page_size": 1})  # the token's last-use stamp is written at most once

    counts = {}
    for ordering in ("rank", "-score"):
        for size in (1, 50, 500):
            with CaptureQueriesContext(connection) as ctx:
                response = api.get(ITEMS, {"page_size": size, "ordering": ordering})
            assert len(response.json()["results"]) == size
            assert response.json()["results"][0]["tags"] == ["alpha", "beta"] or (
                ordering == "-score"
            )
            counts[(ordering, size)] = len(ctx.captured_queries)

    assert len(set(counts.values())) == 1, counts
    # the token with its user; the page with its tags, objectives and scoring model
    assert counts[("rank", 1)] == 2, counts


def test_page_size_defaults_to_50_and_is_capped_at_500(api, product):
    bulk_items(product, 520)

    assert len(api.get(ITEMS).json()["results"]) == 50
    assert len(api.get(ITEMS, {"page_size": 5000}).json()["results"]) == 500
    assert len(api.get(ITEMS, {"page_size": 0}).json()["results"]) == 50


def test_scoring_model_list_queries_do_not_grow_with_rows(api, product, pm, rice):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            api.get(MODELS)
        return len(ctx.captured_queries)

    api.get(MODELS)
    before = count()
    for n in range(4):
        services.create_scoring_model(pm, product=product, name=f"ICE {n}", kind="ice")

    assert count() == before
