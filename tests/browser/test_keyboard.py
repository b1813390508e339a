"""Keyboard first, in Chromium: the command palette, the "?" overlay, the
backlog as a grid (one tab stop, j/k, e/s/x, Alt+arrows), undo with its
toast, the backlog on one screen at 1 440 × 900 and at 390 px, the first
run — and the done-when walkthrough without the mouse."""

import pytest
from playwright.sync_api import expect

from backlog import services
from backlog.models import Item
from roadmaps.models import Entry, Layout, Roadmap
from tests.backlog.factories import make_item

from .conftest import document_kept, mark_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BACKLOG = "/w/acme/p/PAY/backlog/"


@pytest.fixture
def items(product, pm):
    return [make_item(product, pm, title=f"Item {n}") for n in range(1, 6)]


def row_titles(page):
    return page.locator("#backlog-rows tr[data-id] td.col-title .cell-btn").all_inner_texts()


def focused_row_id(page):
    return page.evaluate(
        "document.activeElement.closest('tr') && document.activeElement.closest('tr').dataset.id"
    )


def open_palette(page):
    # After a navigation, wait for the page's scripts (deferred) to listen.
    page.wait_for_load_state("load")
    page.keyboard.press("Control+k")
    expect(page.locator("#palette")).to_be_visible()
    expect(page.locator("#palette-input")).to_be_focused()


def palette_choose(page, text, first_label):
    """Type into the palette and wait until the first option is ``first_label``."""
    page.keyboard.type(text)
    option = page.locator('#palette-list [role="option"][aria-selected="true"]')
    expect(option.locator(".palette-label")).to_have_text(first_label)
    return option


def test_palette_jumps_to_an_item_by_words_of_its_title(
    live_server, page, login, pm, product, browser_errors
):
    make_item(product, pm, title="Invoice PDFs for admins")
    make_item(product, pm, title="Refund flow")
    login(pm)
    page.goto(live_server.url + "/w/acme/")
    open_palette(page)
    field = page.locator("#palette-input")
    assert field.get_attribute("role") == "combobox"
    palette_choose(page, "refund", "PAY-2 Refund flow")
    active = page.locator('#palette-list [role="option"][aria-selected="true"]')
    assert field.get_attribute("aria-activedescendant") == active.get_attribute("id")
    expect(page.locator("#palette-status")).to_contain_text("result")
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server.url + "/w/acme/p/PAY/backlog/items/2/")
    # Escape closes it and gives the focus back.
    open_palette(page)
    page.keyboard.press("Escape")
    expect(page.locator("#palette")).to_be_hidden()
    # A search that a newer one (or closing) made moot is aborted on purpose.
    assert [e for e in browser_errors if not ("/palette/" in e and "ERR_ABORTED" in e)] == []
    assert page.evaluate("window.__cspViolations") == []


def test_palette_arrow_keys_choose_another_option(live_server, page, login, pm, product):
    make_item(product, pm, title="Alpha report")
    make_item(product, pm, title="Alpha export")
    login(pm)
    page.goto(live_server.url + BACKLOG)
    open_palette(page)
    palette_choose(page, "alpha", "PAY-2 Alpha export")
    page.keyboard.press("ArrowDown")
    active = page.locator('#palette-list [role="option"][aria-selected="true"] .palette-label')
    expect(active).to_have_text("PAY-1 Alpha report")
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server.url + "/w/acme/p/PAY/backlog/items/1/")


def test_question_mark_lists_the_shortcuts_but_not_while_typing(
    live_server, page, login, pm, items
):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    page.locator("#q").focus()
    page.keyboard.type("?")
    expect(page.locator("#shortcuts")).to_be_hidden()
    expect(page.locator("#q")).to_have_value("?")
    page.locator("#q").fill("")
    page.locator("h1").click()
    page.keyboard.press("?")
    help_dialog = page.locator("#shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Select the item for a bulk edit")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()


