from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response

from pmhub.api.pagination import KeysetPagination
from pmhub.api.views import StrictListMixin, UpdatedSinceFilterSet, parent_filterset

from . import services
from .models import Membership, Role, Workspace


class WorkspaceSerializer(serializers.ModelSerializer):
    role = extend_schema_field(serializers.ChoiceField(choices=Role.choices))(
        serializers.CharField(source="my_role", read_only=True)
    )

    class Meta:
        model = Workspace
        fields = ["id", "name", "slug", "role", "version", "created_at", "updated_at"]
        read_only_fields = fields


class WorkspaceFilterSet(UpdatedSinceFilterSet):
    class Meta:
        model = Workspace
        fields = ["slug"]


class WorkspaceViewSet(
    StrictListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Workspaces you are a member of, with your role in each."""

    serializer_class = WorkspaceSerializer
    filterset_class = WorkspaceFilterSet
    ordering_fields = ["id", "name", "created_at", "updated_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Workspace.objects.none()
        user = self.request.user
        return Workspace.objects.visible_to(user).with_role(user)


LAST_OWNER = OpenApiResponse(
    OpenApiTypes.OBJECT, description="The last owner cannot be demoted or removed (`detail`)"
)


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.SerializerMethodField()
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["id", "workspace", "user", "username", "name", "role"]
        read_only_fields = ["workspace", "user"]

    def get_name(self, membership) -> str:
        return membership.user.get_full_name() or membership.user.username


class MemberViewSet(
    StrictListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Members of your workspaces and their roles. Admins change roles (PATCH
    `role`; only owners grant or remove the owner role, and the last owner
    stays) and remove members; DELETE of your own membership leaves the
    workspace. Invitations are made in the browser (they are links to hand
    over)."""

    serializer_class = MemberSerializer
    filterset_class = parent_filterset(Membership, "workspace")
    pagination_class = KeysetPagination
    http_method_names = ["get", "patch", "delete", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        workspaces = Workspace.objects.visible_to(self.request.user)
        return Membership.objects.filter(workspace__in=workspaces).select_related(
            "user", "workspace"
        )

    @extend_schema(responses={200: MemberSerializer, 409: LAST_OWNER})
    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        body = MemberSerializer(membership, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        if "role" in body.validated_data:
            membership = services.change_role(
                request.user, membership=membership, role=body.validated_data["role"]
            )
        return Response(MemberSerializer(self.get_queryset().get(pk=membership.pk)).data)

    @extend_schema(responses={204: None, 409: LAST_OWNER})
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.remove_member(self.request.user, membership=instance)
