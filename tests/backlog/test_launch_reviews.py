"""Launch reviews: the verdict rule, the demo's three stories, hypotheses and
learnings (versioned), pages, permissions and query counts."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from backlog import launch_reviews, services
from backlog.launch_reviews import INCONCLUSIVE, MET, NOT_MET, judge, t_quantile
from backlog.models import Hypothesis, Item
from metrics import services as metrics
from pmhub.errors import VersionConflict
from products.models import Product
from tests.backlog.factories import make_item

pytestmark = pytest.mark.django_db


# --- the rule -----------------------------------------------------------------------------------


def _owner(product):
    return product.workspace.memberships.get(role="owner").user


def _noisy(mean, sd, n, seed):
    rng = random.Random(seed)
    return [rng.gauss(mean, sd) for _ in range(n)]


def test_t_quantile_matches_tables():
    assert t_quantile(0.975, 10) == pytest.approx(2.228, abs=0.003)
    assert t_quantile(0.975, 6) == pytest.approx(2.447, abs=0.01)
    assert t_quantile(0.975, 30) == pytest.approx(2.042, abs=0.002)


def test_a_clear_move_past_the_expectation_is_met():
    j = judge(_noisy(100, 1, 28, 1), _noisy(110, 1, 28, 2), expected=5, window=28)
    assert j.verdict == MET and j.change == pytest.approx(10, abs=1) and j.low > 5


def test_a_real_but_smaller_move_is_not_met():
    j = judge(_noisy(100, 1, 28, 1), _noisy(102, 1, 28, 2), expected=10, window=28)
    assert j.verdict == NOT_MET and j.high < 10


def test_a_move_the_wrong_way_is_not_met():
    j = judge(_noisy(100, 1, 28, 1), _noisy(95, 1, 28, 2), expected=5, window=28)
    assert j.verdict == NOT_MET


def test_noise_is_inconclusive():
    j = judge(_noisy(100, 20, 14, 1), _noisy(104, 20, 14, 2), expected=5, window=14)
    assert j.verdict == INCONCLUSIVE and j.low < 0 < j.high


def test_reaching_the_expectation_inside_the_noise_is_inconclusive():
    # Point estimate above the expectation, but the interval includes zero.
    j = judge(_noisy(100, 30, 10, 3), _noisy(112, 30, 10, 4), expected=5, window=14)
    assert j.change > 5 and j.low < 0
    assert j.verdict == INCONCLUSIVE


def test_an_expected_drop_is_judged_downwards():
    before, after = _noisy(50, 1, 28, 5), _noisy(40, 1, 28, 6)
    assert judge(before, after, expected=-10, window=28).verdict == MET
    assert judge(before, after, expected=-40, window=28).verdict == NOT_MET
    assert judge(before, after, expected=10, window=28).verdict == NOT_MET


def test_too_few_days_is_inconclusive():
    j = judge([1.0] * 6, [2.0] * 28, expected=5, window=28)
    assert j.verdict == INCONCLUSIVE and "Too little data" in j.reason
    # Half the window is needed on each side, at least seven days.
    assert judge([1.0, 1.1] * 7, [2.0, 2.1] * 7, expected=5, window=28).verdict == MET
    assert judge([1.0, 1.1] * 6, [2.0, 2.1] * 7, expected=5, window=28).verdict == INCONCLUSIVE


def test_a_zero_baseline_is_inconclusive():
    assert judge([0.0] * 14, [5.0] * 14, expected=5, window=14).verdict == INCONCLUSIVE


def test_constant_series_are_judged_without_noise():
    assert judge([10.0] * 14, [11.0] * 14, expected=5, window=14).verdict == MET
    assert judge([10.0] * 14, [10.2] * 14, expected=5, window=14).verdict == NOT_MET


# --- reviews from data --------------------------------------------------------------------------


@pytest.fixture
def metric(pm, product):
    return metrics.create_metric(pm, product=product, name="Conversion", aggregation="average")


def _shipped(product, days_ago=30, **kwargs):
    launched = datetime.now(UTC) - timedelta(days=days_ago)
    item = make_item(product, _owner(product), status="shipped", **kwargs)
    Item.objects.filter(pk=item.pk).update(shipped_at=launched)
    item.refresh_from_db()
    return item


def _daily(pm, metric, values_by_ago):
    today = datetime.now(UTC).date()
    rows = [
        {"timestamp": f"{(today - timedelta(days=ago)).isoformat()}T{h:02d}:00:00Z", "value": v}
        for ago, v in values_by_ago.items()
        for h in (6, 18)
    ]
    metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    metrics.process_dirty()


def test_review_compares_the_windows_around_the_launch_day(pm, product, metric):
    item = _shipped(product, days_ago=20)
    # Days 21..34 ago are before, 6..19 ago after; the launch day (20) is left out.
    values = {ago: (50.0 if ago > 20 else 60.0) + (ago % 3) * 0.1 for ago in range(5, 40)}
    values[20] = 1000.0
    _daily(pm, metric, values)
    services.save_hypothesis(
        pm,
        item=item,
        expected_version=None,
        fields={"metric": metric, "expected_change": 10, "window_days": 14},
    )
    review = launch_reviews.review_for_item(item)
    assert len(review.before) == 14 and len(review.after) == 14
    assert review.launch_day == (datetime.now(UTC) - timedelta(days=20)).date()
    assert review.verdict == MET
    assert review.judgement.change == pytest.approx(20, abs=0.5)
    chart = review.chart()
    assert len(chart["labels"]) == 29 and chart["markers"][0]["text"].startswith("Launch")
    roles = [s["role"] for s in chart["series"]]
    assert roles == ["before", "after", "mean-before", "mean-after", "expected"]


def test_unshipped_item_awaits_launch(pm, product, metric):
    item = make_item(product, _owner(product), status="planned")
    services.save_hypothesis(
        pm, item=item, expected_version=None, fields={"metric": metric, "expected_change": 5}
    )
    review = launch_reviews.review_for_item(item)
    assert review.launch_day is None and review.judgement is None


def test_demo_launch_reviews_tell_three_stories(pm, settings):
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off
    call_command("seed_demo", verbosity=0)
    product = Product.objects.get(workspace__slug="acme", key="PAY")
    verdicts = {
        r.item.title: r.verdict
        for r in launch_reviews.reviews_for_product(product)
        if r.launch_day is not None
    }
    assert verdicts == {
        "Save cards for returning shoppers": MET,
        "Smart retries for soft declines": NOT_MET,
        "Show the total in the shopper's currency": INCONCLUSIVE,
    }
    # Six metrics with a year of daily data; key results follow three of them.
    assert product.metrics.count() == 6
    from metrics.models import Datapoint
    from products.models import KeyResult

    assert Datapoint.objects.filter(metric__product=product).count() == 6 * 365
    linked = KeyResult.objects.filter(objective__product=product, metric_link__metric__isnull=False)
    assert linked.count() == 3
    assert all(kr.current_value is not None for kr in linked)


# --- writes -------------------------------------------------------------------------------------


def test_hypothesis_needs_a_metric_of_the_same_product(pm, product, workspace):
    from tests.factories import ProductFactory

    item = make_item(product, _owner(product))
    other = metrics.create_metric(pm, product=ProductFactory(workspace=workspace), name="X")
    with pytest.raises(ValidationError) as exc:
        services.save_hypothesis(
            pm, item=item, expected_version=None, fields={"metric": other, "expected_change": 5}
        )
    assert "metric" in exc.value.message_dict


def test_zero_expected_change_is_refused(pm, product, metric):
    item = make_item(product, _owner(product))
    with pytest.raises(ValidationError):
        services.save_hypothesis(
            pm, item=item, expected_version=None, fields={"metric": metric, "expected_change": 0}
        )


def test_stale_hypothesis_and_learnings_edits_conflict(pm, teammate, product, metric):
    item = _shipped(product)
    h = services.save_hypothesis(
        pm, item=item, expected_version=None, fields={"metric": metric, "expected_change": 5}
    )
    services.save_learnings(teammate, hypothesis=h, expected_version=1, learnings="Theirs")
    with pytest.raises(VersionConflict):
        services.save_learnings(
            pm, hypothesis=Hypothesis.objects.get(pk=h.pk), expected_version=1, learnings="Mine"
        )
    with pytest.raises(VersionConflict):
        services.save_hypothesis(pm, item=item, expected_version=1, fields={"expected_change": 9})
    h.refresh_from_db()
    assert h.learnings == "Theirs" and h.expected_change == 5 and h.version == 2


def test_viewers_cannot_write_hypotheses(viewer, product, metric):
    item = make_item(product, _owner(product))
    with pytest.raises(PermissionDenied):
        services.save_hypothesis(
            viewer,
            item=item,
            expected_version=None,
            fields={"metric": metric, "expected_change": 5},
        )


# --- pages --------------------------------------------------------------------------------------

BASE = "/w/acme/p/PAY/backlog"


@pytest.fixture
def reviewed(pm, product, metric):
    items = []
    for n in range(3):
        item = _shipped(product, days_ago=20 + n, title=f"Launch {n}")
        services.save_hypothesis(
            pm,
            item=item,
            expected_version=None,
            fields={"metric": metric, "expected_change": 5, "window_days": 14},
        )
        items.append(item)
    _daily(pm, metric, {ago: 50.0 + (ago < 20) * 10 + ago % 2 for ago in range(1, 45)})
    return items


def test_launch_reviews_tab_lists_verdicts_with_constant_queries(
    as_user, pm, product, metric, reviewed, django_assert_max_num_queries
):
    client = as_user(pm)
    client.get(f"{BASE}/launch-reviews/")
    with django_assert_max_num_queries(12) as few:
        response = client.get(f"{BASE}/launch-reviews/")
    html = response.content.decode()
    assert html.count('class="verdict verdict-') >= 3 + 3
    assert 'aria-current="page">Launch reviews<' in html
    more = _shipped(product, days_ago=25, title="Launch 4")
    services.save_hypothesis(
        pm, item=more, expected_version=None, fields={"metric": metric, "expected_change": 5}
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert b"Launch 4" in client.get(f"{BASE}/launch-reviews/").content


def test_review_page_has_chart_verdict_and_forms(as_user, pm, reviewed):
    item = reviewed[0]
    html = as_user(pm).get(f"{BASE}/items/{item.number}/launch/").content.decode()
    assert f'data-chart="launch-chart-data-{item.pk}"' in html
    assert 'data-verdict="' in html
    assert "Record learnings" in html and "Edit hypothesis" in html
    assert "chart.umd.min.js" in html


def test_item_page_shows_the_result_beside_the_score(
    as_user, pm, reviewed, django_assert_max_num_queries
):
    item = reviewed[0]
    client = as_user(pm)
    client.get(f"{BASE}/items/{item.number}/")
    with django_assert_max_num_queries(40):
        html = client.get(f"{BASE}/items/{item.number}/").content.decode()
    score = html.index('id="score"')
    assert score < html.index("Launch review:") < html.index('id="launch-review"')


def test_viewer_reads_reviews_without_forms(as_user, viewer, reviewed):
    item = reviewed[0]
    client = as_user(viewer)
    html = client.get(f"{BASE}/items/{item.number}/launch/").content.decode()
    assert "Record learnings" not in html and "Edit hypothesis" not in html
    forced = client.post(f"{BASE}/items/{item.number}/launch/learnings/", {"learnings": "x"})
    assert forced.status_code == 403


def test_stranger_gets_404(as_user, stranger, reviewed):
    assert as_user(stranger).get(f"{BASE}/launch-reviews/").status_code == 404
    url = f"{BASE}/items/{reviewed[0].number}/launch/"
    assert as_user(stranger).get(url).status_code == 404


def test_learnings_form_saves_and_shows_conflicts(as_user, pm, teammate, reviewed):
    item = reviewed[0]
    h = Hypothesis.objects.get(item=item)
    url = f"{BASE}/items/{item.number}/launch/learnings/"
    ok = as_user(pm).post(url, {"version": h.version, "learnings": "Worked **well**"})
    assert ok.status_code == 302
    stale = as_user(teammate).post(url, {"version": h.version, "learnings": "My take"})
    assert stale.status_code == 409
    html = stale.content.decode()
    assert "Someone else saved first" in html and "My take" in html
    assert "<strong>well</strong>" in html
    assert Hypothesis.objects.get(pk=h.pk).learnings == "Worked **well**"


def test_hypothesis_form_creates_and_returns_to_the_item(as_user, pm, product, metric):
    item = make_item(product, _owner(product))
    response = as_user(pm).post(
        f"{BASE}/items/{item.number}/launch/hypothesis/",
        {
            "metric": metric.pk,
            "expected_change": "7.5",
            "window_days": 28,
            "next": "item",
            "version": 0,
        },
    )
    assert response.status_code == 302 and response.url.endswith("#launch-review")
    assert Hypothesis.objects.get(item=item).expected_change == 7.5
    bad = as_user(pm).post(
        f"{BASE}/items/{item.number}/launch/hypothesis/",
        {"metric": metric.pk, "expected_change": "", "window_days": 28, "version": 1},
    )
    assert bad.status_code == 400


def test_launches_mark_the_metrics_charts(as_user, pm, reviewed, metric):
    html = as_user(pm).get("/w/acme/p/PAY/metrics/").content.decode()
    assert "Launch 0" in html and '"markers": [{' in html


def test_viewers_see_no_empty_launch_panel(as_user, pm, viewer, product):
    item = make_item(product, pm)
    html = as_user(viewer).get(f"{BASE}/items/{item.number}/").content.decode()
    assert 'id="launch-review"' not in html
    html = as_user(pm).get(f"{BASE}/items/{item.number}/").content.decode()
    assert 'id="launch-review"' in html and "has no metrics yet" in html


def test_remove_a_hypothesis_with_a_version_check(as_user, pm, reviewed):
    item = reviewed[0]
    h = Hypothesis.objects.get(item=item)
    url = f"{BASE}/items/{item.number}/launch/hypothesis/delete/"
    assert as_user(pm).post(url, {"version": h.version + 1}).status_code == 302
    assert Hypothesis.objects.filter(pk=h.pk).exists()  # stale: nothing removed
    assert as_user(pm).post(url, {"version": h.version, "next": "item"}).status_code == 302
    assert not Hypothesis.objects.filter(pk=h.pk).exists()


def test_average_adoption_is_exact_over_the_after_window(pm, product, metric):
    adoption = metrics.create_metric(pm, product=product, name="Load time", aggregation="average")
    item = _shipped(product, days_ago=10)
    hypothesis = services.save_hypothesis(
        pm,
        item=item,
        expected_version=None,
        fields={"metric": metric, "expected_change": 5, "adoption_metric": adoption},
    )
    today = datetime.now(UTC).date()
    rows = [
        {"timestamp": f"{today - timedelta(days=5)}T0{h}:00:00Z", "value": 0} for h in (1, 2, 3)
    ] + [{"timestamp": f"{today - timedelta(days=4)}T01:00:00Z", "value": 10}]
    metrics.ingest_datapoints(pm, metric=adoption, rows=rows)
    metrics.process_dirty()
    review = launch_reviews.build_reviews([hypothesis])[0]
    # Four datapoints after the launch: (0 + 0 + 0 + 10) / 4, not the mean of daily means (5).
    assert review.adoption_total == 2.5
