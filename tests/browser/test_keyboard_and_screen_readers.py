"""What keyboard and screen-reader users meet in Chromium: a focus ring that
is visible (3:1) and never clipped, focus that stays put across htmx swaps,
live regions that say what a swap did, select editors that let the arrow
keys browse, inbox shortcuts that can be turned off and an archive that can
be undone, and a workspace switcher named by its visible text."""

import re

import pytest
from playwright.sync_api import expect

from backlog import services as backlog_services
from backlog.models import Item
from feedback import services as feedback_services
from feedback.models import Feedback, Insight
from products.models import Vision
from tests.backlog.factories import make_item, make_rice_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BACKLOG = "/w/acme/p/PAY/backlog/"
INBOX = "/w/acme/p/PAY/feedback/"
STRATEGY = "/w/acme/p/PAY/"

# The ring drawn around (or inside) the focused element, its contrast with
# what it is drawn on, and the boxes of ancestors that would clip it.
FOCUS_RING = """(el) => {
  const style = getComputedStyle(el);
  const parse = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (node) => {
    for (; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  const width = parseFloat(style.outlineWidth);
  const offset = parseFloat(style.outlineOffset);
  // Drawn inside the element: against its own background; outside: its parent's.
  const behind = background(offset + width <= 0 ? el : el.parentElement);
  const [a, b] = [lum(parse(style.outlineColor)), lum(behind)];
  const contrast = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const r = el.getBoundingClientRect();
  const grow = Math.max(0, offset + width);
  const ring = {
    left: r.left - grow, right: r.right + grow, top: r.top - grow, bottom: r.bottom + grow,
  };
  const clipped = [];
  for (let up = el.parentElement; up && up !== document.documentElement; up = up.parentElement) {
    const s = getComputedStyle(up);
    if (s.overflowX === "visible" && s.overflowY === "visible") continue;
    const box = up.getBoundingClientRect();
    const left = box.left + up.clientLeft, top = box.top + up.clientTop;
    if (ring.left < left - 0.5 || ring.top < top - 0.5 ||
        ring.right > left + up.clientWidth + 0.5 || ring.bottom > top + up.clientHeight + 0.5) {
      clipped.push(up.className || up.tagName);
    }
  }
  const visible = el.matches(":focus-visible");
  return {visible, style: style.outlineStyle, width, contrast, clipped};
}"""


def focus_by_keyboard(page, locator):
    page.keyboard.press("Shift")  # the last input was a key: focus is shown
    locator.focus()
    expect(locator).to_be_focused()


def assert_ring(page, locator, where):
    focus_by_keyboard(page, locator)
    ring = locator.evaluate(FOCUS_RING)
    assert ring["visible"] and ring["style"] == "solid" and ring["width"] >= 2, (where, ring)
    assert ring["contrast"] >= 3, (where, ring)
    assert not ring["clipped"], (where, ring)


def live_regions(page):
    return page.locator("#announce"), page.locator("#announce-alert")


def count_htmx_requests(page):
    page.evaluate(
        """window.__htmxRequests = [];
        document.addEventListener("htmx:beforeRequest", (e) => {
          const config = e.detail.requestConfig;
          window.__htmxRequests.push(config.verb + " " + config.path);
        });"""
    )
    return lambda: page.evaluate("window.__htmxRequests")


@pytest.fixture
def items(product, pm):
    return [make_rice_item(product, pm, title=f"Item {n}", reach=10 * n) for n in range(1, 4)]


@pytest.fixture
def inbox(product, pm):
    make_item(product, pm, title="SEPA Direct Debit mandates")
    older = feedback_services.create_feedback(
        pm, product=product, text="Our shoppers keep asking for Apple Pay at checkout."
    )
    newer = feedback_services.create_feedback(
        pm, product=product, text="We need SEPA direct debit for Germany."
    )
    return {"older": older, "newer": newer}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_focus_ring_is_3_to_1_and_never_clipped(live_server, page, login, pm, inbox, items, scheme):
    page.emulate_media(color_scheme=scheme)
    login(pm)
    page.goto(live_server.url + INBOX)
    assert_ring(page, page.locator("nav.tabs a").first, "product tab")
    assert_ring(page, page.locator("nav.tabs a[aria-current=page]"), "current product tab")
    assert_ring(page, page.locator(".fb-states a[aria-current=page]"), "current view toggle")
    assert_ring(page, page.locator(".fb-states a:not([aria-current])").first, "view toggle")
    assert_ring(page, page.locator(".fb-row a").first, "feedback list row")
    assert_ring(page, page.locator(".fb-row a").last, "feedback list row")
    page.goto(live_server.url + BACKLOG)
    assert_ring(page, page.locator("#backlog-rows .cell-btn").first, "backlog cell")
    assert_ring(page, page.locator("details.switcher > summary"), "workspace switcher")


