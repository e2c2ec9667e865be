"""README's own examples of a `[source]`, run as written: the mapping and the query.

The query returns the raw placed-at column with `placed_at_zone`: its figures are right
around a Moscow midnight on a Moscow server, and a day's statement reads the orders
through their index on completed_at (the day's bounds reach the column inside the query).
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from orderreport.reports import queries
from tests.conftest import REPO, plain, run_cli, url_text
from tests.test_placed_at import index_conditions

ZONE = "Europe/Moscow"


def readme_source(after: str) -> str:
    """The first ```toml block after the text `after` in README.md."""
    text = (REPO / "README.md").read_text("utf-8")
    start = text.index(after)
    found = re.search(r"```toml\n(.*?)```", text[start:], re.S)
    assert found is not None
    return found.group(1)


def connect(url: URL) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(plain(url), autocommit=True)


def moscow(url: URL) -> None:
    with connect(url) as conn:
        conn.execute(f"ALTER DATABASE \"{url.database}\" SET timezone TO '{ZONE}'")


def summary(url: URL, config: Path, day: str) -> list[dict[str, Any]]:
    r = run_cli(
        "summary",
        "--date",
        day,
        "--json",
        "--database-url",
        url_text(url),
        "--tz",
        ZONE,
        "--config",
        str(config),
    )
    assert r.code == 0, r.err
    got: list[dict[str, Any]] = json.loads(r.out, parse_float=Decimal)
    return [
        {k: row[k] for k in ("currency", "total_orders", "total_products", "total_value")}
        for row in got
    ]


def plan(url: URL, config: Path) -> list[dict[str, str]]:
    args = ("--database-url", url_text(url), "--config", str(config), "--json")
    r = run_cli("migrate", "--plan", *args)
    assert r.code == 0, r.err
    steps: list[dict[str, str]] = json.loads(r.out)
    return steps


def status(url: URL, config: Path) -> dict[str, Any]:
    args = ("--database-url", url_text(url), "--config", str(config), "--tz", ZONE)
    r = run_cli("status", "--json", *args)
    found: dict[str, Any] = json.loads(r.out)
    return found


def migrate(url: URL, config: Path) -> None:
    r = run_cli("migrate", "--database-url", url_text(url), "--config", str(config))
    assert r.code == 0, r.err


def shop_orders(url: URL) -> None:
    """README's query shop: shop.orders (completed_at naive UTC, indexed) and shop.items."""
    moscow(url)
    with connect(url) as conn:
        conn.execute("CREATE SCHEMA shop")
        conn.execute(
            "CREATE TABLE shop.orders (id serial PRIMARY KEY, completed_at timestamp, "
            "total numeric(12, 2), currency text, state text)"
        )
        conn.execute("CREATE INDEX orders_completed_at_idx ON shop.orders (completed_at)")
        conn.execute("CREATE TABLE shop.items (id serial PRIMARY KEY, order_id int)")
        conn.execute("CREATE INDEX items_order_id_idx ON shop.items (order_id)")
        for at, total, currency, state, items in [
            (datetime(2025, 12, 15, 20, 59, 59), "10.00", "EUR", "complete", 1),  # 15th
            (datetime(2025, 12, 15, 21, 0, 0), "20.00", "EUR", "complete", 2),  # 16th 00:00
            (datetime(2025, 12, 16, 12, 0, 0), "5.50", "USD", "complete", 0),
            (datetime(2025, 12, 16, 13, 0, 0), "99.00", "EUR", "canceled", 1),
            (None, "42.00", "EUR", "cart", 1),
        ]:
            row = conn.execute(
                "INSERT INTO shop.orders (completed_at, total, currency, state) "
                "VALUES (%s, %s, %s, %s) RETURNING id",
                (at, Decimal(total), currency, state),
            ).fetchone()
            for _ in range(items):
                conn.execute("INSERT INTO shop.items (order_id) VALUES (%s)", row)
        conn.execute("ANALYZE shop.orders")


def test_the_readme_query_source(empty_url: URL, tmp_path: Path) -> None:
    text = readme_source("**A query**")
    assert tomllib.loads(text)["source"]["placed_at_zone"] == "UTC"
    config = tmp_path / "config.toml"
    config.write_text(text, "utf-8")
    shop_orders(empty_url)
    assert not [s for s in plan(empty_url, config) if s["action"] == "advise"]
    migrate(empty_url, config)
    assert status(empty_url, config)["whole_reads"] is None
    assert summary(empty_url, config, "2025-12-16") == [
        {
            "currency": "EUR",
            "total_orders": 1,
            "total_products": 2,
            "total_value": Decimal("20.00"),
        },
        {"currency": "USD", "total_orders": 1, "total_products": 0, "total_value": Decimal("5.50")},
    ]
    assert summary(empty_url, config, "2025-12-15")[0]["total_value"] == Decimal("10.00")
    with connect(empty_url) as conn:
        conn.execute(f"SET TimeZone TO '{ZONE}'")
        conn.execute("SET enable_seqscan = off")
        row = conn.execute(
            "EXPLAIN (FORMAT JSON) " + queries._SUMMARIES["naive"],
            {"start": "2025-12-16", "end": "2025-12-16", "fallback": None, "naive_tz": "UTC"},
        ).fetchone()
    assert row is not None
    scans = set(index_conditions(row[0][0]["Plan"]))
    on_orders = [(t, c) for t, rel, c in scans if rel == "orders"]
    assert on_orders and all("completed_at >= " in c for _, c in on_orders), scans


def test_the_readme_mapping(empty_url: URL, tmp_path: Path) -> None:
    text = readme_source("**A mapping**")
    config = tmp_path / "config.toml"
    config.write_text(text, "utf-8")
    moscow(empty_url)
    with connect(empty_url) as conn:
        conn.execute("CREATE SCHEMA sales")
        conn.execute(
            "CREATE TABLE sales.purchase (id serial PRIMARY KEY, created timestamp, "
            "amount_cents bigint, currency text, status text, deleted timestamptz)"
        )
        conn.execute("CREATE TABLE sales.purchase_line (id serial, purchase_id int)")
        for at, cents, status, deleted in [
            (datetime(2025, 12, 16, 9, 0), 1999, "paid", None),
            (datetime(2025, 12, 16, 10, 0), 501, "shipped", None),
            (datetime(2025, 12, 16, 11, 0), 700, "paid", datetime(2025, 12, 17, tzinfo=UTC)),
            (datetime(2025, 12, 16, 11, 30), 800, "new", None),
        ]:
            row = conn.execute(
                "INSERT INTO sales.purchase (created, amount_cents, currency, status, deleted) "
                "VALUES (%s, %s, 'EUR', %s, %s) RETURNING id",
                (at, cents, status, deleted),
            ).fetchone()
            conn.execute("INSERT INTO sales.purchase_line (purchase_id) VALUES (%s)", row)
    migrate(empty_url, config)
    assert summary(empty_url, config, "2025-12-16") == [
        {"currency": "EUR", "total_orders": 2, "total_products": 2, "total_value": Decimal("25.00")}
    ]


def test_a_query_that_wraps_its_placed_at_is_told_a_day_reads_every_order(
    empty_url: URL, tmp_path: Path
) -> None:
    """The form README used to show: the column inside AT TIME ZONE, which no index has.
    --plan and status say so, with the fix; the figures are the same."""
    shop_orders(empty_url)
    text = readme_source("**A query**").replace(
        "o.completed_at AS placed_at", "o.completed_at AT TIME ZONE 'UTC' AS placed_at"
    )
    text = "\n".join(line for line in text.splitlines() if "placed_at_zone" not in line)
    config = tmp_path / "wrapped.toml"
    config.write_text(text, "utf-8")
    advised = [s for s in plan(empty_url, config) if s["action"] == "advise"]
    assert [s["object"] for s in advised] == ["shop.orders"], advised
    assert "return its raw placed-at column" in advised[0]["detail"]
    migrate(empty_url, config)
    found = status(empty_url, config)["whole_reads"]
    assert found and found.startswith("a day reads every row of shop.orders"), found
    assert summary(empty_url, config, "2025-12-16")[0]["total_value"] == Decimal("20.00")
