"""The backlog page's filters and sort orders, read from the URL so that a
filtered view can be bookmarked, shared and saved. Also used by the export."""

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import BadRequest
from django.db.models import F, Q
from django.http import QueryDict

from pmhub.api import pagination

from .models import STATUS_ORDER, CustomField, FieldKind, ItemType, Status
from .scoring import custom_number, custom_text

SORTS = {
    "rank": "Manual rank",
    "-score": "Score, high to low",
    "score": "Score, low to high",
    "-updated": "Recently updated",
    "key": "Key",
    "title": "Title",
    "effort": "Effort, low to high",
    "-value": "Value, high to low",
    "status": "Status",
    "type": "Type",
    "owner": "Owner",
}


@dataclass
class BacklogQuery:
    params: QueryDict
    custom_fields: list[CustomField]
    q: str = ""
    statuses: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    tag: str = ""
    objective: str = ""
    owner: str = ""
    sort: str = "rank"
    custom: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: QueryDict, custom_fields) -> "BacklogQuery":
        custom_fields = list(custom_fields)
        sort = params.get("sort", "rank")
        valid_sorts = (
            set(SORTS)
            | {f"cf{f.pk}" for f in custom_fields}
            | {f"-cf{f.pk}" for f in custom_fields}
        )
        return cls(
            params=params,
            custom_fields=custom_fields,
            q=params.get("q", "").strip()[:200],
            statuses=[s for s in params.getlist("status") if s in Status.values],
            types=[t for t in params.getlist("type") if t in ItemType.values],
            tag=params.get("tag", "").strip().lower()[:40],
            objective=params.get("objective", "") if params.get("objective", "").isdigit() else "",
            owner=params.get("owner", "")
            if params.get("owner", "") in ("none",) or params.get("owner", "").isdigit()
            else "",
            sort=sort if sort in valid_sorts else "rank",
            custom={
                str(f.pk): params.get(f"cf{f.pk}", "").strip()[:100]
                for f in custom_fields
                if params.get(f"cf{f.pk}", "").strip()
            },
        )

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.q
            or self.statuses
            or self.types
            or self.tag
            or self.objective
            or self.owner
            or self.custom
        )

    @property
    def can_drag(self) -> bool:
        return self.sort == "rank"

    def apply(self, qs):
        """Filter a QuerySet of items (of one product)."""
        if self.q:
            text = Q(title__icontains=self.q) | Q(description__icontains=self.q)
            if "-" in self.q and self.q.split("-")[-1].isdigit():
                text |= Q(key__iexact=self.q)
            qs = qs.filter(text)
        if self.statuses:
            qs = qs.filter(status__in=self.statuses)
        if self.types:
            qs = qs.filter(type__in=self.types)
        if self.tag:
            qs = qs.filter(tags__name=self.tag)
        if self.objective:
            qs = qs.filter(objectives__id=int(self.objective))
        if self.owner == "none":
            qs = qs.filter(owner__isnull=True)
        elif self.owner:
            qs = qs.filter(owner_id=int(self.owner))
        fields = {str(f.pk): f for f in self.custom_fields}
        for key, value in self.custom.items():
            f = fields[key]
            if f.kind == FieldKind.NUMBER:
                try:
                    qs = qs.annotate(**{f"_cf{key}": _cf_number(key)}).filter(
                        **{f"_cf{key}__gte": float(value)}
                    )
                except ValueError:
                    continue
            elif f.kind == FieldKind.TEXT:
                qs = qs.annotate(**{f"_cf{key}": _cf_text(key)}).filter(
                    **{f"_cf{key}__icontains": value}
                )
            else:
                qs = qs.annotate(**{f"_cf{key}": _cf_text(key)}).filter(**{f"_cf{key}": value})
        return qs

    def annotate(self, qs):
        """Add the sort's computed key, if it has one: a status's place in the
        workflow, or the custom field's value."""
        if self.sort == "status":
            return qs.annotate(_status_order=STATUS_ORDER)
        if self.sort in KEYSETS:
            return qs
        key = self.sort.lstrip("-")[2:]
        field_ = next(f for f in self.custom_fields if str(f.pk) == key)
        return qs.annotate(
            _sort=_cf_number(key) if field_.kind == FieldKind.NUMBER else _cf_text(key)
        )

    def order(self, qs):
        """Order a QuerySet of items (of one product) by this sort: its keys
        (KEYSETS), rows without a value for the first key last."""
        keyset = self.keyset()
        nulls_last = True if keyset.nullable else None
        first, *rest = keyset.keys
        order = [
            F(first.name).desc(nulls_last=nulls_last)
            if first.descending
            else F(first.name).asc(nulls_last=nulls_last)
        ]
        order += [F(k.name).desc() if k.descending else F(k.name).asc() for k in rest]
        return self.annotate(qs).order_by(*order)

    # --- keyset pagination ------------------------------------------------------------------

    def keyset(self) -> "Keyset":
        """How this sort pages (see KEYSETS); custom-field sorts read ``_sort``."""
        if self.sort in KEYSETS:
            return KEYSETS[self.sort]
        field_ = next(f for f in self.custom_fields if self.sort.lstrip("-") == f"cf{f.pk}")
        kind = float if field_.kind == FieldKind.NUMBER else str
        return Keyset(
            (Key("_sort", kind, self.sort.startswith("-")), Key("id", int)), nullable=True
        )

    def page(self, qs, cursor: str | None, size: int) -> tuple[list, str | None]:
        """Up to ``size`` rows of ``qs`` (``.values()`` of items, filtered) in
        this sort's order after ``cursor``, and the cursor of the next page
        (None on the last). Every sort pages on its keys (no OFFSET): a page is a range scan from
        the cursor, and following the cursors returns every row once even
        while rows are added. A sort whose first key may be NULL reads the
        rows with a value, then those without (by the other keys), so that
        both parts are ranges of the sort's index; only the page that crosses
        from one to the other runs a second query."""
        keyset = self.keyset()
        qs = self.annotate(qs)
        after = decode_cursor(self.sort, keyset, cursor)
        limit = size + 1
        if keyset.nullable:
            first, rest = keyset.keys[0], keyset.keys[1:]
            rows = []
            if after is None or after[0] is not None:
                valued = qs.filter(**{f"{first.name}__isnull": False})
                rows = list(_after(valued, keyset.keys, after)[:limit])
            if len(rows) < limit:
                empty = qs.filter(**{f"{first.name}__isnull": True})
                tail = after[1:] if after is not None and after[0] is None else None
                rows += list(_after(empty, rest, tail)[: limit - len(rows)])
        else:
            rows = list(_after(qs, keyset.keys, after)[:limit])
        more = len(rows) > size
        rows = rows[:size]
        return rows, encode_cursor(self.sort, keyset, rows[-1]) if more else None

    def querystring(self, **overrides) -> str:
        params = self.params.copy()
        for k in ("after", "page", "partial"):
            params.pop(k, None)
        for k, v in overrides.items():
            if v is None:
                params.pop(k, None)
            else:
                params[k] = v
        return params.urlencode()


