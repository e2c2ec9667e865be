"""The one place that opens database connections and sessions: from settings to a bounded
psycopg connection, knowing nothing of shops (reports/session.py finds the shop in one).

Every connection gets the shop's time zone as its session TimeZone, so `created_at::DATE`
(and the `orderreport.order_reports` view) means the shop's calendar day, exactly as in psql
after `SET TIME ZONE`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row

from orderreport.config import redact, urls
from orderreport.config.settings import Settings
from orderreport.db import connection as pg
from orderreport.db import limits
from orderreport.errors import (
    DatabaseUnavailable,
    LockBusy,
    NotMigrated,
    UsageError,
)
from orderreport.objects import OUR_SCHEMA, VERSION_TABLE

# Advisory lock key (pg_advisory_lock takes a bigint): "ORDAILY_" in ASCII (migrate.py has
# the migration's).
DAILY_LOCK_KEY = 0x4F524441494C595F


# The connect round trip, read left to right (PostgreSQL evaluates a target list in order):
# the zone the server gave the session is kept (pg.Connection.server_tz: the zone `now()`
# used to fill naive timestamps) and the shop's set; the user's search path is read once,
# to find the shop (connection.UserPath), and then holds only the system's schemas, so no
# function, operator or aggregate another role planted in a schema on it can run in our
# session (CVE-2018-1058): everything of the shop's and ours is schema-qualified. Our
# defaults (limits.session_defaults) are set where the session's value is not the client's
# own (the URL's `options`, PGOPTIONS: libpq applies them, orderreport passes none), and
# the bounds then in force are read back as pg_settings has them. pg_settings is read twice,
# not once a value: each read builds every setting's row (a millisecond a time). `before`,
# in FROM, is read before the target list sets anything; `bounds` after what precedes it.
_SETUP = """
SELECT pg_catalog.current_setting('TimeZone') AS server_tz,
       pg_catalog.set_config('TimeZone', %(tz)s, false) AS tz,
       pg_catalog.current_schemas(false) AS schemas,
       pg_catalog.current_schema() AS current,
       before.path_set,
       pg_catalog.set_config('search_path', %(path)s, false) AS path,
       (SELECT pg_catalog.count(pg_catalog.set_config(d.name, d.value, false))
        FROM ROWS FROM (pg_catalog.unnest(%(names)s::text[]),
                        pg_catalog.unnest(%(values)s::text[])) AS d(name, value)
        WHERE d.name = ANY (before.free)) AS ours,
       (SELECT ARRAY[pg_catalog.max(s.setting) FILTER (WHERE s.name = 'lock_timeout'),
                     pg_catalog.max(s.unit) FILTER (WHERE s.name = 'lock_timeout'),
                     pg_catalog.max(s.setting) FILTER (WHERE s.name = 'statement_timeout'),
                     pg_catalog.max(s.unit) FILTER (WHERE s.name = 'statement_timeout')]
        FROM pg_catalog.pg_settings s
        WHERE s.name IN ('lock_timeout', 'statement_timeout')) AS bounds
FROM (SELECT pg_catalog.bool_or(s.source <> 'default') FILTER (WHERE s.name = 'search_path')
                 AS path_set,
             pg_catalog.array_agg(s.name) FILTER (WHERE s.name <> 'search_path'
                                                  AND s.source <> 'client') AS free
      FROM pg_catalog.pg_settings s
      WHERE s.name = 'search_path' OR s.name = ANY (%(names)s::text[])) AS before
