"""Customer feedback in Chromium: triaging with the keyboard only, picking a
snippet by selecting text, and the public portal in a fresh browser."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from backlog.models import Item
from feedback import services
from feedback.models import Feedback, Insight, Vote
from tests.backlog.factories import make_item

from .conftest import document_kept, mark_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settled(page) -> None:
    """Wait until htmx has swapped and settled (new forms are wired up)."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


INBOX = "/w/acme/p/PAY/feedback/"


@pytest.fixture
def backlog(product, pm):
    return {
        "sepa": make_item(product, pm, title="SEPA Direct Debit mandates"),
        "apple": make_item(product, pm, title="Apple Pay on the hosted checkout"),
        "dark": make_item(product, pm, title="Dark mode for the merchant dashboard"),
    }


@pytest.fixture
def inbox(product, pm, backlog):
    older = services.create_feedback(
        pm, product=product, text="Our iPhone shoppers keep asking for Apple Pay at checkout."
    )
    newer = services.create_feedback(
        pm,
        product=product,
        text="We need SEPA direct debit for Germany. <b>Cards</b> are rare there.",
        email="maria@globex.example",
    )
    return {"older": older, "newer": newer}


def test_triage_one_feedback_into_an_insight_with_the_keyboard_only(
    live_server, page, login, pm, backlog, inbox, browser_errors
):
    login(pm)
    page.goto(live_server.url + INBOX)
    mark_document(page)
    detail = page.locator("#fb-detail")
    expect(detail).to_contain_text("We need SEPA direct debit")
    expect(detail).to_contain_text("<b>Cards</b>")  # escaped, shown as text

    page.keyboard.press("j")  # next: the older feedback
    expect(detail).to_contain_text("Apple Pay at checkout")
    page.keyboard.press("k")  # back
    expect(detail).to_contain_text("We need SEPA direct debit")
    settled(page)
    page.keyboard.press("3")  # critical
    page.keyboard.press("l")  # focus the suggestions: SEPA is the first
    focused = page.locator("[data-fb-suggestion]:focus")
    expect(focused).to_contain_text("SEPA Direct Debit mandates")
    with page.expect_response(lambda r: "/link/" in r.url) as linked:
        page.keyboard.press("Enter")
    assert linked.value.status == 200

    # The next feedback is selected; the linked one is triaged.
    expect(detail).to_contain_text("Apple Pay at checkout")
    expect(page.locator(".fb-flash")).to_contain_text("Linked to PAY-1 as Critical")
    insight = Insight.objects.get()
    assert (insight.feedback_id, insight.item_id, insight.importance) == (
        inbox["newer"].pk,
        backlog["sepa"].pk,
        "critical",
    )
    assert insight.snippet == inbox["newer"].text
    assert Feedback.objects.get(pk=inbox["newer"].pk).state == "triaged"

    # Archive the next one with "a", and the help opens with "?".
    settled(page)
    with page.expect_response(lambda r: "/state/" in r.url):
        page.keyboard.press("a")
    expect(page.locator(".fb-flash")).to_contain_text("archived")
    assert Feedback.objects.get(pk=inbox["older"].pk).state == "archived"
    page.keyboard.press("?")
    expect(page.locator("#fb-help")).to_be_visible()
    page.keyboard.press("Escape")
    assert document_kept(page)  # htmx swaps, no full page load
    assert browser_errors == []
    assert page.evaluate("window.__cspViolations") == []


def test_selected_text_becomes_the_snippet_and_c_creates_an_item(
    live_server, page, login, pm, backlog, inbox, browser_errors
):
    login(pm)
    page.goto(f"{live_server.url}{INBOX}?f={inbox['newer'].pk}")
    # Select "SEPA direct debit" in the feedback text, as a mouse drag would.
    page.evaluate(
        """() => {
          const node = document.querySelector('[data-fb-text]').firstChild;
          const start = node.textContent.indexOf('SEPA direct debit');
          const range = document.createRange();
          range.setStart(node, start);
          range.setEnd(node, start + 'SEPA direct debit'.length);
          const sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
        }"""
    )
    expect(page.locator("[data-fb-selection]")).to_contain_text("SEPA direct debit")
    page.keyboard.press("c")
    title = page.locator("[data-fb-create-title]")
    expect(title).to_be_focused()
    title.fill("SEPA for German shops")
    with page.expect_response(lambda r: "/link/" in r.url):
        page.keyboard.press("Enter")

    item = Item.objects.get(title="SEPA for German shops")
    insight = Insight.objects.get(item=item)
    assert insight.snippet == "SEPA direct debit"
    assert inbox["newer"].text[insight.start : insight.end] == "SEPA direct debit"
    assert browser_errors == []


def test_submit_and_vote_on_the_portal_in_a_fresh_browser(
    live_server, browser, pm, product, backlog, browser_errors
):
    services.update_portal_settings(
        pm, product=product, expected_version=None, fields={"enabled": True, "title": "Pay ideas"}
    )
    idea = services.publish_idea(pm, item=backlog["apple"], public_title="Apple Pay")
    context = browser.new_context()  # no cookies, no account
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/portal/acme/PAY/")
    expect(page.locator("h1")).to_have_text("Pay ideas")

    page.fill("#id_text", "Please support iDEAL <script>x</script>")
    page.fill("#id_email", "shopper@example.net")
    page.click("text=Send")
    expect(page.locator(".portal-submit")).to_contain_text("Thank you")
    f = Feedback.objects.get(source="portal")
    assert f.person.email == "shopper@example.net"

    card = page.locator(f"#idea-{idea.pk}")
    card.locator("input[type=email]").fill("fan@example.net")
    card.locator("button", has_text="Vote").click()
    expect(page.locator(f"#idea-{idea.pk}")).to_contain_text("Check your inbox")
    assert Vote.objects.get().verified_at is None
    link = re.search(r"https?://\S+/portal-vote/\S+/|/portal-vote/\S+/", mail.outbox[-1].body)
    page.goto(live_server.url + link.group(0) if link.group(0).startswith("/") else link.group(0))
    expect(page.locator("main")).to_contain_text("counts")
    page.goto(f"{live_server.url}/portal/acme/PAY/")
    expect(page.locator(f"#idea-{idea.pk} [data-votes]")).to_have_text("1")
    expect(page.locator(f"#idea-{idea.pk}")).to_contain_text("You voted for this")
    assert errors == []
    context.close()


def test_snippet_offsets_count_an_emoji_as_one_character(
    live_server, page, login, pm, product, backlog, browser_errors
):
    feedback = services.create_feedback(
        pm, product=product, text="🇩🇪 shops 🙏: we need SEPA direct debit, please."
    )
    login(pm)
    page.goto(f"{live_server.url}{INBOX}?f={feedback.pk}")
    page.evaluate(
        """() => {
          const node = document.querySelector('[data-fb-text]').firstChild;
          const start = node.textContent.indexOf('SEPA direct debit');
          const range = document.createRange();
          range.setStart(node, start);
          range.setEnd(node, start + 'SEPA direct debit'.length);
          const sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
        }"""
    )
    expect(page.locator("[data-fb-selection]")).to_contain_text("SEPA direct debit")
    page.keyboard.press("c")
    title = page.locator("[data-fb-create-title]")
    expect(title).to_be_focused()
    title.fill("SEPA for German shops")
    with page.expect_response(lambda r: "/link/" in r.url):
        page.keyboard.press("Enter")

    insight = Insight.objects.get(item__title="SEPA for German shops")
    assert insight.snippet == "SEPA direct debit"
    assert browser_errors == []