_cf_text = custom_text
_cf_number = custom_number


@dataclass(frozen=True)
class Key:
    """One key of a sort: a column (or annotation) of the row, the type its
    cursor value has, and its direction."""

    name: str
    kind: type
    descending: bool = False


@dataclass(frozen=True)
class Keyset:
    """A sort's keys, compared left to right; the last one is unique within
    a product (rank, number or id), so the order is total. ``nullable``: the
    first key may be NULL, and such rows come last in either direction."""

    keys: tuple[Key, ...]
    nullable: bool = False


# Each has an index in its order (backlog.models.Item.Meta.indexes), except
# owner (a column of another table) and the custom fields (JSON values).
KEYSETS = {
    "rank": Keyset((Key("rank", str),)),
    "-score": Keyset((Key("score", float, True), Key("id", int)), nullable=True),
    "score": Keyset((Key("score", float), Key("id", int)), nullable=True),
    "-updated": Keyset((Key("updated_at", dt.datetime, True), Key("id", int, True))),
    "key": Keyset((Key("number", int),)),
    "title": Keyset((Key("title", str), Key("id", int))),
    "effort": Keyset((Key("effort", float), Key("id", int)), nullable=True),
    "-value": Keyset((Key("value", float, True), Key("id", int)), nullable=True),
    "status": Keyset((Key("_status_order", int), Key("rank", str))),
    "type": Keyset((Key("type", str), Key("rank", str))),
    "owner": Keyset((Key("owner__username", str), Key("rank", str)), nullable=True),
}


def _after(qs, keys: tuple[Key, ...], after: tuple | None):
    """``qs`` in the order of ``keys``, from the row after ``after`` on. The
    redundant bound on the first key (``>=`` / ``<=``) is what lets the
    database start its index scan at the cursor."""
    qs = qs.order_by(*(F(k.name).desc() if k.descending else F(k.name).asc() for k in keys))
    if after is None:
        return qs
    later = Q()
    for n, key in enumerate(keys):
        equal = {k.name: v for k, v in zip(keys[:n], after[:n], strict=True)}
        later |= Q(**equal, **{f"{key.name}__{'lt' if key.descending else 'gt'}": after[n]})
    if len(keys) == 1:
        return qs.filter(later)
    first = keys[0]
    return qs.filter(later, **{f"{first.name}__{'lte' if first.descending else 'gte'}": after[0]})


def encode_cursor(sort: str, keyset: Keyset, row: dict) -> str:
    """The page after ``row`` (a ``.values()`` row), for this sort only."""
    return pagination.encode_cursor(f"backlog:{sort}", [row[key.name] for key in keyset.keys])


def decode_cursor(sort: str, keyset: Keyset, raw: str | None) -> tuple | None:
    """The keys a cursor of this sort holds (None: the first page). A cursor
    this page did not write for this sort is a 400 (BadRequest)."""
    if not raw:
        return None
    kinds = [
        (key.kind, None) if n == 0 and keyset.nullable else key.kind
        for n, key in enumerate(keyset.keys)
    ]
    try:
        return pagination.decode_cursor(raw, f"backlog:{sort}", kinds)
    except pagination.InvalidCursor:
        raise BadRequest("This “load more” link is out of date; reload the backlog.") from None