def test_backlog_table_is_one_tab_stop_with_arrow_keys_inside(live_server, page, login, pm, items):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    stops = page.evaluate(
        """Array.from(document.querySelectorAll('table[data-grid] tbody *'))
             .filter(el => el.tabIndex >= 0 && !el.disabled).length"""
    )
    assert stops == 1
    assert page.locator("table[data-grid]").get_attribute("role") == "grid"
    page.locator("#q").focus()
    # Tab from the filter bar reaches the table's one stop: the first row.
    for _ in range(30):
        page.keyboard.press("Tab")
        if focused_row_id(page):
            break
    assert focused_row_id(page) == str(items[0].pk)
    page.keyboard.press("j")
    assert focused_row_id(page) == str(items[1].pk)
    page.keyboard.press("ArrowDown")
    assert focused_row_id(page) == str(items[2].pk)
    page.keyboard.press("k")
    assert focused_row_id(page) == str(items[1].pk)
    # → goes into the row's cells, Esc back to the row.
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.tagName") != "TR"
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.tagName") == "TR"
    # One Tab leaves the table (no stop per cell).
    page.keyboard.press("Tab")
    assert focused_row_id(page) is None


def test_x_selects_and_the_bulk_bar_appears_only_then(live_server, page, login, pm, items):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    bar = page.locator("#bulk-form")
    expect(bar).to_be_hidden()
    page.locator(f"#row-{items[0].pk}").focus()
    page.keyboard.press("x")
    expect(bar).to_be_visible()
    expect(bar.locator("[data-bulk-count]")).to_have_text("1")
    page.keyboard.press("x")
    expect(bar).to_be_hidden()


def test_e_edits_the_title_and_s_the_status(live_server, page, login, pm, items):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    mark_document(page)
    page.locator(f"#row-{items[1].pk}").focus()
    page.keyboard.press("e")
    field = page.locator(f"#row-{items[1].pk} form[data-cell-editor] input[name=value]")
    expect(field).to_be_focused()
    # Typing in the editor never fires a shortcut ("j", "x" are letters here).
    page.keyboard.press("Control+a")
    page.keyboard.type("Fix the jx bug")
    page.keyboard.press("Enter")
    expect(page.locator(f"#row-{items[1].pk}")).to_contain_text("Fix the jx bug")
    assert Item.objects.get(pk=items[1].pk).title == "Fix the jx bug"
    page.locator(f"#row-{items[2].pk}").focus()
    page.keyboard.press("s")
    expect(
        page.locator(f'#row-{items[2].pk} form[data-cell-editor] select[name="value"]')
    ).to_be_focused()
    assert document_kept(page)


def test_alt_arrows_rank_the_focused_row_and_keep_focus(live_server, page, login, pm, items):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    page.locator(f"#row-{items[3].pk}").focus()
    with page.expect_response(lambda r: "/move/" in r.url):
        page.keyboard.press("Alt+ArrowUp")
    expect(page.locator("#backlog-rows tr[data-id]").nth(2)).to_have_id(f"row-{items[3].pk}")
    assert focused_row_id(page) == str(items[3].pk)
    with page.expect_response(lambda r: "/move/" in r.url):
        page.keyboard.press("Alt+Home")
    expect(page.locator("#backlog-rows tr[data-id]").first).to_have_id(f"row-{items[3].pk}")
    page.reload()
    assert row_titles(page) == ["Item 4", "Item 1", "Item 2", "Item 3", "Item 5"]


def bulk_archive_in_the_page(page, rows):
    for row in rows:
        page.locator(f"#row-{row.pk}").focus()
        page.keyboard.press("x")
    bar = page.locator("#bulk-form")
    bar.locator('select[name="status"]').select_option("archived")
    bar.locator('input[name="status_reason"]').fill("Old")
    bar.get_by_role("button", name="Apply to selected").click()


