"""What the revisions in migrations/versions share: the settings, the walk, the shop now.

`migrate` (migrate.py) and a plain `alembic upgrade` (migrations/env.py) put the Settings
and the `--adopt` and `--build-indexes` choices into Alembic's config attributes, and
env.py the walk (schema.Walk) that records each step taken. A revision's `steps(walk)`
decides and takes its steps; `migrate --plan` calls the same `steps` with a walk that
does not apply. Applying, a revision looks at the shop afresh, since an earlier revision
of the same run may have changed it (a created table, an added column).
"""

from __future__ import annotations

from typing import Any

import psycopg
from alembic import context, op
from sqlalchemy import Connection

from orderreport import db
from orderreport import shop as shop_mod
from orderreport.config.settings import Settings, load_settings
from orderreport.schema import Legacy, Walk
from orderreport.schema.migrate import driver
from orderreport.shop import Shop


def attributes() -> dict[str, Any]:
    attrs: dict[str, Any] = context.config.attributes
    return attrs


def settings() -> Settings:
    found = attributes().get("settings")
    return found if isinstance(found, Settings) else load_settings()


def connection() -> psycopg.Connection[Any]:
    """The running revision's psycopg connection, in the revision's transaction."""
    return driver(op.get_bind())


def walk() -> Walk:
    """The run's walk (env.py makes it), its shop looked at afresh, for the running
    revision: its autocommit is the revision's."""
    found = attributes().get("walk")
    if not isinstance(found, Walk):  # a revision run by other means than env.py's
        found = Walk(connection(), applying=True, shop=shop_now(), legacy=legacy(), adopt=adopt())
        attributes()["walk"] = found
    if found.applying:
        found.shop = shop_now()
        found.autocommit = op.get_context().autocommit_block
    return found


def shop_now(conn: Connection | None = None) -> Shop:
    conn = conn if conn is not None else op.get_bind()
    s = settings()
    pg = driver(conn)
    return shop_mod.inspect(
        pg,
        path=db.user_path(pg),
        schema=s.shop_schema,
        naive_tz=s.naive_tz,
        server_tz=db.server_tz(pg),
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
