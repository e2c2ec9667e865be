"""The one place that opens database connections, sessions and migrations.

Every connection gets the shop's time zone as its session TimeZone, so `created_at::DATE`
(and the `order_reports` view) means the shop's calendar day, exactly as in psql after
`SET TIME ZONE`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import psycopg
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from orderreport.config import Settings, mask_url
from orderreport.embedded import EmbeddedServer
from orderreport.errors import DatabaseFailed, DatabaseUnavailable, LockBusy, NotMigrated

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision in migrations/versions. Kept here so that reports can check the schema
# without importing Alembic (a quarter of a second at every start); a test keeps it honest.
SCHEMA_HEAD = "0004"

# Advisory lock keys (pg_advisory_lock takes a bigint): "ORMIGRAT" and "ORDAILY_" in ASCII.
MIGRATE_LOCK_KEY = 0x4F524D4947524154
DAILY_LOCK_KEY = 0x4F524441494C595F


def migrations_dir() -> Path:
    """The Alembic script folder: in the package when installed, at the repo root in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "migrations", here.parent / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise DatabaseUnavailable("orderreport's migrations folder is missing from this installation")


def alembic_config(stdout: TextIO | None = None) -> Config:
    from alembic.config import Config  # Alembic is imported only by the commands that need it

    cfg = Config(stdout=stdout) if stdout is not None else Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    return cfg


def head_revision() -> str:
    """The head revision of the migration scripts (reads them: slower than SCHEMA_HEAD)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def make_engine(url: URL, tz: str) -> Engine:
    return create_engine(
        url,
        connect_args={
            # the shop's calendar: created_at::DATE and date→timestamptz casts use this zone
            "options": f"-c TimeZone={tz}",
            "connect_timeout": 10,
            "application_name": "orderreport",
        },
        hide_parameters=True,
    )


@contextlib.contextmanager
def connect(settings: Settings) -> Iterator[Connection]:
    """The run's one connection to the configured database (the embedded server if none is
    set, started for the block). Raises DatabaseUnavailable, password masked, if it fails."""
    with contextlib.ExitStack() as stack:
        if settings.database_url is None:
            url = stack.enter_context(EmbeddedServer(settings.home))
        else:
            url = settings.database_url
        eng = make_engine(url, settings.tz)
        stack.callback(eng.dispose)
        try:
            conn = stack.enter_context(eng.connect())
        except OperationalError as exc:
            raise DatabaseUnavailable(
                f"cannot connect to {mask_url(url)}: {_first_line(exc)}"
            ) from None
        yield conn


def schema_revision(conn: Connection) -> str | None:
    """The database's Alembic revision, or None when it has no orderreport schema."""
    exists = conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar_one()
    if not exists:
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def require_schema(conn: Connection) -> None:
    """Raise NotMigrated unless the database is at the head revision."""
    current = schema_revision(conn)
    head = SCHEMA_HEAD
    if current != head:
        where = "has no orderreport schema" if current is None else f"is at revision {current}"
        raise NotMigrated(f"the database {where} (head is {head}): run `orderreport migrate`")


@contextlib.contextmanager
def session(settings: Settings, *, check_schema: bool = True) -> Iterator[Session]:
    """A session on the configured database; commits on success, rolls back on error.

    Core functions may commit inside it to make their own transaction boundaries.
    """
    # Bound to one Connection: every transaction of the session, and any session-level
    # advisory lock taken in it, use the same server connection.
    with connect(settings) as conn, Session(bind=conn) as sess:
        if check_schema:
            require_schema(sess.connection())
            sess.commit()
        try:
            yield sess
            sess.commit()
        except DBAPIError as exc:
            _rollback_quietly(sess)
            if isinstance(exc.orig, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedColumn):
                raise NotMigrated(
                    f"database error ({_first_line(exc)}): run `orderreport migrate`"
                ) from None
            # permissions, a read-only server, a dropped connection, a timeout: one line
            raise DatabaseFailed(f"database error: {_first_line(exc)}") from None
        except BaseException:
            _rollback_quietly(sess)
            raise


def _rollback_quietly(sess: Session) -> None:
    # the connection may be gone (that may be the very error): the original error matters
    with contextlib.suppress(DBAPIError):
        sess.rollback()


def try_advisory_lock(session: Session, key: int, wait_seconds: float = 0.0) -> None:
    """Take a session-level advisory lock, polling up to `wait_seconds`; raise LockBusy if not.

    The lock belongs to the session's one connection (see `session`), so it outlives the
    commits made while holding it and dies with the connection if the process does.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        got = session.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
        session.commit()
        if got:
            return
        if time.monotonic() >= deadline:
            raise LockBusy("another run holds the lock; nothing was written")
        time.sleep(min(0.2, max(0.01, deadline - time.monotonic())))


def advisory_unlock(session: Session, key: int) -> None:
    session.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    session.commit()


@dataclass(frozen=True)
class MigrationResult:
    """What `migrate` did: revisions applied in order, from `start` to `end` (None = empty)."""

    start: str | None
    end: str | None
    applied: tuple[str, ...]


def migrate(settings: Settings) -> MigrationResult:
    """Upgrade to head under an advisory lock, so concurrent runs apply each revision once."""
    from alembic import command
    from alembic.util import CommandError

    applied: list[tuple[str | None, str]] = []

    def on_apply(*, step: Any, **_: Any) -> None:
        downs = step.down_revision_ids
        applied.append((downs[0] if downs else None, step.up_revision_id))

    with connect(settings) as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        cfg.attributes["on_version_apply"] = on_apply
        try:
            command.upgrade(cfg, "head")
        except DBAPIError as exc:
            raise DatabaseFailed(f"migration failed: {_first_line(exc)}") from None
        except CommandError as exc:  # e.g. the database is at a revision this version lacks
            raise DatabaseFailed(f"migration failed: {exc}") from None
        end = schema_revision(conn)
    start = applied[0][0] if applied else end
    return MigrationResult(start=start, end=end, applied=tuple(up for _, up in applied))


def migration_sql(out: TextIO) -> None:
    """Write the DDL of every revision to `out`, touching no database."""
    from alembic import command

    cfg = alembic_config(stdout=out)
    cfg.output_buffer = out
    command.upgrade(cfg, "head", sql=True)


def downgrade(settings: Settings, revision: str) -> None:
    """Downgrade to `revision` ("base" for nothing). For tests and operators, not the CLI."""
    from alembic import command

    with connect(settings) as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
