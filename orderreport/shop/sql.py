"""SQL text of the shop's names and values: identifiers quoted where PostgreSQL needs it (as
SQLAlchemy's preparer quotes them), string literals, and `{schema}` in a source's SQL."""

from __future__ import annotations

import re

from psycopg import sql

from orderreport.errors import ShopUnsupported


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


def sql_string(value: str) -> str:
    """A SQL string literal (standard_conforming_strings: only quotes need doubling)."""
    return "'" + value.replace("'", "''") + "'"


def qualified(schema: str | None, name: str) -> str:
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


def ident(schema: str | None, name: str) -> sql.Identifier:
    """`schema.name` (or `name` alone) as an identifier for psycopg.sql."""
    return sql.Identifier(schema, name) if schema else sql.Identifier(name)
