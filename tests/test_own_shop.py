"""A shop of the user's own design (tests/sales.py), read through a `[source]` mapping or a
query: per-currency totals over a range in a table, sub-cent amounts rounded once per order
through a query, and a query that stops resolving after the shop's schema changes.

Every expected figure is computed here in Decimal from the orders the test inserted.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from orderreport.cli.dates import today_in
from tests import sales
from tests.conftest import Result, run_cli, url_text

CENT = Decimal("0.01")


def cli(url: URL, config: Path, *args: str) -> Result:
    return run_cli(*args, "--database-url", url_text(url), "--tz", "UTC", "--config", str(config))


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# (day offset from the first day, amount, currency, lines)
ORDERS = [
    (0, "10.005", "EUR", 1),
    (0, "7.50", "USD", 2),
    (0, "0.004", "USD", 1),
    (1, "19.99", "EUR", 3),
    (1, "0.005", "EUR", 1),
    (2, "1200.00", "USD", 1),
]


def fill(url: URL, first: date) -> None:
    with sales.connect(url) as conn:
        for offset, amount, currency, lines in ORDERS:
            sales.sale(conn, sales.noon(first + timedelta(days=offset)), amount, currency, lines)
        # never counted: a cancelled order worth more than all the others
        sales.sale(conn, sales.noon(first), "99999.00", "EUR", state="cancelled")


def totals(currency: str) -> list[str]:
    """The range's total row for `currency` as a table shows it, computed by hand."""
    mine = [(Decimal(a), n) for _, a, c, n in ORDERS if c == currency]
    value = sum((cents(a) for a, _ in mine), Decimal(0))
    lines = sum(n for _, n in mine)
    return [
        "total",
        "UTC",
        currency,
        str(len(mine)),
        str(lines),
        f"{value:,}",
        str(cents(Decimal(lines) / len(mine))),
        str(cents(value / len(mine))),
    ]


def test_a_range_in_a_table_has_one_total_row_per_currency(empty_url: URL, tmp_path: Path) -> None:
    first = today_in("UTC") - timedelta(days=3)
    sales.build(empty_url)
    config = sales.config(tmp_path)
    fill(empty_url, first)
    assert cli(empty_url, config, "migrate").code == 0
    r = cli(empty_url, config, "summary", "--from", first.isoformat(), "--to", "yesterday")
    assert r.code == 0, r.err
    rows = [line.split() for line in r.out.splitlines()]
    assert [row for row in rows if row[:1] == ["total"]] == [totals("EUR"), totals("USD")]
    # and the days above it, one row per day and currency that had orders
    days = [row[:3] for row in rows if row[:1] and row[0][:1].isdigit()]
    assert days == [
        [(first + timedelta(days=d)).isoformat(), "UTC", c]
        for d, c in [(0, "EUR"), (0, "USD"), (1, "EUR"), (2, "USD")]
    ]


def test_a_query_source_rounds_sub_cent_amounts_once_per_order(
    empty_url: URL, tmp_path: Path
) -> None:
    """numeric(12,3) amounts through a query: each order's amount is rounded to cents, then
    summed (0.005 + 0.005 is 0.02, not 0.01), as a mapping does."""
    first = today_in("UTC") - timedelta(days=3)
    sales.build(empty_url)
    query, mapping = sales.config(tmp_path, "query"), sales.config(tmp_path, "mapping")
    fill(empty_url, first)
    with sales.connect(empty_url) as conn:  # the day's 0.005 gets a twin
        sales.sale(conn, sales.noon(first + timedelta(days=1), 1), "0.005", "EUR")
    assert cli(empty_url, query, "migrate").code == 0
    day = (first + timedelta(days=1)).isoformat()
    r = cli(empty_url, query, "summary", "--date", day, "--json")
    assert r.code == 0, r.err
    (eur,) = json.loads(r.out, parse_float=Decimal)
    assert (eur["total_orders"], eur["total_value"]) == (3, Decimal("19.99") + 2 * CENT)
    r = cli(empty_url, query, "report", "--date", day, "--json")
    amounts = [row["total_amount"] for row in json.loads(r.out, parse_float=Decimal)]
    assert amounts == [Decimal("19.99"), CENT, CENT]
    # the same shop through the mapping: the same figures
    assert cli(empty_url, mapping, "migrate").code == 0
    r = cli(empty_url, mapping, "summary", "--date", day, "--json")
    assert json.loads(r.out, parse_float=Decimal) == [eur]
    # the first day: USD 7.50 + 0.004 -> 7.50 + 0.00
    assert cli(empty_url, query, "migrate").code == 0
    r = cli(empty_url, query, "summary", "--date", first.isoformat(), "--json")
    usd = [row for row in json.loads(r.out, parse_float=Decimal) if row["currency"] == "USD"]
    assert [(u["total_orders"], u["total_value"]) for u in usd] == [(2, Decimal("7.50"))]


@pytest.mark.parametrize("command", [("summary", "--date", "yesterday"), ("report",)])
def test_a_query_source_that_no_longer_resolves_is_unhealthy_and_refused(
    empty_url: URL, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """The shop's upgrade renames a column the query reads: the view orderreport built still
    answers (PostgreSQL follows the rename), but the source as declared no longer runs."""
    sales.build(empty_url)
    config = sales.config(tmp_path, "query")
    fill(empty_url, today_in("UTC") - timedelta(days=3))
    assert cli(empty_url, config, "migrate").code == 0
    assert cli(empty_url, config, "daily", "--restate", "0").code == 0
    r = cli(empty_url, config, "status", "--json")
    assert (r.code, json.loads(r.out)["problem"]) == (0, None), r
    with sales.connect(empty_url) as conn:
        conn.execute("ALTER TABLE public.sales RENAME COLUMN amount TO gross")
    want = "source query does not run: column s.amount does not exist"
    r = cli(empty_url, config, "status", "--json")
    status = json.loads(r.out)
    assert (r.code, status["healthy"], status["problem"]) == (1, False, want), r
    assert r.err == f"unhealthy: {want}\n"
    r = cli(empty_url, config, *command)
    assert (r.code, r.out, r.err) == (1, "", f"orderreport: error: {want}\n")
