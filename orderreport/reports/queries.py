"""Reads: per-order report rows and day summaries. The database does the arithmetic.

A report day is a calendar day in the session's TimeZone (db/ sets it to the shop's
zone): from the first instant whose local date is that day (where midnight happens twice,
the first of the two; where it is missing, the instant the clocks jump) to the first
instant of the next day, so clock-change days have 23 or 25 hours and every order is in
the day of its report_at. Every query selects the days as a half-open range on the shop's
own created_at column, which ix_orders_created_at serves; the orderreport.order_reports
view pushes that range down to the orders scan. The bounds are computed in the column's
own kind (shop.DAY_BOUNDS): for timestamptz the instant itself; for a naive timestamp
written in zone W that instant as W's wall clock (`… AT TIME ZONE W`); for a date the
date; for Unix time the instant's epoch; so the column is never wrapped in an expression
and the index still serves a day.
"""

from __future__ import annotations

import select
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from psycopg import pq

from orderreport import db
from orderreport import shop as shop_mod
from orderreport.columns import fields_of, header
from orderreport.shop import Shop, quote

STREAM_BATCH = 2000  # rows per server-side cursor fetch: memory stays flat for any size


@dataclass(frozen=True)
class ReportRow:
    """One order: its report day, id (of the shop's own type), currency (None: the shop has
    none), number of order lines (not units) and total (exact, rounded to cents once)."""

    report_at: date = field(metadata=header("day"))
    order_id: int | str | UUID = field(metadata=header("order"))
    currency: str | None = field(metadata=header("cur"))
    count_product: int = field(metadata=header("lines"))
    total_amount: Decimal = field(metadata=header("total"))


@dataclass(frozen=True)
class Summary:
    """One day's totals in one currency (None: the shop has none); money and averages are
    Decimal with 2 places, averages 0 if no orders. Never added across currencies."""

    date: date
    time_zone: str = field(metadata=header("zone"))
    currency: str | None = field(metadata=header("cur"))
    total_orders: int = field(metadata=header("orders"))
    total_products: int = field(metadata=header("lines"))
    total_value: Decimal = field(metadata=header("total value"))
    average_products_per_order: Decimal = field(metadata=header("avg lines/order"))
    average_order_value: Decimal = field(metadata=header("avg order value"))


REPORT_FIELDS = fields_of(ReportRow)
SUMMARY_FIELDS = fields_of(Summary)


# The range of days start..end on the view's created_at, by the placed-at column's kind.
_BOUNDS = shop_mod.DAY_BOUNDS


# The figures of a group of view rows. An order without an amount (NULL) is an order worth
# 0 in them, so total_value = average_order_value * total_orders always holds; its report
# row shows no amount (null).
_FIGURES = """COUNT(*) AS total_orders,
               SUM(count_product) AS total_products,
               SUM(coalesce(total_amount, 0)) AS total_value,
               AVG(count_product) AS average_products_per_order,
               AVG(coalesce(total_amount, 0)) AS average_order_value"""


def _ranged(sql: str) -> dict[str, str]:
    """`sql` with its {days} filled by each kind of bound (keyed by Shop.placed_kind), and
    its {figures} by _FIGURES."""
    return {kind: sql.format(days=bounds, figures=_FIGURES) for kind, bounds in _BOUNDS.items()}


def _params(shop: Shop, start: date, end: date) -> dict[str, object]:
    # a day without orders is one row of zeros, in the shop's fixed currency if it has one
    params: dict[str, object] = {"start": start, "end": end, "fallback": shop.currency_code}
    if shop.naive:
        params["naive_tz"] = shop.naive_tz
    return params


def _bound(shop: Shop, start: date, end: date) -> dict[str, object]:
    """_params without the ones a statement of only the range's bounds does not name."""
    params = _params(shop, start, end)
    del params["fallback"]
    return params


_REPORT_RANGE = _ranged(
    """
    SELECT report_at, order_id, currency, count_product, total_amount
    FROM orderreport.order_reports
    WHERE {days}
    ORDER BY report_at, order_id
    """
)


def _whole_history(shop: Shop) -> str:
    """order_reports for every day at once: the view's rows, each order's lines counted in
    one grouped pass (shop.GROUPED) instead of a lookup per order."""
    return f"({shop_mod.view_definition(shop, quote, shop_mod.GROUPED)}) AS order_reports"


def _report_all(shop: Shop) -> str:
    return f"""
        SELECT report_at, order_id, currency, count_product, total_amount
        FROM {_whole_history(shop)}
        ORDER BY report_at DESC, order_id
        """


