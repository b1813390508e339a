"""Suite "backlog" of `make bench`: the items API against raw SQL (a page,
a deep page, 1 000 rows), the backlog HTML page against its own row template
fed from ``.values()``, rows written per move, and a full recompute against
one raw UPDATE. bench/README.md explains each metric."""

import json
import re
import statistics
import time

from .core import QueryLog, Report, explain, interleaved, ms, p50


def page_query(log: QueryLog):
    """The statement that reads the page's items (the one with ORDER BY on backlog_item)."""
    for sql, params, _ in log.queries:
        if 'FROM "backlog_item"' in sql and "ORDER BY" in sql and "LIMIT" in sql:
            return sql, params
    return None


def measure_lists(report: Report, data: dict, reps: int, n: int) -> None:
    from django.test import Client

    from backlog.api.pagination import Cursor, ItemKeysetPagination
    from backlog.models import Item
    from pmhub.accounts import services as accounts
    from pmhub.accounts.models import ApiToken

    from . import baselines

    product = data["product"]
    user = data["user"]
    ApiToken.objects.filter(user=user).delete()
    _, secret = accounts.create_api_token(user, name="bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    plain = Client()
    pid = product.pk

    def api_get(page_size=50, cursor=None):
        params = {"product": pid, "ordering": "rank", "page_size": page_size}
        if cursor:
            params["cursor"] = cursor
        response = api.get("/api/v1/items/", params)
        if response.status_code != 200:
            raise SystemExit(
                f"bench: the items API answered {response.status_code}: {response.content[:500]!r}"
            )
        return response

    def raw_view(page_size):
        response = plain.get("/__bench__/raw-items/", {"product": pid, "page_size": page_size})
        assert response.status_code == 200
        return response

    # Correctness first: the API returns the rows the baseline does.
    first = api_get(50).json()
    raw_first = json.loads(baselines.raw_items_json(pid, 50))["results"]
    if [r["id"] for r in first["results"]] != [r["id"] for r in raw_first]:
        raise SystemExit("bench: the API's first page differs from the raw-SQL baseline's rows")
    # The deep page starts at row 90 000 (1-based): its cursor is the row
    # before, encoded by the API's own paginator. Built this way, a cursor is
    # the very string the API puts in `next` (checked on the first page).
    deep_start = min(90_000, n - 50)
    ordered = Item.objects.filter(product_id=pid).order_by("rank").values_list("product_id", "rank")
    pager = ItemKeysetPagination()
    cursor_50 = pager.encode_cursor(Cursor("rank", tuple(ordered[49])))
    if f"cursor={cursor_50}" not in (first["next"] or ""):
        raise SystemExit(f"bench: a constructed cursor differs from the API's: {first['next']}")
    deep_cursor = pager.encode_cursor(Cursor("rank", tuple(ordered[deep_start - 2])))
    deep_ids = list(
        Item.objects.filter(product_id=pid)
        .order_by("rank")
        .values_list("id", flat=True)[deep_start - 1 : deep_start + 49]
    )
    deep = api_get(50, deep_cursor).json()
    if [r["id"] for r in deep["results"]] != deep_ids:
        raise SystemExit(f"bench: the deep page is not rows {deep_start:,}–{deep_start + 49:,}")

    # Queries per request, and no COUNT(*) anywhere on the list path.
    counts, count_sql, logs = {}, [], {}
    for label, size, cursor in [
        ("1", 1, None),
        ("50", 50, None),
        ("500", 500, None),
        ("50 deep", 50, deep_cursor),
    ]:
        api_get(size, cursor)  # warm: a token's last use is written at most once a minute
        with QueryLog() as log:
            api_get(size, cursor)
        logs[label] = log
        counts[label] = len(log.queries)
        count_sql += [sql for sql in log.sql if "COUNT(" in sql.upper()]
    report.facts["queries_per_request"] = counts
    report.facts["list_queries_page_50"] = [sql[:160] for sql in logs["50"].sql]
    sizes = [counts["1"], counts["50"], counts["500"]]
    report.check(
        "API queries per request (page_size 1 / 50 / 500)",
        " / ".join(map(str, sizes)),
        "equal",
        len(set(sizes)) == 1,
        note="" if len(set(sizes)) == 1 else "the number of queries grows with the page size",
    )
    report.check(
        "API list: COUNT( in any query (pages 1, 50, 500, deep)",
        "none" if not count_sql else f"{len(count_sql)} queries",
        "none",
        not count_sql,
        note="" if not count_sql else count_sql[0][:300],
    )
    plans = {}
    for label in ("50", "50 deep"):
        query = page_query(logs[label])
        if query:
            plans[label] = explain(*query)
    report.facts["page_query_plans"] = plans

    def raw_view_authenticated(page_size):
        response = api.get(
            "/__bench__/raw-items-authenticated/", {"product": pid, "page_size": page_size}
        )
        assert response.status_code == 200
        return response

    # 1. a page of 50 vs the raw-SQL view; 2. the deep page vs the first.
    t = interleaved(
        {
            "api50": lambda: api_get(50),
            "api50deep": lambda: api_get(50, deep_cursor),
            "raw50view": lambda: raw_view(50),
            "raw50auth": lambda: raw_view_authenticated(50),
            "raw50": lambda: baselines.raw_items_json(pid, 50),
        },
        reps=reps,
        warmup=max(3, reps // 10),
    )
    report.ratio(
        "API page of 50 vs raw-SQL view",
        p50(t["api50"]),
        p50(t["raw50view"]),
        3,
        baseline_name="raw SQL + json.dumps in a plain Django view (same client, middleware)",
        extra={
            "bare_raw_sql_json_ms": ms(p50(t["raw50"])),
            "raw_view_with_token_check_ms": ms(p50(t["raw50auth"])),
        },
        note=f"{counts['50']} queries per request (baseline: 1); bare SQL + json.dumps "
        f"without a request: {ms(p50(t['raw50'])):.2f} ms; the raw view with the same "
        f"bearer-token check in SQL: {ms(p50(t['raw50auth'])):.2f} ms "
        f"({p50(t['api50']) / p50(t['raw50auth']):.2f}×, not a target)",
    )
    deep_note = ""
    if "50 deep" in plans and "50" in plans:
        d, f = plans["50 deep"], plans["50"]
        deep_note = (
            f"page query (EXPLAIN ANALYZE): first page {f['execution_ms']:.2f} ms, "
            f"{f['rows_removed_by_filter']:,} rows filtered; deep page {d['execution_ms']:.2f} ms, "
            f"{d['rows_removed_by_filter']:,} rows filtered"
        )
    report.ratio(
        f"API deep page (rows {deep_start:,}–{deep_start + 49:,}) vs first page",
        p50(t["api50deep"]),
        p50(t["api50"]),
        1.2,
        baseline_name="API first page",
        note=deep_note,
    )

    # 3. 1 000 rows: the API caps page_size at 500, so two pages of 500 (the
    # first and the one its `next` names) against the raw view with 1 000 rows.
    page500 = api_get(500).json()
    next500 = page500["next"].split("cursor=")[1].split("&")[0]
    t = interleaved(
        {
            "api500": lambda: api_get(500),
            "api500next": lambda: api_get(500, next500),
            "raw1000view": lambda: raw_view(1000),
            "raw500view": lambda: raw_view(500),
        },
        reps=max(5, reps // 3),
        warmup=2,
    )
    report.ratio(
        "API page of 500 vs raw-SQL view of 500",
        p50(t["api500"]),
        p50(t["raw500view"]),
        1.5,
        baseline_name="raw SQL + json.dumps view, page_size=500",
        note="rows without score_breakdown (lists explain only with ?expand=explanation; "
        "the raw view has none either)",
    )
    pair = [a + b for a, b in zip(t["api500"], t["api500next"], strict=True)]
    report.ratio(
        "API 1 000 rows (2 pages of 500) vs raw-SQL view of 1 000",
        p50(pair),
        p50(t["raw1000view"]),
        2,
        baseline_name="raw SQL + json.dumps view, page_size=1000",
        extra={
            "api_page_500_ms": ms(p50(t["api500"])),
            "raw_view_500_ms": ms(p50(t["raw500view"])),
        },
        note=f"page_size is capped at 500 by the API; one page of 500 takes "
        f"{ms(p50(t['api500'])):.2f} ms vs {ms(p50(t['raw500view'])):.2f} ms for the raw view "
        f"of 500 ({p50(t['api500']) / p50(t['raw500view']):.2f}×)",
    )


TABLE_ROW = re.compile(r'<tr id="row-.*?</tr>\n', re.S)


def measure_html(report: Report, data: dict, reps: int) -> None:
    from django.test import Client

    from . import baselines

    product, user, workspace = data["product"], data["user"], data["workspace"]
    browser = Client()
    browser.force_login(user)
    url = f"/w/{workspace.slug}/p/{product.key}/backlog/"

    def page():
        response = browser.get(url)
        if response.status_code != 200:
            raise SystemExit(f"bench: the backlog page answered {response.status_code}")
        return response

    def rows_view():
        response = browser.get("/__bench__/backlog-rows/", {"product": product.pk})
        assert response.status_code == 200
        return response

    def minimal():
        response = browser.get("/__bench__/minimal-backlog/", {"product": product.pk})
        assert response.status_code == 200
        return response

    from backlog.models import Item

    html = page().content.decode()
    ranked = Item.objects.filter(product=product).order_by("rank")
    keys = list(ranked.values_list("key", flat=True)[:51])
    shown = [key for key in keys if f"{key}<" in html]
    if shown != keys[:50]:
        raise SystemExit(f"bench: the page shows {len(shown)} of the first 51 items, not 50")
    # The baseline writes the very rows the page shows, byte for byte.
    ours = TABLE_ROW.findall(html)
    theirs = TABLE_ROW.findall(rows_view().content.decode())
    if ours != theirs:
        diff = next((n for n, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), None)
        raise SystemExit(
            f"bench: the page's table rows ({len(ours)}) differ from the baseline's "
            f"({len(theirs)}), first at row {diff}"
        )
    with QueryLog() as log:
        page()
    report.facts["backlog_page_queries"] = [sql[:160] for sql in log.sql]
    t = interleaved(
        {
            "page": page,
            "rows": rows_view,
            "minimal": minimal,
            "bare_rows": lambda: baselines.backlog_rows_html(product.pk),
            "bare": lambda: baselines.minimal_backlog_html(product.pk),
        },
        reps=reps,
        warmup=max(3, reps // 10),
    )
    eight = p50(t["page"]) / p50(t["minimal"])
    report.ratio(
        "backlog HTML page (50 rows) vs the same rows, minimal template",
        p50(t["page"]),
        p50(t["rows"]),
        1.5,
        baseline_name=".values() + a plain template writing the page's table rows (same markup, "
        "checked byte for byte), no page around them, in a plain Django view (same client)",
        extra={
            "bare_rows_template_ms": ms(p50(t["bare_rows"])),
            "eight_column_template_view_ms": ms(p50(t["minimal"])),
            "eight_column_ratio": round(eight, 4),
            "bare_eight_column_template_ms": ms(p50(t["bare"])),
        },
        note=f"{len(log.queries)} queries per page (baseline: 1); the same rows without a "
        f"request: {ms(p50(t['bare_rows'])):.2f} ms; against the first baseline, 8 columns of "
        f"plain text without controls: {ms(p50(t['minimal'])):.2f} ms ({eight:.2f}×, not a "
        "target)",
    )


def measure_moves(report: Report, data: dict) -> None:
    from backlog import services
    from backlog.models import Item

    product, user = data["product"], data["user"]
    ordered = list(
        Item.objects.filter(product=product).order_by("rank").values_list("pk", flat=True)
    )
    n = len(ordered)

    def item(position):
        return Item.objects.select_related("product__workspace").get(pk=ordered[position])

    mover = item(n // 2)
    moves = [
        ("to the top", {"before": item(0)}),
        ("between rows 10 and 11", {"after": item(9), "before": item(10)}),
        ("to the bottom", {"after": item(-1)}),
        ("back to its place", {"after": item(n // 2 - 1), "before": item(n // 2 + 1)}),
    ]
    results = []
    for label, where in moves:
        start = time.perf_counter()
        with QueryLog() as log:
            services.move_item(user, item=mover, **where)
        elapsed = time.perf_counter() - start
        writes = [
            (sql, rowcount)
            for sql, _, rowcount in log.queries
            if sql.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "MERGE")
            or (sql.lstrip().upper().startswith("WITH") and "UPDATE" in sql.upper())
        ]
        results.append(
            {
                "move": label,
                "statements": len(log.queries),
                "write_statements": len(writes),
                "rows_written": sum(max(r, 0) for _, r in writes),
                "ms": ms(elapsed),
                "writes": [sql[:120] for sql, _ in writes],
            }
        )
    order_now = list(
        Item.objects.filter(product=product).order_by("rank").values_list("pk", flat=True)
    )
    if order_now != ordered:
        raise SystemExit("bench: moving the item back did not restore the backlog order")
    report.facts["moves"] = results
    report.check(
        "rows written per move (top, middle, bottom, back)",
        " / ".join(str(r["rows_written"]) for r in results),
        "= 1",
        all(r["rows_written"] == 1 and r["write_statements"] == 1 for r in results),
        note=f"one UPDATE of backlog_item each; a move takes "
        f"{statistics.median(r['ms'] for r in results):.1f} ms with "
        f"{statistics.median(r['statements'] for r in results):.0f} statements (p50 of the 4)",
    )


def measure_recompute(report: Report, data: dict, reps: int) -> None:
    from backlog import services
    from backlog.models import BacklogSettings

    state = data["state"]
    product = data["product"]
    expected = state.changed_rows()
    samples = {"ours": [], "baseline": [], "noop": []}

    def run_ours():
        target = state.other()
        state.settle(state.current)
        state.request(target, f"model|bench: {state.current} → {target}")
        state.maintenance()
        start = time.perf_counter()
        changed = services.recompute_scores(product.pk)
        elapsed = time.perf_counter() - start
        state.current = target
        if changed != expected:
            raise SystemExit(f"bench: the recompute changed {changed} scores, not {expected}")
        if BacklogSettings.objects.get(pk=state.settings_pk).recompute_pending:
            raise SystemExit("bench: the recompute left its generation pending")
        return elapsed

    def run_noop():
        # Right after a full recompute: bump the generation, change nothing.
        state.request(state.current, "weights|bench: saved without changes")
        state.maintenance()
        start = time.perf_counter()
        changed = services.recompute_scores(product.pk)
        elapsed = time.perf_counter() - start
        if changed != 0:
            raise SystemExit(f"bench: a recompute with nothing changed wrote {changed} scores")
        return elapsed

    def run_baseline():
        target = state.other()
        state.maintenance()
        start = time.perf_counter()
        written = state.execute(state.sql[target.pk])
        elapsed = time.perf_counter() - start
        state.current = target
        if written != data["n"]:
            raise SystemExit(f"bench: the raw UPDATE wrote {written} rows, not {data['n']}")
        return elapsed

    state.settle(state.a)
    run_ours()  # warm-up
    run_baseline()
    for _ in range(reps):
        samples["ours"].append(run_ours())
        samples["noop"].append(run_noop())
        samples["baseline"].append(run_baseline())
    state.settle(state.a)
    state.maintenance()
    report.facts["recompute_rows"] = expected
    report.facts["recompute_baseline_sql"] = state.sql[state.b.pk][0]
    report.ratio(
        f"full recompute of {expected:,} scores vs one raw UPDATE",
        p50(samples["ours"]),
        p50(samples["baseline"]),
        1.5,
        baseline_name="UPDATE backlog_item SET score = <same formula> WHERE product_id = %s",
        extra={
            "ours_samples_ms": [ms(x) for x in samples["ours"]],
            "baseline_samples_ms": [ms(x) for x in samples["baseline"]],
        },
        note=f"models {state.a} ⇄ {state.b}; the recompute also writes a ScoreChange row per "
        "changed score (the score history), the UPDATE does not",
    )
    report.ratio(
        "recompute with nothing changed vs full recompute",
        p50(samples["noop"]),
        p50(samples["ours"]),
        0.05,
        baseline_name="full recompute",
        extra={"samples_ms": [ms(x) for x in samples["noop"]]},
        percent=True,
        note="the generation is bumped with the same model and weights: every score is "
        "computed again and none is written",
    )


def measure(report: Report, data: dict, args) -> None:
    print(f"==> list API ({args.reps} repetitions per request, p50)")
    measure_lists(report, data, args.reps, args.items)
    print("==> backlog HTML page")
    measure_html(report, data, args.reps)
    print("==> moves")
    measure_moves(report, data)
    print(f"==> recompute ({args.recompute_reps} repetitions, each from the same state)")
    measure_recompute(report, data, args.recompute_reps)
