"""Fan-out, signing (checked with the reference library), one attempt, the
retry schedule, leases, the sweep, resend, test events and the rule that
disables an endpoint failing for a whole retry window."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from pmhub.activity.models import Event
from pmhub.webhooks import services, transport
from pmhub.webhooks.models import WebhookDelivery, WebhookEndpoint
from pmhub.webhooks.services import sending

from .conftest import record_event

pytestmark = pytest.mark.django_db
S = WebhookDelivery.Status


def _one(endpoint) -> WebhookDelivery:
    (delivery,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    return delivery


def test_a_delivery_is_signed_as_standard_webhooks_says(endpoint, receiver, workspace):
    event = record_event(workspace)
    services.fan_out([event])
    delivery = _one(endpoint)
    assert services.deliver(delivery.pk) == S.SUCCEEDED

    (request,) = receiver.requests
    assert request.headers["webhook-id"] == f"evt_{event.pk}"
    payload = Webhook(endpoint.raw_secret).verify(request.body, request.headers)
    assert payload["type"] == "item.status_changed"
    assert payload["data"]["id"] == event.pk
    assert payload["data"]["object"] == {
        "type": "backlog.item",
        "id": 1,
        "key": "PAY-1",
        "title": "Item 1",
    }
    assert payload["data"]["changes"] == {"status": ["planned", "in_progress"]}
    assert payload["data"]["workspace"] == workspace.slug
    # Another secret does not verify it.
    with pytest.raises(WebhookVerificationError):
        Webhook(_other_secret()).verify(request.body, request.headers)
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_status, delivery.response_body) == (1, 200, "ok")
    endpoint.refresh_from_db()
    assert endpoint.last_success_at is not None


def _other_secret() -> str:
    from pmhub.webhooks.signing import new_secret

    return new_secret()


def test_during_a_rotation_both_secrets_sign(endpoint, receiver, workspace, pm):
    old = endpoint.raw_secret
    endpoint, new = services.rotate_secret(pm, endpoint=endpoint, overlap_seconds=3600)
    assert new != old and new.startswith("whsec_")
    services.fan_out([record_event(workspace)])
    services.deliver(_one(endpoint).pk)
    (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(request.body, request.headers)

    # Once the overlap is over only the new secret signs.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    services.fan_out([record_event(workspace, n=2)])
    services.deliver(WebhookDelivery.objects.filter(endpoint=endpoint).first().pk)
    last = receiver.requests[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(last.body, last.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(last.body, last.headers)


def test_rotation_without_overlap_stops_the_old_secret_at_once(endpoint, pm):
    endpoint, new = services.rotate_secret(pm, endpoint=endpoint, overlap_seconds=0)
    assert endpoint.signing_secrets() == [new]


def test_fan_out_matches_types_skips_disabled_endpoints_and_never_duplicates(
    pm, workspace, receiver, stranger
):
    everything, _ = services.create_endpoint(pm, workspace=workspace, url=receiver.url)
    moves, _ = services.create_endpoint(
        pm, workspace=workspace, url=receiver.url + "/moves", event_types=["item.moved"]
    )
    off, _ = services.create_endpoint(pm, workspace=workspace, url=receiver.url + "/off")
    services.set_enabled(pm, endpoint=off, enabled=False)
    other_ws = stranger.memberships.get().workspace
    elsewhere, _ = services.create_endpoint(stranger, workspace=other_ws, url=receiver.url)

    events = [
        record_event(workspace, "item.moved", 1),
        record_event(workspace, "item.updated", 2),
        record_event(other_ws, "item.updated", 3),
    ]
    services.fan_out(events)
    services.fan_out(events)  # a consumer re-run (e.g. after a crash) adds nothing

    def got(endpoint):
        return sorted(
            WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event_id", flat=True)
        )

    assert got(everything) == [events[0].pk, events[1].pk]
    assert got(moves) == [events[0].pk]
    assert got(off) == []
    assert got(elsewhere) == [events[2].pk]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {S.PENDING}


def test_an_endpoint_gets_only_what_happens_after_its_creation(pm, workspace, receiver):
    before = record_event(workspace, n=1)
    endpoint, _ = services.create_endpoint(pm, workspace=workspace, url=receiver.url)
    after = record_event(workspace, n=2)
    services.fan_out([before, after])
    delivered = WebhookDelivery.objects.filter(endpoint=endpoint, event__in=[before, after])
    assert list(delivered.values_list("event_id", flat=True)) == [after.pk]


def test_the_fan_out_is_the_event_logs_webhooks_consumer(
    endpoint, workspace, receiver, django_capture_on_commit_callbacks
):
    """Registered for every verb; what it is handed becomes deliveries that
    go out after its transaction commits. (When the log hands events out is
    the event log's contract, tested in tests/activity/.)"""
    from pmhub.activity import consumers

    consumer = consumers.registered()["webhooks"]
    assert consumer.handler is services.fan_out and consumer.verbs is None
    event = record_event(workspace)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        consumer.handler([event])
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event=event)
    assert delivery.status == S.SUCCEEDED
    assert [r.headers["webhook-id"] for r in receiver.requests] == [f"evt_{event.pk}"]


