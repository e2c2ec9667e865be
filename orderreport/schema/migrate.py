"""The migration side: `migrate`, `migrate --plan`, `migrate --sql` and downgrades.

With models.py, revisions.py and migrations/, the only runtime module that imports
SQLAlchemy and Alembic (lazily: only the commands that migrate pay for them). The
connection comes from db.connect(settings, migrating=True) like every other; `alembic_conn`
is the one place that hands it to Alembic. `migrate` and `--plan` walk the same steps
(schema.Walk): applying, through Alembic (migrations/env.py and each pending revision's
`steps`); not applying, here, calling the same `steps` of each pending revision.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import psycopg

from orderreport import db, objects, schema
from orderreport import shop as shop_mod
from orderreport.config.settings import Settings
from orderreport.db import limits
from orderreport.errors import DatabaseFailed, DatabaseUnavailable, LockBusy
from orderreport.shop import checks

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection

# Advisory lock key (pg_advisory_lock takes a bigint): "ORMIGRAT" in ASCII.
MIGRATE_LOCK_KEY = 0x4F524D4947524154
# How long `migrate` waits for another `migrate` (which may be building indexes) to finish.
MIGRATE_WAIT = 120.0


def migrations_dir() -> Path:
    """The Alembic script folder: in the package when installed, at the repo root in a checkout."""
    package = Path(__file__).resolve().parent.parent  # orderreport/
    for candidate in (package / "migrations", package.parent / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise DatabaseUnavailable("orderreport's migrations folder is missing from this installation")


def alembic_config(stdout: TextIO | None = None) -> Config:
    from alembic.config import Config  # Alembic is imported only by the commands that need it

    cfg = Config(stdout=stdout) if stdout is not None else Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    return cfg


def head_revision() -> str:
    """The head revision of the migration scripts (reads them: slower than objects.SCHEMA_HEAD)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@contextlib.contextmanager
