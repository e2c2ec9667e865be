"""Parsing the date flags: YYYY-MM-DD, `today`, `yesterday` — relative to a given "today"."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from orderreport.errors import UsageError


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
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{flag}: invalid date {value!r} (expected YYYY-MM-DD, 'today' or 'yesterday')"
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
    if all_days and (day or start or end):
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
    return first, last


def parse_bounds(
    start: str | None, end: str | None, today: date
) -> tuple[date | None, date | None]:
    """--from / --to as optional bounds (None: unbounded on that side)."""
    first = parse_day(start, "--from", today) if start is not None else None
    last = parse_day(end, "--to", today) if end is not None else None
    if first is not None and last is not None and first > last:
        raise UsageError(f"--from {first.isoformat()} is after --to {last.isoformat()}")
    return first, last
