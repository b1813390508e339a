"""Scale-out: two web processes (gunicorn, the production command) and two
Celery workers plus beat against one PostgreSQL and one Redis.

Concurrent edits, moves, a bulk recompute, a CSV import and webhook
deliveries are driven across both web processes; in the middle one web
process (master and workers at once) and one worker are killed. Then:
nothing was lost (every answered write is in the database, every event is
delivered), nothing was done twice (one winner per contended version, one
event per write, one score-history row per changed score, one item per
imported row, one delivery per event), and the survivors finished the work.
The test also reports requests per second of one web process against two.
Needs PostgreSQL and Redis."""

import http.server
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.models import Count, Max

from backlog import importing, services
from backlog.models import BacklogSettings, ImportJob, Item, ScoreChange, ScoringKind
from pmhub.accounts.services import create_api_token
from pmhub.activity.models import ConsumerCursor, Event
from pmhub.celery import app
from pmhub.observability import REQUESTS_KEY, TASKS_KEY
from pmhub.webhooks import services as webhooks
from pmhub.webhooks.models import WebhookDelivery
from tests.backlog.test_recompute import assert_scores, changed_between, scores
from tests.conftest import require
from tests.integration import webs, workers
from tests.integration.test_recompute_worker import _seed

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ITEMS = 3_000
EDITED = 16  # items each PATCHed by 4 clients at once with the same If-Match
MOVED = 24
IMPORTED = 600  # above backlog.importing's background threshold: a worker imports
SWEEP = {  # beat's sweeps every 2 s, so the survivors pick up a kill's leftovers quickly
    "ACTIVITY_DISPATCH_SECONDS": "2",
    "SCORE_SWEEP_SECONDS": "2",
    "WEBHOOK_SWEEP_SECONDS": "2",
    "ROLLUP_SWEEP_SECONDS": "2",
    "DEMAND_SWEEP_SECONDS": "2",
}
ALLOW = {"WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"}


class Receiver(http.server.ThreadingHTTPServer):
    """A webhook receiver that records the webhook-id of every request."""

    def __init__(self):
        self.ids: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.ids.append(self.headers["webhook-id"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


class Client:
    """HTTP to the web processes, as a load balancer would: a request to a
    process that is gone is sent to the next one."""

    def __init__(self, ports: list[int], token: str, run: str):
        self.ports, self.token, self.run = list(ports), token, run
        self.dead: set[int] = set()
        self.failovers = 0
        self.sent = itertools.count()

    def request(self, method: str, path: str, body=None, headers=None, prefer: int = 0):
        ports = self.ports[prefer:] + self.ports[:prefer]
        data = None if body is None else json.dumps(body).encode()
        for port in ports:
            if port in self.dead:
                continue
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}",
                data=data,
                method=method,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "X-Request-ID": f"{self.run}-{next(self.sent)}",
                    "Content-Type": "application/json",
                    **(headers or {}),
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read() or b"null")
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read() or b"null")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                self.dead.add(port)
                self.failovers += 1
        raise AssertionError("no web process answered")


def _wait(condition, what: str, seconds: float, logs) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {seconds} s\n" + logs())


def _requests_per_second(client: Client, ports: list[int], path: str, seconds: float) -> float:
    """GETs of ``path`` from 8 threads for ``seconds``, spread over ``ports``."""
    done = [0]
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()

    def loop(n):
        port = ports[n % len(ports)]
        while time.monotonic() < stop_at:
            status, _ = client.request("GET", path, prefer=client.ports.index(port))
            assert status == 200
            with lock:
                done[0] += 1

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(loop, range(8)))
    return done[0] / seconds


