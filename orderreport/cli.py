"""The command line: parse, call the core, render, map errors to exit codes. No SQL here."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import socket
import sys
import traceback
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO, cast

import typer

# typer vendors click: its usage errors, and the one raised for a bare `orderreport`
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from orderreport import __version__, defaults, options, output
from orderreport.config import Settings
from orderreport.dates import parse_bounds, resolve_range, today_in
from orderreport.errors import (
    EXIT_CODES,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    Differs,
    Incomplete,
    OrderReportError,
    OutputFailed,
    ReaderGone,
    Terminated,
    UsageError,
    exit_code_of,
)
from orderreport.options import (
    ConfigPath,
    DatabaseUrl,
    DateOpt,
    DigestOpt,
    Fmt,
    FromOpt,
    JsonFlag,
    LockTimeout,
    NaiveTz,
    PlatformOpt,
    ShopSchema,
    StatementTimeout,
    ToOpt,
    Tz,
    WebhookOpt,
    now_utc,
    pick_format,
    say,
    settings_from,
    stamp,
)
from orderreport.output import DigestFormat, Format

if TYPE_CHECKING:
    from orderreport import daily, metrics, queries, runs, verify
    from orderreport.digest import Digest
    from orderreport.pg import Connection
    from orderreport.shop import Shop

# The core (SQLAlchemy, psycopg, Alembic, Rich's progress bar) is imported by the commands
# that use it, in the command: `--help`, `--version` and completion load none of it.

# psycopg logs a failed rollback when our own signal interrupted its query; with no handler
# Python would print it as a second line on stderr. The one line of ours says what happened.
logging.getLogger("psycopg").addHandler(logging.NullHandler())

MESSAGE_LIMIT = 300  # characters of one error line: no value is echoed back in full
EXIT_CODES_HELP = "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES.items())
EXAMPLES = """\
  orderreport demo                          sample shop on the embedded database
  orderreport migrate                       apply the schema to the configured database
  orderreport report --date 2025-12-16      per-order rows of one day
  orderreport summary --from 2025-12-01     one summary per day up to yesterday
  orderreport daily                         store the days since the last run
  orderreport verify                        compare stored reports with live data
  orderreport runs                          the daily job's recent runs
  orderreport history --format csv          the stored daily reports
  orderreport digest --format html          how yesterday went, as one page
  orderreport status --max-lag 1            health probe: exit 1 when behind
  orderreport platforms saleor              the Saleor preset, to copy and adapt
  orderreport grants --reports analyst      the GRANTs a reporting role needs"""

app = typer.Typer(
    name="orderreport",
    help=(
        "Exact daily order reports from a shop's PostgreSQL database.\n\n"
        "Days are calendar days in the shop's time zone (--tz). With no database configured, "
        "orderreport runs its own embedded PostgreSQL.\n\n"
        f"\b\nExamples:\n{EXAMPLES}\n\n"
        f"\b\nExit codes:\n{EXIT_CODES_HELP}"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"orderreport {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Show the version and exit.",
            is_eager=True,
            callback=_version_callback,
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="More detail on stderr: the settings used, tracebacks of unexpected errors "
            "(never a password).",
        ),
    ] = False,
) -> None:
    """Exact daily order reports from a shop's PostgreSQL database."""
    options.set_verbose(verbose)


