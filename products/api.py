"""REST API for products and strategy. Thin: reads through QuerySet scopes,
writes through products.services. Key results carry the fields downstream
apps add to them (products.extensions: the metric a key result follows)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from pmhub.accounts.models import Workspace
from pmhub.api.serializers import ScopedPrimaryKeyField, VersionedSerializer
from pmhub.api.views import IF_MATCH, VersionedViewSet, filterset_for

from . import extensions, services
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

    def get_fields(self):
        """The key result's own fields, then the extensions' before ``progress``."""
        fields = super().get_fields()
        added = {}
        for extension in extensions.key_result_extensions():
            added.update(extension.api_fields())
        if not added:
            return fields
        names = list(fields)
        at = names.index("progress")
        return {
            **{n: fields[n] for n in names[:at]},
            **added,
            **{n: fields[n] for n in names[at:]},
        }


class NestedKeyResultSerializer(KeyResultSerializer):
    class Meta(KeyResultSerializer.Meta):
        fields = [f for f in KeyResultSerializer.Meta.fields if f != "objective"]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields


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


class ProductViewSet(VersionedViewSet):
    """Products of your workspaces. Create with a `workspace` id; `key` is fixed once set."""

    serializer_class = ProductSerializer
    filterset_class = filterset_for(Product, "workspace", "stage", "key")
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
    filterset_class = filterset_for(Objective, "product", "status", "owner")

    def get_queryset(self):
        return Objective.objects.visible_to(self.request.user).for_api().with_key_results()

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
    filterset_class = filterset_for(KeyResult, "objective", "objective__product")

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
    filterset_class = filterset_for(Competitor, "product", "threat_level")
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
    filterset_class = filterset_for(Persona, "product")
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
