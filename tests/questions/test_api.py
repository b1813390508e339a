"""The questions API: members read, editors answer with If-Match (412 when
stale), admins switch a link; other workspaces get 404."""

import pytest
from django.urls import reverse

from questions import services
from tests.conftest import api_client_for

from .test_services import asked_and_confirmed

QUESTIONS = reverse("question-list")
SETTINGS = reverse("question-settings-list")


def detail(question, action=""):
    return reverse("question-detail", args=[question.pk]) + (f"{action}/" if action else "")


def test_list_read_and_answer(api, link, entry, mailoutbox):
    question = asked_and_confirmed(link[0], entry)
    listed = api.get(QUESTIONS, {"share_link": link[0].pk, "answered": "false"}).json()
    assert [q["id"] for q in listed["results"]] == [question.pk]
    body = listed["results"][0]
    assert body["verified"] is True and body["item"] == entry.item_id and body["plus_ones"] == 0
    etag = api.get(detail(question))["ETag"]
    ok = api.post(detail(question, "answer"), {"answer": "Yes"}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok.json()["answer"] == "Yes"
    stale = api.post(
        detail(question, "answer"), {"answer": "No"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412
    assert api.get(QUESTIONS, {"answered": "true"}).json()["results"][0]["answer"] == "Yes"
    assert api.get(QUESTIONS, {"answerd": "true"}).status_code == 400


def test_permissions(link, entry, viewer, stranger):
    question = asked_and_confirmed(link[0], entry)
    reader = api_client_for(viewer)
    assert reader.get(detail(question)).status_code == 200
    assert (
        reader.post(detail(question, "answer"), {"answer": "x"}, format="json").status_code == 403
    )
    outsider = api_client_for(stranger)
    assert outsider.get(detail(question)).status_code == 404
    assert (
        outsider.post(detail(question, "answer"), {"answer": "x"}, format="json").status_code == 404
    )
    assert outsider.get(QUESTIONS).json()["results"] == []


@pytest.mark.parametrize(("who", "status"), [("pm", 200), ("teammate", 403), ("stranger", 400)])
def test_switching_a_link(request, quiet_link, who, status):
    link, _token = quiet_link
    client = api_client_for(request.getfixturevalue(who))
    response = client.post(
        SETTINGS, {"share_link": link.pk, "allow_questions": True}, format="json"
    )
    assert response.status_code == status
    assert services.questions_allowed(link) == (status == 200)


def test_a_too_long_answer_is_a_400(api, link, entry):
    question = asked_and_confirmed(link[0], entry)
    response = api.post(detail(question, "answer"), {"answer": "x" * 10_000}, format="json")
    assert response.status_code == 400 and "answer" in response.json()


def test_lists_read_a_constant_number_of_queries(api, link, entry, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n, start):
        for i in range(start, start + n):
            question = asked_and_confirmed(link[0], entry, email=f"p{i}@b.example", ip=f"ip{i}")
            services.plus_one(
                link=link[0], question_id=question.pk, email=f"v{i}@b.example", ip="v"
            )

    add(3, 0)
    with CaptureQueriesContext(connection) as small:
        assert len(api.get(QUESTIONS).json()["results"]) == 3
    add(4, 3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(api.get(QUESTIONS).json()["results"]) == 7
