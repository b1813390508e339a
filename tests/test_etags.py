"""The ETag a GET answers changes whenever the representation changes, also
when the version does not (issue 16, item 6): a move changes an item's rank,
a recompute its score, an item's edit the entries that show it, datapoints a
launch review and a key result. Write checks stay on the version: an
``If-Match`` with an ETag read before a move still saves."""

from datetime import UTC, datetime, timedelta

import pytest

from backlog import services as backlog_services
from backlog.models import Item, ScoringKind
from metrics import services as metric_services
from pmhub.api.views import etag_matches
from roadmaps import services as roadmap_services
from roadmaps.models import Horizon, Layout
from tests.backlog.factories import make_item, make_rice_item


def _etag(api, url):
    response = api.get(url)
    assert response.status_code == 200
    return response["ETag"], response.json()


def _still_fresh(api, url, etag) -> bool:
    """True when the server answers 304 to ``etag``."""
    return api.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_a_move_changes_the_items_etag_but_not_its_version(api, pm, product):
    first = make_item(product, pm, title="First")
    second = make_item(product, pm, title="Second")
    url = f"/api/v1/items/{second.pk}/"
    etag, before = _etag(api, url)
    assert _still_fresh(api, url, etag)

    moved = api.post(f"{url}move/", {"before": first.pk, "after": None}, format="json")

    assert moved.status_code == 200
    assert not _still_fresh(api, url, etag)
    new_etag, after = _etag(api, url)
    assert new_etag != etag and moved["ETag"] == new_etag
    assert after["version"] == before["version"] and after["rank"] != before["rank"]
    # Write checks stay on the version: the ETag read before the move saves.
    saved = api.patch(url, {"title": "Renamed"}, format="json", headers={"If-Match": etag})
    assert saved.status_code == 200


def test_a_rescore_changes_the_items_etag(api, pm, product, django_capture_on_commit_callbacks):
    item = make_rice_item(product, pm, title="Scored", reach=100)
    url = f"/api/v1/items/{item.pk}/"
    etag, before = _etag(api, url)
    model = backlog_services.create_scoring_model(
        pm, product=product, name="ICE", kind=ScoringKind.ICE
    )
    Item.objects.filter(pk=item.pk).update(ease=5)  # an input only ICE reads, no version bump
    with django_capture_on_commit_callbacks(execute=True):  # the recompute runs after commit
        backlog_services.activate_scoring_model(pm, product=product, model=model)

    _new, after = _etag(api, url)
    assert after["version"] == before["version"] and after["score"] != before["score"]
    assert not _still_fresh(api, url, etag)


def test_an_items_edit_changes_the_etag_of_its_roadmap_entries(api, pm, product, workspace):
    item = make_item(product, pm, title="Checkout")
    roadmap = roadmap_services.create_roadmap(
        pm, workspace=workspace, product=product, name="R", layout=Layout.NOW_NEXT_LATER
    )
    entry = roadmap_services.add_entry(pm, roadmap=roadmap, item=item, horizon=Horizon.NOW)
    url = f"/api/v1/roadmap-entries/{entry.pk}/"
    etag, before = _etag(api, url)

    backlog_services.update_item(pm, item=item, expected_version=None, fields={"title": "Pay"})

    _new, after = _etag(api, url)
    assert after["title"] == "Pay" and after["version"] == before["version"]
    assert not _still_fresh(api, url, etag)


def _daily(pm, metric, values_by_ago):
    today = datetime.now(UTC).date()
    rows = [
        {"timestamp": f"{(today - timedelta(days=ago)).isoformat()}T12:00:00Z", "value": v}
        for ago, v in values_by_ago.items()
    ]
    metric_services.ingest_datapoints(pm, metric=metric, rows=rows)
    metric_services.process_dirty()


def test_datapoints_change_a_hypothesis_etag_and_an_unchanged_one_is_304(api, pm, product):
    metric = metric_services.create_metric(
        pm, product=product, name="Conversion", aggregation="average"
    )
    item = make_item(product, pm, status="shipped")
    Item.objects.filter(pk=item.pk).update(shipped_at=datetime.now(UTC) - timedelta(days=20))
    hypothesis = backlog_services.save_hypothesis(
        pm,
        item=Item.objects.get(pk=item.pk),
        expected_version=None,
        fields={"metric": metric, "expected_change": 10, "window_days": 14},
    )
    url = f"/api/v1/hypotheses/{hypothesis.pk}/"
    etag, before = _etag(api, url)
    assert _still_fresh(api, url, etag)

    _daily(pm, metric, {ago: 50.0 + (ago < 20) * 10 for ago in range(1, 40)})

    _new, after = _etag(api, url)
    assert after["version"] == before["version"] and after["review"] != before["review"]
    assert not _still_fresh(api, url, etag)


def test_a_key_results_progress_changes_its_objectives_etag(api, objective, key_result):
    url = f"/api/v1/objectives/{objective.pk}/"
    etag, before = _etag(api, url)

    moved = api.patch(
        f"/api/v1/key-results/{key_result.pk}/",
        {"current_value": key_result.target_value},
        format="json",
    )

    assert moved.status_code == 200
    _new, after = _etag(api, url)
    assert after["version"] == before["version"] and after["progress"] != before["progress"]
    assert not _still_fresh(api, url, etag)


RESOURCES = [
    "products",
    "objectives",
    "key-results",
    "competitors",
    "personas",
    "items",
    "scoring-models",
    "metrics",
    "roadmaps",
    "roadmap-entries",
    "milestones",
    "customers",
    "people",
    "feedback",
]


@pytest.fixture
def one_of_each(pm, strategy, workspace):
    from feedback import services as feedback_services

    item = make_item(strategy, pm, title="Item")
    metric_services.create_metric(pm, product=strategy, name="Metric")
    roadmap = roadmap_services.create_roadmap(
        pm, workspace=workspace, product=strategy, name="R", layout=Layout.NOW_NEXT_LATER
    )
    roadmap_services.add_entry(pm, roadmap=roadmap, item=item, horizon=Horizon.NOW)
    roadmap_services.add_milestone(
        pm, roadmap=roadmap, name="GA", date=datetime.now(UTC).date(), kind="release"
    )
    company = feedback_services.create_company(pm, workspace=workspace, name="Co")
    feedback_services.create_person(pm, workspace=workspace, name="Ann", email="a@co.example")
    feedback_services.create_feedback(pm, product=strategy, text="More", company=company)


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_resource_answers_304_to_its_own_etag_only(api, one_of_each, resource):
    row = api.get(f"/api/v1/{resource}/").json()["results"][0]
    url = f"/api/v1/{resource}/{row['id']}/"
    etag, body = _etag(api, url)

    assert etag.startswith(f'"{body["version"]}.')
    assert _still_fresh(api, url, etag)
    assert _still_fresh(api, url, f"W/{etag}")
    assert not _still_fresh(api, url, f'"{body["version"]}"')  # a bare version is no validator


def test_if_none_match_parsing():
    assert etag_matches('"1.ab"', '"1.ab"')
    assert etag_matches('"0.x", W/"1.ab"', '"1.ab"')
    assert etag_matches("*", '"1.ab"')
    assert not etag_matches('"1"', '"1.ab"')
    assert not etag_matches(None, '"1.ab"')
