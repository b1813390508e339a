"""How roadmap dates read: exact ("3 Feb 2027") or, where a share link shows
only quarters, the quarter ("Q1 2027"). One place for the editor, the shared
page, the change log, the item panel and dependency warnings; and the month
arithmetic of timelines."""

import datetime as dt


def add_months(value: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` months after ``value``'s."""
    month = value.month - 1 + months
    return value.replace(year=value.year + month // 12, month=month % 12 + 1, day=1)


def quarter_label(value: dt.date) -> str:
    return f"Q{(value.month - 1) // 3 + 1} {value.year}"


def format_date(value: dt.date | None, *, exact: bool = True, empty: str = "open") -> str:
    if value is None:
        return empty
    return value.strftime("%-d %b %Y") if exact else quarter_label(value)


def format_span(start, end, *, exact: bool = True, empty: str = "open") -> str:
    """ "3 Feb 2027 – 31 Mar 2027" (one date when both read the same)."""
    first = format_date(start, exact=exact, empty=empty)
    last = format_date(end, exact=exact, empty=empty)
    return first if first == last else f"{first} – {last}"


def dates_text(start, end, *, exact: bool = True) -> str:
    """An entry's dates on a card or its shared page; "" when it has none."""
    if not start and not end:
        return ""
    return format_span(start, end, exact=exact, empty="")