def test_retries_on_500_follow_the_schedule_then_give_up(endpoint, receiver, workspace):
    receiver.status = 500
    receiver.reply_body = b"<h1>boom</h1>"
    services.fan_out([record_event(workspace)])
    delivery = _one(endpoint)
    now = timezone.now()
    for attempt, wait in enumerate(services.SCHEDULE, start=1):
        assert services.deliver(delivery.pk, now=now) == S.FAILED
        delivery.refresh_from_db()
        assert delivery.attempts == attempt and delivery.response_status == 500
        delay = (delivery.next_attempt_at - now).total_seconds()
        assert wait * (1 - services.JITTER) <= delay <= wait * (1 + services.JITTER)
        # Not due yet: nothing is sent.
        assert (
            services.deliver(delivery.pk, now=delivery.next_attempt_at - timedelta(seconds=1))
            is None
        )
        now = delivery.next_attempt_at
    assert services.deliver(delivery.pk, now=now) == S.GIVEN_UP
    assert len(receiver.requests) == len(services.SCHEDULE) + 1
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.msg_id}
    delivery.refresh_from_db()
    assert delivery.response_body == "<h1>boom</h1>"
    # More than 24 hours from the first attempt to the last.
    assert delivery.last_attempt_at - delivery.first_attempt_at >= timedelta(hours=24)


@override_settings(WEBHOOK_READ_TIMEOUT=1)
def test_a_timeout_is_retried_on_the_schedule(endpoint, receiver, workspace):
    receiver.delay = 2.5
    services.fan_out([record_event(workspace)])
    delivery = _one(endpoint)
    now = timezone.now()
    assert services.deliver(delivery.pk, now=now) == S.FAILED
    delivery.refresh_from_db()
    assert delivery.response_status is None and "Timed out" in delivery.error
    first = services.SCHEDULE[0]
    delay = (delivery.next_attempt_at - now).total_seconds()
    assert first * (1 - services.JITTER) <= delay <= first * (1 + services.JITTER)
    receiver.delay = 0
    assert services.deliver(delivery.pk, now=delivery.next_attempt_at) == S.SUCCEEDED


def test_a_redirect_is_a_failure_and_is_not_followed(endpoint, receiver, workspace):
    receiver.status = 301
    receiver.reply_headers = {"Location": receiver.url + "/moved"}
    services.fan_out([record_event(workspace)])
    assert services.deliver(_one(endpoint).pk) == S.FAILED
    assert [r.path for r in receiver.requests] == ["/hook"]
    assert "not followed" in _one(endpoint).error


def test_an_internal_target_is_refused_at_delivery(pm, workspace, monkeypatch, receiver):
    endpoint, _ = services.create_endpoint(
        pm, workspace=workspace, url=f"http://rebind.example.com:{receiver.port}/hook"
    )
    import socket

    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))
        ],
    )
    services.fan_out([record_event(workspace)])
    assert services.deliver(_one(endpoint).pk) == S.FAILED
    assert _one(endpoint).error.startswith("Refused: rebind.example.com resolves to 10.0.0.7")
    assert receiver.requests == []


def test_an_attempt_is_held_by_one_worker_until_its_lease_expires(endpoint, workspace):
    services.fan_out([record_event(workspace)])
    delivery = _one(endpoint)
    now = timezone.now()
    lease, (claimed,) = sending._claim(now, ids=[delivery.pk])
    assert claimed.attempts == 1
    # A second worker (a redelivered task) finds it taken.
    assert services.deliver(delivery.pk, now=now + timedelta(seconds=30)) is None
    # The first worker died: once the lease is over, the next attempt goes out.
    later = now + services.LEASE + timedelta(seconds=1)
    assert services.deliver(delivery.pk, now=later) == S.SUCCEEDED
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.lease_until is None
    # The dead worker's late result is not recorded over the new one.
    late = transport.Result(500, b"", 5, error="HTTP 500")
    assert sending._record_batch(endpoint, [claimed], [(claimed, late)], [], lease, later) == {}
    delivery.refresh_from_db()
    assert delivery.status == S.SUCCEEDED


