"""What orderreport knows about the shop's database, worked out here and nowhere else.

The shop's tables belong to the shop's application: whatever platform made them, whatever
schema they are in, however their money and timestamps are typed. `inspect` resolves the
source (sources.py: a preset, the user's mapping or query, else the one preset the catalog
matches) against the catalog once and hands back one small value, `Shop`; the view, the
queries, `migrate --plan` and `status` are all built from it. orderreport's own objects live
in their own schema, `orderreport`, apart from the shop's: the `order_reports` view,
`daily_reports`, the run log, the version table and `created_objects` (what orderreport
added to a seed-schema shop, so a downgrade removes only those).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
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
from orderreport.objects import OUR_SCHEMA, VIEW_MARK

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
# ONCE (0008) is PER_CURRENCY with an amount or currency given as SQL (a subquery into
# another relation, Medusa's order_summary, Odoo's res_currency) computed once per order
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

SEED_SOURCE = sources.preset(sources.SEED)


RELATION_KINDS = {"r": "table", "p": "partitioned table", "v": "view", "m": "view", "f": "table"}


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
            f"def={self.source.digest()}"
        )


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

# Every relation of the names the sources read, outside the system's schemas and ours.
_RELATIONS = r"""
    SELECT n.nspname AS schema, c.relname AS relation, c.relkind AS kind,
           a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_attribute a
           ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relname = ANY(%(names)s::text[])
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', %(ours)s)
      AND n.nspname NOT LIKE 'pg\_%%'
    """

# Tables and views of anyone but the system and orderreport: a database that has some holds
# someone's data, and gets no sample shop next to it.
_FOREIGN_RELATIONS = r"""
    SELECT n.nspname || '.' || c.relname
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', %(ours)s)
      AND n.nspname NOT LIKE 'pg\_%%'
    ORDER BY n.nspname = 'public' DESC, n.nspname, c.relname
    LIMIT 4
    """


@dataclass(frozen=True)
class _Relation:
    kind: str
    columns: dict[str, str]  # name -> type


Catalog = dict[tuple[str, str], _Relation]


def foreign_relations(conn: psycopg.Connection[Any]) -> list[str]:
    """Up to four tables or views of the database that are not orderreport's (schema.name)."""
    return [str(r) for (r,) in conn.execute(_FOREIGN_RELATIONS, {"ours": OUR_SCHEMA})]


def _read_catalog(conn: psycopg.Connection[Any], candidates: Iterable[Source]) -> Catalog:
    names = sorted(
        {
            name
            for s in candidates
            for name in (s.orders, s.lines, *s.also_reads)
            if name is not None
        }
    )
    catalog: Catalog = {}
    for schema, relation, kind, column, type_ in conn.execute(
        _RELATIONS, {"names": names, "ours": OUR_SCHEMA}
    ):
        rel = catalog.setdefault((str(schema), str(relation)), _Relation(str(kind), {}))
        if column is not None:
            rel.columns[str(column)] = str(type_)
    return catalog


def _problem(source: Source, schema: str, catalog: Catalog) -> str | None:
    """Why `source` does not resolve in `schema` (None: it does), naming what is missing."""
    assert source.orders is not None and source.lines is not None
    orders = catalog.get((schema, source.orders))
    if orders is None:
        return f"{schema} has no relation {source.orders}"
    needed = [source.order_id, *source.uses]
    # the seed's created_at may be missing: migrate adds it (orderreport's own lineage)
    if source.placed_at is not None and not source.is_seed:
        needed.append(source.placed_at)
    if source.currency is not None and sources.is_column(source.currency):
        needed.append(source.currency)
    if source.amount is not None and (source.is_seed or sources.is_column(source.amount)):
        needed.append(source.amount)
    for column in needed:
        if column not in orders.columns:
            return f"{schema}.{source.orders} has no column {column}"
    lines = catalog.get((schema, source.lines))
    if lines is None:
        return f"{schema} has no relation {source.lines}"
    if source.lines_order_key not in lines.columns:
        return f"{schema}.{source.lines} has no column {source.lines_order_key}"
    for other in source.also_reads:
        if (schema, other) not in catalog:
            return f"{schema} has no relation {other}"
    return None


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


