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
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, Date, TextClause, bindparam, text
from sqlalchemy.exc import DBAPIError, InvalidRequestError

from orderreport import db

# the CLI's bounds, kept where the CLI reads them without importing this module
from orderreport.defaults import DEFAULT_LIST as DEFAULT_LIST
from orderreport.defaults import MAX_LIST as MAX_LIST
from orderreport.errors import (
    EXIT_FAILURE,
    EXIT_OK,
    ConnectionLost,
    LockBusy,
    NotMigrated,
    OrderReportError,
    Terminated,
    exit_code_of,
)
from orderreport.queries import Summary
from orderreport.redact import scrub
from orderreport.shop import OUR_SCHEMA

MESSAGE_LIMIT = 500  # characters of an error message kept in the log
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
    time_zone: str
    status: str
    exit_code: int | None
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: Decimal | None
    catch_up: bool  # False: the days were given (--date, --from/--to)
    first_day: date | None
    last_day: date | None
    days_planned: int
    days_stored: int
    days_restated: int
    days_changed: int
    host: str
    pid: int
    message: str | None


RUN_FIELDS = (
    "id",
    "time_zone",
    "status",
    "exit_code",
    "started_at",
    "finished_at",
    "duration_seconds",
    "catch_up",
    "first_day",
    "last_day",
    "days_planned",
    "days_stored",
    "days_restated",
    "days_changed",
    "host",
    "pid",
    "message",
)
# The columns of the `runs` table for people (JSON and CSV carry every field).
RUN_TABLE_FIELDS = (
    "id",
    "started_at",
    "duration_seconds",
    "status",
    "exit_code",
    "first_day",
    "last_day",
    "days_planned",
    "days_stored",
    "days_restated",
    "days_changed",
    "host",
    "message",
)

_EXISTS = text(f"SELECT pg_catalog.to_regclass('{OUR_SCHEMA}.runs') IS NOT NULL")

_START = text(
    f"""
    INSERT INTO {OUR_SCHEMA}.runs
        (time_zone, catch_up, first_day, last_day, days_planned, host, pid, version,
         backend_start)
    VALUES (:time_zone, :catch_up, :first_day, :last_day, :planned, :host, :pid, :version,
            (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()))
    RETURNING id
    """
).bindparams(bindparam("first_day", type_=Date), bindparam("last_day", type_=Date))


def _update(outcome: str = "") -> TextClause:
    """UPDATE of a run's progress (Progress's figures), and of `outcome`'s columns too."""
    return text(
        f"""
        UPDATE {OUR_SCHEMA}.runs
        SET first_day = :first_day, last_day = :last_day, days_planned = :planned,
            days_stored = :stored, days_restated = :restated, days_changed = :changed
            {outcome}
        WHERE id = :id
        """
    ).bindparams(bindparam("first_day", type_=Date), bindparam("last_day", type_=Date))