def test_the_sweep_sends_what_the_broker_lost(endpoint, receiver, workspace, monkeypatch):
    services.fan_out([record_event(workspace)])
    delivery = _one(endpoint)
    # The broker was down when it was queued: nothing was sent.
    now = timezone.now()
    assert services.sweep(now=now) == 0  # queued a moment ago: not yet the sweep's
    assert services.sweep(now=now + services.LEASE + timedelta(seconds=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == S.SUCCEEDED and len(receiver.requests) == 1
    assert services.sweep(now=now + timedelta(hours=1)) == 0


def test_a_disabled_endpoint_waits_and_sends_when_enabled(endpoint, receiver, workspace, pm):
    services.set_enabled(pm, endpoint=endpoint, enabled=False)
    services.fan_out([record_event(workspace)])  # not matched: the endpoint is off
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=record_event(workspace, n=2),
        event_type="item.updated",
        msg_id="evt_x",
    )
    delivery = _one(endpoint)
    assert services.deliver(delivery.pk) is None and receiver.requests == []
    endpoint.refresh_from_db()
    services.set_enabled(pm, endpoint=endpoint, enabled=True)
    assert services.sweep(endpoint_id=endpoint.pk) == 1
    assert len(receiver.requests) == 1


def test_resend_starts_a_given_up_delivery_over(endpoint, receiver, workspace, pm):
    receiver.status = 500
    services.fan_out([record_event(workspace)])
    delivery = _one(endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=S.GIVEN_UP, attempts=8)
    receiver.status = 200
    delivery = services.resend(pm, delivery=delivery)
    assert (delivery.status, delivery.attempts) == (S.PENDING, 0)
    assert services.deliver(delivery.pk) == S.SUCCEEDED
    assert receiver.requests[-1].headers["webhook-id"] == delivery.msg_id


def test_a_test_event_needs_no_real_event(endpoint, receiver, pm):
    delivery = services.send_test(pm, endpoint=endpoint)
    assert delivery.event_id is None and delivery.event_type == "webhook.test"
    assert services.deliver(delivery.pk) == S.SUCCEEDED
    (request,) = receiver.requests
    payload = Webhook(endpoint.raw_secret).verify(request.body, request.headers)
    assert payload["type"] == "webhook.test"
    assert request.headers["webhook-id"].startswith("evt_test_")


def _give_up(delivery, now):
    """Attempt until the delivery is given up (or something else happens)."""
    while True:
        status = services.deliver(delivery.pk, now=now)
        delivery.refresh_from_db()
        if status != S.FAILED:
            return status, now
        now = delivery.next_attempt_at


def test_an_endpoint_failing_for_a_whole_retry_window_is_disabled(
    endpoint, receiver, workspace, pm, admin_member, mailoutbox
):
    pm.email, admin_member.email = "pm@example.com", "admin@example.com"
    pm.save()
    admin_member.save()
    receiver.status = 503
    services.fan_out([record_event(workspace)])
    status, _ = _give_up(_one(endpoint), timezone.now())
    assert status == S.GIVEN_UP
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "no delivery succeeded" in endpoint.disabled_reason
    assert services.notify_disabled(endpoint.pk) == 2
    assert sorted(mailoutbox[-1].to) == ["admin@example.com", "pm@example.com"]
    assert endpoint.url in mailoutbox[-1].body
    assert Event.objects.filter(verb="webhook_endpoint.disabled", object_id=endpoint.pk).exists()


def test_a_success_inside_the_window_keeps_the_endpoint(endpoint, receiver, workspace):
    receiver.status = 503
    services.fan_out([record_event(workspace, n=1)])
    failing = _one(endpoint)
    start = timezone.now()
    services.deliver(failing.pk, now=start)
    # Another event gets through a few hours later.
    receiver.status = 200
    services.fan_out([record_event(workspace, n=2)])
    other = WebhookDelivery.objects.filter(endpoint=endpoint).exclude(pk=failing.pk).get()
    assert services.deliver(other.pk, now=start + timedelta(hours=3)) == S.SUCCEEDED
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        last_success_at=start + timedelta(hours=3)
    )
    receiver.status = 503
    failing.refresh_from_db()
    status, _ = _give_up(failing, failing.next_attempt_at)
    assert status == S.GIVEN_UP
    endpoint.refresh_from_db()
    assert endpoint.enabled


