"""Presence: who else is on a page and what they edit; gone after leaving."""

import uuid

import pytest
from django.urls import reverse

from pmhub.live import presence


@pytest.fixture
def page_name():
    return f"backlog:PAY-{uuid.uuid4().hex[:8]}"  # Redis may be shared between runs


def beat(http, workspace, tab, **data):
    return http.post(reverse("live:presence", args=[workspace.slug]), {"client": tab, **data})


def test_members_see_each_other_and_what_they_edit(client, workspace, pm, teammate, page_name):
    client.force_login(teammate)
    mine = beat(client, workspace, page=page_name, tab="teammate-tab-1", editing="backlog.item:7")
    assert mine.status_code == 200 and mine.json() == {"others": []}
    client.force_login(pm)
    seen = beat(client, workspace, page=page_name, tab="pm-tab-0001").json()["others"]
    assert seen == [
        {
            "user": teammate.pk,
            "name": teammate.get_full_name() or "teammate",
            "initials": seen[0]["initials"],
            "client": "teammate-tab-1",
            "editing": "backlog.item:7",
        }
    ]
    assert seen[0]["initials"].isupper()
    other_page = beat(client, workspace, page=page_name + "x", tab="pm-tab-0001").json()
    assert other_page == {"others": []}


def test_leaving_and_expiry_remove_a_person(
    client, workspace, pm, teammate, page_name, monkeypatch
):
    client.force_login(teammate)
    beat(client, workspace, page=page_name, tab="teammate-tab-1")
    beat(client, workspace, page=page_name, tab="teammate-tab-1", leave="1")
    client.force_login(pm)
    assert beat(client, workspace, page=page_name, tab="pm-tab-0001").json()["others"] == []
    client.force_login(teammate)
    monkeypatch.setattr(presence, "TTL", -1.0)  # this beat is already stale
    beat(client, workspace, page=page_name, tab="teammate-tab-2")
    monkeypatch.undo()
    client.force_login(pm)
    assert beat(client, workspace, page=page_name, tab="pm-tab-0001").json()["others"] == []


def test_bad_beats_are_400_with_field_messages(client, workspace, pm):
    client.force_login(pm)
    response = beat(client, workspace, page="<b>", tab="x", editing="a b", leave="2", extra="1")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"page", "client", "editing", "leave", "extra"}


def test_stranger_gets_404_and_get_is_405(client, workspace, pm, stranger, page_name):
    client.force_login(stranger)
    assert beat(client, workspace, page=page_name, tab="stranger-tab").status_code == 404
    client.force_login(pm)
    assert client.get(reverse("live:presence", args=[workspace.slug])).status_code == 405


def test_viewers_take_part(client, workspace, viewer, page_name):
    client.force_login(viewer)
    assert beat(client, workspace, page=page_name, tab="viewer-tab-1").status_code == 200
