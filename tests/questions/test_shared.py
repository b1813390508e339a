"""Questions on the public shared pages: nothing at all when a link takes
none, the forms when it does, confirmation links, and the abuse cases
(script, 10 000 characters, honeypot, rate limit, another link)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from questions import services
from questions.models import Question
from roadmaps import services as roadmaps
from roadmaps import shared_blocks


def page(token):
    return reverse("roadmaps:shared-roadmap", args=[token])


def entry_page(token, entry):
    return reverse("roadmaps:shared-entry", args=[token, entry.pk])


def ask_url(token):
    return reverse("questions:ask", args=[token])


def post_question(token, entry, **data):
    body = {"entry": entry.pk, "text": "When?", "email": "sam@board.example", "website": ""}
    return Client().post(ask_url(token), {**body, **data})


def confirm_from(message):
    return re.search(r"/question-confirm/[^\s]+/", message.body).group(0)


def test_with_questions_off_the_shared_pages_carry_not_a_byte_more(quiet_link, entry, monkeypatch):
    _link, token = quiet_link
    with_registry = (Client().get(page(token)), Client().get(entry_page(token, entry)))
    monkeypatch.setattr(shared_blocks, "_BLOCKS", [])
    without = (Client().get(page(token)), Client().get(entry_page(token, entry)))
    for on, off in zip(with_registry, without, strict=True):
        assert on.status_code == off.status_code == 200
        html_on = re.sub(r'nonce="[^"]+"', "", on.content.decode())
        html_off = re.sub(r'nonce="[^"]+"', "", off.content.decode())
        assert html_on == html_off
        assert "question" not in html_on.lower()
    assert with_registry[0]["ETag"] == without[0]["ETag"]


def test_with_questions_on_the_pages_show_the_forms_and_the_etag_moves(pm, link, entry):
    share, token = link
    services.set_questions_allowed(pm, link=share, allowed=False)
    before = Client().get(page(token))
    services.set_questions_allowed(pm, link=share, allowed=True)
    after = Client().get(page(token), HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200  # not a stale 304
    html = after.content.decode()
    assert 'id="questions"' in html and ask_url(token) in html
    assert 'name="website"' in html  # the honeypot
    options = re.search(r'<select id="q-entry".*?</select>', html, re.S).group(0)
    assert "Apple Pay" in options
    assert "Project Falcon" not in options  # hidden from this link's audience
    assert "Ask about Apple Pay" in Client().get(entry_page(token, entry)).content.decode()


def test_ask_confirm_and_see_it_on_the_entry_page(link, entry, mailoutbox, committed):
    _link, token = link
    with committed():
        response = post_question(token, entry, text="Will it <script>alert(1)</script> work?")
    assert response.status_code == 202
    assert "Check your email" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    [message] = mailoutbox
    assert "<script>alert(1)</script>" in message.body  # plain text, shown as typed
    html = Client().get(entry_page(token, entry)).content.decode()
    assert "alert(1)" not in html  # unconfirmed: not shown
    confirmed = Client().get(confirm_from(message))
    assert confirmed.status_code == 200 and "Thank you" in confirmed.content.decode()
    html = Client().get(entry_page(token, entry)).content.decode()
    assert "Will it &lt;script&gt;alert(1)&lt;/script&gt; work?" in html
    assert "<script>alert(1)" not in html
    assert "sam@board.example" not in html  # nobody else sees the address


def test_a_bad_confirmation_link_is_a_400_page(db):
    response = Client().get(reverse("questions:confirm-question", args=["forged"]))
    assert response.status_code == 400 and "invalid" in response.content.decode()


def test_ten_thousand_characters_is_a_clear_400(link, entry):
    response = post_question(link[1], entry, text="x" * 10_000)
    assert response.status_code == 400
    assert (
        "Your question is too long (10000 characters; 2000 at most)." in response.content.decode()
    )
    assert not Question.objects.exists()


def test_a_script_as_email_is_a_400(link, entry):
    response = post_question(link[1], entry, email="<script>alert(1)</script>")
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert "<script>alert(1)" not in response.content.decode()


def test_honeypot_looks_accepted_and_stores_nothing(link, entry, mailoutbox):
    response = post_question(link[1], entry, website="http://spam.example")
    assert response.status_code == 202
    assert not Question.objects.exists() and not mailoutbox


def test_twenty_questions_a_minute_get_429_and_nothing_stored(link, entry):
    answers = [post_question(link[1], entry, text=f"Q{n}").status_code for n in range(20)]
    assert answers.count(202) == services.ASK_LIMIT[0]
    assert answers[services.ASK_LIMIT[0] :] == [429] * (20 - services.ASK_LIMIT[0])
    assert Question.objects.count() == services.ASK_LIMIT[0]
    last = post_question(link[1], entry)
    assert last.status_code == 429 and int(last["Retry-After"]) > 0


def test_nothing_of_one_links_questions_shows_through_another(
    pm, link, quiet_link, entry, mailoutbox, committed
):
    _a, token_a = link
    other, token_b = quiet_link
    services.set_questions_allowed(pm, link=other, allowed=True)
    with committed():
        post_question(token_a, entry, text="Board-only question")
    Client().get(confirm_from(mailoutbox[0]))
    question = Question.objects.get()
    assert "Board-only question" in Client().get(entry_page(token_a, entry)).content.decode()
    assert "Board-only question" not in Client().get(entry_page(token_b, entry)).content.decode()
    plus = reverse("questions:plus-one", args=[token_b, question.pk])
    assert Client().post(plus, {"email": "x@y.example"}).status_code == 404


def test_plus_one_through_the_page(link, entry, mailoutbox, committed):
    _link, token = link
    with committed():
        post_question(token, entry)
    Client().get(confirm_from(mailoutbox[0]))
    question = Question.objects.get()
    with committed():
        response = Client().post(
            reverse("questions:plus-one", args=[token, question.pk]), {"email": "kim@b.example"}
        )
    assert response.status_code == 202
    Client().get(re.search(r"/question-plus-one/[^\s]+/", mailoutbox[-1].body).group(0))
    assert "+1 · 1" in Client().get(entry_page(token, entry)).content.decode()


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_the_ask_url_takes_only_post(link, method):
    assert getattr(Client(), method)(ask_url(link[1])).status_code == 405


def test_links_without_questions_revoked_or_locked_answer_404(pm, link, quiet_link, entry, nnl):
    assert post_question(quiet_link[1], entry).status_code == 404
    assert post_question("no-such-token", entry).status_code == 404
    locked, token = roadmaps.create_share_link(pm, roadmap=nnl, label="Locked", password="secret-1")
    services.set_questions_allowed(pm, link=locked, allowed=True)
    assert post_question(token, entry).status_code == 404  # not unlocked
    roadmaps.revoke_share_link(pm, link=link[0])
    assert post_question(link[1], entry).status_code == 404
    assert not Question.objects.exists()