# -- commands ----------------------------------------------------------------------------
@app.command(short_help="Add orderreport's view, table and indexes to the shop's database.")
def migrate(
    sql: Annotated[
        bool, typer.Option("--sql", help="Print the DDL for an EMPTY database; touch none.")
    ] = False,
    plan: Annotated[
        bool, typer.Option("--plan", help="List what this database would get; change nothing.")
    ] = False,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="Take over an object in schema orderreport that orderreport did not create "
            "(a view is replaced, a daily_reports table kept).",
        ),
    ] = False,
    build_indexes: Annotated[
        bool,
        typer.Option(
            "--build-indexes",
            help="Also build, CONCURRENTLY, the indexes --plan advises on a platform's own "
            "tables (by default orderreport adds nothing to them).",
        ),
    ] = False,
    database_url: DatabaseUrl = None,
    tz: Tz = None,
    config: ConfigPath = None,
    shop_schema: ShopSchema = None,
    naive_tz: NaiveTz = None,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    platform: PlatformOpt = None,
    fmt: Fmt = Format.table,
    as_json: JsonFlag = False,
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
    from orderreport import migrate as migration
    from orderreport import schema

    fmt = pick_format(fmt, as_json)
    if sql:
        say("-- the DDL for an EMPTY database; for a shop's own, see `orderreport migrate --plan`")
        migration.migration_sql(sys.stdout)
        return
    settings = settings_from(
        database_url, tz, config, shop_schema, naive_tz, lock_timeout, statement_timeout, platform
    )
    fmt = pick_format(fmt, as_json)
    if plan:
        steps = migration.migration_plan(settings, build_indexes=build_indexes)
        output.render(steps, schema.PLAN_FIELDS, fmt, sys.stdout, title="migrate --plan")
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
def demo_cmd(
    days: Annotated[
        int, typer.Option(min=1, max=3650, help="Days of orders, ending yesterday.")
    ] = 90,
    orders_per_day: Annotated[
        int, typer.Option(min=0, max=1_000_000, help="Orders per day.")
    ] = 200,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same shop.")] = 42,
    database_url: DatabaseUrl = None,
    tz: Tz = None,
    config: ConfigPath = None,
    shop_schema: ShopSchema = None,
    naive_tz: NaiveTz = None,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    platform: PlatformOpt = None,
    fmt: Fmt = Format.table,
    as_json: JsonFlag = False,
) -> None:
    """Load a deterministic sample shop into an EMPTY database, then store its daily reports.

    Refuses (exit 1) when the database already has orders: sample data never reaches a real shop.

    Example: orderreport demo --days 30 --orders-per-day 500 --tz Europe/Moscow
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from orderreport import daily, db, demo, queries
    from orderreport import migrate as migration

    settings = settings_from(
        database_url, tz, config, shop_schema, naive_tz, lock_timeout, statement_timeout, platform
    )
    fmt = pick_format(fmt, as_json)
    today = today_in(settings.tz, now_utc())
    with db.connect(settings) as conn:
        demo.refuse_unless_empty(conn)
    migration.migrate(settings)
    with db.shop_session(settings) as (sess, shop):
        with Progress(
            TextColumn("loading {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=options.err,
            transient=True,
            disable=not options.err.is_terminal,  # a bar in a log file is noise (and a blank line)
        ) as bar:
            task = bar.add_task("demo shop", total=days)
            loaded = demo.load_demo(
                sess,
                shop,
                today=today,
                days=days,
                orders_per_day=orders_per_day,
                seed=seed,
                progress=lambda d: bar.update(task, advance=1, description=d.isoformat()),
            )
        demo.settle(sess, shop)  # commits the load first
        say(
            f"loaded {loaded.orders:,} orders ({loaded.order_items:,} lines) from "
            f"{loaded.start} to {loaded.end} for {loaded.users} users and {loaded.products} "
            f"products into {settings.describe_database()}"
        )
        stored = daily.run(
            sess,
            shop,
            tz=settings.tz,
            today=today,
            span=(loaded.start, loaded.end),
            wait_seconds=60,
        ).stored
        days_stored = (loaded.end - loaded.start).days + 1
        say(f"stored {days_stored} daily reports ({settings.tz}); yesterday's summary:")
    last = [s for s in stored if s.date == stored[-1].date]
    output.render(
        last,
        queries.SUMMARY_FIELDS,
        fmt,
        sys.stdout,
        single=len(last) == 1,
        title=f"Summary {stored[-1].date} ({settings.tz})",
    )


@app.command(short_help="Per-order rows of a day, a range or all days.")
def report(
    day: DateOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    all_days: Annotated[bool, typer.Option("--all", help="Every order, newest day first.")] = False,
    database_url: DatabaseUrl = None,
    tz: Tz = None,
    config: ConfigPath = None,
    shop_schema: ShopSchema = None,
    naive_tz: NaiveTz = None,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    platform: PlatformOpt = None,
    fmt: Fmt = Format.table,
    as_json: JsonFlag = False,
) -> None:
    """Per-order rows: report_at, order_id, count_product, total_amount (default: yesterday).

    Example: orderreport report --date 2025-12-16 --tz Europe/Moscow --format csv > day.csv
    """
    from orderreport import db, queries

    settings = settings_from(
        database_url, tz, config, shop_schema, naive_tz, lock_timeout, statement_timeout, platform
    )
    fmt = pick_format(fmt, as_json)
    span = resolve_range(
        day=day, start=start, end=end, all_days=all_days, today=today_in(settings.tz, now_utc())
    )
    first, last = span or (None, None)
    with db.shop_session(settings) as (sess, shop):
        if fmt.value in queries.COPY_FORMATS:  # PostgreSQL writes them itself: COPY
            # closed before the session ends: a COPY cut short (a reader gone) must be
            # finished before the connection can roll back
            with contextlib.closing(
                queries.copy_report(sess, shop, first, last, fmt.value)
            ) as blocks:
                lines = output.write_blocks(blocks, sys.stdout, crlf=fmt is Format.csv)
            count = lines - (1 if fmt is Format.csv else 0)
        else:
            counted = _counting(queries.report_rows(sess, shop, first, last))
            output.render(
                counted,
                queries.REPORT_FIELDS,
                fmt,
                sys.stdout,
                title=_title("Orders", span, settings.tz),
            )
            count = counted.count
    if count == 0:
        say(f"no orders {_span_text(span)} ({settings.tz})")


@app.command(short_help="A day's totals and averages, or one per day of a range.")
def summary(
    day: DateOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    database_url: DatabaseUrl = None,
    tz: Tz = None,
    config: ConfigPath = None,
    shop_schema: ShopSchema = None,
    naive_tz: NaiveTz = None,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    platform: PlatformOpt = None,
    fmt: Fmt = Format.table,
    as_json: JsonFlag = False,
) -> None:
    """The day's totals and averages (default: yesterday); with --from/--to one row per day.

    Example: orderreport summary --from 2025-12-01 --to 2025-12-31 --json
    """
    from orderreport import db, queries

    settings = settings_from(
        database_url, tz, config, shop_schema, naive_tz, lock_timeout, statement_timeout, platform
    )
    fmt = pick_format(fmt, as_json)
    span = resolve_range(day=day, start=start, end=end, today=today_in(settings.tz, now_utc()))
    assert span is not None
    one_day = day is not None or start is None
    with db.shop_session(settings) as (sess, shop):
        days = queries.summaries(sess, shop, *span)
        total = (
            None if one_day or fmt is not Format.table else queries.range_total(sess, shop, *span)
        )
    if one_day and all(d.total_orders == 0 for d in days):
        say(f"no orders on {days[0].date} ({settings.tz})")
    output.render(
        days,
        queries.SUMMARY_FIELDS,
        fmt,
        sys.stdout,
        # a shop with a currency column gets an array even for one day (see Shop.per_currency)
        single=one_day and not shop.per_currency,
        title=_title("Summary", span, settings.tz),
        footer=_total_rows(total),
    )


@app.command(name="daily", short_help="Store daily summaries since the last run (cron job).")
def daily_cmd(
    day: DateOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    max_catch_up: Annotated[int, typer.Option(min=1, help="Most days one run catches up.")] = (
        defaults.DEFAULT_MAX_CATCH_UP
    ),
    restate: Annotated[
        int,
        typer.Option(
            min=0,
            max=defaults.MAX_RESTATE,
            metavar="DAYS",
            help="Also recompute this many of the newest stored days and replace those "
            "whose figures changed: late commits, edits, refunds (0: none).",
        ),
    ] = defaults.DEFAULT_RESTATE,
    wait: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for a running job's lock (0: don't wait).")
    ] = 0,
    metrics_file: Annotated[
        Path | None,
        typer.Option(
            "--metrics-file",
            metavar="FILE",
            help="Write the run's metrics to FILE, atomically, whatever the outcome "
            "(node_exporter textfile collector: name it *.prom in its folder).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    digest_format: DigestOpt = None,
    webhook: WebhookOpt = None,
    pushgateway: Annotated[
        str | None,
        typer.Option(
            "--pushgateway",
            metavar="URL",
            help="Push the run's metrics to this Prometheus Pushgateway, grouped by job and "
            "zone (for CronJobs); a failed push is a warning, not a failed run.",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    tz: Tz = None,
    config: ConfigPath = None,
    shop_schema: ShopSchema = None,
    naive_tz: NaiveTz = None,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    platform: PlatformOpt = None,
    fmt: Fmt = Format.table,
    as_json: JsonFlag = False,
) -> None:
    """Store daily summaries: every day since the newest stored one, up to yesterday.

    Run it just after midnight from cron, a systemd timer or a Kubernetes CronJob. It never
    overlaps another run (exit 75 if one holds the lock) and reruns replace rows. Each run
    also restates the newest --restate stored days, replacing those whose figures changed
    (an order committed after its day was stored, an edit, a refund), and records itself in
    the run log (`orderreport runs`).

    Example: orderreport daily --metrics-file /var/lib/prometheus/node-exporter/orderreport.prom

    Example: orderreport daily --from 2025-12-01 --to 2025-12-31
    """
    from orderreport import daily, runs

    settings = settings_from(
        database_url, tz, config, shop_schema, naive_tz, lock_timeout, statement_timeout, platform
    )
    fmt = pick_format(fmt, as_json)
    today = today_in(settings.tz, now_utc())
    explicit = day is not None or start is not None or end is not None
    span = resolve_range(day=day, start=start, end=end, today=today) if explicit else None
    if span is not None:
        daily.require_complete(span[1], today, settings.tz)  # bad input is not a run
    progress = runs.Progress()
    started, code = now_utc(), EXIT_OK
    try:
        if webhook is not None:  # a secret, like a password: never shown whole
            options.add_secret(webhook, webhook_mask(webhook))
        _logged_daily(
            settings,
            today,
            span,
            progress,
            fmt,
            max_catch_up,
            restate,
            wait,
            (digest_format, webhook),
        )
    except BaseException as exc:
        code = exit_code_of(exc)
        raise
    finally:
        figures = daily.run_figures(
            time_zone=settings.tz,
            started=started,
            finished=now_utc(),
            exit_code=code,
            progress=progress,
            today=today,
        )
        _export_metrics(figures, metrics_file, pushgateway)


def _logged_daily(
    settings: Settings,
    today: date,
    span: tuple[date, date] | None,
    progress: runs.Progress,
    fmt: Format,
    max_catch_up: int,
    restate: int,
    wait: float,
    delivery: tuple[DigestFormat | None, str | None] = (None, None),
) -> None:
    """daily.run on the configured database and its output, recorded in the run log from
    connect to end: a gap it leaves is a failed run there too. `delivery`: the format to
    print yesterday's digest in (instead of the stored rows) and a webhook to post it to."""
    from orderreport import daily, db, runs

    with (
        db.session(settings) as sess,
        runs.recorded(
            sess,
            progress,
            time_zone=settings.tz,
            span=span,
            host=socket.gethostname(),
            pid=os.getpid(),
            version=__version__,
        ) as run_id,
    ):
        shop = db.checked_shop(sess, settings)
        result = daily.run(
            sess,
            shop,
            tz=settings.tz,
            today=today,
            span=span,
            max_catch_up=max_catch_up,
            restate=restate,
            wait_seconds=wait,
            run_id=run_id,
            progress=progress,
            on_plan=_say_plan,
            on_stored=_say_stored,
            on_changed=_say_changed,
        )
        digest_format, webhook = delivery
        if digest_format is not None or webhook is not None:
            warning = _deliver(sess, shop, settings.tz, today, digest_format, webhook)
            if warning is not None:
                say(warning)
                runs.warn(sess, run_id, warning)
        _finish_daily(result, fmt, max_catch_up, quiet=digest_format is not None)


