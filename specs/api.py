"""REST API of specs (mounted under /api/v1/ by pmhub/urls.py): specs (create,
read, edit with If-Match), their versions, the diff between two, the
Markdown export, review requests and verdicts, and the reviews. Reads
through QuerySet scopes, writes through ``specs.services``."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from backlog.models import Item
from pmhub.api.serializers import ScopedPrimaryKeyField, VersionedSerializer
from pmhub.api.views import (
    IF_MATCH,
    IdFilter,
    StrictListMixin,
    UpdatedSinceFilterSet,
    VersionedViewSet,
)

from . import reads, services
from .models import DECISIONS, SECTIONS, Spec, SpecReview, SpecState, SpecVersion, Verdict


class ReviewSerializer(serializers.ModelSerializer):
    spec = serializers.IntegerField(source="spec_id", read_only=True)
    reviewer = serializers.IntegerField(source="reviewer_id", read_only=True)
    reviewer_name = serializers.SerializerMethodField()
    requested_by = serializers.IntegerField(
        source="requested_by_id", read_only=True, allow_null=True
    )
    spec_version = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The version the verdict was given on"
    )
    stale = serializers.SerializerMethodField(
        help_text="A verdict on an older version than the spec's current one"
    )

    class Meta:
        model = SpecReview
        fields = [
            "id",
            "spec",
            "reviewer",
            "reviewer_name",
            "requested_by",
            "requested_at",
            "verdict",
            "comment",
            "spec_version",
            "decided_at",
            "stale",
        ]
        read_only_fields = fields

    def get_reviewer_name(self, obj) -> str:
        return obj.reviewer.get_full_name() or obj.reviewer.get_username()

    def get_stale(self, obj) -> bool:
        return obj.is_stale(obj.spec.version)


class SpecSerializer(VersionedSerializer):
    item = ScopedPrimaryKeyField(Item, help_text="The item or epic (one spec per item)")
    item_key = serializers.CharField(source="item.key", read_only=True)
    product = serializers.IntegerField(source="item.product_id", read_only=True)
    objectives = serializers.SerializerMethodField(
        help_text="Ids of the objectives the item serves (set on the item)"
    )
    state = serializers.ChoiceField(choices=SpecState.choices, read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)

    class Meta:
        model = Spec
        fields = [
            "id",
            "item",
            "item_key",
            "product",
            "objectives",
            *[name for name, _label in SECTIONS],
            "state",
            "reviews",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["item"]
        validators = []

    def get_objectives(self, obj) -> list[int]:
        return sorted(o.pk for o in obj.item.objectives.all())


class SpecVersionSerializer(serializers.ModelSerializer):
    author = serializers.IntegerField(source="author_id", read_only=True, allow_null=True)
    sections = serializers.DictField(child=serializers.CharField(allow_blank=True))

    class Meta:
        model = SpecVersion
        fields = ["number", "author", "created_at", "sections"]


class DiffLineSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["same", "added", "removed"])
    text = serializers.CharField(allow_blank=True)


class SectionDiffSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    changed = serializers.BooleanField()
    lines = DiffLineSerializer(many=True)


class DiffSerializer(serializers.Serializer):
    from_version = serializers.IntegerField()
    to_version = serializers.IntegerField()
    sections = SectionDiffSerializer(many=True)


class MarkdownSerializer(serializers.Serializer):
    filename = serializers.CharField()
    markdown = serializers.CharField()


class ReviewRequestSerializer(serializers.Serializer):
    reviewers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        max_length=20,
        help_text="User ids of editors of the workspace",
    )


class VerdictSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=DECISIONS)
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, help_text="Required to request changes"
    )


class SpecFilterSet(UpdatedSinceFilterSet):
    product = IdFilter(field_name="item__product", help_text="Specs of this product's items")
    state = django_filters.ChoiceFilter(choices=SpecState.choices)

    class Meta:
        model = Spec
        fields = ["product", "item", "state"]


VERSION_PARAMS = [
    OpenApiParameter("from", OpenApiTypes.INT, description="The older version (default: to − 1)"),
    OpenApiParameter("to", OpenApiTypes.INT, description="The newer version (default: current)"),
]


class SpecViewSet(VersionedViewSet):
    """Specs of items and epics: the sections in Markdown, the state their
    reviews put them in (`draft`, `in_review`, `approved`,
    `changes_requested`), and the reviews. Every save is a new version;
    an approval given before it becomes `stale` and the spec goes back to
    `in_review`. `If-Match` on PATCH/PUT names the version you read: a
    stale one is 412."""

    serializer_class = SpecSerializer
    filterset_class = SpecFilterSet
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_queryset(self):
        return Spec.objects.visible_to(self.request.user).for_api()

    def create_object(self, serializer):
        return services.create_spec(self.request.user, **serializer.validated_data)

    def update_object(self, obj, expected_version, fields):
        return services.update_spec(
            self.request.user, spec=obj, expected_version=expected_version, fields=fields
        )

    @extend_schema(responses={200: SpecVersionSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request, pk=None):
        """Every stored version of the spec, newest first."""
        spec = self.get_object()
        return Response(SpecVersionSerializer(spec.versions.all(), many=True).data)

    @extend_schema(parameters=VERSION_PARAMS, responses={200: DiffSerializer})
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """What changed between two versions, line by line per section."""
        spec = self.get_object()
        new = _int(request.query_params, "to", spec.version)
        old = _int(request.query_params, "from", max(new - 1, 1))
        pair = reads.version_pair(spec, old, new)
        if pair is None:
            raise DRFValidationError({"from": ["Pick two versions of this spec."]})
        sections = reads.diff_sections(pair[0].sections, pair[1].sections)
        data = {
            "from_version": old,
            "to_version": new,
            "sections": [
                {
                    "name": s.name,
                    "label": s.label,
                    "changed": s.changed,
                    "lines": [{"op": line.op, "text": line.text} for line in s.lines],
                }
                for s in sections
            ],
        }
        return Response(DiffSerializer(data).data)

    @extend_schema(responses={200: MarkdownSerializer})
    @action(detail=True, methods=["get"])
    def markdown(self, request, pk=None):
        """The spec as one Markdown document (what the page's export downloads)."""
        spec = self.get_object()
        text = reads.as_markdown(
            spec,
            objectives=list(spec.item.objectives.all()),
            reviews=list(spec.reviews.all()),
        )
        return Response({"filename": f"{spec.item.key}-spec.md", "markdown": text})

    @extend_schema(request=ReviewRequestSerializer, responses={200: SpecSerializer})
    @action(detail=True, methods=["post"], url_path="request-review")
    def request_review(self, request, pk=None):
        """Ask named editors to review the spec (asking again clears their verdict)."""
        spec = self.get_object()
        body = ReviewRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.request_review(request.user, spec=spec, reviewers=body.validated_data["reviewers"])
        return self._fresh(spec)

    @extend_schema(
        request=VerdictSerializer,
        parameters=[IF_MATCH],
        responses={
            200: SpecSerializer,
            412: OpenApiResponse(description="The spec changed since the version you read"),
        },
    )
    @action(detail=True, methods=["post"])
    def verdict(self, request, pk=None):
        """The caller's verdict as a named reviewer: approve, or request
        changes with a comment. `If-Match` names the version you read."""
        spec = self.get_object()
        body = VerdictSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.decide_review(
            request.user,
            spec=spec,
            verdict=body.validated_data["verdict"],
            comment=body.validated_data.get("comment", ""),
            expected_version=self.expected_version(spec),
        )
        return self._fresh(spec)

    def _fresh(self, spec):
        spec = self.get_queryset().get(pk=spec.pk)
        return self.with_etag(
            Response(SpecSerializer(spec, context=self.get_serializer_context()).data), spec
        )


def _int(params, name, default):
    raw = params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise DRFValidationError({name: ["A version number."]})
    return int(raw)


class ReviewFilterSet(django_filters.FilterSet):
    spec = IdFilter(field_name="spec")
    reviewer = IdFilter(field_name="reviewer")
    verdict = django_filters.ChoiceFilter(choices=Verdict.choices)

    class Meta:
        model = SpecReview
        fields = ["spec", "reviewer", "verdict"]


class SpecReviewViewSet(
    StrictListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Reviews of specs (read-only; request them and give verdicts through
    `/api/v1/specs/{id}/request-review/` and `/verdict/`). Filter by spec,
    reviewer (a user id: `?reviewer=<your id>` is your review queue) or verdict."""

    serializer_class = ReviewSerializer
    filterset_class = ReviewFilterSet
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return SpecReview.objects.visible_to(self.request.user).select_related("spec", "reviewer")


def register(router) -> None:
    """Add this app's viewsets to the project's API router."""
    router.register("specs", SpecViewSet, basename="spec")
    router.register("spec-reviews", SpecReviewViewSet, basename="spec-review")
