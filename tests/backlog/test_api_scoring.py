"""REST API for backlog items and scoring models: moves that write one row,
self-explaining scores, scoring models and the recompute they trigger."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backlog import services
from backlog.models import BacklogSettings, Item, ScoreChange, ScoringKind, ScoringModel
from tests.conftest import api_client_for

from .api_helpers import (
    ITEMS,
    MODELS,
    backlog_order,
    item_url,
    model_url,
    move_url,
    update_statements_on_items,
)
from .factories import bulk_items, make_item, make_rice_item

# --- move ------------------------------------------------------------------------------


def test_move_to_the_top(api, items, product):
    response = api.post(move_url(items[2]), {"before": items[0].pk, "after": None})

    assert response.status_code == 200, response.content
    assert response.json()["id"] == items[2].pk
    assert backlog_order(product) == [items[2].pk, items[0].pk, items[1].pk]


def test_move_to_the_bottom(api, items, product):
    response = api.post(move_url(items[0]), {"after": items[2].pk, "before": None})

    assert response.status_code == 200
    assert backlog_order(product) == [items[1].pk, items[2].pk, items[0].pk]


def test_move_between_two_neighbours(api, items, product):
    response = api.post(move_url(items[2]), {"after": items[0].pk, "before": items[1].pk})

    assert response.status_code == 200
    assert response.json()["rank"] == Item.objects.get(pk=items[2].pk).rank
    assert backlog_order(product) == [items[0].pk, items[2].pk, items[1].pk]


def test_a_move_writes_exactly_one_item_row(api, items, product):
    bulk_items(product, 30)
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(move_url(items[2]), {"after": items[0].pk, "before": items[1].pk})

    assert response.status_code == 200
    assert update_statements_on_items(ctx.captured_queries) == 1
    sqls = [q["sql"] for q in ctx.captured_queries]
    inserts = [sql for sql in sqls if sql.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and "activity_event" in inserts[0]  # its event, nothing else


BAD_MOVES = {
    "wrong way": lambda items, other, foreign: {"after": items[2].pk, "before": items[0].pk},
    "itself": lambda items, other, foreign: {"before": items[1].pk, "after": None},
    "another product": lambda items, other, foreign: {"before": other.pk},
    "another workspace": lambda items, other, foreign: {"after": foreign.pk},
    "no such item": lambda items, other, foreign: {"before": 999999},
    "not an id": lambda items, other, foreign: {"before": "top"},
}


@pytest.mark.parametrize("why", BAD_MOVES)
def test_bad_neighbours_are_400_and_move_nothing(
    api, items, product, other_product, pm, strangers_item, why
):
    items = [*items, make_item(product, pm)]
    other = make_item(other_product, pm)
    before = backlog_order(product)

    response = api.post(move_url(items[1]), BAD_MOVES[why](items, other, strangers_item))

    assert response.status_code == 400, why
    assert backlog_order(product) == before


# --- score breakdown -----------------------------------------------------------------------


def test_a_rice_item_explains_its_score(api, product, pm):
    item = make_rice_item(product, pm, reach=1000, impact=2, confidence=80, effort=4)

    body = api.get(item_url(item)).json()

    assert body["score"] == pytest.approx(400.0)
    breakdown = body["score_breakdown"]
    assert {k: v for k, v in breakdown.items() if k != "terms"} == {
        "model": "RICE",
        "kind": "rice",
        "score": pytest.approx(400.0),
        "formula": "Reach × Impact × Confidence% ÷ Effort",
        "worked": "1,000 × 2 × 80% ÷ 4 = 400",
        "missing": [],
        "recompute_pending": False,
    }
    assert [(t["label"], t["value"]) for t in breakdown["terms"]] == [
        ("Reach", 1000.0),
        ("Impact", 2.0),
        ("Confidence", 80.0),
        ("Effort", 4.0),
    ]


def test_an_item_with_missing_inputs_has_no_score_and_says_what_is_missing(api, product, pm):
    item = make_item(product, pm, reach=100, impact=1, confidence=50)

    body = api.get(item_url(item)).json()

    assert body["score"] is None
    assert body["score_breakdown"]["missing"] == ["Effort"]
    assert body["score_breakdown"]["worked"] == ""


def test_a_weighted_model_explains_each_criterion_including_custom_fields(api, product, pm):
    field = services.create_custom_field(pm, product=product, name="Revenue", kind="number")
    model = services.create_scoring_model(
        pm,
        product=product,
        name="Strategy fit",
        kind=ScoringKind.WEIGHTED,
        criteria=[
            {"name": "Value", "source": "value", "weight": 3, "min": 0, "max": 10},
            {"name": "Revenue", "source": f"cf:{field.pk}", "weight": 1, "min": 0, "max": 100},
        ],
    )
    services.activate_scoring_model(pm, product=product, model=model)
    item = make_item(product, pm, value=5, custom={str(field.pk): 100})

    breakdown = api.get(item_url(item)).json()["score_breakdown"]

    assert breakdown["kind"] == "weighted"
    assert [t["label"] for t in breakdown["terms"]] == ["Value", "Revenue"]
    assert [t["points"] for t in breakdown["terms"]] == pytest.approx([37.5, 25.0])
    assert breakdown["score"] == pytest.approx(62.5)


# --- scoring models -------------------------------------------------------------------------


def test_scoring_models_list_by_product_with_the_active_one_marked(
    api, rice, product, other_product, pm
):
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind="ice")

    rows = api.get(MODELS, {"product": product.pk}).json()["results"]

    assert [(r["id"], r["is_active"]) for r in rows] == [(rice.pk, True), (ice.pk, False)]
    assert set(rows[0]) == {
        "id",
        "product",
        "name",
        "kind",
        "criteria",
        "reach_from_demand",
        "is_active",
        "version",
        "created_at",
        "updated_at",
    }


def test_create_a_weighted_scoring_model(api, product, rice):
    response = api.post(
        MODELS,
        {
            "product": product.pk,
            "name": "Fit",
            "kind": "weighted",
            "criteria": [{"name": "Value", "source": "value", "weight": 2}],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["is_active"]) == ("weighted", False)
    assert body["criteria"][0]["weight"] == 2.0
    assert response["ETag"].startswith('"1.')


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "RICE", "kind": "rice"}, "name"),
        ({"name": "Fit", "kind": "weighted", "criteria": []}, "criteria"),
        ({"name": "Fit", "kind": "weighted", "criteria": [{"source": "nope"}]}, "criteria"),
        ({"name": "Fit", "kind": "magic"}, "kind"),
    ],
)
def test_invalid_scoring_models_are_400(api, product, rice, body, field):
    response = api.post(MODELS, {"product": product.pk, **body})

    assert response.status_code == 400
    assert field in response.json()


def test_activating_a_model_rescores_the_backlog(
    api, items, product, pm, django_capture_on_commit_callbacks
):
    for item in items:
        services.update_item(
            pm, item=item, expected_version=None, fields={"impact": 2, "confidence": 50, "ease": 4}
        )
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind="ice")

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("scoring-model-activate", args=[ice.pk]))

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is True
    assert not api.get(item_url(items[0])).json()["score_breakdown"]["recompute_pending"]
    scores = {row["id"]: row["score"] for row in api.get(ITEMS).json()["results"]}
    assert scores == {i.pk: pytest.approx(40.0) for i in items}
    row = api.get(item_url(items[0])).json()
    assert row["score_breakdown"]["formula"] == "Impact × Confidence/10 × Ease"
    assert ScoreChange.objects.filter(item=items[0], cause=ScoreChange.Cause.MODEL).exists()
    rows = api.get(MODELS, {"product": product.pk}).json()["results"]
    assert {r["name"]: r["is_active"] for r in rows} == {"ICE": True, "RICE": False}


def test_the_breakdown_says_when_a_rescore_is_still_pending(api, items, product, pm):
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind="ice")
    services.activate_scoring_model(pm, product=product, model=ice)  # the task runs on commit

    breakdown = api.get(item_url(items[0])).json()["score_breakdown"]

    assert (breakdown["kind"], breakdown["recompute_pending"]) == ("ice", True)


def test_changing_the_active_models_weights_rescores_the_backlog(
    api, product, pm, django_capture_on_commit_callbacks
):
    fit = services.create_scoring_model(
        pm,
        product=product,
        name="Fit",
        kind="weighted",
        criteria=[{"name": "Value", "source": "value", "weight": 1, "min": 0, "max": 10}],
    )
    services.activate_scoring_model(pm, product=product, model=fit)
    item = make_item(product, pm, value=5, ease=10)
    assert item.score == pytest.approx(50.0)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            model_url(fit),
            {
                "criteria": [
                    {"name": "Value", "source": "value", "weight": 1, "min": 0, "max": 10},
                    {"name": "Ease", "source": "ease", "weight": 1, "min": 0, "max": 10},
                ]
            },
            headers={"If-Match": '"1"'},
        )

    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert api.get(item_url(item)).json()["score"] == pytest.approx(75.0)


def test_scoring_model_stale_if_match_is_412(api, rice):
    assert api.patch(model_url(rice), {"name": "RICE v2"}).status_code == 200

    response = api.patch(model_url(rice), {"name": "RICE v3"}, headers={"If-Match": '"1"'})

    assert response.status_code == 412
    assert ScoringModel.objects.get(pk=rice.pk).name == "RICE v2"


def test_the_active_model_cannot_be_deleted(api, rice):
    response = api.delete(model_url(rice))

    assert response.status_code == 400
    assert ScoringModel.objects.filter(pk=rice.pk).exists()


def test_an_inactive_model_is_deleted_unless_the_if_match_is_stale(api, rice, product, pm):
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind="ice")
    api.patch(model_url(ice), {"name": "ICE 2"})

    assert api.delete(model_url(ice), headers={"If-Match": '"1"'}).status_code == 412
    assert api.delete(model_url(ice), headers={"If-Match": '"2"'}).status_code == 204
    assert not ScoringModel.objects.filter(pk=ice.pk).exists()


def test_scoring_model_roles(rice, product, viewer, stranger, pm):
    ice = services.create_scoring_model(pm, product=product, name="ICE", kind="ice")
    activate = reverse("scoring-model-activate", args=[ice.pk])
    for client, read, write in (
        (api_client_for(viewer), 200, 403),
        (api_client_for(pm, read_only=True), 200, 403),
        (api_client_for(stranger), 404, 404),
    ):
        assert client.get(model_url(ice)).status_code == read
        assert client.patch(model_url(ice), {"name": "X"}).status_code == write
        assert client.post(activate).status_code == write
        assert client.delete(model_url(ice)).status_code == write
    assert api_client_for(viewer).post(MODELS, {"product": product.pk, "name": "W", "kind": "ice"})
    assert BacklogSettings.objects.of(product).active_model_id == rice.pk
    assert ScoringModel.objects.get(pk=ice.pk).name == "ICE"


def test_stranger_does_not_see_scoring_models_of_other_workspaces(rice, stranger):
    assert api_client_for(stranger).get(MODELS).json()["results"] == []
