"""Parsing the date flags: YYYY-MM-DD, `today`, `yesterday` — relative to a given "today"."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from orderreport.errors import UsageError, excerpt

# The most days one command may cover: ten years and a leap day or two. A summary builds a
# row per day and `daily` a transaction per day; 0001-01-01..9999-12-31 would be 3.6 M.
MAX_SPAN_DAYS = 3660
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # not the week or ordinal ISO forms


def today_in(tz: str, now: datetime | None = None) -> date:
    """The calendar date in zone `tz` at `now` (default: the current instant)."""
    now = now if now is not None else datetime.now(ZoneInfo("UTC"))
    return now.astimezone(ZoneInfo(tz)).date()


def parse_day(value: str, flag: str, today: date) -> date:
    """Parse one date flag's value, or raise UsageError naming the flag and the value."""
    word = value.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    try:
        if not _ISO_DAY.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{flag}: invalid date {excerpt(value)} (expected YYYY-MM-DD, 'today' or 'yesterday')"
        ) from None


def resolve_range(
    *,
    day: str | None,
    start: str | None,
    end: str | None,
    today: date,
    all_days: bool = False,
) -> tuple[date, date] | None:
    """Turn --date / --from / --to / --all into an inclusive (start, end); None means all days.

    No flag at all means yesterday. --from alone runs to yesterday; --to alone is
    an error, as are --date with --from/--to, --all with either, and --from after --to.
    """
    if all_days and (day is not None or start is not None or end is not None):
        raise UsageError("--all cannot be combined with --date, --from or --to")
    if all_days:
        return None
    if day is not None and (start is not None or end is not None):
        raise UsageError("--date cannot be combined with --from or --to")
    if day is not None:
        d = parse_day(day, "--date", today)
        return d, d
    if start is None and end is not None:
        raise UsageError("--to needs --from")
    if start is None:
        d = today - timedelta(days=1)
        return d, d
    first, last = parse_bounds(start, end if end is not None else "yesterday", today)
    assert first is not None and last is not None
    check_span(first, last)
    return first, last


def check_span(first: date, last: date) -> None:
    """Raise UsageError if first..last covers more than MAX_SPAN_DAYS days."""
    days = (last - first).days + 1
    if days > MAX_SPAN_DAYS:
        raise UsageError(
            f"--from {first} --to {last} is {days:,} days; one command covers at most "
            f"{MAX_SPAN_DAYS:,} days: split the range"
        )


def parse_bounds(
    start: str | None, end: str | None, today: date
) -> tuple[date | None, date | None]:
    """--from / --to as optional bounds (None: unbounded on that side)."""
    first = parse_day(start, "--from", today) if start is not None else None
    last = parse_day(end, "--to", today) if end is not None else None
    if first is not None and last is not None and first > last:
        raise UsageError(f"--from {first.isoformat()} is after --to {last.isoformat()}")
    return first, last
