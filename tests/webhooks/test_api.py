"""/api/v1/webhooks/: owners' and admins' tokens; the secret only in the
create and rotate answers; ETag/If-Match; keyset pages of deliveries;
resend and test."""

import pytest
from standardwebhooks.webhooks import Webhook

from pmhub.webhooks import services
from pmhub.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import api_client_for

from .conftest import record_event

pytestmark = pytest.mark.django_db
BASE = "/api/v1/webhooks/"


def test_create_returns_the_secret_once(api, workspace):
    response = api.post(
        BASE,
        {
            "workspace": workspace.pk,
            "url": "https://hooks.example.com/x",
            "event_types": ["item.moved"],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_") and response["ETag"].startswith('"1.')
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == body["secret"]
    read = api.get(f"{BASE}{endpoint.pk}/").json()
    assert "secret" not in read and read["event_types"] == ["item.moved"]
    assert body["secret"] not in str(api.get(BASE).json())


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "http://169.254.169.254/latest/"}, "url"),
        ({"url": "gopher://example.com/"}, "url"),
        ({"url": "https://example.com/", "event_types": ["Not A Verb"]}, "event_types"),
    ],
)
def test_bad_input_is_a_field_error(api, workspace, data, field):
    response = api.post(BASE, {"workspace": workspace.pk, **data})
    assert response.status_code == 400 and field in response.json()


def test_editors_viewers_and_strangers_cannot_manage_webhooks(
    workspace, endpoint, teammate, viewer, stranger
):
    for user in (teammate, viewer, stranger):
        client = api_client_for(user)
        assert client.get(BASE).json()["results"] == []
        assert client.get(f"{BASE}{endpoint.pk}/").status_code == 404
        assert client.post(f"{BASE}{endpoint.pk}/test/").status_code == 404
        assert client.post(f"{BASE}{endpoint.pk}/rotate-secret/").status_code == 404
    created = api_client_for(teammate).post(
        BASE, {"workspace": workspace.pk, "url": "https://example.com/"}
    )
    assert created.status_code == 403
    elsewhere = api_client_for(stranger).post(
        BASE, {"workspace": workspace.pk, "url": "https://example.com/"}
    )
    assert elsewhere.status_code == 400  # the workspace is unknown to them


def test_if_match_guards_changes(api, endpoint):
    stale = api.patch(f"{BASE}{endpoint.pk}/", {"description": "x"}, HTTP_IF_MATCH='"7"')
    assert stale.status_code == 412
    ok = api.patch(f"{BASE}{endpoint.pk}/", {"enabled": False}, HTTP_IF_MATCH='"1"')
    assert ok.status_code == 200 and ok["ETag"].startswith('"2.')
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason
    assert api.delete(f"{BASE}{endpoint.pk}/", HTTP_IF_MATCH='"1"').status_code == 412
    assert api.delete(f"{BASE}{endpoint.pk}/", HTTP_IF_MATCH='"2"').status_code == 204


def test_rotate_secret_answers_the_new_secret_and_both_sign(api, endpoint, receiver, workspace):
    response = api.post(f"{BASE}{endpoint.pk}/rotate-secret/", {"overlap_seconds": 86400})
    assert response.status_code == 200
    new = response.json()["secret"]
    assert new != endpoint.raw_secret and response.json()["previous_secret_expires_at"]
    services.fan_out([record_event(workspace)])
    services.deliver(WebhookDelivery.objects.get().pk)
    (request,) = receiver.requests
    Webhook(new).verify(request.body, request.headers)
    Webhook(endpoint.raw_secret).verify(request.body, request.headers)
    bad = api.post(f"{BASE}{endpoint.pk}/rotate-secret/", {"overlap_seconds": 5})
    assert bad.status_code == 400 and "overlap_seconds" in bad.json()


def test_deliveries_are_keyset_paged_newest_first(api, endpoint, workspace):
    services.fan_out([record_event(workspace, n=n) for n in range(7)])
    seen, page = [], f"{BASE}{endpoint.pk}/deliveries/?page_size=3"
    while page:
        body = api.get(page).json()
        seen += [row["id"] for row in body["results"]]
        page = body["next"]
    expected = list(WebhookDelivery.objects.order_by("-id").values_list("pk", flat=True))
    assert seen == expected
    row = api.get(f"{BASE}{endpoint.pk}/deliveries/").json()["results"][0]
    assert row["webhook_id"].startswith("evt_") and row["status"] == "pending"
    assert api.get(f"{BASE}{endpoint.pk}/deliveries/?cursor=zzz").status_code == 400


def test_resend_and_test(api, endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{BASE}{endpoint.pk}/test/")
    assert response.status_code == 202 and response.json()["event_type"] == "webhook.test"
    delivery = WebhookDelivery.objects.get(pk=response.json()["id"])
    assert delivery.status == "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/resend/")
    assert again.status_code == 202
    assert len(receiver.requests) == 2
    assert api.post(f"{BASE}{endpoint.pk}/deliveries/999999999/resend/").status_code == 404
    huge = api.post(f"{BASE}{endpoint.pk}/deliveries/99999999999999999999/resend/")
    assert huge.status_code == 404


def test_read_only_tokens_cannot_write(pm, endpoint):
    client = api_client_for(pm, read_only=True)
    assert client.get(f"{BASE}{endpoint.pk}/").status_code == 200
    assert client.post(f"{BASE}{endpoint.pk}/test/").status_code == 403
