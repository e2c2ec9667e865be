"""A shop of a user's own design (no platform's), read through a `[source]` mapping or query.

`sales` holds one row per order with its currency and an amount in major units of up to
three decimals (numeric(12,3): sub-cent amounts, rounded to cents once per order by
orderreport), `state` says which orders count (not 'cancelled'), and `sale_lines` holds the
order lines. Tests use it where a multi-currency shop is needed without a platform's DDL.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from tests.conftest import plain

DDL = """
CREATE TABLE public.sales (
    id bigserial PRIMARY KEY,
    placed_at timestamptz NOT NULL,
    amount numeric(12, 3),
    currency text NOT NULL,
    state text NOT NULL DEFAULT 'placed'
);
CREATE INDEX sales_placed_at_idx ON public.sales (placed_at);
CREATE TABLE public.sale_lines (
    id bigserial PRIMARY KEY,
    sale_id bigint NOT NULL REFERENCES public.sales (id),
    sku text
);
CREATE INDEX sale_lines_sale_id_idx ON public.sale_lines (sale_id);
"""

MAPPING: dict[str, Any] = {
    "orders": "sales",
    "placed_at": "placed_at",
    "amount": "amount",
    "currency": "currency",
    "where": "o.state <> 'cancelled'",
    "uses": ["state"],
    "lines": "sale_lines",
    "lines_order_key": "sale_id",
}
QUERY = (
    "SELECT s.id AS order_id, s.placed_at AS placed_at, s.amount AS amount, "
    "s.currency AS currency, "
    "(SELECT count(*) FROM {schema}.sale_lines l WHERE l.sale_id = s.id) AS lines "
    "FROM {schema}.sales s WHERE s.state <> 'cancelled'"
)


def connect(url: URL) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(plain(url), autocommit=True)


def build(url: URL) -> None:
    with connect(url) as conn:
        conn.execute(DDL)


def config(folder: Path, kind: str = "mapping", **extra: Any) -> Path:
    """A config file with the shop as a [source] `kind` ("mapping" or "query")."""
    table = dict(MAPPING) if kind == "mapping" else {"query": QUERY, "schema": "public"}
    table.update(extra)
    path = folder / f"sales-{kind}.toml"
    path.write_text(
        "[source]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items()), "utf-8"
    )
    return path


def sale(
    conn: psycopg.Connection[Any],
    at: datetime,
    amount: str | Decimal | None,
    currency: str,
    lines: int = 1,
    state: str = "placed",
) -> int:
    """One order (and `lines` lines) placed at `at`; its id."""
    row = conn.execute(
        "INSERT INTO public.sales (placed_at, amount, currency, state) "
        "VALUES (%s, %s, %s, %s) RETURNING id",
        (at, None if amount is None else Decimal(amount), currency, state),
    ).fetchone()
    assert row is not None
    for _ in range(lines):
        add_line(conn, int(row[0]))
    return int(row[0])


def add_line(conn: psycopg.Connection[Any], sale_id: int) -> None:
    conn.execute("INSERT INTO public.sale_lines (sale_id, sku) VALUES (%s, 'sku')", (sale_id,))


def noon(day: date, hours: int = 0) -> datetime:
    """An instant of `day` in UTC: noon, plus `hours`."""
    return datetime.combine(day, time(12), UTC) + timedelta(hours=hours)
