"""The command line: parse, call the core, render. No SQL, no process runtime (entry.py).

Annotations are evaluated where they are written (no `from __future__ import annotations`):
Typer reads every command's, and evaluating them from strings at each start costs
milliseconds; the two names only type checking imports are quoted.
"""

import contextlib
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import typer

from orderreport.cli import console, notes, params
from orderreport.cli.console import say
from orderreport.cli.dates import parse_bounds, resolve_range, today_in
from orderreport.cli.params import shared
from orderreport.clock import now_utc
from orderreport.config.settings import (
    DEFAULT_LIST,
    DEFAULT_MAX_CATCH_UP,
    DEFAULT_RESTATE,
    Settings,
)
from orderreport.errors import Differs, UsageError
from orderreport.render import records
from orderreport.render.records import DigestFormat, Format

if TYPE_CHECKING:
    from orderreport.reports import daily
    from orderreport.reports.digest import Digest

__all__ = ["app", "invoke"]  # the root (root.py), its commands registered here

# The core (SQLAlchemy, psycopg, Alembic, Rich's progress bar) is imported by the commands
# that use it, in the command: `--help`, `--version` and completion load none of it.

from orderreport.cli.root import app as app
from orderreport.cli.root import invoke as invoke


@app.command(short_help="Add orderreport's view, table and indexes to the shop's database.")
@shared(settings="lazy")
def migrate(
    *,
    load_settings: Callable[[], Settings],
    fmt: Format,
    sql: params.SqlFlag = False,
    plan: params.PlanFlag = False,
    adopt: params.AdoptFlag = False,
    build_indexes: params.BuildIndexesFlag = False,
) -> None:
    """Add what the reports need to the shop's database, and nothing more.

    Always: schema `orderreport` with the order_reports view (built from the shop's
    source), daily_reports, the run log and orderreport's own version table. On a shop of
    a platform (Saleor, Solidus, Oscar, Vendure, Medusa, a mapping or a query) nothing
    else: a missing index is advised by --plan and built only with --build-indexes. On the
    old service's own schema also orders.created_at/updated_at if missing and two indexes
    (CONCURRENTLY). The shop's tables are never rewritten, retyped or dropped. Only a
    database with no tables at all gets an (empty) shop; one with tables but no shop
    orderreport can read is refused, and nothing is created.

    Safe to run from several processes at once: an advisory lock makes each revision apply once.

    Example: orderreport migrate --plan --database-url postgresql://report@db/shop

    Example: orderreport migrate --shop-schema shop --naive-tz Europe/Moscow

    Example: orderreport migrate --platform saleor --plan
    """
    from orderreport import schema
    from orderreport.schema import migrate as migration

    if sql:
        say("-- the DDL for an EMPTY database; for a shop's own, see `orderreport migrate --plan`")
        migration.migration_sql(sys.stdout)
        return
    settings = load_settings()
    if plan:
        steps = migration.migration_plan(settings, build_indexes=build_indexes)
        records.render(steps, schema.PLAN_FIELDS, fmt, sys.stdout, title="migrate --plan")
        return
    result = migration.migrate(settings, adopt=adopt, build_indexes=build_indexes)
    if result.shop is not None:
        say(f"the shop: {result.shop}")
    for note in result.notes:
        say(note)
    if result.applied:
        say(
            f"migrated {settings.describe_database()} from {result.start or 'empty'} "
            f"to {result.end} ({len(result.applied)} revisions)"
        )
    elif not result.notes:
        say(f"{settings.describe_database()} is already at {result.end} (head); nothing to do")


