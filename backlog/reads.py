"""Screen-shaped reads of the backlog: the table's rows (one query a page)
and the score explanations written beside them, the product with the lists
its filters show, the value × effort chart, two models' rankings side by
side, an item's history."""

from pmhub.accounts.models import Membership, User
from pmhub.activity import reads as activity_reads
from pmhub.activity.models import Event
from products.models import Objective, Product

from . import history as history_lines
from . import scoring
from .expressions import JsonRows, ObjectiveTitles, TagNames
from .models import BacklogSettings, CustomField, FieldKind, Item, SavedView, Tag

ITEM_TYPE = "backlog.item"
# Not in an item's history: moves (the manual order shows them) and
# rescoring (the score history explains every score with its cause).
HISTORY_HIDDEN = ("item.moved", "item.score_changed")


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


# --- the page around the rows ----------------------------------------------------------------


def page_lists() -> dict:
    """What the page's filters, bulk-edit bar and saved views list, as
    annotations of the product (see JsonRows), in the orders of the models."""
    membership = Membership._meta.db_table
    return {
        "objective_list": JsonRows(
            "pk",
            model=Objective,
            columns=("id", "title"),
            where="x.product_id = %(outer)s",
            order="x.position, x.id",
        ),
        "tag_list": JsonRows(
            "pk", model=Tag, columns=("name",), where="x.product_id = %(outer)s", order="x.name"
        ),
        "saved_view_list": JsonRows(
            "pk",
            model=SavedView,
            columns=("id", "name", "query"),
            where="x.product_id = %(outer)s",
            order="x.name",
        ),
        "member_list": JsonRows(
            "workspace_id",
            model=User,
            columns=("id", "username", "first_name", "last_name"),
            join=f"JOIN {membership} m ON m.user_id = x.id",
            where="m.workspace_id = %(outer)s",
            order="x.username",
        ),
    }


def backlog_products(*, lists: bool):
    """Products with their backlog settings and active scoring model and,
    with ``lists``, the lists the backlog page's filters show (page_lists):
    the page's product in one query."""
    products = Product.objects.select_related("backlog__active_model")
    return products.annotate(**page_lists()) if lists else products


def value_effort_chart(qs, limit: int = 400) -> dict:
    """Value versus effort: a server-rendered SVG scatter with four quadrants."""
    points = list(
        qs.filter(value__isnull=False, effort__isnull=False)
        .order_by("rank")
        .values("pk", "number", "key", "title", "value", "effort", "status")[:limit]
    )
    unplotted = (
        qs.filter(value__isnull=True).count()
        + qs.filter(value__isnull=False, effort__isnull=True).count()
    )
    max_effort = max([p["effort"] for p in points] + [1.0])
    width, height, pad = 640, 420, 40
    mid_effort = max_effort / 2
    for p in points:
        # A small deterministic jitter keeps items with equal numbers visible.
        jx, jy = ((p["pk"] * 7919) % 11) - 5, ((p["pk"] * 104729) % 11) - 5
        p["x"] = round(pad + (p["effort"] / max_effort) * (width - 2 * pad) + jx, 1)
        p["y"] = round(height - pad - (p["value"] / 10) * (height - 2 * pad) + jy, 1)
        high_value = p["value"] >= 5
        low_effort = p["effort"] <= mid_effort
        p["quadrant"] = {
            (True, True): "Quick win",
            (True, False): "Big bet",
            (False, True): "Fill-in",
            (False, False): "Money pit",
        }[(high_value, low_effort)]
    counts = {
        q: sum(1 for p in points if p["quadrant"] == q)
        for q in ("Quick win", "Big bet", "Fill-in", "Money pit")
    }
    mid_x, mid_y = width / 2, height / 2
    w, h = mid_x - pad, mid_y - pad
    quads = [
        {"css": "q-quick", "x": pad, "y": pad, "label": f"Quick wins ({counts['Quick win']})"},
        {"css": "q-bet", "x": mid_x, "y": pad, "label": f"Big bets ({counts['Big bet']})"},
        {"css": "q-fill", "x": pad, "y": mid_y, "label": f"Fill-ins ({counts['Fill-in']})"},
        {"css": "q-pit", "x": mid_x, "y": mid_y, "label": f"Money pits ({counts['Money pit']})"},
    ]
    for q in quads:
        q.update(w=w, h=h, tx=q["x"] + 8, ty=q["y"] + 18)
    return {
        "points": points,
        "unplotted": unplotted,
        "width": width,
        "height": height,
        "mid_x": mid_x,
        "mid_y": mid_y,
        "axis_y": height - 10,
        "max_effort": max_effort,
        "quads": quads,
    }


# --- scoring and history ---------------------------------------------------------------------


def score_sources(product) -> list[tuple[str, str]]:
    """What a weighted criterion can read: the built-in inputs and the number fields."""
    sources = [(name, spec.label) for name, spec in scoring.INPUTS.items()]
    sources += [
        (f"cf:{f.pk}", f"{f.name} (custom field)")
        for f in CustomField.objects.filter(product=product, kind=FieldKind.NUMBER)
    ]
    return sources


def compare_models(product, a, b, limit: int = 30) -> dict:
    """The open backlog ranked by two models side by side; who moves up or down."""
    rows = scoring.compare_rankings(
        list(
            Item.objects.filter(product=product)
            .open()
            .scored_by(score_a=a, score_b=b)
            .values("pk", "key", "title", "number", "score_a", "score_b")
        )
    )
    return {
        "a": a,
        "b": b,
        "rows": rows[:limit],
        "total": len(rows),
        "unscored_a": sum(1 for r in rows if r["score_a"] is None),
        "unscored_b": sum(1 for r in rows if r["score_b"] is None),
    }


def item_changes(item, limit: int = 50) -> list[dict]:
    """The item's history, read from the event log: its own events and those
    of what belongs to it (its insights, its hypothesis), newest first; an
    item's own changes in the page's words, the others in one line. Moves
    and rescoring are left out (the order and the score history show them)."""
    events = list(
        Event.objects.filter(workspace_id=item.product.workspace_id)
        .for_object(item)
        .exclude(verb__in=HISTORY_HIDDEN)
        .select_related("actor_user")[:limit]
    )
    own = [e for e in events if e.object_type == ITEM_TYPE and e.object_id == item.pk]
    lines = history_lines.describe([history_lines.triples(e.changes) for e in own], item.product)
    shown = dict(zip((e.id for e in own), lines, strict=True))
    return [
        {
            "event": event,
            "own": event.id in shown,
            "lines": shown.get(event.id, []),
            "summary": "" if event.id in shown else activity_reads.describe(event),
        }
        for event in events
    ]


def items_by_key(workspace_id: int, key: str) -> list[tuple[str, int]]:
    """The item that has ``key`` (``PAY-12``) in the workspace, through the
    (product, number) index: the audit log's key filter
    (``pmhub.activity.keys``)."""
    from .api.keys import key_filter

    rows = Item.objects.filter(key_filter([key]), product__workspace_id=workspace_id)
    return [("backlog.item", pk) for pk in rows.values_list("pk", flat=True)[:1]]
