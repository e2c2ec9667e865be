"""What a report needs of the shop's tables, read from the catalog: the indexes a day needs
(present, invalid or missing, and the statement that builds one), the orders without a
date or an amount, someone else's tables in a database without a shop, the relations a day
reads whole, and where objects are created (the user's current schema)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from orderreport import db
from orderreport.errors import Refused
from orderreport.shop import view as view_sql
from orderreport.shop.detect import foreign_relations
from orderreport.shop.model import Shop
from orderreport.shop.sql import fill_schema, qualified, quote
from orderreport.shop.view import amount_sql

# (table, column): the indexes the reports need on the shop's tables, by their name.
NEEDED_INDEXES = {
    "ix_orders_created_at": ("orders", "created_at"),
    "ix_order_items_order_id": ("order_items", "order_id"),
}


# What every function here takes: a psycopg connection (orderreport's pg.Connection, or
# under Alembic the driver connection of op.get_bind()).
Conn = psycopg.Connection[Any]


def scalar(conn: Conn, query: Any, params: dict[str, Any] | None = None) -> Any:
    """The first column of the first row (None if there is no row)."""
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def exists(conn: Conn, schema: str | None, name: str) -> bool:
    """True if a relation `name` exists in `schema` (None: the user's current schema)."""
    return bool(
        scalar(
            conn,
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %(n)s AND n.nspname = %(s)s)",
            {"n": name, "s": schema or creation_schema(conn)},
        )
    )


# -- indexes -----------------------------------------------------------------------------
@dataclass(frozen=True)
class IndexState:
    """The index a report needs: present (valid, maybe under another name), invalid or absent."""

    name: str
    table: str
    column: str
    usable: str | None  # name of a valid index leading with the column
    invalid: bool  # our own name exists but a concurrent build failed
    schema: str | None = None

    @property
    def statement(self) -> str:
        """The statement that builds it, for the shop's owner to run (or --build-indexes)."""
        return (
            f"CREATE INDEX CONCURRENTLY {quote(self.name)} "
            f"ON {qualified(self.schema, self.table)} ({quote(self.column)})"
        )


_INDEXES = """
    SELECT i.indexrelid::regclass::text AS name, ic.relname AS short, i.indisvalid AS valid,
           a.attname AS leading
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
    LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
    WHERE n.nspname = %(schema)s AND t.relname = %(table)s
    """


def needed_indexes(shop: Shop) -> list[tuple[str, str, str]]:
    """(name, table, column) of the indexes a day's report needs: on the placed-at column
    and on the lines' order key. None on a view or a query: their indexes are the tables'
    underneath, which orderreport cannot see through."""
    src = shop.source
    if not shop.exists or src.is_query:
        return []
    if src.is_seed:
        if not shop.adds_to_shop:
            return []
        return [(name, table, column) for name, (table, column) in NEEDED_INDEXES.items()]
    assert src.orders and src.placed_at and src.lines and src.lines_order_key
    found = []
    if shop.orders_kind in ("r", "p"):
        found.append((_index_name(src.orders, src.placed_at), src.orders, src.placed_at))
    if shop.lines_kind in ("r", "p"):
        found.append((_index_name(src.lines, src.lines_order_key), src.lines, src.lines_order_key))
    return found


def _index_name(table: str, column: str) -> str:
    """orderreport's name for an index it advises on a platform's table."""
    return f"orderreport_{table}_{column}_idx"[:63]


def index_states(conn: Conn, shop: Shop) -> list[IndexState]:
    states = []
    for name, table, column in needed_indexes(shop):
        usable: str | None = None
        invalid = False
        for _, short, valid, leading in conn.execute(
            _INDEXES, {"schema": shop.schema, "table": table}
        ):
            if short == name and not valid:
                invalid = True
            elif leading == column and valid and usable is None:
                usable = str(short)
        states.append(IndexState(name, table, column, usable, invalid, shop.schema))
    return states


def undated_orders(conn: Conn, shop: Shop) -> int | None:
    """Orders of the old service's schema with no created_at (NULL): migrate added the
    column without inventing a date for the orders already there, so they are in no report.

    None for every other source (and a missing column): there the placed-at column is what
    makes an order placed, so a row without it (a Solidus or Spree cart, a draft) is no
    order that counts, not an order without a date."""
    src = shop.source
    if shop.created_at_type is None or not src.is_seed or src.orders is None:
        return None
    assert src.placed_at is not None
    orders = qualified(shop.schema, src.orders)
    counts = f" AND ({fill_schema(src.where, shop.schema)})" if src.where else ""
    query = f"SELECT count(*) FROM {orders} o WHERE o.{quote(src.placed_at)} IS NULL{counts}"
    return int(scalar(conn, query))


def orders_without_amount(conn: Conn, shop: Shop) -> int | None:
    """Orders that count but have no amount (NULL): worth 0 in the figures, shown without an
    amount in reports. None for a query source (its rows are its own)."""
    src = shop.source
    if not shop.exists or src.is_query or src.orders is None or shop.created_at_type is None:
        return None
    assert src.placed_at is not None and src.amount is not None
    amount = amount_sql(shop, quote)
    counts = f" AND ({fill_schema(src.where, shop.schema)})" if src.where else ""
    query = (
        f"SELECT count(*) FROM {qualified(shop.schema, src.orders)} o "
        f"WHERE ({amount}) IS NULL AND o.{quote(src.placed_at)} IS NOT NULL{counts}"
    )
    return int(scalar(conn, query))


# -- the plan ----------------------------------------------------------------------------
def refuse_foreign(conn: Conn, shop: Shop) -> None:
    """Raise Refused when the database holds tables or views but no shop orderreport can
    read: a sample shop's tables never go next to someone else's."""
    if shop.exists:
        return
    found = foreign_relations(conn)
    if not found:
        return
    names = ", ".join(found[:3]) + (", …" if len(found) > 3 else "")
    hint = f" ({shop.hint})" if shop.hint else ""
    raise Refused(
        f"this database has tables ({names}) but no shop orderreport can read{hint}: say "
        "what the shop is with --platform NAME (`orderreport platforms` lists them) or a "
        "[source] table in the config file; nothing was created"
    )


def unadvised_whole_reads(conn: Conn, shop: Shop) -> list[str]:
    """The relations a day reads whole, but the seed's own (migrate indexes it) and a table
    whose missing index is advised by name (index_states)."""
    if not shop.exists or shop.adds_to_shop:
        return []
    unindexed = {f"{st.schema}.{st.table}" for st in index_states(conn, shop) if not st.usable}
    return [r for r in view_sql.whole_reads(conn, shop) if r not in unindexed]


def creation_schema(conn: Conn) -> str:
    """The schema the user's own search path creates objects in (their current schema):
    where an empty database gets its shop. The session's own path holds none."""
    return db.user_path(conn).current or "public"
