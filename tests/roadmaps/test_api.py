"""REST API of roadmaps: CRUD through the services, entries nested under a
roadmap, milestones, share links (token only in the create response, list
without tokens, DELETE revokes), If-Match 412, 404 across workspaces,
viewers and read-only tokens read only, keyset pagination, query counts."""

import pytest
from django.test import Client
from django.urls import reverse

from roadmaps import services
from roadmaps.models import Entry, Milestone, Roadmap, ShareLink
from tests.backlog.factories import bulk_items
from tests.conftest import api_client_for

from .conftest import entry_of

ROADMAPS = "/api/v1/roadmaps/"


def test_list_and_retrieve_roadmaps_with_etag(api, nnl, timeline):
    data = api.get(ROADMAPS).json()
    assert {r["name"] for r in data["results"]} == {"Exec", "Delivery"}
    assert "next" in data and "previous" in data
    one = api.get(f"{ROADMAPS}{nnl.pk}/")
    assert one.status_code == 200 and one["ETag"].startswith(f'"{nnl.version}.')
    assert api.get(f"{ROADMAPS}{nnl.pk}/", HTTP_IF_NONE_MATCH=one["ETag"]).status_code == 304


def test_create_update_with_if_match_and_delete(api, workspace, product, objective):
    created = api.post(
        ROADMAPS,
        {
            "workspace": workspace.pk,
            "product": product.pk,
            "name": "API",
            "layout": "now_next_later",
            "lane_by": "objective",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    rid = created.json()["id"]
    ok = api.patch(f"{ROADMAPS}{rid}/", {"name": "API 2"}, format="json", HTTP_IF_MATCH='"1"')
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = api.patch(f"{ROADMAPS}{rid}/", {"name": "API 3"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and Roadmap.objects.get(pk=rid).name == "API 2"
    target = api.patch(
        f"{ROADMAPS}{rid}/", {"investment_target": {str(objective.pk): 100}}, format="json"
    )
    assert target.status_code == 200 and target.json()["investment_target"] == {
        str(objective.pk): 100.0
    }
    bad = api.patch(
        f"{ROADMAPS}{rid}/", {"investment_target": {str(objective.pk): 40}}, format="json"
    )
    assert bad.status_code == 400 and "target" in bad.json()
    assert (
        api.post(
            ROADMAPS,
            {"workspace": workspace.pk, "name": "P", "products": [product.pk]},
            format="json",
        ).status_code
        == 400
    )
    assert api.delete(f"{ROADMAPS}{rid}/", HTTP_IF_MATCH='"1"').status_code == 412
    assert api.delete(f"{ROADMAPS}{rid}/").status_code == 204


def test_entries_nested_list_create_and_patch(
    api, nnl, items, product, django_assert_max_num_queries
):
    url = f"{ROADMAPS}{nnl.pk}/entries/"
    listed = api.get(url).json()["results"]
    assert [e["title"] for e in listed][:2] == ["Apple Pay", "SEPA debits"]
    apple = listed[0]
    assert apple["key"] == items[0].key and apple["status"] == "in_progress"
    assert apple["objectives"] == [o.pk for o in items[0].objectives.all()]
    added = api.post(
        url, {"item": items[3].pk, "horizon": "later", "commitment": "exploring"}, format="json"
    )
    assert added.status_code == 201 and added.json()["title"] == "Dark mode"
    card = api.post(url, {"title": "Offsite", "horizon": "now"}, format="json")
    assert card.status_code == 201 and card.json()["item"] is None
    twice = api.post(url, {"item": items[3].pk}, format="json")
    assert twice.status_code == 400 and "item" in twice.json()
    entry_url = f"/api/v1/roadmap-entries/{apple['id']}/"
    patched = api.patch(
        entry_url, {"horizon": "next"}, format="json", HTTP_IF_MATCH=f'"{apple["version"]}"'
    )
    assert patched.status_code == 200 and patched.json()["horizon"] == "next"
    stale = api.patch(
        entry_url, {"horizon": "later"}, format="json", HTTP_IF_MATCH=f'"{apple["version"]}"'
    )
    assert stale.status_code == 412 and Entry.objects.get(pk=apple["id"]).horizon == "next"
    for item in bulk_items(product, 20):
        services.add_entry(nnl.created_by, roadmap=nnl, item=item)
    with django_assert_max_num_queries(8):
        page = api.get(url, {"page_size": 10}).json()
    assert len(page["results"]) == 10 and page["next"]
    seen = []
    next_url = url + "?page_size=7"
    while next_url:
        body = api.get(next_url).json()
        seen += [e["id"] for e in body["results"]]
        next_url = body["next"]
    assert len(seen) == len(set(seen)) == nnl.entries.count()


def test_milestones(api, timeline):
    created = api.post(
        "/api/v1/milestones/",
        {"roadmap": timeline.pk, "name": "GA", "date": "2027-03-01", "kind": "release"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    mid = created.json()["id"]
    assert (
        api.get("/api/v1/milestones/", {"roadmap": timeline.pk}).json()["results"][0]["name"]
        == "GA"
    )
    assert (
        api.patch(
            f"/api/v1/milestones/{mid}/", {"name": "GA!"}, format="json", HTTP_IF_MATCH='"9"'
        ).status_code
        == 412
    )
    bad = api.post(
        "/api/v1/milestones/",
        {"roadmap": timeline.pk, "name": "X", "date": "1200-01-01"},
        format="json",
    )
    assert bad.status_code == 400
    assert api.delete(f"/api/v1/milestones/{mid}/").status_code == 204
    assert not Milestone.objects.filter(pk=mid).exists()


def test_share_links_token_only_once_and_delete_revokes(api, nnl, items):
    url = f"{ROADMAPS}{nnl.pk}/share-links/"
    created = api.post(
        url,
        {
            "label": "Board",
            "hide_scores": True,
            "date_mode": "coarse",
            "exclude_commitments": ["exploring"],
            "password": "",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["url"].startswith("http://testserver/s/") and body["token"] in body["url"]
    assert len(body["token"]) >= 43 and "password" not in body
    listed = api.get(url).json()["results"]
    assert listed[0]["id"] == body["id"] and "token" not in listed[0] and "url" not in listed[0]
    assert body["token"] not in api.get(url).content.decode()
    assert Client().get(body["url"].replace("http://testserver", "")).status_code == 200
    assert api.delete(f"/api/v1/share-links/{body['id']}/").status_code == 204
    assert ShareLink.objects.get(pk=body["id"]).revoked_at is not None
    assert Client().get(body["url"].replace("http://testserver", "")).status_code == 404
    assert api.post(url, {"label": "x", "password": "123"}, format="json").status_code == 400


def test_editors_list_links_but_only_admins_create_or_revoke(teammate, admin_member, nnl):
    link, _ = services.create_share_link(nnl.created_by, roadmap=nnl, label="L")
    editor = api_client_for(teammate)
    url = f"{ROADMAPS}{nnl.pk}/share-links/"
    assert editor.get(url).status_code == 200
    assert editor.post(url, {"label": "E"}, format="json").status_code == 403
    assert editor.delete(f"/api/v1/share-links/{link.pk}/").status_code == 403
    admin = api_client_for(admin_member)
    assert admin.post(url, {"label": "A"}, format="json").status_code == 201


def test_viewer_and_read_only_token_cannot_write(viewer, pm, nnl, items):
    entry = entry_of(nnl, items[0])
    for client in (api_client_for(viewer), api_client_for(pm, read_only=True)):
        assert client.get(f"{ROADMAPS}{nnl.pk}/entries/").status_code == 200
        assert (
            client.patch(
                f"/api/v1/roadmap-entries/{entry.pk}/", {"note": "x"}, format="json"
            ).status_code
            == 403
        )
        assert (
            client.post(f"{ROADMAPS}{nnl.pk}/entries/", {"title": "x"}, format="json").status_code
            == 403
        )
        assert (
            client.post(
                f"{ROADMAPS}{nnl.pk}/share-links/", {"label": "x"}, format="json"
            ).status_code
            == 403
        )
    assert api_client_for(viewer).get(f"{ROADMAPS}{nnl.pk}/share-links/").status_code == 403


def test_other_workspace_is_404(stranger, nnl, items):
    client = api_client_for(stranger)
    entry = entry_of(nnl, items[0])
    link, _ = services.create_share_link(nnl.created_by, roadmap=nnl, label="L")
    assert client.get(f"{ROADMAPS}{nnl.pk}/").status_code == 404
    assert client.get(f"{ROADMAPS}{nnl.pk}/entries/").status_code == 404
    assert client.get(f"/api/v1/roadmap-entries/{entry.pk}/").status_code == 404
    assert client.delete(f"/api/v1/share-links/{link.pk}/").status_code == 404
    assert client.get(ROADMAPS).json()["results"] == []
    assert ShareLink.objects.get(pk=link.pk).revoked_at is None


@pytest.mark.parametrize(
    "path", ["/api/v1/roadmaps/", "/api/v1/milestones/", "/api/v1/roadmap-entries/"]
)
def test_lists_need_authentication(path):
    assert Client().get(path).status_code in (401, 403)
    assert reverse("roadmap-list") == "/api/v1/roadmaps/"


def test_patch_with_a_bad_target_changes_nothing(api, nnl, objective):
    """Settings and target split are one write: a bad split saves no settings."""
    nnl.refresh_from_db()
    response = api.patch(
        f"{ROADMAPS}{nnl.pk}/",
        {"name": "Renamed", "investment_target": {str(objective.pk): 40}},
        format="json",
    )
    assert response.status_code == 400 and "target" in response.json()
    fresh = Roadmap.objects.get(pk=nnl.pk)
    assert (fresh.name, fresh.version) == (nnl.name, nnl.version)


def test_create_keeps_the_target_split(api, workspace, product, objective):
    created = api.post(
        ROADMAPS,
        {
            "workspace": workspace.pk,
            "product": product.pk,
            "name": "With target",
            "investment_target": {str(objective.pk): 100},
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["investment_target"] == {str(objective.pk): 100.0}
    bad = api.post(
        ROADMAPS,
        {
            "workspace": workspace.pk,
            "product": product.pk,
            "name": "Bad target",
            "investment_target": {str(objective.pk): 40},
        },
        format="json",
    )
    assert bad.status_code == 400 and not Roadmap.objects.filter(name="Bad target").exists()


def test_listed_links_count_the_views_not_yet_written(api, nnl, items):
    """Views are written once a minute per process; the API list, like the
    HTML list, adds the ones this process counted since."""
    created = api.post(f"{ROADMAPS}{nnl.pk}/share-links/", {"label": "Board"}, format="json")
    shared = created.json()["url"].replace("http://testserver", "")
    for _ in range(3):
        assert Client().get(shared).status_code == 200
    listed = api.get(f"{ROADMAPS}{nnl.pk}/share-links/").json()["results"]
    assert listed[0]["views"] == 3
