"""Discussions in Chromium: @mention autocomplete by keyboard (type @,
arrows, Enter), posting a comment through htmx without a reload, and the
bell and the comment list refreshing on a live event (``pmhub:live``)."""

import pytest
from playwright.sync_api import expect

from discussions import services
from discussions.models import Comment
from tests.backlog.factories import make_item
from tests.factories import MembershipFactory

from .conftest import document_kept, mark_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def item(product, pm):
    return make_item(product, pm, title="Discuss me")


def test_mention_by_keyboard_then_comment_without_a_reload(
    live_server, page, login, pm, teammate, workspace, item, browser_errors
):
    MembershipFactory(workspace=workspace, user__username="tessa")
    login(pm).goto(live_server.url + f"/w/acme/p/PAY/backlog/items/{item.number}/")
    page.wait_for_load_state("load")
    mark_document(page)
    box = page.locator(f"#discussion-backlog-item-{item.pk}-body")
    box.click()
    box.type("Ping @te")
    listbox = page.locator("[role=listbox].mention-box")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(listbox.locator("[role=option]")).to_have_count(2)  # teammate, tessa
    page.keyboard.press("ArrowDown")
    expect(listbox.locator("[aria-selected=true]")).to_contain_text("@tessa")
    page.keyboard.press("Enter")
    expect(listbox).to_have_count(0)
    expect(box).to_have_value("Ping @tessa ")
    box.type("please look")
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.locator(".comment .mention")).to_have_text("@tessa")
    assert document_kept(page)  # an htmx swap, not a page load
    assert Comment.objects.get().mentions[0]["username"] == "tessa"
    # A reaction from the picker swaps the panel too (hx-target inherited from the list).
    page.get_by_label("Add a reaction").click()
    page.locator(".reaction-picker button[value='🎉']").click()
    expect(page.locator("button.reaction-mine")).to_have_text("🎉 1")
    assert document_kept(page)
    assert browser_errors == []


def test_a_live_event_refreshes_the_comments_and_the_bell(
    live_server, page, login, pm, teammate, item, browser_errors
):
    login(pm).goto(live_server.url + f"/w/acme/p/PAY/backlog/items/{item.number}/")
    page.wait_for_load_state("load")
    expect(page.locator("#bell")).to_be_attached()
    services.post_comment(
        teammate,
        workspace=item.product.workspace,
        object_type="backlog.item",
        object_id=item.pk,
        body=f"@{pm.username} news from elsewhere",
    )
    page.evaluate("document.dispatchEvent(new CustomEvent('pmhub:live', {detail: {}}))")
    expect(page.locator(".comment-body")).to_contain_text("news from elsewhere")
    expect(page.locator("#bell .bell-count")).to_have_text("1")
    assert browser_errors == []
