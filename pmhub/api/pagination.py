"""Keyset pagination, and the one cursor codec every keyset list uses (the
API's lists and the HTML backlog table's "load more" alike).

A cursor is the position after the last row of a page: a few values plus the
name of the list and order they belong to. It is signed (django.core.signing,
salt ``pmhub.cursor``), so a decoder only ever reads values this server wrote;
decoding also checks the list's name and each value's type, so a cursor of
another ordering, a tampered one or random bytes are refused before they reach
a query::

    raw = encode_cursor("items:-score", [0.5, 42])
    score, pk = decode_cursor(raw, "items:-score", [(float, None), int])

Value types: ``int``, ``float``, ``str``, ``bool``, ``datetime`` (aware),
``date``, ``Decimal``, or a tuple of them (``None`` for a nullable value).
``decode_cursor`` raises ``InvalidCursor`` (a ValueError); API paginators turn
it into a 400 with ``invalid_cursor()``, HTML views into a 400 page
(``django.core.exceptions.BadRequest``).
"""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.utils.urls import replace_query_param

_SIGNER = signing.Signer(salt="pmhub.cursor", sep=".")
INVALID_CURSOR = "This cursor is not valid for this list; start again without it."


class InvalidCursor(ValueError):
    """A cursor this server did not write for this list and order."""


def encode_cursor(key: str, values: Sequence) -> str:
    """A signed, URL-safe cursor holding ``values`` for the list ``key``."""
    return _SIGNER.sign_object([key, *(_plain(v) for v in values)])


def decode_cursor(raw: str, key: str, kinds: Sequence) -> tuple:
    """The values of a cursor from ``encode_cursor(key, ...)``, each checked
    against ``kinds`` (one type, or a tuple of types, per value)."""
    try:
        data = _SIGNER.unsign_object(raw)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError) as exc:
        raise InvalidCursor("bad signature or encoding") from exc
    if type(data) is not list or len(data) != len(kinds) + 1 or data[0] != key:
        raise InvalidCursor("a cursor of another list or order")
    return tuple(_typed(value, kind) for value, kind in zip(data[1:], kinds, strict=True))


def invalid_cursor(param: str = "cursor") -> ValidationError:
    """The API's answer to a bad cursor: 400 with the parameter's message."""
    return ValidationError({param: [INVALID_CURSOR]})


def page_size_param(request, *, default: int, maximum: int, param: str = "page_size") -> int:
    """The page size a request asks for: ``default`` without the parameter or
    for a size below 1, at most ``maximum``. Anything but one integer is a 400
    (DRF's paginators fell back to the default, so ``?page_size=abc`` or a
    repeated one answered a page the client did not ask for)."""
    values = request.query_params.getlist(param)
    if not values:
        return default
    raw = values[0].strip()
    digits = raw[1:] if raw[:1] in "+-" else raw
    if len(values) > 1 or not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        raise ValidationError({param: ["Give one whole number."]})
    size = int(raw)
    return default if size < 1 else min(size, maximum)


def _plain(value):
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _typed(value, kinds):
    for kind in kinds if isinstance(kinds, tuple) else (kinds,):
        if kind is None or kind is type(None):
            if value is None:
                return None
        elif kind in (int, bool, str):
            if type(value) is kind:
                return value
        elif kind is float:
            if type(value) in (int, float):
                return float(value)
        elif type(value) is str:
            try:
                parsed = _parse(kind, value)
            except (ValueError, InvalidOperation):
                continue
            if parsed is not None:
                return parsed
    raise InvalidCursor("a value of the wrong type")


def _parse(kind, value: str):
    if kind is dt.datetime:
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo is not None else None
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    if kind is Decimal:
        parsed = Decimal(value)
        return parsed if parsed.is_finite() else None
    raise TypeError(f"cursors cannot hold {kind!r}")


class KeysetPagination(CursorPagination):
    """Keyset (cursor) pagination: no OFFSET, no COUNT(*), and following
    ``next`` returns every row exactly once even while rows are added.

    DRF's CursorPagination with the project's cursor codec: a cursor names the
    model and the ordering it was made for, and its position must be a value of
    the ordering's first field; anything else is a 400, never a 404 or 500."""

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    cursor_query_description = "Opaque position from a `next` link; any other value is a 400."

    def get_ordering(self, request, queryset, view):
        """The requested ordering plus ``id`` as a tie-breaker. Without it rows
        that share a value (a name, a timestamp) come back in no fixed order,
        and PostgreSQL then repeats some rows and skips others across pages.
        Ascending ``id`` puts rows added later at the end of their tie group,
        behind the rows a cursor has already counted."""
        ordering = super().get_ordering(request, queryset, view)
        if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            ordering = (*ordering, "id")
        return ordering

    def get_page_size(self, request) -> int:
        return page_size_param(request, default=self.page_size, maximum=self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def _cursor_key(self) -> str:
        return f"{self.model._meta.label_lower}:{','.join(self.ordering)}"

    def encode_cursor(self, cursor: Cursor) -> str:
        """The page link: ``(offset, reverse, position)`` in a signed cursor."""
        values = [cursor.offset, cursor.reverse, cursor.position]
        raw = encode_cursor(self._cursor_key(), values)
        return replace_query_param(self.base_url, self.cursor_query_param, raw)

    def decode_cursor(self, request) -> Cursor | None:
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        try:
            offset, reverse, position = decode_cursor(
                raw, self._cursor_key(), [int, bool, (str, None)]
            )
            if not 0 <= offset <= self.offset_cutoff:
                raise InvalidCursor("offset out of range")
            self._check_position(position)
        except InvalidCursor:
            raise invalid_cursor(self.cursor_query_param) from None
        return Cursor(offset=offset, reverse=reverse, position=position)

    def _check_position(self, position: str | None) -> None:
        """The position is compared with the ordering's first field in SQL:
        it must be a value of that field."""
        if position is None:
            return
        name = self.ordering[0].lstrip("-")
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return  # an annotation: DRF compares its text as written
        try:
            field.to_python(position)
        except DjangoValidationError as exc:
            raise InvalidCursor("a position of the wrong type") from exc
