"""Shared by the items API tests (test_api*.py): URLs, the documented
orders, and a client that follows ``next`` to the end."""

from django.urls import reverse
from rest_framework.test import APIClient

from backlog.models import Item

ITEMS = reverse("item-list")
MODELS = reverse("scoring-model-list")
ORDERINGS = [
    "rank",
    "-rank",
    "score",
    "-score",
    "updated_at",
    "-updated_at",
    "created_at",
    "-created_at",
]
ITEM_FIELDS = {
    "id",
    "key",
    "url",
    "product",
    "type",
    "title",
    "description",
    "status",
    "status_reason",
    "parent",
    "objectives",
    "tags",
    "owner",
    "effort",
    "external_url",
    "external_key",
    "reach",
    "impact",
    "confidence",
    "ease",
    "value",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "job_size",
    "demand",
    "custom",
    "score",
    "score_breakdown",
    "rank",
    "version",
    "created_at",
    "updated_at",
}


def item_url(item) -> str:
    return reverse("item-detail", args=[item.pk])


def move_url(item) -> str:
    return reverse("item-move", args=[item.pk])


def model_url(model) -> str:
    return reverse("scoring-model-detail", args=[model.pk])


def walk(client: APIClient, params: dict, *, between_pages=None) -> list[dict]:
    """Follow ``next`` until it is null, collecting rows in order; call
    ``between_pages()`` after each page (to add rows while paging)."""
    rows: list[dict] = []
    response = client.get(ITEMS, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["previous"] is None
        rows += body["results"]
        if body["next"] is None:
            return rows
        if between_pages is not None:
            between_pages()
        response = client.get(body["next"])


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def backlog_order(product) -> list[int]:
    return list(Item.objects.filter(product=product).order_by("rank").values_list("pk", flat=True))


def sort_key(ordering: str):
    """The documented order in Python: (field, id) in the given direction,
    with null scores last either way."""
    field = ordering.lstrip("-")
    descending = ordering.startswith("-")

    def key(item):
        value = getattr(item, field)
        if field == "score":
            # nulls after every number; within them, by id in the same direction
            null = value is None
            value = 0.0 if null else value
            return (null, -value if descending else value, -item.pk if descending else item.pk)
        return (value, item.pk)

    if field == "score":
        return key, False
    if field == "rank":  # the manual order is per product, and unique in it
        return (lambda item: (item.product_id, item.rank)), descending
    return key, descending


def expected_ids(product_items, ordering: str) -> list[int]:
    key, reverse_ = sort_key(ordering)
    return [i.pk for i in sorted(product_items, key=key, reverse=reverse_)]


def update_statements_on_items(queries) -> int:
    table = Item._meta.db_table
    return sum(
        1
        for q in queries
        if q["sql"].lstrip().upper().startswith("UPDATE") and table in q["sql"].split("SET")[0]
    )