def test_undo_a_bulk_edit_from_the_toast(live_server, page, login, pm, items):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    bulk_archive_in_the_page(page, items[:2])
    toast = page.locator("[data-undo-toast]")
    expect(toast).to_contain_text("Updated 2 items.")
    assert toast.evaluate("el => el.closest('[aria-live]') !== null")
    assert set(
        Item.objects.filter(pk__in=[i.pk for i in items[:2]]).values_list("status", flat=True)
    ) == {"archived"}
    page.keyboard.press("Control+z")
    expect(page.locator("#messages")).to_contain_text("Undone: 2 items are as they were.")
    assert set(
        Item.objects.filter(pk__in=[i.pk for i in items[:2]]).values_list("status", flat=True)
    ) == {"idea"}


def test_undo_is_refused_after_someone_else_changed_the_item(
    live_server, page, login, pm, teammate, items
):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    bulk_archive_in_the_page(page, items[:2])
    toast = page.locator("[data-undo-toast]")
    expect(toast).to_be_visible()
    theirs = Item.objects.get(pk=items[0].pk)
    services.update_item(
        teammate, item=theirs, expected_version=theirs.version, fields={"title": "Theirs"}
    )
    toast.get_by_role("button", name="Undo").click()
    expect(page.locator("#messages")).to_contain_text(
        "Not undone: someone else changed PAY-1 since."
    )
    assert Item.objects.get(pk=items[1].pk).status == "archived"


def test_archiving_in_a_cell_shows_the_undo_toast_without_a_reload(
    live_server, page, login, pm, items
):
    login(pm)
    page.goto(live_server.url + BACKLOG)
    mark_document(page)
    page.locator(f"#row-{items[0].pk}").focus()
    page.keyboard.press("s")
    editor = page.locator(f"#row-{items[0].pk} form[data-cell-editor]")
    editor.locator('input[name="status_reason"]').fill("Stale")
    # Choosing a status saves it (the reason is filled in).
    editor.locator('select[name="value"]').select_option("archived")
    toast = page.locator("[data-undo-toast]")
    expect(toast).to_contain_text("PAY-1 archived.")
    assert document_kept(page)
    toast.get_by_role("button", name="Undo").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#messages")).to_contain_text("Undone: PAY-1 is as it was.")
    assert Item.objects.get(pk=items[0].pk).status == "idea"


@pytest.fixture
def long_backlog(product, pm, objective):
    rows = []
    for n in range(1, 16):
        rows.append(
            make_item(
                product,
                pm,
                title=f"A realistic backlog item title number {n} about checkout and invoices",
                tags=["web", "checkout"],
                objectives=[objective],
                owner=pm,
                effort=3,
                value=8,
            )
        )
    return rows


def test_top_ten_items_fit_a_1440_by_900_screen(live_server, page, login, pm, long_backlog):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(pm)
    page.goto(live_server.url + BACKLOG)
    tenth = page.locator("#backlog-rows tr[data-id]").nth(9).bounding_box()
    assert tenth["y"] + tenth["height"] <= 900, tenth
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    table = page.locator("table[data-grid]").bounding_box()
    assert table["x"] + table["width"] <= 1440
    # The ⤒ ↑ ↓ column is on screen.
    down = page.get_by_role("button", name=f"Move {long_backlog[0].key} down").bounding_box()
    assert down["x"] + down["width"] <= 1440


def test_columns_are_chosen_and_saved_with_a_view(live_server, page, login, pm, long_backlog):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(pm)
    page.goto(live_server.url + BACKLOG)
    header = page.locator("table[data-grid] thead th", has_text="Tags")
    expect(header).to_be_visible()
    page.get_by_text("Columns", exact=True).click()
    page.locator('input[name="cols"][value="tags"]').uncheck()
    expect(header).to_be_hidden()
    page.goto(page.url)  # the URL holds the columns
    expect(page.locator("table[data-grid] thead th", has_text="Tags")).to_be_hidden()


def test_backlog_is_cards_on_a_phone(live_server, page, login, pm, long_backlog):
    page.set_viewport_size({"width": 390, "height": 844})
    login(pm)
    page.goto(live_server.url + BACKLOG)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    row = page.locator("#backlog-rows tr[data-id]").first.bounding_box()
    assert row["width"] <= 390


