"""The backlog as a product manager uses it, in Chromium: drag-and-drop
ranking that survives a reload, and an inline edit against a stale version."""

import re

import pytest
from playwright.sync_api import expect

from backlog import services
from backlog.models import Item, SavedView
from tests.backlog.factories import make_rice_item

from .conftest import document_kept, mark_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BACKLOG = "/w/acme/p/PAY/backlog/"


@pytest.fixture
def items(product, pm):
    return [make_rice_item(product, pm, title=f"Item {n}", reach=10 * n) for n in range(1, 6)]


def row_titles(page):
    return page.locator("#backlog-rows tr[data-id] td.col-title .cell-btn").all_inner_texts()


def test_pm_drags_an_item_to_the_top_and_it_stays_there(
    live_server, page, login, pm, items, browser_errors
):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    assert row_titles(page) == ["Item 1", "Item 2", "Item 3", "Item 4", "Item 5"]
    source = page.locator(f"#row-{items[3].pk} .handle")
    target = page.locator(f"#row-{items[0].pk} .handle")
    src, dst = source.bounding_box(), target.bounding_box()
    # Pauses between the steps keep SortableJS's drag detection reliable on
    # a loaded machine (it starts a drag only after the pointer has moved).
    page.mouse.move(src["x"] + 4, src["y"] + 4)
    page.mouse.down()
    page.wait_for_timeout(150)
    page.mouse.move(src["x"] + 4, src["y"] - 6, steps=4)
    page.wait_for_timeout(150)
    page.mouse.move(dst["x"] + 4, dst["y"] + 6, steps=20)
    page.wait_for_timeout(150)
    page.mouse.move(dst["x"] + 4, dst["y"] - 2, steps=8)
    page.wait_for_timeout(300)
    with page.expect_response(lambda r: "/move/" in r.url) as moved:
        page.mouse.up()
    assert moved.value.status == 204
    assert row_titles(page)[0] == "Item 4"
    page.reload()
    assert row_titles(page) == ["Item 4", "Item 1", "Item 2", "Item 3", "Item 5"]
    assert next(iter(Item.objects.order_by("rank").values_list("title", flat=True))) == "Item 4"
    assert browser_errors == []
    assert page.evaluate("window.__cspViolations") == []


def test_keyboard_alternative_moves_an_item_to_the_top(live_server, page, login, pm, items):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    page.get_by_role("button", name="Move PAY-3 to top").click()
    expect(page.locator("#backlog-rows tr[data-id]").first).to_contain_text("Item 3")


def test_up_and_down_buttons_move_in_place_and_keep_focus_for_a_second_press(
    live_server, page, login, pm, items
):
    """The ⤒ ↑ ↓ buttons reloaded the page and lost focus: pressing twice failed."""
    login(pm)
    page.goto(live_server.url + BACKLOG)
    mark_document(page)
    down = page.get_by_role("button", name="Move PAY-1 down")
    down.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#move-status")).to_have_text("Moved PAY-1 down.")
    expect(down).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#backlog-rows tr[data-id]").nth(2)).to_contain_text("Item 1")
    expect(down).to_be_focused()
    assert document_kept(page)
    ranked = list(Item.objects.order_by("rank").values_list("title", flat=True))
    assert ranked[:3] == ["Item 2", "Item 3", "Item 1"]


def test_inline_edit_with_a_stale_version_shows_the_conflict(
    live_server, page, login, pm, teammate, items
):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    mark_document(page)
    page.locator(f"#row-{items[1].pk} td.col-title .cell-btn").click()
    editor = page.locator(f"#row-{items[1].pk} form[data-cell-editor]")
    expect(editor).to_be_visible()
    # Meanwhile a teammate renames the same item.
    item = Item.objects.get(pk=items[1].pk)
    services.update_item(
        teammate, item=item, expected_version=item.version, fields={"title": "Teammate's title"}
    )
    editor.locator("input[name=value]").fill("My title")
    editor.locator("input[name=value]").press("Enter")
    row = page.locator(f"#row-{items[1].pk}")
    expect(row.locator(".conflict")).to_contain_text("someone else changed")
    expect(row).to_contain_text("Teammate's title")
    assert Item.objects.get(pk=items[1].pk).title == "Teammate's title"
    assert document_kept(page)


def test_inline_edit_saves_without_reloading(live_server, page, login, pm, items):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    mark_document(page)
    page.locator(f"#row-{items[0].pk} td.col-title .cell-btn").click()
    field = page.locator(f"#row-{items[0].pk} form[data-cell-editor] input[name=value]")
    expect(field).to_be_focused()
    field.fill("Renamed in place")
    field.press("Enter")
    expect(page.locator(f"#row-{items[0].pk}")).to_contain_text("Renamed in place")
    assert document_kept(page)
    assert Item.objects.get(pk=items[0].pk).title == "Renamed in place"


def test_quick_add_clears_shows_the_row_on_top_and_never_duplicates(
    live_server, page, login, pm, product, items
):
    """Quick add gave no feedback: the input kept its text, the row landed far
    below the fold, and Enter again made a duplicate."""
    login(pm)
    page.goto(live_server.url + BACKLOG)
    mark_document(page)
    title = page.locator("form[data-quick-add] input[name=title]")
    title.fill("Offline mode")
    title.press("Enter")
    added = Item.objects.filter(product=product, title="Offline mode")
    expect(page.locator(".quick-add-status")).to_contain_text("at the top of the backlog")
    expect(title).to_have_value("")
    expect(title).to_be_focused()
    first = page.locator("#backlog-rows tr[data-id]").first
    expect(first).to_contain_text("Offline mode")
    expect(first).to_have_class("just-added")
    # Enter again on the now empty input adds nothing (the browser asks for a
    # title); a title of spaces is refused by the server in the status line.
    title.press("Enter")
    title.fill("   ")
    title.press("Enter")
    expect(page.locator(".quick-add-status")).to_have_text("Give the item a title.")
    expect(title).to_have_attribute("aria-invalid", "true")
    assert added.count() == 1
    assert Item.objects.filter(product=product).order_by("rank").first().title == "Offline mode"
    assert page.locator("#backlog-rows tr[data-id]").count() == len(items) + 1
    assert document_kept(page)


def test_saving_a_view_after_filtering_on_the_page_keeps_the_filter(
    live_server, page, login, pm, product, items
):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    page.locator("#q").fill("Item 3")
    expect(page).to_have_url(re.compile(r"q=Item%203"))
    expect(page.locator("#backlog-rows tr[data-id]")).to_have_count(1)
    page.locator(".views-menu summary").click()
    page.locator("#save-view-form input[name=name]").fill("Third")
    page.locator("#save-view-form button").click()
    expect(page.locator(".saved-views")).to_contain_text("Third")
    saved = SavedView.objects.get(product=product, name="Third").query
    assert saved.startswith("q=Item+3&sort=rank")  # and the columns shown
