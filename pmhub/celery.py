"""Celery application, following Celery's Django recipe, plus what an
operator needs from the workers: the request id of the request that enqueued
a task travels in the task's headers and is set while it runs (so its log
lines carry it), and task outcomes are counted for ``/metrics``."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmhub.settings")

app = Celery("pmhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_tokens = {}


@signals.before_task_publish.connect
def _send_request_id(headers=None, **kwargs):
    from pmhub.observability import current_request_id

    rid = current_request_id()
    if rid and headers is not None and "request_id" not in headers:
        headers["request_id"] = rid


@signals.task_prerun.connect
def _receive_request_id(task_id=None, task=None, **kwargs):
    from pmhub.observability import current_request_id, request_id_var

    # The enqueuing request's id; an eager task keeps the one it runs in; a
    # beat job's task gets its own.
    rid = getattr(task.request, "request_id", None) or current_request_id() or f"task-{task_id}"
    _tokens[task_id] = request_id_var.set(rid)


@signals.task_postrun.connect
def _forget_request_id(task_id=None, state=None, task=None, **kwargs):
    from pmhub.observability import counters, request_id_var

    token = _tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)
    if state in ("SUCCESS", "FAILURE") and task is not None:
        counters().task(getattr(task, "name", "unknown"), state.lower())


@signals.task_retry.connect
def _count_retry(sender=None, **kwargs):
    from pmhub.observability import counters

    counters().task(getattr(sender, "name", "unknown"), "retry")
