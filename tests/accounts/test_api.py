"""REST API authentication (personal access tokens, sessions), token scopes,
throttling, and the read-only workspaces endpoint."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from pmhub.accounts.models import ApiToken, Role, Workspace, hash_token
from pmhub.accounts.services import create_api_token, revoke_api_token
from pmhub.api.throttles import UserThrottle
from products.models import Competitor, KeyResult, Objective, Persona, Product
from tests.conftest import api_client_for
from tests.factories import MembershipFactory, WorkspaceFactory

WORKSPACES = reverse("workspace-list")
PRODUCTS = reverse("product-list")


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


# --- tokens ---------------------------------------------------------------------------


def test_token_authenticates_api_requests(pm, product):
    _token, raw = create_api_token(pm, name="CI")
    response = bearer(raw).get(PRODUCTS)
    assert response.status_code == 200
    assert [row["key"] for row in response.json()["results"]] == ["PAY"]


def test_database_stores_only_the_token_hash(pm):
    token, raw = create_api_token(pm, name="CI")
    bearer(raw).get(WORKSPACES)  # using it must not store it either

    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(raw in str(value) for value in row.values())
    assert row["token_hash"] == hash_token(raw)
    assert len(row["prefix"]) < len(raw)


def test_revoked_token_is_401(pm, product):
    token, raw = create_api_token(pm, name="CI")
    client = bearer(raw)
    assert client.get(PRODUCTS).status_code == 200

    revoke_api_token(pm, token=token)

    response = client.get(PRODUCTS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_expired_token_is_401(pm, product):
    token, raw = create_api_token(pm, name="CI", expires_at=timezone.now() + timedelta(hours=1))
    client = bearer(raw)
    assert client.get(PRODUCTS).status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client.get(PRODUCTS).status_code == 401


def test_token_of_a_deactivated_user_is_401(pm, product):
    _token, raw = create_api_token(pm, name="CI")
    pm.is_active = False
    pm.save(update_fields=["is_active"])
    assert bearer(raw).get(PRODUCTS).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer pmh_not-a-real-token", "Bearer", "Bearer two parts", "bearer pmh_nope"],
)
def test_unknown_or_malformed_token_is_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(WORKSPACES)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_no_credentials_is_401_with_a_bearer_challenge(db):
    response = APIClient().get(WORKSPACES)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "detail" in response.json()


def test_last_used_at_is_recorded_on_use(pm):
    token, raw = create_api_token(pm, name="CI")
    assert token.last_used_at is None

    before = timezone.now()
    bearer(raw).get(WORKSPACES)

    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at >= before


def test_reads_within_a_minute_do_not_rewrite_last_used_at(pm, product):
    token, raw = create_api_token(pm, name="CI")
    client = bearer(raw)
    client.get(PRODUCTS)
    first_use = ApiToken.objects.get(pk=token.pk).last_used_at

    with CaptureQueriesContext(connection) as ctx:
        client.get(PRODUCTS)

    assert ApiToken.objects.get(pk=token.pk).last_used_at == first_use
    assert not [q for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]


# --- read-only tokens ---------------------------------------------------------------


def _targets(strategy) -> dict:
    """resource -> (model, one existing row, a valid POST body, a valid PATCH body)."""
    objective = Objective.objects.get()
    return {
        "product": (
            Product,
            strategy,
            {"workspace": strategy.workspace_id, "name": "Billing", "key": "BILL"},
            {"name": "Renamed"},
        ),
        "objective": (
            Objective,
            objective,
            {"product": strategy.pk, "title": "Retain"},
            {"title": "Renamed"},
        ),
        "key-result": (
            KeyResult,
            KeyResult.objects.get(),
            {"objective": objective.pk, "name": "Churn", "target_value": 2, "start_value": 5},
            {"name": "Renamed"},
        ),
        "competitor": (
            Competitor,
            Competitor.objects.get(),
            {"product": strategy.pk, "name": "Adyen"},
            {"name": "Renamed"},
        ),
        "persona": (
            Persona,
            Persona.objects.get(),
            {"product": strategy.pk, "name": "Sam"},
            {"name": "Renamed"},
        ),
    }


@pytest.mark.parametrize(
    "resource", ["product", "objective", "key-result", "competitor", "persona"]
)
def test_read_only_token_reads_but_cannot_write(pm, strategy, resource):
    model, obj, create_body, patch_body = _targets(strategy)[resource]
    client = api_client_for(pm, read_only=True)
    detail = reverse(f"{resource}-detail", args=[obj.pk])
    count = model.objects.count()

    assert client.get(reverse(f"{resource}-list")).status_code == 200
    assert client.get(detail).status_code == 200
    assert client.post(reverse(f"{resource}-list"), create_body).status_code == 403
    assert client.patch(detail, patch_body, headers={"If-Match": '"1"'}).status_code == 403
    assert client.put(detail, patch_body, headers={"If-Match": '"1"'}).status_code == 403
    assert client.delete(detail, headers={"If-Match": '"1"'}).status_code == 403

    assert model.objects.count() == count
    assert model.objects.get(pk=obj.pk).version == 1


def test_read_only_token_cannot_edit_the_vision(pm, product):
    url = reverse("product-vision", args=[product.pk])
    client = api_client_for(pm, read_only=True)
    assert client.get(url).status_code == 200
    response = client.patch(url, {"statement": "Nope"})
    assert response.status_code == 403
    assert response.json()["detail"] == "This API token is read-only."
    assert product.vision.__class__.objects.get(product=product).version == 1


def test_read_write_token_of_the_same_user_can_write(pm, product):
    response = api_client_for(pm).patch(reverse("product-detail", args=[product.pk]), {"name": "X"})
    assert response.status_code == 200


# --- sessions (the browser) ---------------------------------------------------------


def test_logged_in_browser_session_can_use_the_api(viewer, product):
    client = APIClient()
    client.force_login(viewer)
    response = client.get(PRODUCTS)
    assert response.status_code == 200
    assert [row["key"] for row in response.json()["results"]] == ["PAY"]


def test_session_writes_need_a_csrf_token(pm, product):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(pm)
    response = client.patch(reverse("product-detail", args=[product.pk]), {"name": "CSRF"})
    assert response.status_code == 403
    assert Product.objects.get(pk=product.pk).name == "Payments"


# --- throttling ---------------------------------------------------------------------


class Clock:
    """The throttle's clock, set by the test (windows are aligned to it)."""

    now = 6_000_000.0  # a minute's start

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(UserThrottle, "timer", staticmethod(clock))
    return clock


