"""REST API of roadmaps/ (mounted under /api/v1/ by pmhub/urls.py): roadmaps,
their entries, milestones and share links. Thin: reads through QuerySet
scopes, writes through roadmaps.services."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from backlog.models import Item
from pmhub.accounts.models import Workspace
from pmhub.accounts.services import require_editor
from pmhub.api.pagination import KeysetPagination
from pmhub.api.serializers import ScopedPrimaryKeyField, VersionedSerializer
from pmhub.api.views import VersionedViewSet, filterset_for, representation_etag
from products.models import Product

from . import services, sharing
from .api_structure import DependencyViewSet, LaneViewSet
from .models import Commitment, DateMode, Entry, Milestone, Roadmap, ShareLink


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^(milestone|release)$",
        "description": "`milestone` or `release`",
    }
)
class MilestoneKindField(serializers.ChoiceField):
    """Documented as a pattern: an enum named "kind" exists elsewhere in this API."""

    def __init__(self, **kwargs):
        super().__init__(choices=Milestone.Kind.choices, **kwargs)


@extend_schema_field({"type": "string", "enum": list(Commitment.values)})
class CommitmentNameField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Commitment.choices, **kwargs)


class RoadmapSerializer(VersionedSerializer):
    workspace = ScopedPrimaryKeyField(Workspace)
    product = ScopedPrimaryKeyField(
        Product, required=False, allow_null=True, help_text="Empty for a portfolio roadmap"
    )
    products = ScopedPrimaryKeyField(
        Product,
        many=True,
        required=False,
        help_text="A portfolio roadmap's products (two or more); empty for a product roadmap",
    )
    investment_target = serializers.DictField(
        child=serializers.FloatField(min_value=0, max_value=100),
        required=False,
        help_text="Objective id → target share of effort in percent (adds up to 100)",
    )

    class Meta:
        model = Roadmap
        fields = [
            "id",
            "workspace",
            "product",
            "products",
            "name",
            "description",
            "layout",
            "lane_by",
            "granularity",
            "start_date",
            "periods",
            "investment_target",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["workspace", "product", "products"]


class EntrySerializer(VersionedSerializer):
    roadmap = serializers.PrimaryKeyRelatedField(read_only=True)
    item = ScopedPrimaryKeyField(
        Item,
        required=False,
        allow_null=True,
        help_text="The backlog item; empty for a free-text card (then `title` is required)",
    )
    key = serializers.SerializerMethodField(help_text="The item's key, e.g. PAY-12")
    title = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="The item's title, or the card's",
    )
    status = serializers.SerializerMethodField(help_text="The item's status (read from the item)")
    score = serializers.SerializerMethodField(help_text="The item's score (read from the item)")
    objectives = serializers.SerializerMethodField(help_text="Ids of the item's objectives")
    lane = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Entry
        fields = [
            "id",
            "roadmap",
            "item",
            "key",
            "title",
            "status",
            "score",
            "objectives",
            "summary",
            "note",
            "horizon",
            "start_date",
            "end_date",
            "lane",
            "commitment",
            "rank",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["rank"]
        create_only = ["item"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["title"] = instance.display_title
        return data

    def get_key(self, obj) -> str | None:
        return obj.item.key if obj.item_id else None

    def get_status(self, obj) -> str | None:
        return obj.item.status if obj.item_id else None

    def get_score(self, obj) -> float | None:
        return obj.item.score if obj.item_id else None

    def get_objectives(self, obj) -> list[int]:
        return [o.pk for o in obj.item.objectives.all()] if obj.item_id else []


class MilestoneSerializer(VersionedSerializer):
    roadmap = ScopedPrimaryKeyField(Roadmap)
    kind = MilestoneKindField(required=False)

    class Meta:
        model = Milestone
        fields = ["id", "roadmap", "name", "date", "kind", "version", "created_at", "updated_at"]
        create_only = ["roadmap"]


class ShareLinkSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="Optional password the audience must enter (at least 6 characters)",
    )
    has_password = serializers.BooleanField(read_only=True)
    exclude_tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, help_text="Tag names left out"
    )
    exclude_commitments = serializers.ListField(
        child=CommitmentNameField(),
        required=False,
        help_text="Commitment levels left out",
    )
    date_mode = serializers.ChoiceField(choices=DateMode.choices, required=False)

    class Meta:
        model = ShareLink
        fields = [
            "id",
            "roadmap",
            "label",
            "expires_at",
            "password",
            "has_password",
            "hide_scores",
            "hide_owners",
            "hide_notes",
            "live",
            "date_mode",
            "exclude_tags",
            "exclude_commitments",
            "views",
            "last_viewed_at",
            "revoked_at",
            "created_at",
        ]
        read_only_fields = ["id", "roadmap", "views", "last_viewed_at", "revoked_at", "created_at"]


class CreatedShareLinkSerializer(ShareLinkSerializer):
    url = serializers.URLField(read_only=True, help_text="The absolute link to send")
    token = serializers.CharField(
        read_only=True, help_text="The secret token; shown in this response only"
    )

    class Meta(ShareLinkSerializer.Meta):
        fields = [*ShareLinkSerializer.Meta.fields, "url", "token"]


class EntryPagination(KeysetPagination):
    """A roadmap's entries in rank order (filters: /roadmap-entries/?roadmap=)."""

    ordering = ("rank", "id")

    def get_ordering(self, request, queryset, view):
        return self.ordering


