"""REST API of launch reviews: hypotheses (CRUD with ETag / If-Match, the
learnings) with each one's computed launch review, read-only.

The review is built by ``backlog.launch_reviews.build_reviews``, the function
behind the HTML pages, for all rows of a page at once: a list page is a
constant number of queries (the hypotheses with their items and metrics, then
one read of the day rollups of every metric on the page) however many rows it
holds. Writes go through ``backlog.services`` (``services/hypotheses.py``)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from metrics.models import Metric
from pmhub.api.serializers import ScopedPrimaryKeyField, VersionedSerializer
from pmhub.api.views import IdFilter, UpdatedSinceFilterSet, VersionedViewSet

from .. import launch_reviews, services
from ..models import Hypothesis, Item

AWAITING_LAUNCH, NO_METRIC = "awaiting_launch", "no_metric"
VERDICTS = [
    (launch_reviews.MET, "Met"),
    (launch_reviews.NOT_MET, "Not met"),
    (launch_reviews.INCONCLUSIVE, "Inconclusive"),
    (AWAITING_LAUNCH, "Awaiting launch"),
    (NO_METRIC, "No metric"),
]


class ReviewWindowSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First UTC day of the window")
    end = serializers.DateField(help_text="Last UTC day of the window (inclusive)")
    days_with_data = serializers.IntegerField(help_text="Days of the window that have a value")
    mean = serializers.FloatField(
        allow_null=True, help_text="Mean of the metric's daily values in the window"
    )


class ReviewIntervalSerializer(serializers.Serializer):
    confidence = serializers.FloatField(help_text="0.95: a 95 % confidence interval")
    low = serializers.FloatField(help_text="Low end of the actual change, in percent")
    high = serializers.FloatField(help_text="High end of the actual change, in percent")


class LaunchReviewSerializer(serializers.Serializer):
    """The launch review as the HTML shows it, computed when read."""

    verdict = serializers.ChoiceField(
        choices=VERDICTS,
        help_text="`awaiting_launch` until the item ships; `no_metric` for a shipped item "
        "whose metric was deleted since",
    )
    verdict_label = serializers.CharField()
    explanation = serializers.CharField(help_text="Why this verdict, in words")
    launch_date = serializers.DateField(
        allow_null=True, help_text="UTC day the item shipped; it belongs to neither window"
    )
    window_days = serializers.IntegerField()
    window_ends = serializers.DateField(allow_null=True, help_text="Last day of the after window")
    complete = serializers.BooleanField(
        help_text="The after window is over; before that the review is an early read"
    )
    before = ReviewWindowSerializer(allow_null=True)
    after = ReviewWindowSerializer(allow_null=True)
    expected_change = serializers.FloatField(help_text="Percent")
    actual_change = serializers.FloatField(
        allow_null=True, help_text="(mean after − mean before) / |mean before|, in percent"
    )
    interval = ReviewIntervalSerializer(allow_null=True)
    expected_level = serializers.FloatField(
        allow_null=True, help_text="The mean before moved by the expected change"
    )
    adoption_total = serializers.FloatField(
        allow_null=True, help_text="The adoption metric after the launch, under its aggregation"
    )


def review_data(review: launch_reviews.Review) -> dict:
    """A Review (backlog.launch_reviews) in the API's shape; nothing is
    computed here beyond picking fields."""
    h, j, day = review.hypothesis, review.judgement, review.launch_day
    w = h.window_days
    pending = AWAITING_LAUNCH if day is None else NO_METRIC
    data = {
        "verdict": review.verdict or pending,
        "verdict_label": review.verdict_label if j else dict(VERDICTS)[pending],
        "explanation": "",
        "launch_date": day,
        "window_days": w,
        "window_ends": review.window_ends,
        "complete": review.complete,
        "before": None,
        "after": None,
        "expected_change": h.expected_change,
        "actual_change": None,
        "interval": None,
        "expected_level": review.expected_level,
        "adoption_total": review.adoption_total,
    }
    if j is None:
        data["explanation"] = (
            "The review starts when the item ships."
            if day is None
            else "The hypothesis has no metric any more (it was deleted); pick one."
        )
        return data
    data["explanation"] = j.reason
    data["actual_change"] = j.change
    if j.low is not None:
        data["interval"] = {
            "confidence": launch_reviews.CONFIDENCE,
            "low": j.low,
            "high": j.high,
        }
    (before_first, before_last), (after_first, after_last) = review.windows
    data["before"] = {
        "start": before_first,
        "end": before_last,
        "days_with_data": len(review.before),
        "mean": j.mean_before,
    }
    data["after"] = {
        "start": after_first,
        "end": after_last,
        "days_with_data": len(review.after),
        "mean": j.mean_after,
    }
    return data


class HypothesisSerializer(VersionedSerializer):
    item = ScopedPrimaryKeyField(Item, help_text="The item (one hypothesis per item)")
    metric = ScopedPrimaryKeyField(
        Metric,
        allow_null=True,
        help_text="A metric of the item's product that the item should move (null only "
        "when it was deleted since; writing null is refused)",
    )
    adoption_metric = ScopedPrimaryKeyField(
        Metric,
        required=False,
        allow_null=True,
        help_text="Optional: a metric of the item's product counting use of the feature itself",
    )
    item_key = serializers.CharField(source="item.key", read_only=True)
    product = serializers.IntegerField(source="item.product_id", read_only=True)
    learnings_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    learnings_at = serializers.DateTimeField(read_only=True, allow_null=True)
    review = serializers.SerializerMethodField(
        help_text="The launch review, computed when read (not versioned: it moves as data arrives)"
    )

    class Meta:
        model = Hypothesis
        fields = [
            "id",
            "item",
            "item_key",
            "product",
            "metric",
            "expected_change",
            "window_days",
            "adoption_metric",
            "learnings",
            "learnings_by",
            "learnings_at",
            "review",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["item"]
        # One hypothesis per item: the service answers with an `item` message.
        validators = []

    @extend_schema_field(LaunchReviewSerializer)
    def get_review(self, obj) -> dict:
        review = getattr(obj, "_api_review", None)
        if review is None:  # a single object: retrieve, create, update
            review = launch_reviews.build_reviews([obj])[0]
        return review_data(review)


class HypothesisFilterSet(UpdatedSinceFilterSet):
    product = IdFilter(field_name="item__product", help_text="Hypotheses of this product's items")

    class Meta:
        model = Hypothesis
        fields = ["product", "item", "metric", "adoption_metric"]


class HypothesisViewSet(VersionedViewSet):
    """Hypotheses of shipped and planned items, each with its launch review:
    the metric's daily values in the window before the launch day against the
    window after, the actual against the expected change, a 95 % interval and
    a verdict (`met`, `not_met`, `inconclusive`, or `awaiting_launch`).

    The review is computed on every read (lists included, in a constant
    number of queries) from the day rollups, so it moves as datapoints
    arrive without changing the hypothesis's `version`/`updated_at`:
    `updated_since` finds changed hypotheses and learnings, not changed
    reviews. The ETag is of the whole body, review included, so a moved
    review is a new ETag (and `If-None-Match` a 200) at the same version. There is no
    verdict filter, because verdicts are not stored; filter the page."""

    serializer_class = HypothesisSerializer
    filterset_class = HypothesisFilterSet

    def get_queryset(self):
        return Hypothesis.objects.visible_to(self.request.user).select_related(
            "item__product__workspace", "metric", "adoption_metric"
        )

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        # One computation for the page: one rollup query for all its rows.
        for hypothesis, review in zip(page, launch_reviews.build_reviews(page), strict=True):
            hypothesis._api_review = review
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create_object(self, serializer):
        return services.create_hypothesis(self.request.user, **serializer.validated_data)

    def update_object(self, obj, expected_version, fields):
        return services.update_hypothesis(
            self.request.user, hypothesis=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_hypothesis(
            self.request.user, hypothesis=obj, expected_version=expected_version
        )
