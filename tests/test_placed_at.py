"""Any placed-at column a shop really has, and a currency from anywhere, through a mapping.

One shop, the same orders, stored as each kind of column a platform really uses: a
timestamptz(3), a naive timestamp(0) (Doctrine) or timestamp(3) (Prisma) written in UTC, a
date (the shop's own day), Unix time in seconds or milliseconds. The database's TimeZone
is Moscow (the server's zone is never the one a naive column was written in), and the
orders sit on both sides of a Moscow midnight (20:59:59Z and 21:00:00Z). Every kind gives
the same days, figures computed here in Decimal; every kind's day is a range of the raw
column, which its index serves (the plan is read). The currency comes from another table
(a subquery) or from a function of a column.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy.engine import URL

from orderreport.reports import queries
from tests.conftest import Result, plain, run_cli, url_text

ZONE = "Europe/Moscow"
CENT = Decimal("0.01")
DAY = date(2025, 12, 16)  # a Moscow day: 2025-12-15 21:00Z to 2025-12-16 21:00Z


@dataclass(frozen=True)
class Sale:
    at: datetime  # the instant it was placed
    amount: str
    currency: str  # as the report shows it (upper case)
    lines: int
    counts: bool = True


SALES = [
    Sale(datetime(2025, 12, 15, 20, 59, 59, 999000, tzinfo=UTC), "5.005", "EUR", 1),  # 15th
    Sale(datetime(2025, 12, 15, 21, 0, 0, tzinfo=UTC), "10.00", "EUR", 2),  # 16th, 00:00
    Sale(datetime(2025, 12, 16, 9, 30, tzinfo=UTC), "0.004", "USD", 0),  # no lines
    Sale(datetime(2025, 12, 16, 12, 0, tzinfo=UTC), "1200.50", "USD", 3),
    Sale(datetime(2025, 12, 16, 13, 0, tzinfo=UTC), "999.00", "USD", 1, counts=False),
    Sale(datetime(2025, 12, 16, 20, 59, 59, tzinfo=UTC), "7.10", "EUR", 1),  # 16th, 23:59:59
    Sale(datetime(2025, 12, 16, 21, 0, 0, tzinfo=UTC), "3.30", "EUR", 1),  # 17th
]

# the column's type, how a Sale's instant is stored in it, and what [source] says of it
KINDS: dict[str, tuple[str, Any, dict[str, str]]] = {
    "timestamptz(3)": ("timestamptz(3)", lambda at: at, {}),
    "timestamp(0)": (
        "timestamp(0)",
        lambda at: at.astimezone(UTC).replace(tzinfo=None, microsecond=0),
        {"placed_at_zone": "UTC"},
    ),
    "timestamp(3)": (
        "timestamp(3)",
        lambda at: at.astimezone(UTC).replace(tzinfo=None),
        {"placed_at_zone": "UTC"},
    ),
    "date": ("date", lambda at: at.astimezone(ZoneInfo(ZONE)).date(), {}),
    "seconds": ("bigint", lambda at: int(at.timestamp()), {"placed_at_unit": "seconds"}),
    "milliseconds": (
        "bigint",
        lambda at: int(at.timestamp() * 1000),
        {"placed_at_unit": "milliseconds"},
    ),
}

CURRENCIES = {
    "subquery": "(SELECT c.code FROM {schema}.currencies c WHERE c.id = o.currency_id)",
    "function": "upper(o.cur)",
}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def expected(day: date) -> list[dict[str, object]]:
    """The day's rows by currency, from SALES: each amount rounded to cents once."""
    mine = [s for s in SALES if s.counts and s.at.astimezone(ZoneInfo(ZONE)).date() == day]
    rows = []
    for currency in sorted({s.currency for s in mine}):
        group = [s for s in mine if s.currency == currency]
        value = sum((cents(Decimal(s.amount)) for s in group), Decimal(0))
        lines = sum(s.lines for s in group)
        rows.append(
            {
                "date": day.isoformat(),
                "time_zone": ZONE,
                "currency": currency,
                "total_orders": len(group),
                "total_products": lines,
                "total_value": cents(value),
                "average_products_per_order": cents(Decimal(lines) / len(group)),
                "average_order_value": cents(value / len(group)),
            }
        )
    return rows


def connect(url: URL) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(plain(url), autocommit=True)


def build(url: URL, column_type: str, stored: Any) -> None:
    """The shop in schema `shop`, on a database whose TimeZone is Moscow."""
    with connect(url) as conn:
        conn.execute(f"ALTER DATABASE \"{url.database}\" SET timezone TO '{ZONE}'")
        conn.execute("CREATE SCHEMA shop")
        conn.execute("CREATE TABLE shop.currencies (id int PRIMARY KEY, code text NOT NULL)")
        conn.execute("INSERT INTO shop.currencies VALUES (1, 'EUR'), (2, 'USD')")
        conn.execute(
            f"CREATE TABLE shop.purchase (id serial PRIMARY KEY, placed {column_type}, "
            "total numeric(12, 3), currency_id int REFERENCES shop.currencies, cur text, "
            "cancelled bool NOT NULL DEFAULT false)"
        )
        conn.execute("CREATE INDEX purchase_placed_idx ON shop.purchase (placed)")
        conn.execute("CREATE TABLE shop.purchase_line (id serial PRIMARY KEY, purchase_id int)")
        conn.execute("CREATE INDEX purchase_line_purchase_idx ON shop.purchase_line (purchase_id)")
        for s in SALES:
            row = conn.execute(
                "INSERT INTO shop.purchase (placed, total, currency_id, cur, cancelled) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (
                    stored(s.at),
                    Decimal(s.amount),
                    1 if s.currency == "EUR" else 2,
                    s.currency.lower(),
                    not s.counts,
                ),
            ).fetchone()
            assert row is not None
            for _ in range(s.lines):
                conn.execute("INSERT INTO shop.purchase_line (purchase_id) VALUES (%s)", row)
        conn.execute("ANALYZE shop.purchase")