"""


def _given(conninfo: str) -> dict[str, Any]:
    """The keywords the URL sets, as load_settings read it (urls.parse: read once)."""
    try:
        return dict(urls.parse(conninfo, "database URL"))
    except UsageError as exc:
        raise DatabaseUnavailable(f"cannot connect to {redact.mask_url(conninfo)}: {exc}") from None


def open_connection(
    conninfo: str, tz: str, bounds: limits.Bounds, watchdog: limits.Watchdog | None = None
) -> pg.Connection:
    """A connection to `conninfo` in the shop's zone `tz`, within `bounds` (see _SETUP).

    libpq's own parameters of ours (limits.CONNECT_ARGS) are passed where the connection
    string has none. Raises DatabaseUnavailable, password masked, if it fails."""
    given = _given(conninfo)
    args = {k: v for k, v in limits.CONNECT_ARGS.items() if k not in given}
    try:
        conn = pg.Connection.connect(
            conninfo,
            autocommit=True,  # the setup in one round trip, no transaction left open
            row_factory=namedtuple_row,
            cursor_factory=pg.Cursor,
            **args,
        )
    except psycopg.Error as exc:
        raise DatabaseUnavailable(
            f"cannot connect to {redact.mask_url(conninfo)}: "
            f"{redact.scrub(limits.first_line(exc), conninfo)}"
        ) from None
    conn.server_cursor_factory = pg.ServerCursor
    conn.heard = []
    conn.add_notice_handler(limits.hear(conn.heard))
    conn.probe = lambda: psycopg.connect(conninfo, **args).close()
    conn.reopen = lambda: open_connection(conninfo, tz, bounds, watchdog)
    if watchdog is not None:
        conn.watchdog = watchdog
    defaults = limits.session_defaults(bounds)
    try:
        row = conn.execute(
            _SETUP,
            {
                "tz": tz,
                "path": pg.SAFE_SEARCH_PATH,
                "names": list(defaults),
                "values": list(defaults.values()),
            },
        ).fetchone()
        conn.autocommit = False
    except BaseException:
        conn.close()
        raise
    assert row is not None
    conn.server_tz = row.server_tz or "UTC"
    conn.user_path = pg.UserPath(
        schemas=tuple(str(s) for s in row.schemas or ()),
        current=row.current,
        set=bool(row.path_set),
    )
    # the bounds in force: ours, or the user's from the URL or PGOPTIONS
    conn.bounds = limits.Bounds(
        lock=limits.setting_seconds(row.bounds[0], row.bounds[1]),
        statement=limits.setting_seconds(row.bounds[2], row.bounds[3]),
    )
    return conn


@contextlib.contextmanager
def connect(settings: Settings, *, migrating: bool = False) -> Iterator[pg.Connection]:
    """The run's one connection to the configured database (the embedded server if none is
    set, started for the block), every wait bounded (limits.py). Raises DatabaseUnavailable,
    password masked, if it fails. A block left by an error closes the connection (the
    server rolls back what it had): one interrupted mid-statement (a signal, the watchdog)
    cannot be reset."""
    bounds = limits.bounds_for(settings, migrating=migrating)
    watchdog = limits.Watchdog(bounds.watchdog)
    with contextlib.ExitStack() as stack:
        if settings.database_url is None:
            from orderreport.db.embedded import EmbeddedServer  # only for the embedded server

            conninfo = stack.enter_context(EmbeddedServer(settings.home))
        else:
            conninfo = settings.database_url
        watchdog.install()
        stack.callback(watchdog.uninstall)
        conn = open_connection(conninfo, settings.tz, bounds, watchdog)
        stack.callback(conn.close)
        limits.track(conn)  # for a signal to cancel the statement in flight
        stack.callback(limits.untrack, conn)
        watchdog.set(conn.bounds.watchdog)
        yield conn


def user_path(conn: psycopg.Connection[Any]) -> pg.UserPath:
    """The user's search path as the session had it before orderreport replaced it."""
    if isinstance(conn, pg.Connection):
        return conn.user_path
    return pg.read_path(conn)


def bounds_of(conn: psycopg.Connection[Any]) -> limits.Bounds:
    """The bounds in force on `conn`'s session."""
    return conn.bounds if isinstance(conn, pg.Connection) else limits.Bounds(0, 0)


def server_tz(conn: psycopg.Connection[Any]) -> str:
    """The zone the server gave this session before orderreport set the shop's (what now()
    used to fill naive timestamps): kept by db.connect, else the session's own."""
    if isinstance(conn, pg.Connection):
        return conn.server_tz
    row = conn.execute("SELECT pg_catalog.current_setting('TimeZone')").fetchone()
    return str(row[0]) if row is not None else "UTC"


