"""REST API for backlog items: keyset pagination in every ordering (no
OFFSET, no COUNT, every row once while rows are added), and query counts
that do not grow with pages."""

import base64
import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backlog import services
from backlog.models import Item
from backlog.services.items import _tags_for
from tests.conftest import is_postgres
from tests.factories import MembershipFactory, ProductFactory

from .api_helpers import ITEMS, MODELS, ORDERINGS, backlog_order, expected_ids, walk
from .factories import bulk_items, make_item, make_rice_item

# --- ordering and keyset pagination ------------------------------------------------------


@pytest.fixture
def varied(product, pm):
    """Twelve items whose scores tie, are missing, and whose timestamps tie,
    so each ordering needs its id tie-breaker and its null handling."""
    reaches = [50, None, 10, 50, None, 30, 10, None, 50, 20, None, 40]
    made = [
        make_rice_item(product, pm, reach=r) if r is not None else make_item(product, pm)
        for r in reaches
    ]
    # Ties on the timestamps too: three groups of four.
    base = timezone.now() - dt.timedelta(hours=1)
    for n, item in enumerate(made):
        stamp = base + dt.timedelta(minutes=n // 4)
        Item.objects.filter(pk=item.pk).update(updated_at=stamp, created_at=stamp)
    # A manual order different from creation order.
    services.move_item(pm, item=made[7], before=made[0])
    services.move_item(pm, item=made[3], after=made[10])
    return list(Item.objects.filter(product=product))


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_every_ordering_walks_all_pages_in_the_documented_order(api, varied, ordering):
    rows = walk(api, {"ordering": ordering, "page_size": 3})

    assert [row["id"] for row in rows] == expected_ids(varied, ordering)


@pytest.mark.parametrize("ordering", ["score", "-score"])
def test_items_without_a_score_come_last_in_both_directions(api, varied, ordering):
    scores = [row["score"] for row in walk(api, {"ordering": ordering, "page_size": 5})]

    known = [s for s in scores if s is not None]
    assert scores == known + [None] * 4
    assert known == sorted(known, reverse=ordering.startswith("-"))


@pytest.mark.parametrize("page_size", [1, 2, 7, 8, 9, 50])
def test_score_pages_cross_from_scored_to_unscored_items_at_any_boundary(api, varied, page_size):
    for ordering in ("score", "-score"):
        rows = walk(api, {"ordering": ordering, "page_size": page_size})
        assert [row["id"] for row in rows] == expected_ids(varied, ordering)


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_rows_added_while_paging_never_repeat_or_hide_existing_rows(
    api, varied, product, pm, ordering
):
    reaches = iter([45, None, 5, 50, None, 1000, 10, None, 30, None])

    def add_one():
        reach = next(reaches, None)
        if reach is None:
            make_item(product, pm)
        else:
            make_rice_item(product, pm, reach=reach)

    rows = walk(api, {"ordering": ordering, "page_size": 2}, between_pages=add_one)

    seen = [row["id"] for row in rows]
    assert len(seen) == len(set(seen))
    assert {i.pk for i in varied} <= set(seen)
    everything = {i.pk: i for i in Item.objects.filter(product=product)}
    assert seen == expected_ids([everything[pk] for pk in seen], ordering)


def test_default_ordering_is_the_manual_rank(api, varied, product):
    assert [row["id"] for row in walk(api, {"page_size": 5})] == backlog_order(product)


@pytest.mark.parametrize("ordering", ["rank", "-rank"])
def test_rank_order_across_products_lists_each_backlog_in_turn(
    api, items, other_product, pm, ordering
):
    billing = [make_item(other_product, pm) for _ in range(3)]
    services.move_item(pm, item=billing[2], before=billing[0])

    rows = walk(api, {"ordering": ordering, "page_size": 2})

    everything = list(Item.objects.all())
    assert [row["id"] for row in rows] == expected_ids(everything, ordering)
    products = [row["product"] for row in rows]
    assert products == sorted(products, reverse=ordering.startswith("-"))


def test_next_keeps_filters_ordering_and_page_size(api, varied):
    body = api.get(ITEMS, {"ordering": "-score", "page_size": 2, "type": "feature"}).json()

    assert "ordering=-score" in body["next"]
    assert "page_size=2" in body["next"]
    assert "type=feature" in body["next"]
    assert body["next"].startswith("http://testserver/api/v1/items/?")


def test_deep_pages_use_a_keyset_condition_not_offset_or_count(api, varied):
    first = api.get(ITEMS, {"ordering": "-updated_at", "page_size": 4}).json()

    with CaptureQueriesContext(connection) as ctx:
        response = api.get(first["next"])

    assert response.status_code == 200
    sql = " ".join(q["sql"].upper() for q in ctx.captured_queries)
    assert "OFFSET" not in sql
    assert "COUNT(" not in sql
    assert '"UPDATED_AT" <' in sql  # the keyset bound on (updated_at, id)


@pytest.mark.parametrize("ordering", ["rank", "-rank", "score", "-score", "-updated_at"])
def test_a_deep_page_reads_the_index_in_order_without_sorting(api, varied, product, ordering):
    if not is_postgres():
        pytest.skip("the plan check needs PostgreSQL")
    first = api.get(ITEMS, {"ordering": ordering, "page_size": 2, "product": product.pk}).json()
    with CaptureQueriesContext(connection) as ctx:
        api.get(first["next"])
    page_sql = next(
        q["sql"] for q in ctx.captured_queries if f'FROM "{Item._meta.db_table}"' in q["sql"]
    )

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {page_sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "bm90IGpzb24",  # "not json"
        base64.urlsafe_b64encode(b'{"o":"rank","v":1,"i":1}').decode(),  # wrong value type
        base64.urlsafe_b64encode(b'{"o":"score","v":1.5,"i":1}').decode(),  # other ordering
        base64.urlsafe_b64encode(b'{"o":"rank","v":"a0","i":"1"}').decode(),
        base64.urlsafe_b64encode(b'{"o":"rank","v":null,"i":1}').decode(),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
    ],
)
def test_an_invalid_cursor_is_400_not_a_server_error(api, items, cursor):
    assert api.get(ITEMS, {"cursor": cursor}).status_code == 400


