"""Launch reviews: did a shipped item move its metric as its hypothesis said?

The comparison (also in the README):

- The launch day is the UTC day of ``Item.shipped_at``. The *before* window is
  the ``window_days`` days ending the day before launch; the *after* window the
  same number of days starting the day after launch. The launch day itself
  belongs to neither (it is half old, half new).
- Each day contributes the metric's daily value (its aggregation over that
  UTC day, from the day rollups). Actual change = (mean after − mean before)
  / |mean before|, in percent.
- A 95 % confidence interval of that change comes from Welch's t (unequal
  variances) on the daily values, scaled by the before mean.
- Verdict, with the expected change's sign as "the hoped-for direction":
  * **inconclusive** when either side has fewer than max(7, window / 2) days
    of data, or the before mean is 0 (no baseline);
  * **met** when the actual change reaches the expected one *and* the interval
    excludes zero (a real move, not noise);
  * **not met** when even the interval's optimistic end falls short of the
    expected change;
  * **inconclusive** otherwise: the change is within the noise.

The writes of hypotheses and learnings are services
(``backlog.services.hypotheses``); this module only reads and judges.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

from django.utils import timezone

from metrics.models import Metric, MetricRollup, Period

from .models import Hypothesis, Item, Status

MET, NOT_MET, INCONCLUSIVE = "met", "not_met", "inconclusive"
VERDICT_LABELS = {MET: "Met", NOT_MET: "Not met", INCONCLUSIVE: "Inconclusive"}
MIN_DAYS = 7
CONFIDENCE = 0.95


# --- statistics ---------------------------------------------------------------------------------


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile (Cornish–Fisher expansion around the normal one;
    within 0.2 % of the exact value for df ≥ 5, which MIN_DAYS guarantees)."""
    z = statistics.NormalDist().inv_cdf(p)
    if math.isinf(df):
        return z
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


@dataclass
class Judgement:
    verdict: str
    reason: str
    change: float | None = None  # percent
    low: float | None = None
    high: float | None = None
    mean_before: float | None = None
    mean_after: float | None = None


def judge(before: list[float], after: list[float], expected: float, window: int) -> Judgement:
    """The verdict rule (see the module docstring). Pure: tested directly."""
    need = max(MIN_DAYS, math.ceil(window / 2))
    if len(before) < need or len(after) < need:
        return Judgement(
            INCONCLUSIVE,
            f"Too little data: {len(before)} days before and {len(after)} after the launch; "
            f"each side needs at least {need}.",
            mean_before=statistics.fmean(before) if before else None,
            mean_after=statistics.fmean(after) if after else None,
        )
    mb, ma = statistics.fmean(before), statistics.fmean(after)
    if mb == 0:
        return Judgement(
            INCONCLUSIVE,
            "The metric was 0 before the launch, so a change in percent has no baseline.",
            mean_before=mb,
            mean_after=ma,
        )
    vb, va = statistics.variance(before), statistics.variance(after)
    nb, na = len(before), len(after)
    se = math.sqrt(vb / nb + va / na)
    if se > 0:
        df = (vb / nb + va / na) ** 2 / ((vb / nb) ** 2 / (nb - 1) + (va / na) ** 2 / (na - 1))
    else:
        df = math.inf
    t = t_quantile(0.5 + CONFIDENCE / 2, max(df, 1.0))
    scale = 100 / abs(mb)
    change = (ma - mb) * scale
    low, high = change - t * se * scale, change + t * se * scale
    sign = 1 if expected > 0 else -1
    # In the hoped-for direction: larger is better.
    got, lo, hi, want = (
        sign * change,
        min(sign * low, sign * high),
        max(sign * low, sign * high),
        abs(expected),
    )
    if got >= want and lo > 0:
        verdict = MET
        reason = (
            f"{change:+.1f} % against {expected:+g} % expected, and a real move: the 95 % "
            f"interval ({low:+.1f} % to {high:+.1f} %) does not include zero."
        )
    elif hi < want:
        verdict = NOT_MET
        reason = (
            f"{change:+.1f} % against {expected:+g} % expected; even the 95 % interval's best "
            f"case ({(low if sign < 0 else high):+.1f} %) falls short."
        )
    else:
        verdict = INCONCLUSIVE
        reason = (
            f"{change:+.1f} % against {expected:+g} % expected, but within the noise: the 95 % "
            f"interval runs from {low:+.1f} % to {high:+.1f} %."
        )
    return Judgement(verdict, reason, change, low, high, mb, ma)