@contextlib.contextmanager
def session(settings: Settings, *, read_only: bool = False) -> Iterator[pg.Connection]:
    """The run's connection to the configured database, used as a session: commits on
    success, rolls back on error (psycopg alone: SQLAlchemy would cost every command half a
    second of imports).

    Core functions may commit inside it to make their own transaction boundaries (any
    session-level advisory lock taken in it lasts across them: it is one server
    connection). With `read_only` every transaction is READ ONLY: the server refuses writes.
    """
    with connect(settings) as conn:
        try:
            if read_only:
                conn.execute("SET default_transaction_read_only = on")
                conn.commit()
            yield conn
            conn.commit()
        except limits.ServerStalled:
            # a rollback would wait on the frozen server all over again: drop the connection
            with contextlib.suppress(Exception):
                conn.close()
            raise
        except BaseException as exc:
            # permissions, a read-only server, a lost connection, a timeout: one line, said
            # before the rollback (a lost connection's cause is asked of the server at once)
            failed = failure(exc, conn.bounds, conn)
            _rollback_quietly(conn)
            if failed is exc:
                raise
            raise failed from None


def failure(
    exc: BaseException, bounds: limits.Bounds, conn: psycopg.Connection[Any] | None = None
) -> BaseException:
    """What a session reports for `exc`, in one line (runs.recorded records the same): a
    database error or a connection lost before described (limits.describe; `conn`, the
    run's, to ask the server whether it is still up), a missing table as NotMigrated; else
    `exc` itself."""
    if not limits.is_database_error(exc):
        return exc
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedColumn):
        return NotMigrated(f"database error ({limits.first_line(exc)}): run `orderreport migrate`")
    probe = conn.probe if isinstance(conn, pg.Connection) else None
    return limits.describe(exc, bounds, probe=probe)


def _rollback_quietly(conn: psycopg.Connection[Any]) -> None:
    # the connection may be gone, or a signal may have landed mid-commit (that may be the
    # very error): the original error matters, not what the rollback says about it
    with contextlib.suppress(Exception):
        conn.rollback()


def try_advisory_lock(conn: psycopg.Connection[Any], key: int, wait_seconds: float = 0.0) -> None:
    """Take a session-level advisory lock, polling up to `wait_seconds`; raise LockBusy if not.

    The lock belongs to the session's one connection (see `session`), so it outlives the
    commits made while holding it and dies with the connection if the process does.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        row = conn.execute("SELECT pg_catalog.pg_try_advisory_lock(%(k)s)", {"k": key}).fetchone()
        conn.commit()
        if row is not None and row[0]:
            return
        if time.monotonic() >= deadline:
            raise LockBusy("another run holds the lock; nothing was written")
        time.sleep(min(0.2, max(0.01, deadline - time.monotonic())))


def advisory_unlock(conn: psycopg.Connection[Any], key: int) -> None:
    conn.execute("SELECT pg_catalog.pg_advisory_unlock(%(k)s)", {"k": key})
    conn.commit()


# orderreport's own revision: its version table, apart from the shop application's
_REVISION = f"SELECT version_num FROM {OUR_SCHEMA}.{VERSION_TABLE}"
_OURS = f"SELECT pg_catalog.to_regclass('{OUR_SCHEMA}.{VERSION_TABLE}') IS NOT NULL"


def schema_revision(conn: psycopg.Connection[Any]) -> str | None:
    """orderreport's revision in this database (its own version table), None if it has none."""
    ours = conn.execute(_OURS).fetchone()
    if ours is None or not ours[0]:
        return None
    return revision(conn)


def revision(conn: psycopg.Connection[Any]) -> str | None:
    """The revision in orderreport's version table (which must exist)."""
    row = conn.execute(_REVISION).fetchone()
    return None if row is None else str(row[0])
