"""Finding items by key or title for the command palette.

- **By key**: ``PAY-4`` is the item PAY-4 first, then PAY-40…49, PAY-400…:
  ranges of ``number`` in the ``(product, number)`` unique index, for the
  workspace's product of that key (its id computed first). A bare
  number (``42``) is that number in any product of the workspace.
- **By title**, fuzzy: on PostgreSQL every word of the query must appear in
  the title, as a substring (``ILIKE``) or, when substrings find fewer than
  asked for, as a near-miss word (pg_trgm's ``<%``, word similarity ≥ 0.45
  for words of four letters or more, so "invocie" finds "invoice"). Both
  are served by the trigram GIN index ``backlog_item_title_trgm``
  (migration 0007). At most ``CANDIDATES`` rows come out of the index, in
  index order; they are ranked (substrings: titles starting with the first
  word, then the shortest; near misses: by word similarity) and the best
  ``limit`` returned, so a query that matches half the backlog costs what one that
  matches 200 does.
  On SQLite (embedded mode) each word is a case-insensitive substring and
  the newest items come first.
"""

import re

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length

from .models import Item

CANDIDATES = 200
FUZZY_FROM = 4  # shorter words match as substrings only (their trigrams say little)
FUZZY_THRESHOLD = 0.45  # word similarity of a near miss (pg_trgm's default is 0.6)
# For the search's own transaction only (SET LOCAL): the near-miss threshold
# ("invocie" is 0.5 like "invoice"), and the trigram index as the only way
# to the rows. With a LIMIT and the poor selectivity estimates of trigram
# conditions, the planner otherwise prefers walking a (product, title) index
# and filtering every row — 15 ms for a common word, the whole backlog for a
# rare one — where the bitmap scan of the GIN index takes a few ms and
# answers a rare word at once.
SETTINGS_SQL = (
    "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true),"
    " set_config('enable_seqscan', 'off', true),"
    " set_config('enable_indexscan', 'off', true),"
    " set_config('enable_indexonlyscan', 'off', true)"
)
KEY = re.compile(r"^([A-Za-z][A-Za-z0-9]{0,9})-(\d{1,9})$")
NUMBER = re.compile(r"^#?(\d{1,9})$")
WORD = re.compile(r"\w+", re.UNICODE)
FIELDS = ("pk", "key", "number", "title", "status", "product__key")


def number_prefix_sql(n: int, most: int = 10**9) -> tuple[str, list[int]]:
    """``number`` is ``n`` or starts with its digits (40–49, 400–499, …)."""
    conds, params = ["backlog_item.number = %s"], [n]
    low, width = n * 10, 10
    while n and low < most:
        conds.append("(backlog_item.number >= %s AND backlog_item.number < %s)")
        params += [low, low + width]
        low, width = low * 10, width * 10
    return " OR ".join(conds), params


def items_by_key(workspace, text: str, limit: int) -> list[dict]:
    match = KEY.match(text)
    if match:
        products, params = "workspace_id = %s AND key = %s", [workspace.pk, match.group(1).upper()]
        n = int(match.group(2))
    else:
        match = NUMBER.match(text)
        if not match:
            return []
        products, params = "workspace_id = %s", [workspace.pk]
        n = int(match.group(1))
    numbers, number_params = number_prefix_sql(n)
    # On PostgreSQL the product ids are an array computed first (an
    # InitPlan), so the planner reads the (product, number) index range by
    # range; as a join or IN (…) it scans every item instead. One condition
    # written once, not a Q per range: building the query is most of the
    # cost of a key lookup.
    in_products = (
        "backlog_item.product_id = ANY(ARRAY(SELECT id FROM products_product WHERE {}))"
        if connection.vendor == "postgresql"
        else "backlog_item.product_id IN (SELECT id FROM products_product WHERE {})"
    ).format(products)
    rows = Item.objects.extra(
        where=[f"{in_products} AND ({numbers})"], params=[*params, *number_params]
    )
    return list(rows.order_by("number", "pk").values(*FIELDS)[:limit])


def _words(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w][:6]


def candidates_sql(workspace_id: int, words: list[str], *, fuzzy: bool) -> tuple[str, list]:
    """At most CANDIDATES ids of the workspace's items matching every word
    (as a substring, or with ``fuzzy`` also as a near-miss word), read
    through the trigram index (PostgreSQL)."""
    conds, params = [], [workspace_id]
    for w in words:
        if fuzzy and len(w) >= FUZZY_FROM:
            conds.append("(i.title ILIKE %s OR %s <% i.title)")
            params += [f"%{_like_escape(w)}%", w]
        else:
            conds.append("i.title ILIKE %s")
            params.append(f"%{_like_escape(w)}%")
    cond = " AND ".join(conds).replace("%", "%%").replace("%%s", "%s")
    sql = (
        "SELECT i.id FROM backlog_item i WHERE i.product_id IN "
        "(SELECT p.id FROM products_product p WHERE p.workspace_id = %s) "
        f"AND {cond} LIMIT {CANDIDATES}"
    )
    return sql, params


def items_by_title(items, text: str, limit: int, *, workspace_id: int) -> list[dict]:
    words = _words(text)
    if not words or len("".join(words)) < 2:
        return []
    if connection.vendor == "postgresql":
        # Substrings first; near misses only when they do not fill the list
        # (a typo matches no substring, so its first statement is answered
        # by the index at once).
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(SETTINGS_SQL, [str(FUZZY_THRESHOLD)])
            for fuzzy in (False, True):
                sql, params = candidates_sql(workspace_id, words, fuzzy=fuzzy)
                rows = items.filter(pk__in=RawSQL(sql, params))
                if fuzzy:  # word similarity: right, and about 40 µs a row
                    rank = RawSQL("word_similarity(%s, backlog_item.title)", [" ".join(words)])
                    rows = rows.annotate(similarity=rank).order_by("-similarity", "-pk")
                else:  # titles that start with the query, then the shortest
                    rank = RawSQL("backlog_item.title ILIKE %s", [f"{_like_escape(words[0])}%"])
                    rows = rows.annotate(starts=rank, length=Length("title"))
                    rows = rows.order_by("-starts", "length", "-pk")
                found = list(rows.values(*FIELDS)[:limit])
                if len(found) >= limit:
                    break
            return found
    else:
        cond = Q()
        for w in words:
            cond &= Q(title__icontains=w)
        rows = items.filter(cond).order_by("-pk")
    return list(rows.values(*FIELDS)[:limit])


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_items(workspace, text: str, *, limit: int = 8) -> list[dict]:
    """Items of ``workspace`` for the palette: by key first, then by title."""
    found = items_by_key(workspace, text, limit)
    if len(found) < limit:
        items = Item.objects.in_workspace(workspace)
        seen = {row["pk"] for row in found}
        found += [
            r
            for r in items_by_title(items, text, limit, workspace_id=workspace.pk)
            if r["pk"] not in seen
        ]
    return found[:limit]