# One grouped pass over the range, by day and currency, joined to every day of it so a day
# without orders gets a row of zeros (in the fixed currency, if the shop has one).
_SUMMARIES = _ranged(
    """
    WITH days AS (
        SELECT CAST(%(start)s AS date) + i AS day
        FROM generate_series(0, CAST(%(end)s AS date) - CAST(%(start)s AS date)) AS i
    ), per_day AS (
        SELECT report_at, currency,
               {figures}
        FROM orderreport.order_reports
        WHERE {days}
        GROUP BY report_at, currency
    )
    SELECT days.day                                            AS date,
           current_setting('TimeZone')                         AS time_zone,
           CASE WHEN per_day.report_at IS NULL THEN CAST(%(fallback)s AS text)
                ELSE per_day.currency END                      AS currency,
           COALESCE(per_day.total_orders, 0)::bigint           AS total_orders,
           COALESCE(per_day.total_products, 0)::bigint         AS total_products,
           ROUND(COALESCE(per_day.total_value, 0), 2)          AS total_value,
           ROUND(COALESCE(per_day.average_products_per_order, 0), 2)
                                                               AS average_products_per_order,
           ROUND(COALESCE(per_day.average_order_value, 0), 2)  AS average_order_value
    FROM days
    LEFT JOIN per_day ON per_day.report_at = days.day
    ORDER BY days.day, 3 NULLS FIRST
    """
)

# The whole range as one figure per currency (the total rows of a table): averages over
# all its orders; one row of zeros when it has none.
_RANGE_TOTAL = _ranged(
    """
    WITH per_currency AS (
        SELECT currency,
               {figures}
        FROM orderreport.order_reports
        WHERE {days}
        GROUP BY currency
    )
    SELECT CAST(%(start)s AS date)                     AS date,
           current_setting('TimeZone')              AS time_zone,
           CASE WHEN t.total_orders IS NULL THEN CAST(%(fallback)s AS text)
                ELSE t.currency END                 AS currency,
           COALESCE(t.total_orders, 0)::bigint      AS total_orders,
           COALESCE(t.total_products, 0)::bigint    AS total_products,
           ROUND(COALESCE(t.total_value, 0), 2)     AS total_value,
           ROUND(COALESCE(t.average_products_per_order, 0), 2) AS average_products_per_order,
           ROUND(COALESCE(t.average_order_value, 0), 2) AS average_order_value
    FROM (SELECT 1) AS one LEFT JOIN per_currency t ON true
    ORDER BY 3 NULLS FIRST
    """
)


def report_rows(
    conn: psycopg.Connection[Any], shop: Shop, start: date | None, end: date | None
) -> Iterator[ReportRow]:
    """Per-order rows for the days start..end inclusive, by day then order id.

    With start and end both None: every row, newest day first, then order id. Rows stream
    from a server-side cursor, so the caller must consume them inside the session.
    """
    # a named cursor: the rows stay on the server, fetched STREAM_BATCH at a time (each
    # fetch watched: a frozen server must not hang it forever, see pg.ServerCursor)
    with conn.cursor(name="orderreport_report") as cursor:
        if start is None or end is None:
            cursor.execute(_report_all(shop))
        else:
            cursor.execute(_REPORT_RANGE[shop.placed_kind], _bound(shop, start, end))
        while batch := cursor.fetchmany(STREAM_BATCH):
            for report_at, order_id, currency, count_product, total_amount in batch:
                yield ReportRow(report_at, order_id, currency, count_product, total_amount)


def summaries(conn: psycopg.Connection[Any], shop: Shop, start: date, end: date) -> list[Summary]:
    """One Summary per day and currency from start to end inclusive, by day then currency;
    a day without orders is one Summary of zeros."""
    rows = conn.execute(day_statement(shop, start, end), _params(shop, start, end)).fetchall()
    return [Summary(*row) for row in rows]


def day_statement(shop: Shop, start: date, end: date) -> str:
    """The statement `summaries` runs for start..end. One day is the range's total grouped
    by currency alone: the same rows, without the series of days joined to the orders
    grouped by day (0.4 ms of planning and joining: an eighth of a small shop's 3 ms day)."""
    return (_RANGE_TOTAL if start == end else _SUMMARIES)[shop.placed_kind]


def summary(conn: psycopg.Connection[Any], shop: Shop, day: date) -> list[Summary]:
    """The Summaries of one day, one per currency (one of zeros if it had no orders)."""
    return summaries(conn, shop, day, day)


def range_total(conn: psycopg.Connection[Any], shop: Shop, start: date, end: date) -> list[Summary]:
    """The range start..end as one Summary per currency (their `date` is `start`)."""
    rows = conn.execute(_RANGE_TOTAL[shop.placed_kind], _params(shop, start, end)).fetchall()
    return [Summary(*row) for row in rows]


