"""Least privilege that works as printed: the GRANT statements of a reports or a job role.

`statements` resolves everything against the database it is connected to: the shop's
schema, the relations the source reads (found by the server: what a view of the source's
SQL depends on, whatever a preset, a mapping or a query reads), and orderreport's own
objects. What each command reads and writes,
and so what each role is granted (tests/test_grants.py takes every privilege away in turn
and shows a command that then fails):

- every command connects (CONNECT on the database: PUBLIC's by default, often revoked),
  reads `orderreport.orderreport_version` at start (session.require_schema) and otherwise only
  the catalogs (the shop is found from pg_class; the view's comment, the indexes);
- report, summary, verify and daily read `orderreport.order_reports`: a view, so the
  shop's tables under it are read with its owner's rights, not the role's;
- but `status` counts undated orders straight from the orders relation, `report --all`
  reads the orders and lines relations (and what the source's SQL also reads) in one
  grouped pass without the view, and a query source runs its query at every start: so the
  source's relations need SELECT, and their schema USAGE;
- history, verify and status read `orderreport.daily_reports`; runs and status read
  `orderreport.runs`;
- daily writes `daily_reports` by DELETE and INSERT of each day (never UPDATE), and the
  run log by INSERT … RETURNING id (SELECT) and UPDATE. Its identity column needs no grant
  on its sequence: PostgreSQL checks only the table's INSERT privilege for it.

Nothing is ever granted on the shop's tables but SELECT, and never ALL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from orderreport import shop as shop_mod
from orderreport.errors import NotMigrated, ShopUnsupported, UsageError
from orderreport.objects import DAILY_REPORTS, OUR_SCHEMA, RUNS, VERSION_TABLE, VIEW
from orderreport.shop import Shop, qualified, quote

REPORTS = "reports"
JOB = "job"
KINDS = (REPORTS, JOB)

# orderreport's own relations every role reads, in the order they are granted
OUR_READS = (VERSION_TABLE, VIEW, DAILY_REPORTS, RUNS)
# what the job writes besides: daily_reports by DELETE + INSERT per day, its run log by
# INSERT and UPDATE
JOB_WRITES = {DAILY_REPORTS: ("INSERT", "DELETE"), RUNS: ("INSERT", "UPDATE")}
# relations a role may read without a grant (PUBLIC may read the catalogs)
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
_TABLE_KINDS = ("r", "p", "v", "m", "f")
_PROBE = "orderreport_grants_probe"  # the temporary view a query source is resolved through

_DATABASE = "SELECT pg_catalog.current_database()"
_ROLE_EXISTS = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %(r)s)"
_MISSING = (
    "SELECT name FROM pg_catalog.unnest(CAST(%(names)s AS text[])) AS name "
    "WHERE pg_catalog.to_regclass(name) IS NULL"
)
# What a view's rule depends on: the relations and functions its query reads and calls.
_DEPENDS = """
    SELECT 'r' AS what, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
    FROM pg_catalog.pg_rewrite r
    JOIN pg_catalog.pg_depend d
      ON d.classid = CAST('pg_catalog.pg_rewrite' AS pg_catalog.regclass) AND d.objid = r.oid
     AND d.refclassid = CAST('pg_catalog.pg_class' AS pg_catalog.regclass)
    JOIN pg_catalog.pg_class c ON c.oid = d.refobjid AND c.oid <> r.ev_class
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE r.ev_class = CAST(%(view)s AS pg_catalog.regclass)
    UNION
    SELECT 'f', n.nspname,
           p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
           p.prokind::text
    FROM pg_catalog.pg_rewrite r
    JOIN pg_catalog.pg_depend d
      ON d.classid = CAST('pg_catalog.pg_rewrite' AS pg_catalog.regclass) AND d.objid = r.oid
     AND d.refclassid = CAST('pg_catalog.pg_proc' AS pg_catalog.regclass)
    JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE r.ev_class = CAST(%(view)s AS pg_catalog.regclass)
    ORDER BY 1, 2, 3
    """


@dataclass(frozen=True)
class _Reads:
    """What of the shop's a role reads: (schema, relation) pairs, the schemas to use, and
    comment lines for what could not be resolved."""

    relations: tuple[tuple[str, str], ...]
    schemas: tuple[str, ...]
    notes: tuple[str, ...] = ()


def statements(conn: psycopg.Connection[Any], shop: Shop, role: str, kind: str) -> list[str]:
    """The GRANT statements (each ending in ';', comments starting with '--') that give
    `role` exactly what the `kind` of commands needs on this database: "reports" (report,
    summary, history, verify, status, runs) or "job" (daily, and all the reports' too).

    Raises UsageError for an unknown kind or a role name PostgreSQL would not take,
    ShopUnsupported when there is no shop, NotMigrated when orderreport's objects are
    missing. Reads only the catalogs (a query source: through a temporary view of its
    query, rolled back).
    """
    if kind not in KINDS:
        raise UsageError(f"unknown kind of role {kind!r}: {' or '.join(KINDS)}")
    _check_role(role)
    if not shop.exists:
        raise ShopUnsupported("there is no shop in this database: nothing to grant on")
    ours = [qualified(OUR_SCHEMA, name) for name in OUR_READS]
    missing = [str(row[0]) for row in conn.execute(_MISSING, {"names": ours}).fetchall()]
    if missing:
        raise NotMigrated(
            f"{', '.join(missing)} missing: run `orderreport migrate` before granting on it"
        )
    who = quote(role)
    found: list[str] = []
    if not _one(conn, _ROLE_EXISTS, {"r": role}):
        found.append(f"-- there is no role {who} yet: CREATE ROLE {who} LOGIN first")
    database = str(_one(conn, _DATABASE))
    found.append(f"GRANT CONNECT ON DATABASE {quote(database)} TO {who};")
    reads = _shop_reads(conn, shop, who)
    for schema in (OUR_SCHEMA, *(s for s in reads.schemas if s != OUR_SCHEMA)):
        found.append(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {who};")
    for name, relation in zip(OUR_READS, ours, strict=True):
        privileges = ("SELECT", *(JOB_WRITES.get(name, ()) if kind == JOB else ()))
        found.append(f"GRANT {', '.join(privileges)} ON TABLE {relation} TO {who};")
    for schema, name in reads.relations:
        if schema == OUR_SCHEMA:
            continue  # granted above, and never more than SELECT
        found.append(f"GRANT SELECT ON TABLE {qualified(schema, name)} TO {who};")
    found.extend(reads.notes)
    # a name with a line break in it must not end a comment early (what follows would run)
    return [_one_line(line) if line.startswith("--") else line for line in found]


def _one(conn: psycopg.Connection[Any], query: str, params: dict[str, Any] | None = None) -> Any:
    """The one value the one row of `query` holds."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise psycopg.ProgrammingError("a query of one row returned none")
    return row[0]


def _one_line(comment: str) -> str:
    return "".join(c if c >= " " else "?" for c in comment)


def _check_role(role: str) -> None:
    if not role or len(role.encode()) > 63 or any(c < " " for c in role):
        raise UsageError(f"invalid role name {role!r}")
    if role == "public":  # PostgreSQL reads TO public as every role there is
        raise UsageError("role public is every role: name the role that runs the commands")


def _shop_reads(conn: psycopg.Connection[Any], shop: Shop, who: str) -> _Reads:
    """What the source reads, found by the server, not declared: the dependencies of a
    temporary view of what orderreport's view selects (a mapping's or preset's SQL, with
    whatever its amount, currency and predicates read) or of a query source's query,
    created and rolled back in a savepoint. A mapping's `also_reads` is not needed; what it
    names and the source does not read is said in a comment. Where no temporary view can
    be made (a read-only session, no TEMP privilege), the declared relations of a mapping
    are granted, and a query source's are named by a comment."""
    src = shop.source
    if src.is_query:
        assert src.query is not None
        sql = shop_mod.fill_schema(src.query, shop.schema)
    else:
        sql = shop_mod.view_definition(shop, quote)
    rows = _depends(conn, sql)
    if rows is None:
        if src.is_query:
            known = (shop.schema,) if shop.schema else ()
            note = (
                "-- the source query's relations: GRANT USAGE on their schemas and SELECT on "
                f"each TO {who};"
            )
            return _Reads((), known, (note,))
        assert shop.schema is not None and src.orders is not None and src.lines is not None
        names = list(dict.fromkeys((src.orders, src.lines, *src.also_reads)))
        return _Reads(tuple((shop.schema, n) for n in names), (shop.schema,))
    reads = _reads_of(rows, who, "source query" if src.is_query else "source")
    if not src.is_query:  # the orders and lines relations first, as the source names them
        first = {(shop.schema, src.orders): 0, (shop.schema, src.lines): 1}
        ordered = sorted(reads.relations, key=lambda r: (first.get(r, 2), r))
        reads = _Reads(tuple(ordered), reads.schemas, reads.notes)
    unread = [n for n in src.also_reads if (shop.schema, n) not in reads.relations]
    notes = tuple(
        f"-- also_reads names {quote(n)}, which the source does not read: nothing granted on it"
        for n in unread
    )
    return _Reads(reads.relations, reads.schemas, reads.notes + notes)


def _depends(conn: psycopg.Connection[Any], sql: str) -> list[Any] | None:
    """The dependencies of a temporary view of `sql` (None: no temporary view can be made)."""
    probe = f"pg_temp.{quote(_PROBE)}"
    try:
        conn.execute(f"SAVEPOINT {_PROBE}")
        try:
            conn.execute(f"CREATE TEMPORARY VIEW {quote(_PROBE)} AS {sql}")
            return conn.execute(_DEPENDS, {"view": probe}).fetchall()
        finally:
            conn.execute(f"ROLLBACK TO SAVEPOINT {_PROBE}")
            conn.execute(f"RELEASE SAVEPOINT {_PROBE}")
    except psycopg.Error:
        return None


def _reads_of(rows: list[Any], who: str, reader: str) -> _Reads:
    """The relations and schemas among a view's dependencies, and comments for functions."""
    relations: list[tuple[str, str]] = []
    schemas: list[str] = []
    notes: list[str] = []
    for what, schema, name, kind in rows:  # what: r (a relation) or f (a function)
        schema, name = str(schema), str(name)
        if schema in _SYSTEM_SCHEMAS or schema.startswith("pg_"):
            continue  # the catalogs, and the probe itself: PUBLIC reads them
        if what == "r" and kind in _TABLE_KINDS:
            relations.append((schema, name))
        elif what == "f":
            # its own reads are not in the view's dependencies (a SECURITY INVOKER
            # function reads with the caller's rights)
            notes.append(
                f"-- the {reader} calls {quote(schema)}.{name}: GRANT SELECT on what it "
                f"reads TO {who} too (and EXECUTE, if PUBLIC may not)"
            )
        else:
            continue
        schemas.append(schema)
    return _Reads(tuple(relations), tuple(dict.fromkeys(schemas)), tuple(notes))