def _deliver(
    sess: Connection,
    shop: Shop,
    tz: str,
    today: date,
    digest_format: DigestFormat | None,
    webhook: str | None,
) -> str | None:
    """Yesterday's digest on stdout and/or posted to the webhook; the post's warning."""
    from orderreport import digest, digest_render
    from orderreport import webhook as hook

    found = digest.digest(sess, shop, today - timedelta(days=1), tz=tz)
    sess.commit()
    if digest_format is not None:
        sys.stdout.write(_rendered(found, digest_format))
    if webhook is None:
        return None
    return hook.post(webhook, digest_render.markdown(found))


def _rendered(found: Digest, fmt: DigestFormat) -> str:
    from orderreport import digest_render

    render = {
        DigestFormat.text: digest_render.text,
        DigestFormat.markdown: digest_render.markdown,
        DigestFormat.html: digest_render.html,
        DigestFormat.json: digest_render.json,
    }[fmt]
    return render(found)


def webhook_mask(url: str) -> str:
    from orderreport import webhook

    return webhook.mask(url)


def _finish_daily(
    result: daily.Run, fmt: Format, max_catch_up: int, *, quiet: bool = False
) -> None:
    """Print what a run stored (unless `quiet`: the digest went instead); say what
    restatement found; fail if a gap is left."""
    from orderreport import queries

    if result.stored and not quiet:
        output.render(
            result.stored, queries.SUMMARY_FIELDS, fmt, sys.stdout, title="Stored reports"
        )
    restated_changes = {c[0].date for c in result.changes} & set(result.restated)
    if result.restated and not restated_changes:
        stamp(f"restated {len(result.restated)} stored day(s): no figure changed")
    if result.plan.gap:
        first, last = result.plan.gap
        raise Incomplete(
            f"{first} to {last} are missing and older than --max-catch-up {max_catch_up}: "
            f"store them with `orderreport daily --from {first} --to {last}`"
        )


