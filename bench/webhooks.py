"""Webhooks suite of `make bench` (``--suite webhooks``): 10 000 events fanned
out to 3 endpoints on a local receiver (a threaded HTTP server in this
process, reachable through ``WEBHOOK_ALLOW_NETWORKS=127.0.0.0/8``), drained by
one worker doing what a Celery worker does per task
(``services.deliver_endpoint``: claim a batch with a lease, read the events,
check the target once, sign, POST each, record the answers in one
statement), in turns
with a baseline of the same number of plain signed POSTs of the same bodies
over a bare keep-alive HTTP client (``http.client``)."""

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

from .core import ms

ENDPOINTS = 3
ROUNDS = 10


class _Receiver:
    """Answers every POST with 200 "ok" (HTTP/1.1 keep-alive) and counts them."""

    def __init__(self):
        self.count = 0
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between writes

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    receiver.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def measure(report, data, args):
    from django.conf import settings
    from django.db import connection as connection_for_ping
    from django.db import transaction

    from pmhub import activity
    from pmhub.activity import consumers
    from pmhub.activity.models import Event
    from pmhub.webhooks import services, signing
    from pmhub.webhooks.models import WebhookDelivery, WebhookEndpoint

    n_events = args.webhook_events
    settings.WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]
    workspace, user, product = data["workspace"], data["user"], data["product"]
    receiver = _Receiver()
    # Only this suite's fan-out runs: the event log's other consumers (and
    # the dispatch queued after each commit) would process the whole bench
    # log, which other suites fill with millions of events.
    with mock.patch.dict(consumers._registry, clear=True):
        WebhookEndpoint.objects.filter(workspace=workspace).delete()
        endpoints = [
            services.create_endpoint(
                user, workspace=workspace, url=f"http://127.0.0.1:{receiver.port}/hook/{k}"
            )[0]
            for k in range(ENDPOINTS)
        ]
        print(f"==> webhooks: {n_events:,} events to {ENDPOINTS} endpoints")
        last = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
        started = time.perf_counter()
        # Tasks are not queued: the drain below is the worker.
        with mock.patch.object(services.deliveries, "enqueue_endpoints"), transaction.atomic():
            activity.record_many(
                {
                    "workspace": workspace,
                    "verb": "item.updated",
                    "object_type": "backlog.item",
                    "object_id": k,
                    "object_key": f"{product.key}-{k}",
                    "object_title": f"Benchmark item {k}",
                    "product": product,
                    "changes": {"effort": [k, k + 1]},
                    "version": 2,
                }
                for k in range(n_events)
            )
            events = list(Event.objects.filter(workspace=workspace, id__gt=last).order_by("id"))
            services.fan_out(events)  # the consumer's work
        fan_out_seconds = time.perf_counter() - started

    ids = list(
        WebhookDelivery.objects.filter(endpoint__in=endpoints)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    total = len(ids)
    assert total == n_events * ENDPOINTS, total
    by_pk = {e.pk: e for e in events}
    secret = endpoints[0].secret
    bodies = [services.event_body(by_pk[e.pk]) for e in events]

    connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)

    def baseline(chunk: range) -> None:
        for i in chunk:
            body = bodies[i % len(bodies)]
            msg_id = f"evt_{i}"
            headers = signing.headers([secret], msg_id, int(time.time()), body)
            headers["Content-Type"] = "application/json"
            connection.request("POST", f"/hook/{i % ENDPOINTS}", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200

    def ours(chunk: list[int]) -> None:
        # A worker drains each endpoint in turn (the task per endpoint).
        share = -(-len(chunk) // ENDPOINTS)
        done = sum(services.deliver_endpoint(e.pk, limit=share) for e in endpoints)
        assert done == len(chunk), (done, len(chunk))

    ours_seconds = base_seconds = 0.0
    step = -(-total // ROUNDS)
    for r in range(ROUNDS):
        chunk = ids[r * step : (r + 1) * step]
        start = time.perf_counter()
        ours(chunk)
        ours_seconds += time.perf_counter() - start
        start = time.perf_counter()
        baseline(range(r * step, r * step + len(chunk)))
        base_seconds += time.perf_counter() - start
    connection.close()
    receiver.close()
    delivered = WebhookDelivery.objects.filter(
        endpoint__in=endpoints, status=WebhookDelivery.Status.SUCCEEDED
    ).count()
    rate = total / ours_seconds
    with connection_for_ping.cursor() as cursor:
        pings = []
        for _ in range(200):
            start = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            pings.append(time.perf_counter() - start)
    round_trip = sorted(pings)[len(pings) // 2]
    base_rate = total / base_seconds
    report.check(
        f"webhooks: drain {total:,} deliveries, one worker",
        f"{rate:.0f}/s",
        "≥ 200 deliveries/s",
        rate >= 200 and delivered == total,
        note=(
            f"{ms(ours_seconds / total):.2f} ms a delivery (batches of {services.BATCH}: claim, "
            f"read, check, sign, POST each, record; about 9 statements a batch); "
            f"baseline of bare signed POSTs {base_rate:.0f}/s "
            f"({ms(base_seconds / total):.2f} ms), ratio {ours_seconds / base_seconds:.1f}×; "
            f"fan-out of {n_events:,} events into {total:,} rows "
            f"{fan_out_seconds:.2f} s; {delivered:,} delivered, "
            f"the receiver counted {receiver.count:,} requests; "
            f"a SELECT 1 round trip p50 {ms(round_trip):.2f} ms in this run"
        ),
    )
    report.facts["webhooks"] = {
        "deliveries": total,
        "rate_per_second": round(rate, 1),
        "baseline_rate_per_second": round(base_rate, 1),
        "ratio_to_baseline": round(ours_seconds / base_seconds, 2),
        "fan_out_seconds": round(fan_out_seconds, 2),
        "select_1_round_trip_ms": ms(round_trip),
    }
    WebhookEndpoint.objects.filter(pk__in=[e.pk for e in endpoints]).delete()
