"""The one place that opens database connections, sessions and migrations.

Every connection gets the shop's time zone as its session TimeZone, so `created_at::DATE`
(and the `orderreport.order_reports` view) means the shop's calendar day, exactly as in psql
after `SET TIME ZONE`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import psycopg
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from orderreport import limits, redact, schema
from orderreport import shop as shop_mod
from orderreport.config import Settings
from orderreport.embedded import EmbeddedServer
from orderreport.errors import (
    DatabaseFailed,
    DatabaseUnavailable,
    LockBusy,
    NotMigrated,
    ShopAmbiguous,
    ShopUnsupported,
)
from orderreport.shop import OUR_SCHEMA, VERSION_TABLE, Shop

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision in migrations/versions. Kept here so that reports can check the schema
# without importing Alembic (a quarter of a second at every start); a test keeps it honest.
SCHEMA_HEAD = "0007"

# Advisory lock keys (pg_advisory_lock takes a bigint): "ORMIGRAT" and "ORDAILY_" in ASCII.
MIGRATE_LOCK_KEY = 0x4F524D4947524154
DAILY_LOCK_KEY = 0x4F524441494C595F
# How long `migrate` waits for another `migrate` (which may be building indexes) to finish.
MIGRATE_WAIT = 120.0


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


def make_engine(url: URL, tz: str, bounds: limits.Bounds) -> Engine:
    """An engine whose connections run in the shop's zone, within `bounds`.

    The user's own libpq `options` (the URL's, else PGOPTIONS) reach the server after ours,
    so `-c search_path=…` or a stricter timeout of theirs is kept. The zone the server gave
    the session is kept in the connection's info as "server_tz" before the session's
    TimeZone is set to the shop's: it is the zone `now()` used to fill naive timestamps.
    """
    eng = create_engine(
        url,
        connect_args=limits.connect_args(url, bounds),
        hide_parameters=True,
        # no hstore here: the dialect would look its type up at connect, three round trips
        use_native_hstore=False,
    )

    @event.listens_for(eng, "connect")
    def _shop_zone(dbapi_conn: Any, record: Any) -> None:
        record.info["server_tz"] = dbapi_conn.info.parameter_status("TimeZone") or "UTC"
        dbapi_conn.autocommit = True  # one round trip, no transaction left open
        # The user's search path is read once, to find the shop (shop.UserPath); then the
        # session's path holds only the system's schemas, so no function, operator or
        # aggregate another role planted in a schema on it can run in our session
        # (CVE-2018-1058): everything of the shop's and ours is schema-qualified. Left to
        # right in one target list: the path is read before it is replaced.
        row = dbapi_conn.execute(
            "SELECT pg_catalog.set_config('TimeZone', %s, false), "
            "pg_catalog.current_setting('lock_timeout'), "
            "pg_catalog.current_setting('statement_timeout'), "
            "pg_catalog.current_schemas(false), pg_catalog.current_schema(), "
            "(SELECT s.source <> 'default' FROM pg_catalog.pg_settings s "
            " WHERE s.name = 'search_path'), "
            "pg_catalog.set_config('search_path', %s, false)",
            [tz, shop_mod.SAFE_SEARCH_PATH],
        ).fetchone()
        dbapi_conn.autocommit = False
        # the bounds in force: ours, or the user's from the URL or PGOPTIONS
        record.info["bounds"] = limits.Bounds(
            lock=limits.pg_seconds(row[1]), statement=limits.pg_seconds(row[2])
        )
        record.info["user_path"] = shop_mod.UserPath(
            schemas=tuple(str(s) for s in row[3] or ()), current=row[4], set=bool(row[5])
        )

    return eng


def _watch(eng: Engine, watchdog: limits.Watchdog) -> None:
    """Arm the watchdog while a statement or a commit waits on the server."""

    def arm(*_: Any, **__: Any) -> None:
        watchdog.arm()

    def disarm(*_: Any, **__: Any) -> None:
        watchdog.disarm()

    event.listen(eng, "before_cursor_execute", arm)
    event.listen(eng, "after_cursor_execute", disarm)
    event.listen(eng, "handle_error", disarm)
    event.listen(eng, "commit", arm)  # disarmed by the next statement or at the end
    event.listen(eng, "rollback", arm)


@contextlib.contextmanager
def connect(settings: Settings, *, migrating: bool = False) -> Iterator[Connection]:
    """The run's one connection to the configured database (the embedded server if none is
    set, started for the block), every wait bounded (limits.py). Raises DatabaseUnavailable,
    password masked, if it fails."""
    bounds = limits.bounds_for(settings, migrating=migrating)
    watchdog = limits.Watchdog(bounds.watchdog)
    with contextlib.ExitStack() as stack:
        if settings.database_url is None:
            url = stack.enter_context(EmbeddedServer(settings.home))
            conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        else:
            conninfo = settings.database_url
            url = make_url(conninfo).set(drivername="postgresql+psycopg")
        eng = make_engine(url, settings.tz, bounds)
        stack.callback(eng.dispose)
        watchdog.install()
        stack.callback(watchdog.uninstall)
        _watch(eng, watchdog)
        limits.listen(eng)  # the server's last words, to name a lost connection's cause
        limits.track(eng)  # for a signal to cancel the statement in flight
        try:
            conn = stack.enter_context(eng.connect())
        except OperationalError as exc:
            raise DatabaseUnavailable(
                f"cannot connect to {redact.mask_url(conninfo)}: "
                f"{redact.scrub(limits.first_line(exc), conninfo)}"
            ) from None
        effective = conn.info.get("bounds", bounds)
        watchdog.set(effective.watchdog)
        conn.info["watchdog"] = watchdog
        try:
            yield conn
        except BaseException:
            # closed, not returned to the pool: a connection interrupted mid-statement (a
            # signal, the watchdog) cannot be reset, and the server rolls back what it had
            with contextlib.suppress(Exception):
                conn.invalidate()
            raise


def waiting(conn: Connection) -> contextlib.AbstractContextManager[None]:
    """The watchdog, armed for one wait on the server that no statement event covers (a
    fetch from a server-side cursor, a COPY block)."""
    dog = conn.info.get("watchdog")
    return dog.waiting() if isinstance(dog, limits.Watchdog) else contextlib.nullcontext()


def bounds_of(conn: Connection) -> limits.Bounds:
    """The bounds in force on `conn`'s session (read them before it can be lost)."""
    if conn.invalidated:  # its info went with it: reading it would reconnect
        return limits.Bounds(0, 0)
    found = conn.info.get("bounds")
    return found if isinstance(found, limits.Bounds) else limits.Bounds(0, 0)


