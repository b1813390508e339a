"""Metrics and launch reviews in Chromium: charts render (Chart.js draws on
the canvas), the verdict is visible, the period switch swaps in place, and
nothing trips the Content Security Policy."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from backlog import services
from backlog.models import Item
from metrics import services as metrics
from tests.backlog.factories import make_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def launched(pm, product, monkeypatch):
    monkeypatch.setattr(metrics.ingest, "_enqueue_rollup", lambda metric_id: None)
    metric = metrics.create_metric(
        pm, product=product, name="Checkout conversion", unit="%", aggregation="average", target=85
    )
    today = datetime.now(UTC).date()
    rows = [
        {
            "timestamp": f"{(today - timedelta(days=ago)).isoformat()}T12:00:00Z",
            "value": (70 if ago > 30 else 77) + (ago % 3) * 0.3,
        }
        for ago in range(1, 90)
    ]
    metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    metrics.process_dirty()
    item = make_item(product, pm, title="Save cards", status="shipped")
    Item.objects.filter(pk=item.pk).update(shipped_at=datetime.now(UTC) - timedelta(days=30))
    services.save_hypothesis(
        pm,
        item=Item.objects.get(pk=item.pk),
        expected_version=None,
        fields={"metric": metric, "expected_change": 5, "window_days": 28},
    )
    return item


def _canvas_has_pixels(page, selector) -> bool:
    return page.eval_on_selector(
        selector,
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
                  return false; }""",
    )


def test_launch_review_shows_the_chart_and_the_verdict(
    live_server, page, login, pm, launched, browser_errors
):
    login(pm)
    page.goto("/w/acme/p/PAY/backlog/launch-reviews/")
    card = page.locator(".review-card").filter(has_text="Save cards")
    expect(card.locator(".verdict")).to_have_text("✓ Met")
    page.wait_for_function("() => document.querySelector('.chart-box.is-rendered') !== null")
    card.get_by_role("link", name="Save cards").click()
    expect(page.locator("[data-verdict]")).to_contain_text("Hypothesis met")
    canvas = page.locator(f'canvas[data-chart="launch-chart-data-{launched.pk}"]')
    expect(canvas).to_be_visible()
    page.wait_for_function("() => document.querySelector('.chart-box.is-rendered canvas') !== null")
    assert _canvas_has_pixels(page, "canvas[data-chart]")
    expect(page.get_by_text("+10.0 %", exact=False).first).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []
    assert browser_errors == []


def test_metrics_tab_charts_by_day_and_week(live_server, page, login, pm, launched, browser_errors):
    login(pm)
    page.goto("/w/acme/p/PAY/metrics/")
    page.wait_for_function("() => document.querySelector('.chart-box.is-rendered') !== null")
    assert _canvas_has_pixels(page, "canvas[data-chart]")
    page.get_by_role("link", name="Week", exact=True).click()
    page.wait_for_url("**period=week")
    page.wait_for_function("() => document.querySelector('.chart-box.is-rendered') !== null")
    assert _canvas_has_pixels(page, "canvas[data-chart]")
    assert page.evaluate("window.__cspViolations") == []
    assert browser_errors == []


def test_learnings_are_recorded_from_the_item_page(live_server, page, login, pm, launched):
    login(pm)
    page.goto(f"/w/acme/p/PAY/backlog/items/{launched.number}/")
    panel = page.locator("#launch-review")
    expect(panel.locator("[data-verdict]")).to_contain_text("met")
    expect(page.locator("#score .launch-result")).to_contain_text("Launch review")
    panel.get_by_label("What did the launch teach?").fill("Shoppers love saved cards.")
    panel.get_by_role("button", name="Save learnings").click()
    expect(page.locator("#launch-review .learnings")).to_contain_text("Shoppers love saved cards.")
