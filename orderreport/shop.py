"""What orderreport knows about the shop's database, worked out here and nowhere else.

The shop's tables belong to the shop's application: whatever schema they are in, however
their money and timestamps are typed. `inspect` reads the catalog once and hands back one
small value, `Shop`; the view, the queries, `migrate --plan` and `status` are all built from
it. orderreport's own objects live in their own schema, `orderreport`, apart from the
shop's: the `order_reports` view, `daily_reports`, the version table and `created_objects`
(the shop objects orderreport itself added, so a downgrade removes only those).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, text

from orderreport.errors import ShopAmbiguous, ShopUnsupported

OUR_SCHEMA = "orderreport"
VERSION_TABLE = "orderreport_version"
VIEW = "order_reports"
# The revisions the first release kept in the shared `alembic_version` table: a database
# that has one of them there was migrated by orderreport and is moved over to VERSION_TABLE.
LEGACY_REVISIONS = frozenset({"0001", "0002", "0003", "0004"})

# How order_reports counts an order's lines. SUBQUERY (revisions 0004-0005) puts a
# correlated subquery in the select list: the planner pulls the view up and copies it into
# every aggregate that uses count_product (SUM and AVG: each order's lines counted twice,
# and only in the leader above a parallel scan). LATERAL (0006) counts once per order in a
# CROSS JOIN LATERAL, which cannot be pulled up: one index-only count per order, at par
# with a hand-written correlated count(*) (bench/RESULTS.md).
SUBQUERY = "subquery"
LATERAL = "lateral"
# For the whole history at once (`report --all`) a lookup per order loses to counting every
# order's lines in one grouped pass joined to orders (psql, 1M orders: 2.9 s against 6 s).
# Never stored as a view: queries.py reads it inline, built from the same shop.
GROUPED = "grouped"
VIEW_FORM = LATERAL  # the head revision's

TIMESTAMPTZ = "timestamp with time zone"
TIMESTAMP = "timestamp without time zone"

# How each money type becomes the decimal it was meant to be, rounded to cents once.
# float8 -> numeric keeps 15 significant digits (DBL_DIG), so 0.1 + 0.2 stored as
# 0.30000000000000004 reads 0.300000000000000 and rounds to 0.30; money -> numeric is exact.
MONEY_READINGS = {
    "numeric": "exact decimal, rounded to cents",
    "double precision": "float read as its 15-digit decimal, rounded to cents once per order",
    "real": "float read as its 6-digit decimal, rounded to cents once per order",
    "money": "money read as an exact decimal",
    "bigint": "whole units, exact",
    "integer": "whole units, exact",
    "smallint": "whole units, exact",
}


@dataclass(frozen=True)
class Shop:
    """The shop as found: where its tables are and how its money and timestamps are stored.

    `exists` is False when the database has no shop at all: migrate then creates one in
    `schema` (None: the connection's current schema). Types are PostgreSQL's own names
    (format_type), None for a missing column.
    """

    exists: bool
    schema: str | None
    found_by: str  # how the schema was chosen, for people
    candidates: tuple[str, ...]  # every schema that has an `orders` table
    money_type: str | None
    created_at_type: str | None
    updated_at_type: str | None
    naive_tz: str  # the zone naive timestamps were written in
    naive_tz_source: str  # "setting" or "server TimeZone"
    partitioned: bool = False  # orders is a partitioned table
    product_id_not_null: bool = True  # then count(*) counts the same lines as count(product_id)

    @property
    def naive(self) -> bool:
        return self.created_at_type == TIMESTAMP

    def money_reading(self) -> str:
        if self.money_type is None:
            return "-"
        base = self.money_type.split("(")[0]
        return MONEY_READINGS.get(base, "unsupported")

    def timestamp_reading(self) -> str:
        if self.created_at_type is None:
            return "missing: `orderreport migrate` adds it (orders before that have no date)"
        if self.naive:
            return f"naive, written in {self.naive_tz} ({self.naive_tz_source})"
        return "an instant (timestamptz)"

    def fingerprint(self, form: str = VIEW_FORM) -> str:
        """What the view was built for; stored as its comment and compared at every run."""
        zone = self.naive_tz if self.naive else "-"
        lines = "count(*)" if self.product_id_not_null else "count(product_id)"
        built = (
            f"orderreport view: shop={self.schema}; money={self.money_type}; "
            f"created_at={self.created_at_type}; naive_tz={zone}; lines={lines}"
        )
        # the first form's views carry no form= part: a database at 0005 keeps its comment
        return built if form == SUBQUERY else f"{built}; form={form}"


EMPTY = Shop(
    exists=False,
    schema=None,
    found_by="no shop: migrate creates one",
    candidates=(),
    money_type=None,
    created_at_type=None,
    updated_at_type=None,
    naive_tz="UTC",
    naive_tz_source="server TimeZone",
)

_CANDIDATES = text(
    """
    SELECT n.nspname AS schema,
           c.relkind = 'p' AS partitioned,
           c.oid = to_regclass('orders') AS on_path
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relname = 'orders'
      AND c.relkind IN ('r', 'p')
      AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', :ours)
      AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY n.nspname
    """
)

_SEARCH_PATH_SET = text("SELECT source <> 'default' FROM pg_settings WHERE name = 'search_path'")

_COLUMNS = text(
    """
    SELECT c.relname AS table, a.attname AS column,
           format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = :schema AND c.relname IN ('orders', 'order_items')
      AND c.relkind IN ('r', 'p')
    """
)

REQUIRED = {"orders": ("id", "total_amount"), "order_items": ("order_id", "product_id")}


def inspect(conn: Connection, *, schema: str | None, naive_tz: str | None, server_tz: str) -> Shop:
    """Find the shop: the configured schema, else the one `orders` resolves to.

    Raises ShopAmbiguous when several schemas have `orders` and neither the setting nor an
    explicitly set search_path chooses one, or when the configured schema has no `orders`
    but another one does; ShopUnsupported when a column the reports need is missing or of
    a type they cannot read exactly.
    """
    rows = conn.execute(_CANDIDATES, {"ours": OUR_SCHEMA}).all()
    candidates = tuple(str(r.schema) for r in rows)
    zone, zone_source = (naive_tz, "setting") if naive_tz else (server_tz, "server TimeZone")
    chosen: str | None
    if schema is not None:
        if schema not in candidates and candidates:
            raise ShopAmbiguous(
                f"shop schema {schema!r} has no orders table; orders is in "
                f"{_names(candidates)}: set --shop-schema to one of them"
            )
        chosen, found_by = schema, "setting"
    elif not candidates:
        chosen, found_by = None, "no shop: migrate creates one"
    else:
        on_path = [r for r in rows if r.on_path]
        path_set = bool(conn.execute(_SEARCH_PATH_SET).scalar())
        if len(candidates) == 1:
            chosen = candidates[0]
            found_by = "search path" if on_path else "the only schema with an orders table"
        elif on_path and path_set:
            chosen, found_by = str(on_path[0].schema), "search path (set for the connection)"
        else:
            raise ShopAmbiguous(
                f"orders exists in several schemas ({_names(candidates)}): "
                "say which one is the shop with --shop-schema (or ORDERREPORT_SHOP_SCHEMA)"
            )
    if chosen is None or chosen not in candidates:
        return Shop(
            exists=False,
            schema=chosen,
            found_by=found_by,
            candidates=candidates,
            money_type=None,
            created_at_type=None,
            updated_at_type=None,
            naive_tz=zone,
            naive_tz_source=zone_source,
        )
    found = conn.execute(_COLUMNS, {"schema": chosen}).all()
    cols = {(str(r.table), str(r.column)): str(r.type) for r in found}
    not_null = {(str(r.table), str(r.column)) for r in found if r.not_null}
    for table, needed in REQUIRED.items():
        for column in needed:
            if (table, column) not in cols:
                raise ShopUnsupported(
                    f"{chosen}.{table} has no column {column}: orderreport cannot report on it"
                )
    shop = Shop(
        exists=True,
        schema=chosen,
        found_by=found_by,
        candidates=candidates,
        money_type=cols[("orders", "total_amount")],
        created_at_type=cols.get(("orders", "created_at")),
        updated_at_type=cols.get(("orders", "updated_at")),
        naive_tz=zone,
        naive_tz_source=zone_source,
        partitioned=any(r.partitioned for r in rows if r.schema == chosen),
        product_id_not_null=("order_items", "product_id") in not_null,
    )
    if shop.money_reading() == "unsupported":
        raise ShopUnsupported(
            f"{chosen}.orders.total_amount is {shop.money_type}: orderreport reads numeric, "
            "double precision, real, money or integer amounts"
        )
    if shop.created_at_type not in (None, TIMESTAMP, TIMESTAMPTZ):
        raise ShopUnsupported(
            f"{chosen}.orders.created_at is {shop.created_at_type}: orderreport needs a "
            "timestamp (with or without time zone)"
        )
    return shop


def _names(schemas: tuple[str, ...]) -> str:
    return ", ".join(schemas)


def view_definition(shop: Shop, quote: Callable[[str], str], form: str = VIEW_FORM) -> str:
    """The SELECT of orderreport.order_reports for this shop (`quote` quotes identifiers).

    One row per dated order: its calendar day in the session's TimeZone, its id, its number
    of order lines (not units; 0 for an order without lines) and its total as an exact
    decimal rounded to cents once. created_at is the shop's own column, untouched, so a
    range on it (queries.py computes bounds of the column's own type) uses its index. Each
    order's lines are counted through the order_items(order_id) index, so a day, a month or
    a year costs what its own orders cost, not the shop's whole history.

    `form` is how the lines are counted (see VIEW_FORM); older revisions build SUBQUERY.
    """
    if not shop.exists or shop.schema is None:
        raise ShopUnsupported("there is no shop to build the order_reports view on")
    schema = quote(shop.schema)
    # count(*) needs only the index on order_items(order_id) (an index-only scan); counting
    # product_id reads every line's row, five times slower for a month, and is needed only
    # where product_id may be NULL (the old view's COUNT(oi.product_id) skipped those lines)
    lines = "count(*)" if shop.product_id_not_null else "count(oi.product_id)"
    instant = "o.created_at"
    if shop.naive:
        instant = f"(o.created_at AT TIME ZONE {sql_string(shop.naive_tz)})"
    count = f"SELECT {lines} FROM {schema}.order_items oi WHERE oi.order_id = o.id"
    if form == SUBQUERY:
        count_product, joined = f"({count})", ""
    elif form == GROUPED:
        count_product = "coalesce(l.count_product, 0)"
        joined = (
            f"LEFT JOIN (SELECT oi.order_id, {lines} AS count_product "
            f"FROM {schema}.order_items oi GROUP BY oi.order_id) l ON l.order_id = o.id"
        )
    else:
        count_product, joined = "l.count_product", f"CROSS JOIN LATERAL ({count}) l(count_product)"
    return f"""
        SELECT ({instant})::date AS report_at,
               o.id AS order_id,
               {count_product} AS count_product,
               round(o.total_amount::numeric, 2) AS total_amount,
               o.created_at AS created_at
        FROM {schema}.orders o {joined}
        WHERE o.created_at IS NOT NULL
    """


def sql_string(value: str) -> str:
    """A SQL string literal (standard_conforming_strings: only quotes need doubling)."""
    return "'" + value.replace("'", "''") + "'"
