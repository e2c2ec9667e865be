"""Alembic environment for orderreport.

The URL never comes from alembic.ini: `orderreport migrate` hands us a connection (and so
may pytest-alembic, as a Connection or an Engine), and a plain `alembic upgrade head`
resolves the database the same way orderreport does (ORDERREPORT_DATABASE_URL,
DATABASE_URL, config file, else the embedded server).

orderreport keeps its history in a version table of its own, orderreport.orderreport_version,
never in an application's `alembic_version`. Every online run holds a session-level
advisory lock (waiting a bounded time for it), so concurrent runs apply each revision once
even across the autocommit blocks that build indexes concurrently, and runs each DDL
statement under lock_timeout, so a migration facing the shop's traffic gives up instead of
stalling it. Each revision is its own transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from alembic import context
from sqlalchemy import Connection, Engine, text

from orderreport import db, schema
from orderreport.db import limits
from orderreport.objects import OUR_SCHEMA, VERSION_TABLE, VIEW
from orderreport.schema import migrate
from orderreport.schema import revisions as migrating
from orderreport.schema.models import metadata

config = context.config


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    # the shop's schema (the default one here) and ours; never the view, never a history table
    if type_ == "schema":
        return name in (None, OUR_SCHEMA)
    if type_ == "table":
        return name not in (VIEW, VERSION_TABLE, "alembic_version")
    return True


def run_with(connection: Connection) -> None:
    settings = migrating.settings()
    migrate.lock_for_migrate(connection)
    pg = migrate.driver(connection)  # what schema.py takes

    def commit() -> None:  # what SQLAlchemy ran, and what schema.py ran beside it
        connection.commit()
        pg.commit()

    try:
        connection.execute(
            text("SELECT set_config('lock_timeout', :v, false)"),
            {"v": f"{round(limits.bounds_for(settings, migrating=True).lock * 1000)}ms"},
        )
        legacy = schema.find_legacy(pg)
        config.attributes["legacy"] = legacy
        walk = schema.Walk(
            pg,
            applying=True,
            shop=migrating.shop_now(connection),
            legacy=legacy,
            adopt=migrating.adopt(),
            build_asked=migrating.build_indexes(),
        )
        config.attributes["walk"] = walk
        schema.begin(walk, db.schema_revision(pg))  # orderreport's schema, first
        commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_schemas=True,
            include_name=include_name,
            version_table=VERSION_TABLE,
            version_table_schema=OUR_SCHEMA,
            on_version_apply=config.attributes.get("on_version_apply"),
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        commit()
        head = context.get_head_revision()
        if head is not None and db.schema_revision(pg) == head:
            # outside Alembic's transactions (they are done), so its autocommit_block does
            # not apply: for the indexes --build-indexes builds on a platform's tables

            @contextlib.contextmanager
            def autocommit() -> Iterator[None]:
                level = connection.default_isolation_level or "READ COMMITTED"
                commit()
                connection.execution_options(isolation_level="AUTOCOMMIT")
                try:
                    yield
                finally:
                    commit()  # SQLAlchemy's own transaction object, even here
                    connection.execution_options(isolation_level=level)

            # settings that the view reads (shop schema, naive zone) may have changed
            walk.shop = migrating.shop_now(connection)
            walk.autocommit = autocommit
            schema.end(walk, head)
        commit()
    finally:
        with contextlib.suppress(psycopg.Error):  # what a failed step of schema.py left open
            pg.rollback()
        migrate.unlock_migrate(connection)


def run_offline() -> None:
    context.configure(
        url="postgresql+psycopg://",
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        output_buffer=config.output_buffer,
        version_table=VERSION_TABLE,
        version_table_schema=OUR_SCHEMA,
    )
    with context.begin_transaction():
        context.execute(f"CREATE SCHEMA IF NOT EXISTS {OUR_SCHEMA}")
        context.run_migrations()


def run_online() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, Engine):  # pytest-alembic hands over an Engine
        with given.connect() as conn:
            run_with(conn)
        return
    if given is not None:
        run_with(given)
        return
    with migrate.alembic_conn(migrating.settings()) as wrapped:
        run_with(wrapped)


if context.is_offline_mode():
    run_offline()
else:
    run_online()
