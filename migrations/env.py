"""Alembic environment for orderreport.

The URL never comes from alembic.ini: `orderreport migrate` hands us a connection, and a
plain `alembic upgrade head` resolves the database the same way orderreport does
(ORDERREPORT_DATABASE_URL, DATABASE_URL, config file, else the embedded server).
Every online run holds a transaction-level advisory lock, so concurrent runs apply each
revision once; the view is excluded from autogenerate (it is created by hand in 0003).
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, text

from orderreport import db
from orderreport.config import load_settings
from orderreport.models import metadata

config = context.config


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    # views are created by revision 0003; autogenerate must not turn them into tables
    return not (type_ == "table" and reflected and name == "order_reports")


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        on_version_apply=config.attributes.get("on_version_apply"),
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        # held until this transaction commits: a second `migrate` waits here, then finds
        # the schema at head and applies nothing
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": db.MIGRATE_LOCK_KEY})
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url="postgresql+psycopg://",
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        output_buffer=config.output_buffer,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    with db.connect(load_settings()) as conn:
        run_with(conn)
        conn.commit()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
