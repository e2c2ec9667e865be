"""Stored reports against live data: the differences `verify` reports and restatement fixes.

A stored day is compared with the same day computed afresh from the shop's orders, figure
by figure. A day stored in a transaction that overlapped an order's (committed after the
day was computed), or before an order was edited or refunded, differs; generated_at is
never a difference. Nothing here writes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from orderreport.columns import fields_of, header
from orderreport.reports import queries
from orderreport.reports.queries import Summary
from orderreport.shop import Shop

# The figures a stored report holds, in the order they are reported.
FIGURES = (
    "total_orders",
    "total_products",
    "total_value",
    "average_products_per_order",
    "average_order_value",
)


@dataclass(frozen=True)
class Difference:
    """One figure of one day in one currency: as stored, and as the live data gives it now."""

    date: date
    time_zone: str = field(metadata=header("zone"))
    currency: str | None = field(metadata=header("cur"))
    field: str
    stored: int | Decimal
    live: int | Decimal


DIFFERENCE_FIELDS = fields_of(Difference)


def differences(stored: Sequence[Summary], live: Sequence[Summary]) -> tuple[Difference, ...]:
    """The figures of one day's `stored` rows (one per currency) that its `live` rows no
    longer have, by currency then in FIGURES order. A currency on one side only is compared
    with zeros: a day's first order in a new currency, or its last one cancelled.

    Decimals compare by value: a stored 6.6 and a live 6.60 are the same figure.
    """
    old_rows = {s.currency: s for s in stored}
    new_rows = {s.currency: s for s in live}
    found = []
    for currency in sorted(old_rows.keys() | new_rows.keys(), key=lambda c: c or ""):
        old_row, new_row = old_rows.get(currency), new_rows.get(currency)
        sample = new_row or old_row
        assert sample is not None
        for name in FIGURES:
            old = getattr(old_row, name) if old_row is not None else 0
            new = getattr(new_row, name) if new_row is not None else 0
            if old != new:
                found.append(Difference(sample.date, sample.time_zone, currency, name, old, new))
    return tuple(found)


def describe(changes: Iterable[Difference]) -> str:
    """`EUR total_orders 2000 → 2001, EUR total_value 1919.90 → 1920.20`: for a line on stderr."""
    return ", ".join(
        f"{d.currency + ' ' if d.currency else ''}{d.field} {d.stored} → {d.live}" for d in changes
    )


_STORED = """
    SELECT report_date AS date, time_zone, NULLIF(currency, '') AS currency,
           total_orders, total_products,
           ROUND(total_value, 2) AS total_value,
           average_products_per_order, average_order_value
    FROM orderreport.daily_reports
    WHERE time_zone = current_setting('TimeZone')
      AND report_date < %(today)s::date
      AND (%(start)s::date IS NULL OR report_date >= %(start)s::date)
      AND (%(end)s::date IS NULL OR report_date <= %(end)s::date)
    ORDER BY report_date, currency
    """


def stored_reports(
    conn: psycopg.Connection[Any], start: date | None, end: date | None, today: date
) -> dict[date, list[Summary]]:
    """The stored reports of the session's zone from start to end (None: unbounded), by day:
    each day's rows, one per currency.

    Only finished days (before `today`): only those are ever stored.
    """
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_STORED, {"start": start, "end": end, "today": today}).fetchall()
    found: dict[date, list[Summary]] = {}
    for row in rows:
        found.setdefault(row["date"], []).append(Summary(**row))
    return found


def by_day(summaries: Iterable[Summary]) -> Iterator[tuple[date, list[Summary]]]:
    """Summaries (ordered by day) grouped into each day's rows, one per currency."""
    for day, rows in itertools.groupby(summaries, key=lambda s: s.date):
        yield day, list(rows)


def runs_of_days(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """The days as (first, last) runs of consecutive days, in order (one query each)."""
    ordered = sorted(set(days))
    if not ordered:
        return
    first = last = ordered[0]
    for day in ordered[1:]:
        if day != last + timedelta(days=1):
            yield first, last
            first = day
        last = day
    yield first, last


def live_reports(
    conn: psycopg.Connection[Any], shop: Shop, days: Iterable[date]
) -> Iterator[tuple[date, list[Summary]]]:
    """Each of `days` computed afresh from the shop's orders, by day (its rows, one per
    currency): one grouped query per run of consecutive days, so a gap between stored days
    costs nothing."""
    for first, last in runs_of_days(days):
        yield from by_day(queries.summaries(conn, shop, first, last))


@dataclass(frozen=True)
class Verification:
    """What `verify` found: how many stored days it compared, and every differing figure."""

    first: date | None  # the first and last stored day compared (None: none stored)
    last: date | None
    days: int
    differences: tuple[Difference, ...]

    @property
    def differing_days(self) -> tuple[date, ...]:
        return tuple(sorted({d.date for d in self.differences}))


def verify(
    conn: psycopg.Connection[Any], shop: Shop, start: date | None, end: date | None, today: date
) -> Verification:
    """Compare every stored day from start to end (None: unbounded) with the live data."""
    stored = stored_reports(conn, start, end, today)
    found: list[Difference] = []
    for day, live in live_reports(conn, shop, stored):
        found.extend(differences(stored[day], live))
    return Verification(
        first=min(stored, default=None),
        last=max(stored, default=None),
        days=len(stored),
        differences=tuple(found),
    )
