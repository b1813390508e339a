"""Members' side of questions: the product's Questions page and its switch
(table-driven by role), the answer panel in the feedback inbox, answering."""

import pytest
from django.urls import reverse

from questions import services
from questions.models import Question

from .test_services import asked_and_confirmed


def manage_url():
    return reverse("questions:manage", args=["acme", "PAY"])


@pytest.mark.parametrize(
    ("who", "page", "toggle"),
    [
        ("pm", 200, 302),
        ("admin_member", 200, 302),
        ("teammate", 200, 403),
        ("viewer", 200, 403),
        ("stranger", 404, 404),
    ],
)
def test_who_sees_the_page_and_who_switches_questions(
    request, as_user, quiet_link, who, page, toggle
):
    link, _token = quiet_link
    client = as_user(request.getfixturevalue(who))
    response = client.get(manage_url())
    assert response.status_code == page
    if page == 200:
        assert ("Allow questions" in response.content.decode()) == (toggle == 302)
    url = reverse("questions:toggle", args=["acme", "PAY", link.pk])
    assert client.post(url, {"allow": "1"}).status_code == toggle
    assert services.questions_allowed(link) == (toggle == 302)


def test_the_page_lists_questions_with_their_state(as_user, viewer, link, entry):
    asked_and_confirmed(link[0], entry, text="Is <b>SEPA</b> next?")
    html = as_user(viewer).get(manage_url()).content.decode()
    assert "Is &lt;b&gt;SEPA&lt;/b&gt; next?" in html and "Waiting for you" in html


def inbox(question):
    url = reverse("feedback:feedback-inbox", args=["acme", "PAY"])
    return f"{url}?state=all&f={question.feedback_id}"


@pytest.mark.parametrize(("who", "status"), [("teammate", 302), ("viewer", 403), ("stranger", 404)])
def test_answering_from_the_inbox(
    request, as_user, link, entry, who, status, mailoutbox, committed
):
    question = asked_and_confirmed(link[0], entry)
    client = as_user(request.getfixturevalue(who))
    if status != 404:
        html = client.get(inbox(question)).content.decode()
        assert "Question from the shared roadmap" in html
        assert ("Send the answer" in html) == (status == 302)
    mailoutbox.clear()
    url = reverse("questions:answer", args=["acme", "PAY", question.pk])
    with committed():
        response = client.post(url, {"answer": "In Q3.", "version": question.version})
    assert response.status_code == status
    question.refresh_from_db()
    assert (question.answer == "In Q3.") == (status == 302)
    assert len(mailoutbox) == (1 if status == 302 else 0)
    if status == 302:
        assert response["Location"].endswith(f"f={question.feedback_id}")


def test_a_stale_answer_is_refused_with_a_message(as_user, pm, teammate, link, entry):
    question = asked_and_confirmed(link[0], entry)
    version = question.version
    services.answer_question(teammate, question=question, answer="Theirs", expected_version=version)
    url = reverse("questions:answer", args=["acme", "PAY", question.pk])
    response = as_user(pm).post(url, {"answer": "Mine", "version": version}, follow=True)
    assert "Someone else answered first" in response.content.decode()
    assert Question.objects.get(pk=question.pk).answer == "Theirs"


def test_an_empty_or_too_long_answer_is_refused(as_user, pm, link, entry):
    question = asked_and_confirmed(link[0], entry)
    url = reverse("questions:answer", args=["acme", "PAY", question.pk])
    for answer in ("", "x" * 5001):
        response = as_user(pm).post(
            url, {"answer": answer, "version": question.version}, follow=True
        )
        assert "The answer was not saved" in response.content.decode()
    assert Question.objects.get(pk=question.pk).answer == ""


def test_other_feedback_gets_no_panel_and_no_query(
    as_user, pm, product, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from feedback import services as feedback
    from feedback.panels import panels_for

    item = feedback.create_feedback(pm, product=product, text="Plain feedback")
    with CaptureQueriesContext(connection) as queries:
        assert panels_for(None, item) == []
    assert len(queries.captured_queries) == 0
