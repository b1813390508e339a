"""The operator's view: /healthz, /metrics, request ids in and out, JSON log
lines, and the request id carried into the tasks a request enqueues."""

import datetime as dt
import json
import logging

import pytest
from django.test import override_settings
from django.utils import timezone

from metrics import services as metrics
from metrics.models import DirtyDay
from pmhub import celery as pmhub_celery
from pmhub.celery import app
from pmhub.observability import (
    HEADER,
    REQUESTS_KEY,
    TASKS_KEY,
    Counters,
    JsonFormatter,
    RequestIdFilter,
    counters,
    request_id_var,
    reset_counters,
)
from tests.roadmaps.conftest import items, nnl, timeline  # noqa: F401  (fixtures)

from ..conftest import api_client_for

TOKEN = "scrape-secret-0123456789"


@pytest.fixture
def metric(product, pm):
    return metrics.create_metric(pm, product=product, name="Signups", aggregation="sum")


@pytest.fixture
def fresh_counters():
    """The counters from zero (in Redis too, when CACHE_URL names one)."""
    reset_counters()
    shared = counters()
    if shared.client is not None:
        shared.client.delete(REQUESTS_KEY, TASKS_KEY)
    yield shared
    if shared.client is not None:
        shared.client.delete(REQUESTS_KEY, TASKS_KEY)
    reset_counters()


# --- /healthz -------------------------------------------------------------------------


def test_healthz_reports_the_database_and_no_pending_work(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["database"], body["status"], body["oldest_pending"]) == ("ok", "ok", None)


@pytest.mark.server_error_expected  # the 503 is the point
def test_healthz_is_503_when_the_database_is_down(client, db, monkeypatch):
    class DownConnection:
        def cursor(self):
            raise OSError("connection refused")

    monkeypatch.setattr("ops.views.connection", DownConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("error")


def test_healthz_reports_the_oldest_pending_background_work(client, metric):
    marked = timezone.now() - dt.timedelta(minutes=10)
    DirtyDay.objects.create(metric=metric, day=dt.date(2026, 1, 1), marked_at=marked)
    DirtyDay.objects.create(metric=metric, day=dt.date(2026, 1, 2))
    body = client.get("/healthz").json()
    assert body["pending"]["metric_rollups"] == 2
    oldest = body["oldest_pending"]
    assert oldest["kind"] == "metric_rollups"
    assert oldest["since"] == marked.isoformat()
    assert 590 < oldest["age_seconds"] < 3600


def test_healthz_checks_the_broker_on_a_pooled_connection(client, db, monkeypatch):
    """Two checks, one connection: the pool's, not a new one per call."""
    monkeypatch.setattr("django.conf.settings.CELERY_TASK_ALWAYS_EAGER", False)
    seen = []
    acquire = app.pool.acquire

    def recording_acquire(*args, **kwargs):
        conn = acquire(*args, **kwargs)
        seen.append(conn.connection if hasattr(conn, "connection") else conn)
        return conn

    monkeypatch.setattr(app.pool, "acquire", recording_acquire)
    opened = []
    monkeypatch.setattr(app, "connection_for_write", lambda *a, **k: opened.append(1))
    for _ in range(2):
        assert client.get("/healthz").json()["broker"] == "ok"
    assert len(seen) == 2 and seen[0] is seen[1]
    assert opened == []


# --- /metrics -------------------------------------------------------------------------


def test_metrics_does_not_exist_without_a_token_setting(client, db):
    assert client.get("/metrics").status_code == 404


@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_needs_the_token(client, db):
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"].startswith("Bearer")


@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_reports_latency_by_view_tasks_and_pending_work(client, pm, metric, fresh_counters):
    api = api_client_for(pm)
    for _ in range(3):
        assert api.get("/api/v1/products/").status_code == 200
    fresh_counters.task("backlog.tasks.recompute", "failure")
    fresh_counters.task("backlog.tasks.recompute", "retry")
    DirtyDay.objects.create(metric=metric, day=dt.date(2026, 1, 1))
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    labels = 'method="GET",status="2xx",view="product-list"'
    assert f"pmhub_http_request_duration_seconds_count{{{labels}}} 3.0" in text
    assert f'pmhub_http_request_duration_seconds_bucket{{le="+Inf",{labels}}} 3.0' in text
    assert 'pmhub_celery_tasks_total{outcome="failure",task="backlog.tasks.recompute"} 1.0' in text
    assert 'pmhub_celery_tasks_total{outcome="retry",task="backlog.tasks.recompute"} 1.0' in text
    assert 'pmhub_pending_work{kind="metric_rollups"} 1.0' in text
    assert 'pmhub_pending_work_oldest_seconds{kind="metric_rollups"}' in text


def test_histogram_buckets_are_cumulative():
    shared = Counters()
    for seconds in (0.001, 0.02, 0.02, 3.0, 30.0):
        shared.observe_request("v", "GET", 200, seconds)
    from ops.collect import request_histogram

    family = request_histogram(shared.read(REQUESTS_KEY))
    samples = {(s.name, s.labels.get("le")): s.value for s in family.samples}
    assert samples[("pmhub_http_request_duration_seconds_bucket", "0.005")] == 1
    assert samples[("pmhub_http_request_duration_seconds_bucket", "0.025")] == 3
    assert samples[("pmhub_http_request_duration_seconds_bucket", "5.0")] == 4
    assert samples[("pmhub_http_request_duration_seconds_bucket", "+Inf")] == 5
    assert samples[("pmhub_http_request_duration_seconds_count", None)] == 5


# --- request ids and logs ---------------------------------------------------------


def test_a_request_gets_an_id_and_answers_it(client, db):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first[HEADER]) == 32 and first[HEADER] != second[HEADER]