def alembic_conn(settings: Settings) -> Iterator[Connection]:
    """The run's migration connection (db.connect(settings, migrating=True)) as Alembic
    takes it: a SQLAlchemy Connection over that very psycopg connection (the one place that
    wraps it), whose driver connection is what schema/ takes."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    with db.connect(settings, migrating=True) as conn:
        eng = create_engine(
            "postgresql+psycopg://",
            creator=lambda: conn,
            poolclass=StaticPool,
            hide_parameters=True,
            # no hstore here: the dialect would look its type up at connect, three round trips
            use_native_hstore=False,
        )
        try:
            with eng.connect() as wrapped:
                yield wrapped
        finally:
            eng.dispose(close=False)  # the connection is db.connect's to close


def driver(conn: Connection | psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """The psycopg connection under Alembic's (see alembic_conn), or `conn` itself: a
    pg.Connection when db.connect opened it, a plain one when pytest-alembic did."""
    found = conn if isinstance(conn, psycopg.Connection) else conn.connection.driver_connection
    assert isinstance(found, psycopg.Connection)
    return found


def lock_for_migrate(conn: Connection) -> None:
    """The migration lock: another `migrate` may hold it for a while, so wait MIGRATE_WAIT."""
    if conn.in_transaction():
        conn.commit()
    try:
        db.try_advisory_lock(driver(conn), MIGRATE_LOCK_KEY, MIGRATE_WAIT)
    except LockBusy:
        raise LockBusy(
            f"another migrate has held the migration lock for over {MIGRATE_WAIT:g} s; "
            "nothing was changed"
        ) from None


def unlock_migrate(conn: Connection) -> None:
    with contextlib.suppress(Exception):  # the connection may be gone: it held the lock
        if conn.in_transaction():
            conn.rollback()
        db.advisory_unlock(driver(conn), MIGRATE_LOCK_KEY)


@dataclass(frozen=True)
class MigrationResult:
    """What `migrate` did: revisions applied in order, from `start` to `end` (None = empty),
    and every step it took or found (the same steps `--plan` lists beforehand)."""

    start: str | None
    end: str | None
    applied: tuple[str, ...]
    notes: tuple[str, ...] = ()  # what was found and done, for people
    shop: str | None = None  # the shop it found, for people (as --plan and status say)
    steps: tuple[schema.Step, ...] = ()


def migrate(
    settings: Settings, *, adopt: bool = False, build_indexes: bool = False
) -> MigrationResult:
    """Upgrade to head under an advisory lock, so concurrent runs apply each revision once.

    `adopt` takes over an object of orderreport's names in its schema that orderreport did
    not create (see schema.view and schema.create_daily_reports); `build_indexes` builds
    the indexes advised on a platform's own tables (schema.indexes).
    Raises Refused, changing nothing, on a database with tables but no shop it can read.
    """
    from alembic import command
    from alembic.util import CommandError

    applied: list[tuple[str | None, str]] = []

    def on_apply(*, step: Any, **_: Any) -> None:
        downs = step.down_revision_ids
        applied.append((downs[0] if downs else None, step.up_revision_id))

    with alembic_conn(settings) as conn:
        # now: once the connection is lost, SQLAlchemy's wrapper cannot even hand it over
        pg_conn = driver(conn)
        bounds = db.bounds_of(pg_conn)
        # an unclear shop, or someone else's tables without one, stop here before any change
        found = shop_mod.find(pg_conn, settings)
        checks.refuse_foreign(pg_conn, found)
        shop_mod.prove(pg_conn, found)  # every fragment of the source plans: else no change
        conn.commit()
        cfg = alembic_config()
        cfg.attributes.update(
            connection=conn,
            on_version_apply=on_apply,
            settings=settings,
            adopt=adopt,
            build_indexes=build_indexes,
        )
        try:
            command.upgrade(cfg, "head")
        except CommandError as exc:  # e.g. the database is at a revision this version lacks
            raise DatabaseFailed(f"migration failed: {exc}") from None
        except Exception as exc:
            if not limits.is_database_error(exc):
                raise
            # psycopg's own error, or SQLAlchemy's around it
            if isinstance(getattr(exc, "orig", None) or exc, psycopg.errors.LockNotAvailable):
                raise DatabaseFailed(
                    f"migration stopped: a shop table stayed locked for over "
                    f"{bounds.lock:g} s (--lock-timeout); nothing half-done is left, "
                    "rerun `orderreport migrate` when the shop is quieter"
                ) from None
            # a lost connection (a cleanup after it may raise SQLAlchemy's PendingRollbackError
            # instead: limits.describe looks behind it), a refusal, a timeout: one line
            probe = getattr(pg_conn, "probe", None)
            raise limits.describe(exc, bounds, "migration failed", probe) from None
        conn.rollback()  # Alembic's transaction over; the revision is read on the driver's
        end = db.schema_revision(pg_conn)
    walk = cfg.attributes["walk"]
    start = applied[0][0] if applied else end
    return MigrationResult(
        start=start,
        end=end,
        applied=tuple(up for _, up in applied),
        notes=tuple(walk.notes),
        shop=f"{found.source.describe()} ({found.found_by})" if found.exists else None,
        steps=tuple(walk.steps),
    )


def migration_plan(
    settings: Settings, *, build_indexes: bool = False, adopt: bool = False
) -> list[schema.Step]:
    """What `migrate` would do to the configured database: the same steps, walked without
    applying them (each pending revision's `steps`); changes nothing."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    with db.connect(settings) as pg:
        revision = db.schema_revision(pg)
        found = shop_mod.find(pg, settings)
        checks.refuse_foreign(pg, found)
        shop_mod.prove(pg, found)
        walk = schema.Walk(
            pg,
            applying=False,
            shop=found,
            legacy=schema.find_legacy(pg),
            adopt=adopt,
            build_asked=build_indexes,
        )
        schema.begin(walk, revision)
        scripts = ScriptDirectory.from_config(alembic_config())
        try:
            pending = list(scripts.iterate_revisions("head", revision or "base"))
        except CommandError as exc:  # a revision this version lacks, as migrate says it
            raise DatabaseFailed(f"migration failed: {exc}") from None
        for script in reversed(pending):  # oldest first, as Alembic applies them
            script.module.steps(walk)
        schema.end(walk, objects.SCHEMA_HEAD)
        pg.rollback()
    return walk.steps


def migration_sql(out: TextIO) -> None:
    """Write the DDL of every revision to `out`, touching no database."""
    from alembic import command

    cfg = alembic_config(stdout=out)
    cfg.output_buffer = out
    command.upgrade(cfg, "head", sql=True)


def downgrade(settings: Settings, revision: str) -> None:
    """Downgrade to `revision` ("base" for nothing). For tests and operators, not the CLI."""
    from alembic import command

    with alembic_conn(settings) as conn:
        cfg = alembic_config()
        cfg.attributes.update(connection=conn, settings=settings)
        command.downgrade(cfg, revision)
