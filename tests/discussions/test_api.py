"""The discussions API: comments, reactions, watches, notifications."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from discussions import services
from discussions.models import Comment, Notification
from tests.conftest import api_client_for

from .test_services import post


def new_comment(api, item, body="Hello", **extra):
    return api.post(
        "/api/v1/comments/",
        {"object_type": "backlog.item", "object_id": item.pk, "body": body, **extra},
        format="json",
    )


def test_create_list_by_object_edit_and_delete(api, pm, item):
    r = new_comment(api, item, "Hello **API**")
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["body_html"] == "<p>Hello <strong>API</strong></p>" and data["version"] == 1
    reply = new_comment(api, item, "reply", parent=data["id"]).json()
    assert reply["parent"] == data["id"]
    listed = api.get("/api/v1/comments/", {"object_type": "backlog.item", "object_id": item.pk})
    assert [c["id"] for c in listed.json()["results"]] == [data["id"], reply["id"]]
    url = f"/api/v1/comments/{data['id']}/"
    etag = api.get(url)["ETag"]
    r = api.patch(url, {"body": "Edited"}, format="json", HTTP_IF_MATCH=etag)
    assert r.status_code == 200 and r.json()["edited_at"]
    r = api.patch(url, {"body": "Stale"}, format="json", HTTP_IF_MATCH=etag)
    assert r.status_code == 412
    assert api.delete(url, HTTP_IF_MATCH=api.get(url)["ETag"]).status_code == 204
    assert api.get(url).json()["deleted"] is True


def test_bad_input_is_400_with_field_messages(api, item):
    r = new_comment(api, item, "z" * 10_001)
    assert r.status_code == 400 and "body" in r.json()
    r = new_comment(api, item, " ".join(f"@u{i}" for i in range(50)))
    assert r.status_code == 400 and "at most 20" in r.json()["body"][0]
    r = api.post(
        "/api/v1/comments/",
        {"object_type": "auth.user", "object_id": 1, "body": "x"},
        format="json",
    )
    assert r.status_code == 400 and "object_type" in r.json()
    assert api.get("/api/v1/comments/", {"stauts": "x"}).status_code == 400


def test_another_workspaces_object_and_comment_are_404(api, stranger, item):
    theirs = api_client_for(stranger)
    assert new_comment(theirs, item).status_code == 404
    mine = new_comment(api, item).json()
    assert theirs.get(f"/api/v1/comments/{mine['id']}/").status_code == 404
    assert (
        theirs.get(
            "/api/v1/comments/", {"object_type": "backlog.item", "object_id": item.pk}
        ).json()["results"]
        == []
    )


def test_restricted_viewer_gets_403(viewer, pm, item, workspace):
    services.set_editors_only(pm, workspace=workspace, editors_only=True)
    r = new_comment(api_client_for(viewer), item)
    assert r.status_code == 403


def test_comment_list_queries_do_not_grow_with_rows(api, pm, teammate, item):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert (
                api.get(
                    "/api/v1/comments/", {"object_type": "backlog.item", "object_id": item.pk}
                ).status_code
                == 200
            )
        return len(ctx.captured_queries)

    for i in range(3):
        services.add_reaction(teammate, comment=post(pm, item, f"c{i}"), emoji="👍")
    count()  # the token's first use is recorded once
    few = count()
    for i in range(10):
        services.add_reaction(teammate, comment=post(pm, item, f"more {i}"), emoji="🎉")
    assert count() == few


def test_reactions_add_once_and_delete_only_your_own(api, pm, teammate, item):
    comment = post(pm, item, "React")
    r = api.post("/api/v1/reactions/", {"comment": comment.pk, "emoji": "🚀"}, format="json")
    assert r.status_code == 201
    again = api.post("/api/v1/reactions/", {"comment": comment.pk, "emoji": "🚀"}, format="json")
    assert again.json()["id"] == r.json()["id"]
    assert (
        api.post(
            "/api/v1/reactions/", {"comment": comment.pk, "emoji": "x"}, format="json"
        ).status_code
        == 400
    )
    other = api_client_for(teammate)
    assert other.delete(f"/api/v1/reactions/{r.json()['id']}/").status_code == 403
    assert api.delete(f"/api/v1/reactions/{r.json()['id']}/").status_code == 204
    listed = api.get("/api/v1/comments/", {"object_type": "backlog.item", "object_id": item.pk})
    assert listed.json()["results"][0]["reactions"] == []


def test_watch_state(api, pm, item):
    body = {"object_type": "backlog.item", "object_id": item.pk, "watching": False}
    r = api.post("/api/v1/watches/", body, format="json")
    assert r.status_code == 201 and r.json()["watching"] is False
    rows = api.get("/api/v1/watches/", {"object_type": "backlog.item", "object_id": item.pk}).json()
    assert rows["results"][0]["watching"] is False
    r = api.post("/api/v1/watches/", {**body, "watching": True}, format="json")
    assert r.json()["watching"] is True
    assert api.delete(f"/api/v1/watches/{r.json()['id']}/").status_code == 204
    assert api.get(f"/api/v1/watches/{r.json()['id']}/").json()["watching"] is False


def test_notifications_are_your_own_and_mark_read(pm, teammate, item, notify):
    notify()
    post(pm, item, f"@{teammate.username}")
    notify()
    mine = api_client_for(teammate)
    rows = mine.get("/api/v1/notifications/", {"unread": "true"}).json()["results"]
    assert {r["kind"] for r in rows} == {"mention", "assigned"}
    assert api_client_for(pm).get(f"/api/v1/notifications/{rows[0]['id']}/").status_code == 404
    r = mine.post(f"/api/v1/notifications/{rows[0]['id']}/read/")
    assert r.status_code == 200 and r.json()["read"] is True
    r = mine.post("/api/v1/notifications/read-all/", {"kind": "assigned"}, format="json")
    assert r.json() == {"marked": 1}
    assert not Notification.objects.filter(recipient=teammate, read_at__isnull=True).exists()
    assert mine.get("/api/v1/notifications/", {"kind": "bogus"}).status_code == 400
    assert Comment.objects.count() == 1
