"""The SQL the reports read the shop through: the order_reports view's SELECT for a shop (a
preset's, a mapping's or a query's), the bounds of a day on its placed-at column, the proof
that a source plans before anything changes, and whether a day reads a relation whole."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import psycopg

from orderreport.config import sources
from orderreport.db import limits
from orderreport.errors import ShopUnsupported
from orderreport.shop.model import (
    DAY,
    GROUPED,
    INSTANT,
    NAIVE,
    ONCE,
    PER_CURRENCY,
    SUBQUERY,
    VIEW_FORM,
    Shop,
)
from orderreport.shop.sql import fill_schema, quote, sql_string


def view_definition(shop: Shop, quote: Callable[[str], str], form: str = VIEW_FORM) -> str:
    """The SELECT of orderreport.order_reports for this shop (`quote` quotes identifiers).

    One row per placed order that counts: its calendar day in the session's TimeZone, its
    id, its number of order lines (`count(*)`: not units, a line whose product was deleted
    included, 0 for an order without lines), its amount as an exact decimal rounded to cents
    once, the placed-at column untouched as `created_at` (so a range on it uses its index:
    queries.py computes bounds of the column's own type) and, in PER_CURRENCY and GROUPED,
    its currency. Each order's lines are counted through the lines' order key, so a day, a
    month or a year costs what its own orders cost, not the shop's whole history.

    `form` is how the lines are counted (see VIEW_FORM); older revisions build older forms.
    """
    if not shop.exists:
        raise ShopUnsupported("there is no shop to build the order_reports view on")
    src = shop.source
    with_currency = form in (PER_CURRENCY, ONCE, GROUPED)
    if src.is_query:
        return _query_view(shop, quote, with_currency, once=form == ONCE)
    assert src.orders and src.lines and src.lines_order_key and src.placed_at and src.amount
    schema = quote(shop.schema) if shop.schema else None

    def rel(name: str) -> str:
        return f"{schema}.{quote(name)}" if schema else quote(name)

    def sql(fragment: str) -> str:
        return fill_schema(fragment, shop.schema)

    placed = f"o.{quote(src.placed_at)}"
    instant = shop.placed_sql(placed)
    amount = amount_sql(shop, quote)
    column = currency_sql(shop, quote)
    fenced = []  # (SQL, name) computed once per order, in a fenced lateral `v`
    if form == ONCE and src.amount and _reads_more(src.amount):
        fenced.append((amount, "amount"))
        amount = "v.amount"
    if form == ONCE and src.currency and _reads_more(src.currency):
        fenced.append((column, "currency"))
        column = "v.currency"
    divisor = f" / {10**src.minor_units}" if src.minor_units else ""
    value = f"round(({amount})::numeric{divisor}, 2)"
    key = f"l.{quote(src.lines_order_key)} = o.{quote(src.order_id)}"
    if src.lines_where:
        key += f" AND ({sql(src.lines_where)})"
    count = f"SELECT count(*) FROM {rel(src.lines)} l WHERE {key}"
    if form == SUBQUERY:
        count_product, joined = f"({count})", ""
    elif form == GROUPED and not src.lines_where:  # a per-line filter may read the order row
        count_product = "coalesce(lc.count_product, 0)"
        joined = (
            f"LEFT JOIN (SELECT l.{quote(src.lines_order_key)} AS order_id, count(*) AS "
            f"count_product FROM {rel(src.lines)} l GROUP BY 1) lc "
            f"ON lc.order_id = o.{quote(src.order_id)}"
        )
    else:
        count_product = "lc.count_product"
        joined = f"CROSS JOIN LATERAL ({count}) lc(count_product)"
    if fenced:
        values = ", ".join(f"{expr} AS {name}" for expr, name in fenced)
        joined += f"\n        CROSS JOIN LATERAL (SELECT {values} OFFSET 0) v"
    counts = f" AND ({sql(src.where)})" if src.where else ""
    currency = ""
    if with_currency:
        currency = f",\n               {_currency(shop, column)} AS currency"
    return f"""
        SELECT ({instant})::date AS report_at,
               o.{quote(src.order_id)} AS order_id,
               {count_product} AS count_product,
               {value} AS total_amount,
               {placed} AS created_at{currency}
        FROM {rel(src.orders)} o {joined}
        WHERE {placed} IS NOT NULL{counts}
    """


def _reads_more(fragment: str) -> bool:
    """Whether an amount or currency reads another relation (a subquery): then it is
    computed once per order, fenced (shop.ONCE); plain arithmetic over the order row (Vendure's
    two columns added) costs less copied than fenced (a Nested Loop and a Result per order)."""
    return not sources.is_column(fragment) and re.search(r"\bselect\b", fragment, re.I) is not None


def amount_sql(shop: Shop, quote: Callable[[str], str]) -> str:
    """The source's amount over the order row `o`, as SQL: its column, or its expression
    (in its own units: the view divides minor units)."""
    amount = shop.source.amount or ""
    if sources.is_column(amount):
        return f"o.{quote(amount)}"
    return f"({fill_schema(amount, shop.schema)})"


def currency_sql(shop: Shop, quote: Callable[[str], str]) -> str:
    """The source's currency over the order row `o`, as SQL: its column, or its expression
    ("" when it has none)."""
    currency = shop.source.currency or ""
    if not currency:
        return ""
    if sources.is_column(currency):
        return f"o.{quote(currency)}"
    return f"({fill_schema(currency, shop.schema)})"


def _currency(shop: Shop, column: str) -> str:
    if shop.source.currency is not None or shop.source.is_query:
        return f"CAST({column} AS text)"
    if shop.currency_code is not None:
        return f"CAST({sql_string(shop.currency_code)} AS text)"
    return "CAST(NULL AS text)"


def _query_view(
    shop: Shop, quote: Callable[[str], str], with_currency: bool, *, once: bool = False
) -> str:
    assert shop.source.query is not None
    sql = fill_schema(shop.source.query, shop.schema)
    instant = shop.placed_sql("q.placed_at")
    # ONCE: the query's lines, amount and currency (often subqueries) once per order
    v, fence = ("v", " CROSS JOIN LATERAL (SELECT q.lines, q.amount, q.currency OFFSET 0) v")
    if not once:
        v, fence = "q", ""
    currency = f",\n               {_currency(shop, f'{v}.currency')} AS currency"
    if shop.currency_code is not None:
        currency = (
            f",\n               coalesce(CAST({v}.currency AS text), "
            f"{sql_string(shop.currency_code)}) AS currency"
        )
    return f"""
        SELECT ({instant})::date AS report_at,
               q.order_id AS order_id,
               CAST({v}.lines AS bigint) AS count_product,
               round(CAST({v}.amount AS numeric), 2) AS total_amount,
               q.placed_at AS created_at{currency if with_currency else ""}
        FROM ({sql}) AS q{fence}
        WHERE q.placed_at IS NOT NULL
    """


# -- a day's bounds, and what a day reads ---------------------------------------------------
# A report day is a calendar day in the session's TimeZone (db/ sets it to the shop's
# zone): from the first instant whose local date is that day (where midnight happens twice,
# the first of the two; where it is missing, the instant the clocks jump) to the first
# instant of the next day. queries.py selects days as a half-open range on the view's
# created_at, the placed-at column untouched, with bounds of the column's own kind, so the
# column is never wrapped in an expression and its index serves a day.
def _day_start(day: str) -> str:
    """The first instant whose local date (session TimeZone) is the date `day`, in SQL.

    `day::timestamptz` is right where midnight happens once, and where it is missing (the
    instant the clocks jump, if they jump at midnight), but where it happens twice
    PostgreSQL takes the later one. The earlier one, if any, is the previous day's start
    plus 24 hours: taken if its local date is `day` (on a day after a 25-hour day it is
    still the day before, 23:00; after a 23-hour day it is 01:00, later than the other).
    Parameters only, so the planner still gives created_at an index range.
    """
    earlier = f"(({day} - 1)::timestamptz + INTERVAL '24 hours')"
    return f"LEAST({day}::timestamptz, CASE WHEN {earlier}::date = {day} THEN {earlier} END)"


_START = _day_start("CAST(%(start)s AS date)")


_END = _day_start("(CAST(%(end)s AS date) + 1)")


def _epoch(instant: str, per_second: int) -> str:
    """`instant` as Unix time in the column's unit: a whole number (a day starts on a whole
    second in every zone), cast to bigint so an integer column's index still serves it."""
    scale = f" * {per_second}" if per_second != 1 else ""
    return f"CAST(EXTRACT(EPOCH FROM {instant}){scale} AS bigint)"


