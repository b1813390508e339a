"""The metric a key result follows, shown and edited as part of the key result.

products/ owns key results and knows nothing of metrics; this extension
(products.extensions, installed from MetricsConfig.ready) adds the fields
``metric`` and ``metric_since`` to the key result's form and API, a badge to
its line on the strategy page, and stores them as a ``KeyResultLink`` through
metrics.services.follow.
"""

from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import PKOnlyObject

from pmhub.api.serializers import ScopedPrimaryKeyField
from products.extensions import KeyResultExtension

from . import services
from .models import Metric


def _link(key_result):
    """The key result's link, or None (read from the joined row: no query
    where the caller selected ``metric_link``)."""
    return getattr(key_result, "metric_link", None)


@extend_schema_field(OpenApiTypes.INT)
class FollowedMetricField(ScopedPrimaryKeyField):
    def get_attribute(self, instance):
        link = _link(instance)
        return PKOnlyObject(pk=link.metric_id if link else None)


class FollowSinceField(serializers.DateField):
    def get_attribute(self, instance):
        link = _link(instance)
        return link.since if link else None


class MetricFollowing(KeyResultExtension):
    fields = services.follow.LINK_FIELDS
    related = ("metric_link__metric",)
    badge_template = "metrics/_key_result_badge.html"

    def form_fields(self, *, product) -> dict:
        return {
            "metric": forms.ModelChoiceField(
                queryset=Metric.objects.filter(product=product)
                if product
                else Metric.objects.none(),
                required=False,
                label="Follows metric",
                empty_label="— none: I update the current value by hand —",
                help_text=(
                    "Current value then follows the metric after each rollup: its aggregation "
                    "over the period (e.g. the average since the period start; the latest value "
                    "for last-value metrics)."
                ),
            ),
            "metric_since": forms.DateField(
                required=False,
                label="Period starts",
                widget=forms.DateInput(attrs={"type": "date"}),
                help_text="UTC day; empty means all data of the metric.",
            ),
        }

    def initial(self, key_result) -> dict:
        link = _link(key_result)
        return {"metric": link.metric_id, "metric_since": link.since} if link else {}

    def api_fields(self) -> dict:
        return {
            "metric": FollowedMetricField(
                Metric,
                required=False,
                allow_null=True,
                help_text="A metric of the same product; current_value then follows it after "
                "each rollup",
            ),
            "metric_since": FollowSinceField(
                required=False,
                allow_null=True,
                help_text="Start of the key result's period (UTC day); empty means all data",
            ),
        }

    def clean(self, *, objective, values: dict) -> None:
        services.clean_link(objective=objective, values=values)

    def save(self, actor, *, key_result, values: dict, changed: set[str]) -> bool:
        return services.save_link(actor, key_result=key_result, values=values, changed=changed)
