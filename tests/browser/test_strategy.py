"""The strategy page as a product manager (and a viewer) uses it, in Chromium.

Inline edits are htmx swaps: the URL stays put and the document is never
reloaded (checked with a marker set on ``window`` before the edit).
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from products.models import KeyResult, Vision

from .conftest import PASSWORD, document_kept, mark_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STRATEGY_PATH = "/w/acme/p/PAY/"
SHOTS = Path("/tmp/pmhub-shots")
NEW_STATEMENT = "Make paying online effortless for every small shop in Europe."
EDIT_BUTTON = re.compile(r"^\s*Edit\s*$")


def edit_buttons(page):
    return page.locator("a, button").filter(has_text=EDIT_BUTTON)


def open_vision_editor(page):
    page.locator("section#vision").get_by_role("link", name="Edit", exact=True).click()
    form = page.locator("form#vision")
    expect(form).to_be_visible()
    return form


def test_pm_edits_the_vision_in_place_and_it_persists(live_server, page, pm, strategy):
    strategy_url = live_server.url + STRATEGY_PATH
    page.goto(f"{live_server.url}/accounts/login/?next={STRATEGY_PATH}")
    page.locator("#id_username").fill("pm")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(strategy_url)
    expect(page.locator("section#vision")).to_contain_text("Be the best.")
    # product header, vision, objective, key result, competitor, persona
    expect(edit_buttons(page)).to_have_count(6)

    mark_document(page)
    form = open_vision_editor(page)
    assert page.url == strategy_url
    assert document_kept(page), "opening the editor reloaded the page"
    statement = form.locator("#id_statement")
    expect(statement).to_have_value("Be the best.")
    expect(statement).to_be_focused()

    statement.fill(NEW_STATEMENT)
    form.get_by_role("button", name="Save").click()

    vision = page.locator("section#vision")
    expect(vision).to_contain_text(NEW_STATEMENT)
    expect(page.locator("form#vision")).to_have_count(0)
    expect(vision.get_by_role("link", name="Edit", exact=True)).to_be_visible()
    assert page.url == strategy_url
    assert document_kept(page), "saving reloaded the page instead of swapping the region"

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "strategy-after-edit.png"), full_page=True)

    page.reload()
    expect(page.locator("section#vision")).to_contain_text(NEW_STATEMENT)
    assert not document_kept(page)  # the marker does detect a real page load
    saved = Vision.objects.get(product=strategy)
    assert saved.statement == NEW_STATEMENT
    assert saved.version == 2


def test_escape_closes_the_editor_and_keeps_the_saved_vision(
    live_server, page, login, pm, strategy
):
    login(pm)
    page.goto(live_server.url + STRATEGY_PATH)
    display = page.locator("section#vision")
    before = display.inner_text()
    mark_document(page)

    form = open_vision_editor(page)
    statement = form.locator("#id_statement")
    statement.fill("An unsaved draft that Escape throws away")
    statement.press("Escape")

    expect(page.locator("form#vision")).to_have_count(0)
    expect(display).to_be_visible()
    expect(display).not_to_contain_text("unsaved draft")
    assert display.inner_text() == before
    assert document_kept(page)
    vision = Vision.objects.get(product=strategy)
    assert (vision.statement, vision.version) == ("Be the best.", 1)


def test_invalid_key_result_shows_inline_error_without_reload(
    live_server, page, login, pm, strategy, objective
):
    login(pm)
    strategy_url = live_server.url + STRATEGY_PATH
    page.goto(strategy_url)
    mark_document(page)
    count_before = KeyResult.objects.count()

    page.locator(f"#objective-{objective.pk}").get_by_role("link", name="+ Key result").click()
    form = page.locator(f"form#objective-{objective.pk}-kr-form")
    expect(form).to_be_visible()
    expect(form.locator("#id_name")).to_be_focused()
    form.locator("#id_name").fill("Refund time")
    form.locator("#id_start_value").fill("10")
    form.locator("#id_target_value").fill("10")
    form.get_by_role("button", name="Add key result").click()

    error = form.locator(".has-error")
    expect(error).to_contain_text("The target must differ from the start value.")
    expect(error.locator("#id_target_value")).to_have_value("10")
    expect(error.locator("#id_target_value")).to_be_focused()
    expect(form.locator("#id_name")).to_have_value("Refund time")
    assert page.url == strategy_url
    assert document_kept(page), "an invalid form reloaded the page"
    assert KeyResult.objects.count() == count_before


def test_viewer_sees_no_edit_controls(live_server, page, login, viewer, strategy):
    login(viewer)
    page.goto(live_server.url + STRATEGY_PATH)
    expect(page.locator("section#vision")).to_contain_text("Be the best.")
    expect(page.locator("#objectives")).to_contain_text("Grow conversion")
    expect(edit_buttons(page)).to_have_count(0)
    for label in ("+ Objective", "+ Key result", "+ Competitor", "+ Persona"):
        expect(page.get_by_text(label, exact=True)).to_have_count(0)


def test_strategy_page_has_no_console_errors_or_csp_violations(
    live_server, page, login, browser_errors, pm, strategy, objective
):
    login(pm)
    page.goto(live_server.url + STRATEGY_PATH)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof window.htmx") == "object", "htmx did not load"

    # Exercise the htmx paths: open and cancel two editors.
    open_vision_editor(page).locator("#id_statement").press("Escape")
    expect(page.locator("form#vision")).to_have_count(0)
    card = page.locator(f"#objective-{objective.pk}")
    card.get_by_role("link", name=f"Edit objective {objective.title}").click()
    objective_form = page.locator(f"form#objective-{objective.pk}")
    expect(objective_form).to_be_visible()
    objective_form.get_by_role("link", name="Cancel").click()
    expect(page.locator(f"article#objective-{objective.pk}")).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert browser_errors == []
    assert page.evaluate("window.__cspViolations") == []
