"""REST API of webhooks (under /api/v1/webhooks/): endpoints (owners and
admins of their workspace; others see none), their deliveries, resend,
rotate-secret and test. Writes go through pmhub.webhooks.services."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from pmhub.accounts.models import ADMIN_ROLES, Workspace
from pmhub.api.pagination import KeysetPagination
from pmhub.api.serializers import ScopedPrimaryKeyField, VersionedSerializer
from pmhub.api.views import VersionedViewSet, filterset_for

from . import services
from .event_types import VERB
from .models import WebhookDelivery, WebhookEndpoint
from .services import OVERLAPS


class EndpointSerializer(VersionedSerializer):
    workspace = ScopedPrimaryKeyField(Workspace)
    event_types = serializers.ListField(
        child=serializers.RegexField(VERB, max_length=60),
        required=False,
        help_text="Event types (verbs such as item.status_changed) to send; empty: every type",
    )
    enabled = serializers.BooleanField(required=False)
    previous_secret_expires_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="While in the future, the previous secret signs beside the current one",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "workspace",
            "url",
            "description",
            "event_types",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "last_success_at",
            "previous_secret_expires_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["disabled_reason", "disabled_at", "last_success_at"]
        create_only = ["workspace"]
        extra_kwargs = {"url": {"validators": []}}


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret (whsec_…); returned in this response only"
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class RotateSerializer(serializers.Serializer):
    overlap_seconds = serializers.ChoiceField(
        choices=[s for s, _ in OVERLAPS],
        default=24 * 3600,
        help_text="How long the previous secret keeps signing beside the new one",
    )


class DeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(source="msg_id", read_only=True)
    event = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event",
            "event_type",
            "webhook_id",
            "status",
            "attempts",
            "created_at",
            "first_attempt_at",
            "last_attempt_at",
            "next_attempt_at",
            "response_status",
            "latency_ms",
            "response_body",
            "error",
        ]
        read_only_fields = fields


class DeliveryPagination(KeysetPagination):
    """Newest first."""

    ordering = ("-id",)

    def get_ordering(self, request, queryset, view):
        return self.ordering


def _with_secret(endpoint, secret: str) -> dict:
    data = EndpointWithSecretSerializer(endpoint).data
    data["secret"] = secret
    return data


class WebhookViewSet(VersionedViewSet):
    """Webhook endpoints of the workspaces you own or administer. The signing
    secret is returned only when it is made (create, rotate-secret)."""

    serializer_class = EndpointSerializer
    filterset_class = filterset_for(WebhookEndpoint, "workspace", "enabled")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        user = self.request.user
        return (
            WebhookEndpoint.objects.visible_to(user)
            .filter(workspace__memberships__user=user, workspace__memberships__role__in=ADMIN_ROLES)
            .select_related("workspace")
            .distinct()
        )

    @extend_schema(responses={201: EndpointWithSecretSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = services.create_endpoint(request.user, **serializer.validated_data)
        response = Response(_with_secret(endpoint, secret), status=status.HTTP_201_CREATED)
        return self.with_etag(response, endpoint)

    def update_object(self, obj, expected_version, fields):
        fields.pop("workspace", None)
        return services.update_endpoint(
            self.request.user, endpoint=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_endpoint(self.request.user, endpoint=obj, expected_version=expected_version)

    @extend_schema(
        request=RotateSerializer,
        responses={200: EndpointWithSecretSerializer},
        summary="Make a new signing secret (returned only here); the old one overlaps",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret", filter_backends=[])
    def rotate_secret(self, request, pk=None):
        endpoint = self.get_object()
        serializer = RotateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = services.rotate_secret(
            request.user,
            endpoint=endpoint,
            overlap_seconds=serializer.validated_data["overlap_seconds"],
            expected_version=self.expected_version(endpoint),
        )
        return self.with_etag(Response(_with_secret(endpoint, secret)), endpoint)

    @extend_schema(
        responses=DeliverySerializer(many=True),
        filters=False,
        summary="The endpoint's delivery log, newest first",
    )
    @action(
        detail=True,
        methods=["get"],
        serializer_class=DeliverySerializer,
        filter_backends=[],
        pagination_class=DeliveryPagination,
    )
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        page = self.paginate_queryset(WebhookDelivery.objects.filter(endpoint=endpoint))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={202: DeliverySerializer},
        parameters=[
            OpenApiParameter("delivery_id", int, OpenApiParameter.PATH, description="A delivery")
        ],
        summary="Send a delivery again now (same webhook-id and body)",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>[0-9]+)/resend",
        serializer_class=DeliverySerializer,
        filter_backends=[],
    )
    def resend(self, request, pk=None, delivery_id=None):
        endpoint = self.get_object()
        if int(delivery_id) >= 2**63:
            raise Http404("No such delivery.")
        delivery = get_object_or_404(
            WebhookDelivery.objects.select_related("endpoint__workspace"),
            pk=int(delivery_id),
            endpoint=endpoint,
        )
        delivery = services.resend(request.user, delivery=delivery)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={202: OpenApiResponse(DeliverySerializer, description="The test delivery")},
        summary="Send a webhook.test event to the endpoint",
    )
    @action(
        detail=True,
        methods=["post"],
        serializer_class=DeliverySerializer,
        filter_backends=[],
    )
    def test(self, request, pk=None):
        endpoint = self.get_object()
        delivery = services.send_test(request.user, endpoint=endpoint)
        delivery.refresh_from_db()
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


def register(router) -> None:
    router.register("webhooks", WebhookViewSet, basename="webhook")
