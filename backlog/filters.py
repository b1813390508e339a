"""The backlog page's filters and sort orders, read from the URL so that a
filtered view can be bookmarked, shared and saved. Also used by the export."""

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import BadRequest
from django.db.models import Case, F, IntegerField, Q, When
from django.http import QueryDict

from pmhub.api.pagination import InvalidCursor, decode_cursor, encode_cursor

from .models import CustomField, FieldKind, Item, ItemType, Status
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
# The sorts the table pages by keyset, and what their "load more" cursor holds:
# the last row's sort value and id.
KEYSET_SORTS = {
    "rank": (str, int),
    "-score": ((float, None), int),
    "score": ((float, None), int),
    "-updated": (dt.datetime, int),
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

    def order(self, qs):
        s = self.sort
        if s == "rank":
            return qs.order_by("rank")
        if s == "-score":
            return qs.order_by(F("score").desc(nulls_last=True), "id")
        if s == "score":
            return qs.order_by(F("score").asc(nulls_last=True), "id")
        if s == "-updated":
            return qs.order_by("-updated_at", "-id")
        if s == "key":
            return qs.order_by("number")
        if s == "title":
            return qs.order_by("title", "id")
        if s == "effort":
            return qs.order_by(F("effort").asc(nulls_last=True), "id")
        if s == "-value":
            return qs.order_by(F("value").desc(nulls_last=True), "id")
        if s == "status":
            order = Case(
                *[When(status=v, then=i) for i, v in enumerate(Status.values)],
                output_field=IntegerField(),
            )
            return qs.annotate(_status_order=order).order_by("_status_order", "rank")
        if s == "type":
            return qs.order_by("type", "rank")
        if s == "owner":
            return qs.order_by(F("owner__username").asc(nulls_last=True), "rank")
        desc = s.startswith("-")
        key = s.lstrip("-")[2:]
        field_ = next(f for f in self.custom_fields if str(f.pk) == key)
        expr = _cf_number(key) if field_.kind == FieldKind.NUMBER else _cf_text(key)
        qs = qs.annotate(_sort=expr)
        order = F("_sort").desc(nulls_last=True) if desc else F("_sort").asc(nulls_last=True)
        return qs.order_by(order, "id")

    # --- keyset pagination for the sorts that have an index ---------------------------------

    def after(self, qs, cursor: str | None):
        """Rows after ``cursor`` (from ``cursor_for``) in this sort order. A
        cursor this page did not write for this sort is a 400 (BadRequest)."""
        if not cursor:
            return qs
        try:
            value, pk = decode_cursor(cursor, f"backlog:{self.sort}", KEYSET_SORTS[self.sort])
        except (InvalidCursor, KeyError):
            raise BadRequest("This “load more” link is out of date; reload the backlog.") from None
        s = self.sort
        if s == "rank":
            return qs.filter(rank__gt=value)
        if s == "-updated":
            return qs.filter(Q(updated_at__lt=value) | Q(updated_at=value, id__lt=pk))
        if s in ("-score", "score"):
            if value is None:  # already in the NULL tail, ordered by id
                return qs.filter(score__isnull=True, id__gt=pk)
            beyond = Q(score__lt=value) if s == "-score" else Q(score__gt=value)
            return qs.filter(beyond | Q(score=value, id__gt=pk) | Q(score__isnull=True))
        return qs

    def cursor_for(self, item: Item) -> str | None:
        s = self.sort
        if s == "rank":
            return encode_cursor(f"backlog:{s}", [item.rank, item.pk])
        if s == "-updated":
            return encode_cursor(f"backlog:{s}", [item.updated_at, item.pk])
        if s in ("-score", "score"):
            return encode_cursor(f"backlog:{s}", [item.score, item.pk])
        return None

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
