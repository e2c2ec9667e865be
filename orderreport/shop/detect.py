"""orderreport.shop.detect."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from orderreport.config import sources
from orderreport.config.sources import Source
from orderreport.db.connection import UserPath
from orderreport.errors import ShopAmbiguous, ShopUnsupported
from orderreport.objects import OUR_SCHEMA

SEED_SOURCE = sources.preset(sources.SEED)


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