@app.command(name="demo", short_help="Load a sample shop into an empty database.")
@shared()
def demo_cmd(
    *,
    settings: Settings,
    fmt: Format,
    days: params.DemoDays = 90,
    orders_per_day: params.OrdersPerDay = 200,
    seed: params.SeedOpt = 42,
) -> None:
    """Load a deterministic sample shop into an EMPTY database, then store its daily reports.

    Refuses (exit 1) when the database already has orders: sample data never reaches a real shop.

    Example: orderreport demo --days 30 --orders-per-day 500 --tz Europe/Moscow
    """
    from orderreport import jobs as job
    from orderreport.reports import queries

    _loaded, stored = job.demo(
        settings,
        today=today_in(settings.tz, now_utc()),
        days=days,
        orders_per_day=orders_per_day,
        seed=seed,
        events=job.Events(progress=say, loading=lambda: console.progress("demo shop", total=days)),
    )
    last = [s for s in stored if s.date == stored[-1].date]
    records.render(
        last,
        queries.SUMMARY_FIELDS,
        fmt,
        sys.stdout,
        single=len(last) == 1,
        title=f"Summary {stored[-1].date} ({settings.tz})",
    )


@app.command(short_help="Per-order rows of a day, a range or all days.")
@shared(dates=True)
def report(
    *, settings: Settings, fmt: Format, dates: params.Dates, all_days: params.AllFlag = False
) -> None:
    """Per-order rows: report_at, order_id, count_product, total_amount (default: yesterday).

    Example: orderreport report --date 2025-12-16 --tz Europe/Moscow --format csv > day.csv
    """
    from orderreport.reports import queries, session

    span = dates.span(today_in(settings.tz, now_utc()), all_days=all_days)
    first, last = span or (None, None)
    with session.shop_session(settings) as (conn, shop):
        if fmt.value in queries.COPY_FORMATS:  # PostgreSQL writes them itself: COPY
            # closed before the session ends: a COPY cut short (a reader gone) must be
            # finished before the connection can roll back
            with contextlib.closing(
                queries.copy_report(conn, shop, first, last, fmt.value)
            ) as blocks:
                lines = records.write_blocks(blocks, sys.stdout, crlf=fmt is Format.csv)
            count = lines - (1 if fmt is Format.csv else 0)
        else:
            counted = notes.Counting(queries.report_rows(conn, shop, first, last))
            records.render(
                counted,
                queries.REPORT_FIELDS,
                fmt,
                sys.stdout,
                title=notes.title("Orders", span, settings.tz),
            )
            count = counted.count
    if count == 0:
        say(f"no orders {notes.span_text(span)} ({settings.tz})")


@app.command(short_help="A day's totals and averages, or one per day of a range.")
@shared(dates=True)
def summary(*, settings: Settings, fmt: Format, dates: params.Dates) -> None:
    """The day's totals and averages (default: yesterday); with --from/--to one row per day.

    Example: orderreport summary --from 2025-12-01 --to 2025-12-31 --json
    """
    from orderreport.reports import queries, session

    span = dates.span(today_in(settings.tz, now_utc()))
    assert span is not None
    one_day = dates.day is not None or dates.start is None
    with session.shop_session(settings) as (conn, shop):
        days = queries.summaries(conn, shop, *span)
        total = (
            None if one_day or fmt is not Format.table else queries.range_total(conn, shop, *span)
        )
    if one_day and all(d.total_orders == 0 for d in days):
        say(f"no orders on {days[0].date} ({settings.tz})")
    records.render(
        days,
        queries.SUMMARY_FIELDS,
        fmt,
        sys.stdout,
        # a shop with a currency column gets an array even for one day (see Shop.per_currency)
        single=one_day and not shop.per_currency,
        title=notes.title("Summary", span, settings.tz),
        footer=notes.total_rows(total),
    )


