"""What orderreport knows about the shop's database, worked out here and nowhere else.

The shop's tables belong to the shop's application: whatever platform made them, whatever
schema they are in, however their money and timestamps are typed. `inspect` resolves the
source (sources.py: a preset, the user's mapping or query, else the one preset the catalog
matches) against the catalog once and hands back one small value, `Shop`; the view, the
queries, `migrate --plan` and `status` are all built from it. orderreport's own objects live
in their own schema, `orderreport`, apart from the shop's: the `order_reports` view,
`daily_reports`, the run log, the version table and `created_objects` (what orderreport
added to a seed-schema shop, so a downgrade removes only those)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from orderreport.config import sources
from orderreport.config.settings import Settings
from orderreport.config.sources import Source
from orderreport.db import limits
from orderreport.db.connect import server_tz, user_path
from orderreport.db.connection import UserPath, read_path
from orderreport.errors import ShopAmbiguous, ShopUnsupported, UsageError
from orderreport.objects import VIEW_MARK
from orderreport.shop.detect import SEED_SOURCE, _choose, _near_miss, _problem, _read_catalog
from orderreport.shop.sql import fill_schema, sql_string

# How order_reports counts an order's lines. SUBQUERY (revisions 0004-0005) puts a
# correlated subquery in the select list: the planner pulls the view up and copies it into
# every aggregate that uses count_product (SUM and AVG: each order's lines counted twice,
# and only in the leader above a parallel scan). LATERAL (0006) counts once per order in a
# CROSS JOIN LATERAL, which cannot be pulled up: one index-only count per order, at par
# with a hand-written correlated count(*) (bench/RESULTS.md). PER_CURRENCY (0007) is
# LATERAL with each order's currency as a last column, so figures are never added across
# currencies.
SUBQUERY = "subquery"


LATERAL = "lateral"


PER_CURRENCY = "per-currency"


# ONCE (0008) is PER_CURRENCY with an amount or currency that reads another relation (a
# subquery: Medusa's order_summary, Odoo's res_currency) computed once per order
# in a fenced CROSS JOIN LATERAL (OFFSET 0 keeps the planner from pulling it up and
# copying it into SUM and AVG: Medusa's day cost 1.42x the hand-written query and 57% more
# buffers before), and a query source's lines and amount likewise.
ONCE = "once"


# For the whole history at once (`report --all`) a lookup per order loses to counting every
# order's lines in one grouped pass joined to orders (psql, 1M orders: 2.9 s against 6 s).
# Never stored as a view: queries.py reads it inline, built from the same shop.
GROUPED = "grouped"


VIEW_FORM = ONCE  # the head revision's


TIMESTAMPTZ = "timestamp with time zone"


TIMESTAMP = "timestamp without time zone"


TIMESTAMPS = (TIMESTAMP, TIMESTAMPTZ)


DATE = "date"


INTEGERS = ("smallint", "integer", "bigint")  # an epoch, with placed_at_unit


# How a placed-at column dates an order, by kind (Shop.placed_kind). queries.py computes a
# range of days as bounds of the column's own kind, so the column is never wrapped in an
# expression and its index serves a day: an instant (timestamptz), a naive timestamp
# written in a known zone, a date (the order's day as stored: no zone applies), or Unix
# time in seconds or milliseconds.
INSTANT, NAIVE, DAY = "instant", "naive", "date"


PLACED_KINDS = (INSTANT, NAIVE, DAY, *sources.EPOCH_UNITS)


_PRECISION = re.compile(r"\(\d+\)")


def base_type(type_name: str) -> str:
    """A type without its precision: timestamp(3) without time zone -> timestamp without …"""
    return _PRECISION.sub("", type_name)


EXPRESSION = "expression"  # money_type of an amount given as SQL


QUERY = "query"  # money_type and created_at_type of a query source


# How each money type becomes the decimal it was meant to be, rounded to cents once.
# float8 -> numeric keeps 15 significant digits (DBL_DIG), so 0.1 + 0.2 stored as
# 0.30000000000000004 reads 0.300000000000000 and rounds to 0.30; money -> numeric is exact.
MONEY_READINGS = {
    "numeric": "exact decimal, rounded to cents once per order",
    "double precision": "float read as its 15-digit decimal, rounded to cents once per order",
    "real": "float read as its 6-digit decimal, rounded to cents once per order",
    "money": "money read as an exact decimal",
    "bigint": "whole units, exact",
    "integer": "whole units, exact",
    "smallint": "whole units, exact",
    EXPRESSION: "an SQL expression read as numeric, rounded to cents once per order",
    QUERY: "the query's amount read as numeric, rounded to cents once per order",
}


@dataclass(frozen=True)
class Shop:
    """The shop as found: its source, where its relations are, how money and dates are stored.

    `exists` is False when the database has no shop at all: migrate then creates one (the
    seed's schema) in `schema` (None: the connection's current schema). Types are
    PostgreSQL's own names (format_type), None for a missing column; `created_at_type` is
    the type of the source's placed-at column, `money_type` of its amount column
    (EXPRESSION for an amount given as SQL).
    """

    exists: bool
    schema: str | None
    found_by: str  # how the source and schema were chosen, for people
    candidates: tuple[str, ...]  # every schema that has a source's orders
    money_type: str | None
    created_at_type: str | None
    updated_at_type: str | None
    naive_tz: str  # the zone naive timestamps were written in
    naive_tz_source: str  # "setting", "platform" or "server TimeZone"
    partitioned: bool = False  # the orders relation is a partitioned table
    source: Source = SEED_SOURCE
    currency_code: str | None = None  # a fixed currency (setting or source), no column
    orders_kind: str = "r"  # pg_class.relkind of the orders relation
    lines_kind: str = "r"
    # why no preset matched a relation that looks like one (said when no shop is found)
    hint: str | None = field(default=None, compare=False)

    @property
    def naive(self) -> bool:
        return self.created_at_type is not None and base_type(self.created_at_type) == TIMESTAMP

    @property
    def placed_kind(self) -> str:
        """How the placed-at column dates an order (PLACED_KINDS); a missing column (the
        seed's, which migrate adds) is an instant."""
        if self.created_at_type is None:
            return INSTANT
        base = base_type(self.created_at_type)
        if base == TIMESTAMP:
            return NAIVE
        if base == DATE:
            return DAY
        if base in INTEGERS and self.source.placed_at_unit is not None:
            return self.source.placed_at_unit
        return INSTANT

    @property
    def per_currency(self) -> bool:
        """Whether a day may have several rows (a currency column): then a single day's
        JSON is an array whatever the day holds, so a pipeline's parsing never depends on
        the data."""
        return self.source.currency is not None or self.source.is_query

    @property
    def platform(self) -> str:
        return self.source.name

    @property
    def adds_to_shop(self) -> bool:
        """Whether migrate may add columns and indexes to the shop's tables: only to the
        old service's own schema (orderreport's lineage), and only to real tables. Every
        other platform's tables belong to its application, whose next schema diff would
        drop what we added."""
        return self.source.is_seed and self.orders_kind in ("r", "p") and self.lines_kind in "rp"

    def money_reading(self) -> str:
        if self.money_type is None:
            return "-"
        base = self.money_type.split("(")[0]
        reading = MONEY_READINGS.get(base, "unsupported")
        if self.source.minor_units and reading != "unsupported":
            return f"minor units (divided by {10**self.source.minor_units}), exact"
        return reading

    def timestamp_reading(self) -> str:
        if self.created_at_type is None:
            return "missing: `orderreport migrate` adds it (orders before that have no date)"
        kind = self.placed_kind
        if kind == NAIVE:
            return f"naive, written in {self.naive_tz} ({self.naive_tz_source})"
        if kind == DAY:
            return "a date: the order's day as stored (no zone applies)"
        if kind in sources.EPOCH_UNITS:
            return f"Unix time in {kind} (an instant)"
        return "an instant (timestamptz)"

    def placed_sql(self, column: str) -> str:
        """The placed-at `column` (SQL) as the instant or day it stands for: what its
        report_at is the date of in the session's TimeZone."""
        kind = self.placed_kind
        if kind == NAIVE:
            return f"({column} AT TIME ZONE {sql_string(self.naive_tz)})"
        if kind in sources.EPOCH_UNITS:
            unit = "1 second" if kind == "seconds" else "1 millisecond"
            # exact integer arithmetic: to_timestamp() would take a float
            return f"(TIMESTAMPTZ '1970-01-01 00:00:00+00' + {column} * INTERVAL '{unit}')"
        return column

    def currency_reading(self) -> str:
        if self.source.is_query:
            return "the query's currency column"
        if self.source.currency is not None and sources.is_column(self.source.currency):
            return f"column {self.source.currency}"
        if self.source.currency is not None:
            return f"expression {self.source.currency}"
        return self.currency_code or "none (set `currency` to name it)"

    def fingerprint(self, form: str = VIEW_FORM) -> str:
        """What the view was built for; stored as its comment and compared at every run."""
        zone = self.naive_tz if self.naive else "-"
        created = self.created_at_type
        if self.placed_kind in sources.EPOCH_UNITS:
            created = f"{created} {self.placed_kind}"
        built = (
            f"{VIEW_MARK} shop={self.schema}; money={self.money_type}; "
            f"created_at={created}; naive_tz={zone}; lines=count(*)"
        )
        # the first form's views carry no form= part: a database at 0005 keeps its comment
        if form == SUBQUERY:
            return built
        if form == LATERAL:
            return f"{built}; form={form}"
        currency = self.source.currency or self.currency_code or "-"
        if not sources.is_column(currency) and currency != "-":
            currency = EXPRESSION  # its text is in def=
        return (
            f"{built}; form={form}; source={self.platform}; currency={currency}; "
            f"def={self.source.checksum()}"
        )


def inspect(
    conn: psycopg.Connection[Any],
    *,
    path: UserPath | None = None,
    schema: str | None,
    naive_tz: str | None,
    server_tz: str,
    source: Source | None = None,
    currency: str | None = None,
) -> Shop:
    """Find the shop: the configured source (else the one preset the catalog matches) in the
    configured schema (else the source's, the search path's, or the only one that has it).

    Raises ShopAmbiguous when several platforms or schemas match and nothing chooses one;
    ShopUnsupported when the configured source does not resolve (naming the missing
    relation or column) or a column the reports read is of a type they cannot read exactly.
    """
    if source is not None and source.is_query:
        return _query_shop(conn, source, schema, naive_tz, server_tz, currency)
    explicit = source is not None
    candidates = (source,) if source is not None else sources.presets()
    catalog = _read_catalog(conn, candidates)
    wanted = (source.schema if source is not None else None) or schema
    schemas = sorted({s for (s, _r) in catalog})
    matches: list[tuple[Source, str]] = []
    problems: list[str] = []
    for cand in candidates:
        for sch in schemas:
            found = _problem(cand, sch, catalog)
            if found is None:
                matches.append((cand, sch))
            elif (sch, cand.orders) in catalog:
                problems.append(found)
    try:
        chosen_source, chosen_schema, found_by = _choose(
            path or read_path(conn), matches, wanted, explicit, source, problems
        )
    except ShopUnsupported as exc:
        near = _near_miss(conn, source, wanted) if source is not None else None
        if near is None:
            raise
        raise ShopUnsupported(f"{exc}; {near}") from None
    zone, zone_source = _zone(naive_tz, chosen_source, server_tz)
    all_schemas = tuple(sorted({sch for _c, sch in matches}))
    if chosen_schema is None or (chosen_schema, chosen_source.orders) not in catalog:
        return Shop(
            exists=False,
            schema=chosen_schema,
            found_by=found_by,
            candidates=all_schemas,
            money_type=None,
            created_at_type=None,
            updated_at_type=None,
            naive_tz=zone,
            naive_tz_source=zone_source,
            source=chosen_source,
            hint=problems[0] if len(problems) == 1 else None,
        )
    assert chosen_source.orders is not None and chosen_source.lines is not None
    orders = catalog[(chosen_schema, chosen_source.orders)]
    lines = catalog[(chosen_schema, chosen_source.lines)]
    amount = chosen_source.amount or ""
    money_type = orders.columns.get(amount) if sources.is_column(amount) else EXPRESSION
    placed = chosen_source.placed_at or ""
    shop = Shop(
        exists=True,
        schema=chosen_schema,
        found_by=found_by,
        candidates=all_schemas,
        money_type=money_type,
        created_at_type=orders.columns.get(placed),
        updated_at_type=orders.columns.get("updated_at") if chosen_source.is_seed else None,
        naive_tz=zone,
        naive_tz_source=zone_source,
        partitioned=orders.kind == "p",
        source=chosen_source,
        currency_code=None if chosen_source.currency else chosen_source.currency_code or currency,
        orders_kind=orders.kind,
        lines_kind=lines.kind,
    )
    where = f"{chosen_schema}.{chosen_source.orders}"
    if shop.money_reading() == "unsupported":
        raise ShopUnsupported(
            f"{where}.{amount} is {shop.money_type}: orderreport reads numeric, "
            "double precision, real, money or integer amounts"
        )
    _check_placed(shop, f"{where}.{placed}")
    return shop


def _check_placed(shop: Shop, column: str) -> None:
    """Refuse a placed-at column orderreport cannot date an order by, or could only by a
    guess: a naive timestamp of a mapping or query without the zone it was written in
    (UsageError: the config must say it), an integer without its unit, a unit on a
    column that is no integer."""
    found = shop.created_at_type
    if found is None:
        return
    base, unit = base_type(found), shop.source.placed_at_unit
    if base in INTEGERS:
        if unit is None:
            raise UsageError(
                f"{column} is {found}: if it is Unix time, set placed_at_unit = "
                '"seconds" or "milliseconds" in [source]'
            )
        return
    if unit is not None:
        raise UsageError(f"{column} is {found}: placed_at_unit is for integer columns only")
    if base not in (*TIMESTAMPS, DATE):
        raise ShopUnsupported(
            f"{column} is {found}: orderreport needs a timestamp (with or without time "
            "zone, any precision), a date or an integer epoch"
        )
    if base == TIMESTAMP and shop.naive_tz_source == SERVER_ZONE and not shop.source.is_seed:
        # read in the server's zone, a day would silently hold other orders
        raise UsageError(
            f"{column} is {found} (no zone): set placed_at_zone in [source] to the zone it "
            'was written in (e.g. placed_at_zone = "UTC"), or --naive-tz'
        )


def find(conn: psycopg.Connection[Any], settings: Settings) -> Shop:
    """The shop as found in this database with these settings (see shop.inspect)."""
    return inspect(
        conn,
        path=user_path(conn),
        schema=settings.shop_schema,
        naive_tz=settings.naive_tz,
        server_tz=server_tz(conn),
        source=settings.source,
        currency=settings.currency,
    )


def try_find(conn: psycopg.Connection[Any], settings: Settings) -> tuple[Shop | None, str | None]:
    """find for `status`: (None, why) instead of an error when the shop is unclear."""
    try:
        return find(conn, settings), None
    except (ShopAmbiguous, ShopUnsupported) as exc:  # found out by reading, nothing to undo
        return None, str(exc)


SERVER_ZONE = "server TimeZone"  # naive_tz_source when nothing said the zone


def _zone(naive_tz: str | None, source: Source, server_tz: str) -> tuple[str, str]:
    if naive_tz:
        return naive_tz, "setting"
    if source.placed_at_zone:
        return source.placed_at_zone, f"{source.name}'s own"
    return server_tz, SERVER_ZONE


_TYPE_NAME = "SELECT pg_catalog.format_type(%(oid)s::oid, NULL)"


def _query_shop(
    conn: psycopg.Connection[Any],
    source: Source,
    schema: str | None,
    naive_tz: str | None,
    server_tz: str,
    currency: str | None,
) -> Shop:
    """A query source: its columns checked by asking for none of its rows."""
    assert source.query is not None
    where = source.schema or schema
    sql = fill_schema(source.query, where)
    try:
        with conn.transaction():  # a savepoint inside the session's transaction
            # the user's SQL, run as written: no parameters, so its % signs stay its own
            # plain tuples: the user's columns may repeat a name, which a named tuple refuses
            cur = conn.cursor(row_factory=tuple_row).execute(f"SELECT * FROM ({sql}) AS q LIMIT 0")
            described = {str(c.name): c.type_code for c in cur.description or ()}
            types = {}
            for name, oid in described.items():
                row = conn.execute(_TYPE_NAME, {"oid": oid}).fetchone()
                types[name] = str(row[0] if row is not None else None)
    except psycopg.Error as exc:  # the user's SQL: say which source failed, in one line
        raise ShopUnsupported(f"source query does not run: {limits.first_line(exc)}") from None
    missing = [c for c in sources.QUERY_COLUMNS if c not in types]
    if missing:
        raise ShopUnsupported(
            f"source query returns no column {missing[0]} (it must return "
            f"{', '.join(sources.QUERY_COLUMNS)})"
        )
    zone, zone_source = _zone(naive_tz, source, server_tz)
    shop = Shop(
        exists=True,
        schema=where,
        found_by="the setting (a query)",
        candidates=(),
        money_type=QUERY,
        created_at_type=types["placed_at"],
        updated_at_type=None,
        naive_tz=zone,
        naive_tz_source=zone_source,
        source=source,
        currency_code=source.currency_code or currency,
        orders_kind="q",
        lines_kind="q",
    )
    _check_placed(shop, "source query's placed_at")
    return shop
