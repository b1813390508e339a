"""Shared DRF building blocks: versioned resources with ETag / If-Match."""

import hashlib
import json
from datetime import UTC

import django_filters
from django import forms
from django.db import models
from django.utils.http import quote_etag
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from pmhub.versioning import parse_etag

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you read; a stale one gets 412 and changes nothing.",
)


def representation_etag(instance, data) -> str:
    """The ETag of a representation: ``"<version>.<digest>"``. The digest is
    of the body itself, so the validator changes whenever anything the client
    sees changes, bumped version or not (a move changes ``rank``, a recompute
    ``score``, an item's edit the entries that show it, datapoints a review).
    Write checks stay on the version: ``If-Match`` reads the number before the
    dot (``parse_etag``), so a reorder never conflicts with an edit."""
    body = json.dumps(data, cls=JSONEncoder, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return f'"{instance.version}.{digest}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, a
    list of tags, or ``*``)."""
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


class IdFilter(django_filters.NumberFilter):
    """Filter on a foreign key by id. An id that matches nothing you can see
    gives an empty page: ModelChoiceFilter's 400 "not a valid choice" told ids
    of other workspaces apart from ids that do not exist, and answered a
    schema-valid integer with an undocumented 400."""

    field_class = forms.IntegerField

    def filter(self, qs, value):
        if value is not None and not -(2**63) <= value < 2**63:
            return qs.none()  # no row has it; SQLite would raise OverflowError
        return super().filter(qs, value)


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    """``updated_at >= value``, compared in UTC. ISO 8601 allows offsets that
    PostgreSQL refuses (beyond ±15:59: a 500), and near year 1 or 9999 the
    conversion to UTC overflows (a 500 on SQLite)."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                # Before year 1 in UTC: everything changed since; after 9999: nothing.
                return qs if value.year == 1 else qs.none()
        return super().filter(qs, value)


class UpdatedSinceFilterSet(django_filters.FilterSet):
    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
    }

    updated_since = UpdatedSinceFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="Only objects changed at or after this ISO 8601 time (incremental sync)",
    )

    def is_valid(self):
        """Each filter given at most once (a repeated one, ``?status=a&status=b``,
        would otherwise apply only its last value, silently), and a filter of a
        number, a choice or a time not empty (``?stage=`` or ``?updated_since=``
        filtered nothing: a sync client with a lost timestamp must hear of it).
        Text filters may be empty: the empty text matches everything."""
        valid = super().is_valid()
        getlist = getattr(self.data, "getlist", None)
        if getlist is None:
            return valid
        for name, field in self.form.fields.items():
            values = getlist(name)
            if len(values) > 1:
                self.form.add_error(name, "Give this filter once (several values: see the docs).")
            elif values and not values[0].strip() and not isinstance(field, forms.CharField):
                self.form.add_error(name, "Give a value, or leave this filter out.")
        return valid and not self.form.errors


def filterset_for(model, *fields, **filters):
    """A ``UpdatedSinceFilterSet`` for ``model`` on ``fields`` (plus explicit
    ``filters``): foreign keys filter by id, ``updated_since`` included."""
    meta = type("Meta", (), {"model": model, "fields": list(fields)})
    return type(f"{model.__name__}FilterSet", (UpdatedSinceFilterSet,), {"Meta": meta, **filters})


# Query parameters every list understands besides its filters: the
# pagination's and DRF's format suffix.
LIST_PARAMS = frozenset({"cursor", "page_size", "ordering", "format"})


def check_list_params(view, request) -> None:
    """A list answers 400 for a query parameter it does not know: a typo such
    as ``?stauts=done`` or ``?key=`` on a list without that filter used to be
    ignored silently, and the client took the unfiltered page for an answer.
    Detail routes ignore query parameters (documented in docs/api.md)."""
    known = set(LIST_PARAMS) | set(getattr(view, "extra_query_params", ()))
    filterset = getattr(view, "filterset_class", None)
    if filterset is not None:
        known |= set(filterset.base_filters)
    known |= set(getattr(view, "filterset_fields", None) or ())
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        allowed = ", ".join(sorted(known))
        raise ValidationError(
            {name: [f"Unknown query parameter. This list takes: {allowed}."] for name in unknown}
        )


