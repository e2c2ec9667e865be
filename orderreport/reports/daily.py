"""The daily job and the stored history. "today" is always a parameter.

A run stores one row per day, zone and currency in daily_reports. The summaries of all the days it
covers come from one grouped query (queries.summaries); the days are then upserted, up to
COMMIT_DAYS to a transaction, so a run that dies leaves only complete days behind and a
rerun replaces rows (refreshing generated_at) instead of duplicating them.

Every run also restates: it recomputes the newest already-stored days (`restate` of them)
and replaces those whose figures changed since they were stored, under the same lock and
each in its own transaction. That is what catches an order committed after its day was
stored (a transaction that spanned midnight) and an order edited or refunded later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from orderreport import db
from orderreport.columns import fields_of, header

# the CLI's bounds, kept where the CLI reads them without importing this module
from orderreport.config.settings import DEFAULT_MAX_CATCH_UP as DEFAULT_MAX_CATCH_UP
from orderreport.config.settings import DEFAULT_RESTATE as DEFAULT_RESTATE
from orderreport.config.settings import MAX_RESTATE as MAX_RESTATE
from orderreport.deliver.metrics import RunFigures
from orderreport.errors import UsageError
from orderreport.reports import queries, runs, verify
from orderreport.reports.queries import Summary
from orderreport.reports.runs import Progress
from orderreport.reports.verify import Difference
from orderreport.shop import Shop


@dataclass(frozen=True)
class Plan:
    """The days a run will store (inclusive), and an older gap it leaves for an explicit range."""

    start: date | None  # None: nothing to do
    end: date | None
    gap: tuple[date, date] | None = None

    @property
    def days(self) -> int:
        if self.start is None or self.end is None:
            return 0
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class StoredReport(Summary):
    """A row of daily_reports: a Summary plus when it was generated."""

    generated_at: datetime = field(metadata=header("generated at"))


HISTORY_FIELDS = fields_of(StoredReport)


@dataclass(frozen=True)
class StoredSpan:
    """The finished days stored for the session's zone: first, last and how many."""

    oldest: date | None
    newest: date | None
    days: int


_STORED_SPAN = """
    SELECT min(report_date) AS oldest, max(report_date) AS newest,
           count(DISTINCT report_date) AS days
    FROM orderreport.daily_reports
    WHERE time_zone = current_setting('TimeZone') AND report_date < %(today)s::date
    """


def stored_span(conn: psycopg.Connection[Any], today: date) -> StoredSpan:
    """Which days before `today` are stored for the session's zone (the shop's)."""
    row = conn.execute(_STORED_SPAN, {"today": today}).fetchone()
    assert row is not None  # an aggregate without GROUP BY: always one row
    return StoredSpan(*row)


def plan_catch_up(newest: date | None, today: date, max_catch_up: int) -> Plan:
    """Days from the one after `newest` up to yesterday, at most `max_catch_up` of the latest.

    With nothing stored: yesterday alone. An older gap is reported, not filled.
    """
    yesterday = today - timedelta(days=1)
    if newest is None:
        return Plan(yesterday, yesterday)
    start = newest + timedelta(days=1)
    if start > yesterday:
        return Plan(None, None)
    if (yesterday - start).days + 1 > max_catch_up:
        bounded = yesterday - timedelta(days=max_catch_up - 1)
        return Plan(bounded, yesterday, gap=(start, bounded - timedelta(days=1)))
    return Plan(start, yesterday)


def require_complete(last: date, today: date, tz: str) -> None:
    """Raise UsageError if `last` is today or later: only finished days are stored, or the
    catch-up would later take an unfinished day for a stored one."""
    if last >= today:
        raise UsageError(
            f"{last} is not over yet in {tz}: daily stores finished days only (up to yesterday)"
        )


def acquire_lock(conn: psycopg.Connection[Any], wait_seconds: float) -> None:
    """Take the daily job's advisory lock (session-level); raise LockBusy if another run has it."""
    db.try_advisory_lock(conn, db.DAILY_LOCK_KEY, wait_seconds)


def release_lock(conn: psycopg.Connection[Any]) -> None:
    db.advisory_unlock(conn, db.DAILY_LOCK_KEY)


_DELETE_DAYS = """
    DELETE FROM orderreport.daily_reports
    WHERE time_zone = %(zone)s AND report_date = ANY(%(days)s::date[])
    """
# Every row of the batch in one statement, one array per column; generated_at is the
# transaction's now(), the same for all of them.
_INSERT_DAYS = """
    INSERT INTO orderreport.daily_reports
        (report_date, time_zone, currency, total_orders, total_products, total_value,
         average_products_per_order, average_order_value, generated_at)
    SELECT d.*, pg_catalog.now()
    FROM ROWS FROM (
        pg_catalog.unnest(%(report_date)s::date[]),
        pg_catalog.unnest(%(time_zone)s::text[]),
        pg_catalog.unnest(%(currency)s::text[]),
        pg_catalog.unnest(%(total_orders)s::bigint[]),
        pg_catalog.unnest(%(total_products)s::bigint[]),
        pg_catalog.unnest(%(total_value)s::numeric[]),
        pg_catalog.unnest(%(average_products_per_order)s::numeric[]),
        pg_catalog.unnest(%(average_order_value)s::numeric[])
    ) AS d
    """