def _export_metrics(
    figures: metrics.RunFigures, metrics_file: Path | None, pushgateway: str | None
) -> None:
    """Write and push the run's metrics; a failure is a warning: the run's outcome stands."""
    from orderreport import metrics

    if metrics_file is not None:
        try:
            metrics.write_textfile(metrics_file, figures)
        except OSError as exc:
            say(f"warning: metrics not written to {metrics_file}: {exc.strerror or exc}")
    if pushgateway is not None:
        warning = metrics.push(pushgateway, figures)
        if warning is not None:
            say(warning)


def _say_plan(plan: daily.Plan, restating: tuple[date, ...]) -> None:
    if plan.start is None:
        stamp("nothing new to store: reports are stored up to yesterday")
    else:
        stamp(f"storing {plan.days} day(s) {plan.start} to {plan.end}")
    if restating:
        stamp(f"restating {len(restating)} stored day(s) {restating[0]} to {restating[-1]}")


def _say_stored(s: queries.Summary) -> None:
    total = f"{s.currency} {s.total_value}" if s.currency else str(s.total_value)
    stamp(f"stored {s.date} ({s.time_zone}): {s.total_orders} orders, total {total}")


def _say_changed(changes: Sequence[verify.Difference]) -> None:
    from orderreport import verify

    stamp(f"restated {changes[0].date} ({changes[0].time_zone}): {verify.describe(changes)}")