@pytest.fixture
def tight_user_throttle(monkeypatch, clock):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "3/min")
    cache.clear()
    yield
    cache.clear()


def test_throttled_requests_get_429_with_retry_after(api, tight_user_throttle, clock):
    clock.now += 15
    statuses = [api.get(WORKSPACES).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get(WORKSPACES)
    assert response.status_code == 429
    assert response["Retry-After"] == "45"  # the end of the minute


def test_the_next_window_starts_a_new_count(api, tight_user_throttle, clock):
    assert [api.get(WORKSPACES).status_code for _ in range(4)] == [200, 200, 200, 429]
    clock.now += 59
    assert api.get(WORKSPACES).status_code == 429
    clock.now += 1
    assert [api.get(WORKSPACES).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_the_throttle_keeps_one_counter_per_user_and_window(api, pm, tight_user_throttle, clock):
    """O(1) per request: a number under one key, not a list of timestamps."""
    for _ in range(2):
        api.get(WORKSPACES)
    key = f"throttle_user_{pm.pk}:{int(clock.now)}"
    assert cache.get(key) == 2


# --- workspaces -----------------------------------------------------------------------


def test_workspaces_list_only_mine_with_my_role(pm, viewer, stranger, workspace):
    pm_rows = api_client_for(pm).get(WORKSPACES).json()["results"]
    assert [(row["slug"], row["role"]) for row in pm_rows] == [("acme", "owner")]

    viewer_rows = api_client_for(viewer).get(WORKSPACES).json()["results"]
    assert [(row["slug"], row["role"]) for row in viewer_rows] == [("acme", "viewer")]

    stranger_rows = api_client_for(stranger).get(WORKSPACES).json()["results"]
    assert [(row["slug"], row["role"]) for row in stranger_rows] == [("other", "owner")]


def test_workspace_detail_of_another_workspace_is_404(stranger, workspace):
    client = api_client_for(stranger)
    assert client.get(reverse("workspace-detail", args=[workspace.pk])).status_code == 404


def test_workspace_detail(api, workspace):
    response = api.get(reverse("workspace-detail", args=[workspace.pk]))
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["slug"], body["role"], body["version"]) == (
        "Acme",
        "acme",
        "owner",
        1,
    )


def test_workspaces_are_read_only(api, workspace):
    detail = reverse("workspace-detail", args=[workspace.pk])
    assert api.post(WORKSPACES, {"name": "New", "slug": "new"}).status_code == 405
    assert api.patch(detail, {"name": "Renamed"}).status_code == 405
    assert api.delete(detail).status_code == 405
    assert Workspace.objects.get(pk=workspace.pk).name == "Acme"


def test_workspaces_are_paginated_and_filterable(pm, workspace):
    for slug in ["b", "c", "d"]:
        MembershipFactory(workspace=WorkspaceFactory(slug=slug), user=pm, role=Role.EDITOR)
    client = api_client_for(pm)

    first = client.get(WORKSPACES, {"page_size": 2}).json()
    assert set(first) == {"next", "previous", "results"}
    second = client.get(first["next"]).json()
    assert len(first["results"]) + len(second["results"]) == 4
    assert second["next"] is None

    by_slug = client.get(WORKSPACES, {"slug": "c"}).json()["results"]
    assert [(row["slug"], row["role"]) for row in by_slug] == [("c", "editor")]


def test_workspaces_updated_since(pm, workspace):
    recent = WorkspaceFactory(slug="recent")
    MembershipFactory(workspace=recent, user=pm)
    cutoff = timezone.now() - timedelta(hours=1)
    Workspace.objects.filter(pk=workspace.pk).update(updated_at=cutoff - timedelta(days=1))

    rows = api_client_for(pm).get(WORKSPACES, {"updated_since": cutoff.isoformat()}).json()
    assert [row["slug"] for row in rows["results"]] == ["recent"]


def test_workspaces_list_query_count_does_not_grow_with_rows(
    pm, workspace, django_assert_max_num_queries
):
    def add_workspaces(n):
        for _ in range(n):
            MembershipFactory(workspace=WorkspaceFactory(), user=pm, role=Role.VIEWER)

    client = api_client_for(pm)
    add_workspaces(2)
    client.get(WORKSPACES)  # first use of the token records last_used_at

    with django_assert_max_num_queries(2):
        client.get(WORKSPACES)
    with CaptureQueriesContext(connection) as three:
        client.get(WORKSPACES)
    add_workspaces(10)
    with CaptureQueriesContext(connection) as thirteen:
        rows = client.get(WORKSPACES).json()["results"]

    assert len(rows) == 13
    assert len(thirteen.captured_queries) == len(three.captured_queries)
