"""Products API versions: ETags, If-None-Match, If-Match on PATCH, PUT and DELETE."""

import pytest
from django.urls import reverse

from products.models import (
    Persona,
)
from tests.products.api_support import (
    MODELS,
    RESOURCES,
    TEXT_FIELD,
    detail_url,
    existing,
    list_url,
    put_payload,
)

# --- versions and ETags -----------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_detail_carries_version_and_etag(api, strategy, resource):
    obj = existing(resource, strategy)
    response = api.get(detail_url(resource, obj.pk))
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert response["ETag"].startswith('"1.')


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_listed_object_carries_its_version(api, strategy, resource):
    rows = api.get(list_url(resource)).json()["results"]
    assert [row["version"] for row in rows] == [1]


@pytest.mark.parametrize("resource", RESOURCES)
def test_if_none_match_with_the_current_etag_is_304(api, strategy, resource):
    url = detail_url(resource, existing(resource, strategy).pk)
    etag = api.get(url)["ETag"]
    response = api.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response["ETag"].startswith('"1.')
    assert response.content == b""


def test_if_none_match_with_an_old_etag_returns_the_object(api, persona):
    api.patch(detail_url("persona", persona.pk), {"goals": "Close the books faster"})
    response = api.get(detail_url("persona", persona.pk), headers={"If-None-Match": '"1"'})
    assert response.status_code == 200
    assert response["ETag"].startswith('"2.')
    assert response.json()["goals"] == "Close the books faster"


@pytest.mark.parametrize("resource", RESOURCES)
def test_patch_with_matching_if_match_saves_and_bumps_the_version(api, strategy, resource):
    obj = existing(resource, strategy)
    field = TEXT_FIELD[resource]

    response = api.patch(
        detail_url(resource, obj.pk), {field: "Renamed"}, headers={"If-Match": '"1"'}
    )

    assert response.status_code == 200, response.json()
    assert response.json()[field] == "Renamed"
    assert response.json()["version"] == 2
    assert response["ETag"].startswith('"2.')
    fresh = MODELS[resource].objects.get(pk=obj.pk)
    assert (getattr(fresh, field), fresh.version) == ("Renamed", 2)


@pytest.mark.parametrize("resource", RESOURCES)
def test_patch_with_stale_if_match_is_412_and_changes_nothing(api, strategy, resource):
    obj = existing(resource, strategy)
    field = TEXT_FIELD[resource]
    url = detail_url(resource, obj.pk)
    assert api.patch(url, {field: "First"}, headers={"If-Match": '"1"'}).status_code == 200

    response = api.patch(url, {field: "Second"}, headers={"If-Match": '"1"'})

    assert response.status_code == 412
    assert response["ETag"] == '"2"'
    assert response.json()["current_version"] == 2
    fresh = MODELS[resource].objects.get(pk=obj.pk)
    assert (getattr(fresh, field), fresh.version) == ("First", 2)


@pytest.mark.parametrize("resource", RESOURCES)
def test_put_with_stale_if_match_is_412_and_changes_nothing(api, strategy, resource):
    obj = existing(resource, strategy)
    field = TEXT_FIELD[resource]
    before = getattr(obj, field)
    url = detail_url(resource, obj.pk)

    response = api.put(url, put_payload(resource, "Replaced"), headers={"If-Match": '"7"'})

    assert response.status_code == 412
    fresh = MODELS[resource].objects.get(pk=obj.pk)
    assert (getattr(fresh, field), fresh.version) == (before, 1)


@pytest.mark.parametrize("resource", RESOURCES)
def test_put_with_matching_if_match_replaces(api, strategy, resource):
    obj = existing(resource, strategy)
    url = detail_url(resource, obj.pk)
    response = api.put(url, put_payload(resource, "Replaced"), headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.json()
    assert response["ETag"].startswith('"2.')
    assert getattr(MODELS[resource].objects.get(pk=obj.pk), TEXT_FIELD[resource]) == "Replaced"


@pytest.mark.parametrize("resource", RESOURCES)
def test_delete_with_stale_if_match_is_412_and_keeps_the_row(api, strategy, resource):
    obj = existing(resource, strategy)
    api.patch(detail_url(resource, obj.pk), {TEXT_FIELD[resource]: "Edited"})

    response = api.delete(detail_url(resource, obj.pk), headers={"If-Match": '"1"'})

    assert response.status_code == 412
    assert response["ETag"] == '"2"'
    assert MODELS[resource].objects.filter(pk=obj.pk, version=2).exists()


@pytest.mark.parametrize("resource", RESOURCES)
def test_delete_with_matching_if_match_deletes(api, strategy, resource):
    obj = existing(resource, strategy)
    response = api.delete(detail_url(resource, obj.pk), headers={"If-Match": '"1"'})
    assert response.status_code == 204
    assert not MODELS[resource].objects.filter(pk=obj.pk).exists()


def test_weak_etag_in_if_match_is_accepted(api, persona):
    url = detail_url("persona", persona.pk)
    response = api.patch(url, {"role": "CFO"}, headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200
    assert response["ETag"].startswith('"2.')


def test_if_match_star_matches_the_current_version(api, persona, product):
    api.patch(detail_url("persona", persona.pk), {"role": "CFO"})  # now at version 2
    url = detail_url("persona", persona.pk)
    response = api.patch(url, {"role": "CEO"}, headers={"If-Match": "*"})
    assert response.status_code == 200
    assert response["ETag"].startswith('"3.')

    vision_url = reverse("product-vision", args=[product.pk])
    response = api.patch(vision_url, {"statement": "Any"}, headers={"If-Match": "*"})
    assert response.status_code == 200

    assert api.delete(url, headers={"If-Match": "*"}).status_code == 204


def test_garbage_if_match_is_412(api, persona):
    url = detail_url("persona", persona.pk)
    response = api.patch(url, {"role": "CFO"}, headers={"If-Match": "not-an-etag"})
    assert response.status_code == 412
    assert Persona.objects.get(pk=persona.pk).role == ""


def test_write_without_if_match_applies_to_the_current_version(api, persona):
    response = api.patch(detail_url("persona", persona.pk), {"role": "CFO"})
    assert response.status_code == 200
    assert response["ETag"].startswith('"2.')
