"""The backlog page pages every sort it offers by keyset (no OFFSET):
following its cursors returns every row exactly once in the sort's order,
nulls last, ties broken by id or rank, even while rows are being added; on
PostgreSQL a deep page of an indexed sort is a range scan of its index."""

import datetime as dt
import itertools

import pytest
from django.core.exceptions import BadRequest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backlog import services
from backlog.filters import KEYSETS, SORTS, BacklogQuery
from backlog.models import FieldKind, Item, Status
from backlog.reads import table_rows
from tests.conftest import is_postgres

from .factories import make_item

# Single lowercase words: Python and every database collation agree on their order.
WORDS = ["delta", "alpha", "charlie", "alpha", "bravo", "echo", "bravo", "alpha"]


@pytest.fixture
def fields(pm, product):
    return {
        "number": services.create_custom_field(
            pm, product=product, name="ARR", kind=FieldKind.NUMBER
        ),
        "text": services.create_custom_field(pm, product=product, name="Seg", kind=FieldKind.TEXT),
    }


def _item(product, pm, fields, n, owners):
    """The n-th item: every sort key repeats (ties) and the nullable ones are
    missing on some rows."""
    number, text = str(fields["number"].pk), str(fields["text"].pk)
    values = {
        "title": WORDS[n % len(WORDS)],
        "type": ["feature", "bug", "epic", "improvement"][n % 4],
        "status": Status.values[n % len(Status.values)],
        "status_reason": "no"
        if Status.values[n % len(Status.values)] in ("declined", "archived")
        else "",
        "owner": owners[n % len(owners)],
        "effort": [None, 2.0, 1.0, 2.0, None][n % 5],
        "value": [5.0, None, 5.0, 1.0][n % 4],
        "custom": {
            k: v
            for k, v in [
                (number, [None, 3.5, 1.0, 3.5][n % 4]),
                (text, [None, "sme", "ent", "sme", "mid"][n % 5]),
            ]
            if v is not None
        },
    }
    if n % 3:  # a RICE score, with ties; every third item has none
        values.update(
            reach=[10, 20, 10][n % 3] * 10, impact=1, confidence=100, effort=values["effort"] or 1.0
        )
    return make_item(product, pm, **values)


