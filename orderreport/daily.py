"""The daily job, the stored history and the health status. "today" is always a parameter.

A run stores one row per day and zone in daily_reports. The summaries of all the days it
covers come from one grouped query (queries.summaries); each day is then upserted in its
own transaction, so a run that dies leaves only complete days behind and a rerun replaces
rows (refreshing generated_at) instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Date, bindparam, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from orderreport import db, queries, schema
from orderreport.errors import UsageError
from orderreport.models import daily_reports
from orderreport.queries import Summary
from orderreport.shop import Shop

DEFAULT_MAX_CATCH_UP = 31


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

    generated_at: datetime


HISTORY_FIELDS = (*queries.SUMMARY_FIELDS, "generated_at")


@dataclass(frozen=True)
class StoredSpan:
    """The finished days stored for the session's zone: first, last and how many."""

    oldest: date | None
    newest: date | None
    days: int


_STORED_SPAN = text(
    """
    SELECT min(report_date) AS oldest, max(report_date) AS newest, count(*) AS days
    FROM orderreport.daily_reports
    WHERE time_zone = current_setting('TimeZone') AND report_date < :today
    """
).bindparams(bindparam("today", type_=Date))


def stored_span(session: Session, today: date) -> StoredSpan:
    """Which days before `today` are stored for the session's zone (the shop's)."""
    return StoredSpan(**session.execute(_STORED_SPAN, {"today": today}).one()._asdict())


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


def acquire_lock(session: Session, wait_seconds: float) -> None:
    """Take the daily job's advisory lock (session-level); raise LockBusy if another run has it."""
    db.try_advisory_lock(session, db.DAILY_LOCK_KEY, wait_seconds)


def release_lock(session: Session) -> None:
    db.advisory_unlock(session, db.DAILY_LOCK_KEY)


def store_days(session: Session, shop: Shop, start: date, end: date) -> Iterator[Summary]:
    """Compute start..end in one query, then upsert each day in its own transaction.

    Yields each Summary after its transaction committed.
    """
    days = queries.summaries(session, shop, start, end)
    session.commit()
    for summary in days:
        values = {
            "report_date": summary.date,
            "time_zone": summary.time_zone,
            "total_orders": summary.total_orders,
            "total_products": summary.total_products,
            "total_value": summary.total_value,
            "average_products_per_order": summary.average_products_per_order,
            "average_order_value": summary.average_order_value,
            "generated_at": func.now(),
        }
        stmt = insert(daily_reports).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[daily_reports.c.time_zone, daily_reports.c.report_date],
            set_={k: stmt.excluded[k] for k in values if k not in ("report_date", "time_zone")},
        )
        session.execute(stmt)
        session.commit()
        yield summary


@dataclass(frozen=True)
class Run:
    """What one `daily` run did: its plan and the days it stored, in order."""

    plan: Plan
    stored: tuple[Summary, ...]


def run(
    session: Session,
    shop: Shop,
    *,
    tz: str,
    today: date,
    span: tuple[date, date] | None,
    max_catch_up: int = DEFAULT_MAX_CATCH_UP,
    wait_seconds: float = 0.0,
    on_plan: Callable[[Plan], None] = lambda _plan: None,
    on_stored: Callable[[Summary], None] = lambda _summary: None,
) -> Run:
    """The daily job: take the lock, store `span` (or catch up to yesterday), release.

    Raises UsageError for a span reaching today or later, LockBusy if another run holds the
    lock (after `wait_seconds`). Calls on_plan once, on_stored after each committed day.
    """
    if span is not None:
        require_complete(span[1], today, tz)
    acquire_lock(session, wait_seconds)
    if span is not None:
        plan = Plan(*span)
    else:
        plan = plan_catch_up(stored_span(session, today).newest, today, max_catch_up)
    on_plan(plan)
    stored: list[Summary] = []
    if plan.start is not None and plan.end is not None:
        for summary in store_days(session, shop, plan.start, plan.end):
            stored.append(summary)
            on_stored(summary)
    # On an error we leave the lock alone: it dies with the connection.
    release_lock(session)
    return Run(plan, tuple(stored))