def server_tz(conn: Connection) -> str:
    """The zone the server gave this session before orderreport set the shop's."""
    known = conn.info.get("server_tz")
    return known if isinstance(known, str) else "UTC"


def user_path(conn: Connection) -> shop_mod.UserPath:
    """The user's search path as the session had it before orderreport replaced it."""
    known = conn.info.get("user_path")
    return known if isinstance(known, shop_mod.UserPath) else shop_mod.UserPath((), None, False)


def find_shop(conn: Connection, settings: Settings) -> Shop:
    """The shop as found in this database with these settings (see shop.inspect)."""
    return shop_mod.inspect(
        conn,
        path=user_path(conn),
        schema=settings.shop_schema,
        naive_tz=settings.naive_tz,
        server_tz=server_tz(conn),
        source=settings.source,
        currency=settings.currency,
    )


def try_find_shop(conn: Connection, settings: Settings) -> tuple[Shop | None, str | None]:
    """find_shop for `status`: (None, why) instead of an error when the shop is unclear."""
    try:
        return find_shop(conn, settings), None
    except (ShopAmbiguous, ShopUnsupported) as exc:  # found out by reading, nothing to undo
        return None, str(exc)


_REVISION = text(f"SELECT version_num FROM {OUR_SCHEMA}.{VERSION_TABLE}")
_OURS = text(f"SELECT pg_catalog.to_regclass('{OUR_SCHEMA}.{VERSION_TABLE}') IS NOT NULL")


def schema_revision(conn: Connection) -> str | None:
    """orderreport's revision in this database (its own version table), None if it has none."""
    if not conn.execute(_OURS).scalar_one():
        return None
    return conn.execute(_REVISION).scalar()


