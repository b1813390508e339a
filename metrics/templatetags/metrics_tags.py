from django import template

register = template.Library()


@register.filter
def signed_pct(value):
    """12.345 → "+12.3 %"; None → "—"."""
    if value is None:
        return "—"
    return f"{value:+.1f} %".replace("-", "−")


@register.filter
def fmt_number_short(value):
    """A readable number: 1 234, 78.4, 0.123."""
    if value is None:
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}".replace(",", " ")
    if magnitude >= 10:
        return f"{value:.1f}".removesuffix(".0")
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"