@app.command(name="daily", short_help="Store daily summaries since the last run (cron job).")
@shared(dates=True)
def daily_cmd(
    *,
    settings: Settings,
    fmt: Format,
    dates: params.Dates,
    max_catch_up: params.MaxCatchUp = DEFAULT_MAX_CATCH_UP,
    restate: params.RestateOpt = DEFAULT_RESTATE,
    wait: params.WaitOpt = 0,
    metrics_file: params.MetricsFile = None,
    digest_format: params.DigestOpt = None,
    webhook: params.WebhookOpt = None,
    notify: params.NotifyOpt = None,
    pushgateway: params.PushgatewayOpt = None,
) -> None:
    """Store daily summaries: every day since the newest stored one, up to yesterday.

    Run it just after midnight from cron, a systemd timer or a Kubernetes CronJob. It never
    overlaps another run (exit 75 if one holds the lock) and reruns replace rows. Each run
    also restates the newest --restate stored days, replacing those whose figures changed
    (an order committed after its day was stored, an edit, a refund), and records itself in
    the run log (`orderreport runs`).

    Example: orderreport daily --metrics-file /var/lib/prometheus/node-exporter/orderreport.prom

    Example: orderreport daily --from 2025-12-01 --to 2025-12-31

    Example: orderreport daily --notify 'mailtos://user:pass@smtp.example.com?to=owner@shop.example'
    """
    from orderreport import jobs as job
    from orderreport.reports import queries

    today = today_in(settings.tz, now_utc())
    span = dates.span(today) if dates.given else None

    def digest(found: "Digest") -> None:
        assert digest_format is not None
        sys.stdout.write(notes.digest_text(found, digest_format))

    def stored(run: "daily.Run") -> None:
        if run.stored and digest_format is None:  # else the digest went instead
            records.render(
                run.stored, queries.SUMMARY_FIELDS, fmt, sys.stdout, title="Stored reports"
            )

    job.daily(
        settings,
        today=today,
        span=span,
        max_catch_up=max_catch_up,
        restate=restate,
        wait=wait,
        webhook=webhook,
        notify=tuple(notify) if notify else settings.notify,
        metrics_file=metrics_file,
        pushgateway=pushgateway,
        events=job.Events(
            progress=console.stamp,
            warning=say,
            digest=digest if digest_format is not None else None,
            stored=stored,
        ),
    )


@app.command(
    name="digest", short_help="How yesterday went, per currency, beside the days to compare with."
)
@shared(formats=None)
def digest_cmd(
    *,
    settings: Settings,
    day: params.DateOpt = None,
    fmt: params.DigestFmt = DigestFormat.text,
    notify: params.NotifyOpt = None,
) -> None:
    """The morning report: the day's orders, lines, value and averages per currency (default
    yesterday), each beside the day before, the same weekday a week before and that
    weekday's mean over the four weeks before, with the change. Read from the stored
    reports; a day not stored is computed live and marked so. Writes nothing.

    Example: orderreport digest --format html > yesterday.html

    Example: orderreport digest --date 2025-12-16 --format markdown

    Example: orderreport digest --notify 'mailto://127.0.0.1:2525?from=r@shop.example&to=o@shop.example'
    """
    from orderreport.reports import digest as digest_mod
    from orderreport.reports import session

    today = today_in(settings.tz, now_utc())
    span = resolve_range(day=day, start=None, end=None, today=today)
    assert span is not None
    if span[0] >= today:
        say(f"{span[0]} is not over yet in {settings.tz}: its figures will still change")
    with session.shop_session(settings, read_only=True) as (conn, shop):
        found = digest_mod.digest(conn, shop, span[0], tz=settings.tz)
    sys.stdout.write(notes.digest_text(found, fmt))
    urls = tuple(notify) if notify else settings.notify
    if urls:  # sent now; stdout is as without it, a failed send a warning
        from orderreport import jobs as job

        sys.stdout.flush()
        for warning in job.send_digest(found, urls):
            say(warning)