def require_schema(conn: Connection, shop: Shop) -> None:
    """Raise NotMigrated unless the database is at head and the view was built for `shop`."""
    current = schema_revision(conn)
    head = SCHEMA_HEAD
    if current is None and schema.find_legacy(conn) is not None:
        raise NotMigrated(
            "the database was migrated by an earlier orderreport (history in alembic_version): "
            "run `orderreport migrate` to move it to orderreport's own version table"
        )
    if current != head:
        where = "has no orderreport schema" if current is None else f"is at revision {current}"
        raise NotMigrated(f"the database {where} (head is {head}): run `orderreport migrate`")
    built = schema.view_comment(conn) or ""
    wanted = shop.fingerprint()
    if built != wanted:
        was = [p for p in _parts(built) if p not in _parts(wanted)]
        now = [p for p in _parts(wanted) if p not in _parts(built)]
        raise NotMigrated(
            f"{OUR_SCHEMA}.order_reports was built for {'; '.join(was) or 'other settings'}, "
            f"the settings now give {'; '.join(now)}: run `orderreport migrate` to rebuild it"
        )


def _parts(fingerprint: str) -> list[str]:
    return [p.strip() for p in fingerprint.removeprefix(schema.VIEW_MARK).split(";")]


@contextlib.contextmanager
def session(settings: Settings, *, read_only: bool = False) -> Iterator[Connection]:
    """The run's connection to the configured database, used as a session: commits on
    success, rolls back on error. SQLAlchemy Core only: the ORM's Session bought nothing
    here and cost every command a fifth of a second of imports.

    Core functions may commit inside it to make their own transaction boundaries (any
    session-level advisory lock taken in it lasts across them: it is one server
    connection). With `read_only` every transaction is READ ONLY: the server refuses writes.
    """
    with connect(settings) as conn:
        bounds = bounds_of(conn)  # now: once the connection is lost its info is gone
        try:
            if read_only:
                conn.execute(text("SET default_transaction_read_only = on"))
                conn.commit()
            yield conn
            conn.commit()
        except limits.ServerStalled:
            # a rollback would wait on the frozen server all over again: drop the connection
            with contextlib.suppress(Exception):
                conn.invalidate()
            raise
        except BaseException as exc:
            # permissions, a read-only server, a lost connection, a timeout: one line, said
            # before the rollback (a lost connection's cause is asked of the server at once)
            failed = failure(exc, bounds, conn.engine)
            _rollback_quietly(conn)
            if failed is exc:
                raise
            raise failed from None


def failure(exc: BaseException, bounds: limits.Bounds, eng: Engine | None = None) -> BaseException:
    """What a session reports for `exc`, in one line (runs.recorded records the same): a
    database error (psycopg's own too, from a COPY in queries.py) or a connection lost
    before described (limits.describe), a missing table as NotMigrated; else `exc` itself."""
    if not limits.is_database_error(exc):
        return exc
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedColumn):
        return NotMigrated(f"database error ({limits.first_line(exc)}): run `orderreport migrate`")
    return limits.describe(exc, bounds, eng=eng)


def checked_shop(conn: Connection, settings: Settings) -> Shop:
    """The shop found in the session's database, checked to be migrated to head.

    A database with tables but no shop orderreport can read is refused in one line: a
    report of zeros there would look like a real one."""
    found = find_shop(conn, settings)
    schema.refuse_foreign(conn, found)
    require_schema(conn, found)
    conn.commit()
    return found


@contextlib.contextmanager
def shop_session(
    settings: Settings, *, read_only: bool = False
) -> Iterator[tuple[Connection, Shop]]:
    """A session (see `session`) and the shop found in it, checked to be migrated to head."""
    with session(settings, read_only=read_only) as conn:
        yield conn, checked_shop(conn, settings)


def _rollback_quietly(conn: Connection) -> None:
    # the connection may be gone, or a signal may have landed mid-commit (that may be the
    # very error): the original error matters, not what the rollback says about it
    with contextlib.suppress(Exception):
        conn.rollback()


def try_advisory_lock(session: Connection, key: int, wait_seconds: float = 0.0) -> None:
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


def advisory_unlock(session: Connection, key: int) -> None:
    session.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    session.commit()


def lock_for_migrate(conn: Connection) -> None:
    """The migration lock: another `migrate` may hold it for a while, so wait MIGRATE_WAIT."""
    if conn.in_transaction():
        conn.commit()
    try:
        try_advisory_lock(conn, MIGRATE_LOCK_KEY, MIGRATE_WAIT)
    except LockBusy:
        raise LockBusy(
            f"another migrate has held the migration lock for over {MIGRATE_WAIT:g} s; "
            "nothing was changed"
        ) from None


