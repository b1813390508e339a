"""Live streams against a real Redis: a change committed by another process
(here: written without this process's wake-up, then announced on Redis
pub/sub only) reaches an open stream through the hub's subscription, long
before the hub's next poll; presence is shared through Redis."""

import asyncio
import json
import os
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient
from django.urls import reverse

from pmhub.activity.models import Event
from pmhub.live import presence, publish
from pmhub.live.hub import get_hub
from tests.conftest import require

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _redis(settings):
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL not set")
    settings.LIVE_REDIS_URL = os.environ["REDIS_URL"]
    settings.LIVE_PUBLISH = True
    settings.LIVE_POLL_SECONDS = 60  # only the Redis message can bring the change in time


def _foreign_write(workspace):
    """An event as another web process or a worker would commit it: no wake-up here."""
    return Event.objects.create(
        workspace=workspace,
        actor_kind="system",
        actor_label="worker",
        verb="item.updated",
        object_type="backlog.item",
        object_id=999,
        object_key="PAY-999",
    )


def test_a_redis_message_wakes_the_hub(workspace, pm):
    async def scenario():
        client = AsyncClient()
        await sync_to_async(client.force_login)(pm)
        response = await client.get(reverse("live:stream", args=[workspace.slug]))
        stream = aiter(response.streaming_content)
        assert b"event: hello" in await anext(stream)
        hub = get_hub()
        await asyncio.sleep(0.5)  # the subscription is set up by now
        assert hub.listener is not None and not hub.listener.done()
        event = await sync_to_async(_foreign_write)(workspace)
        await asyncio.to_thread(publish._redis().publish, publish.channel(workspace.pk), b"1")
        chunk = await asyncio.wait_for(anext(stream), 20)
        await response.streaming_content.aclose()
        await hub.close()
        await sync_to_async(connections.close_all)()
        return event, chunk

    event, chunk = asyncio.run(scenario())
    data = json.loads(chunk.decode().split("data: ", 1)[1])
    assert data["id"] == event.object_id and data["actor"] == "worker"


def test_presence_lives_in_redis(workspace, pm):
    page = f"roadmap:{uuid.uuid4().hex[:8]}"
    assert isinstance(presence.store(), presence.RedisStore)
    beat = presence.Beat(page=page, client="tab-0000001", editing="roadmaps.entry:3")
    presence.store().beat(workspace.pk, beat, presence.Person.of(pm))
    key = presence.RedisStore().key(workspace.pk, page)
    assert publish._redis().ttl(key) > 0
    assert [p.editing for p in presence.store().on_page(workspace.pk, page)] == ["roadmaps.entry:3"]
    presence.store().leave(workspace.pk, beat)
    assert presence.store().on_page(workspace.pk, page) == []