class StrictListMixin:
    """Lists refuse unknown query parameters (``check_list_params``)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.action == "list":
            check_list_params(self, request)


class VersionedViewSet(StrictListMixin, viewsets.ModelViewSet):
    """CRUD where writes go through services and honour ``If-Match``.

    Subclasses implement ``create_object(serializer)``, ``update_object(obj,
    expected_version, fields)`` and ``delete_object(obj, expected_version)``.
    """

    ordering_fields = ["id", "created_at", "updated_at"]
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]

    def expected_version(self, instance) -> int | None:
        """The version If-Match names; None (the version just read) without the
        header or for ``*``, which matches any current version (RFC 9110)."""
        header = self.request.headers.get("If-Match")
        if header is not None and header.strip() == "*":
            return None
        return parse_etag(header)

    def with_etag(self, response: Response, instance) -> Response:
        if response.data is None:
            response["ETag"] = quote_etag(str(instance.version))
        else:
            response["ETag"] = representation_etag(instance, response.data)
        return response

    def read_back(self, instance):
        """The object as a write left it, for the response: read again through
        ``get_queryset()`` (annotations, prefetches). A viewset whose service
        returns the row as written overrides this to skip the read."""
        return self.get_queryset().get(pk=instance.pk)

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        return self.conditional(request, Response(self.get_serializer(instance).data), instance)

    def conditional(self, request, response: Response, instance) -> Response:
        """``response`` with its ETag, or 304 when ``If-None-Match`` names it."""
        response = self.with_etag(response, instance)
        if etag_matches(request.headers.get("If-None-Match"), response["ETag"]):
            not_modified = Response(status=status.HTTP_304_NOT_MODIFIED)
            not_modified["ETag"] = response["ETag"]
            return not_modified
        return response

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.create_object(serializer)
        instance = self.get_queryset().get(pk=instance.pk)
        data = self.get_serializer(instance).data
        return self.with_etag(Response(data, status=status.HTTP_201_CREATED), instance)

    @extend_schema(parameters=[IF_MATCH])
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        written = self.update_object(
            instance, self.expected_version(instance), dict(serializer.validated_data)
        )
        instance = self.read_back(instance if written is None else written)
        return self.with_etag(Response(self.get_serializer(instance).data), instance)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    @extend_schema(parameters=[IF_MATCH])
    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        self.delete_object(instance, self.expected_version(instance))
        return Response(status=status.HTTP_204_NO_CONTENT)


def not_found(request, exception=None):
    """404 handler: JSON under /api/ (clients parse it), the HTML page elsewhere.

    DRF's own views answer 404 in JSON; this covers paths that match no URL
    pattern at all, such as ``/api/v1/products/0.5/``."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


class ParentFilterSet(django_filters.FilterSet):
    """Filters of a small resource that has no ``updated_at``: by the id of
    its parent (``product``, ``roadmap``, ``workspace``)."""

    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
    }


def parent_filterset(model, *fields):
    meta = type("Meta", (), {"model": model, "fields": list(fields)})
    return type(f"{model.__name__}FilterSet", (ParentFilterSet,), {"Meta": meta})


class SimpleResourceViewSet(
    StrictListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create and delete, without versions (a name, a link between
    two objects): creating goes through ``create_object(data)`` and deleting
    through ``delete_object(obj)``, both services."""

    http_method_names = ["get", "post", "delete", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def perform_create(self, serializer):
        serializer.instance = self.create_object(serializer.validated_data)

    def perform_destroy(self, instance):
        self.delete_object(instance)