def unlock_migrate(conn: Connection) -> None:
    with contextlib.suppress(DBAPIError):
        if conn.in_transaction():
            conn.rollback()
        advisory_unlock(conn, MIGRATE_LOCK_KEY)


@dataclass(frozen=True)
class MigrationResult:
    """What `migrate` did: revisions applied in order, from `start` to `end` (None = empty)."""

    start: str | None
    end: str | None
    applied: tuple[str, ...]
    notes: tuple[str, ...] = ()  # what was found and done, for people
    shop: str | None = None  # the shop it found, for people (as --plan and status say)


def migrate(
    settings: Settings, *, adopt: bool = False, build_indexes: bool = False
) -> MigrationResult:
    """Upgrade to head under an advisory lock, so concurrent runs apply each revision once.

    `adopt` takes over an object of orderreport's names in its schema that orderreport did
    not create (see schema.ensure_view and schema.create_daily_reports); `build_indexes`
    builds the indexes advised on a platform's own tables (schema.build_indexes).
    Raises Refused, changing nothing, on a database with tables but no shop it can read.
    """
    from alembic import command
    from alembic.util import CommandError

    applied: list[tuple[str | None, str]] = []

    def on_apply(*, step: Any, **_: Any) -> None:
        downs = step.down_revision_ids
        applied.append((downs[0] if downs else None, step.up_revision_id))

    with connect(settings, migrating=True) as conn:
        bounds = bounds_of(conn)  # now: once the connection is lost its info is gone
        # an unclear shop, or someone else's tables without one, stop here before any change
        found = find_shop(conn, settings)
        schema.refuse_foreign(conn, found)
        conn.commit()
        cfg = alembic_config()
        notes: list[str] = []
        cfg.attributes.update(
            connection=conn,
            on_version_apply=on_apply,
            settings=settings,
            adopt=adopt,
            build_indexes=build_indexes,
            upgrading=True,
            notes=notes,
        )
        try:
            command.upgrade(cfg, "head")
        except CommandError as exc:  # e.g. the database is at a revision this version lacks
            raise DatabaseFailed(f"migration failed: {exc}") from None
        except Exception as exc:
            if not limits.is_database_error(exc):
                raise
            if isinstance(getattr(exc, "orig", None), psycopg.errors.LockNotAvailable):
                raise DatabaseFailed(
                    f"migration stopped: a shop table stayed locked for over "
                    f"{bounds.lock:g} s (--lock-timeout); nothing half-done is left, "
                    "rerun `orderreport migrate` when the shop is quieter"
                ) from None
            # a lost connection (a cleanup after it may raise SQLAlchemy's PendingRollbackError
            # instead: limits.describe looks behind it), a refusal, a timeout: one line
            raise limits.describe(exc, bounds, "migration failed", conn.engine) from None
        end = schema_revision(conn)
    start = applied[0][0] if applied else end
    return MigrationResult(
        start=start,
        end=end,
        applied=tuple(up for _, up in applied),
        notes=tuple(notes),
        shop=f"{found.source.describe()} ({found.found_by})" if found.exists else None,
    )


def migration_plan(settings: Settings, *, build_indexes: bool = False) -> list[schema.Step]:
    """What `migrate` would do to the configured database; changes nothing."""
    with connect(settings) as conn:
        found = find_shop(conn, settings)
        steps = schema.plan(
            conn,
            found,
            schema.find_legacy(conn),
            schema_revision(conn),
            SCHEMA_HEAD,
            build_asked=build_indexes,
        )
        conn.rollback()
    return steps


def migration_sql(out: TextIO) -> None:
    """Write the DDL of every revision to `out`, touching no database."""
    from alembic import command

    cfg = alembic_config(stdout=out)
    cfg.output_buffer = out
    command.upgrade(cfg, "head", sql=True)


def downgrade(settings: Settings, revision: str) -> None:
    """Downgrade to `revision` ("base" for nothing). For tests and operators, not the CLI."""
    from alembic import command

    with connect(settings, migrating=True) as conn:
        cfg = alembic_config()
        cfg.attributes.update(connection=conn, settings=settings)
        command.downgrade(cfg, revision)
