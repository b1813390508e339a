"""REST API of exports and imports (under /api/v1/archive-jobs/): owners
export a workspace and import an archive into a new workspace; a job's
progress and its file are read here. Writes go through archive.services."""

import django_filters
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db.models import Q
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, DataAndFiles
from rest_framework.response import Response

from pmhub.accounts.models import Role, Workspace
from pmhub.api.pagination import KeysetPagination
from pmhub.api.serializers import ScopedPrimaryKeyField
from pmhub.api.views import StrictListMixin

from . import loading, services
from .format import ArchiveError
from .models import ArchiveJob

CHUNK = 1024 * 1024


class ZipParser(BaseParser):
    """An archive as the raw request body (``Content-Type: application/zip`` or
    ``application/octet-stream``),
    spooled to a temporary file a megabyte at a time."""

    media_type = "application/zip"

    def parse(self, stream, media_type=None, parser_context=None):
        upload = TemporaryUploadedFile("archive.zip", self.media_type, 0, None)
        if stream is not None:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                upload.write(chunk)
        upload.size = upload.tell()
        upload.seek(0)
        return DataAndFiles({}, {"file": upload})


class OctetStreamParser(ZipParser):
    media_type = "application/octet-stream"


class ArchiveJobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ArchiveJob
        fields = [
            "id",
            "kind",
            "workspace",
            "state",
            "total",
            "done",
            "percent",
            "size",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, job) -> str | None:
        if not job.is_downloadable:
            return None
        return self.context["request"].build_absolute_uri(
            f"/api/v1/archive-jobs/{job.pk}/download/"
        )


@extend_schema_field(OpenApiTypes.INT)
class WorkspaceField(ScopedPrimaryKeyField):
    pass


class ExportSerializer(serializers.Serializer):
    workspace = WorkspaceField(Workspace, help_text="The workspace to export (yours to own)")


class JobFilterSet(django_filters.FilterSet):
    class Meta:
        model = ArchiveJob
        fields = ["workspace", "kind", "state"]


class ArchiveJobViewSet(
    StrictListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Exports and imports of the workspaces you own, and the CSV exports you
    started. A job runs in the background: read it again until ``state`` is
    ``done`` (or ``failed``, with ``error``), then fetch ``download_url``."""

    serializer_class = ArchiveJobSerializer
    pagination_class = KeysetPagination
    filterset_class = JobFilterSet
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ArchiveJob.objects.none()
        user = self.request.user
        owned = Q(workspace__memberships__user=user, workspace__memberships__role=Role.OWNER) & ~Q(
            kind=ArchiveJob.Kind.ITEMS_CSV
        )
        mine = Q(kind=ArchiveJob.Kind.ITEMS_CSV, created_by=user)
        return ArchiveJob.objects.visible_to(user).filter(owned | mine).distinct()

    def get_object(self):
        return super().get_object().with_live_progress()

    @extend_schema(
        request=ExportSerializer,
        responses={202: ArchiveJobSerializer},
        summary="Start an export of a workspace you own",
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def export(self, request):
        serializer = ExportSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        workspace = serializer.validated_data["workspace"]
        job = services.start_export(request.user, workspace=workspace)
        job.refresh_from_db()
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        parameters=[
            OpenApiParameter(
                "name", str, description="The new workspace's name; default: the archive's"
            )
        ],
        responses={
            202: ArchiveJobSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="`file` or `name` messages"),
        },
        summary="Import an archive (the request body) into a new workspace you will own",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[ZipParser, OctetStreamParser],
        filter_backends=[],
        pagination_class=None,
    )
    def import_archive(self, request):
        unknown = set(request.query_params) - {"name"}
        if unknown:
            raise serializers.ValidationError({p: ["Unknown query parameter."] for p in unknown})
        upload = request.data.get("file") or request.FILES.get("file")
        try:
            return self._import(request, upload)
        finally:
            if upload is not None:
                upload.close()

    def _import(self, request, upload):
        if upload is None:
            raise serializers.ValidationError({"file": ["Send the archive as the request body."]})
        name = request.query_params.get("name", "")
        try:
            if not name:
                _zf, manifest = loading.open_archive(upload)
                name = (manifest.get("workspace") or {}).get("name") or "Imported workspace"
            job = services.import_into_new_workspace(request.user, name=name, upload=upload)
        except ArchiveError as e:
            raise serializers.ValidationError({"file": [str(e)]}) from None
        except ValidationError as e:
            raise serializers.ValidationError(e.message_dict) from None
        job.refresh_from_db()
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        summary="The job's file (a zip archive or a CSV) while its link lasts",
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def download(self, request, pk=None):
        job = self.get_object()
        if not job.is_downloadable:
            raise Http404("This job has no file, or its link expired.")
        try:
            f = default_storage.open(job.file_name, "rb")
        except FileNotFoundError:
            raise Http404("This file is gone: start a new export.") from None
        return FileResponse(f, as_attachment=True, filename=job.file_name.rsplit("/", 1)[-1])


def register(router) -> None:
    router.register("archive-jobs", ArchiveJobViewSet, basename="archive-job")
