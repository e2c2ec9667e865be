"""Every wait on the database is bounded: the bounds, how the server is told, and a watchdog.

The server enforces lock_timeout and statement_timeout, drops a session left idle inside a
transaction, and (client_connection_check_interval) abandons the work of a client that has
gone, so a killed run never keeps its locks. TCP keepalives and tcp_user_timeout notice a
network that went away. None of that helps when the server process itself stops answering
(a frozen backend): for that the client keeps its own deadline, a SIGALRM armed while it
waits on the server, a little longer than statement_timeout.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

import psycopg

from orderreport.config.settings import (
    CONNECT_TIMEOUT,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_STATEMENT_TIMEOUT,
    MIGRATE_LOCK_TIMEOUT,
    MIGRATE_STATEMENT_TIMEOUT,
    Settings,
)
from orderreport.errors import ConnectionLost, DatabaseFailed, OrderReportError

IDLE_IN_TRANSACTION = 900.0  # seconds the server keeps a session idle inside a transaction
CLIENT_CHECK_INTERVAL = 5.0  # seconds between the server's checks that we are still there
WATCHDOG_GRACE = 5.0  # seconds past statement_timeout before the client stops waiting
# TCP: a dead peer is noticed after about idle + interval * count seconds
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
TCP_USER_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Bounds:
    """How long one run may wait, in seconds (0: no limit, as PostgreSQL means it)."""

    lock: float
    statement: float

    @property
    def watchdog(self) -> float:
        return self.statement + WATCHDOG_GRACE if self.statement else 0.0


# pg_settings.unit of the time settings read back (lock_timeout, statement_timeout: ms)
_PG_UNITS = {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def setting_seconds(setting: str | None, unit: str | None) -> float:
    """A time setting as pg_settings gives it (`setting` in `unit`), in seconds."""
    if not setting:
        return 0.0
    return float(setting) * _PG_UNITS.get(unit or "ms", 0.001)


def bounds_for(settings: Settings, *, migrating: bool = False) -> Bounds:
    """The settings' bounds, or the command's defaults (migrate: short locks, long statements)."""
    lock = MIGRATE_LOCK_TIMEOUT if migrating else DEFAULT_LOCK_TIMEOUT
    statement = MIGRATE_STATEMENT_TIMEOUT if migrating else DEFAULT_STATEMENT_TIMEOUT
    return Bounds(
        lock=settings.lock_timeout if settings.lock_timeout is not None else lock,
        statement=(
            settings.statement_timeout if settings.statement_timeout is not None else statement
        ),
    )


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


# libpq parameters of every connection, unless the connection string sets them itself
CONNECT_ARGS: dict[str, Any] = {
    "connect_timeout": CONNECT_TIMEOUT,
    "application_name": "orderreport",
    "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
    **KEEPALIVES,
}


def session_defaults(bounds: Bounds) -> dict[str, str]:
    """The server settings orderreport gives a session, unless the user's libpq `options`
    (the URL's, else PGOPTIONS) set them: db.connect sets each one whose pg_settings.source
    is not 'client', so a value of the user's wins and nothing of theirs is parsed."""
    return {
        "lock_timeout": str(_ms(bounds.lock)),
        "statement_timeout": str(_ms(bounds.statement)),
        "idle_in_transaction_session_timeout": str(_ms(IDLE_IN_TRANSACTION)),
        "client_connection_check_interval": str(_ms(CLIENT_CHECK_INTERVAL)),
        # JIT compiles a query for seconds to save milliseconds on reports that read one
        # day's orders; its cost estimates jump with the history's size (bench/RESULTS.md)
        "jit": "off",
    }


class ServerStalled(DatabaseFailed):
    """The server stopped answering: the client's own deadline ran out."""


class Watchdog:
    """Raises ServerStalled in the main thread if one wait on the server lasts too long."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds  # 0: no deadline (the user turned statement_timeout off)
        self._main = threading.current_thread() is threading.main_thread()
        self._installed = False
        self._previous: Any = None

    def _fire(self, signum: int, frame: FrameType | None) -> None:
        raise ServerStalled(
            f"the database server did not answer for {self.seconds:g} s (frozen or cut off); "
            "nothing half-done was kept"
        )

    def set(self, seconds: float) -> None:
        """The deadline the session's own statement_timeout calls for (0: none)."""
        self.seconds = seconds

    def install(self) -> None:
        if self._main:
            self._previous = signal.signal(signal.SIGALRM, self._fire)
            self._installed = True

    def uninstall(self) -> None:
        if self._installed:
            self.disarm()
            signal.signal(signal.SIGALRM, self._previous or signal.SIG_DFL)
            self._installed = False

    def arm(self) -> None:
        if self._installed and self.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def disarm(self) -> None:
        if self._installed:
            signal.setitimer(signal.ITIMER_REAL, 0)

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Armed for the block: one wait on the server."""
        self.arm()
        try:
            yield
        finally:
            self.disarm()


def first_line(exc: BaseException) -> str:
    """The first line of what the driver said (the wrapped DBAPI error's, if wrapped)."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


# -- a connection lost mid-run ------------------------------------------------------------
# What the server said (SQLSTATE, message) in the WARNING it sends just before it closes the
# connection, kept on the error that follows (see `hear`).
SERVER_SAID = "orderreport_server_said"
LOST_RERUN = "nothing half-done was kept: rerun"
SHUT_DOWN = "the database server shut down during the run"
RESTARTED = "the database server restarted during the run"
CRASHED = (
    "the database server crashed during the run (one of its processes failed; "
    "it restarts and recovers by itself)"
)
IMMEDIATE = "the database server was shut down in immediate mode during the run (as in a crash)"
TERMINATED_BY_ADMIN = "an administrator ended the run's session (pg_terminate_backend)"


def hear(heard: list[tuple[str, str]]) -> Callable[[psycopg.errors.Diagnostic], None]:
    """A notice handler keeping what the server says as it ends a session, in `heard`.

    An immediate shutdown and a crash of another server process are said in a WARNING
    (SQLSTATE 57P01, 57P02) just before the server closes the connection; the error that
    follows says only that it closed. pg.Connection puts the last one on that error
    (SERVER_SAID).
    """

    def on_notice(diag: psycopg.errors.Diagnostic) -> None:
        state = diag.sqlstate or ""
        if state.startswith("57P"):
            heard.append((state, diag.message_primary or ""))

    return on_notice


def _sqlalchemy_errors() -> tuple[type[BaseException], ...]:
    """SQLAlchemy's wrappers of a driver error and its word that a connection lost before
    cannot be used, if the migration side loaded SQLAlchemy (else none can be raised)."""
    exc = sys.modules.get("sqlalchemy.exc")
    if exc is None:
        return ()
    return (exc.DBAPIError, *_sqlalchemy_afterwards())


def _sqlalchemy_afterwards() -> tuple[type[BaseException], ...]:
    exc = sys.modules.get("sqlalchemy.exc")
    return () if exc is None else (exc.PendingRollbackError, exc.ResourceClosedError)


# psycopg's words for a connection found broken by a call after the loss (not the loss)
_ALREADY_LOST = ("the connection is lost", "the connection is closed")


def _afterwards(exc: BaseException) -> bool:
    """Whether `exc` only says that a connection lost before cannot be used: SQLAlchemy's
    PendingRollbackError or ResourceClosedError, or psycopg's "the connection is lost"
    (raised by a cleanup after the loss: a rollback, Alembic setting the isolation level
    back) while handling the database error that said what happened."""
    after = _sqlalchemy_afterwards()
    if after and isinstance(exc, after):
        return True
    orig: object = exc if type(exc) is psycopg.OperationalError else getattr(exc, "orig", None)
    return (
        type(orig) is psycopg.OperationalError
        and str(orig).strip() in _ALREADY_LOST
        and isinstance(exc.__context__, (psycopg.Error, *_sqlalchemy_errors()))
    )


def _root(exc: BaseException) -> BaseException:
    """`exc`, or for a word that a connection lost before cannot be used (`_afterwards`)
    the error it followed."""
    seen = exc
    while _afterwards(seen) and seen.__context__ is not None:
        seen = seen.__context__
    return seen


def is_database_error(exc: BaseException) -> bool:
    """True for an error of the database or of the connection to it (see `describe`)."""
    return isinstance(_root(exc), (psycopg.Error, *_sqlalchemy_errors()))


def _probe(probe: Callable[[], None] | None) -> str:
    """What a new connection (`probe` opens and closes one) finds just after the server
    ended ours with SQLSTATE 57P01, which a shutdown and pg_terminate_backend both send:
    'up', 'down', 'starting' or ''."""
    if probe is None:
        return ""
    try:
        probe()
    except psycopg.Error as exc:
        if not isinstance(exc, psycopg.OperationalError):
            return ""
        said = str(exc)  # a refusal at connect has no SQLSTATE: the server's words tell
        if "starting up" in said or "not yet accepting" in said or "recovery" in said:
            return "starting"
        gone = ("shutting down", "Connection refused", "No such file or directory")
        return "down" if any(word in said for word in gone) else ""  # not a password refused
    except Exception:
        return ""
    return "up"


def lost(exc: BaseException, probe: Callable[[], None] | None = None) -> str | None:
    """What cut the run's connection off, for people; None if `exc` is no lost connection.

    `probe` opens and closes a new connection like the run's (pg.Connection.probe), to ask
    whether a 57P01 meant a shutdown or an administrator's pg_terminate_backend (call this
    right after the error, while the shutdown is still under way)."""
    root = _root(exc)
    orig = getattr(root, "orig", None) or root
    said = getattr(root, SERVER_SAID, None) or getattr(orig, SERVER_SAID, None)
    state, words = said if isinstance(said, tuple) else ("", "")
    first = first_line(root)
    if state == "57P02" or isinstance(orig, psycopg.errors.CrashShutdown):
        return CRASHED
    if "immediate shutdown" in words or "immediate shutdown" in first:
        return IMMEDIATE
    if state == "57P01" or isinstance(orig, psycopg.errors.AdminShutdown):
        found = _probe(probe)
        if found == "up":
            return TERMINATED_BY_ADMIN
        if found:
            return SHUT_DOWN if found == "down" else RESTARTED
        return f"the database server ended the run's session ({first})"
    if isinstance(orig, psycopg.errors.CannotConnectNow) or (
        type(orig) is psycopg.OperationalError and "the database system is" in first
    ):  # on a reconnect, mid-run: the server's own words at connect
        if "shutting down" in first:
            return SHUT_DOWN
        return CRASHED if "recovery mode" in first else RESTARTED
    if (
        isinstance(orig, psycopg.errors.ConnectionException)  # SQLSTATE class 08
        or type(orig) is psycopg.OperationalError  # psycopg's word for a broken connection
        or getattr(root, "connection_invalidated", False)
    ):
        return f"lost the connection to the database server ({first})"
    if _sqlalchemy_afterwards() and isinstance(root, _sqlalchemy_afterwards()):
        return "lost the connection to the database server earlier in the run"
    return None


def describe(
    exc: BaseException,
    bounds: Bounds,
    context: str = "database error",
    probe: Callable[[], None] | None = None,
) -> OrderReportError:
    """A one-line error for what the database said, naming the bound that was hit, or what
    cut the connection off (`lost`; `probe` as there)."""
    root = _root(exc)
    orig = getattr(root, "orig", None) or root
    first = first_line(root)
    if isinstance(orig, psycopg.errors.LockNotAvailable):
        return DatabaseFailed(
            f"{context}: a table stayed locked by another session for over {bounds.lock:g} s "
            "(lock_timeout, --lock-timeout); nothing half-done was kept"
        )
    if isinstance(orig, psycopg.errors.QueryCanceled) and "statement timeout" in first:
        return DatabaseFailed(
            f"{context}: a statement ran for over {bounds.statement:g} s "
            "(statement_timeout, --statement-timeout); nothing half-done was kept"
        )
    if isinstance(orig, psycopg.errors.ReadOnlySqlTransaction) or "during recovery" in first:
        return DatabaseFailed(
            f"{context}: the database server is read-only (a hot standby?): reports work "
            "there, but daily, migrate and demo must run against the primary"
        )
    why = lost(root, probe)
    if why is not None:
        return ConnectionLost(f"{context}: {why}; {LOST_RERUN}")
    return DatabaseFailed(f"{context}: {first}")


# -- letting go at once -------------------------------------------------------------------
CANCEL_TIMEOUT = 2.0  # seconds a signalled run waits for the server to take its cancel
_IN_USE: list[psycopg.Connection[Any]] = []  # the run's open connections (see `track`)


def track(conn: psycopg.Connection[Any]) -> None:
    """Keep `conn` where `cancel_in_flight` finds it, until `untrack`."""
    _IN_USE[:] = [c for c in _IN_USE if not c.closed]
    _IN_USE.append(conn)


def untrack(conn: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(ValueError):
        _IN_USE.remove(conn)


def cancel_in_flight() -> None:
    """Ask the server to cancel the statement in flight on the run's connections.

    Called from the SIGTERM/SIGINT handler, before it raises: the connection is then
    closed, but a server busy in a statement notices only when it next looks at the
    socket (client_connection_check_interval), holding the run's locks (the daily advisory
    lock) until then, so a run started at once would find them taken. Cancelled, the
    statement stops now and the server sees the close at once. A cancel request goes on
    a connection of its own (never this one's socket, whatever state the interrupted
    code left it in); it is bounded by CANCEL_TIMEOUT and never raises.
    """
    for conn in list(_IN_USE):
        with contextlib.suppress(Exception):
            if conn.info.transaction_status == psycopg.pq.TransactionStatus.ACTIVE:
                conn.cancel_safe(timeout=CANCEL_TIMEOUT)
