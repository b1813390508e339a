"""REST API of discussions (under /api/v1/): comments (filter by object),
reactions, watch state and the caller's own notifications. Every write goes
through discussions.services, like the pages."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from pmhub.accounts.models import Workspace
from pmhub.api.pagination import KeysetPagination
from pmhub.api.serializers import ScopedPrimaryKeyField, VersionedSerializer
from pmhub.api.views import (
    IdFilter,
    SimpleResourceViewSet,
    StrictListMixin,
    UpdatedSinceFilterSet,
    VersionedViewSet,
)

from . import registry, services
from .kinds import KINDS
from .models import EMOJI, MAX_BODY, Comment, Notification, Reaction, Watch

BIGINT = {"min_value": 1, "max_value": 2**63 - 1}
NOT_VISIBLE = OpenApiResponse(
    description="The object does not exist or is in a workspace you are not a member of"
)
TRUE_FALSE = [("true", "true"), ("false", "false")]


def _labels():
    # The API module is imported with the URLs, after every app registered its types.
    return [(label, label) for label in registry.labels()]


def workspace_of(user, label: str, object_id: int) -> Workspace:
    """The workspace of an object the user can see, else 404 (another
    workspace's object looks like a missing one)."""
    kind = registry.get(label)
    if kind is None:
        raise Http404("No such object.")
    qs = kind.queryset().visible_to(user).filter(pk=object_id)
    path = qs.workspace_path
    ws_id = qs.values_list(path if path else "pk", flat=True).first()
    if ws_id is None:
        raise Http404("No such object.")
    return Workspace.objects.get(pk=ws_id)


class ReactionSummarySerializer(serializers.Serializer):
    emoji = serializers.CharField()
    count = serializers.IntegerField()
    users = serializers.ListField(child=serializers.IntegerField())


class CommentSerializer(VersionedSerializer):
    object_type = serializers.ChoiceField(
        choices=[], help_text="The commented object's type: backlog.item, roadmaps.entry, …"
    )
    object_id = serializers.IntegerField(**BIGINT)
    parent = serializers.IntegerField(
        source="parent_id",
        required=False,
        allow_null=True,
        **BIGINT,
        help_text="Reply to this top-level comment",
    )
    body = serializers.CharField(
        max_length=MAX_BODY, help_text="Markdown; @username mentions a member"
    )
    body_html = serializers.CharField(read_only=True, help_text="Sanitized HTML")
    author = serializers.IntegerField(source="author_id", read_only=True, allow_null=True)
    author_username = serializers.CharField(
        source="author.username", read_only=True, allow_null=True, default=None
    )
    mentions = serializers.SerializerMethodField()
    reactions = serializers.SerializerMethodField()
    edited_at = serializers.DateTimeField(read_only=True, allow_null=True)
    deleted = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = [
            "id",
            "object_type",
            "object_id",
            "parent",
            "author",
            "author_username",
            "body",
            "body_html",
            "mentions",
            "reactions",
            "edited_at",
            "deleted",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["object_type", "object_id", "parent"]

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        if self._updating():
            attrs.pop("parent_id", None)
        return attrs

    def get_fields(self):
        fields = super().get_fields()
        fields["object_type"].choices = _labels()
        return fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_mentions(self, obj) -> list[str]:
        return [m["username"] for m in obj.mentions]

    @extend_schema_field(ReactionSummarySerializer(many=True))
    def get_reactions(self, obj) -> list[dict]:
        grouped: dict[str, list[int]] = {}
        for r in obj.reactions.all():
            grouped.setdefault(r.emoji, []).append(r.user_id)
        return [{"emoji": e, "count": len(u), "users": u} for e, u in grouped.items()]

    def get_deleted(self, obj) -> bool:
        return obj.deleted_at is not None


class CommentFilterSet(UpdatedSinceFilterSet):
    object_type = django_filters.ChoiceFilter(choices=_labels(), label="The object's type")
    object_id = IdFilter(field_name="object_id", label="The object id (with object_type)")
    parent = IdFilter(field_name="parent", label="Replies to this comment")

    class Meta:
        model = Comment
        fields = ["object_type", "object_id", "parent"]


class CommentViewSet(VersionedViewSet):
    """Comments on items, roadmap entries, objectives, customers and feedback.
    Filter by ``object_type`` and ``object_id`` for one object's discussion.
    Only the author edits (PATCH ``body``, with If-Match) or deletes."""

    serializer_class = CommentSerializer
    filterset_class = CommentFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Comment.objects.none()
        return (
            Comment.objects.visible_to(self.request.user)
            .select_related("author")
            .prefetch_related("reactions")
        )

    @extend_schema(responses={201: CommentSerializer, 404: NOT_VISIBLE})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def create_object(self, serializer):
        data = serializer.validated_data
        workspace = workspace_of(self.request.user, data["object_type"], data["object_id"])
        return services.post_comment(
            self.request.user,
            workspace=workspace,
            object_type=data["object_type"],
            object_id=data["object_id"],
            body=data["body"],
            parent_id=data.get("parent_id"),
        )

    def update_object(self, obj, expected_version, fields):
        return services.edit_comment(
            self.request.user,
            comment=obj,
            body=fields.get("body", obj.body),
            expected_version=expected_version,
        )

    def delete_object(self, obj, expected_version):
        services.delete_comment(self.request.user, comment=obj, expected_version=expected_version)


class ReactionSerializer(serializers.ModelSerializer):
    comment = ScopedPrimaryKeyField(Comment)
    emoji = serializers.ChoiceField(choices=[(e, e) for e in EMOJI])
    user = serializers.IntegerField(source="user_id", read_only=True)

    class Meta:
        model = Reaction
        fields = ["id", "comment", "user", "emoji", "created_at"]
        read_only_fields = ["created_at"]
        validators = []


class ReactionFilterSet(django_filters.FilterSet):
    comment = IdFilter(field_name="comment")

    class Meta:
        model = Reaction
        fields = ["comment"]


class ReactionViewSet(SimpleResourceViewSet):
    """Emoji reactions on comments. Adding one you already gave changes
    nothing; delete takes your own back."""

    serializer_class = ReactionSerializer
    filterset_class = ReactionFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Reaction.objects.none()
        return Reaction.objects.visible_to(self.request.user).select_related("comment__workspace")

    def create_object(self, data):
        return services.add_reaction(
            self.request.user, comment=data["comment"], emoji=data["emoji"]
        )

    def delete_object(self, instance):
        if instance.user_id != self.request.user.pk:
            raise PermissionDenied("You can only take back your own reaction.")
        services.remove_reaction(self.request.user, comment=instance.comment, emoji=instance.emoji)


class WatchSerializer(serializers.ModelSerializer):
    object_type = serializers.ChoiceField(choices=[])
    object_id = serializers.IntegerField(**BIGINT)
    watching = serializers.BooleanField(default=True)

    class Meta:
        model = Watch
        fields = ["id", "object_type", "object_id", "watching", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        fields["object_type"].choices = _labels()
        return fields


class WatchFilterSet(django_filters.FilterSet):
    object_type = django_filters.ChoiceFilter(choices=_labels())
    object_id = IdFilter(field_name="object_id")
    watching = django_filters.ChoiceFilter(choices=TRUE_FALSE, method="filter_watching")

    class Meta:
        model = Watch
        fields = ["object_type", "object_id", "watching"]

    def filter_watching(self, queryset, name, value):
        return queryset.filter(watching=value == "true")


class WatchViewSet(SimpleResourceViewSet):
    """Your watch state per object. POST sets it (``watching`` true or
    false; an unwatch overrides being the creator or owner); DELETE stops
    watching. Creators, owners, commenters and mentioned members watch
    without a POST."""

    serializer_class = WatchSerializer
    filterset_class = WatchFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Watch.objects.none()
        return Watch.objects.visible_to(self.request.user).filter(user=self.request.user)

    @extend_schema(responses={201: WatchSerializer, 404: NOT_VISIBLE})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def create_object(self, data):
        workspace = workspace_of(self.request.user, data["object_type"], data["object_id"])
        return services.set_watch(
            self.request.user,
            workspace=workspace,
            object_type=data["object_type"],
            object_id=data["object_id"],
            watching=data.get("watching", True),
        )

    def delete_object(self, instance):
        services.set_watch(
            self.request.user,
            workspace=instance.workspace,
            object_type=instance.object_type,
            object_id=instance.object_id,
            watching=False,
        )


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "workspace",
            "kind",
            "verb",
            "actor_label",
            "object_type",
            "object_id",
            "object_key",
            "object_title",
            "url",
            "excerpt",
            "created_at",
            "read",
            "read_at",
        ]
        read_only_fields = fields

    def get_read(self, obj) -> bool:
        return obj.read_at is not None


class NotificationFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=[(k, k) for k in KINDS])
    unread = django_filters.ChoiceFilter(
        choices=TRUE_FALSE, method="filter_unread", label="true: only unread; false: only read"
    )
    workspace = IdFilter(field_name="workspace")

    class Meta:
        model = Notification
        fields = ["kind", "workspace"]

    def filter_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value == "true")


