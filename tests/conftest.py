"""Persona fixtures, as in healthchecks' Alice/Bob/Charlie:

- ``pm``: owner of ``workspace`` (the product manager)
- ``teammate``: editor in ``workspace``
- ``viewer``: viewer in ``workspace``
- ``stranger``: owner of another workspace, member of nothing here
"""

import logging
import os

import pytest
from django.core.signals import got_request_exception
from django.db import connection
from rest_framework.test import APIClient

from pmhub.accounts.models import Role
from pmhub.accounts.services import create_api_token

from .factories import (
    CompetitorFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    PersonaFactory,
    ProductFactory,
    WorkspaceFactory,
)

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally when a service or browser is missing; fail loudly in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}: refusing to skip", pytrace=False)
    pytest.skip(reason)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


class _ServerErrors(logging.Handler):
    """Collects what Django logs for a 5xx answer (``django.request`` ERROR:
    an unhandled exception, or a view that answered 500 itself)."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record):
        self.seen.append(record.getMessage())

    def on_exception(self, sender, request=None, **kwargs):
        path = getattr(request, "path", "?")
        self.seen.append(f"unhandled exception on {path}")


@pytest.fixture(autouse=True)
def server_errors_fail_the_test(request):
    """A 500 anywhere fails the test, wherever it happens: the test client,
    the live server of the browser tests, schemathesis's WSGI calls, a stream
    that dies half-way. A test that provokes one on purpose says so with
    ``@pytest.mark.server_error_expected``."""
    if request.node.get_closest_marker("server_error_expected"):
        yield
        return
    collector = _ServerErrors()
    logger = logging.getLogger("django.request")
    logger.addHandler(collector)
    got_request_exception.connect(collector.on_exception, weak=False)
    try:
        yield
    finally:
        logger.removeHandler(collector)
        got_request_exception.disconnect(collector.on_exception)
    if collector.seen:
        pytest.fail("server error(s) during the test: " + "; ".join(collector.seen[:5]))


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(name="Acme", slug="acme")


@pytest.fixture
def pm(workspace):
    return MembershipFactory(workspace=workspace, role=Role.OWNER, user__username="pm").user


@pytest.fixture
def teammate(workspace):
    return MembershipFactory(workspace=workspace, role=Role.EDITOR, user__username="teammate").user


@pytest.fixture
def admin_member(workspace):
    return MembershipFactory(workspace=workspace, role=Role.ADMIN, user__username="admin").user


@pytest.fixture
def viewer(workspace):
    return MembershipFactory(workspace=workspace, role=Role.VIEWER, user__username="viewer").user


@pytest.fixture
def stranger(db):
    other = WorkspaceFactory(name="Other Co", slug="other")
    return MembershipFactory(workspace=other, role=Role.OWNER, user__username="stranger").user


@pytest.fixture
def product(workspace, pm):
    return ProductFactory(workspace=workspace, name="Payments", key="PAY")


@pytest.fixture
def objective(product):
    return ObjectiveFactory(product=product, title="Grow conversion")


@pytest.fixture
def key_result(objective):
    return KeyResultFactory(objective=objective, name="Checkout conversion")


@pytest.fixture
def competitor(product):
    return CompetitorFactory(product=product, name="Stripe")


@pytest.fixture
def persona(product):
    return PersonaFactory(product=product, name="Maya")


@pytest.fixture
def strategy(product, objective, key_result, competitor, persona):
    """A product with one of everything."""
    return product


def api_client_for(user, *, read_only=False) -> APIClient:
    _token, raw = create_api_token(user, name="test", read_only=read_only)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(pm):
    return api_client_for(pm)


@pytest.fixture
def as_user(client):
    """Log the test client in as a user: ``as_user(viewer).get(...)``."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def _celery_join_flag_reset():
    """Eager tasks run in threads (the concurrency tests' writers now queue
    the event log's dispatch on commit) race on Celery's process-global
    "task join will block" flag and can leave it set, after which any
    ``result.get()`` in the test process raises "Never call result.get()
    within a task". Each test starts with it cleared."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield
