"""The morning digest: one day's figures per currency beside the days people compare it with.

Each figure of the day (orders, lines, value, average order value, lines per order) is set
beside three bases: the day before, the same weekday a week before, and the mean of the
same weekday over the four weeks before (day-7, -14, -21, -28). The figures come from the
stored reports; a day the store lacks is computed live from the orders and the result says
so. Plain data, exact decimals; render/ turns it into text, Markdown, HTML or JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg

from orderreport.reports import verify
from orderreport.reports.queries import Summary
from orderreport.shop import Shop

HISTORY_DAYS = 28  # days of total value in the digest's chart, ending at the day
CENT = Decimal("0.01")  # a mean's precision: money and counts alike
TENTH = Decimal("0.1")  # a percent change's precision

# The bases, in the order they are shown, and the days before the day that make each one.
BASES: dict[str, tuple[int, ...]] = {
    "previous_day": (1,),
    "week_before": (7,),
    "four_week_mean": (7, 14, 21, 28),
}
READ_DAYS = max(HISTORY_DAYS - 1, *(n for days in BASES.values() for n in days))

# The figures of a day, in Summary's field names and verify's order (counts, then money).
FIGURES = verify.FIGURES
# The averages: over several days they are the days' totals divided (weighted by orders),
# never a mean of daily averages, in which a day without orders would count as an average 0.
_RATIOS = {
    "average_products_per_order": "total_products",
    "average_order_value": "total_value",
}


@dataclass(frozen=True)
class Comparison:
    """A figure beside one base.

    `base` and `change` (the figure minus the base) are in the figure's own unit: a count
    (orders, lines), money in the currency, or lines per order. `percent` is change / base
    * 100 rounded half up to 0.1, None where the base is 0 (nothing to take a percent of).
    `live` is True if a day of the base was not in the stored reports and was computed from
    the orders.
    """

    base: Decimal
    change: Decimal
    percent: Decimal | None
    live: bool

    @property
    def trend(self) -> str:
        """ "up", "down", "same" (no change, also 0 beside 0) or "new" (something beside 0)."""
        if self.change == 0:
            return "same"
        if self.base == 0:
            return "new"
        return "up" if self.change > 0 else "down"


@dataclass(frozen=True)
class Figure:
    """One figure of the day in one currency, beside each base (BASES).

    `name` is the Summary field (FIGURES): total_orders and total_products are counts (int),
    total_value and average_order_value money in the currency, average_products_per_order
    lines per order (Decimals with 2 places).
    """

    name: str
    value: int | Decimal
    previous_day: Comparison  # against the day before
    week_before: Comparison  # against the same weekday a week before
    four_week_mean: Comparison  # against the mean of the same weekday 1 to 4 weeks before

    def against(self, basis: str) -> Comparison:
        """The comparison with the base named `basis` (a key of BASES)."""
        found: Comparison = getattr(self, basis)
        return found


@dataclass(frozen=True)
class CurrencyDigest:
    """The day in one currency (None: the shop has none): every figure and the history."""

    currency: str | None
    figures: tuple[Figure, ...]  # in FIGURES order
    # total value per day (money in the currency), HISTORY_DAYS days ending at the day,
    # oldest first; 0.00 for a day without orders in this currency
    history: tuple[tuple[date, Decimal], ...]

    def figure(self, name: str) -> Figure:
        """The figure named `name` (a Summary field in FIGURES)."""
        for found in self.figures:
            if found.name == name:
                return found
        raise KeyError(name)

    @property
    def orders(self) -> int:
        """The day's orders in this currency."""
        return int(self.figure("total_orders").value)


@dataclass(frozen=True)
class Digest:
    """One day of the shop (in zone `time_zone`) beside its bases, one entry per currency.

    `currencies` holds every currency with orders on the day or on a day of its bases
    (sorted, None first); where none has any, the one the shop's empty days carry, so there
    is always at least one. `live` is True if the day itself was not in the stored reports;
    `live_days` lists every day read (the day, its bases and the history) that was computed
    from the orders instead, oldest first.
    """

    day: date
    time_zone: str
    live: bool
    live_days: tuple[date, ...]
    currencies: tuple[CurrencyDigest, ...]

    def base_days(self, basis: str) -> tuple[date, ...]:
        """The days the base `basis` (a key of BASES) is made of, newest first."""
        return base_days(self.day, basis)

    @property
    def has_orders(self) -> bool:
        """Whether the day had any order, in any currency."""
        return any(c.orders for c in self.currencies)

    @property
    def has_history(self) -> bool:
        """Whether any day of the bases had an order: False for a shop without a past."""
        return any(c.figure("total_orders").against(b).base for c in self.currencies for b in BASES)