# --- reviews ------------------------------------------------------------------------------------


@dataclass
class Review:
    item: Item
    hypothesis: Hypothesis
    launch_day: date | None
    judgement: Judgement | None = None
    before: dict = field(default_factory=dict)  # day -> value
    after: dict = field(default_factory=dict)
    adoption: dict = field(default_factory=dict)
    # The adoption metric over the after window, under its aggregation.
    adoption_total: float | None = None
    window_ends: date | None = None
    complete: bool = False

    @property
    def verdict(self) -> str | None:
        return self.judgement.verdict if self.judgement else None

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS.get(self.verdict, "Not shipped")

    @property
    def metric(self) -> Metric | None:
        return self.hypothesis.metric

    @property
    def windows(self) -> tuple[tuple[date, date], tuple[date, date]] | None:
        """The (first, last) days of the before and the after window; the
        launch day belongs to neither. None until the item ships."""
        if self.launch_day is None:
            return None
        launch, w = self.launch_day, timedelta(days=self.hypothesis.window_days)
        one = timedelta(days=1)
        return (launch - w, launch - one), (launch + one, launch + w)

    @property
    def expected_level(self) -> float | None:
        j = self.judgement
        if j is None or j.mean_before is None:
            return None
        return j.mean_before * (1 + self.hypothesis.expected_change / 100)

    def chart(self) -> dict:
        """Chart data (json_script): daily values before and after the launch,
        the two means, the expected level, the launch marker, adoption."""
        if self.launch_day is None:
            return {}
        w = self.hypothesis.window_days
        days = [self.launch_day + timedelta(days=n) for n in range(-w, w + 1)]
        labels = [d.isoformat() for d in days]
        j = self.judgement
        before_set = {d for d in days if d < self.launch_day}
        after_set = {d for d in days if d > self.launch_day}

        def only(values: dict, keep: set):
            return [_r(values.get(d)) if d in keep else None for d in days]

        def level(value, keep: set):
            return [_r(value) if d in keep and value is not None else None for d in days]

        series = [
            {"label": "Before launch", "values": only(self.before, before_set), "role": "before"},
            {"label": "After launch", "values": only(self.after, after_set), "role": "after"},
        ]
        if j is not None and j.mean_before is not None:
            series.append(
                {
                    "label": "Mean before",
                    "values": level(j.mean_before, before_set),
                    "role": "mean-before",
                }
            )
        if j is not None and j.mean_after is not None:
            series.append(
                {
                    "label": "Mean after",
                    "values": level(j.mean_after, after_set),
                    "role": "mean-after",
                }
            )
        if self.expected_level is not None:
            series.append(
                {
                    "label": f"Expected ({self.hypothesis.expected_change:+g} %)",
                    "values": level(self.expected_level, after_set),
                    "role": "expected",
                }
            )
        if self.adoption:
            series.append(
                {
                    "label": self.hypothesis.adoption_metric.name,
                    "values": [_r(self.adoption.get(d)) for d in days],
                    "role": "adoption",
                }
            )
        marker = {"label": self.launch_day.isoformat(), "text": f"Launch {self.item.key}"}
        return {
            "unit": self.metric.unit if self.metric else "",
            "labels": labels,
            "series": series,
            "markers": [marker],
        }


def _r(value):
    return None if value is None else round(value, 4)


