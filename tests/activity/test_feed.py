"""The change feed: GET /api/v1/events/."""

import threading

import pytest
from django.db import connection, transaction

from pmhub.activity import consumers, record
from tests.conftest import api_client_for, is_postgres, require

URL = "/api/v1/events/"
# The feed shows only final events; on PostgreSQL a test's own open
# transaction is not final, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def _verbs(page):
    return [e["verb"] for e in page["results"]]


def test_following_the_cursor_returns_every_event_once_in_order(api, workspace, pm):
    for n in range(5):
        record(workspace, "item.created", object_type="backlog.item", object_id=n, actor=pm)
    first = api.get(URL, {"page_size": 2}).json()
    assert [e["object"]["id"] for e in first["results"]] == [0, 1]
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    assert [e["object"]["id"] for e in second["results"] + third["results"]] == [2, 3, 4]
    assert third["next"] is None
    record(workspace, "item.moved", object_type="backlog.item", object_id=9, actor=pm)
    later = api.get(URL, {"after": third["cursor"]}).json()
    assert _verbs(later) == ["item.moved"]
    assert api.get(URL, {"after": later["cursor"]}).json()["results"] == []


def test_types_filter_the_feed(api, workspace, pm):
    record(workspace, "item.created", object_type="backlog.item", object_id=1, actor=pm)
    record(workspace, "item.moved", object_type="backlog.item", object_id=1, actor=pm)
    record(workspace, "item.deleted", object_type="backlog.item", object_id=1, actor=pm)
    page = api.get(URL, {"types": "item.created,item.deleted"}).json()
    assert _verbs(page) == ["item.created", "item.deleted"]


def test_an_event_shows_who_did_what_to_which_object(api, workspace, product, pm):
    from backlog import services

    item = services.create_item(pm, product=product, title="Exports")
    event = api.get(URL).json()["results"][-1]
    assert event["verb"] == "item.created"
    assert event["object"] == {
        "type": "backlog.item",
        "id": item.pk,
        "key": item.key,
        "title": "Exports",
    }
    assert event["actor"]["kind"] == "user" and event["actor"]["user"] == pm.pk
    assert event["product"] == product.pk and event["workspace"] == workspace.pk


@pytest.mark.parametrize(
    "params",
    [{"after": "garbage"}, {"types": "item.exploded"}, {"page_size": "0"}, {"workspace": "x"}],
)
def test_bad_parameters_are_400(api, params):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_a_cursor_of_another_list_is_400(api, product):
    other = api.get("/api/v1/items/", {"product": product.pk, "page_size": 1})
    assert other.status_code == 200
    from pmhub.api.pagination import encode_cursor

    assert api.get(URL, {"after": encode_cursor("items:rank", ["a0", 1])}).status_code == 400


def test_only_admins_and_owners_read_their_workspaces_feed(
    workspace, pm, viewer, teammate, stranger
):
    record(workspace, "item.created", object_type="backlog.item", object_id=1, actor=pm)
    assert len(api_client_for(pm).get(URL).json()["results"]) == 1
    for outsider in (viewer, teammate, stranger):
        assert api_client_for(outsider).get(URL).json()["results"] == []


def test_the_feed_is_in_the_schema(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/events/" in schema["paths"]


def test_a_late_commit_is_seen_exactly_once(api, workspace, pm, monkeypatch):
    """The outbox gap: transaction A takes a lower id and stays open while B
    commits and a poller reads; then A commits. The poller, following its
    cursor, sees A and B exactly once."""
    require(is_postgres(), "PostgreSQL is needed for concurrent transactions")
    # No eager consumer dispatch from two threads at once: Celery's eager
    # tasks share one process-wide flag that the race would leave set.
    monkeypatch.setattr(consumers, "_enqueue", lambda: None)
    started, release = threading.Event(), threading.Event()

    def slow():
        try:
            with transaction.atomic():
                record(workspace, "item.created", object_type="t", object_id=1, actor=pm)
                started.set()
                assert release.wait(20)
        finally:
            connection.close()

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        assert started.wait(20)
        record(workspace, "item.moved", object_type="t", object_id=2, actor=pm)  # B commits
        seen = []
        page = api.get(URL).json()  # the poller runs while A is open
        seen += [e["object"]["id"] for e in page["results"]]
        assert seen == []  # B waits behind A: nothing can be skipped
        release.set()
        thread.join(30)
        for _ in range(3):
            page = api.get(URL, {"after": page["cursor"]}).json()
            seen += [e["object"]["id"] for e in page["results"]]
        assert seen == [1, 2]
    finally:
        release.set()
        thread.join(30)
