"""Activity suite of `make bench`: what recording events costs, and the
audit log and change feed over a large event log.

- A PATCH of an item and a move through the API, with recording on against
  the same requests with recording off (``record`` and ``record_many``
  replaced by no-ops here, in the benchmark only): ≤ 10 % more.
- A bulk edit of 1 000 items (``bulk_update_items``, status), with and
  without recording: recording ≤ 10 % of the bulk update.
- With ``--events`` events (10 000 000 by default, seeded once with one
  ``INSERT … SELECT generate_series``), the audit page and the feed's deep
  pages (near the far end of the log) against their first pages: ≤ 1.2×.

The benchmark has no broker, so Celery runs tasks inline; the consumers'
dispatch that a commit queues is a task a worker runs after the request in
production, so here its queueing is a no-op (``consumers._enqueue``), on
both sides of every ratio: what is measured is recording, not consumers."""

import contextlib

from .core import interleaved, ms, p50

BULK = 1000


@contextlib.contextmanager
def recording_off():
    """Events are not written (the baseline of the recording overhead)."""
    from pmhub import activity

    saved = activity.record, activity.record_many
    activity.record = lambda *args, **kwargs: None
    activity.record_many = lambda *args, **kwargs: 0
    try:
        yield
    finally:
        activity.record, activity.record_many = saved


def _seed_events(workspace, user, n: int) -> None:
    from django.db import connection, transaction

    from pmhub.activity.models import Event

    have = Event.objects.filter(workspace=workspace, verb="item.updated", object_type="bench.item")
    if have.count() == n:
        return
    have.delete()
    print(f"==> activity: seeding {n:,} events with one INSERT … SELECT (once)")
    with transaction.atomic(), connection.cursor() as cursor:
        # Without its secondary indexes, then each built once (sorted, not
        # 10 million insertions each): minutes instead of a quarter of an hour.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'activity_event' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(
            """
            INSERT INTO activity_event (workspace_id, actor_kind, actor_user_id, actor_label,
                verb, object_type, object_id, object_key, object_title, parent_type,
                changes, version, created_at)
            SELECT %s, 'user', %s, 'Bench', 'item.updated', 'bench.item', g %% 100000,
                'BENCH-' || (g %% 100000), 'Item ' || g, '',
                jsonb_build_object('title', jsonb_build_array('a', 'b')), 1,
                now() - make_interval(secs => %s - g)
            FROM generate_series(1, %s) AS g
            """,
            [workspace.pk, user.pk, n, n],
        )
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE activity_event")


SMALL = 10_000


def _someone_else(user):
    from django.contrib.auth import get_user_model

    someone, _ = get_user_model().objects.get_or_create(username="bench-someone")
    return someone


def _small_workspace(user):
    """A second workspace with 10 000 events among the 10 million, recorded by
    someone else: on a log of one workspace and one person the primary key
    and the (txid, id) index serve every page, and the workspace's and the
    person's indexes are for a log shared by many."""
    from django.db import connection

    from pmhub.accounts.models import Workspace
    from pmhub.activity.models import Event

    small, _ = Workspace.objects.get_or_create(slug="bench-small", defaults={"name": "Small"})
    if Event.objects.filter(workspace=small).count() != SMALL:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM activity_event WHERE workspace_id = %s", [small.pk])
            cursor.execute(
                """
                INSERT INTO activity_event (workspace_id, actor_kind, actor_user_id, actor_label,
                    verb, object_type, object_id, object_key, object_title, parent_type,
                    changes, version, created_at)
                SELECT %s, 'user', %s, 'Bench', 'item.updated', 'bench.item', g, 'S-' || g,
                    'Item ' || g, '', '{}'::jsonb, 1, now() - make_interval(secs => %s - g)
                FROM generate_series(1, %s) AS g
                """,
                [small.pk, _someone_else(user).pk, SMALL, SMALL],
            )
            cursor.execute("ANALYZE activity_event")
    return small


def _index_readers(workspace, user, deep_id: int, position: tuple[int, int]):
    """(index, what reads it, the reader's query) for every secondary index
    of the event log, and the primary key for retention: each is checked to
    be the index PostgreSQL picks on the seeded log."""
    from pmhub.activity import visibility
    from pmhub.activity.models import Event

    events = Event.objects.filter(workspace=workspace)
    small = Event.objects.filter(workspace=_small_workspace(user))
    someone = _someone_else(user)
    return [
        ("event_ws_id", "audit log of a small workspace", small.order_by("-id")),
        (
            "event_ws_object",
            "activity panel (the object's own events)",
            events.for_object(object_type="bench.item", object_id=4242),
        ),
        (
            "event_ws_parent",
            "activity panel (what belongs to the object)",
            events.for_object(object_type="bench.item", object_id=4242),
        ),
        (
            "event_actor_ws",
            "audit log filtered by a person",
            events.filter(actor_user=someone).order_by("-id"),
        ),
        (
            "event_ws_verb",
            "audit log filtered by an action",
            events.filter(verb="item.status_changed").order_by("-id"),
        ),
        (
            "event_ws_txid",
            "change feed of a small workspace",
            visibility.visible_after(small, (0, 0)),
        ),
        (
            "event_txid_id",
            "consumers (every workspace)",
            visibility.visible_after(Event.objects.all(), position),
        ),
        ("activity_event_pkey", "retention (oldest first)", Event.objects.order_by("id")),
        (
            "activity_event_pkey",
            "audit log of a one-workspace log, a deep page",
            events.filter(id__lt=deep_id).order_by("-id"),
        ),
    ]


