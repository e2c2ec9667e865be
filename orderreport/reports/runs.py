"""The run log: every `orderreport daily` records itself in orderreport.runs.

A run inserts its row in a transaction of its own right after it connects (before it
waits for the daily lock), keeps the row's counts up to date in the same transactions
that store its days, and writes its outcome when it ends, whatever the outcome. A run
killed with SIGKILL never writes an outcome: its row stays without finished_at, and
`status` tells it from a run still going by the run's server backend (its pid and start
time, recorded in the row): a live run's backend is still there, a dead run's is gone.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from orderreport import db
from orderreport import outcome as settle
from orderreport.columns import fields_of, header
from orderreport.config.redact import scrub

# the CLI's bounds, kept where the CLI reads them without importing this module
from orderreport.config.settings import DEFAULT_LIST as DEFAULT_LIST
from orderreport.config.settings import MAX_LIST as MAX_LIST
from orderreport.db import limits
from orderreport.errors import (
    EXIT_FAILURE,
    EXIT_OK,
    LOGGED_LIMIT,
    SIGNAL_EXITS,
    ConnectionLost,
    DatabaseUnavailable,
    LockBusy,
    NotMigrated,
    OrderReportError,
    Terminated,
    exit_code_of,
)
from orderreport.objects import OUR_SCHEMA
from orderreport.reports.queries import Summary

# A run whose connection was lost (a server restart, a crash) tries this long to record its
# outcome on a new one: a restart or a crash recovery is usually over within a few seconds.
RECORD_WAIT = 10.0
RECORD_RETRY = 0.5  # seconds between those tries
# The row of a run whose outcome was never recorded and whose server restarted since it
# started (the run was cut off by the restart, or killed before it): `message` says so.
RESTARTED = "the database server restarted before its outcome could be recorded"  # no quote: SQL


@dataclass
class Progress:
    """What a run has done so far. daily.run updates it as each day commits, so whoever
    started the run still knows how far it got when it fails."""

    first_day: date | None = None  # the days it set out to store
    last_day: date | None = None
    planned: int = 0
    stored: int = 0
    restated: int = 0  # already-stored days recomputed by restatement
    changed: int = 0  # stored days whose figures it changed
    # what the zone's stored reports look like once the run got to its end (None before)
    newest: date | None = None
    yesterday: tuple[Summary, ...] = ()  # yesterday's stored rows, one per currency


@dataclass(frozen=True)
class RunRecord:
    """One run as the log has it. `status` is running, unfinished (its process is gone
    without a word: killed, or cut off by a server restart: `message` is then RESTARTED),
    succeeded, failed, busy (another run held the lock), interrupted (SIGINT) or
    terminated (SIGTERM)."""

    id: int
    time_zone: str = field(metadata=header("zone"))
    status: str
    exit_code: int | None = field(metadata=header("exit"))
    started_at: datetime = field(metadata=header("started"))
    finished_at: datetime | None = field(metadata=header("finished"))
    duration_seconds: Decimal | None = field(metadata=header("seconds"))
    catch_up: bool  # False: the days were given (--date, --from/--to)
    first_day: date | None = field(metadata=header("from"))
    last_day: date | None = field(metadata=header("to"))
    days_planned: int = field(metadata=header("planned"))
    days_stored: int = field(metadata=header("stored"))
    days_restated: int = field(metadata=header("restated"))
    days_changed: int = field(metadata=header("changed"))
    host: str
    pid: int
    message: str | None


RUN_FIELDS = fields_of(RunRecord)
# The columns of the `runs` table for people: when and how long first; not the zone (the
# title has it), the finish, catch_up or the pid (JSON and CSV carry every field).
RUN_TABLE_FIELDS = fields_of(
    RunRecord,
    first=("id", "started_at", "duration_seconds"),
    omit=("time_zone", "finished_at", "catch_up", "pid"),
)

_EXISTS = f"SELECT pg_catalog.to_regclass('{OUR_SCHEMA}.runs') IS NOT NULL"

_START = f"""
    INSERT INTO {OUR_SCHEMA}.runs
        (time_zone, catch_up, first_day, last_day, days_planned, host, pid, version,
         backend_start)
    VALUES (%(time_zone)s, %(catch_up)s, %(first_day)s::date, %(last_day)s::date,
            %(planned)s, %(host)s, %(pid)s, %(version)s,
            (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()))
    RETURNING id
    """


def _update(outcome: str = "") -> str:
    """UPDATE of a run's progress (Progress's figures), and of `outcome`'s columns too."""
    return f"""
        UPDATE {OUR_SCHEMA}.runs
        SET first_day = %(first_day)s::date, last_day = %(last_day)s::date,
            days_planned = %(planned)s, days_stored = %(stored)s,
            days_restated = %(restated)s, days_changed = %(changed)s
            {outcome}
        WHERE id = %(id)s
        """


