"""Project-wide template filters, available in every template (registered as
``builtins`` in settings.TEMPLATES; apps keep their own libraries for their
own screens, e.g. products' ``metrics_tags``)."""

import json

import markdown as md
import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}


def render_markdown(text: str) -> str:
    """Markdown → HTML, sanitized with an allow-list (nh3 / ammonia): raw HTML,
    scripts, event handlers, style attributes and javascript: URLs are removed."""
    if not text:
        return ""
    html = md.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


@register.filter(name="markdown")
def markdown_filter(text):
    return mark_safe(render_markdown(text or ""))


@register.filter
def percent(value):
    """0.42 → 42."""
    if value is None:
        return ""
    return round(value * 100)


@register.filter
def fmt_number(value):
    """Drop a trailing .0 from floats for display."""
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return value


@register.filter
def get_item(mapping, key):
    """``{{ mapping|get_item:key }}`` for dicts in templates."""
    if not mapping:
        return ""
    return mapping.get(key, "")


@register.filter
def ago(value):
    """ "just now" under a minute, else "5 minutes ago"."""
    from django.utils import timezone
    from django.utils.timesince import timesince

    if not value:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def sort_qs(query, sort):
    """The backlog's query string with another sort order (column headers)."""
    return query.querystring(sort=sort)


@register.filter
def json_attr(value):
    """``value`` as JSON text, for a ``data-`` attribute (escaped as any text)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
