"""REST API of feedback/ (mounted under /api/v1/ by pmhub/urls.py): customers
(companies), people, feedback (one object or a batch of up to 1000) and
insights. Thin: reads through QuerySet scopes, writes through services."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from backlog.models import Item
from pmhub.accounts.models import Workspace
from pmhub.api.serializers import ScopedPrimaryKeyField, VersionedSerializer
from pmhub.api.views import UpdatedSinceFilterSet, VersionedViewSet, filterset_for
from products.models import Product

from . import services
from .models import Company, Feedback, Importance, Insight, Person, Segment, Source, State

# --- serializers --------------------------------------------------------------------------


class CompanySerializer(VersionedSerializer):
    workspace = ScopedPrimaryKeyField(Workspace)
    annual_revenue = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    segment = serializers.ChoiceField(choices=Segment.choices, required=False)

    class Meta:
        model = Company
        fields = [
            "id",
            "workspace",
            "name",
            "domain",
            "segment",
            "plan",
            "annual_revenue",
            "owner",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["workspace"]


class PersonSerializer(VersionedSerializer):
    workspace = ScopedPrimaryKeyField(Workspace)
    company = ScopedPrimaryKeyField(Company, required=False, allow_null=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "workspace",
            "name",
            "email",
            "company",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["workspace"]


class FeedbackSerializer(VersionedSerializer):
    product = ScopedPrimaryKeyField(Product)
    person = ScopedPrimaryKeyField(Person, required=False, allow_null=True)
    company = ScopedPrimaryKeyField(Company, required=False, allow_null=True)
    source = serializers.ChoiceField(choices=Source.choices, default=Source.API)
    state = serializers.ChoiceField(choices=State.choices, default=State.NEW)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=50
    )
    text = serializers.CharField(max_length=services.MAX_TEXT)
    email = serializers.EmailField(
        write_only=True, required=False, allow_blank=True, help_text="Match or create the person"
    )
    name = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200)
    company_name = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=200
    )
    domain = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Match or create the company (else the email's domain)",
    )
    external_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Your id: re-sending feedback with a known external_id changes nothing",
    )

    class Meta:
        model = Feedback
        fields = [
            "id",
            "product",
            "text",
            "source",
            "state",
            "person",
            "company",
            "received_at",
            "tags",
            "external_id",
            "email",
            "name",
            "company_name",
            "domain",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["product", "external_id"]
        extra_kwargs = {"received_at": {"required": False}}
        # external_id is idempotent (a known one returns the existing row), not unique.
        validators = []


class BatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Rows that created feedback")
    unchanged = serializers.IntegerField(help_text="Rows whose external_id was known already")
    results = FeedbackSerializer(many=True)


class InsightSerializer(VersionedSerializer):
    feedback = ScopedPrimaryKeyField(Feedback)
    item = ScopedPrimaryKeyField(Item)
    importance = serializers.ChoiceField(choices=Importance.choices, default=Importance.IMPORTANT)
    start = serializers.IntegerField(min_value=0, required=False, help_text="Snippet start offset")
    end = serializers.IntegerField(min_value=0, required=False, help_text="Snippet end offset")

    class Meta:
        model = Insight
        fields = [
            "id",
            "feedback",
            "item",
            "snippet",
            "start",
            "end",
            "importance",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["snippet"]
        create_only = ["feedback", "item"]
        validators = []  # linking twice updates the insight (services.link_feedback)


# --- filters --------------------------------------------------------------------------------


class FeedbackFilterSet(UpdatedSinceFilterSet):
    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains", help_text="Text")
    external_id = django_filters.CharFilter()

    class Meta:
        model = Feedback
        fields = ["product", "state", "source", "person", "company", "external_id", "q"]


# --- viewsets -------------------------------------------------------------------------------


class CompanyViewSet(VersionedViewSet):
    """Customers (companies): unique per workspace by domain. Revenue and
    segment weigh the demand of the items their feedback supports."""

    serializer_class = CompanySerializer
    filterset_class = filterset_for(Company, "workspace", "segment", "domain")
    ordering_fields = [*VersionedViewSet.ordering_fields, "name", "annual_revenue"]

    def get_queryset(self):
        return Company.objects.visible_to(self.request.user).for_api().distinct()

    def create_object(self, serializer):
        data = dict(serializer.validated_data)
        return services.create_company(
            self.request.user, workspace=data.pop("workspace"), name=data.pop("name"), **data
        )

    def update_object(self, obj, expected_version, fields):
        fields.pop("workspace", None)
        return services.update_company(
            self.request.user, company=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_company(self.request.user, company=obj, expected_version=expected_version)


class PersonViewSet(VersionedViewSet):
    """People who gave feedback: unique per workspace by email."""

    serializer_class = PersonSerializer
    filterset_class = filterset_for(Person, "workspace", "company", "email")
    ordering_fields = [*VersionedViewSet.ordering_fields, "name"]

    def get_queryset(self):
        return Person.objects.visible_to(self.request.user).for_api().distinct()

    def create_object(self, serializer):
        data = dict(serializer.validated_data)
        return services.create_person(self.request.user, workspace=data.pop("workspace"), **data)

    def update_object(self, obj, expected_version, fields):
        fields.pop("workspace", None)
        return services.update_person(
            self.request.user, person=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_person(self.request.user, person=obj, expected_version=expected_version)


BATCH_ERRORS = OpenApiResponse(
    {
        "type": "object",
        "properties": {
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "index": {"type": "integer"},
                        "errors": {"type": "object"},
                    },
                },
            }
        },
    },
    description="Validation errors: field messages for one object; for a list, "
    "`rows` with each bad row's index and field messages (nothing was created)",
)


class FeedbackViewSet(VersionedViewSet):
    """Customer feedback. POST one object, or a list of up to 1000 (created in
    one transaction, all or nothing). With `external_id`, re-sending the same
    feedback changes nothing. The customer is matched by `email` and `domain`
    (or given as `person` / `company` ids)."""

    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilterSet
    ordering_fields = [*VersionedViewSet.ordering_fields, "received_at"]

    def get_queryset(self):
        return Feedback.objects.visible_to(self.request.user).for_api().distinct()

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="FeedbackCreateOneOrMany",
            serializers=[FeedbackSerializer, FeedbackSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="FeedbackCreatedOneOrMany",
                serializers=[FeedbackSerializer, BatchResultSerializer],
                resource_type_field_name=None,
                many=False,
            ),
            200: OpenApiResponse(
                BatchResultSerializer,
                description="A list whose every row was known already: nothing changed",
            ),
            400: BATCH_ERRORS,
        },
    )
    def create(self, request, *args, **kwargs):
        if not isinstance(request.data, list):
            return super().create(request, *args, **kwargs)
        rows = request.data
        if len(rows) > services.MAX_BATCH:
            return Response(
                {"non_field_errors": [f"At most {services.MAX_BATCH} rows per request."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        errors, clean = [], []
        for index, row in enumerate(rows):
            serializer = self.get_serializer(data=row)
            if serializer.is_valid():
                clean.append(self._arguments(serializer.validated_data))
            else:
                errors.append({"index": index, "errors": serializer.errors})
        if errors:
            return Response({"rows": errors}, status=status.HTTP_400_BAD_REQUEST)
        try:
            created = services.create_feedback_batch(request.user, rows=clean)
        except services.BatchInvalid as exc:
            return Response({"rows": exc.rows}, status=status.HTTP_400_BAD_REQUEST)
        fresh = {f.pk: f for f in self.get_queryset().filter(pk__in=[f.pk for f in created])}
        new = sum(1 for f in created if f._created)
        data = {
            "created": new,
            "unchanged": len(created) - new,
            "results": self.get_serializer([fresh[f.pk] for f in created], many=True).data,
        }
        return Response(data, status=status.HTTP_201_CREATED if new else status.HTTP_200_OK)

    @staticmethod
    def _arguments(data) -> dict:
        return dict(data)

    def create_object(self, serializer):
        data = dict(serializer.validated_data)
        return services.create_feedback(self.request.user, **data)

    def update_object(self, obj, expected_version, fields):
        for key in ("product", "external_id", "email", "name", "company_name", "domain"):
            fields.pop(key, None)
        return services.update_feedback(
            self.request.user, feedback=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_feedback(self.request.user, feedback=obj, expected_version=expected_version)


class InsightViewSet(VersionedViewSet):
    """Snippets of feedback linked to backlog items (with an importance).
    Creating, changing or deleting one recomputes the item's demand in the
    background."""

    serializer_class = InsightSerializer
    filterset_class = filterset_for(Insight, "feedback", "item", "importance")

    def get_queryset(self):
        return Insight.objects.visible_to(self.request.user).for_api().distinct()

    def create_object(self, serializer):
        data = dict(serializer.validated_data)
        return services.link_feedback(self.request.user, **data)

    def update_object(self, obj, expected_version, fields):
        fields.pop("feedback", None)
        fields.pop("item", None)
        return services.update_insight(
            self.request.user, insight=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_insight(self.request.user, insight=obj, expected_version=expected_version)


def register(router) -> None:
    """Add this app's viewsets to the project's API router."""
    router.register("customers", CompanyViewSet, basename="customer")
    router.register("people", PersonViewSet, basename="person")
    router.register("feedback", FeedbackViewSet, basename="feedback")
    router.register("insights", InsightViewSet, basename="insight")
