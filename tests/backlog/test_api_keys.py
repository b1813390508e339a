"""Items by key wherever the API takes an item id (PAY-42), and lists that
refuse query parameters they do not know (issue 15: `/api/v1/items/89/` was
another product's item and `?key=` was silently ignored)."""

import pytest
from django.urls import reverse

from backlog.models import Item
from tests.conftest import api_client_for
from tests.factories import MembershipFactory, ProductFactory

from .api_helpers import ITEMS, backlog_order
from .factories import make_item


def test_an_item_is_read_and_written_by_its_key(api, items):
    first = items[0]
    body = api.get(f"{ITEMS}{first.key}/").json()
    assert body["id"] == first.pk and body["key"] == first.key
    assert api.get(f"{ITEMS}{first.key.lower()}/").json()["id"] == first.pk
    response = api.patch(f"{ITEMS}{first.key}/", {"title": "By key"}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert Item.objects.get(pk=first.pk).title == "By key"
    assert api.get(f"{ITEMS}PAY-999/").status_code == 404


def test_the_key_filter_and_move_bodies_take_keys(api, items, product):
    rows = api.get(ITEMS, {"key": f"{items[2].key}, {items[0].key}"}).json()["results"]
    assert sorted(r["id"] for r in rows) == sorted([items[0].pk, items[2].pk])
    assert api.get(ITEMS, {"key": "PAY42"}).json()["results"] == []  # no key: nothing
    response = api.post(f"{ITEMS}{items[2].key}/move/", {"before": items[0].key})
    assert response.status_code == 200, response.content
    assert backlog_order(product)[0] == items[2].pk


def test_a_key_of_another_workspace_is_not_found(api, stranger, items):
    other = ProductFactory(key="OTH")
    MembershipFactory(workspace=other.workspace, user=stranger)
    theirs = make_item(other, stranger, title="Theirs")
    assert api.get(f"{ITEMS}{theirs.key}/").status_code == 404
    assert api.get(ITEMS, {"key": theirs.key}).json()["results"] == []
    response = api.post(f"{ITEMS}{items[0].key}/move/", {"before": theirs.key})
    assert response.status_code == 400 and "before" in response.json()


def test_a_key_two_of_your_workspaces_share_is_refused_by_name(pm, items):
    other = ProductFactory(key="PAY")
    MembershipFactory(workspace=other.workspace, user=pm)
    make_item(other, pm, title="The other PAY-1")
    response = api_client_for(pm).get(f"{ITEMS}PAY-1/")
    assert response.status_code == 400
    assert other.workspace.slug in response.json()["detail"]


@pytest.mark.parametrize(
    "url", [ITEMS, reverse("product-list"), reverse("workspace-list"), reverse("roadmap-list")]
)
def test_lists_refuse_an_unknown_query_parameter(api, url):
    response = api.get(url, {"stauts": "done"})
    assert response.status_code == 400
    assert "Unknown query parameter" in response.json()["stauts"][0]


def test_known_parameters_still_pass(api, items):
    assert api.get(ITEMS, {"status": "idea", "page_size": 2, "ordering": "rank"}).status_code == 200


# --- custom fields, saved views, lanes, dependencies, members ------------------------------


def test_custom_fields_over_the_api(api, product, viewer):
    url = reverse("custom-field-list")
    response = api.post(
        url, {"product": product.pk, "name": "Segment", "kind": "select", "options": ["SMB", "Ent"]}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["options"] == ["SMB", "Ent"] and body["key"] == str(body["id"])
    assert api.post(url, {"product": product.pk, "name": "Segment", "kind": "text"}).json() == {
        "name": ["There is already a field called Segment."]
    }
    assert [f["name"] for f in api.get(url, {"product": product.pk}).json()["results"]] == [
        "Segment"
    ]
    assert api_client_for(viewer).delete(f"{url}{body['id']}/").status_code == 403
    assert api.delete(f"{url}{body['id']}/").status_code == 204


def test_saved_views_over_the_api(api, product, stranger):
    url = reverse("saved-view-list")
    response = api.post(url, {"product": product.pk, "name": "Now", "query": "status=now"})
    assert response.status_code == 201, response.content
    assert api.get(url).json()["results"][0]["query"] == "status=now"
    assert api_client_for(stranger).get(url).json()["results"] == []
    assert api_client_for(stranger).get(f"{url}{response.json()['id']}/").status_code == 404


def test_lanes_and_dependencies_over_the_api(api, pm, product, viewer):
    from roadmaps import services as roadmaps

    roadmap = roadmaps.create_roadmap(pm, workspace=product.workspace, name="Plan", product=product)
    lane = api.post(reverse("lane-list"), {"roadmap": roadmap.pk, "name": "Platform"})
    assert lane.status_code == 201, lane.content
    first = roadmaps.add_entry(pm, roadmap=roadmap, title="Design")
    second = roadmaps.add_entry(pm, roadmap=roadmap, title="Build")
    url = reverse("dependency-list")
    made = api.post(url, {"blocker": first.pk, "blocked": second.pk})
    assert made.status_code == 201, made.content
    assert made.json()["roadmap"] == roadmap.pk
    loop = api.post(url, {"blocker": second.pk, "blocked": first.pk})
    assert loop.status_code == 400 and "blocked" in loop.json()
    assert len(api.get(url, {"roadmap": roadmap.pk}).json()["results"]) == 1
    assert api_client_for(viewer).delete(f"{url}{made.json()['id']}/").status_code == 403
    assert api.delete(f"{url}{made.json()['id']}/").status_code == 204


def test_members_over_the_api(api, workspace, pm, viewer, teammate):
    url = reverse("member-list")
    rows = api.get(url, {"workspace": workspace.pk}).json()["results"]
    assert {r["username"] for r in rows} >= {pm.username, viewer.username, teammate.username}
    membership = next(r for r in rows if r["username"] == viewer.username)
    assert (
        api_client_for(viewer).patch(f"{url}{membership['id']}/", {"role": "admin"}).status_code
        == 403
    )
    changed = api.patch(f"{url}{membership['id']}/", {"role": "editor"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["role"] == "editor"
    assert api.patch(f"{url}{membership['id']}/", {"role": "boss"}).status_code == 400
