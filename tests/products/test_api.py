"""REST API for products and strategy: workspace isolation, roles,
validation, the vision, query counts (lists and versions: test_api_lists.py,
test_api_versions.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from products.models import (
    KeyResult,
    Product,
    Vision,
    VisionVersion,
)
from tests.conftest import api_client_for
from tests.factories import (
    KeyResultFactory,
)
from tests.products.api_support import (
    MODELS,
    RESOURCES,
    TEXT_FIELD,
    detail_url,
    existing,
    list_url,
    make_rows,
    new_payload,
    put_payload,
)

# --- workspace isolation ------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
@pytest.mark.parametrize("resource", RESOURCES)
def test_stranger_gets_404_for_another_workspaces_objects(strategy, stranger, resource, method):
    obj = existing(resource, strategy)
    field = TEXT_FIELD[resource]
    before = getattr(obj, field)
    client = api_client_for(stranger)

    kwargs = {} if method in ("get", "delete") else {"data": put_payload(resource, "Hijacked")}
    response = getattr(client, method)(detail_url(resource, obj.pk), **kwargs)

    assert response.status_code == 404
    fresh = MODELS[resource].objects.get(pk=obj.pk)
    assert (getattr(fresh, field), fresh.version) == (before, 1)


@pytest.mark.parametrize("resource", RESOURCES)
def test_stranger_lists_nothing_from_another_workspace(strategy, stranger, resource):
    body = api_client_for(stranger).get(list_url(resource)).json()
    assert body["results"] == []


@pytest.mark.parametrize(
    ("resource", "field"),
    [
        ("product", "workspace"),
        ("objective", "product"),
        ("key-result", "objective"),
        ("competitor", "product"),
        ("persona", "product"),
    ],
)
def test_creating_inside_another_workspace_is_400(strategy, stranger, resource, field):
    count = MODELS[resource].objects.count()

    response = api_client_for(stranger).post(list_url(resource), new_payload(resource, strategy))

    assert response.status_code == 400
    assert field in response.json()
    assert MODELS[resource].objects.count() == count


def test_stranger_gets_404_for_another_workspaces_vision(product, stranger):
    client = api_client_for(stranger)
    url = reverse("product-vision", args=[product.pk])
    assert client.get(url).status_code == 404
    assert client.patch(url, {"statement": "Mine now"}).status_code == 404
    assert Vision.objects.get(product=product).statement == "Be the best."


# --- roles ----------------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_viewer_can_read_everything_in_the_workspace(strategy, viewer, resource):
    client = api_client_for(viewer)
    obj = existing(resource, strategy)
    assert [r["id"] for r in client.get(list_url(resource)).json()["results"]] == [obj.pk]
    assert client.get(detail_url(resource, obj.pk)).status_code == 200


def test_viewer_can_read_the_vision(product, viewer):
    response = api_client_for(viewer).get(reverse("product-vision", args=[product.pk]))
    assert response.status_code == 200
    assert response.json()["statement"] == "Be the best."


@pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
@pytest.mark.parametrize("resource", RESOURCES)
def test_viewer_cannot_write(strategy, viewer, resource, method):
    obj = existing(resource, strategy)
    field = TEXT_FIELD[resource]
    before = (getattr(obj, field), MODELS[resource].objects.count())
    client = api_client_for(viewer)

    if method == "post":
        response = client.post(list_url(resource), new_payload(resource, strategy))
    elif method == "delete":
        response = client.delete(detail_url(resource, obj.pk))
    else:
        url = detail_url(resource, obj.pk)
        response = getattr(client, method)(url, put_payload(resource, "By viewer"))

    assert response.status_code == 403
    fresh = MODELS[resource].objects.get(pk=obj.pk)
    assert (getattr(fresh, field), MODELS[resource].objects.count()) == before
    assert fresh.version == 1


def test_viewer_cannot_edit_the_vision(product, viewer):
    url = reverse("product-vision", args=[product.pk])
    response = api_client_for(viewer).patch(url, {"statement": "Viewers rule"})
    assert response.status_code == 403
    assert Vision.objects.get(product=product).version == 1


@pytest.mark.parametrize("resource", RESOURCES)
def test_editor_can_create_update_and_delete(strategy, teammate, resource):
    client = api_client_for(teammate)
    field = TEXT_FIELD[resource]

    created = client.post(list_url(resource), new_payload(resource, strategy))
    assert created.status_code == 201, created.json()
    assert created.json()["version"] == 1
    assert created["ETag"].startswith('"1.')
    url = detail_url(resource, created.json()["id"])

    updated = client.patch(url, {field: "Edited"}, headers={"If-Match": created["ETag"]})
    assert updated.status_code == 200, updated.json()
    assert updated.json()[field] == "Edited"

    deleted = client.delete(url, headers={"If-Match": updated["ETag"]})
    assert deleted.status_code == 204
    assert not MODELS[resource].objects.filter(pk=created.json()["id"]).exists()


def test_admin_member_can_write(product, admin_member):
    url = detail_url("product", product.pk)
    response = api_client_for(admin_member).patch(url, {"stage": "launch"})
    assert response.status_code == 200
    assert Product.objects.get(pk=product.pk).stage == "launch"


@pytest.mark.parametrize("resource", RESOURCES)
def test_anonymous_requests_get_401(strategy, resource):
    client = APIClient()
    obj = existing(resource, strategy)
    for response in (
        client.get(list_url(resource)),
        client.get(detail_url(resource, obj.pk)),
        client.post(list_url(resource), new_payload(resource, strategy)),
        client.patch(detail_url(resource, obj.pk), {TEXT_FIELD[resource]: "Anon"}),
        client.delete(detail_url(resource, obj.pk)),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
    assert MODELS[resource].objects.filter(pk=obj.pk, version=1).exists()


# --- products ---------------------------------------------------------------------------


def test_create_product_in_a_workspace(api, workspace):
    response = api.post(
        list_url("product"),
        {"workspace": workspace.pk, "name": " Billing ", "key": "bill", "stage": "research"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["workspace"], body["name"], body["key"], body["stage"]) == (
        workspace.pk,
        "Billing",
        "BILL",
        "research",
    )
    assert Vision.objects.filter(product_id=body["id"]).exists()


def test_product_needs_a_workspace(api, workspace):
    response = api.post(list_url("product"), {"name": "Billing", "key": "BILL"})
    assert response.status_code == 400
    assert "workspace" in response.json()


@pytest.mark.parametrize("key", ["PAY", "pay"])
def test_duplicate_product_key_is_400_with_a_key_message(api, product, key):
    response = api.post(
        list_url("product"), {"workspace": product.workspace_id, "name": "Other", "key": key}
    )
    assert response.status_code == 400
    assert "key" in response.json(), response.json()
    assert Product.objects.count() == 1


def test_same_key_is_fine_in_another_workspace(api, product, other_workspace):
    response = api.post(
        list_url("product"), {"workspace": other_workspace.pk, "name": "Pay", "key": "PAY"}
    )
    assert response.status_code == 201, response.json()


def test_key_and_workspace_cannot_be_changed(api, product, other_workspace):
    url = detail_url("product", product.pk)
    response = api.patch(url, {"key": "NEW", "workspace": other_workspace.pk, "name": "Pay 2"})

    assert response.status_code == 200, response.json()
    assert (response.json()["key"], response.json()["workspace"]) == ("PAY", product.workspace_id)
    fresh = Product.objects.get(pk=product.pk)
    assert (fresh.key, fresh.workspace_id, fresh.name) == ("PAY", product.workspace_id, "Pay 2")


@pytest.mark.parametrize(
    ("resource", "change", "field"),
    [
        ("product", {"stage": "someday"}, "stage"),
        ("product", {"name": ""}, "name"),
        ("product", {"key": "1BAD"}, "key"),
        ("product", {"key": None}, "key"),
        ("objective", {"title": None}, "title"),
        ("objective", {"status": "done-ish"}, "status"),
        ("key-result", {"start_value": 3, "target_value": 3}, "target_value"),
        ("key-result", {"target_value": 10, "direction": "decrease"}, "direction"),
        ("key-result", {"target_value": "lots"}, "target_value"),
        ("competitor", {"website": "not a url"}, "website"),
        ("competitor", {"threat_level": "extreme"}, "threat_level"),
        ("persona", {"name": "x" * 121}, "name"),
    ],
)
def test_invalid_create_is_400_with_field_messages(api, strategy, resource, change, field):
    count = MODELS[resource].objects.count()
    payload = {**new_payload(resource, strategy), **change}
    payload = {k: v for k, v in payload.items() if v is not None}

    response = api.post(list_url(resource), payload)

    assert response.status_code == 400
    body = response.json()
    assert field in body, body
    assert all(isinstance(message, str) for message in body[field])
    assert MODELS[resource].objects.count() == count


def test_invalid_update_is_400_and_changes_nothing(api, key_result):
    url = detail_url("key-result", key_result.pk)
    response = api.patch(url, {"target_value": 0}, headers={"If-Match": '"1"'})
    assert response.status_code == 400
    assert "target_value" in response.json()
    fresh = KeyResult.objects.get(pk=key_result.pk)
    assert (fresh.target_value, fresh.version) == (100, 1)


def test_objective_owner_must_be_a_member(api, product, stranger, teammate):
    payload = {"product": product.pk, "title": "Ship it"}
    refused = api.post(list_url("objective"), {**payload, "owner": stranger.pk})
    assert refused.status_code == 400
    assert "owner" in refused.json()

    accepted = api.post(list_url("objective"), {**payload, "owner": teammate.pk})
    assert accepted.status_code == 201
    assert accepted.json()["owner"] == teammate.pk


def test_objective_lists_its_key_results_and_progress(api, key_result):
    KeyResultFactory(
        objective=key_result.objective, name="NPS", start_value=0, target_value=10, current_value=5
    )
    body = api.get(detail_url("objective", key_result.objective_id)).json()
    assert [kr["name"] for kr in body["key_results"]] == ["Checkout conversion", "NPS"]
    assert body["progress"] == pytest.approx((0.25 + 0.5) / 2)


def test_key_result_direction_is_inferred_from_start_and_target(api, objective):
    response = api.post(
        list_url("key-result"),
        {"objective": objective.pk, "name": "p95 latency", "start_value": 900, "target_value": 200},
    )
    assert response.status_code == 201
    assert response.json()["direction"] == "decrease"


# --- vision ---------------------------------------------------------------------------


def test_vision_has_an_etag(api, product):
    response = api.get(reverse("product-vision", args=[product.pk]))
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert response["ETag"].startswith('"1.')


def test_vision_patch_saves_a_new_version_and_keeps_the_old_one(api, product):
    url = reverse("product-vision", args=[product.pk])

    response = api.patch(url, {"statement": "Payments anyone can run"}, headers={"If-Match": '"1"'})

    assert response.status_code == 200, response.json()
    assert response.json()["statement"] == "Payments anyone can run"
    assert response.json()["version"] == 2
    assert response["ETag"].startswith('"2.')
    vision = Vision.objects.get(product=product)
    assert (vision.statement, vision.version) == ("Payments anyone can run", 2)
    history = list(VisionVersion.objects.filter(vision=vision).values_list("version", "statement"))
    assert history == [(1, "Be the best.")]


def test_vision_patch_with_stale_if_match_is_412_and_changes_nothing(api, product):
    url = reverse("product-vision", args=[product.pk])
    api.patch(url, {"statement": "Mine"}, headers={"If-Match": '"1"'})

    response = api.patch(url, {"statement": "Theirs"}, headers={"If-Match": '"1"'})

    assert response.status_code == 412
    assert response["ETag"] == '"2"'
    vision = Vision.objects.get(product=product)
    assert (vision.statement, vision.version) == ("Mine", 2)
    assert VisionVersion.objects.filter(vision=vision).count() == 1


# --- query counts -------------------------------------------------------------------


def count_queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"page_size": 100})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("resource", RESOURCES)
def test_list_query_count_does_not_grow_with_rows(
    api, product, resource, django_assert_max_num_queries
):
    make_rows(resource, product, 3)
    url = list_url(resource)
    api.get(url)  # the token's first use records last_used_at; keep that write out of the count

    # the token lookup, the page (joined with its product or workspace), and
    # for objectives one prefetch of all their key results
    with django_assert_max_num_queries(3 if resource == "objective" else 2):
        api.get(url, {"page_size": 100})
    with_three = count_queries(api, url)
    make_rows(resource, product, 10)
    with_thirteen = count_queries(api, url)

    assert with_thirteen == with_three
    assert len(api.get(url, {"page_size": 100}).json()["results"]) >= 13
