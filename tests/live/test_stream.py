"""The live stream: members only, every change once from a position, a
revoked member's stream ends, publishing happens after commit only."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.db import connections, transaction
from django.test import AsyncClient
from django.urls import reverse

from pmhub.accounts import services as accounts
from pmhub.accounts.models import Membership, Role
from pmhub.activity.models import Event
from pmhub.activity.visibility import position_of
from pmhub.live import feed, publish
from pmhub.live.hub import get_hub
from tests.backlog.factories import make_item


def url(workspace, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("live:stream", args=[workspace.slug]) + (f"?{query}" if query else "")


def events_of(chunks):
    """(event name, id, data) of each Server-Sent Event in ``chunks``."""
    found = []
    for chunk in chunks:
        text = chunk.decode()
        if text.startswith(":"):
            continue
        fields = dict(line.split(": ", 1) for line in text.strip().splitlines() if ": " in line)
        found.append((fields.get("event"), fields.get("id"), json.loads(fields.get("data", "{}"))))
    return found


def take(response, count):
    stream = iter(response.streaming_content)
    return [next(stream) for _ in range(count)]


def test_stranger_and_anonymous_get_404(client, workspace, stranger):
    assert client.get(url(workspace)).status_code == 404
    client.force_login(stranger)
    assert client.get(url(workspace)).status_code == 404


def test_unknown_parameter_and_foreign_position_are_400(client, workspace, pm):
    client.force_login(pm)
    assert client.get(url(workspace, page="1")).status_code == 400
    assert client.get(url(workspace, since="nope")).status_code == 400
    assert client.get(url(workspace), HTTP_LAST_EVENT_ID="1-x").status_code == 400


# On PostgreSQL the log shows committed transactions only.
@pytest.mark.django_db(transaction=True)
def test_replays_every_change_after_the_position_once(client, workspace, product, pm):
    items = [make_item(product, pm, title=f"Item {n}") for n in range(4)]
    log = list(Event.objects.filter(workspace=workspace, object_type="backlog.item").order_by("id"))
    since = feed.encode(position_of(log[1]))
    client.force_login(pm)
    response = client.get(url(workspace), HTTP_LAST_EVENT_ID=since)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache, no-transform"
    after = [
        e for e in Event.objects.filter(workspace=workspace).order_by("id") if e.id > log[1].id
    ]
    got = events_of(take(response, 1 + len(after)))
    assert got[0][0] == "hello" and got[0][1] == since and got[0][2] == {"role": "owner"}
    changes = got[1:]
    assert [g[1] for g in changes] == [feed.encode(position_of(e)) for e in after]
    assert len({g[1] for g in changes}) == len(changes)
    last_item = changes[-1][2]
    assert last_item["type"] == "backlog.item" and last_item["id"] == items[-1].pk
    assert last_item["key"] == items[-1].key and last_item["actor_id"] == pm.pk
    assert "changes" not in last_item  # field names only: pages fetch what they show


# On PostgreSQL the log shows committed transactions only.
@pytest.mark.django_db(transaction=True)
def test_removed_member_stream_ends_with_revoked(client, workspace, pm, teammate):
    client.force_login(teammate)
    response = client.get(url(workspace))
    stream = iter(response.streaming_content)
    assert events_of([next(stream)])[0][0] == "hello"
    accounts.remove_member(pm, membership=Membership.objects.get(user=teammate))
    assert events_of([next(stream)])[0][0] == "revoked"
    with pytest.raises(StopIteration):
        next(stream)


# On PostgreSQL the log shows committed transactions only.
@pytest.mark.django_db(transaction=True)
def test_role_change_is_announced_on_the_open_stream(client, workspace, pm, teammate):
    client.force_login(teammate)
    stream = iter(client.get(url(workspace)).streaming_content)
    next(stream)
    membership = Membership.objects.get(user=teammate)
    accounts.change_role(pm, membership=membership, role=Role.VIEWER)
    names = [e[0] for e in events_of([next(stream)])]
    assert names[-1] == "role"


# On PostgreSQL the log shows committed transactions only.
@pytest.mark.django_db(transaction=True)
def test_too_far_behind_is_told_to_reload(client, workspace, product, pm, monkeypatch):
    monkeypatch.setattr(feed, "REPLAY_LIMIT", 2)
    for n in range(3):
        make_item(product, pm, title=f"Item {n}")
    client.force_login(pm)
    got = events_of(take(client.get(url(workspace), HTTP_LAST_EVENT_ID="0-0"), 2))
    assert [g[0] for g in got] == ["hello", "reset"]


@pytest.mark.django_db(transaction=True)
def test_wakes_after_commit_not_on_rollback(workspace, product, pm):
    before = publish.local.generation(workspace.pk)
    with transaction.atomic():
        make_item(product, pm, title="Kept")
        assert publish.local.generation(workspace.pk) == before
    assert publish.local.generation(workspace.pk) > before
    after_commit = publish.local.generation(workspace.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_item(product, pm, title="Rolled back")
        raise RuntimeError
    assert publish.local.generation(workspace.pk) == after_commit


@pytest.mark.django_db(transaction=True)
def test_async_stream_delivers_a_commit_through_the_hub(workspace, product, pm, settings):
    settings.LIVE_POLL_SECONDS = 60  # only the wake-up can bring it in time

    async def scenario():
        client = AsyncClient()
        await sync_to_async(client.force_login)(pm)
        response = await client.get(url(workspace))
        stream = aiter(response.streaming_content)
        hello = events_of([await anext(stream)])
        assert hello[0][0] == "hello"
        item = await sync_to_async(make_item)(product, pm, title="Seen live")
        got = events_of([await asyncio.wait_for(anext(stream), 30)])
        await response.streaming_content.aclose()
        await get_hub().close()
        await sync_to_async(connections.close_all)()  # asgiref's sync thread
        return item, got

    item, got = asyncio.run(scenario())
    assert got[0][0] == "change" and got[0][2]["id"] == item.pk
