"""Live updates in Chromium, two people in two browser contexts: a card one
moves shows up moved on the other's board without a reload; a cell the other
is editing is never overwritten (the message shows, the save is refused); a
stranger's stream gets nothing from the workspace; a dropped stream resumes
from its Last-Event-ID with every change exactly once.

The 2-second goal is measured by ``make bench`` (bench/live.py); here the
waits are Playwright's usual ones."""

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from backlog import services as backlog_services
from backlog.models import Item
from roadmaps import services
from roadmaps.models import Entry, Horizon, Layout
from tests.backlog.factories import make_item, make_rice_item
from tests.factories import ProductFactory

from .conftest import DEFAULT_TIMEOUT_MS, document_kept, mark_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BACKLOG = "/w/acme/p/PAY/backlog/"
RECORDER = """
window.__live = [];
document.addEventListener("pmhub:live", (e) => window.__live.push(e.detail));
"""


@pytest.fixture
def second(browser, live_server):
    """Open pages as another person, in a browser context of their own."""
    contexts = []

    def open_as(user):
        context = browser.new_context()
        contexts.append(context)
        client = Client()
        client.force_login(user)
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
        other = context.new_page()
        other.set_default_timeout(DEFAULT_TIMEOUT_MS)
        return other

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def roadmap(workspace, product, pm):
    roadmap = services.create_roadmap(
        pm, workspace=workspace, product=product, name="Team roadmap", layout=Layout.NOW_NEXT_LATER
    )
    for title, horizon in [("Apple Pay", Horizon.NOW), ("SEPA debits", Horizon.NEXT)]:
        item = make_item(product, pm, title=title, status="planned")
        services.add_entry(pm, roadmap=roadmap, item=item, horizon=horizon)
    return roadmap


def test_a_card_moved_by_one_moves_on_the_others_board(
    live_server, page, login, second, pm, teammate, roadmap, browser_errors
):
    url = f"{live_server.url}/w/acme/roadmaps/{roadmap.pk}/"
    watcher = second(teammate)
    watcher.goto(url)
    mark_document(watcher)
    login(pm)
    page.goto(url)
    # Each sees the other on the page.
    expect(watcher.locator("#live-people .live-person")).to_have_count(1)
    expect(page.locator("#live-people .live-person")).to_have_count(1)
    entry = Entry.objects.get(item__title="SEPA debits")
    page.locator(f"#entry-{entry.pk}").focus()
    # The watcher sees which card the PM is on.
    expect(watcher.locator(f"#entry-{entry.pk} .live-who")).to_be_visible()
    with page.expect_response(lambda r: "/move/" in r.url) as moved:
        page.keyboard.press("Alt+ArrowLeft")
    assert moved.value.status == 200
    expect(watcher.locator(f'.rm-col[data-column="now"] #entry-{entry.pk}')).to_be_visible()
    assert document_kept(watcher)
    assert browser_errors == []


def test_a_cell_being_edited_is_never_overwritten(
    live_server, page, login, second, pm, teammate, product
):
    items = [make_rice_item(product, pm, title=f"Item {n}", reach=10 * n) for n in range(1, 4)]
    target = items[1]
    editor_page = second(teammate)
    editor_page.goto(live_server.url + BACKLOG)
    editor_page.locator(f"#row-{target.pk} td.col-title .cell-btn").click()
    field = editor_page.locator(f"#row-{target.pk} form[data-cell-editor] input[name=value]")
    expect(field).to_be_focused()
    field.fill("The teammate's words")
    # The PM sees who edits which row, then changes the same item.
    login(pm)
    page.goto(live_server.url + BACKLOG)
    expect(page.locator(f"#row-{target.pk} .live-who")).to_be_visible()
    page.locator(f"#row-{target.pk} td.col-title .cell-btn").click()
    mine = page.locator(f"#row-{target.pk} form[data-cell-editor] input[name=value]")
    mine.fill("The PM's title")
    mine.press("Enter")
    expect(page.locator(f"#row-{target.pk}")).to_contain_text("The PM's title")
    # The teammate's editor stays as typed, and says what happened.
    notice = editor_page.locator(f"#row-{target.pk} .live-notice")
    expect(notice).to_contain_text(re.compile(r"Changed by \w+"))
    expect(field).to_have_value("The teammate's words")
    # Another row changed meanwhile is swapped in place on the teammate's page.
    other = Item.objects.get(pk=items[0].pk)
    backlog_services.update_item(
        pm, item=other, expected_version=other.version, fields={"title": "Renamed by the PM"}
    )
    expect(editor_page.locator(f"#row-{other.pk}")).to_contain_text("Renamed by the PM")
    expect(field).to_have_value("The teammate's words")
    field.press("Enter")
    expect(editor_page.locator(f"#row-{target.pk} .conflict")).to_contain_text(
        "someone else changed"
    )
    assert Item.objects.get(pk=target.pk).title == "The PM's title"


def test_a_strangers_stream_gets_nothing_from_the_workspace(
    live_server, page, login, pm, stranger, product
):
    login(stranger)
    page.add_init_script(RECORDER)
    response = page.request.get(f"{live_server.url}/w/acme/live/")
    assert response.status == 404
    theirs = ProductFactory(workspace=stranger.memberships.get().workspace, name="Other", key="OTH")
    page.goto(f"{live_server.url}/w/other/p/OTH/backlog/")
    page.wait_for_function("() => document.getElementById('live').hidden === false")
    make_item(product, pm, title="Acme secret")
    sentinel = make_item(theirs, stranger, title="Their own")
    page.wait_for_function("() => window.__live.length >= 1")
    got = page.evaluate("window.__live.map((c) => c.key)")
    assert got == [sentinel.key]


def test_a_dropped_stream_resumes_with_every_change_once(
    live_server, page, login, pm, teammate, product, settings
):
    settings.LIVE_POLL_SECONDS = 1
    settings.LIVE_STREAM_SECONDS = 2  # the server ends streams often: each resumes
    login(pm)
    page.add_init_script(RECORDER)
    page.goto(live_server.url + BACKLOG)
    mark_document(page)
    made = [make_item(product, teammate, title=f"Before the drop {n}") for n in range(2)]
    page.wait_for_function("() => window.__live.length >= 2")
    # A proxy drops the stream and refuses new ones: the banner says so.
    blocked = re.compile(r"/live/\?since=")
    page.route(blocked, lambda route: route.abort())
    page.wait_for_timeout(2500)  # past the stream's lifetime: the open one has ended
    expect(page.locator("#live-paused")).to_be_visible()
    made += [make_item(product, teammate, title=f"While away {n}") for n in range(3)]
    page.unroute(blocked)
    expect(page.locator("#live-paused")).to_be_hidden()
    made += [make_item(product, teammate, title="After the return")]
    page.wait_for_function(f"() => window.__live.length >= {len(made)}")
    page.wait_for_timeout(2500)  # another resume: nothing comes twice
    got = page.evaluate("window.__live.filter((c) => c.verb === 'item.created')")
    assert [c["key"] for c in got] == [item.key for item in made]
    ids = page.evaluate("window.__live.map((c) => c.event_id)")
    assert len(ids) == len(set(ids))
    assert document_kept(page)
    # The new rows are on the page too, without a reload.
    expect(page.locator(f"#row-{made[-1].pk}")).to_be_visible()
