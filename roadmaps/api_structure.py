"""REST API of a roadmap's structure: the lanes a PM defines and the
dependencies between entries. Thin: reads scoped to your workspaces, writes
through roadmaps.services."""

from rest_framework import serializers

from pmhub.api.pagination import KeysetPagination
from pmhub.api.serializers import ScopedPrimaryKeyField
from pmhub.api.views import SimpleResourceViewSet, parent_filterset

from . import services
from .models import Dependency, Entry, Lane, Roadmap


class LaneSerializer(serializers.ModelSerializer):
    roadmap = ScopedPrimaryKeyField(Roadmap)

    class Meta:
        model = Lane
        fields = ["id", "roadmap", "name", "position"]
        read_only_fields = ["position"]
        validators = []  # the service checks uniqueness, with a field message


class LaneViewSet(SimpleResourceViewSet):
    """Custom lanes of a roadmap (used when its `lane_by` is `custom`).
    Deleting a lane keeps its entries, without a lane."""

    serializer_class = LaneSerializer
    filterset_class = parent_filterset(Lane, "roadmap")
    pagination_class = KeysetPagination

    def get_queryset(self):
        roadmaps = Roadmap.objects.visible_to(self.request.user)
        return Lane.objects.filter(roadmap__in=roadmaps).select_related("roadmap__workspace")

    def create_object(self, data):
        return services.add_lane(self.request.user, roadmap=data["roadmap"], name=data["name"])

    def delete_object(self, obj):
        services.delete_lane(self.request.user, lane=obj)


class DependencySerializer(serializers.ModelSerializer):
    blocker = ScopedPrimaryKeyField(Entry, help_text="The entry that must finish first")
    blocked = ScopedPrimaryKeyField(Entry, help_text="The entry that waits for it")
    warning = serializers.SerializerMethodField(
        help_text="Why the plan does not hold (the blocker ends after the blocked entry "
        "starts), or empty"
    )

    class Meta:
        model = Dependency
        fields = ["id", "roadmap", "blocker", "blocked", "warning", "created_at"]
        read_only_fields = ["roadmap", "created_at"]
        validators = []  # the service checks uniqueness, with a field message

    def get_warning(self, dependency) -> str:
        return services.dependency_warning(
            dependency.blocker, dependency.blocked, layout=dependency.roadmap.layout
        )


class DependencyViewSet(SimpleResourceViewSet):
    """Dependencies between two entries of one roadmap: `blocker` must finish
    before `blocked` can start. Filter by `roadmap`."""

    serializer_class = DependencySerializer
    filterset_class = parent_filterset(Dependency, "roadmap")
    pagination_class = KeysetPagination

    def get_queryset(self):
        roadmaps = Roadmap.objects.visible_to(self.request.user)
        return Dependency.objects.filter(roadmap__in=roadmaps).select_related(
            "roadmap__workspace", "blocker", "blocked"
        )

    def create_object(self, data):
        return services.add_dependency(
            self.request.user, blocker=data["blocker"], blocked=data["blocked"]
        )

    def delete_object(self, obj):
        services.remove_dependency(self.request.user, dependency=obj)
