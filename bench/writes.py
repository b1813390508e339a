"""`make bench` suite "writes": a PATCH and a move of one item over the
full request stack, against a bare view that parses the same JSON body and
runs one raw conditional UPDATE (bench/baselines.py ``raw_update_view``)."""

import json

from .core import Report, interleaved, ms, p50


def measure(report: Report, data: dict, args) -> None:
    from django.test import Client

    from backlog.models import Item
    from pmhub.accounts import services as accounts
    from pmhub.accounts.models import ApiToken

    print(f"==> writes: PATCH and move over the request stack ({args.reps} repetitions, p50)")
    product, user = data["product"], data["user"]
    ApiToken.objects.filter(user=user, name="bench-writes").delete()
    _, secret = accounts.create_api_token(user, name="bench-writes")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    plain = Client()
    ordered = list(
        Item.objects.filter(product=product).order_by("rank").values_list("pk", flat=True)[:40]
    )
    patched, raw_item, mover = ordered[10], ordered[20], ordered[30]
    anchors = [ordered[2], ordered[5]]
    state = {"n": 0, "raw_version": Item.objects.get(pk=raw_item).version}

    def patch():
        state["n"] += 1
        response = api.patch(
            f"/api/v1/items/{patched}/",
            json.dumps({"title": f"Bench title {state['n']}"}),
            content_type="application/json",
        )
        if response.status_code != 200:
            raise SystemExit(f"bench: PATCH answered {response.status_code}: {response.content!r}")

    def move():
        state["n"] += 1
        after = anchors[state["n"] % 2]
        response = api.post(
            f"/api/v1/items/{mover}/move/",
            json.dumps({"after": after}),
            content_type="application/json",
        )
        if response.status_code != 200:
            raise SystemExit(f"bench: move answered {response.status_code}: {response.content!r}")

    def raw_update():
        state["n"] += 1
        body = {"id": raw_item, "version": state["raw_version"], "title": f"Raw {state['n']}"}
        response = plain.post("/__bench__/raw-update/", json.dumps(body), "application/json")
        if response.status_code != 200:
            raise SystemExit(f"bench: the raw update answered {response.status_code}")
        state["raw_version"] = json.loads(response.content)["version"]

    # As in production, the web process only enqueues the work a write causes
    # (the event log's consumers, webhooks): with no REDIS_URL the broker is
    # Celery's in-memory transport, so the messages wait there and never run.
    # (Eager, the embedded mode, would run every consumer inside the request.)
    from pmhub.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        t = interleaved(
            {"patch": patch, "move": move, "raw": raw_update},
            reps=args.reps,
            warmup=max(3, args.reps // 10),
        )
    finally:
        app.conf.task_always_eager = eager
    raw = p50(t["raw"])
    report.ratio(
        "API PATCH of an item's title vs bare view + one raw conditional UPDATE",
        p50(t["patch"]),
        raw,
        3,
        baseline_name="plain view: JSON body, UPDATE … WHERE id AND version RETURNING version",
        note="the PATCH also checks the role, validates, writes the history row and the "
        "event, and answers the whole item with its explanation",
    )
    report.ratio(
        "API move of an item vs bare view + one raw conditional UPDATE",
        p50(t["move"]),
        raw,
        3,
        baseline_name="the same raw view",
        note=f"raw view {ms(raw):.2f} ms",
    )