def upsert_days(conn: psycopg.Connection[Any], summaries: Sequence[Summary]) -> None:
    """Store the days' summaries (every currency of each day), replacing whatever the zone
    had stored for those days — a currency a day no longer has goes too (in the caller's
    transaction)."""
    if not summaries:
        return
    zone = summaries[0].time_zone
    conn.execute(_DELETE_DAYS, {"zone": zone, "days": sorted({s.date for s in summaries})})
    conn.execute(
        _INSERT_DAYS,
        {
            "report_date": [s.date for s in summaries],
            "time_zone": [s.time_zone for s in summaries],
            # a key column: '' for a shop without currencies
            "currency": [s.currency or "" for s in summaries],
            "total_orders": [s.total_orders for s in summaries],
            "total_products": [s.total_products for s in summaries],
            "total_value": [s.total_value for s in summaries],
            "average_products_per_order": [s.average_products_per_order for s in summaries],
            "average_order_value": [s.average_order_value for s in summaries],
        },
    )


COMMIT_DAYS = 31  # days stored per transaction


def store_days(
    conn: psycopg.Connection[Any],
    shop: Shop,
    start: date,
    end: date,
    before_commit: Callable[[Sequence[Day]], None] = lambda _batch: None,
    after_commit: Callable[[Sequence[Day]], None] = lambda _batch: None,
) -> Iterator[Day]:
    """Compute start..end in one query, then upsert the days, COMMIT_DAYS to a transaction.

    Every day is stored whole (all its currencies) or not at all, and a killed run keeps
    the batches it committed. A commit per day cost a disk flush per day (a year: 365 of
    them, twice the time of one grouped INSERT); a month per commit keeps a year's catch-up
    within 1.5 times that. `before_commit` runs in each batch's transaction after its
    upserts (the run log's counts commit with the days), `after_commit` right after the
    commit (before anything else can interrupt, so in-memory counts stay equal to the
    committed ones). Yields each day (its date and rows) after its transaction committed.
    """
    days = list(verify.by_day(queries.summaries(conn, shop, start, end)))
    conn.commit()
    for first in range(0, len(days), COMMIT_DAYS):
        batch = days[first : first + COMMIT_DAYS]
        upsert_days(conn, [row for _day, rows in batch for row in rows])
        before_commit(batch)
        conn.commit()
        after_commit(batch)
        yield from batch


Day = tuple[date, list[Summary]]  # a day's rows, one per currency


# DISTINCT: a day is stored as one row per currency, and `restate` counts days, not rows.
_RESTATE_DAYS = """
    SELECT DISTINCT report_date FROM orderreport.daily_reports
    WHERE time_zone = current_setting('TimeZone') AND report_date < %(today)s::date
      AND (%(start)s::date IS NULL
           OR report_date NOT BETWEEN %(start)s::date AND %(end)s::date)
    ORDER BY report_date DESC
    LIMIT %(n)s
    """


def restate_days(
    conn: psycopg.Connection[Any], today: date, restate: int, plan: Plan
) -> tuple[date, ...]:
    """The `restate` newest stored days of the session's zone that `plan` does not store
    anyway, oldest first: days, each with every currency it has."""
    if restate <= 0:
        return ()
    rows = conn.execute(
        _RESTATE_DAYS, {"today": today, "start": plan.start, "end": plan.end, "n": restate}
    ).fetchall()
    return tuple(sorted(row[0] for row in rows))


@dataclass(frozen=True)
class Run:
    """What one `daily` run did: its plan, the rows it stored (by day, then currency), the
    stored days it restated, every stored day whose figures it changed, and the zone's
    stored reports after it: the newest day and yesterday's rows (empty if not stored)."""

    plan: Plan
    stored: tuple[Summary, ...]
    restated: tuple[date, ...] = ()
    changes: tuple[tuple[Difference, ...], ...] = ()
    newest: date | None = None
    yesterday: tuple[Summary, ...] = ()


@dataclass(frozen=True)
class Told:
    """What daily.run tells its caller as it goes (by default nothing), in the one style of
    every job's events (jobs.Events): the plan and the days it will restate, each stored
    summary once its day committed, the differences of each stored day it changed."""

    plan: Callable[[Plan, tuple[date, ...]], None] = lambda _plan, _restating: None
    stored: Callable[[Summary], None] = lambda _summary: None
    changed: Callable[[Sequence[Difference]], None] = lambda _changes: None


SILENT = Told()


