"""The health status: what `status` checks, and its figures for Prometheus.

"today" is a parameter, as everywhere below the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from orderreport import db, objects, schema
from orderreport import shop as shop_mod
from orderreport.columns import fields_of, header
from orderreport.deliver.metrics import HealthFigures
from orderreport.reports import runs
from orderreport.reports.daily import StoredSpan, stored_span
from orderreport.reports.runs import RunRecord
from orderreport.shop import Shop, checks


@dataclass(frozen=True)
class Status:
    """Health of an installation; `healthy` is what a monitoring probe checks."""

    database: str
    schema_revision: str | None
    head_revision: str
    shop_schema: str | None
    platform: str | None  # the source: a preset's name, "mapping" or "query"
    orders: str | None  # schema.relation of the orders, and of the lines with their key
    lines: str | None
    placed_at: str | None
    amount: str | None
    currency: str | None = field(metadata=header("cur"))  # how the currency is read
    counts: str | None  # which orders count
    missing_indexes: str | None  # the CREATE INDEX statements a day's report lacks
    whole_reads: str | None  # relations a day reads every row of, and what to do
    # schemas orderreport reads that roles other than their owner may create objects in
    writable_schemas: str | None
    money_type: str | None
    money_read_as: str | None
    created_at_type: str | None
    created_at_read_as: str | None
    undated_orders: int | None  # orders with no created_at: in no report
    orders_without_amount: int | None  # orders that count with no amount: worth 0
    time_zone: str = field(metadata=header("zone"))
    oldest_report: date | None
    newest_report: date | None
    lag_days: int | None  # days between the newest stored report and yesterday
    missing_days: int | None  # days up to yesterday, since the oldest report, not stored
    max_lag: int
    last_run_id: int | None  # the zone's last daily run that was not busy (runs.last)
    last_run_status: str | None
    last_run_started: datetime | None
    last_run_finished: datetime | None
    last_run_exit_code: int | None
    last_run_host: str | None
    healthy: bool
    problem: str | None


STATUS_FIELDS = fields_of(Status)


def status(
    conn: psycopg.Connection[Any],
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
    head or the view was built for other settings, the zone's last daily run (busy runs
    aside) failed or never finished, nothing is stored, the newest report is more than
    `max_lag` days before yesterday, or days older than that are missing (a gap that a
    bounded catch-up left behind).
    """
    revision = db.schema_revision(conn)
    head = objects.SCHEMA_HEAD
    view_ok = shop is not None and schema.view_comment(conn) == shop.fingerprint()
    # behind head, daily_reports may not exist yet: there is nothing to count
    span = stored_span(conn, today) if revision == head else StoredSpan(None, None, 0)
    last: RunRecord | None = runs.last(conn, tz) if revision == head else None
    oldest, newest, count = span.oldest, span.newest, span.days
    yesterday = today - timedelta(days=1)
    lag = None if newest is None else (yesterday - newest).days
    missing = None if oldest is None else (yesterday - oldest).days + 1 - count
    undated = checks.undated_orders(conn, shop) if shop is not None and shop.exists else None
    unpriced = (
        checks.orders_without_amount(conn, shop) if shop is not None and shop.exists else None
    )
    found = shop_mod.describe_source(shop) if shop is not None and shop.exists else {}
    whole = checks.unadvised_whole_reads(conn, shop) if shop is not None and shop.exists else []
    missing_indexes = (
        "; ".join(s.statement for s in checks.index_states(conn, shop) if s.usable is None)
        if shop is not None and shop.exists
        else None
    )
    foreign = shop_mod.foreign_relations(conn) if shop is not None and not shop.exists else []
    read = [objects.OUR_SCHEMA, *([shop.schema] if shop is not None and shop.schema else [])]
    writable = writable_schemas(conn, read)
    problem: str | None = None
    if shop is None:
        problem = shop_problem or "the shop's tables were not found"
    elif foreign:
        problem = (
            f"no shop orderreport can read (found {', '.join(foreign[:3])}): "
            "say what it is with --platform or a [source] table"
        )
    elif revision != head:
        problem = f"schema at {revision or 'nothing'}, head is {head}: run `orderreport migrate`"
    elif not view_ok:
        problem = "the order_reports view was built for other settings: run `orderreport migrate`"
    elif runs.problem(last) is not None:
        problem = runs.problem(last)
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
        platform=found.get("platform"),
        orders=found.get("orders"),
        lines=found.get("lines"),
        placed_at=found.get("placed_at"),
        amount=found.get("amount"),
        currency=found.get("currency"),
        counts=found.get("counts"),
        missing_indexes=missing_indexes or None,
        whole_reads="; ".join(shop_mod.whole_read_fix(shop, r) for r in whole if shop) or None,
        writable_schemas=", ".join(writable) or None,
        money_type=shop.money_type if shop is not None else None,
        money_read_as=shop.money_reading() if shop is not None and shop.exists else None,
        created_at_type=shop.created_at_type if shop is not None else None,
        created_at_read_as=shop.timestamp_reading() if shop is not None and shop.exists else None,
        undated_orders=undated,
        orders_without_amount=unpriced,
        time_zone=tz,
        oldest_report=oldest,
        newest_report=newest,
        lag_days=lag,
        missing_days=missing,
        max_lag=max_lag,
        last_run_id=last.id if last else None,
        last_run_status=last.status if last else None,
        last_run_started=last.started_at if last else None,
        last_run_finished=last.finished_at if last else None,
        last_run_exit_code=last.exit_code if last else None,
        last_run_host=last.host if last else None,
        healthy=problem is None,
        problem=problem,
    )


# CREATE on a schema held by anyone but its owner (grantee 0 is PUBLIC): such a role could
# plant objects there. Harmless to orderreport's sessions (their search path holds only
# the system's schemas), not to everyone else's.
_WRITABLE = """
    SELECT n.nspname || ' (' || string_agg(DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC'
           ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END, ', ') || ')'
    FROM pg_catalog.pg_namespace n,
         pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a
    WHERE n.nspname = ANY(%(schemas)s::text[]) AND a.privilege_type = 'CREATE'
      AND a.grantee <> n.nspowner
    GROUP BY n.nspname ORDER BY n.nspname
    """


def writable_schemas(conn: psycopg.Connection[Any], schemas: list[str]) -> list[str]:
    """Which of `schemas` roles other than their owner may create in, with those roles."""
    return [str(r) for (r,) in conn.execute(_WRITABLE, {"schemas": schemas})]


def health_figures(found: Status) -> HealthFigures:
    """The status as Prometheus figures (metrics.health_exposition)."""
    return HealthFigures(
        time_zone=found.time_zone,
        healthy=found.healthy,
        schema_at_head=found.schema_revision == found.head_revision,
        lag_days=found.lag_days,
        missing_days=found.missing_days,
        newest_report=found.newest_report,
        last_run_exit_code=found.last_run_exit_code,
        last_run_finished=found.last_run_finished,
    )