def source(currency: str, **extra: str) -> dict[str, str]:
    return {
        "schema": "shop",
        "orders": "purchase",
        "placed_at": "placed",
        "amount": "total",
        "currency": currency,
        "where": "NOT o.cancelled",
        "lines": "purchase_line",
        "lines_order_key": "purchase_id",
        **extra,
    }


def write_config(folder: Path, table: dict[str, str]) -> Path:
    path = folder / "config.toml"
    path.write_text(
        "[source]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items()), "utf-8"
    )
    return path


def cli(url: URL, config: Path, *args: str) -> Result:
    return run_cli(*args, "--database-url", url_text(url), "--tz", ZONE, "--config", str(config))


@pytest.fixture(params=sorted(KINDS))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=sorted(CURRENCIES))
def currency(request: pytest.FixtureRequest) -> str:
    return CURRENCIES[str(request.param)]


def test_every_kind_of_placed_at_gives_the_same_days(
    empty_url: URL, tmp_path: Path, kind: str, currency: str
) -> None:
    column_type, stored, extra = KINDS[kind]
    build(empty_url, column_type, stored)
    config = write_config(tmp_path, source(currency, **extra))
    r = cli(empty_url, config, "migrate")
    assert r.code == 0, r.err
    days = [DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)]
    for day in days:
        r = cli(empty_url, config, "summary", "--date", day.isoformat(), "--json")
        assert r.code == 0, r.err
        assert json.loads(r.out, parse_float=Decimal) == expected(day), (kind, day)
    span = ("--from", days[0].isoformat(), "--to", days[-1].isoformat())
    assert cli(empty_url, config, "daily", *span).code == 0
    r = cli(empty_url, config, "history", "--json", *span)
    history = json.loads(r.out, parse_float=Decimal)
    assert [{k: v for k, v in h.items() if k != "generated_at"} for h in history] == [
        row for day in days for row in expected(day)
    ]
    assert cli(empty_url, config, "verify", *span).code == 0


def index_conditions(node: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(node type, relation, index condition) of every scan in a JSON plan."""
    if "Relation Name" in node:
        yield node["Node Type"], node["Relation Name"], node.get("Index Cond", "")
    for child in node.get("Plans", []):
        yield from index_conditions(child)


def day_plan(url: URL, kind: str) -> set[tuple[str, str, str]]:
    """The scans of a day's summary statement (queries.py's own) on the view."""
    params: dict[str, object] = {"start": DAY, "end": DAY, "fallback": None}
    params["naive_tz"] = "UTC"
    with connect(url) as conn:
        conn.execute(f"SET TimeZone TO '{ZONE}'")
        conn.execute("SET enable_seqscan = off")
        row = conn.execute("EXPLAIN (FORMAT JSON) " + queries._SUMMARIES[kind], params).fetchone()
    assert row is not None
    return set(index_conditions(row[0][0]["Plan"]))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_day_is_a_range_of_the_raw_column_its_index_serves(
    empty_url: URL, tmp_path: Path, kind: str
) -> None:
    column_type, stored, extra = KINDS[kind]
    build(empty_url, column_type, stored)
    config = write_config(tmp_path, source(CURRENCIES["function"], **extra))
    assert cli(empty_url, config, "migrate").code == 0
    placed_kind = {"timestamptz(3)": "instant", "timestamp(0)": "naive", "timestamp(3)": "naive"}
    scans = day_plan(empty_url, placed_kind.get(kind, kind))
    on_orders = [(t, cond) for t, rel, cond in scans if rel == "purchase"]
    assert on_orders and all("placed >= " in c and "placed < " in c for _, c in on_orders), scans
    assert all(t != "Seq Scan" for t, _ in on_orders), scans


@pytest.mark.parametrize("column_type", ["timestamp(0)", "timestamp(3)", "timestamp"])
def test_a_naive_placed_at_without_its_zone_is_refused(
    empty_url: URL, tmp_path: Path, column_type: str
) -> None:
    build(empty_url, column_type, KINDS["timestamp(0)"][1])
    config = write_config(tmp_path, source(CURRENCIES["function"]))
    for args in (("migrate", "--plan"), ("migrate",), ("summary",)):
        r = cli(empty_url, config, *args)
        assert (r.code, r.out) == (2, ""), (args, r)
        assert r.err.count("\n") == 1, r.err
        assert "shop.purchase.placed is timestamp" in r.err and "placed_at_zone" in r.err, r.err
    # the zone said once for the whole installation, as --naive-tz, is a zone too
    zone = ("--naive-tz", "UTC")
    assert cli(empty_url, config, "migrate", *zone).code == 0
    r = cli(empty_url, config, "summary", "--date", DAY.isoformat(), "--json", *zone)
    assert json.loads(r.out, parse_float=Decimal) == expected(DAY), r


def test_an_integer_placed_at_needs_its_unit(empty_url: URL, tmp_path: Path) -> None:
    build(empty_url, "bigint", KINDS["seconds"][1])
    config = write_config(tmp_path, source("cur"))
    r = cli(empty_url, config, "migrate")
    assert (r.code, r.out) == (2, "") and r.err.count("\n") == 1, r
    assert "shop.purchase.placed is bigint" in r.err and "placed_at_unit" in r.err, r.err
    config = write_config(tmp_path, source("cur", placed_at_unit="hours"))
    r = cli(empty_url, config, "migrate")
    assert r.code == 2 and "placed_at_unit must be one of seconds, milliseconds" in r.err, r
