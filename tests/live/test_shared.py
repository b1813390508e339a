"""The shared roadmap page's live stream: only for links that opt in, says
"changed" when the page would change and "revoked" when the link stops
working, and nothing about the changes themselves."""

import pytest
from django.urls import reverse

from roadmaps import services, sharing
from roadmaps.models import Layout, ShareLink


@pytest.fixture
def roadmap(workspace, product, pm):
    return services.create_roadmap(
        pm, workspace=workspace, product=product, name="Board", layout=Layout.NOW_NEXT_LATER
    )


def link_for(pm, roadmap, **options):
    return services.create_share_link(pm, roadmap=roadmap, label="Board", **options)


def test_links_that_did_not_opt_in_have_no_stream(client, pm, roadmap):
    _link, token = link_for(pm, roadmap)
    assert client.get(reverse("roadmaps:shared-live", args=[token])).status_code == 404
    page = client.get(reverse("roadmaps:shared-roadmap", args=[token]))
    assert b'id="live"' not in page.content and b"live.js" not in page.content


def test_locked_links_and_unknown_parameters(client, pm, roadmap):
    _link, token = link_for(pm, roadmap, live=True, password="secret1")
    assert client.get(reverse("roadmaps:shared-live", args=[token])).status_code == 404
    _link, token = link_for(pm, roadmap, live=True)
    url = reverse("roadmaps:shared-live", args=[token])
    assert client.get(url + "?since=1").status_code == 400
    assert client.post(url).status_code == 405


def test_stream_says_changed_then_revoked(client, pm, roadmap, settings):
    settings.LIVE_POLL_SECONDS = 0
    link, token = link_for(pm, roadmap, live=True)
    page = client.get(reverse("roadmaps:shared-roadmap", args=[token]))
    assert b'data-live-region="any:"' in page.content
    etag = page["ETag"].strip('"')
    assert f"?v={etag}".encode() in page.content
    response = client.get(reverse("roadmaps:shared-live", args=[token]) + f"?v={etag}")
    assert response["Content-Type"] == "text/event-stream"
    assert response["Referrer-Policy"] == "no-referrer"
    stream = iter(response.streaming_content)
    assert b"event: hello" in next(stream)
    assert next(stream) == b": keepalive\n\n"  # nothing changed since the page was rendered
    roadmap.refresh_from_db()
    services.update_roadmap(
        pm, roadmap=roadmap, expected_version=roadmap.version, fields={"name": "Board, Q1"}
    )
    changed = next(stream)
    assert changed.startswith(b"event: changed") and b"Board" not in changed
    services.revoke_share_link(pm, link=ShareLink.objects.get(pk=link.pk))
    assert next(stream).startswith(b"event: revoked")
    assert list(stream) == []


def test_checks_are_not_counted_as_views(client, pm, roadmap, settings):
    settings.LIVE_POLL_SECONDS = 0
    link, token = link_for(pm, roadmap, live=True)
    stream = iter(client.get(reverse("roadmaps:shared-live", args=[token])).streaming_content)
    for _ in range(4):
        next(stream)
    assert sharing.pending_views([link]).get(link.pk, 0) == 0
    assert ShareLink.objects.get(pk=link.pk).views == 0
