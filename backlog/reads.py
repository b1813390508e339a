"""Screen-shaped reads of the backlog: the table's rows (one query a page),
and the score explanations written beside them."""

from . import scoring
from .expressions import ObjectiveTitles, TagNames
from .models import BacklogSettings, Item


class ScoreExplainer:
    """Explains scores of many items with one scoring model loaded once."""

    def __init__(self, product, settings_row=None):
        self.settings = settings_row or BacklogSettings.objects.of(product)
        self.model = self.settings.active_model
        self.criteria = self.model.parsed_criteria() if self.model else []
        # The custom values the model reads ("cf:<key>" sources); most read none.
        self.custom_sources = [
            (c.source, c.source[3:]) for c in self.criteria if c.source.startswith("cf:")
        ]

    def values(self, item) -> dict:
        """What the model may read: the item's inputs, and the custom values it reads."""
        values = {name: getattr(item, name) for name in scoring.INPUTS}
        if self.custom_sources:
            custom = item.custom or {}
            for source, key in self.custom_sources:
                values[source] = custom.get(key)
        return values

    def explain(self, item) -> scoring.Explanation | None:
        if self.model is None:
            return None
        return scoring.explain(
            self.model.kind,
            self.criteria,
            self.values(item),
            reach_from_demand=self.model.reach_from_demand,
        )


# What a table row reads from the database (backlog/_row.html shows it).
TABLE_FIELDS = tuple(
    dict.fromkeys(
        [
            "id",
            "number",
            "key",
            "title",
            "type",
            "status",
            "score",
            "rank",
            "updated_at",
            "custom",
            *scoring.INPUTS,
            "parent_id",
            "parent__key",
            "parent__title",
            "owner_id",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        ]
    )
)


class TableRow:
    """A row of the table read with ``.values()`` (no model instances: they
    were most of the cost of reading a page), with the attributes that the
    row writers, ScoreExplainer and the page's cursor read from an Item."""

    def __init__(self, values: dict):
        self.__dict__ = values

    @property
    def pk(self):
        return self.id


def table_rows(product):
    """The backlog table's rows as ``.values()``: the item's columns, its
    owner's and parent's (joins), its tag names and objective titles (one
    column each, see RowList). A page is one query; wrap each in TableRow."""
    return Item.objects.filter(product=product).values(
        *TABLE_FIELDS, tag_names=TagNames(), objective_titles=ObjectiveTitles()
    )