@app.command(
    name="digest", short_help="How yesterday went, per currency, beside the days to compare with."
)
def digest_cmd(
    day: DateOpt = None,
    fmt: Annotated[
        DigestFormat,
        typer.Option(
            "--format",
            "-f",
            help="text (plain, for mail), markdown (chat), html (one page), json.",
            case_sensitive=False,
        ),
    ] = DigestFormat.text,
    database_url: DatabaseUrl = None,
    tz: Tz = None,
    config: ConfigPath = None,
    shop_schema: ShopSchema = None,
    naive_tz: NaiveTz = None,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    platform: PlatformOpt = None,
) -> None:
    """The morning report: the day's orders, lines, value and averages per currency (default
    yesterday), each beside the day before, the same weekday a week before and that
    weekday's mean over the four weeks before, with the change. Read from the stored
    reports; a day not stored is computed live and marked so. Writes nothing.

    Example: orderreport digest --format html > yesterday.html

    Example: orderreport digest --date 2025-12-16 --format markdown
    """
    from orderreport import db
    from orderreport import digest as digest_mod

    settings = settings_from(
        database_url, tz, config, shop_schema, naive_tz, lock_timeout, statement_timeout, platform
    )
    today = today_in(settings.tz, now_utc())
    span = resolve_range(day=day, start=None, end=None, today=today)
    assert span is not None
    if span[0] >= today:
        say(f"{span[0]} is not over yet in {settings.tz}: its figures will still change")
    with db.shop_session(settings, read_only=True) as (sess, shop):
        found = digest_mod.digest(sess, shop, span[0], tz=settings.tz)
    sys.stdout.write(_rendered(found, fmt))