_HISTORY = text(
    """
    SELECT report_date AS date, time_zone, total_orders, total_products,
           ROUND(total_value, 2) AS total_value,
           average_products_per_order, average_order_value, generated_at
    FROM orderreport.daily_reports
    WHERE time_zone = current_setting('TimeZone')
      AND (CAST(:start AS date) IS NULL OR report_date >= CAST(:start AS date))
      AND (CAST(:end AS date) IS NULL OR report_date <= CAST(:end AS date))
    ORDER BY report_date
    """
).bindparams(bindparam("start", type_=Date), bindparam("end", type_=Date))


def history(session: Session, start: date | None, end: date | None) -> list[StoredReport]:
    """Stored reports of the session's zone between start and end (None: unbounded), by day."""
    rows = session.execute(_HISTORY, {"start": start, "end": end})
    return [StoredReport(**row._asdict()) for row in rows]


@dataclass(frozen=True)
class Status:
    """Health of an installation; `healthy` is what a monitoring probe checks."""

    database: str
    schema_revision: str | None
    head_revision: str
    shop_schema: str | None
    money_type: str | None
    money_read_as: str | None
    created_at_type: str | None
    created_at_read_as: str | None
    undated_orders: int | None  # orders with no created_at: in no report
    time_zone: str
    oldest_report: date | None
    newest_report: date | None
    lag_days: int | None  # days between the newest stored report and yesterday
    missing_days: int | None  # days up to yesterday, since the oldest report, not stored
    max_lag: int
    healthy: bool
    problem: str | None


STATUS_FIELDS = (
    "database",
    "schema_revision",
    "head_revision",
    "shop_schema",
    "money_type",
    "money_read_as",
    "created_at_type",
    "created_at_read_as",
    "undated_orders",
    "time_zone",
    "oldest_report",
    "newest_report",
    "lag_days",
    "missing_days",
    "max_lag",
    "healthy",
    "problem",
)


def status(
    session: Session,
    shop: Shop | None,
    *,
    shop_problem: str | None,
    database: str,
    tz: str,
    today: date,
    max_lag: int,
) -> Status:
    """Check the shop, the schema revision against head, and the stored reports.

    `shop` is None when it could not be found (`shop_problem` says why, e.g. `orders` in
    several schemas and none configured). Unhealthy then, and when the schema is not at
    head or the view was built for other settings, nothing is stored, the newest report is
    more than `max_lag` days before yesterday, or days older than that are missing (a gap
    that a bounded catch-up left behind).
    """
    conn = session.connection()
    revision = db.schema_revision(conn)
    head = db.SCHEMA_HEAD
    view_ok = shop is not None and schema.view_comment(conn) == shop.fingerprint()
    # behind head, daily_reports may not exist yet: there is nothing to count
    span = stored_span(session, today) if revision == head else StoredSpan(None, None, 0)
    oldest, newest, count = span.oldest, span.newest, span.days
    yesterday = today - timedelta(days=1)
    lag = None if newest is None else (yesterday - newest).days
    missing = None if oldest is None else (yesterday - oldest).days + 1 - count
    undated = schema.undated_orders(conn, shop) if shop is not None and shop.exists else None
    problem: str | None = None
    if shop is None:
        problem = shop_problem or "the shop's tables were not found"
    elif revision != head:
        problem = f"schema at {revision or 'nothing'}, head is {head}: run `orderreport migrate`"
    elif not view_ok:
        problem = "the order_reports view was built for other settings: run `orderreport migrate`"
    elif newest is None or oldest is None or lag is None or missing is None:
        problem = "no stored reports yet: run `orderreport daily`"
    elif lag > max_lag:
        problem = f"stored reports lag {lag} days (more than --max-lag {max_lag})"
    elif missing > lag:
        problem = (
            f"{missing - lag} days between {oldest} and {newest} are not stored: "
            f"run `orderreport daily --from {oldest} --to {newest}`"
        )
    return Status(
        database=database,
        schema_revision=revision,
        head_revision=head,
        shop_schema=shop.schema if shop is not None else None,
        money_type=shop.money_type if shop is not None else None,
        money_read_as=shop.money_reading() if shop is not None and shop.exists else None,
        created_at_type=shop.created_at_type if shop is not None else None,
        created_at_read_as=shop.timestamp_reading() if shop is not None and shop.exists else None,
        undated_orders=undated,
        time_zone=tz,
        oldest_report=oldest,
        newest_report=newest,
        lag_days=lag,
        missing_days=missing,
        max_lag=max_lag,
        healthy=problem is None,
        problem=problem,
    )
