"""Customer demand can feed RICE reach: a RICE model with "reach from
demand" scores an item without Reach by its demand (backlog 0002)."""

import pytest

from backlog import services as backlog_services
from backlog.models import BacklogSettings, Item, ScoreChange, ScoringModel
from feedback import services
from tests.backlog.factories import make_item


@pytest.fixture
def rice(product, pm):
    model = BacklogSettings.objects.of(product).active_model
    backlog_services.update_scoring_model(
        pm, model=model, expected_version=model.version, fields={"reach_from_demand": True}
    )
    backlog_services.recompute_scores(product.pk)
    return ScoringModel.objects.get(pk=model.pk)


def test_demand_becomes_reach_when_reach_is_empty(
    workspace, product, pm, rice, committed, as_user, api
):
    item = make_item(product, pm, title="SEPA", impact=2, confidence=50, effort=4)
    with_reach = make_item(
        product, pm, title="SEPA too", reach=100, impact=2, confidence=50, effort=4
    )
    assert Item.objects.get(pk=item.pk).score is None  # no reach, no demand yet
    company = services.create_company(
        pm, workspace=workspace, name="Big", segment="smb", annual_revenue=999_000
    )
    for target in (item, with_reach):
        f = services.create_feedback(pm, product=product, text="SEPA!", company=company)
        with committed():
            services.link_feedback(pm, feedback=f, item=target, importance="nice")

    item = Item.objects.get(pk=item.pk)
    assert item.demand == pytest.approx(1000)
    assert item.score == pytest.approx(1000 * 2 * 0.5 / 4)  # demand × impact × conf% ÷ effort
    assert ScoreChange.objects.filter(item=item).first().cause == "demand"
    # Reach set by the PM wins over demand.
    assert Item.objects.get(pk=with_reach.pk).score == pytest.approx(100 * 2 * 0.5 / 4)

    # The item page and the API explain the same score.
    html = as_user(pm).get(f"/w/acme/p/PAY/backlog/items/{item.number}/").content.decode()
    assert "Reach (customer demand)" in html
    body = api.get(f"/api/v1/items/{item.pk}/").json()
    assert body["score_breakdown"]["score"] == pytest.approx(item.score)
    rows = api.get("/api/v1/items/", {"product": product.pk, "expand": "explanation"}).json()[
        "results"
    ]
    listed = next(r for r in rows if r["id"] == item.pk)
    assert listed["score_breakdown"]["score"] == pytest.approx(item.score)


def test_turning_the_option_on_from_the_scoring_page_rescores(product, pm, as_user):
    item = make_item(product, pm, title="X", impact=1, confidence=100, effort=1)
    backlog_services.set_item_demand(item_id=item.pk, demand=40.0, detail="test")
    assert Item.objects.get(pk=item.pk).score is None
    model = BacklogSettings.objects.of(product).active_model

    response = as_user(pm).post(
        f"/w/acme/p/PAY/backlog/scoring/{model.pk}/",
        {
            "version": model.version,
            "name": model.name,
            "reach_from_demand_form": "1",
            "reach_from_demand": "on",
        },
    )

    assert response.status_code == 302
    assert ScoringModel.objects.get(pk=model.pk).reach_from_demand
    backlog_services.sweep_pending_recomputes()
    assert Item.objects.get(pk=item.pk).score == pytest.approx(40.0)
