"""Roadmaps in Chromium: the PM drags an entry from Next to Now and it stays
there after a reload; a stale drag shows the conflict; the timeline moves
with the keyboard; a stakeholder without an account opens the share link,
sees the entry and its objective and none of the hidden fields, and gets a
404 once the link is revoked."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from roadmaps import services
from roadmaps.models import Commitment, Entry, Horizon, Layout
from tests.backlog.factories import make_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def roadmap(workspace, product, pm, objective):
    roadmap = services.create_roadmap(
        pm, workspace=workspace, product=product, name="Exec roadmap", layout=Layout.NOW_NEXT_LATER
    )
    apple = make_item(
        product,
        pm,
        title="Apple Pay",
        status="in_progress",
        objectives=[objective],
        owner=pm,
        reach=1000,
        impact=2,
        confidence=80,
        effort=2,
    )
    sepa = make_item(
        product,
        pm,
        title="SEPA debits",
        status="planned",
        objectives=[objective],
        reach=500,
        impact=1,
        confidence=50,
        effort=1,
    )
    falcon = make_item(product, pm, title="Project Falcon", status="candidate", tags=["secret"])
    services.add_entry(
        pm,
        roadmap=roadmap,
        item=apple,
        horizon=Horizon.NOW,
        commitment=Commitment.COMMITTED,
        note="INTERNAL: needs a second engineer",
    )
    services.add_entry(
        pm, roadmap=roadmap, item=sepa, horizon=Horizon.NEXT, note="INTERNAL: legal review pending"
    )
    services.add_entry(pm, roadmap=roadmap, item=falcon, horizon=Horizon.LATER)
    return roadmap


def column_titles(page, column):
    return page.locator(f'.rm-col[data-column="{column}"] .rm-title').all_inner_texts()


def drag(page, source, target):
    src, dst = source.bounding_box(), target.bounding_box()
    page.mouse.move(src["x"] + 12, src["y"] + 8)
    page.mouse.down()
    page.wait_for_timeout(150)
    page.mouse.move(src["x"] + 12, src["y"] + 18, steps=4)
    page.wait_for_timeout(150)
    page.mouse.move(dst["x"] + 20, dst["y"] + dst["height"] - 6, steps=20)
    page.wait_for_timeout(150)
    page.mouse.move(dst["x"] + 22, dst["y"] + dst["height"] - 2, steps=6)
    page.wait_for_timeout(300)


def test_pm_drags_an_entry_from_next_to_now_and_it_stays(
    live_server, page, login, pm, roadmap, browser_errors
):
    login(pm)
    page.goto(f"{live_server.url}/w/acme/roadmaps/{roadmap.pk}/")
    assert column_titles(page, "next") == ["SEPA debits"]
    sepa = page.locator('.rm-col[data-column="next"] .rm-card').first
    apple = page.locator('.rm-col[data-column="now"] .rm-card').first
    drag(page, sepa, apple)
    with page.expect_response(lambda r: "/move/" in r.url) as moved:
        page.mouse.up()
    assert moved.value.status == 200
    page.reload()
    assert sorted(column_titles(page, "now")) == ["Apple Pay", "SEPA debits"]
    assert column_titles(page, "next") == []
    assert Entry.objects.get(item__title="SEPA debits").horizon == Horizon.NOW
    assert browser_errors == []
    assert page.evaluate("window.__cspViolations") == []


def test_stale_drag_shows_the_conflict_and_overwrites_nothing(
    live_server, page, login, pm, teammate, roadmap
):
    login(pm)
    page.goto(f"{live_server.url}/w/acme/roadmaps/{roadmap.pk}/")
    entry = Entry.objects.get(item__title="SEPA debits")
    services.update_entry(
        teammate,
        entry=entry,
        expected_version=entry.version,
        fields={"commitment": Commitment.COMMITTED},
    )
    sepa = page.locator('.rm-col[data-column="next"] .rm-card').first
    apple = page.locator('.rm-col[data-column="now"] .rm-card').first
    drag(page, sepa, apple)
    with page.expect_response(lambda r: "/move/" in r.url) as moved:
        page.mouse.up()
    assert moved.value.status == 412
    expect(page.locator("#rm-conflict")).to_contain_text("Nothing was overwritten")
    expect(page.locator('.rm-col[data-column="next"] .rm-title')).to_have_text(["SEPA debits"])
    fresh = Entry.objects.get(pk=entry.pk)
    assert (fresh.horizon, fresh.commitment) == (Horizon.NEXT, Commitment.COMMITTED)


def test_timeline_bar_moves_with_the_keyboard(live_server, page, login, pm, workspace, product):
    timeline = services.create_roadmap(
        pm,
        workspace=workspace,
        product=product,
        name="Delivery",
        layout=Layout.TIMELINE,
        start_date=dt.date(2027, 1, 1),
        periods=6,
    )
    item = make_item(product, pm, title="Checkout redesign")
    entry = services.add_entry(
        pm,
        roadmap=timeline,
        item=item,
        start_date=dt.date(2027, 1, 5),
        end_date=dt.date(2027, 2, 28),
    )
    login(pm)
    page.goto(f"{live_server.url}/w/acme/roadmaps/{timeline.pk}/")
    bar = page.locator(f"#entry-{entry.pk}")
    assert "gs-1" in bar.get_attribute("class") and "ge-3" in bar.get_attribute("class")
    bar.focus()
    with page.expect_response(lambda r: "/shift/" in r.url) as shifted:
        page.keyboard.press("ArrowRight")
    assert shifted.value.status == 200
    expect(page.locator(f"#entry-{entry.pk}")).to_have_class(re.compile(r"\bgs-2 ge-4\b"))
    with page.expect_response(lambda r: "/shift/" in r.url):
        page.keyboard.press("Shift+ArrowRight")
    expect(page.locator(f"#entry-{entry.pk}")).to_have_class(re.compile(r"\bgs-2 ge-5\b"))
    fresh = Entry.objects.get(pk=entry.pk)
    assert (fresh.start_date, fresh.end_date) == (dt.date(2027, 2, 5), dt.date(2027, 4, 30))


def test_stakeholder_opens_the_share_link_without_an_account(live_server, browser, pm, roadmap):
    link, token = services.create_share_link(
        pm, roadmap=roadmap, label="Board", exclude_tags=["secret"]
    )
    context = browser.new_context()  # no cookies, no session
    try:
        page = context.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        response = page.goto(f"{live_server.url}/s/{token}/")
        assert response.status == 200
        expect(page.get_by_role("heading", name="Exec roadmap")).to_be_visible()
        board = page.locator(".sh-board")
        expect(board).to_contain_text("Apple Pay")
        expect(board).to_contain_text("Grow conversion")
        html = page.content()
        for hidden in ["INTERNAL:", "Project Falcon", "Score ", "rm-owner", "csrfmiddlewaretoken"]:
            assert hidden not in html, hidden
        page.get_by_role("link", name="Apple Pay").click()
        expect(page.get_by_role("heading", name="Why")).to_be_visible()
        expect(page.locator(".sh-entry")).to_contain_text("Grow conversion")
        page.goto(f"{live_server.url}/s/{token}/")
        expect(page.locator(".sh-since")).to_be_visible()
        page.emulate_media(media="print")
        expect(page.locator(".sh-since")).to_be_hidden()  # the print stylesheet applies
        assert errors == []
        services.revoke_share_link(pm, link=link)
        assert page.goto(f"{live_server.url}/s/{token}/").status == 404
    finally:
        context.close()


def test_timeline_bar_moves_and_resizes_by_drag(
    live_server, page, login, pm, workspace, product, browser_errors
):
    timeline = services.create_roadmap(
        pm,
        workspace=workspace,
        product=product,
        name="Delivery",
        layout=Layout.TIMELINE,
        start_date=dt.date(2027, 1, 1),
        periods=6,
    )
    item = make_item(product, pm, title="Checkout redesign")
    entry = services.add_entry(
        pm,
        roadmap=timeline,
        item=item,
        start_date=dt.date(2027, 1, 1),
        end_date=dt.date(2027, 1, 31),
    )
    login(pm)
    page.goto(f"{live_server.url}/w/acme/roadmaps/{timeline.pk}/")
    lane = page.locator(".tl-lane").first.bounding_box()
    column = lane["width"] / 6
    box = page.locator(f"#entry-{entry.pk} .rm-card-top").bounding_box()
    page.mouse.move(box["x"] + 4, box["y"] + 4)
    page.mouse.down()
    page.mouse.move(box["x"] + 4 + column, box["y"] + 4, steps=12)
    with page.expect_response(lambda r: "/shift/" in r.url) as moved:
        page.mouse.up()
    assert moved.value.status == 200
    expect(page.locator(f"#entry-{entry.pk}")).to_have_class(re.compile(r"\bgs-2 ge-3\b"))
    grip = page.locator(f"#entry-{entry.pk} .tl-grip").bounding_box()
    page.mouse.move(grip["x"] + 3, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    page.mouse.move(grip["x"] + 3 + 2 * column, grip["y"] + grip["height"] / 2, steps=12)
    with page.expect_response(lambda r: "/shift/" in r.url):
        page.mouse.up()
    expect(page.locator(f"#entry-{entry.pk}")).to_have_class(re.compile(r"\bgs-2 ge-5\b"))
    fresh = Entry.objects.get(pk=entry.pk)
    assert (fresh.start_date, fresh.end_date) == (dt.date(2027, 2, 1), dt.date(2027, 4, 30))
    assert browser_errors == []
    assert page.evaluate("window.__cspViolations") == []


def test_keyboard_moves_a_card_to_another_column(live_server, page, login, pm, roadmap):
    login(pm)
    page.goto(f"{live_server.url}/w/acme/roadmaps/{roadmap.pk}/")
    entry = Entry.objects.get(item__title="SEPA debits")
    page.locator(f"#entry-{entry.pk}").focus()
    with page.expect_response(lambda r: "/move/" in r.url) as moved:
        page.keyboard.press("Alt+ArrowLeft")
    assert moved.value.status == 200
    expect(page.locator('.rm-col[data-column="now"] .rm-title')).to_have_text(
        ["Apple Pay", "SEPA debits"]
    )
    expect(page.locator(f"#entry-{entry.pk}")).to_be_focused()
    with page.expect_response(lambda r: "/move/" in r.url):
        page.keyboard.press("Alt+ArrowUp")
    expect(page.locator('.rm-col[data-column="now"] .rm-title')).to_have_text(
        ["SEPA debits", "Apple Pay"]
    )
    assert Entry.objects.get(pk=entry.pk).horizon == Horizon.NOW


def test_pm_adds_a_backlog_item_from_the_picker(
    live_server, page, login, pm, product, roadmap, browser_errors
):
    make_item(product, pm, title="Refund flow for marketplaces")
    login(pm)
    page.goto(f"{live_server.url}/w/acme/roadmaps/{roadmap.pk}/")
    page.get_by_label("Add backlog items").fill("refund")
    add = page.get_by_role("button", name="Add PAY-4 Refund flow for marketplaces")
    expect(add).to_be_visible()
    page.get_by_label("Horizon").select_option("later")
    add.click()
    expect(page.locator('.rm-col[data-column="later"] .rm-title')).to_contain_text(
        ["Project Falcon", "Refund flow for marketplaces"]
    )
    assert Entry.objects.get(item__title="Refund flow for marketplaces").horizon == Horizon.LATER
    assert browser_errors == []
    assert page.evaluate("window.__cspViolations") == []


def test_timeline_bar_drags_into_another_custom_lane(
    live_server, page, login, pm, workspace, product, browser_errors
):
    """Timeline bars could not be dragged into another lane."""
    timeline = services.create_roadmap(
        pm,
        workspace=workspace,
        product=product,
        name="Teams",
        layout=Layout.TIMELINE,
        start_date=dt.date(2027, 1, 1),
        periods=6,
        lane_by="custom",
    )
    web = services.add_lane(pm, roadmap=timeline, name="Web")
    mobile = services.add_lane(pm, roadmap=timeline, name="Mobile")
    entry = services.add_entry(
        pm,
        roadmap=timeline,
        title="Offline mode",
        start_date=dt.date(2027, 1, 1),
        end_date=dt.date(2027, 1, 31),
    )
    entry.refresh_from_db()
    services.move_entry(pm, entry=entry, expected_version=entry.version, lane=web)
    login(pm)
    page.set_viewport_size({"width": 1440, "height": 1100})  # both lanes on screen
    page.goto(f"{live_server.url}/w/acme/roadmaps/{timeline.pk}/")
    box = page.locator(f"#entry-{entry.pk} .rm-card-top").bounding_box()
    target = page.locator(f'.tl-lane[data-lane="{mobile.pk}"]').bounding_box()
    page.mouse.move(box["x"] + 4, box["y"] + 4)
    page.mouse.down()
    page.mouse.move(box["x"] + 4, target["y"] + target["height"] / 2, steps=12)
    with page.expect_response(lambda r: "/move/" in r.url) as moved:
        page.mouse.up()
    assert moved.value.status == 200
    expect(page.locator(f'.tl-lane[data-lane="{mobile.pk}"] #entry-{entry.pk}')).to_be_visible()
    assert Entry.objects.get(pk=entry.pk).lane_id == mobile.pk
    assert browser_errors == []


def test_a_card_dropped_in_a_derived_lane_says_why_it_stays(
    live_server, page, login, pm, workspace, product
):
    """On lanes by product (a portfolio) or objective, a card dropped in
    another lane snapped back after reload with no message."""
    from tests.factories import ObjectiveFactory

    first, second = ObjectiveFactory(product=product), ObjectiveFactory(product=product)
    board = services.create_roadmap(
        pm,
        workspace=workspace,
        product=product,
        name="By goal",
        layout=Layout.NOW_NEXT_LATER,
        lane_by="objective",
    )
    item = make_item(product, pm, title="Smart retries")
    item.objectives.add(first)
    other = make_item(product, pm, title="Dunning emails")
    other.objectives.add(second)
    entry = services.add_entry(pm, roadmap=board, item=item, horizon=Horizon.NOW)
    services.add_entry(pm, roadmap=board, item=other, horizon=Horizon.NOW)
    login(pm)
    page.set_viewport_size({"width": 1440, "height": 1100})
    page.goto(f"{live_server.url}/w/acme/roadmaps/{board.pk}/")
    source = page.locator(f"#entry-{entry.pk}")
    target = page.locator(f'.rm-col[data-lane-key="o{second.pk}"][data-column="now"]')
    drag(page, source, target)
    with page.expect_response(lambda r: "/move/" in r.url) as moved:
        page.mouse.up()
    assert moved.value.status == 400
    expect(page.locator("#rm-conflict")).to_contain_text("follow each item's objective")
    expect(page.locator(f'.rm-col[data-lane-key="o{first.pk}"] #entry-{entry.pk}')).to_be_visible()


def test_dependency_arrows_pass_under_bars_and_follow_the_print_layout(
    live_server, browser, pm, workspace, product
):
    """Arrows ran through card titles and badges, and in print landed where
    the screen layout had put the bars."""
    timeline = services.create_roadmap(
        pm,
        workspace=workspace,
        product=product,
        name="Delivery",
        layout=Layout.TIMELINE,
        start_date=dt.date(2027, 1, 1),
        periods=6,
    )
    blocker = services.add_entry(
        pm,
        roadmap=timeline,
        title="API",
        start_date=dt.date(2027, 1, 1),
        end_date=dt.date(2027, 2, 28),
    )
    blocked = services.add_entry(
        pm,
        roadmap=timeline,
        title="App",
        start_date=dt.date(2027, 3, 1),
        end_date=dt.date(2027, 4, 30),
    )
    services.add_dependency(pm, blocker=blocker, blocked=blocked)
    _link, token = services.create_share_link(pm, roadmap=timeline, label="Board")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/s/{token}/")
        path = page.locator("svg.tl-deps path.tl-dep")
        expect(path).to_have_count(1)
        layers = page.evaluate(
            "[getComputedStyle(document.querySelector('svg.tl-deps')).zIndex,"
            " getComputedStyle(document.querySelector('.tl-bar')).zIndex]"
        )
        assert int(layers[0]) < int(layers[1])  # the arrows lie under the bars
        start_of = (
            "(() => { const tl = document.querySelector('.tl').getBoundingClientRect();"
            " const d = document.querySelector('path.tl-dep').getAttribute('d').split(' ');"
            f" const bar = document.getElementById('entry-{blocker.pk}').getBoundingClientRect();"
            " return [parseFloat(d[1]), bar.right - tl.left]; })()"
        )
        x, right = page.evaluate(start_of)
        assert abs(x - right) < 2
        screen_right = right
        page.emulate_media(media="print")  # no resize: only the print layout
        page.wait_for_timeout(300)  # the redraw after the layout change
        x, right = page.evaluate(start_of)
        assert abs(right - screen_right) > 2  # print does move the bars
        assert abs(x - right) < 2
    finally:
        context.close()