class NewestFirst(KeysetPagination):
    ordering = ("-id",)

    def get_ordering(self, request, queryset, view):
        return self.ordering


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were marked read")


class ReadAllSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[], required=False)
    workspace = serializers.IntegerField(required=False, **BIGINT)

    def get_fields(self):
        fields = super().get_fields()
        fields["kind"].choices = [(k, k) for k in KINDS]
        return fields


class NotificationViewSet(
    StrictListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your own notifications, newest first (``?unread=true``, ``?kind=``)."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    pagination_class = NewestFirst
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return Notification.objects.of(self.request.user)

    @extend_schema(request=None, responses={200: NotificationSerializer}, summary="Mark read")
    @action(detail=True, methods=["post"], filter_backends=[])
    def read(self, request, pk=None):
        notification = self.get_object()
        services.mark_read(request.user, notification_ids=[notification.pk])
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        request=ReadAllSerializer,
        responses={200: MarkedSerializer, 404: OpenApiResponse(description="No such workspace")},
        summary="Mark all read (of one kind or workspace)",
    )
    @action(detail=False, methods=["post"], url_path="read-all", filter_backends=[])
    def read_all(self, request):
        serializer = ReadAllSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workspace = None
        if "workspace" in serializer.validated_data:
            workspace = (
                Workspace.objects.visible_to(request.user)
                .filter(pk=serializer.validated_data["workspace"])
                .first()
            )
            if workspace is None:
                raise Http404("No such workspace.")
        marked = services.mark_all_read(
            request.user, workspace=workspace, kind=serializer.validated_data.get("kind")
        )
        return Response({"marked": marked}, status=status.HTTP_200_OK)


def register(router) -> None:
    router.register("comments", CommentViewSet, basename="comment")
    router.register("reactions", ReactionViewSet, basename="reaction")
    router.register("watches", WatchViewSet, basename="watch")
    router.register("notifications", NotificationViewSet, basename="notification")
