"""Serializers for items and scoring models. They parse and validate the
shape of input; every rule about the values lives in backlog.services."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pmhub.accounts.models import Membership
from pmhub.api.serializers import ScopedPrimaryKeyField, VersionedSerializer
from products.models import Objective, Product

from .. import scoring
from ..models import BacklogSettings, Item, ScoringKind, ScoringModel, Tag
from ..services import model_criteria

SCORING_INPUTS = [n for n in scoring.INPUTS if n not in ("effort", "demand")]


class WorkspaceMemberField(serializers.PrimaryKeyRelatedField):
    """A user who shares a workspace with the requester: users elsewhere are
    "not found", so ids do not reveal who exists."""

    def get_queryset(self):
        user = self.context["request"].user
        shared = Membership.objects.filter(workspace__memberships__user=user)
        return get_user_model().objects.filter(pk__in=shared.values("user_id"))


class TagNamesField(serializers.ListField):
    """Tag names; writing replaces the item's tags (unknown names are created)."""

    child = serializers.CharField(max_length=40)

    def to_representation(self, data):
        return [tag.name for tag in data.all()]


class ScoreTermSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    contribution = serializers.FloatField(
        required=False, help_text="Share of the score, 0..1 (WSJF and weighted models)"
    )
    weight = serializers.FloatField(required=False, help_text="Weighted models")
    range = serializers.CharField(required=False, help_text="Weighted models: the scale, min–max")
    higher_is_better = serializers.BooleanField(required=False, help_text="Weighted models")
    points = serializers.FloatField(required=False, help_text="Weighted models: points earned")
    effect = serializers.CharField(
        required=False, help_text="What this input does to the score, e.g. “÷ 4”"
    )


class ScoreBreakdownSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="Name of the product's active scoring model")
    kind = serializers.ChoiceField(choices=ScoringKind.choices)
    score = serializers.FloatField(allow_null=True)
    formula = serializers.CharField()
    worked = serializers.CharField(help_text="The formula with this item's numbers, or empty")
    terms = ScoreTermSerializer(many=True)
    missing = serializers.ListField(
        child=serializers.CharField(), help_text="Inputs the score needs that are not set"
    )
    recompute_pending = serializers.BooleanField(
        help_text="The backlog is being rescored after a model change: until it is done, "
        "`score` of the item may still be the one of the previous model or weights"
    )


class PageData:
    """What item rows need beyond their own columns, loaded once for all the
    items of a response: tag names and objective ids (one query each, on the
    join tables) and each product's active scoring model with its parsed
    criteria (one query). A page of 500 costs what a page of 1 does."""

    def __init__(self):
        self.models: dict[int, tuple[ScoringModel, list, bool] | None] = {}
        self.tags: dict[int, list[str]] = {}
        self.objectives: dict[int, list[int]] = {}
        self.tz = timezone.get_current_timezone()

    def load(self, items) -> None:
        ids = [item.pk for item in items if item.pk not in self.tags]
        if ids:
            for pk in ids:
                self.tags[pk], self.objectives[pk] = [], []
            # Plain SQL on the join tables: the ORM's compile time for these two
            # reads was most of a small page's cost.
            placeholders = ", ".join(["%s"] * len(ids))
            item_tags = Item.tags.through._meta.db_table
            tag = Tag._meta.db_table
            item_objectives = Item.objectives.through._meta.db_table
            objective = Objective._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT it.item_id, t.name FROM {item_tags} it "
                    f"JOIN {tag} t ON t.id = it.tag_id "
                    f"WHERE it.item_id IN ({placeholders}) ORDER BY t.name",
                    ids,
                )
                for pk, name in cursor.fetchall():
                    self.tags[pk].append(name)
                cursor.execute(
                    f"SELECT io.item_id, io.objective_id FROM {item_objectives} io "
                    f"JOIN {objective} o ON o.id = io.objective_id "
                    f"WHERE io.item_id IN ({placeholders}) ORDER BY o.position, o.id",
                    ids,
                )
                for pk, objective_id in cursor.fetchall():
                    self.objectives[pk].append(objective_id)
        products = {item.product_id for item in items} - set(self.models)
        if products:
            self.models.update(dict.fromkeys(products))
            rows = BacklogSettings.objects.filter(product_id__in=products).select_related(
                "active_model"
            )
            for row in rows:
                model = row.active_model
                if model is not None:
                    criteria = model_criteria(model)
                    self.models[row.product_id] = (model, criteria, row.recompute_pending)

    def explain(self, item: Item) -> dict | None:
        active = self.models[item.product_id]
        if active is None:
            return None
        model, criteria, pending = active
        values = {name: getattr(item, name) for name in scoring.INPUTS}
        for criterion in criteria:
            if criterion.custom_field_id is not None:
                values[criterion.source] = item.custom.get(str(criterion.custom_field_id))
        e = scoring.explain(model.kind, criteria, values)
        return {
            "model": model.name,
            "kind": model.kind,
            "score": e.score,
            "formula": e.formula,
            "worked": e.worked,
            "terms": e.terms,
            "missing": e.missing,
            "recompute_pending": pending,
        }


class ItemListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        self.child.page_data().load(items)
        return [self.child.to_representation(item) for item in items]