def test_two_webs_and_two_workers_lose_nothing_and_do_nothing_twice(
    pm, product, tmp_path, settings
):
    redis_url = os.environ.get("REDIS_URL", "")
    require(bool(redis_url), "REDIS_URL not set")
    require(connection.vendor == "postgresql", "the scale-out test needs PostgreSQL")
    settings.WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]
    _seed(product, ITEMS)
    _token, secret = create_api_token(pm, name="scale-out")
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    endpoint, _ = webhooks.create_endpoint(
        pm,
        workspace=product.workspace,
        url=f"http://127.0.0.1:{receiver.server_address[1]}/hook",
        event_types=["item.updated"],
    )
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind=ScoringKind.ICE)
    ordered = list(Item.objects.filter(product=product).order_by("rank").values_list("pk", "key"))
    first_event = Event.objects.aggregate(m=Max("id"))["m"] or 0
    first_change = ScoreChange.objects.aggregate(m=Max("id"))["m"] or 0
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)

    run = uuid.uuid4().hex[:6]
    paths = {name: tmp_path / f"{name}.log" for name in ("web-a", "web-b", "w1", "w2", "beat")}
    files = {name: open(path, "w") for name, path in paths.items()}  # noqa: SIM115

    def logs() -> str:
        return "\n".join(f"--- {n} ---\n{p.read_text()[-4000:]}" for n, p in paths.items())

    metrics_token = uuid.uuid4().hex
    shared = {
        "CACHE_URL": redis_url,
        "LOG_FORMAT": "json",
        "METRICS_TOKEN": metrics_token,
        **ALLOW,
    }
    ports = [webs.free_port(), webs.free_port()]
    web_a = webs.start_web(ports[0], files["web-a"], **shared)
    web_b = webs.start_web(ports[1], files["web-b"], **shared)
    queue = app.conf.task_default_queue
    w1 = workers.start_worker(queue, files["w1"], hostname=f"w1-{run}", **shared)
    w2 = workers.start_worker(queue, files["w2"], hostname=f"w2-{run}", **shared)
    beat = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "pmhub", "beat", "--loglevel=INFO"),
            f"--schedule={tmp_path / 'beat-schedule'}",
        ],
        cwd=workers.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": workers.worker_database_url(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            **shared,
            **SWEEP,
        },
        stdin=subprocess.DEVNULL,
        stdout=files["beat"],
        stderr=subprocess.STDOUT,
    )
    eager = app.conf.task_always_eager
    try:
        for port, web in zip(ports, (web_a, web_b), strict=True):
            webs.wait_serving(web, port, paths["web-a" if port == ports[0] else "web-b"])
        workers.wait_ready(w1, paths["w1"])
        workers.wait_ready(w2, paths["w2"])
        client = Client(ports, secret, run)

        # Requests per second: one web process, then both.
        page = f"/api/v1/items/?product={product.pk}&page_size=50"
        one = _requests_per_second(client, ports[:1], page, 3)
        two = _requests_per_second(client, ports, page, 3)
        print(f"\nGET a page of 50: {one:.0f} req/s on one web process, {two:.0f} on two")

        app.conf.task_always_eager = False  # the test process's own writes enqueue too
        edited = ordered[:EDITED]
        moved = ordered[EDITED + 10 : EDITED + 10 + MOVED]
        anchor = ordered[-1][0]
        answers = {"edit": [], "move": []}

        def edit(n):
            pk, key = edited[n // 4]
            status, _body = client.request(
                "PATCH",
                f"/api/v1/items/{pk}/",
                {"title": f"Edit {n % 4} of {key}"},
                {"If-Match": '"1"'},
                prefer=n % 2,
            )
            answers["edit"].append((pk, n % 4, status))

        def move(n):
            pk, _ = moved[n]
            status, _ = client.request(
                "POST", f"/api/v1/items/{pk}/move/", {"before": anchor}, prefer=n % 2
            )
            answers["move"].append((pk, status))

        # The import starts in the test process; validating and importing run on workers.
        rows = "".join(f"Imported {run} {n}\n" for n in range(IMPORTED))
        job = importing.start_import(
            pm, product=product, filename="scale.csv", raw=f"title\n{rows}".encode()
        )
        importing.set_mapping(pm, job=job, mapping={"title": "title"})

        before = scores(product)
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(edit, n) for n in range(EDITED * 4 // 2)]
            futures += [pool.submit(move, n) for n in range(MOVED // 2)]
            status, _ = client.request("POST", f"/api/v1/scoring-models/{ice.pk}/activate/")
            assert status == 200
            [f.result() for f in futures]
            # Imports have no sweep yet: a validation a killed worker held would
            # wait for the broker's visibility timeout (an hour). Let it finish
            # first; the import itself runs after the kill, on the survivor.
            _wait(
                lambda: ImportJob.objects.get(pk=job.pk).state != ImportJob.State.VALIDATING,
                "the import's validation",
                60,
                logs,
            )
            # In the middle: a web process (master and workers) and a worker die.
            webs.kill(web_b)
            os.kill(w1.pid, signal.SIGKILL)
            w1.wait(timeout=20)
            futures = [pool.submit(edit, n) for n in range(EDITED * 4 // 2, EDITED * 4)]
            futures += [pool.submit(move, n) for n in range(MOVED // 2, MOVED)]
            [f.result() for f in futures]

        job.refresh_from_db()
        assert job.state == ImportJob.State.READY, job.errors
        importing.confirm_import(pm, job=job)
        _wait(
            lambda: ImportJob.objects.get(pk=job.pk).state == ImportJob.State.DONE,
            "the import",
            60,
            logs,
        )
        _wait(
            lambda: not BacklogSettings.objects.get(product=product).recompute_pending,
            "the bulk recompute",
            60,
            logs,
        )
        last_event = Event.objects.aggregate(m=Max("id"))["m"]

        def consumers_done():
            cursors = ConsumerCursor.objects.values_list("last_id", flat=True)
            return cursors and min(cursors) >= last_event

        _wait(consumers_done, "every event consumer catching up", 60, logs)
        _wait(
            lambda: (
                not WebhookDelivery.objects.exclude(status="succeeded").exists()
                and len(set(receiver.ids))
                >= WebhookDelivery.objects.filter(endpoint=endpoint).count()
            ),
            "every webhook delivery",
            100,  # a delivery a killed worker held waits for its lease (a minute)
            logs,
        )
        # The survivor's /metrics counts what both web processes and both
        # workers did (the counters are in Redis), and /healthz has nothing left.
        scrape = urllib.request.Request(
            f"http://127.0.0.1:{ports[0]}/metrics",
            headers={"Authorization": f"Bearer {metrics_token}"},
        )
        with urllib.request.urlopen(scrape, timeout=10) as response:
            exposition = response.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/healthz", timeout=10) as r:
            health = json.loads(r.read())
    finally:
        app.conf.task_always_eager = eager
        for web in (web_a, web_b):
            webs.stop(web)
        for process in (w1, w2, beat):
            workers.stop(process)
        for f in files.values():
            f.close()
        receiver.shutdown()
        receiver.server_close()
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(app.conf.task_default_queue)
            # The web processes' and workers' counters (CACHE_URL was the broker's Redis).
            conn.default_channel.client.delete(REQUESTS_KEY, TASKS_KEY)
        workers.wait_for_worker_sessions_to_end()

    # Edits: of the four clients that sent the same If-Match, exactly one won.
    for pk, key in edited:
        statuses = sorted(s for p, _, s in answers["edit"] if p == pk)
        assert statuses == [200, 412, 412, 412], (key, statuses)
        winner = next(n for p, n, s in answers["edit"] if p == pk and s == 200)
        item = Item.objects.get(pk=pk)
        assert (item.version, item.title) == (2, f"Edit {winner} of {key}")
    new_events = Event.objects.filter(id__gt=first_event)
    updated = new_events.filter(verb="item.updated", object_id__in=[pk for pk, _ in edited])
    assert sorted(updated.values_list("object_id", flat=True)) == sorted(pk for pk, _ in edited)
    # Moves: every move answered 200, landed once, and the order stayed total.
    assert sorted(s for _, s in answers["move"]) == [200] * MOVED
    moves = new_events.filter(verb="item.moved").values("object_id").annotate(n=Count("id"))
    assert {m["object_id"]: m["n"] for m in moves} == {pk: 1 for pk, _ in moved}
    ranks = list(Item.objects.filter(product=product).values_list("rank", flat=True))
    assert len(ranks) == len(set(ranks)) == ITEMS + IMPORTED
    # The recompute: every score is ICE's, one history row per changed score.
    after = scores(product)
    assert_scores(product, ice)
    changes = ScoreChange.objects.filter(id__gt=first_change, cause=ScoreChange.Cause.MODEL)
    assert changes.count() == changes.values("item").distinct().count()
    changed = {pk for pk in changes.values_list("item_id", flat=True) if pk in before}
    assert changed == changed_between(before, {pk: after[pk] for pk in before})
    # The import: one item per row.
    titles = Item.objects.filter(product=product, title__startswith=f"Imported {run} ")
    assert titles.count() == titles.values("title").distinct().count() == IMPORTED
    # Webhooks: one delivery per event, each received (a retry resends the same id).
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert deliveries.count() == deliveries.values("event").distinct().count() == len(edited)
    assert set(deliveries.values_list("msg_id", flat=True)) == set(receiver.ids)
    # One scrape sees every process: the PATCHes answered by both web processes.
    patches = (
        'pmhub_http_request_duration_seconds_count{method="PATCH",status="2xx",view="item-detail"}'
    )
    counted = next(line for line in exposition.splitlines() if line.startswith(patches))
    assert float(counted.split()[-1]) >= EDITED
    assert 'outcome="success",task="activity.dispatch"' in exposition
    assert (health["status"], health["oldest_pending"]) == ("ok", None), health
    # The request id of a request is on the log lines of the tasks it enqueued.
    traced = [
        json.loads(line)
        for line in paths["w2"].read_text().splitlines()
        if line.startswith("{") and '"celery.app.trace"' in line
    ]
    assert any(str(t["request_id"]).startswith(f"{run}-") for t in traced), traced[:5]
    print(
        f"failovers to the surviving web process: {client.failovers}; "
        f"webhook requests {len(receiver.ids)} for {deliveries.count()} deliveries"
    )