_NOTE = _update()
_FINISH = _update(
    # a success keeps a warning the run recorded (runs.warn); a failure's line replaces it
    ", status = %(status)s, exit_code = %(exit_code)s, "
    "message = COALESCE(%(message)s::text, message), finished_at = clock_timestamp()"
)

# A run without finished_at is live while its backend is: same pid, same backend start.
# A role that may not see other roles' backend_start (pg_read_all_stats) sees NULL there,
# and then the pid alone decides.
_SELECT = f"""
    SELECT r.id, r.time_zone,
           CASE WHEN r.finished_at IS NOT NULL THEN r.status
                WHEN EXISTS (
                    SELECT 1 FROM pg_stat_activity a
                    WHERE a.pid = r.backend_pid
                      AND (a.backend_start IS NULL OR r.backend_start IS NULL
                           OR a.backend_start = r.backend_start)
                ) THEN 'running'
                ELSE 'unfinished'
           END AS status,
           r.exit_code, r.started_at, r.finished_at,
           ROUND(EXTRACT(EPOCH FROM r.finished_at - r.started_at), 3) AS duration_seconds,
           r.catch_up, r.first_day, r.last_day, r.days_planned, r.days_stored,
           r.days_restated, r.days_changed, r.host, r.pid,
           CASE WHEN r.finished_at IS NULL AND r.started_at < GREATEST(
                    pg_postmaster_start_time(),
                    -- a crash restarts every server process but the postmaster
                    (SELECT max(a.backend_start) FROM pg_stat_activity a
                     WHERE a.backend_type = 'checkpointer'))
                THEN '{RESTARTED}'
                ELSE r.message
           END AS message
    FROM {OUR_SCHEMA}.runs r
"""
_RECENT = _SELECT + " ORDER BY r.id DESC LIMIT %(limit)s"
# Busy runs did nothing because another run was doing the work: that run's outcome counts.
_LAST = _SELECT + " WHERE r.time_zone = %(tz)s AND r.status <> 'busy' ORDER BY r.id DESC LIMIT 1"


def exists(conn: psycopg.Connection[Any]) -> bool:
    """True if this database has the run log (schema at 0005 or later)."""
    row = conn.execute(_EXISTS).fetchone()
    return bool(row is not None and row[0])


def start(
    conn: psycopg.Connection[Any],
    *,
    time_zone: str,
    span: tuple[date, date] | None,
    host: str,
    pid: int,
    version: str,
) -> int | None:
    """Record a run as running, committed at once; its id, or None if the database has no
    run log yet (its schema is behind: the run then stops on that)."""
    if not exists(conn):
        conn.rollback()
        return None
    first, last = span if span is not None else (None, None)
    row = conn.execute(
        _START,
        {
            "time_zone": time_zone,
            "catch_up": span is None,
            "first_day": first,
            "last_day": last,
            "planned": 0 if span is None else (span[1] - span[0]).days + 1,
            "host": host,
            "pid": pid,
            "version": version,
        },
    ).fetchone()
    if row is None:
        raise psycopg.ProgrammingError("INSERT … RETURNING id returned no row")
    conn.commit()
    return int(row[0])


def _counts(progress: Progress) -> dict[str, object]:
    return {
        "first_day": progress.first_day,
        "last_day": progress.last_day,
        "planned": progress.planned,
        "stored": progress.stored,
        "restated": progress.restated,
        "changed": progress.changed,
    }


_WARN = f"UPDATE {OUR_SCHEMA}.runs SET message = %(message)s WHERE id = %(id)s"


def warn(conn: psycopg.Connection[Any], run_id: int | None, warning: str) -> None:
    """Record a warning as the run's message (a failed webhook post): the run still
    succeeds, and `orderreport runs` shows why it spoke up."""
    if run_id is None:
        return
    conn.execute(_WARN, {"id": run_id, "message": warning[:LOGGED_LIMIT]})
    conn.commit()


def note(conn: psycopg.Connection[Any], run_id: int | None, progress: Progress) -> None:
    """Write the run's counts in the caller's transaction (so they commit with its days)."""
    if run_id is not None:
        conn.execute(_NOTE, {"id": run_id, **_counts(progress)})


def outcome(exc: BaseException | None) -> tuple[str, int, str | None]:
    """(status, exit code, one-line message) of a run that ended with `exc` (None: ok)."""
    if exc is None:
        return "succeeded", EXIT_OK, None
    code = exit_code_of(exc)
    if isinstance(exc, LockBusy):
        return "busy", code, str(exc)
    signum = signal.SIGINT if isinstance(exc, KeyboardInterrupt) else getattr(exc, "signum", None)
    if isinstance(exc, KeyboardInterrupt | Terminated) and signum in SIGNAL_EXITS:
        ending = SIGNAL_EXITS[signum]
        return ending.status, code, ending.logged
    if isinstance(exc, OrderReportError):
        message = str(exc)
    elif limits.is_database_error(exc):
        message = f"database error: {limits.first_line(exc)}"
    else:
        message = f"unexpected {type(exc).__name__}: {exc}"
    return "failed", code or EXIT_FAILURE, scrub(" ".join(message.split()))[:LOGGED_LIMIT]