# The range of days start..end on the view's created_at (the raw placed-at column), for
# each kind of placed-at column (Shop.placed_kind): from the start of `start` to the start
# of the day after `end`, as values of the column's own kind (psycopg's %(name)s
# placeholders). A date column's day is its value.
DAY_BOUNDS = {
    INSTANT: f"""created_at >= {_START}
      AND created_at < {_END}""",
    NAIVE: f"""created_at >= ({_START} AT TIME ZONE %(naive_tz)s)
      AND created_at < ({_END} AT TIME ZONE %(naive_tz)s)""",
    DAY: """created_at >= CAST(%(start)s AS date)
      AND created_at < CAST(%(end)s AS date) + 1""",
    "seconds": f"""created_at >= {_epoch(_START, 1)}
      AND created_at < {_epoch(_END, 1)}""",
    "milliseconds": f"""created_at >= {_epoch(_START, 1000)}
      AND created_at < {_epoch(_END, 1000)}""",
}


_PLAN_DAY = "2000-01-03"  # any day: with sequential scans off, the plan's shape is the same


def whole_reads(conn: psycopg.Connection[Any], shop: Shop) -> list[str]:
    """The relations (schema.name) a day's statement reads every row of: planned over the
    view's SQL with sequential scans off, the day's bounds reach no index (no scan has them
    in its index condition), and the scan that filters by them reads its relation whole.
    Planned only, in a savepoint rolled back: the session's settings stay as they were.
    (Which index the planner prefers on a tiny table does not matter: only whether the
    day's bounds are an index condition anywhere.)"""
    if not shop.exists:
        return []
    statement = (
        "EXPLAIN (FORMAT JSON, VERBOSE) SELECT count(*), sum(count_product), "
        f"sum(total_amount) FROM ({view_definition(shop, quote)}) AS order_reports "
        f"WHERE {DAY_BOUNDS[shop.placed_kind]}"
    )
    params = {"start": _PLAN_DAY, "end": _PLAN_DAY, "naive_tz": shop.naive_tz}
    scans: list[tuple[str, str, str]] = []  # (relation, index condition, filter)
    with conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        row = conn.execute(statement, params).fetchone()
        assert row is not None
        _scans(row[0][0]["Plan"], scans)
        raise psycopg.Rollback()  # the savepoint, and SET LOCAL with it
    day = f"'{_PLAN_DAY}'"  # every kind of bound names the day: it survives in the plan
    if any(day in cond for _rel, cond, _filter in scans):
        return []
    # The bounds are a filter: on a small table the planner may prefer another index even
    # with one on the column. Only a column with no index of its own is read whole.
    found = []
    for relation, _cond, filtered in scans:
        if day not in filtered:
            continue
        columns = {m.group(1) for m in _BOUNDED.finditer(filtered)}
        if not any(_indexed(conn, relation, c.strip('"').replace('""', '"')) for c in columns):
            found.append(relation)
    return list(dict.fromkeys(found))


