"""Questions and specs in Chromium: a stakeholder asks on a shared roadmap in
a fresh browser, confirms from the email, and the PM answers from the inbox;
a spec goes through review in two people's browsers."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from questions import services as questions
from questions.models import Question
from roadmaps import services as roadmaps
from roadmaps.models import Horizon, Layout
from specs.models import Spec, SpecState
from tests.backlog.factories import make_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def as_member(browser, live_server, user):
    """A browser context of its own, signed in as ``user``."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context = browser.new_context()
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return context


def watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_a_stakeholder_asks_confirms_and_gets_the_pms_answer(
    live_server, browser, workspace, product, pm
):
    item = make_item(product, pm, title="Apple Pay on the hosted checkout", status="planned")
    roadmap = roadmaps.create_roadmap(
        pm, workspace=workspace, product=product, name="Exec", layout=Layout.NOW_NEXT_LATER
    )
    entry = roadmaps.add_entry(pm, roadmap=roadmap, item=item, horizon=Horizon.NEXT)
    link, token = roadmaps.create_share_link(pm, roadmap=roadmap, label="Board")
    questions.set_questions_allowed(pm, link=link, allowed=True)

    stakeholder = browser.new_context()  # no cookies, no account
    page = stakeholder.new_page()
    errors = watch_errors(page)
    page.goto(f"{live_server.url}/s/{token}/")
    page.click("a.rm-title:has-text('Apple Pay on the hosted checkout')")
    expect(page.locator("#questions")).to_contain_text("No questions about this yet.")
    page.fill("#q-text", "Will it work for <b>invoices</b>?")
    page.fill("#q-email", "sam@board.example")
    page.click("text=Send question")
    expect(page.locator("main")).to_contain_text("Check your email")
    assert Question.objects.get().verified_at is None
    body = mail.outbox[-1].body
    page.goto(live_server.url + re.search(r"/question-confirm/\S+/", body).group(0))
    expect(page.locator("main")).to_contain_text("reached the product team")

    pm_context = as_member(browser, live_server, pm)
    inbox = pm_context.new_page()
    pm_errors = watch_errors(inbox)
    question = Question.objects.get()
    inbox.goto(f"{live_server.url}/w/acme/p/PAY/feedback/?state=all&f={question.feedback_id}")
    panel = inbox.locator("#question-panel")
    expect(panel).to_contain_text("Question from the shared roadmap")
    expect(panel).to_contain_text("Apple Pay on the hosted checkout")
    panel.locator("textarea[name=answer]").fill("Yes: invoices come in Q3.")
    panel.locator("button", has_text="Send the answer").click()
    expect(inbox.locator("#question-panel .q-answer")).to_contain_text("invoices come in Q3")
    answer = mail.outbox[-1]
    assert answer.to == ["sam@board.example"] and "invoices come in Q3" in answer.body

    page.goto(f"{live_server.url}/s/{token}/entries/{entry.pk}/")
    expect(page.locator(".q-item")).to_contain_text("Will it work for <b>invoices</b>?")
    expect(page.locator(".q-answer")).to_contain_text("invoices come in Q3")
    assert errors == [] and pm_errors == []
    stakeholder.close()
    pm_context.close()


def test_a_spec_is_written_reviewed_and_its_approval_goes_stale(
    live_server, browser, product, pm, teammate, objective
):
    item = make_item(product, pm, title="One-click checkout", objectives=[objective])
    spec_url = f"{live_server.url}/w/acme/p/PAY/backlog/items/{item.number}/spec/"
    pm_context = as_member(browser, live_server, pm)
    page = pm_context.new_page()
    errors = watch_errors(page)
    page.goto(f"{live_server.url}/w/acme/p/PAY/backlog/items/{item.number}/")
    page.click("#spec-panel >> text=Write the spec")
    expect(page.locator("main")).to_contain_text("Grow conversion")
    page.fill("#id_problem", "Shoppers retype their card.")
    page.fill("#id_requirements", "1. Save cards")
    page.click("text=Create the spec")
    expect(page.locator("#spec-state")).to_have_text("Draft")
    page.locator("#spec-reviews label", has_text="teammate").click()
    page.click("text=Request review")
    expect(page.locator("#spec-state")).to_have_text("In review")

    reviewer_context = as_member(browser, live_server, teammate)
    reviewer = reviewer_context.new_page()
    reviewer_errors = watch_errors(reviewer)
    reviewer.goto(spec_url)
    reviewer.locator("label", has_text="Approve").click()
    reviewer.fill("#id_comment", "Buildable.")
    reviewer.click("text=Send verdict")
    expect(reviewer.locator("#spec-state")).to_have_text("Approved")

    page.goto(spec_url)
    page.click("text=Edit the spec")
    page.fill("#id_requirements", "1. Save cards\n2. Recognise devices")
    page.click("text=Save a new version")
    expect(page.locator("#spec-state")).to_have_text("In review")
    expect(page.locator("#spec-reviews")).to_contain_text("stale")
    page.click("text=Versions and changes")
    expect(page.locator(".diff-added")).to_contain_text("2. Recognise devices")
    assert Spec.objects.get().state == SpecState.IN_REVIEW
    assert errors == [] and reviewer_errors == []
    pm_context.close()
    reviewer_context.close()