_NOTE = _update()
_FINISH = _update(
    # a success keeps a warning the run recorded (runs.warn); a failure's line replaces it
    ", status = :status, exit_code = :exit_code, message = COALESCE(:message, message), "
    "finished_at = clock_timestamp()"
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
_RECENT = text(_SELECT + " ORDER BY r.id DESC LIMIT :limit")
# Busy runs did nothing because another run was doing the work: that run's outcome counts.
_LAST = text(_SELECT + " WHERE r.time_zone = :tz AND r.status <> 'busy' ORDER BY r.id DESC LIMIT 1")


def exists(session: Connection) -> bool:
    """True if this database has the run log (schema at 0005 or later)."""
    return bool(session.execute(_EXISTS).scalar_one())


def start(
    session: Connection,
    *,
    time_zone: str,
    span: tuple[date, date] | None,
    host: str,
    pid: int,
    version: str,
) -> int | None:
    """Record a run as running, committed at once; its id, or None if the database has no
    run log yet (its schema is behind: the run then stops on that)."""
    if not exists(session):
        session.rollback()
        return None
    first, last = span if span is not None else (None, None)
    run_id = session.execute(
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
    ).scalar_one()
    session.commit()
    return int(run_id)


def _counts(progress: Progress) -> dict[str, object]:
    return {
        "first_day": progress.first_day,
        "last_day": progress.last_day,
        "planned": progress.planned,
        "stored": progress.stored,
        "restated": progress.restated,
        "changed": progress.changed,
    }


_WARN = text(f"UPDATE {OUR_SCHEMA}.runs SET message = :message WHERE id = :id")


def warn(session: Connection, run_id: int | None, warning: str) -> None:
    """Record a warning as the run's message (a failed webhook post): the run still
    succeeds, and `orderreport runs` shows why it spoke up."""
    if run_id is None:
        return
    session.execute(_WARN, {"id": run_id, "message": warning[:MESSAGE_LIMIT]})
    session.commit()


def note(session: Connection, run_id: int | None, progress: Progress) -> None:
    """Write the run's counts in the caller's transaction (so they commit with its days)."""
    if run_id is not None:
        session.execute(_NOTE, {"id": run_id, **_counts(progress)})


def outcome(exc: BaseException | None) -> tuple[str, int, str | None]:
    """(status, exit code, one-line message) of a run that ended with `exc` (None: ok)."""
    if exc is None:
        return "succeeded", EXIT_OK, None
    code = exit_code_of(exc)
    if isinstance(exc, LockBusy):
        return "busy", code, str(exc)
    if isinstance(exc, KeyboardInterrupt) or (isinstance(exc, Terminated) and exc.signum == 2):
        return "interrupted", code, "interrupted by SIGINT"
    if isinstance(exc, Terminated):
        return "terminated", code, "terminated by SIGTERM"
    if isinstance(exc, OrderReportError):
        message = str(exc)
    elif isinstance(exc, DBAPIError):
        orig = exc.orig if exc.orig is not None else exc
        lines = str(orig).strip().splitlines()
        message = f"database error: {lines[0] if lines else type(orig).__name__}"
    else:
        message = f"unexpected {type(exc).__name__}: {exc}"
    return "failed", code or EXIT_FAILURE, scrub(" ".join(message.split()))[:MESSAGE_LIMIT]


def finish(
    session: Connection,
    run_id: int,
    progress: Progress,
    exc: BaseException | None,
) -> None:
    """Record how the run ended (see `outcome`) with its final counts.

    After a failure the session's transaction is rolled back first. A connection that was
    cut (by the server, or closed by SQLAlchemy when a signal arrived mid-statement) is
    replaced on that rollback, so the outcome is still recorded; after a lost connection
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
    while True:
        with contextlib.suppress(DBAPIError, InvalidRequestError):
            session.rollback()  # a failed run's half-done day goes; committed days stay
        try:
            session.execute(_FINISH, values)
            session.commit()
            return
        except (DBAPIError, InvalidRequestError):
            if exc is None:
                raise
            with contextlib.suppress(DBAPIError, InvalidRequestError):
                session.rollback()
            if time.monotonic() >= deadline:
                return
            time.sleep(RECORD_RETRY)


@contextlib.contextmanager
def recorded(
    session: Connection,
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
    run_id = start(session, time_zone=time_zone, span=span, host=host, pid=pid, version=version)
    bounds = db.bounds_of(session)  # now: once the connection is lost its info is gone
    try:
        yield run_id
    except BaseException as exc:
        # the run's one line, recorded as the session will print it (it passes it on)
        failed = db.failure(exc, bounds, session.engine)
        if run_id is not None:
            finish(session, run_id, progress, failed)
        if failed is exc:
            raise
        raise failed from None
    if run_id is not None:
        finish(session, run_id, progress, None)


def recent(session: Connection, limit: int) -> list[RunRecord]:
    """The `limit` newest runs of every zone, newest first. Raises NotMigrated without a
    run log."""
    if not exists(session):
        raise NotMigrated(
            f"the database has no run log ({OUR_SCHEMA}.runs): run `orderreport migrate`"
        )
    rows = session.execute(_RECENT, {"limit": limit})
    return [RunRecord(**row._asdict()) for row in rows]


def last(session: Connection, time_zone: str) -> RunRecord | None:
    """The newest run of `time_zone` that was not busy (None: no such run yet)."""
    row = session.execute(_LAST, {"tz": time_zone}).first()
    return None if row is None else RunRecord(**row._asdict())


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
