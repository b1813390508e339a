"""The suite's guard against 500s (``server_errors_fail_the_test`` in
tests/conftest.py): what it collects, and that every test has it."""

import logging

import pytest
from django.core.signals import got_request_exception
from django.http import HttpResponse, HttpResponseServerError
from django.test import Client
from django.urls import path

from tests.conftest import _ServerErrors


def _raises(request):
    raise RuntimeError("boom")


def _answers_500(request):
    return HttpResponseServerError("broken")


def _fine(request):
    return HttpResponse("ok")


urlpatterns = [
    path("raises/", _raises),
    path("answers-500/", _answers_500),
    path("fine/", _fine),
]


@pytest.fixture
def collector():
    errors = _ServerErrors()
    logger = logging.getLogger("django.request")
    logger.addHandler(errors)
    got_request_exception.connect(errors.on_exception, weak=False)
    yield errors
    logger.removeHandler(errors)
    got_request_exception.disconnect(errors.on_exception)


@pytest.mark.urls("tests.test_server_errors")
@pytest.mark.server_error_expected
@pytest.mark.parametrize("url", ["/raises/", "/answers-500/"])
def test_an_unhandled_exception_or_a_500_answer_is_collected(db, collector, url):
    response = Client(raise_request_exception=False).get(url)

    assert response.status_code == 500
    assert collector.seen and url in " ".join(collector.seen)


@pytest.mark.urls("tests.test_server_errors")
def test_a_good_answer_is_not_collected(db, collector):
    assert Client().get("/fine/").status_code == 200
    assert collector.seen == []


def test_every_test_runs_under_the_guard(request):
    assert "server_errors_fail_the_test" in request.fixturenames
