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
import os
import re
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from orderreport import urls
from orderreport.config import (
    CONNECT_TIMEOUT,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_STATEMENT_TIMEOUT,
    MIGRATE_LOCK_TIMEOUT,
    MIGRATE_STATEMENT_TIMEOUT,
    Settings,
)
from orderreport.errors import DatabaseFailed, OrderReportError

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


_PG_UNITS = {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def pg_seconds(shown: str) -> float:
    """A time setting as PostgreSQL shows it ('1ms', '30s', '10min', '0') in seconds."""
    match = re.fullmatch(r"([0-9]+)(ms|s|min|h|d)?", shown.strip())
    if match is None:
        return 0.0
    return int(match.group(1)) * _PG_UNITS[match.group(2) or "ms"]


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


def connect_args(url: URL, bounds: Bounds, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """libpq parameters for a connection: ours, unless the URL sets them; and `options`.

    `options` is ours first, then the user's (the URL's `options`, else PGOPTIONS), so a
    setting the user gives there wins over our default; nothing of the user's is dropped.
    """
    ours = urls.merge_options(
        f"-c lock_timeout={_ms(bounds.lock)}",
        f"-c statement_timeout={_ms(bounds.statement)}",
        f"-c idle_in_transaction_session_timeout={_ms(IDLE_IN_TRANSACTION)}",
        f"-c client_connection_check_interval={_ms(CLIENT_CHECK_INTERVAL)}",
        # JIT compiles a query for seconds to save milliseconds on reports that read one
        # day's orders; its cost estimates jump with the history's size (bench/RESULTS.md)
        "-c jit=off",
    )
    env = dict(os.environ) if environ is None else environ
    args: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT,
        "application_name": "orderreport",
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
        **KEEPALIVES,
    }
    args = {k: v for k, v in args.items() if k not in url.query}
    args["options"] = urls.merge_options(ours, urls.user_options(url, env))
    return args


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


def describe(
    exc: BaseException, bounds: Bounds, context: str = "database error"
) -> OrderReportError:
    """A one-line error for what the database said, naming the bound that was hit."""
    orig = getattr(exc, "orig", None) or exc
    first = first_line(exc)
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
    # OperationalError itself (no SQLSTATE subclass) is psycopg's word for a broken
    # connection; its subclasses (out of memory, disk full, …) are the server's refusals
    if isinstance(orig, psycopg.errors.AdminShutdown) or type(orig) is psycopg.OperationalError:
        return DatabaseFailed(f"{context}: lost the connection to the database ({first})")
    return DatabaseFailed(f"{context}: {first}")