def test_an_invalid_datetime_cursor_is_400(api, items):
    raw = json.dumps({"o": "updated_at", "v": "2020-13-45", "i": 1}).encode()
    cursor = base64.urlsafe_b64encode(raw).decode()

    assert api.get(ITEMS, {"ordering": "updated_at", "cursor": cursor}).status_code == 400


def test_an_unknown_ordering_is_400(api, items):
    response = api.get(ITEMS, {"ordering": "title"})

    assert response.status_code == 400
    assert "ordering" in response.json()


# --- query counts -------------------------------------------------------------------------


def test_list_queries_do_not_grow_with_page_size(api, product, pm, objective, teammate):
    other = ProductFactory(workspace=product.workspace, key="OPS")
    MembershipFactory(workspace=product.workspace)
    made = bulk_items(product, 510, reach=10, impact=1, confidence=50, effort=2, owner=teammate)
    made += bulk_items(other, 10)
    Item.tags.through.objects.bulk_create(
        Item.tags.through(item_id=i.pk, tag_id=tag.pk)
        for tag in _tags_for(product, ["alpha", "beta"])
        for i in made[:510]
    )
    Item.objectives.through.objects.bulk_create(
        Item.objectives.through(item_id=i.pk, objective_id=objective.pk) for i in made[:510]
    )
    api.get(ITEMS, {"page_size": 1})  # the token's last-use stamp is written at most once

    counts = {}
    for ordering in ("rank", "-score"):
        for size in (1, 50, 500):
            with CaptureQueriesContext(connection) as ctx:
                response = api.get(ITEMS, {"page_size": size, "ordering": ordering})
            assert len(response.json()["results"]) == size
            assert response.json()["results"][0]["tags"] == ["alpha", "beta"] or (
                ordering == "-score"
            )
            counts[(ordering, size)] = len(ctx.captured_queries)

    assert len(set(counts.values())) == 1, counts
    # the token with its user; the page with its tags, objectives and scoring model
    assert counts[("rank", 1)] == 2, counts


def test_page_size_defaults_to_50_and_is_capped_at_500(api, product):
    bulk_items(product, 520)

    assert len(api.get(ITEMS).json()["results"]) == 50
    assert len(api.get(ITEMS, {"page_size": 5000}).json()["results"]) == 500
    assert len(api.get(ITEMS, {"page_size": 0}).json()["results"]) == 50


def test_scoring_model_list_queries_do_not_grow_with_rows(api, product, pm, rice):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            api.get(MODELS)
        return len(ctx.captured_queries)

    api.get(MODELS)
    before = count()
    for n in range(4):
        services.create_scoring_model(pm, product=product, name=f"ICE {n}", kind="ice")

    assert count() == before
