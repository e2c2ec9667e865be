"""The wall clock, read only by the command line: below it, "now" and "today" are
parameters (a test passes its own)."""

from __future__ import annotations

from datetime import UTC, datetime


def now_utc() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)
