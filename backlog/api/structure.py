"""REST API of a backlog's structure: custom fields and saved views.
Thin: reads scoped to your workspaces, writes through backlog.services."""

from rest_framework import serializers

from pmhub.api.pagination import KeysetPagination
from pmhub.api.serializers import ScopedPrimaryKeyField
from pmhub.api.views import SimpleResourceViewSet, parent_filterset
from products.models import Product

from .. import services
from ..models import CustomField, FieldKind, SavedView


class CustomFieldSerializer(serializers.ModelSerializer):
    product = ScopedPrimaryKeyField(Product)
    kind = serializers.ChoiceField(choices=FieldKind.choices)
    options = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=100,
        help_text="The choices of a single select",
    )
    key = serializers.CharField(
        source="json_key", read_only=True, help_text="Its key in an item's `custom` object"
    )

    class Meta:
        model = CustomField
        fields = [
            *("id", "product", "name", "key", "kind", "options"),
            *("min_value", "max_value", "position"),
        ]
        read_only_fields = ["position"]
        validators = []  # the service checks uniqueness, with a field message


class CustomFieldViewSet(SimpleResourceViewSet):
    """A product's custom fields (text, number, date, single select). Values
    live on items, in their `custom` object. Deleting a field a weighted
    scoring model uses is refused."""

    serializer_class = CustomFieldSerializer
    filterset_class = parent_filterset(CustomField, "product")
    pagination_class = KeysetPagination

    def get_queryset(self):
        products = Product.objects.visible_to(self.request.user)
        return CustomField.objects.filter(product__in=products).select_related("product__workspace")

    def create_object(self, data):
        return services.create_custom_field(self.request.user, **data)

    def delete_object(self, obj):
        services.delete_custom_field(self.request.user, field=obj)


class SavedViewSerializer(serializers.ModelSerializer):
    product = ScopedPrimaryKeyField(Product)
    query = serializers.CharField(
        max_length=1000,
        allow_blank=True,
        required=False,
        help_text="The backlog query string (filters, sort), e.g. `status=now&sort=-score`",
    )

    class Meta:
        model = SavedView
        fields = ["id", "product", "name", "query", "created_by", "created_at"]
        read_only_fields = ["created_by", "created_at"]
        validators = []  # the service checks uniqueness, with a field message


class SavedViewViewSet(SimpleResourceViewSet):
    """Named backlog filters, shared with the product's team. Saving under an
    existing name replaces that view (someone else's takes an editor)."""

    serializer_class = SavedViewSerializer
    filterset_class = parent_filterset(SavedView, "product")
    pagination_class = KeysetPagination

    def get_queryset(self):
        products = Product.objects.visible_to(self.request.user)
        return SavedView.objects.filter(product__in=products).select_related("product__workspace")

    def create_object(self, data):
        return services.save_view(self.request.user, **{"query": "", **data})

    def delete_object(self, obj):
        services.delete_view(self.request.user, view=obj)
