"""REST API for the backlog. Thin: reads through QuerySet scopes, writes
through backlog.services."""

from types import SimpleNamespace

import django_filters
from django.db.models import Q
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from pmhub.api.views import IF_MATCH, IdFilter, UpdatedSinceFilterSet, VersionedViewSet

from .. import services
from ..models import Item, ItemType, ScoringModel, Status
from .keys import ITEM_KEY, key_filter
from .pagination import ItemKeysetPagination
from .serializers import (
    LIST_COLUMNS,
    ItemMoveSerializer,
    ItemSerializer,
    ScoringModelSerializer,
)


class StatusInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    pass


class ItemFilterSet(UpdatedSinceFilterSet):
    status = StatusInFilter(
        choices=Status.choices, help_text="One status, or several separated by commas"
    )
    type = django_filters.ChoiceFilter(choices=ItemType.choices)
    tag = django_filters.CharFilter(method="filter_tag", help_text="A tag name")
    objective = IdFilter(field_name="objectives", help_text="Items serving this objective (id)")
    q = django_filters.CharFilter(
        method="filter_text", help_text="Text in the title, key or description"
    )
    key = django_filters.CharFilter(
        method="filter_key", help_text="An item key such as PAY-42, or several separated by commas"
    )

    class Meta:
        model = Item
        fields = ["product", "status", "type", "tag", "objective", "owner", "parent", "q", "key"]

    def filter_key(self, queryset, name, value):
        """Items with one of these keys; a value that is no key matches
        nothing (as an id of another workspace does)."""
        keys = [k for k in value.split(",")[:100] if ITEM_KEY.fullmatch(k.strip())]
        return queryset.filter(key_filter(keys))

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__name=value.strip().lower())  # tags are stored lowercase

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(title__icontains=value) | Q(key__icontains=value) | Q(description__icontains=value)
        )


class ItemFilterBackend(DjangoFilterBackend):
    """django-filter, with a shortcut for the most common request of a sync
    client: no filter but ``product``, given as plain digits. That needs no
    FilterSet and no form (building them was a tenth of a page's time); it
    applies the very lookup the ``product`` IdFilter would. Anything else
    goes through the FilterSet, its validation and its 400s."""

    def filter_queryset(self, request, queryset, view):
        params = request.query_params
        filters = view.filterset_class.base_filters
        used = [name for name in params if name in filters]
        if not used:
            return queryset
        if used == ["product"] and len(params.getlist("product")) == 1:
            value = params.get("product")
            if value.isascii() and value.isdigit() and int(value) < 2**63:
                return queryset.filter(product=int(value))
        return super().filter_queryset(request, queryset, view)


EXPAND = OpenApiParameter(
    "expand",
    OpenApiTypes.STR,
    enum=["explanation"],
    description="`explanation`: each row with its `score_breakdown` (left out otherwise; "
    "a single item always has it)",
)