@app.command(name="verify", short_help="Compare stored reports with live data; writes nothing.")
@shared(dates=True)
def verify_cmd(*, settings: Settings, fmt: Format, dates: params.Dates) -> None:
    """Recompute stored days from the live data and compare them, figure by figure.

    Prints every figure that differs (date, zone, field, stored, live) and exits 1 if any
    does, naming the command that re-stores those days. Default: every stored day of the
    zone. It writes nothing (its transactions are read-only): run it weekly from cron, or
    as a probe.

    Example: orderreport verify --from 2025-12-01 --to 2025-12-31 --format csv
    """
    from orderreport.reports import session, verify

    today = today_in(settings.tz, now_utc())
    bounds: tuple[date | None, date | None]
    if dates.day is not None:
        one = dates.span(today)  # refuses --from too
        assert one is not None
        bounds = one
    else:
        bounds = parse_bounds(dates.start, dates.end, today)
    with session.shop_session(settings, read_only=True) as (conn, shop):
        found = verify.verify(conn, shop, *bounds, today)
    records.render(
        found.differences,
        verify.DIFFERENCE_FIELDS,
        fmt,
        sys.stdout,
        title=f"Stored reports that differ from the live data ({settings.tz})",
    )
    if found.first is None or found.last is None:
        say(f"no stored reports to verify ({settings.tz}): run `orderreport daily`")
        return
    days = found.differing_days
    if not days:
        say(f"verified {found.days} stored day(s) {found.first} to {found.last}: all match")
        return
    again = f"--date {days[0]}" if len(days) == 1 else f"--from {days[0]} --to {days[-1]}"
    raise Differs(
        f"{len(days)} of {found.days} stored day(s) differ from the live data: "
        f"re-store them with `orderreport daily {again}`"
    )


@app.command(name="runs", short_help="The daily job's recent runs, newest first.")
@shared()
def runs_cmd(*, settings: Settings, fmt: Format, limit: params.LimitOpt = DEFAULT_LIST) -> None:
    """The run log: each `orderreport daily` of every zone, newest first, with its outcome.

    A run whose process died without a word (SIGKILL, a lost machine) shows as unfinished;
    a run still going, as running. Times are in the shop's zone (--tz).

    Example: orderreport runs --limit 5 --json
    """
    from orderreport import db
    from orderreport.reports import runs

    with db.session(settings) as conn:
        found = runs.recent(conn, limit)
    if not found:
        say("no daily runs recorded yet: run `orderreport daily`")
    if fmt is Format.table:
        records.write_rich_table(
            found,
            runs.RUN_TABLE_FIELDS,
            records.make_console(sys.stdout),
            title=f"orderreport daily runs ({settings.tz})",
            row_style=notes.run_style,
            # what a person needs whole at 80 columns; --json has every field
            essential=("id", "started_at", "status", "exit_code", "days_stored"),
        )
        return
    records.render(found, runs.RUN_FIELDS, fmt, sys.stdout)


@app.command(short_help="The stored daily reports, with a chart.")
@shared(formats=params.HISTORY_FORMATS)
def history(
    *, settings: Settings, fmt: Format, start: params.FromOpt = None, end: params.ToOpt = None
) -> None:
    """The stored daily reports of the shop's zone; in a table, with a chart of total value
    per currency; --format html: one self-contained page with the same chart.

    Example: orderreport history --from 2025-12-01 --format csv
    """
    from orderreport.reports import daily, session

    bounds = parse_bounds(start, end, today_in(settings.tz, now_utc()))
    with session.shop_session(settings) as (conn, _shop):
        rows = daily.history(conn, *bounds)
    if not rows:
        say(f"no stored reports ({settings.tz}): run `orderreport daily`")
    if fmt is Format.html:
        from orderreport.render import html as html_render

        sys.stdout.write(html_render.history_html(rows, f"Stored reports ({settings.tz})"))
        return
    records.render(
        rows,
        daily.HISTORY_FIELDS,
        fmt,
        sys.stdout,
        title=f"Stored reports ({settings.tz})",
    )
    if fmt is Format.table and rows:
        table = records.make_console(sys.stdout)
        for currency in sorted({r.currency or "" for r in rows}):  # never one chart across
            records.bar_chart(
                [(r.date, r.total_value) for r in rows if (r.currency or "") == currency],
                table,
                title=f"Total value per day{' (' + currency + ')' if currency else ''}",
            )