# -- exports at the speed of COPY ---------------------------------------------------------
# `report` as CSV or JSON lines is written by PostgreSQL itself (COPY … TO STDOUT) and
# streamed to stdout block by block: no Python object per row. The text is exactly what
# render/records.py writes for the same rows: ISO dates (the COPY's transaction sets DateStyle ISO
# whatever the user's is; to_char cost a tenth of the export), numbers as PostgreSQL prints
# integers and numerics rounded to 2 places, CSV lines ending in CRLF (COPY ends them in LF:
# the caller turns them into CRLF, and none of these values can hold a line break).
_COPY_COLUMNS = {
    "csv": "report_at, order_id, currency, count_product, total_amount",
    "jsonl": """'{"report_at": "' || report_at || '", "order_id": '
        || pg_catalog.to_json(order_id) || ', "currency": '
        || coalesce(pg_catalog.to_json(currency)::text, 'null')
        || ', "count_product": ' || count_product || ', "total_amount": '
        || coalesce(total_amount::text, 'null') || '}'""",
}
_COPY_FORMAT = {"csv": "(FORMAT csv, HEADER)", "jsonl": "(FORMAT text)"}


def copy_sql(fmt: str, shop: Shop, whole: bool) -> str:
    """COPY of the report rows in `fmt` for a range of days or (`whole`) for all of them."""
    # ordered by the view's date, not by the text to_char made of it (same order, cheaper)
    source, where, order = "orderreport.order_reports", "", "order_reports.report_at, order_id"
    if whole:
        source, order = _whole_history(shop), "order_reports.report_at DESC, order_id"
    else:
        where = f"WHERE {_BOUNDS[shop.placed_kind]}"
    return (
        f"COPY (SELECT {_COPY_COLUMNS[fmt]} FROM {source} {where} "
        f"ORDER BY {order}) TO STDOUT {_COPY_FORMAT[fmt]}"
    )


COPY_FORMATS = frozenset(_COPY_COLUMNS)
COPY_CHUNK = 64 * 1024  # bytes handed to stdout at a time


def copy_report(
    conn: psycopg.Connection[Any], shop: Shop, start: date | None, end: date | None, fmt: str
) -> Generator[bytes, None, None]:
    """The report rows as `fmt` ("csv" or "jsonl") text, in blocks straight from COPY.

    Same rows and order as report_rows; CSV lines end in LF here (see above).
    """
    if start is None or end is None:
        sql, params = copy_sql(fmt, shop, whole=True), None  # no placeholders to fill
    else:
        sql, params = copy_sql(fmt, shop, whole=False), _bound(shop, start, end)
    conn.execute("SET LOCAL DateStyle = 'ISO'")  # this transaction's dates: ISO
    with conn.cursor() as cursor, cursor.copy(sql, params) as copy:
        pgconn = conn.pgconn
        done = False
        while not done:
            chunk: list[bytes] = []
            size = 0
            with db.waiting(conn):  # armed once per COPY_CHUNK bytes, not per row
                while size < COPY_CHUNK:
                    data = _next_row(pgconn, copy)
                    if not data:
                        done = True
                        break
                    chunk.append(data)
                    size += len(data)
            if chunk:
                yield b"".join(chunk)


def _next_row(pgconn: Any, copy: Any) -> bytes:
    """The next row of a COPY TO, b"" at its end.

    COPY sends a message per row, and psycopg's Copy.read runs a generator and a wait for
    each (3-5 µs a row: the better part of a big export). A row libpq has already received
    is taken here with one C call; psycopg waits for the rest and reports errors. When
    libpq reports the end here, the COPY's result is read here too (psycopg would ask libpq
    for a row again, and libpq has no COPY in progress any more). Only libpq's own calls
    (psycopg's public `Connection.pgconn`) are used: once the end is read here, nothing
    reads the Copy again, and leaving its block does nothing to a COPY TO that the server
    has finished sending (psycopg's Copy.finish), so no private state of psycopg's is set.
    """
    nbytes, data = pgconn.get_copy_data(1)  # 1: never blocks, 0 bytes when nothing is buffered
    if nbytes > 0:
        return bytes(data)
    if nbytes == 0:
        return bytes(copy.read())
    while pgconn.is_busy():  # the end (-1): the COPY's own result is on its way
        select.select([pgconn.socket], [], [])  # the watchdog bounds this wait
        pgconn.consume_input()
    result = pgconn.get_result()
    while pgconn.get_result() is not None:
        pass
    if result is None:
        raise psycopg.OperationalError("the COPY ended without a result")
    if result.status != pq.ExecStatus.COMMAND_OK:  # an error cut the COPY short
        raise _error_of(result)
    return b""


def _error_of(result: Any) -> psycopg.Error:
    """The psycopg exception for a failed result, of the class its SQLSTATE names."""
    field = pq.DiagnosticField
    state = (result.error_field(field.SQLSTATE) or b"").decode()
    text = result.error_field(field.MESSAGE_PRIMARY) or result.error_message or b"failed"
    try:
        kind: type[psycopg.Error] = psycopg.errors.lookup(state)
    except KeyError:
        kind = psycopg.OperationalError
    return kind(text.decode(errors="replace").strip())
