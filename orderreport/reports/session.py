"""A session on the shop's database: the shop found in it and checked to be migrated.

Every report and the daily job start here: db.session gives the bounded connection,
find_shop the shop in it (shop.inspect, with the search path the user's session had),
require_schema that orderreport's objects are at head and its view was built for this
shop. schema.py (the DDL, the plan walk: milliseconds of start-up) is imported only where
a rare path needs it: an earlier release's history, a database with no shop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg

from orderreport import db
from orderreport import shop as shop_mod
from orderreport.config.settings import Settings
from orderreport.db import connection as pg
from orderreport.errors import NotMigrated
from orderreport.objects import (
    OUR_SCHEMA,
    QUALIFIED_VIEW,
    SCHEMA_HEAD,
    VERSION_TABLE,
    VIEW_COMMENT_SQL,
    VIEW_MARK,
)
from orderreport.shop import Shop

# require_schema's one catalog read: whether the version table is there, and the comment
# orderreport's view was built with ('' if the view or its comment is absent)
_STATE = (
    f"SELECT pg_catalog.to_regclass('{OUR_SCHEMA}.{VERSION_TABLE}') IS NOT NULL AS versioned, "
    f"{VIEW_COMMENT_SQL} AS built"
)


def require_schema(conn: psycopg.Connection[Any], shop: Shop) -> None:
    """Raise NotMigrated unless the database is at head and the view was built for `shop`.

    Two round trips on a migrated database: the catalog (_STATE), then the revision."""
    state = conn.execute(_STATE, {"v": QUALIFIED_VIEW})
    row = state.fetchone()
    assert row is not None  # an aggregate-free SELECT without FROM: always one row
    current = db.revision(conn) if row[0] else None
    head = SCHEMA_HEAD
    if current is None:
        from orderreport import schema

        if schema.find_legacy(conn) is not None:
            raise NotMigrated(
                "the database was migrated by an earlier orderreport (history in "
                "alembic_version): run `orderreport migrate` to move it to orderreport's own "
                "version table"
            )
    if current != head:
        where = "has no orderreport schema" if current is None else f"is at revision {current}"
        raise NotMigrated(f"the database {where} (head is {head}): run `orderreport migrate`")
    built = str(row[1])
    wanted = shop.fingerprint()
    if built != wanted:
        was = [p for p in _parts(built) if p not in _parts(wanted)]
        now = [p for p in _parts(wanted) if p not in _parts(built)]
        raise NotMigrated(
            f"{OUR_SCHEMA}.order_reports was built for {'; '.join(was) or 'other settings'}, "
            f"the settings now give {'; '.join(now)}: run `orderreport migrate` to rebuild it"
        )


def _parts(fingerprint: str) -> list[str]:
    return [p.strip() for p in fingerprint.removeprefix(VIEW_MARK).split(";")]


def checked_shop(conn: psycopg.Connection[Any], settings: Settings) -> Shop:
    """The shop found in the session's database, checked to be migrated to head.

    A database with tables but no shop orderreport can read is refused in one line: a
    report of zeros there would look like a real one."""
    found = shop_mod.find(conn, settings)
    if not found.exists:
        from orderreport.shop import checks  # a rare path: no shop in the database

        checks.refuse_foreign(conn, found)
    require_schema(conn, found)
    conn.commit()
    return found


@contextlib.contextmanager
def shop_session(
    settings: Settings, *, read_only: bool = False
) -> Iterator[tuple[pg.Connection, Shop]]:
    """A session (see `session`) and the shop found in it, checked to be migrated to head.

    The checks read the catalog a statement at a time, each in its own transaction (no
    BEGIN and COMMIT round trips); the block's own work is one transaction as always."""
    with db.session(settings, read_only=read_only) as conn:
        conn.autocommit = True
        shop = checked_shop(conn, settings)
        conn.autocommit = False
        yield conn, shop
