"""An item's history in the words and formats its page uses: "Business
value 8", "Status Now → Shipped", "Owner alex", "changed the description",
rather than raw field names and floats (``business_value: — → 8.0``).

The history is the event log's (``backlog.reads.item_changes``): each event
holds ``{field: [old, new]}``, ``triples`` lists them and ``describe`` turns
every changed field into a line."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from pmhub.templatetags.pmhub_tags import fmt_number
from products.models import Objective

from . import scoring
from .models import CustomField, Item, ItemType, Status

LABELS = {
    "type": "Type",
    "title": "Title",
    "description": "Description",
    "status": "Status",
    "status_reason": "Reason",
    "parent": "Epic",
    "owner": "Owner",
    "effort": "Effort",
    "external_url": "Link",
    "external_key": "External key",
    "demand": "Customer demand",
    "demand_customers": "Customers behind the demand",
    "tags": "Tags",
    "tags_added": "Tags added",
    "tags_removed": "Tags removed",
    "objectives": "Objectives",
    "objective_added": "Objective added",
    "note": "Note",
    **{name: spec.label for name, spec in scoring.INPUTS.items()},
}
CHOICES = {"type": dict(ItemType.choices), "status": dict(Status.choices)}
LONG_TEXT = {"description"}  # too long for a line: "changed the description"
HIDDEN = {"id", "product", "number", "key", "shipped_at", "rank", "score", "version"}
OBJECTIVES = {"objectives", "objective_added"}


@dataclass(frozen=True)
class Line:
    label: str
    old: str
    new: str
    verb: str = ""  # a sentence instead of old → new ("changed the description")


def _user_names(ids) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))


def _objective_titles(ids) -> dict:
    ids = {i for i in ids if isinstance(i, int)}
    return dict(Objective.objects.filter(pk__in=ids).values_list("pk", "title")) if ids else {}


def _item_keys(ids) -> dict:
    ids = {i for i in ids if i}
    return dict(Item.objects.filter(pk__in=ids).values_list("pk", "key")) if ids else {}


def _shown(field: str, value, names: dict) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if field in OBJECTIVES:
        ids = value if isinstance(value, list) else [value]
        return ", ".join(str(names["objectives"].get(i, f"#{i}")) for i in ids)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if field in CHOICES:
        return str(CHOICES[field].get(value, value))
    if field in ("owner", "parent"):
        return str(names[field].get(value, f"#{value}"))
    if isinstance(value, float | int):
        return str(fmt_number(float(value)))
    return str(value)


def _custom_lines(old: dict, new: dict, fields: dict) -> list[Line]:
    lines = []
    for key in sorted(set(old or {}) | set(new or {})):
        before, after = (old or {}).get(key), (new or {}).get(key)
        if before != after:
            label = fields.get(str(key), f"Custom field {key}")
            lines.append(Line(label, _plain(before), _plain(after)))
    return lines


def _plain(value) -> str:
    if value is None or value == "":
        return "—"
    return str(fmt_number(float(value))) if isinstance(value, float | int) else str(value)


def triples(changes) -> list[tuple]:
    """An event's ``{field: [old, new]}`` as ``(field, old, new)`` triples."""
    out = []
    for field, pair in (changes or {}).items():
        old, new = ([*pair, None, None][:2]) if isinstance(pair, list) else (None, pair)
        out.append((field, old, new))
    return out


def describe(diffs: list[list[tuple]], product) -> list[list[Line]]:
    """Lines for each record's ``(field, old, new)`` triples, with user and
    item names read once for the whole history."""
    users, items, objectives = set(), set(), set()
    for diff in diffs:
        for field, old, new in diff:
            if field == "owner":
                users |= {old, new}
            elif field == "parent":
                items |= {old, new}
            elif field in OBJECTIVES:
                for value in (old, new):
                    objectives |= set(value if isinstance(value, list) else [value])
    names = {
        "owner": _user_names(users),
        "parent": _item_keys(items),
        "objectives": _objective_titles(objectives),
    }
    custom_fields = {
        str(pk): name
        for pk, name in CustomField.objects.filter(product=product).values_list("pk", "name")
    }
    out = []
    for diff in diffs:
        lines = []
        for field, old, new in diff:
            if field in HIDDEN:
                continue
            if field == "custom":
                lines += _custom_lines(old, new, custom_fields)
            elif field in LONG_TEXT:
                verb = "added a description" if not old else "changed the description"
                lines.append(
                    Line(LABELS[field], "", "", verb if new else "removed the description")
                )
            else:
                label = LABELS.get(field, field.replace("_", " ").capitalize())
                before, after = _shown(field, old, names), _shown(field, new, names)
                if before != after:  # 0.0 → 0 (demand recounted): nothing a person sees
                    lines.append(Line(label, before, after))
        out.append(lines)
    return out
