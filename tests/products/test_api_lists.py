"""Products API lists: keyset pagination, incremental sync (updated_since), filters."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.models import (
    Competitor,
    Objective,
    Persona,
    Product,
)
from tests.factories import (
    CompetitorFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PersonaFactory,
    ProductFactory,
)
from tests.products.api_support import (
    MODELS,
    RESOURCES,
    all_ids,
    detail_url,
    existing,
    list_url,
    make_rows,
)

# --- pagination ------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_lists_are_paginated_with_next_previous_and_results(api, strategy, resource):
    body = api.get(list_url(resource)).json()
    assert set(body) == {"next", "previous", "results"}
    assert body["previous"] is None
    assert body["next"] is None
    assert [row["id"] for row in body["results"]] == [existing(resource, strategy).pk]


def test_page_size_sets_the_page_length(api, product):
    make_rows("persona", product, 5)
    body = api.get(list_url("persona"), {"page_size": 2}).json()
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert "page_size=2" in body["next"]


def test_page_size_above_500_is_capped_at_500(api, product):
    Persona.objects.bulk_create(Persona(product=product, name=f"P{i:03}") for i in range(501))
    body = api.get(list_url("persona"), {"page_size": 1000}).json()
    assert len(body["results"]) == 500
    assert body["next"] is not None
    last = api.get(body["next"]).json()
    assert len(last["results"]) == 1
    assert last["next"] is None


@pytest.mark.parametrize("resource", RESOURCES)
def test_following_next_returns_every_row_once_while_rows_are_added(api, strategy, resource):
    make_rows(resource, strategy, 6)
    before = set(MODELS[resource].objects.values_list("pk", flat=True))
    assert len(before) == 7

    seen: list[int] = []
    response = api.get(list_url(resource), {"page_size": 3})
    while True:
        assert response.status_code == 200
        seen += [row["id"] for row in response.json()["results"]]
        make_rows(resource, strategy, 1)  # someone adds a row between page fetches
        if response.json()["next"] is None:
            break
        response = api.get(response.json()["next"])

    assert len(seen) == len(set(seen)), "a row came back twice"
    assert before <= set(seen), "a row that existed all along was skipped"


def test_previous_link_returns_the_page_before(api, product):
    make_rows("competitor", product, 5)
    first = api.get(list_url("competitor"), {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    back = api.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_ordering_is_kept_across_pages(api, product):
    for name in ["Delta", "Alpha", "Echo", "Charlie", "Bravo"]:
        ProductFactory(workspace=product.workspace, name=name)
    by_name = list(Product.objects.order_by("name").values_list("pk", flat=True))

    assert all_ids(api, list_url("product"), {"ordering": "name", "page_size": 2}) == by_name
    assert all_ids(api, list_url("product"), {"ordering": "-name", "page_size": 2}) == by_name[::-1]


@pytest.mark.parametrize("ordering", ["name", "-name", "updated_at", "-created_at"])
def test_ordering_by_a_shared_value_still_returns_every_row_once(api, product, ordering):
    # Ties must not make pages overlap or skip rows (PostgreSQL returns tied
    # rows in no fixed order unless the ordering ends in a unique column).
    now = timezone.now()
    Persona.objects.bulk_create(
        Persona(product=product, name="Same", created_at=now, updated_at=now) for _ in range(40)
    )
    before = set(Persona.objects.values_list("pk", flat=True))
    seen: list[int] = []
    response = api.get(list_url("persona"), {"ordering": ordering, "page_size": 7})
    while True:
        seen += [row["id"] for row in response.json()["results"]]
        # added meanwhile, tied with every row already seen
        PersonaFactory(product=product, name="Same", created_at=now, updated_at=now)
        if response.json()["next"] is None:
            break
        response = api.get(response.json()["next"])

    assert len(seen) == len(set(seen)), "a row came back twice"
    assert before <= set(seen), "a row that existed all along was skipped"


def test_default_order_is_by_id_and_can_be_reversed(api, product):
    make_rows("objective", product, 4)
    ids = sorted(Objective.objects.values_list("pk", flat=True))
    assert all_ids(api, list_url("objective"), {"page_size": 3}) == ids
    assert all_ids(api, list_url("objective"), {"ordering": "-id", "page_size": 3}) == ids[::-1]


# --- incremental sync --------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_updated_since_returns_only_rows_changed_at_or_after(api, strategy, resource):
    _old, at_cutoff, later = make_rows(resource, strategy, 3)
    cutoff = timezone.now() - timedelta(hours=1)
    model = MODELS[resource]
    model.objects.update(updated_at=cutoff - timedelta(days=2))
    model.objects.filter(pk=at_cutoff.pk).update(updated_at=cutoff)
    model.objects.filter(pk=later.pk).update(updated_at=cutoff + timedelta(minutes=5))

    body = api.get(list_url(resource), {"updated_since": cutoff.isoformat()}).json()

    assert {row["id"] for row in body["results"]} == {at_cutoff.pk, later.pk}


def test_an_edit_brings_a_row_back_into_updated_since(api, competitor):
    Competitor.objects.update(updated_at=timezone.now() - timedelta(days=1))
    since = timezone.now()
    assert (
        api.get(list_url("competitor"), {"updated_since": since.isoformat()}).json()["results"]
        == []
    )

    api.patch(detail_url("competitor", competitor.pk), {"notes": "Raised prices"})

    body = api.get(list_url("competitor"), {"updated_since": since.isoformat()}).json()
    assert [row["id"] for row in body["results"]] == [competitor.pk]


def test_updated_since_accepts_a_utc_z_suffix(api, persona):
    body = api.get(list_url("persona"), {"updated_since": "2000-01-01T00:00:00Z"}).json()
    assert [row["id"] for row in body["results"]] == [persona.pk]


@pytest.mark.parametrize(
    ("since", "included"),
    [
        ("2020-01-01T00:00:00+20:17", True),  # PostgreSQL refuses offsets beyond ±15:59
        ("0001-01-01T00:00:00+05:00", True),  # before year 1 once in UTC
        ("9999-12-31T23:59:00-05:00", False),  # after 9999 once in UTC
        ("9999-12-31T23:59:59Z", False),
    ],
)
def test_updated_since_at_the_edges_of_iso_8601(api, persona, since, included):
    response = api.get(list_url("persona"), {"updated_since": since})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == ([persona.pk] if included else [])


def test_malformed_updated_since_is_a_400(api, persona):
    response = api.get(list_url("persona"), {"updated_since": "last tuesday"})
    assert response.status_code == 400
    assert "updated_since" in response.json()


# --- filters -----------------------------------------------------------------------


def test_products_filter_by_workspace(api, product, other_workspace):
    all_keys = {row["key"] for row in api.get(list_url("product")).json()["results"]}
    assert all_keys == {"PAY", "SIDE"}

    body = api.get(list_url("product"), {"workspace": other_workspace.pk}).json()
    assert [row["key"] for row in body["results"]] == ["SIDE"]


def test_products_filter_by_stage(api, product):
    ProductFactory(workspace=product.workspace, key="LIVE", stage="launch")
    body = api.get(list_url("product"), {"stage": "launch"}).json()
    assert [row["key"] for row in body["results"]] == ["LIVE"]


def test_bad_filter_value_is_a_400(api, product):
    response = api.get(list_url("product"), {"stage": "someday"})
    assert response.status_code == 400
    assert "stage" in response.json()


def test_objectives_filter_by_product_and_status(api, objective):
    other = ProductFactory(workspace=objective.product.workspace, key="OTH")
    on_track = ObjectiveFactory(product=other, status="on_track")
    ObjectiveFactory(product=other, status="at_risk")

    by_product = api.get(list_url("objective"), {"product": objective.product_id}).json()
    assert [row["id"] for row in by_product["results"]] == [objective.pk]

    by_both = api.get(list_url("objective"), {"product": other.pk, "status": "on_track"}).json()
    assert [row["id"] for row in by_both["results"]] == [on_track.pk]


def test_filter_by_an_id_you_cannot_see_is_just_empty(api, objective, stranger):
    # Neither 400 "not a valid choice" (which told other workspaces' ids apart
    # from ids that do not exist) nor anything from the other workspace.
    theirs = ProductFactory(workspace=stranger.memberships.get().workspace)
    ObjectiveFactory(product=theirs)
    for product_id in (theirs.pk, 0, 2**63):
        response = api.get(list_url("objective"), {"product": product_id})
        assert response.status_code == 200
        assert response.json()["results"] == []


def test_filter_by_a_non_numeric_id_is_a_400(api, objective):
    response = api.get(list_url("objective"), {"product": "payments"})
    assert response.status_code == 400
    assert "product" in response.json()


def test_key_results_filter_by_objective(api, key_result):
    elsewhere = KeyResultFactory(objective=ObjectiveFactory(product=key_result.objective.product))
    body = api.get(list_url("key-result"), {"objective": elsewhere.objective_id}).json()
    assert [row["id"] for row in body["results"]] == [elsewhere.pk]


def test_competitors_filter_by_threat_level(api, competitor):
    high = CompetitorFactory(product=competitor.product, threat_level="high")
    body = api.get(list_url("competitor"), {"threat_level": "high"}).json()
    assert [row["id"] for row in body["results"]] == [high.pk]
