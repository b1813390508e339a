"""REST API of post-launch metrics: metrics, datapoint ingestion and
reading, rollups. Thin: reads through QuerySet scopes and metrics.reads,
writes through metrics.services. Registered by ``register(router)``."""

from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from pmhub.api.pagination import (
    InvalidCursor,
    KeysetPagination,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
    page_size_param,
)
from pmhub.api.serializers import ScopedPrimaryKeyField, VersionedSerializer
from pmhub.api.views import VersionedViewSet, filterset_for
from products.models import Product

from . import reads, services
from .models import Datapoint, Metric, MetricRollup, Period
from .periods import period_end


class MetricSerializer(VersionedSerializer):
    product = ScopedPrimaryKeyField(Product)

    class Meta:
        model = Metric
        fields = [
            "id",
            "product",
            "name",
            "unit",
            "aggregation",
            "direction",
            "description",
            "target",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["product"]
        # Name uniqueness (case-insensitive, a `name` message) is the service's.
        validators = []


class DatapointInSerializer(serializers.Serializer):
    """One datapoint as sent (validated row by row by the service, not here)."""

    timestamp = serializers.DateTimeField(
        help_text="ISO 8601; without an offset it is UTC. A date alone means midnight UTC."
    )
    value = serializers.FloatField()
    dedupe_key = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=100,
        help_text="Idempotency key: a second row with the same key is skipped. Without one, "
        "a row is a duplicate when the same timestamp and value are already stored.",
    )


class DatapointBatchSerializer(serializers.Serializer):
    datapoints = DatapointInSerializer(many=True, help_text="At most 10 000 rows")
    all_or_nothing = serializers.BooleanField(
        default=False, help_text="Store nothing when any row is invalid (the answer is then 400)"
    )


class RowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the row in `datapoints` (from 0)")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name → messages",
    )


class IngestResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    created = serializers.IntegerField(help_text="Rows stored now")
    duplicates = serializers.IntegerField(help_text="Valid rows that were already stored")
    rejected = serializers.IntegerField(help_text="Invalid rows (see errors)")
    applied = serializers.BooleanField(
        help_text="False when all_or_nothing was asked and a row was invalid: nothing stored"
    )
    errors = RowErrorSerializer(many=True)


class RollupSerializer(serializers.ModelSerializer):
    value = serializers.FloatField(
        read_only=True, allow_null=True, help_text="The period's value under the aggregation"
    )
    end = serializers.DateField(read_only=True, help_text="First day after the period")

    class Meta:
        model = MetricRollup
        fields = [
            "period",
            "start",
            "end",
            "value",
            "total",
            "count",
            "minimum",
            "maximum",
            "last",
            "last_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        metric = self.context["metric"]
        instance.value = metric.value_of(
            total=instance.total, count=instance.count, last=instance.last
        )
        instance.end = period_end(instance.period, instance.start)
        return super().to_representation(instance)


class RollupQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=Period.choices, default=Period.DAY)
    to = serializers.DateField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)  # a Python keyword
        return fields

    def validate(self, attrs):
        lo, hi = attrs.get("from"), attrs.get("to")
        if lo and hi and hi < lo:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        return attrs


class PaginatedRollupSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RollupSerializer(many=True)


class RollupPagination(KeysetPagination):
    ordering = ("start", "id")
    page_size = 100
    max_page_size = 1000

    def get_ordering(self, request, queryset, view):
        return self.ordering


class DatapointSerializer(serializers.ModelSerializer):
    class Meta:
        model = Datapoint
        fields = ["id", "timestamp", "value", "dedupe_key"]
        read_only_fields = fields


class DatapointQuerySerializer(serializers.Serializer):
    """``from`` (inclusive) and ``to`` (exclusive): ISO 8601 timestamps, or
    dates meaning midnight UTC, parsed like ingested timestamps."""

    to = serializers.CharField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(required=False)  # a Python keyword
        return fields

    def validate(self, attrs):
        parsed, errors = {}, {}
        for name in ("from", "to"):
            if attrs.get(name):
                try:
                    parsed[name] = services.parse_timestamp(attrs[name])
                except DjangoValidationError as exc:
                    errors[name] = list(exc.messages)
        if errors:
            raise serializers.ValidationError(errors)
        if "from" in parsed and "to" in parsed and parsed["to"] <= parsed["from"]:
            raise serializers.ValidationError({"to": ["Must be after from."]})
        return parsed


class PaginatedDatapointSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last one")
    previous = serializers.URLField(allow_null=True, help_text="Always null: forward-only pages")
    results = DatapointSerializer(many=True)


class DatapointPagination(BasePagination):
    """Keyset pagination on ``(timestamp, id)``: the cursor holds the last
    row's pair and the next page is the rows after it, so following ``next``
    returns every datapoint exactly once, however many share a timestamp (a
    position-plus-offset cursor would not). Forward-only. Cursors are the
    project's (pmhub.api.pagination): signed, tied to this list, each value
    type-checked; anything else is a 400."""

    page_size = 500
    max_page_size = 10_000
    cursor_key = "metrics.datapoint:timestamp,id"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = page_size_param(request, default=self.page_size, maximum=self.max_page_size)
        after = self.decode_cursor(request.query_params.get("cursor"))
        queryset = queryset.order_by("timestamp", "id")
        if after is not None:
            ts, pk = after
            queryset = queryset.filter(
                Q(timestamp__gt=ts) | Q(timestamp=ts, id__gt=pk), timestamp__gte=ts
            )
        rows = list(queryset[: size + 1])
        self.next_cursor = None
        if len(rows) > size:
            rows = rows[:size]
            self.next_cursor = (rows[-1].timestamp, rows[-1].id)
        return rows

    def decode_cursor(self, raw) -> tuple[datetime, int] | None:
        if raw is None:
            return None
        try:
            ts, pk = decode_cursor(raw, self.cursor_key, [datetime, int])
            if not 0 <= pk < 2**63:
                raise InvalidCursor("id out of range")
        except InvalidCursor:
            raise invalid_cursor() from None
        return ts, pk

    def get_next_link(self):
        if self.next_cursor is None:
            return None
        cursor = encode_cursor(self.cursor_key, self.next_cursor)
        return replace_query_param(self.request.build_absolute_uri(), "cursor", cursor)

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": None, "results": data})


