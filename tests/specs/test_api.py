"""The specs API: conventions (keyset list, ETag / If-Match 412, 404 across
workspaces, unknown parameters 400), reviews, diff and Markdown."""

import pytest
from django.urls import reverse

from specs import services
from specs.models import SpecState
from tests.backlog.factories import make_item
from tests.conftest import api_client_for

SPECS = reverse("spec-list")


def detail(spec, action=""):
    base = reverse("spec-detail", args=[spec.pk])
    return base + (f"{action}/" if action else "")


def test_create_read_and_list(api, item, objective):
    response = api.post(SPECS, {"item": item.pk, "problem": "Why", "goals": "- Win"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == SpecState.DRAFT and body["version"] == 1
    assert body["objectives"] == [objective.pk] and body["item_key"] == item.key
    assert response["ETag"].startswith('"1.')
    listed = api.get(SPECS, {"product": item.product_id}).json()
    assert [s["id"] for s in listed["results"]] == [body["id"]]
    assert api.get(SPECS, {"stat": "draft"}).status_code == 400  # unknown parameter


def test_a_second_spec_for_the_item_is_a_400(api, spec):
    response = api.post(SPECS, {"item": spec.item_id}, format="json")
    assert response.status_code == 400 and "item" in response.json()


def test_if_match_412_changes_nothing(api, spec):
    ok = api.patch(detail(spec), {"goals": "- New"}, format="json", HTTP_IF_MATCH='"1"')
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = api.patch(detail(spec), {"goals": "- Other"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert api.get(detail(spec)).json()["goals"] == "- New"


def test_ten_thousand_characters_too_many_is_a_clear_400(api, spec):
    response = api.patch(detail(spec), {"problem": "x" * 20_001}, format="json")
    assert response.status_code == 400
    assert "20000 characters at most" in response.json()["problem"][0]


@pytest.mark.parametrize("suffix", ["", "versions", "diff", "markdown"])
def test_another_workspace_gets_404(stranger, spec, suffix):
    client = api_client_for(stranger)
    assert client.get(detail(spec, suffix)).status_code == 404
    assert client.get(SPECS).json()["results"] == []


def test_viewer_reads_but_cannot_write(viewer, spec, teammate):
    client = api_client_for(viewer)
    assert client.get(detail(spec)).status_code == 200
    assert client.patch(detail(spec), {"goals": "x"}, format="json").status_code == 403
    response = client.post(
        detail(spec, "request-review"), {"reviewers": [teammate.pk]}, format="json"
    )
    assert response.status_code == 403


def test_review_flow_over_the_api(api, spec, teammate):
    response = api.post(detail(spec, "request-review"), {"reviewers": [teammate.pk]}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == SpecState.IN_REVIEW
    reviewer = api_client_for(teammate)
    queue = reviewer.get(reverse("spec-review-list"), {"reviewer": teammate.pk}).json()["results"]
    assert [r["spec"] for r in queue] == [spec.pk]
    approved = reviewer.post(
        detail(spec, "verdict"),
        {"verdict": "approved", "comment": "ok"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert approved.status_code == 200 and approved.json()["state"] == SpecState.APPROVED
    api.patch(detail(spec), {"goals": "- Changed"}, format="json")
    body = api.get(detail(spec)).json()
    assert body["state"] == SpecState.IN_REVIEW
    assert body["reviews"][0]["stale"] is True
    stale = reviewer.post(
        detail(spec, "verdict"), {"verdict": "approved"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 412


def test_versions_diff_and_markdown(api, spec, pm):
    services.update_spec(pm, spec=spec, expected_version=1, fields={"goals": "- Pay in two taps"})
    versions = api.get(detail(spec, "versions")).json()
    assert [v["number"] for v in versions] == [2, 1]
    diff = api.get(detail(spec, "diff"), {"from": 1, "to": 2}).json()
    goals = next(s for s in diff["sections"] if s["name"] == "goals")
    assert goals["lines"] == [
        {"op": "removed", "text": "- Pay in one tap"},
        {"op": "added", "text": "- Pay in two taps"},
    ]
    assert api.get(detail(spec, "diff"), {"from": "x"}).status_code == 400
    assert api.get(detail(spec, "diff"), {"from": 1, "to": 7}).status_code == 400
    md = api.get(detail(spec, "markdown")).json()
    assert md["filename"] == f"{spec.item.key}-spec.md"
    assert "## Goals\n\n- Pay in two taps" in md["markdown"]


def test_list_queries_do_not_grow_with_specs(
    api, product, pm, teammate, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n):
        for _ in range(n):
            s = services.create_spec(pm, item=make_item(product, pm), problem="p")
            services.request_review(pm, spec=s, reviewers=[teammate])

    add(3)
    with CaptureQueriesContext(connection) as small:
        assert len(api.get(SPECS).json()["results"]) == 3
    add(5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(api.get(SPECS).json()["results"]) == 8
