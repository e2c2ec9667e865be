"""What the revisions in migrations/versions share: the settings and the shop as it is now.

`migrate` (db.py) and a plain `alembic upgrade` (migrations/env.py) put the Settings, the
`--adopt` choice and a list for messages into Alembic's config attributes; a revision
reads them here and looks at the database afresh, since an earlier revision of the same
run may have changed it (a created table, an added column).
"""

from __future__ import annotations

from typing import Any

import psycopg
from alembic import context, op
from sqlalchemy import Connection, text

from orderreport import db
from orderreport import shop as shop_mod
from orderreport.config import Settings, load_settings
from orderreport.pg import Connection as PgConnection
from orderreport.schema import Legacy
from orderreport.shop import Shop


def attributes() -> dict[str, Any]:
    attrs: dict[str, Any] = context.config.attributes
    return attrs


def settings() -> Settings:
    found = attributes().get("settings")
    return found if isinstance(found, Settings) else load_settings()


def connection() -> psycopg.Connection[Any]:
    """The running revision's psycopg connection (what schema.py's functions take): the
    driver connection under Alembic's, in the revision's transaction."""
    return db.driver(op.get_bind())


def server_tz(conn: Connection) -> str:
    """The zone the server gave this session: what now() used to fill naive timestamps."""
    pg = db.driver(conn)
    if isinstance(pg, PgConnection):  # opened by db.connect, which kept it
        return str(pg.server_tz)
    return str(conn.execute(text("SELECT current_setting('TimeZone')")).scalar())


def shop_now(conn: Connection | None = None) -> Shop:
    conn = conn if conn is not None else op.get_bind()
    s = settings()
    pg = db.driver(conn)
    return shop_mod.inspect(
        pg,
        path=db.user_path(pg),
        schema=s.shop_schema,
        naive_tz=s.naive_tz,
        server_tz=server_tz(conn),
        source=s.source,
        currency=s.currency,
    )


def legacy() -> Legacy | None:
    found = attributes().get("legacy")
    return found if isinstance(found, Legacy) else None


def build_indexes() -> bool:
    """migrate --build-indexes: build the indexes advised on a platform's own tables."""
    return bool(attributes().get("build_indexes", False))


def adopt() -> bool:
    return bool(attributes().get("adopt", False))


def note(message: str) -> None:
    """A line for the user (migrate prints it on stderr)."""
    notes = attributes().setdefault("notes", [])
    notes.append(message)
