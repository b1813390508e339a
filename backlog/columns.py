"""The backlog table's column chooser and its active-filter chips.

Columns: key and title always show; the others can be hidden with the
``cols`` parameter (``cols=status&cols=score…``; an empty ``cols=`` keeps
the chooser's "none" apart from "never chosen"). It is part of the page's
query string, so a saved view stores its columns with its filters. Hidden
columns stay in the HTML (the rows are written once, by
``backlog.rendering``); the table gets ``hide-c<n>`` classes that
static/css/backlog.css turns into ``display: none`` for the n-th cell of
every row.

Chips: one per active filter, each a link to the same page without it.
"""

from dataclasses import dataclass

from .models import ItemType, Status

# name, label, shown when the page names no columns
OPTIONAL = (
    ("type", "Type", True),
    ("status", "Status", True),
    ("score", "Score", True),
    ("effort", "Effort", True),
    ("value", "Value", True),
    ("owner", "Owner", True),
    ("tags", "Tags", True),
    ("objectives", "Objectives", False),
)
MAX_HIDE = 30  # static/css/backlog.css has a rule for columns 1–30


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    shown: bool
    position: int  # 1-based, as CSS :nth-child counts the row's cells


def columns(params, custom_fields, *, can_edit: bool) -> list[Column]:
    """The optional columns in table order, each with whether it shows."""
    chosen = set(params.getlist("cols")) if "cols" in params else None
    first = 3 if can_edit else 1  # handle, checkbox, then key; title next
    specs = [*OPTIONAL, *((f"cf{f.pk}", f.name, False) for f in custom_fields)]
    result = []
    for offset, (name, label, default) in enumerate(specs):
        shown = default if chosen is None else name in chosen
        result.append(Column(name, label, shown, first + 2 + offset))
    return result


def hidden_positions(cols: list[Column]) -> list[int]:
    return [c.position for c in cols if not c.shown and c.position <= MAX_HIDE]


@dataclass(frozen=True)
class Chip:
    label: str
    querystring: str


def filter_chips(query, *, tags=(), objectives=(), members=()) -> list[Chip]:
    """One removable chip per active filter of ``query`` (a BacklogQuery)."""
    statuses, types = dict(Status.choices), dict(ItemType.choices)
    objective_titles = {str(o.pk): o.title for o in objectives}
    member_names = {str(m.pk): str(m) for m in members}
    fields = {str(f.pk): f for f in query.custom_fields}

    def without(name, value=None) -> str:
        params = query.params.copy()
        for k in ("after", "page", "partial"):
            params.pop(k, None)
        if value is None:
            params.pop(name, None)
        else:
            params.setlist(name, [v for v in params.getlist(name) if v != value])
        return params.urlencode()

    chips = []
    if query.q:
        chips.append(Chip(f"“{query.q}”", without("q")))
    chips += [Chip(f"Status: {statuses[s]}", without("status", s)) for s in query.statuses]
    chips += [Chip(f"Type: {types[t]}", without("type", t)) for t in query.types]
    if query.tag:
        chips.append(Chip(f"#{query.tag}", without("tag")))
    if query.objective:
        title = objective_titles.get(query.objective, "objective")
        chips.append(Chip(f"Objective: {title[:30]}", without("objective")))
    if query.owner:
        name = "nobody" if query.owner == "none" else member_names.get(query.owner, "someone")
        chips.append(Chip(f"Owner: {name}", without("owner")))
    for key, value in query.custom.items():
        f = fields.get(key)
        if f is not None:
            chips.append(Chip(f"{f.name}: {value}", without(f"cf{f.pk}")))
    return chips