def run(
    conn: psycopg.Connection[Any],
    shop: Shop,
    *,
    tz: str,
    today: date,
    span: tuple[date, date] | None,
    max_catch_up: int = DEFAULT_MAX_CATCH_UP,
    restate: int = DEFAULT_RESTATE,
    wait_seconds: float = 0.0,
    run_id: int | None = None,
    progress: Progress | None = None,
    told: Told = SILENT,
) -> Run:
    """The daily job: take the lock, store `span` (or catch up to yesterday), restate the
    `restate` newest other stored days, release.

    Raises UsageError for a span reaching today or later, LockBusy if another run holds the
    lock (after `wait_seconds`). Tells `told` the plan once (and the days to restate),
    each stored summary after its day committed, the differences of each stored day
    whose figures changed (a planned day stored before, or a restated day). `progress` is
    kept up to date as days commit, and so is the run log's row `run_id` (runs.note).
    """
    progress = progress if progress is not None else Progress()
    if span is not None:
        require_complete(span[1], today, tz)
    acquire_lock(conn, wait_seconds)
    if span is not None:
        plan = Plan(*span)
    else:
        plan = plan_catch_up(stored_span(conn, today).newest, today, max_catch_up)
    restating = restate_days(conn, today, restate, plan)
    # the stored figures of every day this run may replace, to say what changed
    touched = sorted([*restating, *(d for d in (plan.start, plan.end) if d is not None)])
    before = verify.stored_reports(conn, touched[0], touched[-1], today) if touched else {}
    progress.first_day, progress.last_day, progress.planned = plan.start, plan.end, plan.days
    runs.note(conn, run_id, progress)
    conn.commit()
    told.plan(plan, restating)
    stored: list[Summary] = []
    changes: list[tuple[Difference, ...]] = []

    def changed(day: date, rows: Sequence[Summary]) -> tuple[Difference, ...]:
        old = before.get(day)
        return () if old is None else verify.differences(old, rows)

    def counted(batch: Sequence[Day]) -> runs.Progress:
        after = replace(progress, stored=progress.stored + len(batch))
        after.changed += sum(1 for day, rows in batch if changed(day, rows))
        return after

    def note_stored(batch: Sequence[Day]) -> None:
        runs.note(conn, run_id, counted(batch))

    def committed(batch: Sequence[Day]) -> None:
        after = counted(batch)
        progress.stored, progress.changed = after.stored, after.changed

    if plan.start is not None and plan.end is not None:
        for day, rows in store_days(conn, shop, plan.start, plan.end, note_stored, committed):
            differences = changed(day, rows)
            stored.extend(rows)
            for summary in rows:
                told.stored(summary)
            if differences:
                changes.append(differences)
                told.changed(differences)
    for day, live in verify.live_reports(conn, shop, restating):
        differences = changed(day, live)
        if differences:
            upsert_days(conn, live)
            runs.note(
                conn,
                run_id,
                replace(progress, restated=progress.restated + 1, changed=progress.changed + 1),
            )
            conn.commit()
            progress.changed += 1
            changes.append(differences)
            told.changed(differences)
        progress.restated += 1
    runs.note(conn, run_id, progress)
    yesterday = today - timedelta(days=1)
    progress.newest = stored_span(conn, today).newest
    found = verify.stored_reports(conn, yesterday, yesterday, today).get(yesterday, [])
    progress.yesterday = tuple(found)
    conn.commit()
    # On an error we leave the lock alone: it dies with the connection.
    release_lock(conn)
    return Run(plan, tuple(stored), restating, tuple(changes), progress.newest, progress.yesterday)


def run_figures(
    *,
    time_zone: str,
    started: datetime,
    finished: datetime,
    exit_code: int,
    progress: Progress,
    today: date,
) -> RunFigures:
    """The metrics of a run (metrics.py) from how far it got; the yesterday and lag figures
    are unknown (empty, None) when it did not get to the end."""
    yesterday, newest, report = today - timedelta(days=1), progress.newest, progress.yesterday
    return RunFigures(
        time_zone=time_zone,
        started=started,
        finished=finished,
        exit_code=exit_code,
        days_stored=progress.stored,
        days_restated=progress.restated,
        days_changed=progress.changed,
        # per currency, and unknown (empty) when the run did not get to the end
        yesterday=tuple((r.currency, r.total_orders, r.total_value) for r in report),
        lag_days=(yesterday - newest).days if newest is not None else None,
    )


_HISTORY = """
    SELECT report_date AS date, time_zone, NULLIF(currency, '') AS currency,
           total_orders, total_products, ROUND(total_value, 2) AS total_value,
           ROUND(average_products_per_order, 2) AS average_products_per_order,
           ROUND(average_order_value, 2) AS average_order_value, generated_at
    FROM orderreport.daily_reports
    WHERE time_zone = current_setting('TimeZone')
      AND (%(start)s::date IS NULL OR report_date >= %(start)s::date)
      AND (%(end)s::date IS NULL OR report_date <= %(end)s::date)
    ORDER BY report_date, currency
    """


def history(
    conn: psycopg.Connection[Any], start: date | None, end: date | None
) -> list[StoredReport]:
    """Stored reports of the session's zone between start and end (None: unbounded), by day."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_HISTORY, {"start": start, "end": end}).fetchall()
    return [StoredReport(**row) for row in rows]
