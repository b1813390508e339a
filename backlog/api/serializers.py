"""Serializers for items and scoring models. They parse and validate the
shape of input; every rule about the values lives in backlog.services."""

import datetime as dt
import functools
import json

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F, TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pmhub.accounts.models import Membership
from pmhub.api.serializers import ScopedPrimaryKeyField, VersionedSerializer
from products.models import Objective, Product

from .. import scoring
from ..expressions import ObjectiveIds, TagNames
from ..models import BacklogSettings, Item, ScoringKind, ScoringModel, Tag
from ..services import model_criteria
from .keys import ITEM_KEY, key_filter

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


class ActiveModel:
    """A product's active scoring model as a row's ``score_breakdown`` needs
    it: name, framework, parsed criteria, whether a rescore is pending, and
    where in a row (``ROW_COLUMNS``) the inputs it reads are."""

    __slots__ = ("criteria", "custom_sources", "inputs", "kind", "name", "pending", "reach_demand")

    def __init__(
        self, name: str, kind: str, criteria: list, pending: bool, reach_demand: bool = False
    ):
        self.name, self.kind, self.criteria, self.pending = name, kind, criteria, pending
        self.reach_demand = bool(reach_demand) and kind == ScoringKind.RICE
        self.custom_sources = [
            (c.source, str(c.custom_field_id)) for c in criteria if c.custom_field_id is not None
        ]
        needed = (
            [c.source for c in criteria if c.source in scoring.INPUTS]
            if kind == ScoringKind.WEIGHTED
            else scoring.FRAMEWORK_INPUTS[kind]
        )
        if self.reach_demand:
            needed = (*needed, "demand")
        self.inputs = [(name, ROW_COLUMNS.index(name)) for name in dict.fromkeys(needed)]

    def explain(self, row: tuple, custom: dict) -> dict:
        """The breakdown for a row of ``ROW_COLUMNS`` (``custom`` is its custom values)."""
        values = {name: row[n] for name, n in self.inputs}
        for source, key in self.custom_sources:
            values[source] = custom.get(key)
        e = scoring.explain(self.kind, self.criteria, values, reach_from_demand=self.reach_demand)
        return {
            "model": self.name,
            "kind": self.kind,
            "score": e.score,
            "formula": e.formula,
            "worked": e.worked,
            "terms": e.terms,
            "missing": e.missing,
            "recompute_pending": self.pending,
        }


class PageData:
    """What item rows read from model instances need beyond their own
    columns, loaded once for all the items of a response: tag names and
    objective ids (one query each, on the join tables) and each product's
    active scoring model with its parsed criteria (one query). Lists do not
    use it: their rows carry all of this (``ItemSerializer.list_rows``)."""

    def __init__(self):
        self.models: dict[int, ActiveModel | None] = {}
        self.tags: dict[int, list[str]] = {}
        self.objectives: dict[int, list[int]] = {}

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
                    self.models[row.product_id] = ActiveModel(
                        model.name,
                        model.kind,
                        model_criteria(model),
                        row.recompute_pending,
                        model.reach_from_demand,
                    )


class ItemListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        self.child.page_data().load(items)
        return [self.child.to_representation(item) for item in items]


def _iso(value: dt.datetime, tz) -> str:
    """DRF's ISO 8601 datetime output (the current time zone, "Z" for UTC)."""
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _iso_writer(tz):
    """``_iso`` for one time zone. In UTC, a UTC value (as databases hand
    them over) needs no conversion: a third of a 500-row page's writing."""
    if tz is not dt.UTC and getattr(tz, "key", None) != "UTC":
        return lambda value: _iso(value, tz)

    def iso(value):
        if value.tzinfo is dt.UTC:
            return value.isoformat()[:-6] + "Z"
        return _iso(value, tz)

    return iso


