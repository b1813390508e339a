"""Keyset pagination for items: the cursor holds the last row's sort keys,
``(value, id)`` for the requested ordering (``(product, rank)`` for the
manual order, which is unique), so a page is one range scan of a matching
index whatever its depth (no OFFSET, no COUNT(*)), and following ``next``
returns every row exactly once even while rows are added.

``score`` is nullable and its nulls come last in both directions. Each page
is read in two phases: rows with a score (``WHERE score IS NOT NULL``,
keyset on ``(score, id)``), then rows without one (``WHERE score IS NULL``,
keyset on ``id``). Each phase matches the ``(product, score, id)`` index in
either direction; ``ORDER BY score DESC NULLS LAST`` would not, and would
sort the whole backlog for every page. Only the page that crosses from the
last scored row to the unscored ones runs a second query.

Pages are forward-only: ``previous`` is always null. A client that needs an
earlier page keeps the ``next`` links it has followed."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, prefetch_related_objects
from django.utils.encoding import force_str
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from pmhub.api.pagination import (
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
    page_size_param,
)


@dataclass(frozen=True)
class Ordering:
    """A total order on items: ``keys`` compared left to right, all in the
    same direction, so that one index read forwards or backwards serves it.
    ``kinds`` say how the cursor stores each key."""

    keys: tuple[str, ...]
    kinds: tuple[type, ...]
    descending: bool = False
    nullable: bool = False  # the first key may be NULL (such rows come last)


def _orderings() -> dict[str, Ordering]:
    when = (dt.datetime, int)
    base = {
        # Ranks are unique within a product: (product, rank) is the unique index
        # itself, and a list of several products shows each backlog in turn.
        "rank": Ordering(("product_id", "rank"), (int, str)),
        "score": Ordering(("score", "id"), (float, int), nullable=True),
        "updated_at": Ordering(("updated_at", "id"), when),
        "created_at": Ordering(("created_at", "id"), when),
    }
    both = {}
    for name, ordering in base.items():
        both[name] = ordering
        both[f"-{name}"] = Ordering(ordering.keys, ordering.kinds, True, ordering.nullable)
    return both


ORDERINGS = _orderings()
DEFAULT_ORDERING = "rank"
BY_ID = (("id",), (int,))


@dataclass(frozen=True)
class Cursor:
    ordering: str
    values: tuple  # the last row's keys; (None, id) in the null phase of score


class ItemKeysetPagination(BasePagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    ordering_query_param = "ordering"

    def paginate_queryset(self, queryset, request, view=None, *, columns=None):
        """The page's rows: model instances, or tuples when ``queryset`` is a
        ``values_list`` of ``columns`` (which must include the ordering's keys)."""
        self.request = request
        self.page_size = self.get_page_size(request)
        self.ordering_name = self.get_ordering_name(request)
        ordering = ORDERINGS[self.ordering_name]
        cursor = self.decode_cursor(request)
        after = cursor.values if cursor else None

        # Prefetch once for the whole page, not once per phase (and not for the
        # extra row fetched to learn whether there is a next page).
        lookups = queryset._prefetch_related_lookups
        queryset = queryset.prefetch_related(None)
        limit = self.page_size + 1
        if ordering.nullable:
            first, desc = ordering.keys[0], ordering.descending
            rows = []
            if after is None or after[0] is not None:
                scored = queryset.filter(**{f"{first}__isnull": False})
                rows = list(self._after(scored, ordering.keys, desc, after)[:limit])
            if len(rows) < limit:
                unscored = queryset.filter(**{f"{first}__isnull": True})
                after_id = after[-1:] if after is not None and after[0] is None else None
                page = self._after(unscored, BY_ID[0], desc, after_id)
                rows += list(page[: limit - len(rows)])
        elif ordering.keys[0] == "product_id" and after is not None:
            # Two range scans of the (product, rank) index: the rest of the
            # cursor's product, then the following products. One combined
            # condition would make PostgreSQL scan from the start of the product.
            product, rank = after
            desc = ordering.descending
            order = ("-product_id", "-rank") if desc else ("product_id", "rank")
            same = queryset.filter(product_id=product, **{f"rank__{'lt' if desc else 'gt'}": rank})
            rows = list(same.order_by(*order)[:limit])
            if len(rows) < limit:
                later = queryset.filter(**{f"product_id__{'lt' if desc else 'gt'}": product})
                rows += list(later.order_by(*order)[: limit - len(rows)])
        else:
            rows = list(self._after(queryset, ordering.keys, ordering.descending, after)[:limit])

        self.has_next = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if lookups:
            prefetch_related_objects(rows, *lookups)
        self.next_cursor = None
        if self.has_next:
            last = rows[-1]
            if columns is None:
                values = tuple(getattr(last, key) for key in ordering.keys)
            else:
                values = tuple(last[columns.index(key)] for key in ordering.keys)
            self.next_cursor = Cursor(self.ordering_name, values)
        return rows

    @staticmethod
    def _after(queryset, keys: tuple[str, ...], descending: bool, after: tuple | None):
        """Rows after ``after`` in the lexicographic order of ``keys``. The
        redundant ``keys[0] >= value`` bound is what lets the database start
        the index scan at the cursor instead of filtering from the first row."""
        queryset = queryset.order_by(*(f"-{k}" if descending else k for k in keys))
        if after is None:
            return queryset
        strict, loose = ("lt", "lte") if descending else ("gt", "gte")
        later = Q()
        for n, key in enumerate(keys):
            equal = dict(zip(keys[:n], after[:n], strict=True))
            later |= Q(**equal, **{f"{key}__{strict}": after[n]})
        if len(keys) == 1:
            return queryset.filter(later)
        return queryset.filter(later, **{f"{keys[0]}__{loose}": after[0]})

    # --- request parameters ---------------------------------------------------------

    def get_page_size(self, request) -> int:
        return page_size_param(request, default=self.page_size, maximum=self.max_page_size)

    def get_ordering_name(self, request) -> str:
        name = request.query_params.get(self.ordering_query_param) or DEFAULT_ORDERING
        if name not in ORDERINGS:
            raise ValidationError(
                {self.ordering_query_param: [f"Order by one of: {', '.join(ORDERINGS)}."]}
            )
        return name

    # --- cursors ----------------------------------------------------------------------

    # The shared codec (pmhub.api.pagination): signed, tied to the ordering,
    # each key type-checked; a bad cursor is a 400.

    def encode_cursor(self, cursor: Cursor) -> str:
        return encode_cursor(f"items:{cursor.ordering}", cursor.values)

    def decode_cursor(self, request) -> Cursor | None:
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        ordering = ORDERINGS[self.ordering_name]
        kinds = list(ordering.kinds)
        if ordering.nullable:
            kinds[0] = (kinds[0], None)
        try:
            values = decode_cursor(raw, f"items:{self.ordering_name}", kinds)
        except InvalidCursor:
            raise invalid_cursor(self.cursor_query_param) from None
        return Cursor(self.ordering_name, values)

    # --- response ----------------------------------------------------------------------

    def get_next_link(self) -> str | None:
        if self.next_cursor is None:
            return None
        url = self.request.build_absolute_uri()
        cursor = self.encode_cursor(self.next_cursor)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": None, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page; null on the last page.",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "Always null: pages are forward-only.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a `next` link; any other value is a 400.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page: {self.page_size} by default, "
                f"at most {self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.ordering_query_param,
                "required": False,
                "in": "query",
                "description": force_str(
                    "Sort order (`-` for descending); ties are broken by id. `rank` is the "
                    "manual backlog order (product by product when several are listed). "
                    "Items without a score come last in both directions of `score`."
                ),
                "schema": {"type": "string", "enum": list(ORDERINGS), "default": DEFAULT_ORDERING},
            },
        ]