# `o.created_at >= …` in a plan's filter: the column a bound compares (an expression such
# as `timezone('UTC', o.completed_at) >= …` names none, and no plain index serves it).
_BOUNDED = re.compile(r'(?<![\w."])(?:\w+\.)?("(?:[^"]|"")+"|[A-Za-z_][\w$]*) >= ')


_INDEXED = """
    SELECT EXISTS (
        SELECT 1 FROM pg_catalog.pg_index i
        JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = pg_catalog.to_regclass(%(rel)s) AND a.attname = %(col)s
          AND i.indisvalid AND i.indpred IS NULL)
    """


def _indexed(conn: psycopg.Connection[Any], relation: str, column: str) -> bool:
    schema, _, name = relation.partition(".")
    row = conn.execute(_INDEXED, {"rel": f"{quote(schema)}.{quote(name)}", "col": column})
    found = row.fetchone()
    return bool(found and found[0])


def _scans(node: dict[str, Any], found: list[tuple[str, str, str]]) -> None:
    relation = node.get("Relation Name")
    cond = f"{node.get('Index Cond', '')} {node.get('Recheck Cond', '')}"
    if relation is not None:
        found.append((f"{node.get('Schema')}.{relation}", cond, str(node.get("Filter", ""))))
    elif cond.strip():  # a Bitmap Index Scan names its index, not its relation
        found.append(("", cond, ""))
    for child in node.get("Plans", []):
        _scans(child, found)


