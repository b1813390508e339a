from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, viewsets

from pmhub.api.views import UpdatedSinceFilterSet

from .models import Role, Workspace


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


class WorkspaceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Workspaces you are a member of, with your role in each."""

    serializer_class = WorkspaceSerializer
    filterset_class = WorkspaceFilterSet
    ordering_fields = ["id", "name", "created_at", "updated_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Workspace.objects.none()
        user = self.request.user
        return Workspace.objects.visible_to(user).with_role(user)