# An item's own columns, in the order rows are written out.
ROW_COLUMNS = (
    "id",
    "key",
    "product_id",
    "type",
    "title",
    "description",
    "status",
    "status_reason",
    "parent_id",
    "owner_id",
    "effort",
    "external_url",
    "external_key",
    *SCORING_INPUTS,
    "demand",
    "custom",
    "score",
    "rank",
    "version",
    "created_at",
    "updated_at",
)
_N = len(ROW_COLUMNS)
# A list row: the item's columns, its tags and objectives, and its product's
# active scoring model (LEFT JOINs to the backlog settings and the model).
_MODEL = "product__backlog__active_model"
LIST_COLUMNS = (
    # custom values as text, parsed while writing the row: no converter runs
    # per row on PostgreSQL (Django's JSONField one, and ListColumn's, are
    # all a page of 500 would otherwise call per row)
    *("custom_text" if name == "custom" else name for name in ROW_COLUMNS),
    "tag_names",
    "objective_ids",
    "active_model_id",
    "active_model_name",
    "active_model_kind",
    "active_model_criteria",
    "active_model_reach_from_demand",
    "score_generation",
    "scored_generation",
)
LIST_ANNOTATIONS = {
    "custom_text": lambda: Cast("custom", TextField()),
    "tag_names": TagNames,
    "objective_ids": ObjectiveIds,
    "active_model_id": lambda: F(f"{_MODEL}__id"),
    "active_model_name": lambda: F(f"{_MODEL}__name"),
    "active_model_kind": lambda: F(f"{_MODEL}__kind"),
    # As text: parsed once per model, not once per row.
    "active_model_criteria": lambda: Cast(f"{_MODEL}__criteria", TextField()),
    "active_model_reach_from_demand": lambda: F(f"{_MODEL}__reach_from_demand"),
    "score_generation": lambda: F("product__backlog__score_generation"),
    "scored_generation": lambda: F("product__backlog__scored_generation"),
}


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
        # A list row has it only with ?expand=explanation (a single item always).
        optional_in_response = ["score_breakdown"]

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
        active = data.models[item.product_id]
        if active is None:
            return None
        return active.explain(tuple(getattr(item, name) for name in ROW_COLUMNS), item.custom)

    def to_representation(self, item):
        """A row, written out: the generic field-by-field path costs several
        times more on a page of 500. The field declarations still drive input
        and the schema; a test keeps both paths equal."""
        data = self.page_data()
        data.load([item])
        pk = item.pk
        values = tuple(getattr(item, name) for name in ROW_COLUMNS)
        active = data.models[item.product_id]
        return self._write_row(
            values, data.tags[pk], data.objectives[pk], active, self.url_prefix(), self._iso()
        )

    def _iso(self):
        iso = self.context.get("item_iso")
        if iso is None:
            iso = self.context["item_iso"] = _iso_writer(timezone.get_current_timezone())
        return iso

    @staticmethod
    @functools.cache
    def list_rows():
        """Items as list rows: tuples of ``LIST_COLUMNS``, each with all that
        ``rows`` writes out, read in the one query that reads the page.

        Built once per process (the annotations cost more to build than the
        query costs to run): a QuerySet that is never evaluated, only cloned
        by the filters applied to it (``Item.objects.visible_to`` first)."""
        annotations = {name: make() for name, make in LIST_ANNOTATIONS.items()}
        return Item.objects.annotate(**annotations).values_list(*LIST_COLUMNS)

    def rows(self, rows, *, explain: bool = True) -> list[dict]:
        """Write out rows of ``list_rows`` (what ``to_representation`` writes
        for an instance, without the instance). ``explain=False`` leaves out
        ``score_breakdown``: explaining a score was half of a 500-row page's
        writing, so lists explain only when asked (``?expand=explanation``)."""
        models: dict[tuple, ActiveModel] = {}
        write = self._write_row
        prefix, iso = self.url_prefix(), self._iso()
        n = _N
        out = []
        if not explain:
            for r in rows:
                row = write(r, r[n], r[n + 1], None, prefix, iso)
                del row["score_breakdown"]
                out.append(row)
            return out
        for r in rows:
            model = r[n + 2 :]
            if model[0] is None:
                active = None
            else:
                active = models.get(model)
                if active is None:
                    _, name, kind, criteria, reach_demand, generation, scored = model
                    parsed = model_criteria(ScoringModel(kind=kind, criteria=json.loads(criteria)))
                    active = models[model] = ActiveModel(
                        name, kind, parsed, scored < generation, reach_demand
                    )
            out.append(write(r, r[n], r[n + 1], active, prefix, iso))
        return out

    @staticmethod
    def _write_row(r, tags, objectives, active: ActiveModel | None, prefix: str, iso) -> dict:
        (
            pk,
            key,
            product,
            type_,
            title,
            description,
            status,
            status_reason,
            parent,
            owner,
            effort,
            external_url,
            external_key,
            reach,
            impact,
            confidence,
            ease,
            value,
            business_value,
            time_criticality,
            risk_reduction,
            job_size,
            demand,
            custom,
            score,
            rank,
            version,
            created_at,
            updated_at,
        ) = r[:_N]  # a ValueError, not a silent shift, if ROW_COLUMNS changes
        if type(custom) is str:  # a list row
            # Most items have no custom values: no decoder run for those.
            custom = {} if custom == "{}" else json.loads(custom)
        breakdown = None if active is None else active.explain(r, custom)
        return {
            "id": pk,
            "key": key,
            "url": f"{prefix}{pk}/",
            "product": product,
            "type": type_,
            "title": title,
            "description": description,
            "status": status,
            "status_reason": status_reason,
            "parent": parent,
            "objectives": objectives,
            "tags": tags,
            "owner": owner,
            "effort": effort,
            "external_url": external_url,
            "external_key": external_key,
            "reach": reach,
            "impact": impact,
            "confidence": confidence,
            "ease": ease,
            "value": value,
            "business_value": business_value,
            "time_criticality": time_criticality,
            "risk_reduction": risk_reduction,
            "job_size": job_size,
            "demand": demand,
            "custom": custom,
            "score": score,
            "score_breakdown": breakdown,
            "rank": rank,
            "version": version,
            "created_at": iso(created_at),
            "updated_at": iso(updated_at),
        }

    def to_representation_generic(self, item):
        """DRF's field-by-field representation, which ``to_representation``
        must equal."""
        return super().to_representation(item)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer"},
            {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9]*-[0-9]{1,9}$"},
        ],
        "description": "An item's id, or its key such as PAY-42",
    }
)
class ItemIdField(ScopedPrimaryKeyField):
    """The id or the key (``PAY-42``) of an item you can see."""

    def __init__(self, **kwargs):
        super().__init__(Item, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and ITEM_KEY.fullmatch(data.strip()):
            found = list(self.get_queryset().filter(key_filter([data]))[:2])
            if len(found) == 1:
                return found[0]
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


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
    """A weighted model's criteria: each checked against the schema's shape
    here (a list of criteria, whatever the kind, as the schema says), and
    for what they mean (inputs, custom fields, weights) by the service."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        shape = CriterionSerializer(data=value, many=True)
        if not shape.is_valid():
            raise serializers.ValidationError(shape.errors)
        return value


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
            "reach_from_demand",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        ]
        create_only = ["product"]
        # The service checks name uniqueness with a `name` message.
        validators = []
