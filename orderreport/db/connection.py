"""orderreport's psycopg connection: what it learned at connect, and every wait watched.

The data commands talk to PostgreSQL through psycopg alone (SQLAlchemy and Alembic are the
migrations' and cost every command half a second of imports). A `Connection` carries what
db.connect learns in its one round trip (the zone the server gave the session, the user's
search path, the bounds in force) and the run's watchdog; its cursors arm the watchdog
while a statement, a fetch from the server, a COPY's start and end, a commit or a rollback
wait on the server, keep what the server said as it ended the session on the error that
follows (limits.SERVER_SAID), and log each statement's text, never its parameters, at
DEBUG on the logger "orderreport.sql" (`--verbose`).

Rows are psycopg's named tuples: `row.name` and `row[0]` both work.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

import psycopg
from psycopg import sql

from orderreport.db import limits

# A row: psycopg's namedtuple_row makes one named tuple class per query, whose fields are
# known only at run time (row.name and row[0] both work), so to the type checker it is Any.
Row: TypeAlias = Any
SQL_LOG = logging.getLogger("orderreport.sql")
_IDLE = limits.Watchdog(0)  # never installed: arming it does nothing


# Every session's search path once the shop is found: the system's schemas alone, pg_temp
# last (PostgreSQL's own advice for code that must not run other roles' functions).
SAFE_SEARCH_PATH = "pg_catalog, pg_temp"


@dataclass(frozen=True)
class UserPath:
    """The search path the user's session had (URL options, PGOPTIONS, the role's or the
    database's setting): its existing schemas in order, its first one (where objects are
    created), and whether it was set rather than the server's default."""

    schemas: tuple[str, ...]
    current: str | None
    set: bool


# The user's search path, for a connection orderreport did not open itself.
_SEARCH_PATH = (
    "SELECT pg_catalog.current_schemas(false) AS path, pg_catalog.current_schema() AS current, "
    "(SELECT s.source <> 'default' FROM pg_catalog.pg_settings s "
    " WHERE s.name = 'search_path') AS set"
)


def read_path(conn: psycopg.Connection[Any]) -> UserPath:
    row = conn.execute(_SEARCH_PATH).fetchone()
    assert row is not None
    path, current, is_set = row
    return UserPath(tuple(str(s) for s in path or ()), current, bool(is_set))


class Connection(psycopg.Connection[Row]):
    """A psycopg connection opened by db.connect, with what it found out at connect."""

    server_tz: str = "UTC"  # the zone the server gave the session before ours was set
    user_path: UserPath = UserPath((), None, False)  # the search path before ours
    bounds: limits.Bounds = limits.Bounds(0, 0)  # lock_timeout, statement_timeout in force
    watchdog: limits.Watchdog = _IDLE
    # (SQLSTATE, message) of each 57P* warning the server sent: its last words (limits.lost)
    heard: list[tuple[str, str]]
    # opens and closes a new connection like this one (limits.lost asks whether the server
    # is still up after it ended our session); None: not to be asked
    probe: Any = None
    # opens a new connection like this one, set up the same way (db.open_connection): where
    # a run records its outcome once this one is lost or was cut mid-statement (runs.finish);
    # None: not to be reopened
    reopen: Any = None

    @contextlib.contextmanager
    def guarded(self) -> Iterator[None]:
        """Armed for the block (one wait on the server); a database error leaving it carries
        the server's last words, if it sent any."""
        self.watchdog.arm()
        try:
            yield
        except psycopg.Error as exc:
            heard = getattr(self, "heard", None)
            if heard:
                setattr(exc, limits.SERVER_SAID, heard[-1])
            raise
        finally:
            self.watchdog.disarm()

    def commit(self) -> None:
        with self.guarded():
            super().commit()

    def rollback(self) -> None:
        with self.guarded():
            super().rollback()


def statement_text(query: Any, conn: psycopg.Connection[Any]) -> str:
    """The text of `query` as sent (placeholders, never values)."""
    if isinstance(query, sql.Composable):
        return query.as_string(conn)
    if isinstance(query, bytes):
        return query.decode(errors="replace")
    return str(query)


def _log(query: Any, conn: psycopg.Connection[Any]) -> None:
    if SQL_LOG.isEnabledFor(logging.DEBUG):
        SQL_LOG.debug("%s", " ".join(statement_text(query, conn).split()))


def waiting(conn: psycopg.Connection[Any]) -> contextlib.AbstractContextManager[None]:
    """The watchdog, armed for one wait on the server (a cursor's call, or a wait no cursor
    call covers: a COPY block read row by row); nothing on a connection of someone else's."""
    return conn.guarded() if isinstance(conn, Connection) else contextlib.nullcontext()


class Cursor(psycopg.Cursor[Row]):
    """The connection's cursors: statements logged, their waits watched (see Connection)."""

    def execute(
        self,
        query: Any,
        params: Any = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Cursor:
        _log(query, self.connection)
        with waiting(self.connection):
            super().execute(query, params, prepare=prepare, binary=binary)
        return self

    def executemany(
        self, query: Any, params_seq: Iterable[Any], *, returning: bool = False
    ) -> None:
        _log(query, self.connection)
        with waiting(self.connection):
            super().executemany(query, params_seq, returning=returning)

    @contextlib.contextmanager
    def copy(
        self, statement: Any, params: Any = None, *, writer: Any = None
    ) -> Iterator[psycopg.Copy]:
        """COPY: its start and its end armed; the blocks between are the caller's to arm
        (db.waiting), once per block rather than per row."""
        _log(statement, self.connection)
        manager = super().copy(statement, params, writer=writer)
        with waiting(self.connection):
            copy = manager.__enter__()
        failed: Any = (None, None, None)
        try:
            yield copy
        except BaseException:
            failed = sys.exc_info()
            raise
        finally:
            with waiting(self.connection):
                manager.__exit__(*failed)


class ServerCursor(psycopg.ServerCursor[Row]):
    """A named cursor: its declaration and every fetch from the server watched."""

    def execute(
        self,
        query: Any,
        params: Any = None,
        *,
        binary: bool | None = None,
        **kwargs: Any,
    ) -> ServerCursor:
        _log(query, self.connection)
        with waiting(self.connection):
            super().execute(query, params, binary=binary, **kwargs)
        return self

    def fetchone(self) -> Row | None:
        with waiting(self.connection):
            return super().fetchone()

    def fetchmany(self, size: int = 0) -> list[Row]:
        with waiting(self.connection):
            return super().fetchmany(size)

    def fetchall(self) -> list[Row]:
        with waiting(self.connection):
            return super().fetchall()