@app.command(name="verify", short_help="Compare stored reports with live data; writes nothing.")
def verify_cmd(
    day: DateOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    database_url: DatabaseUrl = None,
    tz: Tz = None,
    config: ConfigPath = None,
    shop_schema: ShopSchema = None,
    naive_tz: NaiveTz = None,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    platform: PlatformOpt = None,
    fmt: Fmt = Format.table,
    as_json: JsonFlag = False,
) -> None:
    """Recompute stored days from the live data and compare them, figure by figure.

    Prints every figure that differs (date, zone, field, stored, live) and exits 1 if any
    does, naming the command that re-stores those days. Default: every stored day of the
    zone. It writes nothing (its transactions are read-only): run it weekly from cron, or
    as a probe.

    Example: orderreport verify --from 2025-12-01 --to 2025-12-31 --format csv
    """
    from orderreport import db, verify

    settings = settings_from(
        database_url, tz, config, shop_schema, naive_tz, lock_timeout, statement_timeout, platform
    )
    fmt = pick_format(fmt, as_json)
    today = today_in(settings.tz, now_utc())
    bounds: tuple[date | None, date | None]
    if day is not None:
        one = resolve_range(day=day, start=start, end=end, today=today)  # refuses --from too
        assert one is not None
        bounds = one
    else:
        bounds = parse_bounds(start, end, today)
    with db.shop_session(settings, read_only=True) as (sess, shop):
        found = verify.verify(sess, shop, *bounds, today)
    output.render(
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
def runs_cmd(
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            "-n",
            min=1,
            max=defaults.MAX_LIST,
            metavar="N",
            help="How many runs to list.",
        ),
    ] = defaults.DEFAULT_LIST,
    database_url: DatabaseUrl = None,
    tz: Tz = None,
    config: ConfigPath = None,
    shop_schema: ShopSchema = None,
    naive_tz: NaiveTz = None,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    platform: PlatformOpt = None,
    fmt: Fmt = Format.table,
    as_json: JsonFlag = False,
) -> None:
    """The run log: each `orderreport daily` of every zone, newest first, with its outcome.

    A run whose process died without a word (SIGKILL, a lost machine) shows as unfinished;
    a run still going, as running. Times are in the shop's zone (--tz).

    Example: orderreport runs --limit 5 --json
    """
    from orderreport import db, runs

    settings = settings_from(
        database_url, tz, config, shop_schema, naive_tz, lock_timeout, statement_timeout, platform
    )
    fmt = pick_format(fmt, as_json)
    with db.session(settings) as sess:
        found = runs.recent(sess, limit)
    if not found:
        say("no daily runs recorded yet: run `orderreport daily`")
    if fmt is Format.table:
        output.write_rich_table(
            found,
            runs.RUN_TABLE_FIELDS,
            output.make_console(sys.stdout),
            title=f"orderreport daily runs ({settings.tz})",
            row_style=_run_style,
            # what a person needs whole at 80 columns; --json has every field
            essential=("id", "started_at", "status", "exit_code", "days_stored"),
        )
        return
    output.render(found, runs.RUN_FIELDS, fmt, sys.stdout)


def _run_style(run: runs.RunRecord) -> str | None:
    return {"succeeded": None, "running": "cyan", "busy": "dim"}.get(run.status, "bold red")


@app.command(short_help="The stored daily reports, with a chart.")
def history(
    start: FromOpt = None,
    end: ToOpt = None,
    database_url: DatabaseUrl = None,
    tz: Tz = None,
    config: ConfigPath = None,
    shop_schema: ShopSchema = None,
    naive_tz: NaiveTz = None,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    platform: PlatformOpt = None,
    fmt: Fmt = Format.table,
    as_json: JsonFlag = False,
) -> None:
    """The stored daily reports of the shop's zone; in a table, with a chart of total value
    per currency; --format html: one self-contained page with the same chart.

    Example: orderreport history --from 2025-12-01 --format csv
    """
    from orderreport import daily, db

    settings = settings_from(
        database_url, tz, config, shop_schema, naive_tz, lock_timeout, statement_timeout, platform
    )
    today = today_in(settings.tz, now_utc())
    bounds = parse_bounds(start, end, today)
    fmt = pick_format(fmt, as_json, html=True)
    with db.shop_session(settings) as (sess, _shop):
        rows = daily.history(sess, *bounds)
    if not rows:
        say(f"no stored reports ({settings.tz}): run `orderreport daily`")
    if fmt is Format.html:
        from orderreport import digest_render

        sys.stdout.write(digest_render.history_html(rows, f"Stored reports ({settings.tz})"))
        return
    output.render(
        rows,
        daily.HISTORY_FIELDS,
        fmt,
        sys.stdout,
        title=f"Stored reports ({settings.tz})",
    )
    if fmt is Format.table and rows:
        console = output.make_console(sys.stdout)
        for currency in sorted({r.currency or "" for r in rows}):  # never one chart across
            output.bar_chart(
                [(r.date, r.total_value) for r in rows if (r.currency or "") == currency],
                console,
                title=f"Total value per day{' (' + currency + ')' if currency else ''}",
            )