class RoadmapViewSet(VersionedViewSet):
    """Roadmaps of your workspaces: per product (`product`) or portfolio
    (`products`, two or more). Entries, share links: nested routes."""

    serializer_class = RoadmapSerializer
    filterset_class = filterset_for(Roadmap, "workspace", "product", "layout")
    ordering_fields = [*VersionedViewSet.ordering_fields, "name"]

    def get_queryset(self):
        return (
            Roadmap.objects.visible_to(self.request.user)
            .select_related("workspace", "product")
            .prefetch_related("products")
        )

    def create_object(self, serializer):
        return services.create_roadmap(self.request.user, **serializer.validated_data)

    def update_object(self, obj, expected_version, fields):
        return services.update_roadmap(
            self.request.user, roadmap=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_roadmap(self.request.user, roadmap=obj, expected_version=expected_version)

    @extend_schema(
        methods=["GET"],
        responses=EntrySerializer(many=True),
        filters=False,
        summary="List a roadmap's entries in rank order",
    )
    @extend_schema(
        methods=["POST"],
        request=EntrySerializer,
        responses={201: EntrySerializer},
        summary="Add a backlog item (or a free-text card) to the roadmap",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        serializer_class=EntrySerializer,
        filter_backends=[],
        pagination_class=EntryPagination,
    )
    def entries(self, request, pk=None):
        roadmap = self.get_object()
        if request.method == "POST":
            serializer = EntrySerializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            entry = services.add_entry(request.user, roadmap=roadmap, **data)
            entry = _entries().get(pk=entry.pk)
            response = Response(
                EntrySerializer(entry, context=self.get_serializer_context()).data,
                status=status.HTTP_201_CREATED,
            )
            response["ETag"] = representation_etag(entry, response.data)
            return response
        queryset = _entries().filter(roadmap=roadmap)
        page = self.paginate_queryset(queryset)
        data = EntrySerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(
        methods=["GET"],
        responses=ShareLinkSerializer(many=True),
        filters=False,
        summary="List a roadmap's share links (without tokens); editors and above",
    )
    @extend_schema(
        methods=["POST"],
        request=ShareLinkSerializer,
        responses={201: CreatedShareLinkSerializer},
        summary="Create a share link (admins); the token is returned only here",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="share-links",
        serializer_class=ShareLinkSerializer,
        filter_backends=[],
        pagination_class=KeysetPagination,
    )
    def share_links(self, request, pk=None):
        roadmap = self.get_object()
        if request.method == "POST":
            serializer = ShareLinkSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            link, raw = services.create_share_link(
                request.user, roadmap=roadmap, **serializer.validated_data
            )
            data = CreatedShareLinkSerializer(link).data
            data["token"] = raw
            data["url"] = request.build_absolute_uri(reverse("roadmaps:shared-roadmap", args=[raw]))
            return Response(data, status=status.HTTP_201_CREATED)
        require_editor(request.user, roadmap.workspace)
        page = sharing.with_pending_views(
            self.paginate_queryset(ShareLink.objects.filter(roadmap=roadmap))
        )
        return self.get_paginated_response(ShareLinkSerializer(page, many=True).data)


def _entries():
    return Entry.objects.select_related("item", "roadmap__workspace").prefetch_related(
        "item__objectives"
    )


class EntryViewSet(VersionedViewSet):
    """One roadmap entry: read, change (If-Match), remove. Create and list
    through `/roadmaps/{id}/entries/`."""

    serializer_class = EntrySerializer
    filterset_class = filterset_for(Entry, "roadmap", "item", "commitment", "horizon")
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return _entries().visible_to(self.request.user)

    def update_object(self, obj, expected_version, fields):
        fields.pop("item", None)
        return services.update_entry(
            self.request.user, entry=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.remove_entry(self.request.user, entry=obj, expected_version=expected_version)


class MilestoneViewSet(VersionedViewSet):
    """Milestones and releases drawn on a roadmap."""

    serializer_class = MilestoneSerializer
    filterset_class = filterset_for(Milestone, "roadmap", "kind")

    def get_queryset(self):
        return Milestone.objects.visible_to(self.request.user).select_related("roadmap__workspace")

    def create_object(self, serializer):
        return services.add_milestone(self.request.user, **serializer.validated_data)

    def update_object(self, obj, expected_version, fields):
        return services.update_milestone(
            self.request.user, milestone=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_milestone(
            self.request.user, milestone=obj, expected_version=expected_version
        )


class ShareLinkViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A share link (never its token). DELETE revokes it: the next request
    with the token is a 404."""

    serializer_class = ShareLinkSerializer
    filter_backends = []
    http_method_names = ["get", "delete", "head", "options"]

    def get_queryset(self):
        return ShareLink.objects.visible_to(self.request.user).select_related("roadmap__workspace")

    def get_object(self):
        link = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        require_editor(self.request.user, link.roadmap.workspace)
        return link

    @extend_schema(responses={204: OpenApiResponse(description="Revoked")})
    def destroy(self, request, *args, **kwargs):
        link = self.get_object()
        services.revoke_share_link(request.user, link=link)
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router) -> None:
    """Add this app's viewsets to the project's API router."""
    router.register("roadmaps", RoadmapViewSet, basename="roadmap")
    router.register("roadmap-entries", EntryViewSet, basename="roadmap-entry")
    router.register("milestones", MilestoneViewSet, basename="milestone")
    router.register("share-links", ShareLinkViewSet, basename="share-link")
    router.register("lanes", LaneViewSet, basename="lane")
    router.register("dependencies", DependencyViewSet, basename="dependency")
