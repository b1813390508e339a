"""The API's JSON parser: DRF's, with the limits of the input edge.

- Nesting deeper than ``MAX_JSON_DEPTH`` is a 400. Python's decoder recurses,
  so ``[`` × 100 000 would raise ``RecursionError`` (a 500); the parsed value
  is then walked with an explicit stack, never by recursion.
- Text no column can store is a 400 on the field that holds it: a NUL
  character (PostgreSQL's text and jsonb refuse it) or a lone surrogate
  (``"\\ud800"`` decodes to a ``str`` that UTF-8 cannot encode).
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

MAX_JSON_DEPTH = 64
TOO_DEEP = f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
NUL_MESSAGE = "Null characters are not allowed."
SURROGATE_MESSAGE = "This text is not valid Unicode (a lone surrogate)."


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None when it can."""
    if "\x00" in text:
        return NUL_MESSAGE
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def check_json(data, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise ParseError when ``data`` nests deeper than ``max_depth``, and a
    ValidationError on the top-level field holding unstorable text."""
    stack = [(data, 1, None)]
    while stack:
        value, depth, field = stack.pop()
        if depth > max_depth:
            raise ParseError(TOO_DEEP)
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, field)
                stack.append((item, depth + 1, key if field is None else field))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, field) for item in value)
        elif isinstance(value, str):
            _check_text(value, field)


def _check_text(text: str, field: str | None) -> None:
    problem = text_problem(text)
    if problem is None:
        return
    if field is None or text_problem(field):
        raise ParseError(f"JSON parse error - {problem}")
    raise ValidationError({field: [problem]})


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser that refuses deep nesting and unstorable text (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        check_json(data)
        return data