def digest(conn: psycopg.Connection[Any], shop: Shop, day: date, *, tz: str) -> Digest:
    """The digest of `day` (a day of the session's zone, `tz`): see Digest.

    Reads the stored reports of the day and the READ_DAYS before it in one query; the days
    missing from them are computed from the orders (one grouped query per run of days).
    Never writes. A day without orders and a shop without a past are ordinary digests.
    """
    first = day - timedelta(days=READ_DAYS)
    # stored_reports reads finished days only: those before its `today`, the day after ours
    days = verify.stored_reports(conn, first, day, day + timedelta(days=1))
    wanted = [first + timedelta(days=i) for i in range(READ_DAYS + 1)]
    missing = [d for d in wanted if d not in days]
    for found, rows in verify.live_reports(conn, shop, missing):
        days[found] = rows
    return build(day, tz, days, live=missing)


def build(
    day: date, tz: str, days: dict[date, list[Summary]], *, live: Iterable[date] = ()
) -> Digest:
    """The digest of `day` from each day's rows (one Summary per currency; a day absent
    from `days` counts as a day without orders); `live`: the days computed from the orders."""
    live_days = tuple(sorted(set(live)))
    bases = {name: base_days(day, name) for name in BASES}
    compared = [day, *(d for ds in bases.values() for d in ds)]
    currencies = _currencies([row for d in compared for row in days.get(d, ())])
    history_days = [day - timedelta(days=n) for n in range(HISTORY_DAYS - 1, -1, -1)]

    def row(when: date, currency: str | None) -> Summary:
        for found in days.get(when, ()):
            if found.currency == currency:
                return found
        return _zeros(when, tz, currency)

    entries = []
    for currency in currencies:
        today = row(day, currency)
        figures = []
        for name in FIGURES:
            value: int | Decimal = getattr(today, name)
            comparisons = {
                basis: _compare(
                    value,
                    _base(name, [row(d, currency) for d in when]),
                    live=any(d in live_days for d in when),
                )
                for basis, when in bases.items()
            }
            figures.append(Figure(name, value, **comparisons))
        history = tuple((d, row(d, currency).total_value) for d in history_days)
        entries.append(CurrencyDigest(currency, tuple(figures), history))
    return Digest(day, tz, day in live_days, live_days, tuple(entries))


def base_days(day: date, basis: str) -> tuple[date, ...]:
    """The days before `day` that the base `basis` (a key of BASES) is made of, newest first."""
    return tuple(day - timedelta(days=n) for n in BASES[basis])


def _currencies(rows: Sequence[Summary]) -> list[str | None]:
    """The currencies with orders among `rows`, else those of their rows of zeros (a shop's
    empty day is one row of zeros, in its fixed currency or None), else just None."""
    found = {r.currency for r in rows if r.total_orders} or {r.currency for r in rows} or {None}
    return sorted(found, key=lambda c: (c is not None, c or ""))


def _zeros(when: date, tz: str, currency: str | None) -> Summary:
    zero = Decimal("0.00")
    return Summary(when, tz, currency, 0, 0, zero, zero, zero)


def _base(name: str, rows: Sequence[Summary]) -> Decimal:
    """The figure `name` over `rows`: the day's own for one day, else the mean (the totals'
    sum / number of days; an average's total over the orders), rounded half up to 0.01."""
    if len(rows) == 1:
        return Decimal(getattr(rows[0], name))
    if name in _RATIOS:
        orders = sum(r.total_orders for r in rows)
        total = sum((Decimal(getattr(r, _RATIOS[name])) for r in rows), Decimal(0))
        return (total / orders).quantize(CENT, ROUND_HALF_UP) if orders else Decimal("0.00")
    total = sum((Decimal(getattr(r, name)) for r in rows), Decimal(0))
    return (total / len(rows)).quantize(CENT, ROUND_HALF_UP)


def _compare(value: int | Decimal, base: Decimal, *, live: bool) -> Comparison:
    change = Decimal(value) - base
    percent = None if base == 0 else (change / base * 100).quantize(TENTH, ROUND_HALF_UP)
    return Comparison(base, change, percent, live)