@app.command(short_help="The GRANT statements a reporting role or the daily job's role needs.")
@shared(settings="lazy", formats=None)
def grants(
    *,
    load_settings: Callable[[], Settings],
    reports: params.ReportsRole = None,
    job: params.JobRole = None,
) -> None:
    """Print the exact GRANT statements, for this database and its shop's source, that give
    ROLE what its commands need and nothing more; the database's owner runs them (psql -f).
    Nothing is granted by orderreport itself.

    Example: orderreport grants --reports analyst | psql "$OWNER_URL"

    Example: orderreport grants --job orderreport_job --platform saleor
    """
    from orderreport.reports import grants as grants_mod
    from orderreport.reports import session

    if (reports is None) == (job is None):
        raise UsageError("say whose grants to print: --reports ROLE or --job ROLE (one of them)")
    role, kind = (reports, grants_mod.REPORTS) if reports is not None else (job, grants_mod.JOB)
    assert role is not None
    settings = load_settings()
    # not read-only: a query source's relations are found through a temporary view
    # (grants.statements rolls it back)
    with session.shop_session(settings) as (conn, shop):
        lines = grants_mod.statements(conn, shop, role, kind)
    sys.stdout.write("".join(line + "\n" for line in lines))


@app.command(short_help="The shop platforms orderreport reads out of the box.")
@shared(settings="lazy")
def platforms(
    *, load_settings: Callable[[], Settings], fmt: Format, name: params.PlatformName = None
) -> None:
    """List the presets, or print one: a `[source]` table to copy into the config file and
    adapt for a shop that differs (another status list, another schema). With a database
    configured (--database-url, the environment or the config file), also say on stderr
    which one it holds.

    Example: orderreport platforms

    Example: orderreport platforms --database-url postgresql://report@db/shop

    Example: orderreport platforms saleor >> ~/.config/orderreport/config.toml
    """
    from orderreport import shop as shop_mod
    from orderreport.config import sources

    if name is not None:
        sys.stdout.write(sources.preset_text(name))
    else:
        catalogue = sources.catalogue()
        records.render(catalogue, sources.CATALOGUE_FIELDS, fmt, sys.stdout, title="Platforms")
    settings = load_settings()
    if not settings.embedded:  # never starts the embedded server only to look
        from orderreport import db

        with db.connect(settings) as conn:
            found = shop_mod.find(conn, settings)
        held = f"{found.source.describe()} ({found.found_by})" if found.exists else "no shop"
        say(f"{settings.describe_database()} holds {held}")


@app.command(short_help="Health probe: schema and stored-report lag.")
@shared(formats=params.STATUS_FORMATS)
def status(*, settings: Settings, fmt: Format, max_lag: params.MaxLag = 1) -> None:
    """Health: database, schema revision against head, stored reports, lag, gaps, last run.

    Exit 0 when healthy; 1 when the schema is not at head, the last daily run failed or
    never finished, reports lag more than --max-lag days behind yesterday, or older days
    are missing, so it can serve as a monitoring probe. --format prometheus prints the
    figures as Prometheus metrics (for a scrape or a node_exporter textfile).

    Example: orderreport status --max-lag 1 --json

    Example: orderreport status --format prometheus
    """
    from orderreport import db
    from orderreport import shop as shop_mod
    from orderreport.deliver import metrics
    from orderreport.reports import health

    with db.session(settings) as conn:
        shop, shop_problem = shop_mod.try_find(conn, settings)
        result = health.status(
            conn,
            shop,
            shop_problem=shop_problem,
            database=settings.describe_database(),
            tz=settings.tz,
            today=today_in(settings.tz, now_utc()),
            max_lag=max_lag,
        )
    if fmt is Format.prometheus:
        sys.stdout.write(metrics.health_exposition(health.health_figures(result)))
    else:
        records.render(
            [result], health.STATUS_FIELDS, fmt, sys.stdout, single=True, title="orderreport status"
        )
    if result.writable_schemas:
        say(
            f"warning: roles other than the owner may create objects in {result.writable_schemas}: "
            "orderreport's own sessions never run them, other sessions might "
            "(REVOKE CREATE ON SCHEMA … FROM PUBLIC)"
        )
    if not result.healthy:
        say(f"unhealthy: {result.problem}")
        raise typer.Exit(1)
