"""The OpenAPI schema: generated without warnings, valid, served with local
docs, and true to the API (schemathesis checks real responses against it)."""

import os
import re

import pytest
import schemathesis
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import resolve
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from pmhub.accounts.services import create_api_token
from pmhub.wsgi import application

# Loaded at import time: schemathesis's pytest fixture loader breaks on pytest 9.2.
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", application)
# Schema-valid requests (every response documented, no 5xx, bodies as the
# schema says) and schema-violating ones (each rejected with a documented 4xx).
# NUL characters are left out of valid ones: no text column can store them,
# and every edge refuses them with a documented 400 (tests/test_input_edges.py).
# The token goes in as a header below, so the security scheme is not fuzzed.
SCHEMA.config.generation.update(
    modes=list(GenerationMode), allow_x00=False, with_security_parameters=False
)
# The example budget per operation: small in the normal suite (CI), 25+ for
# `make fuzz` (FUZZ_EXAMPLES). The seed is fixed (derandomize) either way.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0"))


def test_schema_generates_valid_and_without_warnings(tmp_path, capsys):
    out = tmp_path / "openapi.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    captured = capsys.readouterr()
    assert "Warning" not in captured.err + captured.out
    assert "Error" not in captured.err + captured.out
    text = out.read_text()
    assert text.startswith("openapi: 3")
    for path in ("/api/v1/products/{id}/vision/", "/api/v1/objectives/", "/api/v1/workspaces/"):
        assert path in text


def test_schema_endpoint_serves_the_schema(as_user, pm):
    response = as_user(pm).get("/api/schema/")
    assert response.status_code == 200
    assert b"PMHub API" in response.content


def test_api_docs_load_without_any_cdn(as_user, pm):
    client = as_user(pm)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    for cdn in ("cdn.jsdelivr", "unpkg", "cdnjs", "googleapis"):
        assert cdn not in html

    # The init script the page loads is local and points at the local schema.
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()
    for cdn in ("cdn.jsdelivr", "unpkg"):
        assert cdn not in script.content.decode()


# --- schemathesis ---------------------------------------------------------------------


@pytest.fixture
def requests_keep_the_test_connection():
    """Requests through the WSGI app fire request_started/finished, whose
    close_old_connections would close the test's transaction on PostgreSQL."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def owner_token(pm, strategy, teammate, viewer):
    """A bearer token for the pm, who owns a workspace with one of everything.
    Throttle history is cleared: hundreds of requests here must not eat into
    the rate of the tests that follow (user ids repeat from test to test)."""
    _token, raw = create_api_token(pm, name="schemathesis")
    cache.clear()
    yield raw
    cache.clear()


def real_id(path: str) -> int | None:
    """The id of an existing row behind a detail path (``/api/v1/products/{id}/``),
    so the checks see successful responses too; None when there is no such row."""
    view = resolve(re.sub(r"\{[^}/]+\}", "1", path)).func
    model = view.cls.serializer_class.Meta.model
    return model._default_manager.values_list("pk", flat=True).first()


SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES or 10,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.generate],  # the explicit phase adds hundreds of unbounded coverage cases
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _is_positive(case) -> bool:
    return not case.meta.generation.mode.is_negative


@SCHEMA.include(method="GET").parametrize()
@SETTINGS
def test_read_operations_conform_to_the_schema(
    case, owner_token, requests_keep_the_test_connection
):
    headers = {"Authorization": f"Bearer {owner_token}"}
    # A cursor is opaque: only one from a `next` link is accepted, any other
    # string (schema-valid as it is) is a documented 400. So is an event type
    # the feed does not know (`types` is a free comma-separated list).
    crafted_cursor = bool({"cursor", "after", "types"} & set(case.query or {}))
    case.call_and_validate(
        headers=headers, excluded_checks=[positive_data_acceptance] if crafted_cursor else []
    )
    if "{id}" not in case.path or case.meta.is_negative_at(ParameterLocation.PATH):
        return
    pk = real_id(case.path)
    if pk is not None:  # the same request on a row that exists
        case.path_parameters["id"] = pk
        response = case.call_and_validate(
            headers=headers, excluded_checks=[positive_data_acceptance] if crafted_cursor else []
        )
        if _is_positive(case) and not crafted_cursor:
            assert response.status_code == 200


@SCHEMA.exclude(method="GET").parametrize()
@settings(SETTINGS, max_examples=FUZZ_EXAMPLES or 8)
def test_write_operations_conform_to_the_schema(
    case, owner_token, requests_keep_the_test_connection
):
    if "{id}" in case.path and not case.meta.is_negative_at(ParameterLocation.PATH):
        case.path_parameters["id"] = real_id(case.path) or case.path_parameters["id"]
    # Schema-valid input may still break a business rule (an id you cannot
    # see, a duplicate key, target == start): a documented 400, not a failure.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {owner_token}"},
        excluded_checks=[positive_data_acceptance],
    )


@pytest.mark.parametrize("path", ["/api/v1/products/0.5/", "/api/v1/nothing-here/"])
def test_unrouted_api_paths_answer_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_unrouted_page_paths_keep_the_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Not found" in response.content