def test_a_sane_incoming_request_id_is_kept_and_a_bad_one_replaced(client, db):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42")[HEADER] == "lb-7f3a.42"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n<script>")[HEADER]
    assert replaced != "bad id\n<script>" and len(replaced) == 32


def test_json_log_lines_carry_the_request_id_and_extras():
    record = logging.makeLogRecord(
        {"name": "pmhub.x", "levelno": 30, "levelname": "WARNING", "msg": "slow %s", "args": (3,)}
    )
    record.item = 42
    token = request_id_var.set("req-1")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "slow 3" and line["level"] == "WARNING"
    assert line["request_id"] == "req-1" and line["item"] == 42
    assert line["time"].endswith("Z")


def test_log_format_json_is_the_console_format(monkeypatch):
    import importlib

    from pmhub import settings as pmhub_settings

    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    try:
        module = importlib.reload(pmhub_settings)
        assert module.LOGGING["handlers"]["console"]["formatter"] == "json"
        assert module.CELERY_WORKER_HIJACK_ROOT_LOGGER is False
    finally:
        monkeypatch.delenv("LOG_FORMAT")
        importlib.reload(pmhub_settings)


def test_tasks_a_request_enqueues_carry_its_id(db):
    headers = {}
    token = request_id_var.set("req-9")
    try:
        pmhub_celery._send_request_id(headers=headers)
    finally:
        request_id_var.reset(token)
    assert headers == {"request_id": "req-9"}

    class Task:
        class request:
            request_id = "req-9"

    pmhub_celery._receive_request_id(task_id="t1", task=Task)
    assert request_id_var.get() == "req-9"
    pmhub_celery._forget_request_id(task_id="t1", state="RETRY", task=Task)
    assert request_id_var.get() is None


def test_an_eager_task_keeps_the_request_id_it_runs_in_and_a_beat_task_gets_its_own(db):
    class Task:
        class request:
            request_id = None

    token = request_id_var.set("req-eager")
    try:
        pmhub_celery._receive_request_id(task_id="t2", task=Task)
        assert request_id_var.get() == "req-eager"
        pmhub_celery._forget_request_id(task_id="t2", state="SUCCESS", task=Task)
    finally:
        request_id_var.reset(token)
    pmhub_celery._receive_request_id(task_id="t3", task=Task)
    assert request_id_var.get() == "task-t3"
    pmhub_celery._forget_request_id(task_id="t3", state="SUCCESS", task=Task)


# --- the pending work of discussions, questions and archives -------------------------


@override_settings(METRICS_TOKEN=TOKEN)
def test_notification_and_answer_emails_and_archive_jobs_waiting_are_pending_work(
    client,
    pm,
    workspace,
    nnl,  # noqa: F811  (a fixture)
    items,  # noqa: F811  (a fixture)
):
    from archive.models import ArchiveJob
    from discussions.models import EmailState, Notification
    from questions.models import AnswerEmail, Question
    from roadmaps import services as roadmaps

    long_ago = timezone.now() - dt.timedelta(hours=2)
    for state, created in ((EmailState.PENDING, long_ago), (EmailState.DIGEST, long_ago)):
        Notification.objects.create(
            workspace=workspace,
            recipient=pm,
            kind="mention",
            event_id=None,
            verb="comment.created",
            object_type="backlog.item",
            object_id=items[0].pk,
            email_state=state,
            created_at=created,
        )
    link, _token = roadmaps.create_share_link(pm, roadmap=nnl, label="Board")
    question = Question.objects.create(
        share_link=link,
        entry=nnl.entries.first(),
        text="When?",
        email="asker@example.com",
        verified_at=timezone.now(),
    )
    AnswerEmail.objects.create(question=question, email="a@example.com", answer_version=2)
    AnswerEmail.objects.create(
        question=question, email="b@example.com", answer_version=2, sent_at=timezone.now()
    )
    for state in ArchiveJob.State:
        ArchiveJob.objects.create(
            kind=ArchiveJob.Kind.EXPORT, workspace=workspace, created_by=pm, state=state
        )

    body = client.get("/healthz").json()
    # The digest's notifications are not late: the digest runs once a day.
    assert body["pending"]["notification_emails"] == 1
    assert body["pending"]["answer_emails"] == 1
    assert body["pending"]["archive_jobs"] == 2  # queued and running
    assert body["oldest_pending"]["kind"] == "notification_emails"
    assert body["oldest_pending"]["since"] == long_ago.isoformat()

    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    for kind, count in (("notification_emails", 1), ("answer_emails", 1), ("archive_jobs", 2)):
        assert f'pmhub_pending_work{{kind="{kind}"}} {count}.0' in text
        assert f'pmhub_pending_work_oldest_seconds{{kind="{kind}"}}' in text