def test_select_editor_browses_with_arrows_and_saves_on_enter(live_server, page, login, pm, items):
    item = items[0]
    login(pm)
    page.goto(live_server.url + BACKLOG)
    requests = count_htmx_requests(page)
    cell = page.locator(f"#row-{item.pk} button.cell-btn[hx-get*='/cell/status/']")
    cell.click()
    select = page.locator(f"#row-{item.pk} form[data-cell-editor] select[name=value]")
    expect(select).to_be_focused()
    start = select.input_value()
    options = select.locator("option").evaluate_all("(os) => os.map((o) => o.value)")
    select.press("ArrowDown")
    select.press("ArrowDown")
    expected = options[options.index(start) + 2]
    # Still browsing: the editor is open on the option the keys reached.
    expect(select).to_have_value(expected)
    select.press("Enter")
    status_cell = page.locator(f"#row-{item.pk} button.cell-btn[hx-get*='/cell/status/']")
    expect(status_cell).to_be_focused()  # back on the edited control, not <body>
    polite, _alert = live_regions(page)
    expect(polite).to_have_text("Saved.")
    assert Item.objects.get(pk=item.pk).status == expected
    posts = [r for r in requests() if r.upper().startswith("POST")]
    assert len(posts) == 1 and "/cell/status/" in posts[0], posts


def test_select_editor_saves_when_focus_leaves_it(live_server, page, login, pm, items):
    item = items[1]
    login(pm)
    page.goto(live_server.url + BACKLOG)
    page.locator(f"#row-{item.pk} button.cell-btn[hx-get*='/cell/type/']").click()
    select = page.locator(f"#row-{item.pk} form[data-cell-editor] select[name=value]")
    expect(select).to_be_focused()
    select.press("ArrowDown")
    reached = select.input_value()
    assert reached != select.get_attribute("data-initial")  # the keys did move
    select.press("Tab")  # onto the editor's own Save button: still editing
    expect(select).to_be_visible()
    saved = lambda r: "/cell/type/" in r.url and r.request.method == "POST"  # noqa: E731
    with page.expect_response(saved, timeout=15_000):
        page.locator("h1").first.click()  # focus leaves the editor: it saves
    expect(page.locator(f"#row-{item.pk} form[data-cell-editor]")).to_have_count(0)
    expect(page.locator(f"#row-{item.pk}")).to_contain_text(
        reached.replace("_", " "), ignore_case=True
    )
    assert Item.objects.get(pk=item.pk).type == reached


def test_escape_in_a_cell_returns_focus_to_the_cell(live_server, page, login, pm, items):
    item = items[2]
    login(pm)
    page.goto(live_server.url + BACKLOG)
    title_cell = page.locator(f"#row-{item.pk} td.col-title .cell-btn")
    title_cell.click()
    field = page.locator(f"#row-{item.pk} form[data-cell-editor] input[name=value]")
    expect(field).to_be_focused()
    field.fill("Not kept")
    field.press("Escape")
    expect(page.locator(f"#row-{item.pk} form[data-cell-editor]")).to_have_count(0)
    expect(page.locator(f"#row-{item.pk} td.col-title .cell-btn")).to_be_focused()
    assert Item.objects.get(pk=item.pk).title == "Item 3"


def test_a_cell_conflict_is_announced(live_server, page, login, pm, teammate, items):
    item = items[0]
    login(pm)
    page.goto(live_server.url + BACKLOG)
    page.locator(f"#row-{item.pk} td.col-title .cell-btn").click()
    field = page.locator(f"#row-{item.pk} form[data-cell-editor] input[name=value]")
    expect(field).to_be_focused()
    fresh = Item.objects.get(pk=item.pk)
    backlog_services.update_item(
        teammate, item=fresh, expected_version=fresh.version, fields={"title": "Theirs"}
    )
    field.fill("Mine")
    field.press("Enter")
    _polite, alert = live_regions(page)
    expect(alert).to_contain_text("someone else changed")
    expect(page.locator(f"#row-{item.pk} td.col-title .cell-btn")).to_be_focused()


def test_a_cell_error_is_announced(live_server, page, login, pm, items):
    item = items[0]
    login(pm)
    page.goto(live_server.url + BACKLOG)
    page.locator(f"#row-{item.pk} button.cell-btn[hx-get*='/cell/effort/']").click()
    field = page.locator(f"#row-{item.pk} form[data-cell-editor] input[name=value]")
    expect(field).to_be_focused()
    field.fill("-5")
    field.press("Enter")
    _polite, alert = live_regions(page)
    expect(alert).not_to_be_empty()
    expect(page.locator(f"#row-{item.pk} form[data-cell-editor] input[name=value]")).to_be_focused()