def test_first_run_walks_to_the_next_step(live_server, page, login, pm, workspace):
    login(pm)
    page.goto(live_server.url + "/w/acme/")
    checklist = page.locator(".first-run")
    expect(checklist).to_contain_text("Create a product")
    next_step = checklist.locator(".is-next a")
    expect(next_step).to_have_text("Create a product")
    next_step.click()
    page.locator("#id_name").fill("Payments")
    page.locator("#id_key").fill("PAY")
    page.get_by_role("button", name="Create product").click()
    # The next step is one click away on the page the product opens on.
    expect(page.locator(".next-step")).to_contain_text("Write its vision")
    page.locator(".next-step a").first.click()
    expect(page).to_have_url(live_server.url + "/w/acme/p/PAY/vision/edit/")


def test_walkthrough_five_items_ranked_and_a_roadmap_without_the_mouse(
    live_server, page, login, pm, product
):
    """Done when: a PM adds five items, ranks them with the keyboard only,
    and builds a Now/Next/Later roadmap from the command palette."""
    login(pm)
    page.goto(live_server.url + BACKLOG)
    page.locator("h1").focus()
    titles = ["Checkout in one click", "Refund flow", "Dark mode", "SSO login", "Invoice PDFs"]
    page.keyboard.press("n")
    expect(page.locator("#id_title")).to_be_focused()
    for title in titles:
        page.keyboard.press("Control+a")
        page.keyboard.type(title)
        with page.expect_response(lambda r: "/items/new/" in r.url):
            page.keyboard.press("Enter")
        expect(page.locator("#backlog-rows")).to_contain_text(title)
    assert Item.objects.filter(product=product).count() == 5
    # Each quick add lands on top of the manual order, where it is shown:
    # Invoice PDFs, SSO login, Dark mode, Refund flow, Checkout in one click.
    # Rank with the keyboard: Checkout to the top, Dark mode up one.
    page.keyboard.press("Escape")
    page.locator("#id_title").evaluate("el => el.blur()")
    page.keyboard.press("j")
    for _ in range(4):
        page.keyboard.press("j")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").endswith(
        "Checkout in one click"
    )
    with page.expect_response(lambda r: "/move/" in r.url):
        page.keyboard.press("Alt+Home")
    for _ in range(3):
        page.keyboard.press("j")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").endswith("Dark mode")
    with page.expect_response(lambda r: "/move/" in r.url):
        page.keyboard.press("Alt+ArrowUp")
    ranked = list(
        Item.objects.filter(product=product).order_by("rank").values_list("title", flat=True)
    )
    assert ranked == [
        "Checkout in one click",
        "Invoice PDFs",
        "Dark mode",
        "SSO login",
        "Refund flow",
    ]

    # A Now/Next/Later roadmap from the palette…
    open_palette(page)
    palette_choose(page, "Launch plan", "New Now/Next/Later roadmap “Launch plan”")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Launch plan")
    roadmap = Roadmap.objects.get(name="Launch plan")
    assert roadmap.layout == Layout.NOW_NEXT_LATER
    # …and each item placed from the palette, on the item's page.
    plan = {"PAY-5": "Now", "PAY-1": "Now", "PAY-3": "Next", "PAY-2": "Later"}
    for key, horizon in plan.items():
        open_palette(page)
        palette_choose(page, key, f"{key} {Item.objects.get(key=key).title}")
        page.keyboard.press("Enter")
        expect(page).to_have_title(f"{key} {Item.objects.get(key=key).title} · PMHub")
        open_palette(page)
        palette_choose(page, horizon.lower(), f"Move to {horizon} on “Launch plan”")
        page.keyboard.press("Enter")
        expect(page.locator("#messages")).to_contain_text(
            f"{key} is in {horizon} on “Launch plan”."
        )
    placed = dict(Entry.objects.filter(roadmap=roadmap).values_list("item__key", "horizon"))
    assert placed == {"PAY-5": "now", "PAY-1": "now", "PAY-3": "next", "PAY-2": "later"}