def check_indexes(report, workspace, user, deep_id, position) -> None:
    """EXPLAIN each reader's first page on the seeded log; the index it is
    there for must be in the plan."""
    from django.db import connection

    plans = {}
    small_id = _small_workspace(user).pk
    for index, reader, queryset in _index_readers(workspace, user, deep_id, position):
        plan = queryset[:50].explain()
        plans[f"{index}: {reader}"] = plan
        report.check(
            f"activity: {reader} reads {index}",
            "yes" if index in plan else "no",
            "yes",
            index in plan,
            note=" ".join(plan.split())[:160],
        )
    report.facts["activity_index_plans"] = plans
    # Out again: the next run's pages are timed on the 10 million alone.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM activity_event WHERE workspace_id = %s", [small_id])
        cursor.execute("ANALYZE activity_event")


def measure(report, data, args) -> None:
    from django.test import Client

    from backlog import services
    from backlog.models import Item
    from pmhub.accounts import services as accounts
    from pmhub.activity import consumers, tasks
    from pmhub.activity.models import Event
    from pmhub.api.pagination import encode_cursor

    # The dispatch a commit queues is a worker's job (in eager mode it would
    # run the consumers inline, inside the measured request).
    tasks.dispatch_events.delay = lambda *args, **kwargs: None
    consumers._enqueue = lambda: None
    user, product, workspace = data["user"], data["product"], data["workspace"]
    _, secret = accounts.create_api_token(user, name="bench-activity")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    items = list(Item.objects.filter(product=product).order_by("rank")[:3])
    target = items[2]

    print(f"==> activity: PATCH and move with and without recording ({args.reps} repetitions)")
    flip = {"n": 0}

    def patch():
        flip["n"] += 1
        response = api.patch(
            f"/api/v1/items/{target.pk}/",
            {"title": f"Bench title {flip['n'] % 2}"},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content

    def move():
        flip["n"] += 1
        before, after = (items[0], None) if flip["n"] % 2 else (None, items[1])
        response = api.post(
            f"/api/v1/items/{target.pk}/move/",
            {"before": before.pk if before else None, "after": after.pk if after else None},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content

    def off(fn):
        def run():
            with recording_off():
                fn()

        return run

    for metric, fn in (("PATCH of an item", patch), ("move of an item", move)):
        times = interleaved({"on": fn, "off": off(fn)}, reps=args.reps, warmup=3)
        on, without = p50(times["on"]), p50(times["off"])
        report.ratio(
            f"activity: {metric}, recording on",
            on,
            without,
            1.10,
            baseline_name="the same request with recording off",
            note=f"recording adds {ms(on - without):.2f} ms",
        )

    print(f"==> activity: bulk edit of {BULK:,} items with and without recording")
    ids = list(Item.objects.filter(product=product).order_by("id").values_list("id", flat=True))
    ids = ids[:BULK]
    statuses = iter(["candidate", "planned"] * 1000)

    def bulk():
        services.bulk_update_items(user, product=product, item_ids=ids, status=next(statuses))

    reps = max(3, args.reps // 8)
    times = interleaved({"on": bulk, "off": off(bulk)}, reps=reps, warmup=1)
    on, without = p50(times["on"]), p50(times["off"])
    report.ratio(
        f"activity: recording in a bulk edit of {BULK:,} items",
        max(on - without, 0.0),
        without,
        0.10,
        baseline_name="the bulk edit without recording",
        percent=True,
        note=f"with {ms(on):.0f} ms, without {ms(without):.0f} ms (one COPY of {BULK:,} events)",
    )

    n = args.events
    _seed_events(workspace, user, n)
    client = Client()
    client.force_login(user)
    audit = f"/w/{workspace.slug}/audit/"
    deep_id = (
        Event.objects.filter(workspace=workspace)
        .order_by("id")
        .values_list("id", flat=True)[n // 20 : n // 20 + 1][0]
    )  # 95 % of the log is newer: the page an auditor reaches by going far back
    deep_audit = {"before": encode_cursor("audit", [deep_id])}
    first = Event.objects.filter(workspace=workspace).order_by("txid", "id").first()
    far = Event.objects.filter(workspace=workspace, verb="item.updated").order_by("-id")[
        n // 20
    ]  # the feed's page 95 % of the way along
    deep_feed = {"after": encode_cursor("events", [far.txid, far.id]), "workspace": workspace.pk}
    first_feed = {
        "after": encode_cursor("events", [first.txid, first.id]),
        "workspace": workspace.pk,
    }

    def page(c, url, params):
        def run():
            response = c.get(url, params)
            assert response.status_code == 200
            return response

        return run

    print(f"==> activity: audit log and change feed over {n:,} events")
    for metric, url, c, deep, shallow in (
        ("audit log page", audit, client, deep_audit, {}),
        ("change feed page", "/api/v1/events/", api, deep_feed, first_feed),
    ):
        times = interleaved(
            {"deep": page(c, url, deep), "first": page(c, url, shallow)},
            reps=max(5, args.reps // 2),
            warmup=2,
        )
        report.ratio(
            f"activity: {metric} deep in {n:,} events",
            p50(times["deep"]),
            p50(times["first"]),
            1.2,
            baseline_name="its first page",
        )
    print("==> activity: the index each reader needs, EXPLAINed (a small workspace beside)")
    check_indexes(report, workspace, user, deep_id, (far.txid, far.id))