def test_strategy_save_returns_focus_to_its_edit_button(live_server, page, login, pm, strategy):
    login(pm)
    page.goto(live_server.url + STRATEGY)
    page.locator("section#vision").get_by_role("link", name="Edit", exact=True).click()
    form = page.locator("form#vision")
    expect(form).to_be_visible()
    statement = form.locator("textarea").first
    expect(statement).to_be_focused()
    statement.fill("Paying online is effortless for every small shop.")
    save = form.get_by_role("button", name="Save")
    save.focus()
    save.press("Enter")
    edit = page.locator("section#vision").get_by_role("link", name="Edit", exact=True)
    expect(edit).to_be_focused()
    polite, _alert = live_regions(page)
    expect(polite).to_have_text("Saved.")
    assert Vision.objects.get(product__key="PAY").statement.startswith("Paying online")


def test_a_strategy_conflict_is_announced(live_server, page, login, pm, teammate, strategy):
    login(pm)
    page.goto(live_server.url + STRATEGY)
    page.locator("section#vision").get_by_role("link", name="Edit", exact=True).click()
    form = page.locator("form#vision")
    statement = form.locator("textarea").first
    expect(statement).to_be_focused()
    vision = Vision.objects.get(product__key="PAY")
    Vision.objects.filter(pk=vision.pk).update(statement="Theirs", version=vision.version + 1)
    statement.fill("Mine")
    form.get_by_role("button", name="Save").click()
    _polite, alert = live_regions(page)
    expect(alert).to_contain_text("Someone else saved this")


def test_linking_feedback_keeps_focus_in_the_inbox(live_server, page, login, pm, inbox):
    login(pm)
    page.goto(live_server.url + INBOX + f"?f={inbox['newer'].pk}")
    page.locator("#fb-item-q").fill("SEPA")
    result = page.locator("#item-results [data-fb-suggestion]").first
    expect(result).to_contain_text("SEPA")
    result.focus()
    result.press("Enter")
    polite, _alert = live_regions(page)
    expect(polite).to_contain_text("Linked to PAY-")
    assert Insight.objects.filter(feedback=inbox["newer"]).exists()
    # The next feedback is selected, and focus is on it rather than on <body>.
    selected = page.locator(".fb-row.is-selected a")
    expect(selected).to_be_focused()


def test_inbox_shortcuts_can_be_turned_off_and_stay_off(live_server, page, login, pm, inbox):
    login(pm)
    page.goto(live_server.url + INBOX)
    toggle = page.get_by_label("Single-key shortcuts")
    expect(toggle).to_be_checked()
    toggle.uncheck()
    page.reload()
    expect(page.get_by_label("Single-key shortcuts")).not_to_be_checked()
    requests = count_htmx_requests(page)
    page.locator("h1").click()
    for key in "ajk?c":
        page.keyboard.press(key)
    assert requests() == []
    expect(page.locator("#fb-help")).not_to_be_visible()
    assert not Feedback.objects.filter(state="archived").exists()
    page.get_by_label("Single-key shortcuts").check()
    page.locator("h1").click()
    page.keyboard.press("j")
    assert requests(), "shortcuts on again: j selects the next feedback"


def test_archive_by_key_is_undone_by_z(live_server, page, login, pm, inbox):
    login(pm)
    page.goto(live_server.url + INBOX + f"?f={inbox['newer'].pk}")
    page.locator("h1").click()
    page.keyboard.press("a")
    polite, _alert = live_regions(page)
    expect(polite).to_contain_text("Feedback marked archived.")
    undo = page.get_by_role("button", name=re.compile("^Undo"))
    expect(undo).to_be_visible()
    assert Feedback.objects.get(pk=inbox["newer"].pk).state == "archived"
    page.locator("h1").click()
    page.keyboard.press("z")
    expect(polite).to_contain_text("Archive undone.")
    expect(page.locator("#fb-detail")).to_contain_text("We need SEPA direct debit")
    assert Feedback.objects.get(pk=inbox["newer"].pk).state == "new"


def test_workspace_switcher_is_named_by_its_visible_text(live_server, page, login, pm, product):
    login(pm)
    page.goto(live_server.url + STRATEGY)
    switcher = page.locator("details.switcher > summary")
    visible = switcher.evaluate(
        """(el) => [...el.childNodes]
              .filter((n) => n.nodeType === 3 || getComputedStyle(n).position !== "absolute")
              .map((n) => n.textContent).join("").trim()"""
    )
    assert visible == "Acme"
    expect(switcher).to_have_accessible_name(re.compile(r"^Acme\b"))
