"""UTC periods: a day, a week starting Monday (ISO 8601), a calendar month."""

from datetime import UTC, date, datetime, timedelta

from .models import Period


def utc_day(ts: datetime) -> date:
    return ts.astimezone(UTC).date()


def week_start(day: date) -> date:
    """Weeks start on Monday (ISO 8601)."""
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def period_start(period: str, day: date) -> date:
    if period == Period.WEEK:
        return week_start(day)
    if period == Period.MONTH:
        return month_start(day)
    return day


def period_end(period: str, start: date) -> date:
    """The first day after the period that begins on ``start``."""
    if period == Period.WEEK:
        return start + timedelta(days=7)
    if period == Period.MONTH:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