def _iso(value: dt.datetime, tz) -> str:
    """DRF's ISO 8601 datetime output (the current time zone, "Z" for UTC)."""
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class ItemSerializer(VersionedSerializer):
    url = serializers.SerializerMethodField(help_text="This item in the API")
    product = ScopedPrimaryKeyField(Product)
    parent = ScopedPrimaryKeyField(Item, allow_null=True, required=False)
    objectives = ScopedPrimaryKeyField(Objective, many=True, required=False)
    tags = TagNamesField(required=False)
    owner = WorkspaceMemberField(allow_null=True, required=False)
    custom = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Custom field id → value. Writing replaces all of the item's custom values.",
    )
    score = serializers.FloatField(read_only=True, allow_null=True)
    score_breakdown = serializers.SerializerMethodField(
        help_text="Why the score is what it is, by the product's active model"
    )

    class Meta:
        model = Item
        list_serializer_class = ItemListSerializer
        fields = [
            "id",
            "key",
            "url",
            "product",
            "type",
            "title",
            "description",
            "status",
            "status_reason",
            "parent",
            "objectives",
            "tags",
            "owner",
            "effort",
            "external_url",
            "external_key",
            *SCORING_INPUTS,
            "demand",
            "custom",
            "score",
            "score_breakdown",
            "rank",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["key", "demand", "rank"]
        create_only = ["product"]

    def page_data(self) -> PageData:
        # Shared by every row of a response (the ListSerializer's context is the child's).
        data = self.context.get("item_page_data")
        if data is None:
            data = self.context["item_page_data"] = PageData()
        return data

    def url_prefix(self) -> str:
        prefix = self.context.get("item_url_prefix")
        if prefix is None:
            path = reverse("item-detail", args=["0"]).removesuffix("0/")
            request = self.context.get("request")
            prefix = request.build_absolute_uri(path) if request else path
            self.context["item_url_prefix"] = prefix
        return prefix

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, item) -> str:
        return f"{self.url_prefix()}{item.pk}/"

    @extend_schema_field(ScoreBreakdownSerializer(allow_null=True))
    def get_score_breakdown(self, item):
        data = self.page_data()
        data.load([item])
        return data.explain(item)

    def to_representation(self, item):
        """A row, written out: the generic field-by-field path costs several
        times more on a page of 500. The field declarations still drive input
        and the schema; a test keeps both paths equal."""
        data = self.page_data()
        data.load([item])
        row = {
            "id": item.pk,
            "key": item.key,
            "url": f"{self.url_prefix()}{item.pk}/",
            "product": item.product_id,
            "type": item.type,
            "title": item.title,
            "description": item.description,
            "status": item.status,
            "status_reason": item.status_reason,
            "parent": item.parent_id,
            "objectives": data.objectives[item.pk],
            "tags": data.tags[item.pk],
            "owner": item.owner_id,
            "effort": item.effort,
            "external_url": item.external_url,
            "external_key": item.external_key,
        }
        for name in SCORING_INPUTS:
            row[name] = getattr(item, name)
        row["demand"] = item.demand
        row["custom"] = item.custom
        row["score"] = item.score
        row["score_breakdown"] = data.explain(item)
        row["rank"] = item.rank
        row["version"] = item.version
        row["created_at"] = _iso(item.created_at, data.tz)
        row["updated_at"] = _iso(item.updated_at, data.tz)
        return row

    def to_representation_generic(self, item):
        """DRF's field-by-field representation, which ``to_representation``
        must equal."""
        return super().to_representation(item)


@extend_schema_field(OpenApiTypes.INT)
class ItemIdField(ScopedPrimaryKeyField):
    """The id of an item you can see."""

    def __init__(self, **kwargs):
        super().__init__(Item, **kwargs)


class ItemMoveSerializer(serializers.Serializer):
    """Where to put the item: ``after`` is the item that ends up directly
    above it, ``before`` the one directly below. Only ``after``: just below
    it; only ``before``: just above it; neither: the bottom of the backlog."""

    before = ItemIdField(
        allow_null=True, required=False, help_text="The item that will be directly below"
    )
    after = ItemIdField(
        allow_null=True, required=False, help_text="The item that will be directly above"
    )


class CriterionSerializer(serializers.Serializer):
    name = serializers.CharField()
    source = serializers.CharField(
        help_text=f"An input ({', '.join(scoring.INPUTS)}) or cf:<number custom field id>"
    )
    weight = serializers.FloatField(help_text="Above 0")
    min = serializers.FloatField(default=0)
    max = serializers.FloatField(default=10)
    higher_is_better = serializers.BooleanField(default=True)


@extend_schema_field(CriterionSerializer(many=True))
class CriteriaField(serializers.JSONField):
    """A weighted model's criteria (validated by the service)."""


class ScoringModelSerializer(VersionedSerializer):
    product = ScopedPrimaryKeyField(Product)
    criteria = CriteriaField(required=False, help_text="Weighted models only; others ignore it")
    is_active = serializers.BooleanField(
        read_only=True, help_text="Whether this is the product's scoring model"
    )

    class Meta:
        model = ScoringModel
        fields = [
            "id",
            "product",
            "name",
            "kind",
            "criteria",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["product"]
        # The service checks name uniqueness with a `name` message.
        validators = []