def _choose(
    path: UserPath,
    matches: list[tuple[Source, str]],
    wanted: str | None,
    explicit: bool,
    source: Source | None,
    problems: list[str],
) -> tuple[Source, str | None, str]:
    """(source, schema, how) among the matches; raises when it cannot be told."""
    how = "the setting" if explicit else "detection"
    if wanted is not None:
        inside = [m for m in matches if m[1] == wanted]
        if len(inside) == 1:
            return inside[0][0], wanted, f"{how}, schema from the setting"
        if len(inside) > 1:
            raise ShopAmbiguous(
                f"schema {wanted} holds several shops ({_named(inside)}): "
                "say which with --platform (or ORDERREPORT_PLATFORM)"
            )
        if matches:
            raise ShopAmbiguous(
                f"schema {wanted!r} has no shop orderreport can read; found {_named(matches)}: "
                "set --shop-schema to one of them"
            )
        if explicit and source is not None and not source.is_seed:
            raise ShopUnsupported(_unresolved(source, problems, wanted))
        return source or SEED_SOURCE, wanted, "no shop: migrate creates one"
    if not matches:
        if explicit and source is not None and not source.is_seed:
            raise ShopUnsupported(_unresolved(source, problems, None))
        return source or SEED_SOURCE, None, "no shop: migrate creates one"
    if len(matches) == 1:
        src, sch = matches[0]
        return src, sch, f"{how} ({src.name} in {sch})" if not explicit else "the setting"
    if path.set:
        for sch in path.schemas:
            on_path = [m for m in matches if m[1] == sch]
            if len(on_path) == 1:
                return on_path[0][0], sch, "search path (set for the connection)"
    raise ShopAmbiguous(
        f"this database holds several shops ({_named(matches)}): say which with "
        "--platform and --shop-schema (or ORDERREPORT_PLATFORM, ORDERREPORT_SHOP_SCHEMA)"
    )


def _near_miss(conn: psycopg.Connection[Any], source: Source, schema: str | None) -> str | None:
    """For a preset that does not resolve: the other preset this database holds, said as
    the setting to use (`--platform medusa` on a Medusa v1 database names medusa-v1)."""
    if source.name in (sources.MAPPING, sources.QUERY):
        return None
    others = [p for p in sources.presets() if p.name != source.name and not p.is_seed]
    catalog = _read_catalog(conn, others)
    found = sorted(
        {
            p.name
            for p in others
            for sch in {s for (s, _r) in catalog}
            if (schema is None or sch == schema) and _problem(p, sch, catalog) is None
        }
    )
    if not found:
        return None
    return f"this database holds {' or '.join(found)}: use --platform {found[0]}"


def _unresolved(source: Source, problems: list[str], schema: str | None) -> str:
    """One line for a configured source that resolves nowhere."""
    where = f" in schema {schema}" if schema else ""
    if problems:
        return f"source {source.name} does not resolve{where}: {problems[0]}"
    return f"source {source.name} does not resolve{where}: no relation {source.orders} found"


def _named(matches: list[tuple[Source, str]]) -> str:
    return ", ".join(f"{src.name} in {sch}" for src, sch in matches)


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


def fill_schema(sql: str, schema: str | None) -> str:
    """`sql` with {schema} replaced by the shop's schema, quoted."""
    if "{schema}" not in sql:
        return sql
    if schema is None:
        raise ShopUnsupported("the source's SQL names {schema}, but no schema was found")
    return sql.replace("{schema}", quote(schema))


# PostgreSQL's reserved key words (its manual's appendix "SQL Key Words"), as SQLAlchemy's
# dialect lists them: `quote` quotes the names SQLAlchemy's preparer quoted, so the DDL and
# the statements `status` prints read as they did.
_RESERVED_WORDS = """
    all analyse analyze and any array as asc asymmetric authorization between binary both
    case cast check collate column constraint create cross current_catalog current_date
    current_role current_schema current_time current_timestamp current_user default
    deferrable desc distinct do else end except false fetch for foreign freeze from full
    grant group having ilike in initially inner intersect into is isnull join leading left
    like limit localtime localtimestamp natural new not notnull null of off offset old on
    only or order outer over overlaps placing primary references returning right select
    session_user similar some symmetric table then to trailing true union unique user using
    variadic verbose when where window with"""
_RESERVED = frozenset(_RESERVED_WORDS.split())
_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")


def quote(name: str) -> str:
    """An identifier quoted for PostgreSQL where it needs quotes: unless it is lower case
    letters, digits, _ and $, starting with a letter or _, and no reserved word."""
    if _PLAIN.fullmatch(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


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
    if form == ONCE and src.amount and not sources.is_column(src.amount):
        fenced.append((amount, "amount"))
        amount = "v.amount"
    if form == ONCE and src.currency and not sources.is_column(src.currency):
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
# A report day is a calendar day in the session's TimeZone (db.py sets it to the shop's
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


def sql_string(value: str) -> str:
    """A SQL string literal (standard_conforming_strings: only quotes need doubling)."""
    return "'" + value.replace("'", "''") + "'"


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