_USABLE = (
    psycopg.pq.TransactionStatus.IDLE,
    psycopg.pq.TransactionStatus.INTRANS,
    psycopg.pq.TransactionStatus.INERROR,
)


def _usable(conn: psycopg.Connection[Any]) -> bool:
    """True if `conn` can still take a statement: open, and not cut off mid-statement (a
    signal, the watchdog: its statement's answer is still on its way, or never comes)."""
    return not conn.closed and conn.info.transaction_status in _USABLE


def finish(
    conn: psycopg.Connection[Any],
    run_id: int,
    progress: Progress,
    exc: BaseException | None,
) -> None:
    """Record how the run ended (see `outcome`) with its final counts.

    After a failure the connection's transaction is rolled back first. A connection that
    was cut (by the server, or by a signal mid-statement) is closed and the outcome
    recorded on a new one like it (pg.Connection.reopen); after a lost connection
    (ConnectionLost: the server restarting, recovering from a crash) new ones are tried
    for up to RECORD_WAIT seconds. A failed run's outcome that cannot be recorded at all
    (the database is gone) is given up quietly: its row then reads as unfinished (with
    RESTARTED as its message once the server is back). A successful run's is not: the
    error is raised.
    """
    status, code, message = outcome(exc)
    values = {"id": run_id, "status": status, "exit_code": code, "message": message}
    values.update(_counts(progress))
    deadline = time.monotonic() + (RECORD_WAIT if isinstance(exc, ConnectionLost) else 0.0)
    reopen = getattr(conn, "reopen", None)
    target = conn
    try:
        while True:
            try:
                if not _usable(target):
                    _close_quietly(target)  # the run's own: its session and locks go now
                    if reopen is None:
                        raise psycopg.OperationalError("the connection is closed")
                    target = reopen()
                with contextlib.suppress(psycopg.Error):
                    target.rollback()  # a failed run's half-done day goes; committed days stay
                target.execute(_FINISH, values)
                with settle.committing(code):  # from here on a signal changes nothing
                    target.commit()
                return
            except (psycopg.Error, DatabaseUnavailable):
                if exc is None:
                    raise
                if target is not conn:
                    _close_quietly(target)
                elif _usable(target):
                    with contextlib.suppress(psycopg.Error):
                        target.rollback()
                if time.monotonic() >= deadline:
                    return
                time.sleep(RECORD_RETRY)
    finally:
        if target is not conn:
            _close_quietly(target)


def _close_quietly(conn: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(Exception):
        conn.close()


@contextlib.contextmanager
def recorded(
    conn: psycopg.Connection[Any],
    progress: Progress,
    *,
    time_zone: str,
    span: tuple[date, date] | None,
    host: str,
    pid: int,
    version: str,
) -> Iterator[int | None]:
    """Record the run around the block: started now, finished with the block's outcome,
    counts from `progress`. Yields the run's id (None: no run log in this database)."""
    run_id = start(conn, time_zone=time_zone, span=span, host=host, pid=pid, version=version)
    bounds = db.bounds_of(conn)
    try:
        yield run_id
    except BaseException as exc:
        # the run's one line, recorded as the session will print it (it passes it on)
        failed = db.failure(exc, bounds, conn)
        if run_id is not None:
            finish(conn, run_id, progress, failed)
        if failed is exc:
            raise
        raise failed from None
    if run_id is not None:
        finish(conn, run_id, progress, None)


def recent(conn: psycopg.Connection[Any], limit: int) -> list[RunRecord]:
    """The `limit` newest runs of every zone, newest first. Raises NotMigrated without a
    run log."""
    if not exists(conn):
        raise NotMigrated(
            f"the database has no run log ({OUR_SCHEMA}.runs): run `orderreport migrate`"
        )
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_RECENT, {"limit": limit}).fetchall()
    return [RunRecord(**row) for row in rows]


def last(conn: psycopg.Connection[Any], time_zone: str) -> RunRecord | None:
    """The newest run of `time_zone` that was not busy (None: no such run yet)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_LAST, {"tz": time_zone}).fetchone()
    return None if row is None else RunRecord(**row)


def problem(run: RunRecord | None) -> str | None:
    """Why `run` (the last one) makes an installation unhealthy, naming it; None if not."""
    if run is None or run.status in ("succeeded", "running"):
        return None
    started = run.started_at.isoformat(timespec="seconds")
    who = f"the last daily run (#{run.id} on {run.host}, started {started})"
    again = (
        "`orderreport daily`"
        if run.catch_up or run.first_day is None
        else f"`orderreport daily --from {run.first_day} --to {run.last_day}`"
    )
    if run.status == "unfinished":
        why = RESTARTED if run.message == RESTARTED else "its process is gone (killed?)"
        return f"{who} never finished: {why}; run {again} again"
    return f"{who} {run.status} with exit {run.exit_code}: {run.message}; run {again} again"