def launch_day(item: Item) -> date | None:
    if item.status != Status.SHIPPED or item.shipped_at is None:
        return None
    return item.shipped_at.astimezone(UTC).date()


def build_reviews(hypotheses: list[Hypothesis], *, today: date | None = None) -> list[Review]:
    """Reviews of several hypotheses (items, metrics selected) with one query
    for all their daily values."""
    today = today or timezone.now().astimezone(UTC).date()
    reviews = [Review(h.item, h, launch_day(h.item)) for h in hypotheses]
    wanted: dict[int, tuple[date, date]] = {}
    for r in reviews:
        if r.launch_day is None:
            continue
        w = r.hypothesis.window_days
        lo, hi = r.launch_day - timedelta(days=w), r.launch_day + timedelta(days=w)
        for metric_id in (r.hypothesis.metric_id, r.hypothesis.adoption_metric_id):
            if metric_id is None:
                continue
            a, b = wanted.get(metric_id, (lo, hi))
            wanted[metric_id] = (min(a, lo), max(b, hi))
    daily: dict[int, dict[date, tuple]] = {pk: {} for pk in wanted}
    if wanted:
        lo = min(a for a, _b in wanted.values())
        hi = max(b for _a, b in wanted.values())
        # Never a day after today: a datapoint dated in the future (refused
        # at ingestion now, but possibly stored before) gives no verdict.
        rows = MetricRollup.objects.filter(
            metric_id__in=list(wanted), period=Period.DAY, start__gte=lo, start__lte=min(hi, today)
        ).values_list("metric_id", "start", "total", "count", "last")
        for metric_id, start, total, count, last in rows:
            daily[metric_id][start] = (total, count, last)
    for r in reviews:
        h = r.hypothesis
        if r.launch_day is None or h.metric is None:
            continue
        (before_first, before_last), (after_first, after_last) = r.windows
        r.window_ends = after_last
        r.complete = r.window_ends < today

        def values(metric, first, last):
            out = {}
            for d, (total, count, last_value) in sorted(daily.get(metric.pk, {}).items()):
                if first <= d <= last:
                    out[d] = metric.value_of(total=total, count=count, last=last_value)
            return out

        r.before = values(h.metric, before_first, before_last)
        r.after = values(h.metric, after_first, after_last)
        if h.adoption_metric is not None:
            r.adoption = values(h.adoption_metric, before_first, after_last)
            # Combined from the day rows' statistics, as weeks and months are,
            # so an average stays exact (not a mean of daily means).
            after = [
                stats
                for d, stats in sorted(daily.get(h.adoption_metric.pk, {}).items())
                if after_first <= d <= after_last
            ]
            if after:
                r.adoption_total = h.adoption_metric.value_of(
                    total=math.fsum(t for t, _n, _last in after),
                    count=sum(n for _t, n, _last in after),
                    last=after[-1][2],
                )
        r.judgement = judge(
            list(r.before.values()), list(r.after.values()), h.expected_change, h.window_days
        )
    return reviews


def _hypotheses():
    return Hypothesis.objects.select_related(
        "item__product__workspace", "metric", "adoption_metric", "learnings_by"
    )


def review_for_item(item: Item) -> Review | None:
    """The item's review (None without a hypothesis); memoised on the item so
    the score section and the panel share one computation."""
    if not hasattr(item, "_launch_review"):
        hypothesis = _hypotheses().filter(item=item).first()
        item._launch_review = build_reviews([hypothesis])[0] if hypothesis else None
    return item._launch_review


def reviews_for_product(product) -> list[Review]:
    """Reviews of every item of a product that carries a hypothesis, shipped
    ones first (latest launch first)."""
    hypotheses = list(_hypotheses().filter(item__product=product))
    reviews = build_reviews(hypotheses)
    far = date.min
    reviews.sort(
        key=lambda r: (r.launch_day is None, -(r.launch_day or far).toordinal(), r.item.number)
    )
    return reviews
