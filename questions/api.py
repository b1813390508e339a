"""REST API of questions/ (mounted under /api/v1/ by pmhub/urls.py): the
questions stakeholders asked on shared roadmaps (members read them; editors
answer with If-Match), and whether each share link takes questions (admins
switch it). Reads through QuerySet scopes, writes through services."""

import django_filters
from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from pmhub.api.serializers import ScopedPrimaryKeyField
from pmhub.api.views import (
    IF_MATCH,
    IdFilter,
    StrictListMixin,
    UpdatedSinceFilterSet,
    representation_etag,
)
from pmhub.versioning import parse_etag
from roadmaps.models import ShareLink

from . import services
from .models import Question, QuestionSettings
from .services.answers import MAX_ANSWER


class QuestionSerializer(serializers.ModelSerializer):
    share_link = serializers.IntegerField(source="share_link_id", read_only=True)
    roadmap = serializers.IntegerField(source="share_link.roadmap_id", read_only=True)
    entry = serializers.IntegerField(source="entry_id", read_only=True)
    item = serializers.IntegerField(source="entry.item_id", read_only=True, allow_null=True)
    feedback = serializers.IntegerField(source="feedback_id", read_only=True, allow_null=True)
    answered_by = serializers.IntegerField(source="answered_by_id", read_only=True, allow_null=True)
    plus_ones = serializers.IntegerField(read_only=True, help_text="Confirmed +1s")
    verified = serializers.SerializerMethodField(help_text="The asker confirmed their address")

    class Meta:
        model = Question
        fields = [
            "id",
            "share_link",
            "roadmap",
            "entry",
            "item",
            "text",
            "email",
            "verified",
            "verified_at",
            "feedback",
            "plus_ones",
            "answer",
            "answered_at",
            "answered_by",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_verified(self, obj) -> bool:
        return obj.verified_at is not None


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=MAX_ANSWER)


class QuestionFilterSet(UpdatedSinceFilterSet):
    share_link = IdFilter(field_name="share_link")
    entry = IdFilter(field_name="entry")
    answered = django_filters.BooleanFilter(
        field_name="answered_at", lookup_expr="isnull", exclude=True, label="Answered or not"
    )

    class Meta:
        model = Question
        fields = ["share_link", "entry", "answered"]


class QuestionViewSet(
    StrictListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Questions from stakeholders on shared roadmaps, newest first by id
    order of the cursor. Unconfirmed ones (`verified` false) are listed too;
    only confirmed ones reach the feedback inbox and can be answered."""

    serializer_class = QuestionSerializer
    filterset_class = QuestionFilterSet
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return (
            Question.objects.visible_to(self.request.user)
            .select_related("share_link", "entry")
            .annotate(plus_ones=Count("votes", filter=Q(votes__verified_at__isnull=False)))
        )

    def retrieve(self, request, *args, **kwargs):
        question = self.get_object()
        data = self.get_serializer(question).data
        response = Response(data)
        response["ETag"] = representation_etag(question, data)
        return response

    @extend_schema(
        request=AnswerSerializer, parameters=[IF_MATCH], responses={200: QuestionSerializer}
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """Answer (or change the answer): emailed to the asker and the
        confirmed +1s. `If-Match` names the version you read; stale → 412."""
        question = self.get_object()
        body = AnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        header = request.headers.get("If-Match")
        services.answer_question(
            request.user,
            question=question,
            answer=body.validated_data["answer"],
            expected_version=None if header in (None, "*") else parse_etag(header),
        )
        question = self.get_queryset().get(pk=question.pk)
        data = self.get_serializer(question).data
        response = Response(data)
        response["ETag"] = representation_etag(question, data)
        return response


class QuestionSettingsSerializer(serializers.ModelSerializer):
    share_link = ScopedPrimaryKeyField(ShareLink, help_text="A share link of your workspace")
    allow_questions = serializers.BooleanField()

    class Meta:
        model = QuestionSettings
        fields = ["id", "share_link", "allow_questions"]


class QuestionSettingsViewSet(
    StrictListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Which share links take questions (a link without a row does not).
    POST `{share_link, allow_questions}` switches one (admins and owners)."""

    serializer_class = QuestionSettingsSerializer
    filterset_class = type(
        "QuestionSettingsFilterSet",
        (django_filters.FilterSet,),
        {
            "share_link": IdFilter(field_name="share_link"),
            "Meta": type("Meta", (), {"model": QuestionSettings, "fields": ["share_link"]}),
        },
    )
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return QuestionSettings.objects.visible_to(self.request.user)

    @extend_schema(request=QuestionSettingsSerializer, responses={200: QuestionSettingsSerializer})
    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = services.set_questions_allowed(
            request.user,
            link=body.validated_data["share_link"],
            allowed=body.validated_data["allow_questions"],
        )
        return Response(self.get_serializer(row).data, status=status.HTTP_200_OK)


def register(router) -> None:
    """Add this app's viewsets to the project's API router."""
    router.register("questions", QuestionViewSet, basename="question")
    router.register("question-settings", QuestionSettingsViewSet, basename="question-settings")
