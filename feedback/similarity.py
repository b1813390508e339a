"""Which backlog items does a piece of feedback talk about, and which other
feedback says the same thing?

PostgreSQL: full-text search with ranking (``ts_rank`` of the item's title,
weight A, and description, weight B, against the feedback's words OR-ed
together), candidates found through a GIN index (migration 0002). SQLite
(embedded mode): the same idea in Python, TF-IDF over the product's items
with a small English stemmer."""

import math
import re
from collections import Counter

from django.db import connection

from backlog.models import Item

WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "get",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "like",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "please",
        "really",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourselves",
        "us",
        "need",
        "needs",
        "want",
        "wants",
        "able",
        "would",
        "could",
        "should",
        "much",
        "many",
        "lot",
        "lots",
        "thing",
        "things",
        "way",
        "still",
        "even",
        "every",
    ]
)


def stem(word: str) -> str:
    """A light English stemmer: enough to match "exports" to "export"."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
    return word


def tokens(text: str) -> list[str]:
    return [stem(w) for w in WORD.findall((text or "").lower()) if w not in STOP and len(w) > 1]


def similar_items(feedback_text: str, product_id: int, *, limit: int = 5) -> list[Item]:
    """The ``limit`` items of the product most similar to the text, best first."""
    if connection.vendor == "postgresql":
        return _similar_items_pg(feedback_text, product_id, limit)
    return _similar_items_python(feedback_text, product_id, limit)


# The item vector, exactly as the GIN index feedback_item_search is built
# (migration 0002), so the planner uses the index for ``@@``.
ITEM_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, COALESCE({title}, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE({description}, '')), 'B')"
)
# At most this many matching items are ranked: a bound on the work for a
# feedback made of very common words; in a backlog of diverse titles the
# matches are far fewer and the ranking is exact.
MAX_CANDIDATES = 1000


def _similar_items_pg(text: str, product_id: int, limit: int) -> list[Item]:
    words = sorted(set(WORD.findall((text or "").lower())) - STOP)
    if not words:
        return []
    # Words OR-ed: feedback is a paragraph, an item matches a few of its words.
    query = " | ".join(words)
    table = connection.ops.quote_name(Item._meta.db_table)
    vector = ITEM_VECTOR_SQL.format(title="title", description="description")
    tsquery = "to_tsquery('english'::regconfig, %s)"
    sql = f"""
        SELECT candidates.id, ts_rank(candidates.vector, {tsquery}) AS rank
        FROM (
            SELECT item.id, {vector} AS vector
            FROM {table} AS item
            WHERE item.product_id = %s AND item.status <> 'archived' AND {vector} @@ {tsquery}
            LIMIT {MAX_CANDIDATES}
        ) AS candidates
        ORDER BY rank DESC, candidates.id
        LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [query, product_id, query, limit])
        ranked = cursor.fetchall()
    by_pk = Item.objects.in_bulk([pk for pk, _rank in ranked])
    result = []
    for pk, rank in ranked:
        item = by_pk[pk]
        item.similarity = rank
        result.append(item)
    return result


def _similar_items_python(text: str, product_id: int, limit: int) -> list[Item]:
    wanted = Counter(tokens(text))
    if not wanted:
        return []
    rows = list(
        Item.objects.filter(product_id=product_id)
        .exclude(status="archived")
        .values_list("id", "title", "description")
    )
    docs = [(pk, tokens(title), tokens(description)) for pk, title, description in rows]
    df: Counter = Counter()
    for _pk, title, description in docs:
        df.update(set(title) | set(description))
    n = len(docs) or 1
    scores = []
    for pk, title, description in docs:
        title_set, desc_set = set(title), set(description)
        score = 0.0
        for word, count in wanted.items():
            if word in title_set or word in desc_set:
                idf = math.log(1 + n / df[word])
                weight = 1.0 if word in title_set else 0.4  # the title speaks louder
                score += weight * idf * (1 + math.log(count))
        if score > 0:
            # Normalise by title length a little, so a short precise title wins.
            scores.append((score / math.sqrt(len(title_set) + 1), pk))
    scores.sort(key=lambda s: (-s[0], s[1]))
    best = [pk for _score, pk in scores[:limit]]
    by_pk = Item.objects.in_bulk(best)
    result = []
    for score, pk in scores[:limit]:
        item = by_pk[pk]
        item.similarity = score
        result.append(item)
    return result


def jaccard(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


DUPLICATE_THRESHOLD = 0.6


def likely_duplicates(text: str, candidates, *, threshold: float = DUPLICATE_THRESHOLD) -> list:
    """Candidates (objects with ``.text``) whose words overlap the text's by at
    least ``threshold`` (Jaccard similarity of stemmed words)."""
    words = set(tokens(text))
    return [c for c in candidates if jaccard(words, set(tokens(c.text))) >= threshold]
