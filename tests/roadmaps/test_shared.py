"""The shared page /s/<token>/ and its abuse cases: no login, read-only,
nothing of any other roadmap or workspace, hidden fields absent from the
bytes, revoked and expired links 404 on the very next request, headers,
conditional GET, the password form with its rate limit, and the Atom feed."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from roadmaps import services, sharing
from roadmaps.models import Commitment, ShareLink
from tests.backlog.factories import make_item
from tests.factories import ObjectiveFactory, ProductFactory

from .conftest import entry_of


@pytest.fixture
def shared(pm, nnl):
    link, token = services.create_share_link(
        pm,
        roadmap=nnl,
        label="Board",
        exclude_tags=["secret"],
        exclude_commitments=[Commitment.EXPLORING],
    )
    return link, token


def page(token, *rest):
    return reverse("roadmaps:shared-roadmap", args=[token]) + "".join(rest)


def test_anyone_sees_entries_and_objectives_but_not_hidden_fields(shared, items, objective, pm):
    _link, token = shared
    # The owner's name must be distinctive: "pm" alone turns up by chance in
    # the random token and CSP nonce of about one page in a hundred.
    pm.first_name, pm.last_name = "Oona", "Ownerby"
    pm.save(update_fields=["first_name", "last_name"])
    response = Client().get(page(token))
    html = response.content
    assert response.status_code == 200
    assert b"Apple Pay" in html and b"SEPA debits" in html and b"Grow conversion" in html
    # Hidden: scores, owners, internal notes, excluded tags and commitments.
    for secret in [
        b"INTERNAL-NOTE-apple",
        b"Project Falcon",
        b"Partner programme",
        b"secret",
        b"Score ",
        b"rm-score",
        b"rm-owner",
        b"rm-note",
        str(pm).encode(),
    ]:
        assert secret not in html, secret
    assert (
        f"{items[0].score:.1f}".encode() not in html
        and f"{items[0].score:,.0f}".encode() not in html
    )
    # Read-only: no CSRF token, no form posting, no edit URLs, no hidden inputs.
    assert b"csrfmiddlewaretoken" not in html and b"X-CSRFToken" not in html
    assert b'method="post"' not in html.lower() and b"/w/acme/" not in html
    assert not re.search(rb'type="?hidden', html)
    assert b"data-version" not in html and b"data-id" not in html


def test_headers_csp_and_conditional_get(shared):
    _link, token = shared
    client = Client()
    first = client.get(page(token))
    assert first["Referrer-Policy"] == "no-referrer"
    assert "noindex" in first["X-Robots-Tag"]
    csp = first["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert b"css/roadmaps.css" in first.content  # holds the print stylesheet
    etag = first["ETag"]
    again = client.get(page(token), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["Referrer-Policy"] == "no-referrer"
    link = ShareLink.objects.get(pk=_link.pk)
    # The first view is written at once; later ones wait in the cache.
    assert link.views >= 1 and link.last_viewed_at is not None
    assert link.views + sharing.pending_views([link]).get(link.pk, 0) == 2


def test_etag_changes_when_the_roadmap_or_an_item_changes(shared, pm, nnl, items):
    from backlog import services as backlog_services

    _link, token = shared
    etag = Client().get(page(token))["ETag"]
    entry = entry_of(nnl, items[1])
    services.move_entry(pm, entry=entry, expected_version=entry.version, column="now")
    moved = Client().get(page(token), HTTP_IF_NONE_MATCH=etag)
    assert moved.status_code == 200 and moved["ETag"] != etag
    etag = moved["ETag"]
    item = items[0]
    item.refresh_from_db()
    backlog_services.update_item(
        pm, item=item, expected_version=item.version, fields={"title": "Apple Pay 2"}
    )
    # Backlog edits reach the shared page once the cached probe expires.
    cache.delete(f"roadmaps:share:{_link.token_hash}")  # as after sharing.PROBE_TTL
    renamed = Client().get(page(token), HTTP_IF_NONE_MATCH=etag)
    assert renamed.status_code == 200 and b"Apple Pay 2" in renamed.content


def test_shared_page_queries_do_not_grow_with_entries(
    shared, pm, nnl, product, objective, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.backlog.factories import bulk_items

    _link, token = shared
    with CaptureQueriesContext(connection) as small:
        Client().get(page(token))
    for item in bulk_items(product, 30):
        item.objectives.add(objective)
        services.add_entry(pm, roadmap=nnl, item=item)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert Client().get(page(token)).content.count(b"<article ") == 32
    etag = Client().get(page(token))["ETag"]
    # The link with its ETag inputs in one query, and the view count in one UPDATE.
    with django_assert_max_num_queries(2):
        assert Client().get(page(token), HTTP_IF_NONE_MATCH=etag).status_code == 304


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_every_write_method_is_refused(shared, method, nnl, items):
    _link, token = shared
    client = Client(enforce_csrf_checks=True)
    entry = entry_of(nnl, items[0])
    for path in [
        page(token),
        reverse("roadmaps:shared-entry", args=[token, entry.pk]),
        reverse("roadmaps:shared-feed", args=[token]),
    ]:
        assert getattr(client, method)(path).status_code in (403, 405), path
    # The unlock endpoint takes POST only for links with a password.
    assert client.post(reverse("roadmaps:shared-unlock", args=[token])).status_code in (403, 405)


def test_entry_of_another_roadmap_or_workspace_is_404(
    shared, pm, workspace, product, timeline, items, stranger
):
    _link, token = shared
    client = Client()
    other_roadmap_entry = entry_of(timeline, items[0])
    assert (
        client.get(
            reverse("roadmaps:shared-entry", args=[token, other_roadmap_entry.pk])
        ).status_code
        == 404
    )
    from pmhub.accounts.models import Workspace

    theirs = ProductFactory(workspace=Workspace.objects.get(slug="other"), key="OTH")
    their_item = make_item(theirs, stranger, title="Their secret")
    their_roadmap = services.create_roadmap(
        stranger, workspace=theirs.workspace, product=theirs, name="T"
    )
    their_entry = services.add_entry(stranger, roadmap=their_roadmap, item=their_item)
    response = client.get(reverse("roadmaps:shared-entry", args=[token, their_entry.pk]))
    assert response.status_code == 404 and b"Their secret" not in response.content
    # Entries the link leaves out are not reachable either.
    hidden = entry_of(_link.roadmap, items[2])
    assert client.get(reverse("roadmaps:shared-entry", args=[token, hidden.pk])).status_code == 404
    shown = entry_of(_link.roadmap, items[0])
    detail = client.get(reverse("roadmaps:shared-entry", args=[token, shown.pk]))
    assert detail.status_code == 200 and b"Grow conversion" in detail.content
    assert (
        b"INTERNAL-NOTE-apple" not in detail.content
        and b"csrfmiddlewaretoken" not in detail.content
    )


def test_revoked_link_is_404_on_the_very_next_request(shared, pm):
    link, token = shared
    client = Client()
    etag = client.get(page(token))["ETag"]
    services.revoke_share_link(pm, link=link)
    assert client.get(page(token)).status_code == 404
    assert client.get(page(token), HTTP_IF_NONE_MATCH=etag).status_code == 404
    assert client.get(reverse("roadmaps:shared-feed", args=[token])).status_code == 404


def test_expired_link_is_404(shared):
    link, token = shared
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert Client().get(page(token)).status_code == 404
    assert Client().get(page("not-a-token")).status_code == 404
    assert Client().get(page("x" * 200)).status_code == 404


def test_coarse_dates_show_quarters_only(pm, timeline):
    services.add_milestone(pm, roadmap=timeline, name="Launch", date=dt.date(2027, 2, 14))
    _link, token = services.create_share_link(pm, roadmap=timeline, label="Q", date_mode="coarse")
    html = Client().get(page(token)).content.decode()
    assert "Q1 2027" in html and "Launch" in html
    assert "14 Feb" not in html and "10 Jan" not in html and "2027-01-10" not in html
    _l2, exact = services.create_share_link(pm, roadmap=timeline, label="E")
    assert "10 Jan 2027" in Client().get(page(exact)).content.decode()


def test_what_changed_since_and_feed_respect_the_link(shared, pm, nnl, items):
    _link, token = shared
    falcon = entry_of(nnl, items[2])  # tagged secret: hidden from this link
    services.remove_entry(pm, entry=falcon)
    sepa = entry_of(nnl, items[1])
    services.move_entry(pm, entry=sepa, expected_version=sepa.version, column="later")
    html = Client().get(page(token, "?since=2000-01-01")).content.decode()
    assert "Slipped" in html and "Next → Later" in html
    assert "Project Falcon" not in html
    feed = Client().get(reverse("roadmaps:shared-feed", args=[token]))
    assert feed.status_code == 200 and feed["Content-Type"].startswith("application/atom+xml")
    body = feed.content.decode()
    assert "Slipped: SEPA debits" in body and "Project Falcon" not in body
    assert feed["X-Robots-Tag"].startswith("noindex")
    assert Client().get(page(token, "?since=garbage")).status_code == 200


def test_what_changed_coalesces_moves_and_leaves_out_moves_nobody_sees(shared, pm, nnl, items):
    """Four moves of one entry in a minute made four rows, and a move back
    to where the entry was still showed (issue 15)."""
    _link, token = shared
    sepa = entry_of(nnl, items[1])
    for column in ("later", "now", "later"):
        sepa.refresh_from_db()
        services.move_entry(pm, entry=sepa, expected_version=sepa.version, column=column)
    apple = entry_of(nnl, items[0])
    before = apple.horizon
    for column in ("later", before):
        apple.refresh_from_db()
        services.move_entry(pm, entry=apple, expected_version=apple.version, column=column)
    html = Client().get(page(token, "?since=2000-01-01")).content.decode()
    changes = html[html.index('class="plain-list rm-changes"') :]
    changes = changes[: changes.index("</ol>")]
    rows = re.findall(r'rm-change-(\w+)">\w+</span> <strong>([^<]+)</strong>(.*?)</li>', changes)
    moves = [(kind, title, re.sub("<[^>]+>", "", rest).strip()) for kind, title, rest in rows]
    moves = [m for m in moves if m[0] in ("moved", "slipped")]
    assert [(k, t) for k, t, _ in moves] == [("slipped", "SEPA debits")]
    assert moves[0][2].startswith("Next → Later")  # from before the first to after the last
    team = services_log_titles(nnl)
    assert team.count("SEPA debits") == 4  # the team's own log keeps every row (1 add, 3 moves)


def services_log_titles(roadmap):
    from roadmaps.models import Change

    return list(Change.objects.filter(roadmap=roadmap).values_list("title", flat=True))


def test_password_asks_again_and_is_rate_limited(pm, nnl):
    _link, token = services.create_share_link(pm, roadmap=nnl, label="P", password="open sesame")
    client = Client()
    ask = client.get(page(token))
    assert (
        ask.status_code == 200
        and b'type="password"' in ask.content
        and b"Apple Pay" not in ask.content
    )
    assert b"csrfmiddlewaretoken" not in ask.content
    unlock = reverse("roadmaps:shared-unlock", args=[token])
    wrong = client.post(unlock, {"password": "nope"})
    assert wrong.status_code == 403 and b'type="password"' in wrong.content
    assert client.get(reverse("roadmaps:shared-feed", args=[token])).status_code == 404
    right = client.post(unlock, {"password": "open sesame"})
    assert right.status_code == 303
    assert b"Apple Pay" in client.get(page(token)).content
    other = Client()  # same address: the wrong attempt above counts too
    for _ in range(services.PASSWORD_ATTEMPTS - 1):
        assert other.post(unlock, {"password": "guess"}).status_code == 403
    limited = other.post(unlock, {"password": "open sesame"})
    assert limited.status_code == 429 and limited["Retry-After"]
    assert b'type="password"' in limited.content


def test_another_objective_of_the_product_is_not_listed_when_unused(shared, product):
    ObjectiveFactory(product=product, title="Unrelated internal objective")
    _link, token = shared
    assert b"Unrelated internal objective" not in Client().get(page(token)).content


@pytest.mark.django_db(transaction=True)
def test_a_backlog_status_change_refreshes_the_shared_page_at_once(shared, pm, items):
    from backlog import services as backlog_services

    _link, token = shared
    etag = Client().get(page(token))["ETag"]
    item = items[1]
    item.refresh_from_db()
    backlog_services.update_item(
        pm, item=item, expected_version=item.version, fields={"status": "in_progress"}
    )
    fresh = Client().get(page(token), HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200 and fresh["ETag"] != etag


def test_deleted_roadmap_is_404_on_the_very_next_request(shared, pm, nnl):
    """Deleting the roadmap drops its links' cached probes, as a revocation does."""
    _link, token = shared
    client = Client()
    etag = client.get(page(token))["ETag"]
    services.delete_roadmap(pm, roadmap=nnl)
    assert client.get(page(token), HTTP_IF_NONE_MATCH=etag).status_code == 404
    assert client.get(page(token)).status_code == 404


