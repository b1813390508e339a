"""Suite "palette" of `make bench`: the command palette over the 100 000-item
workspace of bench/seed.py.

- the item lookup (``backlog.search.find_items``: key ranges in the
  ``(product, number)`` index, title words through the pg_trgm GIN index
  ``backlog_item_title_trgm``, at most 200 candidates ranked by word
  similarity) against the same statement written by hand on a psycopg
  cursor, for a common word, a typo and a key — target ≤ 2× each;
- the whole palette request (``GET /w/<slug>/palette/?q=…``: session,
  membership, every app's source, the options' template) — target ≤ 50 ms
  p50, an absolute time;
- a check that the title lookup's plan reads the trigram index.
"""

import json

from .core import interleaved, ms, p50

QUERIES = [
    ("a common word (1 item in 16)", "invoice"),
    ("a typo, two words", "invocie admins"),
    ("a key prefix", "BENCH-4242"),
]

RAW_TITLE = """
SELECT i.id, i.key, i.number, i.title, i.status, p.key
FROM backlog_item i JOIN products_product p ON p.id = i.product_id
WHERE p.workspace_id = %s AND i.id IN ({candidates})
ORDER BY {order}
LIMIT 8
"""
SUBSTRING_ORDER = "i.title ILIKE %s DESC, length(i.title), i.id DESC"
FUZZY_ORDER = "word_similarity(%s, i.title) DESC, i.id DESC"
RAW_KEY = """
SELECT i.id, i.key, i.number, i.title, i.status, p.key
FROM backlog_item i JOIN products_product p ON p.id = i.product_id
WHERE i.product_id = ANY(ARRAY(
    SELECT id FROM products_product WHERE workspace_id = %s AND key = %s)) AND ({ranges})
ORDER BY i.number, i.id
LIMIT 8
"""


def _raw_lookup(workspace_id: int, text: str):
    """The same lookup as find_items, written by hand (one statement per
    branch it takes, the threshold set as find_items sets it)."""
    from django.db import connection, transaction

    from backlog import search

    match = search.KEY.match(text)
    with transaction.atomic(), connection.cursor() as cursor:
        if match:
            ranges, params = search.number_prefix_sql(int(match.group(2)))
            sql = RAW_KEY.format(ranges=ranges.replace("backlog_item.", "i."))
            cursor.execute(sql, [workspace_id, match.group(1).upper(), *params])
            return cursor.fetchall()
        words = search._words(text)
        cursor.execute(search.SETTINGS_SQL, [str(search.FUZZY_THRESHOLD)])
        for fuzzy in (False, True):
            candidates, params = search.candidates_sql(workspace_id, words, fuzzy=fuzzy)
            order, rank = (
                (FUZZY_ORDER, " ".join(words))
                if fuzzy
                else (SUBSTRING_ORDER, search._like_escape(words[0]) + "%")
            )
            sql = RAW_TITLE.format(candidates=candidates, order=order)
            cursor.execute(sql, [workspace_id, *params, rank])
            rows = cursor.fetchall()
            if len(rows) >= 8:
                break
        return rows


def measure(report, data, args) -> None:
    from django.db import connection, transaction
    from django.test import Client

    from backlog import search

    workspace, product = data["workspace"], data["product"]
    reps = max(10, args.reps)
    print(f"==> palette: item lookups over {data['n']:,} items ({reps} repetitions, p50)")
    for label, text in QUERIES:
        ours_rows = search.find_items(workspace, text, limit=8)
        raw_rows = _raw_lookup(workspace.pk, text)
        assert [r["pk"] for r in ours_rows] == [r[0] for r in raw_rows], (text, "differ")
        assert ours_rows, f"no item found for {text!r}"
        times = interleaved(
            {
                "ours": lambda text=text: search.find_items(workspace, text, limit=8),
                "raw": lambda text=text: _raw_lookup(workspace.pk, text),
            },
            reps=reps,
            warmup=3,
        )
        report.ratio(
            f"palette: item lookup, {label}",
            p50(times["ours"]),
            p50(times["raw"]),
            2.0,
            baseline_name="the same statements on a psycopg cursor",
            note=f"“{text}”: {len(ours_rows)} items, the same ids in the same order as raw SQL",
        )

    words = search._words("invoice")
    candidates, params = search.candidates_sql(workspace.pk, words, fuzzy=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(search.SETTINGS_SQL, [str(search.FUZZY_THRESHOLD)])
        cursor.execute(f"EXPLAIN (FORMAT JSON) {candidates}", params)
        plan = json.dumps(cursor.fetchone()[0])
    report.check(
        "palette: title candidates read the trigram index",
        "yes" if "backlog_item_title_trgm" in plan else "no",
        "uses backlog_item_title_trgm",
        "backlog_item_title_trgm" in plan,
    )

    print("==> palette: the whole request")
    client = Client()
    client.force_login(data["user"])
    url = f"/w/{workspace.slug}/palette/"
    for _label, text in QUERIES:
        response = client.get(url, {"q": text, "product": product.key})
        assert response.status_code == 200 and b'role="option"' in response.content
    samples = []
    for _label, text in QUERIES:
        times = interleaved(
            {"page": lambda text=text: client.get(url, {"q": text, "product": product.key})},
            reps=reps,
            warmup=2,
        )
        samples += times["page"]
    value = p50(samples)
    report.check(
        "palette: whole request p50 (the three queries)",
        f"{ms(value):.1f} ms",
        "≤ 50 ms",
        ms(value) <= 50,
        note="GET /w/<slug>/palette/?q=…: session, membership, every app's results, the template",
    )
