"""Workspace settings → Webhooks: owners and admins only (404 for editors,
viewers and strangers), the secret shown once, edit with a conflict, rotate,
enable/disable, delete, the delivery log's keyset pages, resend and test."""

import pytest
from django.urls import reverse

from pmhub.webhooks import services
from pmhub.webhooks.models import WebhookDelivery, WebhookEndpoint

from .conftest import record_event

pytestmark = pytest.mark.django_db


def url(name, workspace, *args):
    return reverse(f"webhooks:{name}", args=[workspace.slug, *args])


@pytest.mark.parametrize("who", ["teammate", "viewer", "stranger"])
def test_only_admins_see_the_pages(request, who, workspace, endpoint, as_user):
    client = as_user(request.getfixturevalue(who))
    pages = [url("list", workspace), url("new", workspace), url("endpoint", workspace, endpoint.pk)]
    for page in pages:
        assert client.get(page).status_code == 404
    for action in ("test", "disable", "delete", "rotate"):
        assert client.post(url(action, workspace, endpoint.pk)).status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).exists()


def test_the_members_page_links_admins_to_webhooks(workspace, pm, teammate, as_user):
    link = url("list", workspace)
    assert link in as_user(pm).get(reverse("accounts:members", args=[workspace.slug])).text
    assert (
        link not in as_user(teammate).get(reverse("accounts:members", args=[workspace.slug])).text
    )


def test_create_shows_the_secret_once(workspace, admin_member, as_user):
    client = as_user(admin_member)
    response = client.post(
        url("new", workspace),
        {"url": "https://hooks.example.com/in", "event_types": ["item.moved", "item.created"]},
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.text and 'data-copy="#new-secret"' in response.text
    assert endpoint.event_types == ["item.created", "item.moved"]
    again = client.get(url("endpoint", workspace, endpoint.pk))
    assert endpoint.secret not in again.text


@pytest.mark.parametrize(
    "bad",
    ["ftp://example.com/", "http://127.0.0.1/hook", "https://u:p@example.com/", "http://[::1]/"],
)
def test_a_bad_url_is_a_field_error(workspace, pm, as_user, bad):
    response = as_user(pm).post(url("new", workspace), {"url": bad})
    assert response.status_code == 200
    assert "has-error" in response.text and not WebhookEndpoint.objects.exists()


def test_the_list_explains_request_bins(workspace, pm, as_user):
    text = as_user(pm).get(url("list", workspace)).text
    assert "request bin" in text and "No webhooks yet" in text


def test_edit_saves_and_a_stale_edit_conflicts(workspace, pm, endpoint, as_user):
    client = as_user(pm)
    form = client.get(url("edit", workspace, endpoint.pk))
    assert 'name="event_types" value="item.status_changed"' in form.text
    data = {"url": endpoint.url, "description": "CI", "event_types": ["item.deleted"]}
    response = client.post(url("edit", workspace, endpoint.pk), {**data, "version": 1})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.event_types, endpoint.version) == (
        "CI",
        ["item.deleted"],
        2,
    )
    stale = client.post(
        url("edit", workspace, endpoint.pk), {**data, "description": "x", "version": 1}
    )
    assert stale.status_code == 409 and "saved this webhook first" in stale.text
    endpoint.refresh_from_db()
    assert endpoint.description == "CI"


def test_rotate_disable_enable_delete(workspace, pm, endpoint, as_user):
    client = as_user(pm)
    old = endpoint.secret
    response = client.post(url("rotate", workspace, endpoint.pk), {"overlap_seconds": 3600})
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in response.text
    client.post(url("disable", workspace, endpoint.pk))
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason
    assert "Disabled." in client.get(url("endpoint", workspace, endpoint.pk)).text
    client.post(url("enable", workspace, endpoint.pk))
    endpoint.refresh_from_db()
    assert endpoint.enabled and not endpoint.disabled_reason
    assert client.post(url("delete", workspace, endpoint.pk)).status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_pages_with_a_cursor_and_escapes_answers(workspace, pm, endpoint, as_user):
    events = [record_event(workspace, n=n) for n in range(30)]
    services.fan_out(events)
    WebhookDelivery.objects.filter(endpoint=endpoint).update(
        response_body="<script>alert(1)</script>"
    )
    client = as_user(pm)
    first = client.get(url("endpoint", workspace, endpoint.pk))
    assert "<script>alert(1)" not in first.text and "&lt;script&gt;" in first.text
    shown = first.text.count('class="badge delivery-')
    assert shown == 25
    cursor = first.context["next_cursor"]
    second = client.get(url("endpoint", workspace, endpoint.pk), {"cursor": cursor})
    ids = [d.pk for d in first.context["deliveries"]] + [d.pk for d in second.context["deliveries"]]
    everything = list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .order_by("-id")
        .values_list("pk", flat=True)
    )
    assert ids == everything and second.context["next_cursor"] is None
    bad = client.get(url("endpoint", workspace, endpoint.pk), {"cursor": "nonsense"})
    assert bad.status_code == 400


def test_send_a_test_event_and_resend(
    workspace, pm, endpoint, receiver, as_user, django_capture_on_commit_callbacks
):
    client = as_user(pm)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("test", workspace, endpoint.pk))
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event_type="webhook.test")
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("resend", workspace, endpoint.pk, delivery.pk))
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.msg_id] * 2
