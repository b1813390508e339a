"""REST API for backlog items: CRUD through the services, roles and
workspace isolation, If-Match, validation, and filters."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from backlog import services
from backlog.api.serializers import ItemSerializer
from backlog.models import Item
from tests.conftest import api_client_for
from tests.factories import ObjectiveFactory

from .api_helpers import ITEM_FIELDS, ITEMS, MODELS, backlog_order, ids, item_url, move_url
from .factories import make_item

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
    assert response["ETag"].startswith('"1.')
    assert body["url"] == f"http://testserver/api/v1/items/{body['id']}/"
    assert backlog_order(product)[-1] == body["id"]


def test_item_json_has_every_documented_field(api, items):
    body = api.get(item_url(items[0])).json()

    assert set(body) == ITEM_FIELDS
    assert body["product"] == items[0].product_id
    assert body["rank"] == items[0].rank


def test_list_rows_are_the_same_as_the_detail(api, items):
    rows = api.get(ITEMS, {"expand": "explanation"}).json()["results"]

    assert rows == [api.get(item_url(item)).json() for item in items]
    assert rows[0]["score_breakdown"]["kind"] == "rice"


def test_list_rows_leave_the_explanation_out_unless_asked(api, items):
    rows = api.get(ITEMS).json()["results"]
    details = [api.get(item_url(item)).json() for item in items]

    assert all("score_breakdown" not in row for row in rows)
    assert rows == [{k: v for k, v in d.items() if k != "score_breakdown"} for d in details]


@pytest.mark.parametrize("query", ["expand=score", "expand=explanation&expand=explanation"])
def test_an_unknown_or_repeated_expansion_is_400(api, items, query):
    response = api.get(f"{ITEMS}?{query}")
    assert response.status_code == 400
    assert "expand" in response.json()


def item_reads(queries, item) -> list[str]:
    """SELECTs that read the item's row (by its id) out of ``queries``."""
    by_id = re.compile(rf'(?<!NOT \()"backlog_item"\."id" = {item.pk}\b')
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith("SELECT")
        and 'FROM "backlog_item"' in q["sql"]
        and by_id.search(q["sql"])
    ]


def test_a_detail_get_is_one_query_of_the_item(api, items, django_assert_max_num_queries):
    api.get(item_url(items[0]))  # a token's last use is written at most once a minute
    with django_assert_max_num_queries(4) as captured:
        response = api.get(item_url(items[0]))
    assert response.status_code == 200
    assert len(captured.captured_queries) == 2  # the token, the item's list row


def test_a_patch_reads_the_item_once(api, items, django_assert_max_num_queries):
    item = items[0]
    api.get(item_url(item))
    with django_assert_max_num_queries(30) as captured:
        response = api.patch(item_url(item), {"title": "Faster", "reach": 5}, format="json")
    assert response.status_code == 200
    assert response.json()["score"] == 10.0  # rescored: 5 × 2 × 100% ÷ 1
    reads = item_reads(captured.captured_queries, item)
    # The lookup, and the old and new score in one statement (the rescore).
    assert len(reads) == 2 and '"s"' in reads[1]


def test_a_move_reads_the_item_once(api, items, django_assert_max_num_queries):
    item = items[0]
    api.get(item_url(item))
    with django_assert_max_num_queries(20) as captured:
        response = api.post(move_url(item), {"after": items[2].pk}, format="json")
    assert response.status_code == 200
    assert len(item_reads(captured.captured_queries, item)) == 1
    assert response.json()["rank"] == Item.objects.get(pk=item.pk).rank
    assert api.get(item_url(item)).json() == response.json()


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
    assert response["ETag"].startswith('"1.')

    again = api.get(item_url(items[0]), headers={"If-None-Match": response["ETag"]})

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
    assert response["ETag"].startswith('"2.')


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