@pytest.fixture
def backlog(product, pm, teammate, fields):
    owners = [pm, None, teammate]
    made = [_item(product, pm, fields, n, owners) for n in range(16)]
    # Ties on updated_at too: groups of four.
    base = timezone.now() - dt.timedelta(hours=1)
    for n, item in enumerate(made):
        Item.objects.filter(pk=item.pk).update(updated_at=base + dt.timedelta(minutes=n // 4))
    # A manual order that is not the creation order.
    services.move_item(pm, item=made[9], before=made[0])
    services.move_item(pm, item=made[2], after=made[14])
    return made


def _sorts(fields):
    number, text = fields["number"].pk, fields["text"].pk
    return [*KEYSETS, f"cf{number}", f"-cf{number}", f"cf{text}", f"-cf{text}"]


def _query(product, sort):
    return BacklogQuery.from_params(
        QueryDict(f"sort={sort}"), product.custom_fields.all().order_by("pk")
    )


def _walk(query, product, size, between_pages=None) -> list[int]:
    seen, cursor = [], None
    for _ in range(500):  # a cursor that does not move on would loop forever
        rows, cursor = query.page(query.apply(table_rows(product)), cursor, size)
        seen += [row["id"] for row in rows]
        if cursor is None:
            return seen
        if between_pages is not None:
            between_pages()
    pytest.fail(f"{query.sort}: the cursors never reach the end")


def _expected(product, query) -> list[int]:
    """The documented order, computed in Python."""
    custom = {str(f.pk): f for f in query.custom_fields}
    order = list(Status.values)
    rows = list(table_rows(product))
    sort = query.sort

    def last(value, descending=False):  # nulls last in both directions
        if value is None:
            return (1, 0)
        return (0, -value if descending else value)

    keys = {
        "rank": lambda r: r["rank"],
        "-score": lambda r: (last(r["score"], True), r["id"]),
        "score": lambda r: (last(r["score"]), r["id"]),
        "-updated": lambda r: (-r["updated_at"].timestamp(), -r["id"]),
        "key": lambda r: r["number"],
        "title": lambda r: (r["title"], r["id"]),
        "effort": lambda r: (last(r["effort"]), r["id"]),
        "-value": lambda r: (last(r["value"], True), r["id"]),
        "status": lambda r: (order.index(r["status"]), r["rank"]),
        "type": lambda r: (r["type"], r["rank"]),
        "owner": lambda r: (r["owner__username"] is None, r["owner__username"] or "", r["rank"]),
    }
    if sort in keys:
        return [r["id"] for r in sorted(rows, key=keys[sort])]
    field = custom[sort.lstrip("-")[2:]]
    descending = sort.startswith("-")

    def custom_key(r):
        value = r["custom"].get(str(field.pk))
        if field.kind == FieldKind.NUMBER:
            return (last(value, descending), r["id"])
        if value is None:
            return ((1, ""), r["id"])
        return ((0, value), r["id"])

    ordered = sorted(rows, key=custom_key)
    if field.kind == FieldKind.TEXT and descending:  # strings cannot be negated
        valued = [r for r in ordered if r["custom"].get(str(field.pk)) is not None]
        groups = itertools.groupby(valued, key=lambda r: r["custom"][str(field.pk)])
        desc = [r for _, g in sorted(((k, list(g)) for k, g in groups), reverse=True) for r in g]
        ordered = desc + [r for r in ordered if r["custom"].get(str(field.pk)) is None]
    return [r["id"] for r in ordered]


def test_every_sort_the_page_offers_is_a_keyset(product, fields):
    assert set(SORTS) == set(KEYSETS)  # no sort falls back to OFFSET
    for sort in _sorts(fields):
        query = _query(product, sort)
        assert query.sort == sort  # offered, not the rank fallback
        assert query.keyset().keys[-1].name in ("id", "rank", "number")  # unique: a total order


@pytest.mark.parametrize("size", [1, 3, 50])
def test_following_the_cursors_returns_every_row_once_in_each_sort(product, fields, backlog, size):
    for sort in _sorts(fields):
        query = _query(product, sort)

        ids = _walk(query, product, size)

        assert ids == _expected(product, query), sort


def test_rows_added_while_paging_never_repeat_or_hide_existing_rows(
    product, fields, backlog, pm, teammate
):
    counter = itertools.count(100)
    for sort in _sorts(fields):
        query = _query(product, sort)
        before = set(Item.objects.filter(product=product).values_list("pk", flat=True))

        def add():
            _item(product, pm, fields, next(counter), [pm, None, teammate])

        ids = _walk(query, product, 3, between_pages=add)

        assert len(ids) == len(set(ids)), sort
        assert before <= set(ids), sort
        Item.objects.filter(product=product).exclude(pk__in=before).delete()


def test_no_page_is_read_with_offset(product, fields, backlog):
    for sort in _sorts(fields):
        query = _query(product, sort)
        _, cursor = query.page(query.apply(table_rows(product)), None, 5)
        _, deeper = query.page(query.apply(table_rows(product)), cursor, 5)

        with CaptureQueriesContext(connection) as ctx:
            query.page(query.apply(table_rows(product)), deeper, 5)

        assert 1 <= len(ctx.captured_queries) <= 2, sort  # two when a page crosses to nulls
        for captured in ctx.captured_queries:
            assert "OFFSET" not in captured["sql"].upper(), sort
            assert "COUNT(" not in captured["sql"].upper(), sort


def test_a_cursor_of_another_sort_or_a_crafted_one_is_a_bad_request(product, fields, backlog):
    """The page answers 400 (tests/test_cursors.py checks the response)."""
    cursors = {}
    for sort in _sorts(fields):
        query = _query(product, sort)
        cursors[sort] = query.page(query.apply(table_rows(product)), None, 2)[1]
    for sort in _sorts(fields):
        query = _query(product, sort)
        others = [c for other, c in cursors.items() if other != sort]
        for bad in [*others, "garbage!", "WzFd", cursors[sort][:-2]]:
            with pytest.raises(BadRequest):
                query.page(table_rows(product), bad, 2)


INDEXED = [s for s in KEYSETS if s != "owner"]


@pytest.mark.parametrize("sort", INDEXED)
def test_a_deep_page_of_an_indexed_sort_reads_its_index_without_sorting(product, backlog, sort):
    if not is_postgres():
        pytest.skip("the plan check needs PostgreSQL")
    query = _query(product, sort)
    _, cursor = query.page(table_rows(product), None, 2)
    with CaptureQueriesContext(connection) as ctx:
        query.page(table_rows(product), cursor, 2)
    page_sql = ctx.captured_queries[0]["sql"]

    with connection.cursor() as cursor_:
        cursor_.execute("SET LOCAL enable_seqscan = off")
        cursor_.execute("SET LOCAL enable_sort = off")
        cursor_.execute(f"EXPLAIN {page_sql}")
        plan = "\n".join(row[0] for row in cursor_.fetchall())

    assert "Index" in plan, plan
    assert "Sort" not in plan, plan