@extend_schema_view(
    retrieve=extend_schema(
        responses={
            200: ItemSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="A key that names items in several of your workspaces (`detail`)",
            ),
        }
    )
)
class ItemViewSet(VersionedViewSet):
    """Backlog items of your products. Create with `product` and `title`;
    a new item goes to the bottom of its backlog. Lists are keyset-paginated:
    follow `next` until it is null."""

    serializer_class = ItemSerializer
    filterset_class = ItemFilterSet
    filter_backends = [ItemFilterBackend]  # ordering belongs to the keyset pagination
    pagination_class = ItemKeysetPagination
    extra_query_params = ("expand",)
    # An item is addressed by its id or by its key: /items/89/ or /items/PAY-89/.
    lookup_value_regex = r"[0-9]+|[A-Za-z][A-Za-z0-9]*-[0-9]+"

    def get_object(self):
        value = self.kwargs[self.lookup_field]
        if value.isdigit():
            return super().get_object()
        return self._by_key(value)

    def _by_key(self, value):
        """The item with key ``value`` among those you can see. Keys are unique
        in a workspace; a personal token that reaches two workspaces with the
        same product key gets a 400 naming them, rather than a guess."""
        found = list(
            self.get_queryset().filter(key_filter([value])).select_related("product__workspace")[:3]
        )
        if not found:
            raise Http404
        if len(found) > 1:
            slugs = ", ".join(sorted(i.product.workspace.slug for i in found))
            message = f"{value.upper()} names items in several of your workspaces ({slugs})"
            raise ValidationError({"detail": f"{message}: use the item's id."})
        self.check_object_permissions(self.request, found[0])
        return found[0]

    def retrieve(self, request, *args, **kwargs):
        """One query: the item's list row (``ItemSerializer.list_rows``),
        written out as a list writes it."""
        value = self.kwargs[self.lookup_field]
        rows = ItemSerializer.list_rows().visible_to(request.user)
        if value.isdigit():
            found = list(rows.filter(pk=int(value))[:1]) if int(value) < 2**63 else []
        else:
            found = list(rows.filter(key_filter([value]))[:2])
            if len(found) > 1:
                self._by_key(value)  # raises the 400 that names the workspaces
        if not found:
            raise Http404
        data = ItemSerializer(context=self.get_serializer_context()).rows(found)[0]
        return self.conditional(request, Response(data), SimpleNamespace(version=data["version"]))

    def read_back(self, instance):
        # update_item returns the row as written (its columns, version and
        # score); the response adds tags, objectives and the active model.
        return instance

    def get_queryset(self):
        if self.action == "list":
            # A page is one query: rows as tuples of the item's columns, its
            # tag names and objective ids, and its product's active scoring
            # model, written out without model instances (ItemSerializer.rows).
            return ItemSerializer.list_rows().visible_to(self.request.user)
        # Writes check the role in the item's workspace.
        return Item.objects.visible_to(self.request.user).select_related("product__workspace")

    @extend_schema(parameters=[EXPAND])
    def list(self, request, *args, **kwargs):
        explain = self._expand_explanation(request)
        queryset = self.filter_queryset(self.get_queryset())
        paginator = self.paginator
        rows = paginator.paginate_queryset(queryset, request, view=self, columns=LIST_COLUMNS)
        data = ItemSerializer(context=self.get_serializer_context()).rows(rows, explain=explain)
        return paginator.get_paginated_response(data)

    @staticmethod
    def _expand_explanation(request) -> bool:
        values = request.query_params.getlist("expand")
        if not values:
            return False
        if values != ["explanation"]:
            raise ValidationError({"expand": ["The only expansion is “explanation”, given once."]})
        return True

    def create_object(self, serializer):
        return services.create_item(self.request.user, **serializer.validated_data)

    def update_object(self, obj, expected_version, fields):
        return services.update_item(
            self.request.user, item=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_item(self.request.user, item=obj, expected_version=expected_version)

    @extend_schema(
        request=ItemMoveSerializer,
        responses={
            200: ItemSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Bad neighbours: field messages for ids you cannot see, or "
                "`detail` for items of another product or not next to each other",
            ),
            409: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Too many moves into the same place at once: try again",
            ),
        },
    )
    @action(detail=True, methods=["post"], serializer_class=ItemMoveSerializer)
    def move(self, request, pk=None):
        """Put the item between two neighbours in the backlog's manual order.
        Writes one row, whatever the size of the backlog."""
        item = self.get_object()
        body = ItemMoveSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        # move_item returns the item with its new rank and updated_at: no read back.
        item = services.move_item(
            request.user,
            item=item,
            before=body.validated_data.get("before"),
            after=body.validated_data.get("after"),
        )
        data = ItemSerializer(item, context=self.get_serializer_context()).data
        return self.with_etag(Response(data), item)


def _scoring_model_filterset():
    meta = type("Meta", (), {"model": ScoringModel, "fields": ["product", "kind"]})
    return type("ScoringModelFilterSet", (UpdatedSinceFilterSet,), {"Meta": meta})


class ScoringModelViewSet(VersionedViewSet):
    """Saved ways of scoring a product's backlog; one per product is active.
    Changing the active model's framework or weights, or activating another
    model, rescores the backlog in the background."""

    serializer_class = ScoringModelSerializer
    filterset_class = _scoring_model_filterset()
    ordering_fields = [*VersionedViewSet.ordering_fields, "name"]

    def get_queryset(self):
        return ScoringModel.objects.visible_to(self.request.user).for_api()

    def create_object(self, serializer):
        return services.create_scoring_model(self.request.user, **serializer.validated_data)

    def update_object(self, obj, expected_version, fields):
        return services.update_scoring_model(
            self.request.user, model=obj, expected_version=expected_version, fields=fields
        )

    def delete_object(self, obj, expected_version):
        services.delete_scoring_model(
            self.request.user, model=obj, expected_version=expected_version
        )

    @extend_schema(
        parameters=[IF_MATCH],
        responses={
            204: None,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The product's active model: activate another one first",
            ),
        },
    )
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: ScoringModelSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """Make this the product's scoring model; the backlog is rescored in
        the background."""
        model = self.get_object()
        services.activate_scoring_model(request.user, product=model.product, model=model)
        model = self.get_queryset().get(pk=model.pk)
        return self.with_etag(Response(self.get_serializer(model).data), model)