class MetricViewSet(VersionedViewSet):
    """Metrics of your products. Datapoints arrive through
    `POST /metrics/{id}/datapoints/` and are rolled up by UTC day, week
    (starting Monday) and month in the background."""

    serializer_class = MetricSerializer
    filterset_class = filterset_for(Metric, "product", "aggregation")
    ordering_fields = [*VersionedViewSet.ordering_fields, "name"]

    def get_queryset(self):
        return Metric.objects.visible_to(self.request.user).for_api()

    def create_object(self, serializer):
        return services.create_metric(self.request.user, **serializer.validated_data)

    def update_object(self, obj, expected_version, fields):
        return services.update_metric(
            self.request.user, metric=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_metric(self.request.user, metric=obj, expected_version=expected_version)

    @extend_schema(
        methods=["GET"],
        request=None,
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.STR,
                description="Only datapoints at or after this ISO 8601 time (a date alone "
                "means midnight UTC)",
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.STR,
                description="Only datapoints before this ISO 8601 time (exclusive)",
            ),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From a `next` link"),
            OpenApiParameter(
                "page_size",
                OpenApiTypes.INT,
                description=f"Rows per page: {DatapointPagination.page_size} by default, at most "
                f"{DatapointPagination.max_page_size}",
            ),
        ],
        responses={
            200: PaginatedDatapointSerializer,
            400: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="Invalid from/to or cursor: field name → messages",
            ),
        },
        description=(
            "The raw datapoints of the metric, oldest first (by timestamp, then id), "
            "keyset-paginated: follow `next` until it is null; every datapoint comes exactly "
            "once. Timestamps are UTC."
        ),
    )
    @extend_schema(
        methods=["POST"],
        request=DatapointBatchSerializer,
        responses=IngestResultSerializer,
        description=(
            "Store up to 10 000 datapoints. Re-sending a batch changes nothing (rows with a "
            "`dedupe_key` are identified by it, rows without one by timestamp and value). "
            "Invalid rows are reported by index and the others are stored, unless "
            "`all_or_nothing` is true: then one invalid row stores nothing and the answer is "
            "400 with `datapoints` holding one error object per row (empty for valid rows). A "
            "bare JSON array of datapoints is accepted too. Rollups follow within seconds."
        ),
    )
    @action(detail=True, methods=["get", "post"], url_path="datapoints")
    def datapoints(self, request, pk=None):
        metric = self.get_object()
        if request.method == "GET":
            return self._list_datapoints(request, metric)
        body = request.data
        all_or_nothing = False
        if isinstance(body, dict):
            rows = body.get("datapoints")
            flag = body.get("all_or_nothing", False)
            if not isinstance(flag, bool):
                return Response(
                    {"all_or_nothing": ["Must be a boolean."]}, status=status.HTTP_400_BAD_REQUEST
                )
            all_or_nothing = flag
        else:
            rows = body
        if rows is None:
            return Response(
                {"datapoints": ["This field is required."]}, status=status.HTTP_400_BAD_REQUEST
            )
        result = services.ingest_datapoints(
            request.user, metric=metric, rows=rows, all_or_nothing=all_or_nothing
        )
        if not result.applied:
            per_row = [{} for _ in range(result.received)]
            for error in result.errors:
                per_row[error["index"]] = error["errors"]
            message = (
                f"{result.rejected} of {result.received} rows are invalid; nothing was stored "
                "(all_or_nothing)."
            )
            return Response(
                {"datapoints": per_row, "non_field_errors": [message]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(result.as_dict())

    def _list_datapoints(self, request, metric):
        query = DatapointQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        qs = Datapoint.objects.filter(metric=metric)
        if "from" in params:
            qs = qs.filter(timestamp__gte=params["from"])
        if "to" in params:
            qs = qs.filter(timestamp__lt=params["to"])
        paginator = DatapointPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(DatapointSerializer(page, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, enum=Period.values, default="day"),
            OpenApiParameter(
                "from", OpenApiTypes.DATE, description="First period start to include (UTC)"
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, description="Last period start to include (UTC)"
            ),
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={
            200: PaginatedRollupSerializer,
            400: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="Invalid period, dates or cursor: field name → messages",
            ),
        },
        description="Rolled-up values, oldest first, keyset-paginated. Weeks start on Monday; "
        "all periods are UTC.",
    )
    @action(detail=True, methods=["get"], url_path="rollups")
    def rollups(self, request, pk=None):
        metric = self.get_object()
        query = RollupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        qs = reads.rollups(
            metric, params["period"], first=params.get("from"), last=params.get("to")
        )
        paginator = RollupPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = RollupSerializer(page, many=True, context={"metric": metric}).data
        return paginator.get_paginated_response(data)


def register(router) -> None:
    router.register("metrics", MetricViewSet, basename="metric")
