"""REST API for products and strategy. Thin: reads through QuerySet scopes,
writes through products.services."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from pmhub.accounts.models import Workspace
from pmhub.api.serializers import ScopedPrimaryKeyField, VersionedSerializer
from pmhub.api.views import IF_MATCH, UpdatedSinceFilterSet, VersionedViewSet

from . import services
from .models import Competitor, KeyResult, Objective, Persona, Product, Vision


class ProductSerializer(VersionedSerializer):
    workspace = ScopedPrimaryKeyField(Workspace)

    class Meta:
        model = Product
        fields = [
            "id",
            "workspace",
            "name",
            "key",
            "description",
            "stage",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["workspace", "key"]
        # Uniqueness (case-insensitive, with a `key` message) is checked by the service;
        # DRF's own UniqueTogetherValidator would answer with a non-field error instead.
        extra_kwargs = {"key": {"validators": []}}
        validators = []


class VisionSerializer(VersionedSerializer):
    class Meta:
        model = Vision
        fields = [
            "statement",
            "target_customers",
            "problem",
            "value_proposition",
            "differentiation",
            "version",
            "created_at",
            "updated_at",
        ]


class KeyResultSerializer(VersionedSerializer):
    objective = ScopedPrimaryKeyField(Objective)
    progress = serializers.FloatField(
        read_only=True, allow_null=True, help_text="0..1 of the way from start to target"
    )

    class Meta:
        model = KeyResult
        fields = [
            "id",
            "objective",
            "name",
            "unit",
            "start_value",
            "target_value",
            "current_value",
            "direction",
            "progress",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["objective"]
        extra_kwargs = {"direction": {"required": False}}


class NestedKeyResultSerializer(KeyResultSerializer):
    class Meta(KeyResultSerializer.Meta):
        fields = [f for f in KeyResultSerializer.Meta.fields if f != "objective"]
        read_only_fields = fields


class ObjectiveSerializer(VersionedSerializer):
    product = ScopedPrimaryKeyField(Product)
    key_results = NestedKeyResultSerializer(many=True, read_only=True)
    progress = serializers.SerializerMethodField(help_text="Average progress of the key results")

    class Meta:
        model = Objective
        fields = [
            "id",
            "product",
            "title",
            "why",
            "period",
            "status",
            "owner",
            "position",
            "progress",
            "key_results",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["product"]
        read_only_fields = ["position"]

    def get_progress(self, obj) -> float | None:
        return obj.progress()  # from prefetched key results: no query per row


class CompetitorSerializer(VersionedSerializer):
    product = ScopedPrimaryKeyField(Product)

    class Meta:
        model = Competitor
        fields = [
            "id",
            "product",
            "name",
            "website",
            "positioning",
            "strengths",
            "weaknesses",
            "notes",
            "threat_level",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["product"]


class PersonaSerializer(VersionedSerializer):
    product = ScopedPrimaryKeyField(Product)

    class Meta:
        model = Persona
        fields = [
            "id",
            "product",
            "name",
            "role",
            "goals",
            "pains",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["product"]


def _filterset(model, *names):
    meta = type("Meta", (), {"model": model, "fields": list(names)})
    return type(f"{model.__name__}FilterSet", (UpdatedSinceFilterSet,), {"Meta": meta})


class ProductViewSet(VersionedViewSet):
    """Products of your workspaces. Create with a `workspace` id; `key` is fixed once set."""

    serializer_class = ProductSerializer
    filterset_class = _filterset(Product, "workspace", "stage", "key")
    ordering_fields = [*VersionedViewSet.ordering_fields, "name"]

    def get_queryset(self):
        return Product.objects.visible_to(self.request.user).for_api()

    def create_object(self, serializer):
        return services.create_product(self.request.user, **serializer.validated_data)

    def update_object(self, obj, expected_version, fields):
        return services.update_product(
            self.request.user, product=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_product(self.request.user, product=obj, expected_version=expected_version)

    @extend_schema(request=VisionSerializer, responses=VisionSerializer, parameters=[IF_MATCH])
    @action(detail=True, methods=["get", "patch"], serializer_class=VisionSerializer)
    def vision(self, request, pk=None):
        """The product's vision. PATCH saves a new version; the old one goes to history."""
        product = self.get_object()
        vision = services.vision_of(product)
        if request.method == "PATCH":
            serializer = VisionSerializer(
                vision, data=request.data, partial=True, context=self.get_serializer_context()
            )
            serializer.is_valid(raise_exception=True)
            services.update_vision(
                request.user,
                vision=vision,
                expected_version=self.expected_version(vision),
                fields=dict(serializer.validated_data),
            )
            vision = get_object_or_404(Vision, pk=vision.pk)
        return self.with_etag(Response(VisionSerializer(vision).data), vision)


class ObjectiveViewSet(VersionedViewSet):
    serializer_class = ObjectiveSerializer
    filterset_class = _filterset(Objective, "product", "status", "owner")

    def get_queryset(self):
        return (
            Objective.objects.visible_to(self.request.user)
            .for_api()
            .prefetch_related("key_results")
        )

    def create_object(self, serializer):
        return services.create_objective(self.request.user, **serializer.validated_data)

    def update_object(self, obj, expected_version, fields):
        return services.update_objective(
            self.request.user, objective=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_objective(
            self.request.user, objective=obj, expected_version=expected_version
        )


class KeyResultViewSet(VersionedViewSet):
    serializer_class = KeyResultSerializer
    filterset_class = _filterset(KeyResult, "objective", "objective__product")

    def get_queryset(self):
        return KeyResult.objects.visible_to(self.request.user).for_api()

    def create_object(self, serializer):
        return services.create_key_result(self.request.user, **serializer.validated_data)

    def update_object(self, obj, expected_version, fields):
        return services.update_key_result(
            self.request.user, key_result=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_key_result(
            self.request.user, key_result=obj, expected_version=expected_version
        )


class CompetitorViewSet(VersionedViewSet):
    serializer_class = CompetitorSerializer
    filterset_class = _filterset(Competitor, "product", "threat_level")
    ordering_fields = [*VersionedViewSet.ordering_fields, "name"]

    def get_queryset(self):
        return Competitor.objects.visible_to(self.request.user).for_api()

    def create_object(self, serializer):
        return services.create_competitor(self.request.user, **serializer.validated_data)

    def update_object(self, obj, expected_version, fields):
        return services.update_competitor(
            self.request.user, competitor=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_competitor(
            self.request.user, competitor=obj, expected_version=expected_version
        )


class PersonaViewSet(VersionedViewSet):
    serializer_class = PersonaSerializer
    filterset_class = _filterset(Persona, "product")
    ordering_fields = [*VersionedViewSet.ordering_fields, "name"]

    def get_queryset(self):
        return Persona.objects.visible_to(self.request.user).for_api()

    def create_object(self, serializer):
        return services.create_persona(self.request.user, **serializer.validated_data)

    def update_object(self, obj, expected_version, fields):
        return services.update_persona(
            self.request.user, persona=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_persona(self.request.user, persona=obj, expected_version=expected_version)