def test_the_body_is_the_same_bytes_on_every_attempt(endpoint, receiver, workspace):
    receiver.status = 500
    services.fan_out([record_event(workspace)])
    delivery = _one(endpoint)
    services.deliver(delivery.pk)
    delivery.refresh_from_db()
    services.deliver(delivery.pk, now=delivery.next_attempt_at)
    first, second = receiver.requests
    assert first.body == second.body
    assert json.loads(first.body)["data"]["version"] == 2


# --- batches per endpoint ---------------------------------------------------------------


def _closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"  # nothing listens there any more


def test_an_endpoint_is_drained_in_batches_with_one_target_check_per_batch(
    endpoint, receiver, workspace, monkeypatch
):
    events = [record_event(workspace, n=n) for n in range(1, 6)]
    services.fan_out(events)
    checks = []
    check = transport.check_target
    monkeypatch.setattr(transport, "check_target", lambda url: checks.append(url) or check(url))
    monkeypatch.setattr(sending, "BATCH", 2)
    assert services.deliver_endpoint(endpoint.pk) == 5
    # Three batches (2 + 2 + 1), each resolved and checked once.
    assert len(checks) == 3
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert ids == [f"evt_{e.pk}" for e in events]  # in event order
    for request in receiver.requests:
        Webhook(endpoint.raw_secret).verify(request.body, request.headers)
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {(S.SUCCEEDED, 1)}
    assert services.deliver_endpoint(endpoint.pk) == 0  # nothing left


def test_a_batch_costs_the_same_statements_whatever_its_size(endpoint, receiver, workspace):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def drain(n: int) -> int:
        services.fan_out([record_event(workspace, n=k) for k in range(n)])
        with CaptureQueriesContext(connection) as queries:
            assert services.deliver_endpoint(endpoint.pk) == n
        return len(queries)

    drain(1)  # the endpoint's last success is written (then at most once a minute)
    assert drain(2) == drain(12)


def test_a_receiver_that_is_down_costs_one_attempt_and_the_rest_wait_with_it(
    endpoint, receiver, workspace
):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=_closed_port_url())
    services.fan_out([record_event(workspace, n=n) for n in range(1, 4)])
    now = timezone.now()
    assert services.deliver_endpoint(endpoint.pk, now=now) == 1
    first, *rest = WebhookDelivery.objects.order_by("id")
    assert (first.status, first.attempts) == (S.FAILED, 1)
    assert "Could not connect" in first.error
    # The others were not tried: uncounted, due with the failed one's retry.
    for delivery in rest:
        assert (delivery.status, delivery.attempts, delivery.lease_until) == (S.PENDING, 0, None)
        assert delivery.first_attempt_at is None
        assert delivery.next_attempt_at == first.next_attempt_at
    assert services.deliver_endpoint(endpoint.pk, now=now + timedelta(seconds=1)) == 0
    # The receiver is back at the retry: everything goes out together.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    assert services.deliver_endpoint(endpoint.pk, now=first.next_attempt_at) == 3
    assert [d.attempts for d in WebhookDelivery.objects.order_by("id")] == [2, 1, 1]
    assert len(receiver.requests) == 3


def test_a_receiver_answering_again_releases_what_waits_for_a_retry(
    endpoint, receiver, workspace, pm
):
    """Down for a while, the waits grow (5 s, 5 min, 30 min …); the first
    success after it (a new event, "Send a test event") sends them now."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=_closed_port_url())
    services.fan_out([record_event(workspace, n=n) for n in range(1, 4)])
    assert services.deliver_endpoint(endpoint.pk) == 1
    waiting = WebhookDelivery.objects.order_by("id")
    assert all(d.next_attempt_at > timezone.now() for d in waiting)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    endpoint.refresh_from_db()
    test = services.send_test(pm, endpoint=endpoint)
    assert services.deliver_endpoint(endpoint.pk) == 4  # the test, then the 3 it released
    test.refresh_from_db()
    assert test.status == S.SUCCEEDED
    assert set(waiting.exclude(pk=test.pk).values_list("status", flat=True)) == {S.SUCCEEDED}
    assert len(receiver.requests) == 4