@app.command(short_help="The GRANT statements a reporting role or the daily job's role needs.")
def grants(
    reports: Annotated[
        str | None,
        typer.Option(
            "--reports",
            metavar="ROLE",
            help="For a role that runs report, summary, history, verify, status and runs.",
            show_default=False,
        ),
    ] = None,
    job: Annotated[
        str | None,
        typer.Option(
            "--job",
            metavar="ROLE",
            help="For the role the daily job runs as (everything --reports has, and it writes "
            "daily_reports and the run log).",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    tz: Tz = None,
    config: ConfigPath = None,
    shop_schema: ShopSchema = None,
    naive_tz: NaiveTz = None,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    platform: PlatformOpt = None,
) -> None:
    """Print the exact GRANT statements, for this database and its shop's source, that give
    ROLE what its commands need and nothing more; the database's owner runs them (psql -f).
    Nothing is granted by orderreport itself.

    Example: orderreport grants --reports analyst | psql "$OWNER_URL"

    Example: orderreport grants --job orderreport_job --platform saleor
    """
    from orderreport import db
    from orderreport import grants as grants_mod

    if (reports is None) == (job is None):
        raise UsageError("say whose grants to print: --reports ROLE or --job ROLE (one of them)")
    role, kind = (reports, grants_mod.REPORTS) if reports is not None else (job, grants_mod.JOB)
    assert role is not None
    settings = settings_from(
        database_url, tz, config, shop_schema, naive_tz, lock_timeout, statement_timeout, platform
    )
    # not read-only: a query source's relations are found through a temporary view
    # (grants.statements rolls it back)
    with db.shop_session(settings) as (sess, shop):
        lines = grants_mod.statements(sess, shop, role, kind)
    sys.stdout.write("".join(line + "\n" for line in lines))


@app.command(short_help="The shop platforms orderreport reads out of the box.")
def platforms(
    name: Annotated[
        str | None,
        typer.Argument(metavar="[NAME]", help="Print this platform's preset (a [source] table)."),
    ] = None,
    fmt: Fmt = Format.table,
    as_json: JsonFlag = False,
) -> None:
    """List the presets, or print one: a `[source]` table to copy into the config file and
    adapt for a shop that differs (another status list, another schema).

    Example: orderreport platforms

    Example: orderreport platforms saleor >> ~/.config/orderreport/config.toml
    """
    from orderreport import sources

    fmt = pick_format(fmt, as_json)
    if name is not None:
        sys.stdout.write(sources.preset_text(name))
        return
    output.render(sources.catalogue(), sources.CATALOGUE_FIELDS, fmt, sys.stdout, title="Platforms")


@app.command(short_help="Health probe: schema and stored-report lag.")
def status(
    max_lag: Annotated[
        int, typer.Option(min=0, help="Unhealthy when the newest report is older than this.")
    ] = 1,
    database_url: DatabaseUrl = None,
    tz: Tz = None,
    config: ConfigPath = None,
    shop_schema: ShopSchema = None,
    naive_tz: NaiveTz = None,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    platform: PlatformOpt = None,
    fmt: Fmt = Format.table,
    as_json: JsonFlag = False,
) -> None:
    """Health: database, schema revision against head, stored reports, lag, gaps, last run.

    Exit 0 when healthy; 1 when the schema is not at head, the last daily run failed or
    never finished, reports lag more than --max-lag days behind yesterday, or older days
    are missing, so it can serve as a monitoring probe. --format prometheus prints the
    figures as Prometheus metrics (for a scrape or a node_exporter textfile).

    Example: orderreport status --max-lag 1 --json

    Example: orderreport status --format prometheus
    """
    from orderreport import db, health, metrics

    settings = settings_from(
        database_url, tz, config, shop_schema, naive_tz, lock_timeout, statement_timeout, platform
    )
    fmt = pick_format(fmt, as_json, prometheus=True)
    with db.session(settings) as sess:
        shop, shop_problem = db.try_find_shop(sess, settings)
        result = health.status(
            sess,
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
        output.render(
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


# -- helpers ------------------------------------------------------------------------------
class _counting:
    """Wraps an iterator and counts what passed through (for the "no orders" note)."""

    def __init__(self, rows: Iterator[queries.ReportRow]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[queries.ReportRow]:
        for row in self.rows:
            self.count += 1
            yield row


def _span_text(span: tuple[date, date] | None) -> str:
    if span is None:
        return "at all"
    if span[0] == span[1]:
        return f"on {span[0]}"
    return f"from {span[0]} to {span[1]}"


def _title(what: str, span: tuple[date, date] | None, tz: str) -> str:
    return f"{what} {_span_text(span).removeprefix('on ')} ({tz})"


def _total_rows(totals: list[queries.Summary] | None) -> list[dict[str, object]] | None:
    """A range's totals as the table's footer rows, one per currency."""
    from orderreport import queries

    if totals is None:
        return None
    rows = []
    for total in totals:
        row = {f: getattr(total, f) for f in queries.SUMMARY_FIELDS}
        row["date"] = "total"
        rows.append(row)
    return rows


# -- entry point --------------------------------------------------------------------------
_received: list[int] = []  # signals that arrived during this run, first first


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    if len(_received) == 1:
        # the statement in flight is cancelled first: the server lets go of the run's locks
        # now, not when it notices the closed connection (limits.cancel_in_flight; loaded
        # with the database code: before that there is no connection to cancel)
        limits = sys.modules.get("orderreport.limits")
        if limits is not None:
            limits.cancel_in_flight()
        raise Terminated(signum)


class _GuardedOutput:
    """stdout, whose write errors become orderreport's own: a reader that went away
    (EPIPE) is ReaderGone, a full disk or closed descriptor is OutputFailed. The CLI
    framework would otherwise catch EPIPE itself and exit 1 without a word."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _guard(self, exc: OSError) -> NoReturn:
        if exc.errno in (errno.EPIPE, errno.ECONNRESET):
            raise ReaderGone() from None
        raise OutputFailed(f"cannot write the output: {exc.strerror or exc}") from None

    def write(self, text: Any) -> int:
        try:
            return int(self._stream.write(text))
        except OSError as exc:
            self._guard(exc)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            self._guard(exc)

    @property
    def buffer(self) -> Any:
        binary = getattr(self._stream, "buffer", None)
        if binary is None:
            raise AttributeError("buffer")
        return _GuardedOutput(binary)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _fail(message: str, code: int) -> NoReturn:
    line = " ".join(options.scrub(message).split())
    if len(line) > MESSAGE_LIMIT:  # a huge bad value echoed by the CLI framework
        line = line[: MESSAGE_LIMIT - 1] + "…"
    say(f"orderreport: error: {line}")
    raise SystemExit(code)


def _silence_stdout() -> None:
    """After EPIPE: point fd 1 at /dev/null so the final flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line on stderr and a documented exit code for every failure."""
    _received.clear()
    options.reset()
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    real_stdout = sys.stdout
    try:
        if real_stdout is None:
            _fail("stdout is closed: redirect it instead (>/dev/null)", EXIT_FAILURE)
        sys.stdout = cast(TextIO, _GuardedOutput(real_stdout))
        code = _run(argv)
        sys.stdout.flush()
    except ReaderGone:
        _silence_stdout()  # a reader such as `head` went away: not an error of ours
        code = EXIT_OK
    except OutputFailed as exc:
        _fail(str(exc), exc.exit_code)
    except Terminated as exc:
        _fail(*_SIGNAL_EXITS[exc.signum])
    except SystemExit:
        raise
    except BaseException as exc:
        if _received:  # a signal surfaced as another error (e.g. mid-commit): it is the cause
            _fail(*_SIGNAL_EXITS[_received[0]])
        if isinstance(exc, OrderReportError):
            _fail(str(exc), exc.exit_code)
        if not isinstance(exc, Exception):
            raise
        limits = sys.modules.get("orderreport.limits")  # loaded if the database was used
        if limits is not None and limits.is_database_error(exc):  # outside any session
            why = limits.lost(exc)
            said = f"{why}; {limits.LOST_RERUN}" if why else limits.first_line(exc)
            _fail(f"database error: {said}", EXIT_FAILURE)
        if options.verbose() or os.environ.get("ORDERREPORT_DEBUG"):
            say(options.scrub("".join(traceback.format_exception(exc))))
        _fail(f"unexpected {type(exc).__name__}: {exc} (--verbose shows a traceback)", 1)
    finally:
        sys.stdout = real_stdout
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.exit(code)


_SIGNAL_EXITS: dict[int, tuple[str, int]] = {
    signal.SIGINT: ("interrupted", EXIT_INTERRUPTED),
    signal.SIGTERM: ("terminated by SIGTERM", EXIT_TERMINATED),
}


def _run(argv: list[str] | None) -> int:
    """The CLI framework's run, its own errors mapped to one line and exit 2."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="orderreport", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()  # the whole help, as it is meant to look
        return EXIT_USAGE
    except ClickException as exc:
        _fail(exc.format_message(), exc.exit_code or EXIT_USAGE)
    except typer.Abort:  # EOF on stdin: nothing of ours reads it, but be exact
        _fail("interrupted", EXIT_INTERRUPTED)
    for warning in options.warnings():
        say(warning)
    return code if isinstance(code, int) else EXIT_OK
