"""How roadmap dates read: exact ("3 Feb 2027") or, where a share link shows
only quarters, the quarter ("Q1 2027"). One place for the editor, the shared
page, the change log, the item panel and dependency warnings."""

import datetime as dt


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