def test_deleted_product_is_404_on_the_very_next_request(shared, pm, nnl, product):
    """The links also go when the roadmap's product is deleted (a cascade)."""
    from products import services as product_services

    _link, token = shared
    client = Client()
    etag = client.get(page(token))["ETag"]
    product_services.delete_product(pm, product=product)
    assert client.get(page(token), HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_etag_changes_when_an_item_on_the_roadmap_is_deleted(shared, pm, nnl, items):
    """Deleting a backlog item takes its entry off the roadmap: the ETag must
    change, or readers holding the old page keep seeing the item (304)."""
    from backlog import services as backlog_services

    link, token = shared
    card = f'id="entry-{entry_of(nnl, items[1]).pk}"'.encode()
    first = Client().get(page(token))
    assert card in first.content
    item = items[1]
    item.refresh_from_db()
    backlog_services.delete_item(pm, item=item, expected_version=item.version)
    cache.delete(f"roadmaps:share:{link.token_hash}")  # as after sharing.PROBE_TTL
    again = Client().get(page(token), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and card not in again.content


def test_etag_changes_when_an_objective_is_deleted(shared, pm, nnl, items, objective, product):
    """Deleting an objective takes it off the cards and the "why" list; no
    remaining row's time changes, so the ETag counts the objectives."""
    from products import services as product_services
    from tests.factories import ObjectiveFactory

    ObjectiveFactory(product=product, title="Newer objective")  # the newest updated_at
    link, token = shared
    first = Client().get(page(token))
    assert b"Grow conversion" in first.content
    objective.refresh_from_db()
    product_services.delete_objective(pm, objective=objective)
    cache.delete(f"roadmaps:share:{link.token_hash}")  # as after sharing.PROBE_TTL
    again = Client().get(page(token), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and b"Grow conversion" not in again.content