def whole_read_fix(shop: Shop, relation: str) -> str:
    """What to do about a day that reads `relation` whole, for people."""
    if shop.source.is_query:
        return (
            f"a day reads every row of {relation}: return its raw placed-at column as "
            "placed_at (with placed_at_zone, or placed_at_unit for Unix time) and index it, "
            "so an index serves a day (README: A query)"
        )
    return (
        f"a day reads every row of {relation}: index the column the placed-at "
        f"{shop.source.placed_at} comes from (CREATE INDEX CONCURRENTLY … ON {relation} (…))"
    )


def prove(conn: psycopg.Connection[Any], shop: Shop) -> None:
    """Have the server plan every SQL fragment of the source, each alone and then the whole
    view, without running any: raise ShopUnsupported naming the first key that does not
    plan (a relation without `{schema}.`, a misspelt column, a type error) and the server's
    message. Each in a savepoint of the caller's transaction, rolled back; under the
    session's search path, the one the view is built with (pg_catalog alone).

    `migrate` and `--plan` call it before anything changes, so a broken fragment is found
    before the first revision rather than halfway through them.
    """
    src = shop.source
    if not shop.exists or src.is_seed:
        return
    trials: list[tuple[str, str]] = []
    if not src.is_query:
        assert src.orders and src.lines and src.lines_order_key
        schema = quote(shop.schema) if shop.schema else None

        def rel(name: str) -> str:
            return f"{schema}.{quote(name)}" if schema else quote(name)

        orders = f"FROM {rel(src.orders)} o"
        if src.amount and not sources.is_column(src.amount):
            trials.append(("amount", f"SELECT {amount_sql(shop, quote)} {orders}"))
        if src.currency and not sources.is_column(src.currency):
            trials.append(("currency", f"SELECT {currency_sql(shop, quote)} {orders}"))
        if src.where:
            trials.append(
                ("where", f"SELECT 1 {orders} WHERE ({fill_schema(src.where, shop.schema)})")
            )
        if src.lines_where:
            key = f"l.{quote(src.lines_order_key)} = o.{quote(src.order_id)}"
            lines_where = fill_schema(src.lines_where, shop.schema)
            trials.append(
                (
                    "lines_where",
                    f"SELECT 1 {orders} JOIN {rel(src.lines)} l ON {key} AND ({lines_where})",
                )
            )
    trials.append(("query" if src.is_query else "", view_definition(shop, quote)))
    for key, statement in trials:
        try:
            with conn.transaction():  # a savepoint: nothing of the trial is kept
                conn.execute(f"EXPLAIN {statement}")
        except psycopg.Error as exc:
            what = f"{key} does not run" if key else "does not run"
            raise ShopUnsupported(f"source {src.name}: {what}: {limits.first_line(exc)}") from None


def describe_source(shop: Shop) -> dict[str, Any]:
    """The source as `status` shows it: platform, relations, columns and how they are read."""
    src = shop.source
    return {
        "platform": src.name,
        "orders": None if src.is_query else f"{shop.schema}.{src.orders}",
        "lines": None if src.is_query else f"{shop.schema}.{src.lines}.{src.lines_order_key}",
        "placed_at": None if src.is_query else src.placed_at,
        "amount": src.amount if not src.is_query else "query",
        "currency": shop.currency_reading(),
        "counts": src.where or ("the query's rows" if src.is_query else "every dated order"),
    }
