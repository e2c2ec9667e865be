"""Speed on each platform, measured: orderreport's day against the best hand-written SQL on
each preset platform's own tables.

    uv run python bench/platforms.py [--orders 1M|tiny|N] [--repeat N] [--platforms a,b]
                                     [--query-platforms a,b] [--orders-of NAME=N]
                                     [--out bench/RESULTS.md] [--plans FILE] [--home DIR]

For each preset platform whose preset and DDL (tests/platforms/<name>.sql) exist, a shop of
--orders orders in the platform's own tables (bench/platform_shops.py: made the first time,
kept in the embedded server of $TMPDIR/orderreport-bench-platforms or on the server of
ORDERREPORT_BENCH_DATABASE_URL, and reused), then:

1. `orderreport migrate --platform NAME` on it;
2. **server**: the day statement `summary` runs (queries.day_statement through the view
   orderreport.order_reports, with its parameters) against the best hand-written query of
   the platform's rule on the same tables (per currency: count(*), lines, amounts rounded to
   cents per order, averages; the raw placed-at column's range, so its index serves it), in
   one session; planning plus execution time from EXPLAIN ANALYZE, each run the median of
   the statement executed for about LOOP_SECONDS (at least 3 times). Target 1.1x;
3. **process**: `python -m orderreport summary --date D --json --platform NAME`, the whole
   process, against a psycopg script running the hand-written query and printing the same
   JSON. Target 1.5x;
4. **query source vs mapping** (--query-platforms): the shop read through a query source
   written as README's "A query" says (the raw placed-at column, placed_at_zone when it is
   naive, a correlated count(*) of lines), in a copy of the database, against the same shop
   through its preset: the day statement's server time. Target 1.1x.

D is the middle day of the shop's year. Every figure is the median of --repeat runs taken
in turns with its reference after a warm-up; both answers are compared first, and a
difference makes the run exit 1. A row over its target gets EXPLAIN (ANALYZE, BUFFERS) of
both sides: what differs is said under the table (--plans FILE writes the plans).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the bench package, not this file

import psycopg
from sqlalchemy.engine import URL

from bench import measure, platform_shops, report, shops
from bench.bench import reference_env, server
from bench.measure import CommandFailed, Pair, in_turns, server_ms, spawn
from bench.platform_shops import DAY, Shape, Spec
from bench.report import NONE, TIMES, millis, seconds
from bench.shops import ORDERREPORT, TZ, BenchError, libpq
from orderreport import db, objects
from orderreport import shop as shop_mod
from orderreport.config.settings import Settings, load_settings
from orderreport.reports import queries, session
from orderreport.shop import Shop

PgConn = psycopg.Connection[Any]
SERVER_LIMIT = 1.1
PROCESS_LIMIT = 1.5
QUERY_LIMIT = 1.1
QUERY_PLATFORMS = ("solidus", "saleor", "medusa")
PLANS = 5  # EXPLAIN (ANALYZE, BUFFERS) of each side for its buffers, nodes and planning time
LOOP_SECONDS = 0.3  # one server-time run: the median of the statement repeated this long
BIG = 10_000  # rows of a table whose whole read by a day is worth a note

# The hand-written day: the platform's per-order query (bench/platform_shops.py, Spec.
# reference: currency, amount rounded to cents, lines) computed once per order (OFFSET 0:
# no aggregate pulls it up and runs it twice), then per currency, in orderreport's columns.
REFERENCE = """
SELECT CAST(%(day)s AS date) AS date, current_setting('TimeZone') AS time_zone,
       CAST(t.currency AS text) AS currency, count(*) AS total_orders,
       CAST(coalesce(sum(t.lines), 0) AS bigint) AS total_products,
       round(coalesce(sum(t.amount), 0), 2) AS total_value,
       round(avg(t.lines), 2) AS average_products_per_order,
       round(coalesce(avg(t.amount), 0), 2) AS average_order_value
FROM ({per_order}
      OFFSET 0) AS t
GROUP BY t.currency
ORDER BY t.currency
"""

# The reference process's query: the same, as the JSON array `summary --json` prints.
REFERENCE_JSON = """
SELECT coalesce(json_agg(json_build_object(
           'date', s.date, 'time_zone', s.time_zone, 'currency', s.currency,
           'total_orders', s.total_orders, 'total_products', s.total_products,
           'total_value', s.total_value,
           'average_products_per_order', s.average_products_per_order,
           'average_order_value', s.average_order_value) ORDER BY s.currency), '[]')::text
FROM ({reference}) AS s
"""

# The reference process: a psycopg script as small as bench/ref_summary.py, its query given
# in BENCH_SQL (one per platform).
REFERENCE_SCRIPT = """
import os, sys
import psycopg
with psycopg.connect(os.environ["BENCH_DSN"]) as conn:
    row = conn.execute(os.environ["BENCH_SQL"], {"day": sys.argv[1]}).fetchone()
assert row is not None
print(row[0])
"""


# A profile (no target): the view alone, per currency, over the same day's bounds, without
# the statement's range of days (the series of days, the join to it, the grouping by each
# order's day): what the view costs, apart from the statement around it.
VIEW_ALONE = (
    f"SELECT currency, {queries._FIGURES} FROM orderreport.order_reports "
    "WHERE {days} GROUP BY currency"
)


def reference_sql(spec: Spec) -> str:
    return REFERENCE.format(per_order=spec.reference.strip())


# -- a run --------------------------------------------------------------------------------------
@dataclass
class Run:
    """One run: where the shops are, their sizes, how often to repeat, what it found."""

    size: Shape
    server: URL
    given: bool  # the server of ORDERREPORT_BENCH_DATABASE_URL
    home: Path | None
    repeat: int
    work: Path  # config files of the query sources, an empty XDG config home
    sizes: dict[str, Shape] = field(default_factory=dict)  # --orders-of
    notes: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)  # the platform being measured, in one note
    plans: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # figures whose answers differ
    over: list[str] = field(default_factory=list)  # what differs in the plans over target
    postgres: str = "unknown"

    def shape(self, spec: Spec) -> Shape:
        return self.sizes.get(spec.name, self.size)

    def url(self, spec: Spec, query: bool = False) -> URL:
        suffix = "_query" if query else ""
        if self.given and self.server.database:
            return self.server.set(database=f"{self.server.database}_{spec.slug}{suffix}")
        return self.server.set(database=f"bench_plat_{spec.slug}_{self.shape(spec).slug}{suffix}")

    def env(self, url: URL, config: Path | None = None) -> dict[str, str]:
        env = shops.orderreport_env(url, self.home)
        env["XDG_CONFIG_HOME"] = str(self.work / "xdg")  # no config file of the user's
        if config is not None:
            env["ORDERREPORT_CONFIG"] = str(config)
        return env

    def config(self, spec: Spec) -> Path:
        path = self.work / f"{spec.slug}-query.toml"
        path.write_text(platform_shops.query_config(spec))
        return path

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"bench: {text}", file=sys.stderr, flush=True)

    def fact(self, text: str) -> None:
        """Something about the platform being measured: said now, noted with the others."""
        self.facts.append(text)
        platform_shops._say(text)

    def facts_noted(self, spec: Spec) -> None:
        if self.facts:
            self.notes.append(f"{spec.name}: " + "; ".join(self.facts))
        self.facts = []


def preset_settings(url: URL, spec: Spec) -> Settings:
    return load_settings(database_url=libpq(url), tz=TZ, platform=spec.name, env={})


def query_settings(url: URL, config: Path) -> Settings:
    return load_settings(database_url=libpq(url), tz=TZ, config=config, env={})


# -- the shops ----------------------------------------------------------------------------------
def migrate(run: Run, url: URL, argv: list[str], config: Path | None = None) -> str:
    """Run `orderreport migrate …` on `url`; say how it went."""
    started = time.perf_counter()
    said = shops.run([*ORDERREPORT, "migrate", *argv], run.env(url, config))
    took = seconds(time.perf_counter() - started)
    return f"exit 0 in {took}" + (", nothing to do" if "nothing to do" in said else "")


def refresh_view(settings: Settings) -> bool:
    """Rebuild orderreport.order_reports if it is not this checkout's definition (as
    bench/shops.refresh_view does for the seed's shop); True if it did."""
    with db.connect(settings) as conn:
        found = shop_mod.find(conn, settings)
        body = shop_mod.view_definition(found, shop_mod.quote)
        view = f"{objects.OUR_SCHEMA}.{objects.VIEW}"
        conn.execute(f"CREATE TEMP VIEW bench_view_now AS {body}")
        row = conn.execute(
            f"SELECT pg_get_viewdef('{view}'::regclass) = pg_get_viewdef('bench_view_now')"
        ).fetchone()
        conn.execute("DROP VIEW bench_view_now")
        if row is not None and row[0]:
            conn.commit()
            return False
        conn.execute(f"CREATE OR REPLACE VIEW {view} AS {body}")
        conn.execute(f"COMMENT ON VIEW {view} IS {shop_mod.sql_string(found.fingerprint())}")
        conn.commit()
    return True


def prepare(run: Run, spec: Spec) -> None:
    """The platform's shop, made if it is not there, then `migrate --platform` (step 2)."""
    url, size = run.url(spec), run.shape(spec)
    mark = platform_shops.fingerprint(spec, size)
    if platform_shops.claim(url, mark):
        run.fact(f"the {size.orders:,}-order shop in {url.database}, kept from before")
    else:
        platform_shops._say(f"{spec.name}: making a {size.orders:,}-order shop in {url.database}")
        took = platform_shops.generate(url, spec, size)
        built = migrate(run, url, ["--platform", spec.name, "--build-indexes"])
        platform_shops.set_comment(url, mark)
        rows = ", ".join(
            f"{t} {n:,}" for t, n in platform_shops.relation_sizes(url, spec).items() if n > 2
        )
        run.fact(
            f"made the {size.orders:,}-order shop in {url.database} in {seconds(took)} "
            f"(rows: {rows}); `migrate --build-indexes`: {built}"
        )
    advised = platform_shops.advised_indexes(url)
    if advised:
        run.fact(f"the index orderreport advised, built: {', '.join(advised)}")
    said = migrate(run, url, ["--platform", spec.name])
    run.fact(f"`orderreport migrate --platform {spec.name}`: {said}")
    if refresh_view(preset_settings(url, spec)):
        run.fact("rebuilt the view, older than this checkout's definition")


def prepare_query(run: Run, spec: Spec) -> Path:
    """A copy of the platform's shop read through its query source; its config file."""
    assert spec.query is not None
    url, source = run.url(spec, query=True), run.url(spec)
    config = run.config(spec)
    mark = f"{platform_shops.comment(source)}; query source {hash_text(spec.query)}"
    if platform_shops.claim(url, mark, create=False):
        run.fact(f"the query source's copy {url.database}, kept from before")
    else:
        started = time.perf_counter()
        platform_shops.copy_database(source, url)
        platform_shops.set_comment(url, platform_shops.UNFINISHED)
        migrate(run, url, [], config)
        platform_shops.set_comment(url, mark)
        run.fact(
            f"copied the shop into {url.database} for its query source and migrated it in "
            f"{seconds(time.perf_counter() - started)}"
        )
    said = migrate(run, url, [], config)
    run.fact(f"`orderreport migrate` with the query source: {said}")
    if refresh_view(query_settings(url, config)):
        run.fact("rebuilt the query source's view")
    return config


def hash_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:12]


# -- server time --------------------------------------------------------------------------------
def day_params(shop: Shop) -> dict[str, object]:
    found: dict[str, object] = {"start": DAY, "end": DAY, "fallback": shop.currency_code}
    if shop.naive:
        found["naive_tz"] = shop.naive_tz
    return found


def answer(conn: PgConn, sql: str, values: Mapping[str, object]) -> list[tuple[object, ...]]:
    rows = [tuple(r) for r in conn.execute(sql, dict(values))]
    conn.commit()
    return rows


Side = tuple[PgConn, str, Mapping[str, object]]


@dataclass(frozen=True)
class Server:
    """A server-time figure: the medians, both sides' buffers and plans."""

    pair: Pair
    same: bool
    planning: tuple[float, float]  # median planning times, ms
    buffers: tuple[int, int]
    plans: tuple[Any, Any]  # EXPLAIN (ANALYZE, BUFFERS) JSON of each side
    rows: list[tuple[object, ...]]  # orderreport's answer


def blocks(node: Mapping[str, Any]) -> int:
    return int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))


def sample(side: Side) -> float:
    """One run of a side: the median server time of the statement executed again and again
    in its session for about LOOP_SECONDS (at least 3 times). A statement of a few
    milliseconds timed once is at the mercy of the shared machine's every hiccup."""
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - started < LOOP_SECONDS and len(times) < 100):
        times.append(server_ms(*side))
    side[0].commit()
    return statistics.median(times)


def timed(ours: Side, ref: Side, repeat: int) -> Server:
    """Both sides' answers compared, then timed in turns; their plans with buffers."""
    got, expected = answer(*ours), answer(*ref)
    pair = in_turns(lambda: sample(ours), lambda: sample(ref), repeat)
    explained: tuple[list[Any], list[Any]] = ([], [])
    for _ in range(PLANS):
        for side, found in zip((ours, ref), explained, strict=True):
            found.append(measure.explain(*side, analyze=True))
            side[0].commit()
    planning = [statistics.median(float(p["Planning Time"]) for p in e) for e in explained]
    plans = (explained[0][-1], explained[1][-1])
    return Server(
        pair,
        got == expected,
        (planning[0], planning[1]),
        (blocks(plans[0]["Plan"]), blocks(plans[1]["Plan"])),
        plans,
        got,
    )


def own_reads(plan: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """Buffers each relation (or index) was read for, by the scans of it, and their loops."""
    found: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for node in measure.nodes(plan["Plan"]):
        name = node.get("Relation Name") or node.get("Index Name")
        if name is None:
            continue
        children = sum(blocks(c) for c in node.get("Plans", ()))
        found[str(name)][0] += blocks(node) - children
        found[str(name)][1] += int(node.get("Actual Loops", 1))
    return {k: (v[0], v[1]) for k, v in found.items()}


def shapes(plan: Mapping[str, Any]) -> collections.Counter[str]:
    """The plan's nodes, by type and what they read."""
    found: collections.Counter[str] = collections.Counter()
    for node in measure.nodes(plan["Plan"]):
        what = node.get("Relation Name") or node.get("Index Name")
        kind = str(node["Node Type"]) + (f" on {what}" if what else "")
        if node.get("Parent Relationship") == "SubPlan":
            kind += " (SubPlan)"
        found[kind] += 1
    return found


def what_differs(label: str, figure: Server, names: tuple[str, str]) -> str:
    """What EXPLAIN (ANALYZE, BUFFERS) shows differs between the two sides, in a line."""
    ours, ref = figure.plans
    parts = [f"{names[0]} read {figure.buffers[0]:,} buffers, {names[1]} {figure.buffers[1]:,}"]
    a, b = own_reads(ours), own_reads(ref)
    for name in sorted(set(a) | set(b)):
        (x, lx), (y, ly) = a.get(name, (0, 0)), b.get(name, (0, 0))
        if x != y:
            parts.append(f"{name}: {x:,} buffers in {lx:,} loops against {y:,} in {ly:,}")
    sa, sb = shapes(ours), shapes(ref)
    only_a = sorted((sa - sb).elements())
    only_b = sorted((sb - sa).elements())
    if only_a:
        parts.append(f"only in {names[0]}'s plan: {', '.join(only_a)}")
    if only_b:
        parts.append(f"only in {names[1]}'s plan: {', '.join(only_b)}")
    timing = (
        f"medians {millis(figure.pair.ours)} against {millis(figure.pair.reference)}, of which "
        f"planning {figure.planning[0]:.2f} ms against {figure.planning[1]:.2f} ms"
    )
    return f"**{label}**: {figure.pair.ratio:.2f}{TIMES}: {timing}; " + "; ".join(parts) + "."


def keep_plans(run: Run, label: str, ours: Side, ref: Side, names: tuple[str, str]) -> None:
    run.plans.append(f"-- {label}: {names[0]}\n{measure.plan_text(*ours)}")
    run.plans.append(f"-- {label}: {names[1]}\n{measure.plan_text(*ref)}")
    ours[0].commit()
    ref[0].commit()


def seq_scans(plan: Mapping[str, Any], big: set[str]) -> list[str]:
    """The relations of `big` that the plan reads whole (a Seq Scan)."""
    return sorted(
        {
            str(n["Relation Name"])
            for n in measure.nodes(plan["Plan"])
            if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in big
        }
    )


# -- processes ----------------------------------------------------------------------------------
def parsed(argv: list[str], env: Mapping[str, str]) -> Any:
    done = subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CommandFailed(f"{' '.join(argv[:4])} exited {done.returncode}: {done.stderr}")
    return json.loads(done.stdout, parse_float=Decimal)


@dataclass(frozen=True)
class Process:
    pair: Pair
    same: bool


def process(run: Run, spec: Spec) -> Process:
    url = run.url(spec)
    env = run.env(url)
    ref_env = reference_env(url)
    ref_env["BENCH_SQL"] = REFERENCE_JSON.format(reference=reference_sql(spec))
    day = DAY.isoformat()
    ours = [*ORDERREPORT, "summary", "--date", day, "--json", "--platform", spec.name]
    ref = [sys.executable, "-c", REFERENCE_SCRIPT, day]
    same = parsed(ours, env) == parsed(ref, ref_env)
    pair = in_turns(
        lambda: spawn(ours, env).seconds, lambda: spawn(ref, ref_env).seconds, run.repeat
    )
    return Process(pair, same)


# -- a platform ---------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What was measured on one platform."""

    spec: Spec
    orders: int
    counted: int = 0  # the orders that count on D
    server: Server | None = None
    alone: Pair | None = None  # the view alone against the hand-written query
    process: Process | None = None
    query: Server | None = None


def measure_platform(run: Run, spec: Spec, with_query: bool) -> Outcome:
    prepare(run, spec)
    config = prepare_query(run, spec) if with_query else None
    found = Outcome(spec, run.shape(spec).orders)
    url = run.url(spec)
    with session.shop_session(preset_settings(url, spec)) as (sess, shop):
        ours: Side = (sess, queries.day_statement(shop, DAY, DAY), day_params(shop))
        ref: Side = (sess, reference_sql(spec), {"day": DAY})
        figure = timed(ours, ref, run.repeat)
        found.server = figure
        alone = VIEW_ALONE.format(days=shop_mod.DAY_BOUNDS[shop.placed_kind])
        found.alone = in_turns(
            lambda: sample((sess, alone, ours[2])), lambda: sample(ref), run.repeat
        )
        sess.commit()
        found.counted = sum(int(str(r[3])) for r in figure.rows)
        if not figure.same:
            run.wrong.append(f"{spec.name} (server)")
        sizes = platform_shops.relation_sizes(url, spec)
        big = {name for name, rows in sizes.items() if rows > BIG}
        scanned = seq_scans(figure.plans[0], big)
        if scanned:
            run.fact(f"orderreport's day reads {', '.join(scanned)} whole (Seq Scan)")
        whole = shop_mod.whole_reads(sess, shop)
        sess.commit()
        if whole:
            run.fact(f"`status` names a whole read: {', '.join(whole)}")
        names = ("orderreport", "the hand-written query")
        label = f"{spec.name}, day statement (server)"
        if figure.pair.ratio > SERVER_LIMIT:
            keep_plans(run, label, ours, ref, names)
            run.over.append(what_differs(label, figure, names))
        if config is not None:
            qurl = run.url(spec, query=True)
            with session.shop_session(query_settings(qurl, config)) as (qsess, qshop):
                q: Side = (qsess, queries.day_statement(qshop, DAY, DAY), day_params(qshop))
                found.query = timed(q, ours, run.repeat)
                if not found.query.same:
                    run.wrong.append(f"{spec.name} (query source)")
                names = ("the query source", "the preset")
                label = f"{spec.name}, query source vs preset (server)"
                if found.query.pair.ratio > QUERY_LIMIT:
                    keep_plans(run, label, q, ours, names)
                    run.over.append(what_differs(label, found.query, names))
        version = sess.execute("SELECT version()").fetchone()
        run.postgres = str(version[0]) if version else run.postgres
        sess.commit()
    found.process = process(run, spec)
    if not found.process.same:
        run.wrong.append(f"{spec.name} (process)")
    run.facts_noted(spec)
    return found


# -- the tables ---------------------------------------------------------------------------------
def met(ok: bool, same: bool) -> str:
    return "no: the answers differ" if not same else ("yes" if ok else "no")


def ratio(pair: Pair | None) -> str:
    return NONE if pair is None else f"{pair.ratio:.2f}{TIMES}"


def cells(row: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"


def platform_table(outcomes: list[Outcome]) -> str:
    lines = [
        cells(
            [
                "platform",
                "orders",
                "counted on D",
                "server: orderreport",
                "server: hand-written",
                f"ratio (≤ {SERVER_LIMIT}{TIMES})",
                "buffers: orderreport / hand-written",
                "profile: the view alone / hand-written",
                "process: `summary --json`",
                "process: psycopg script",
                f"ratio (≤ {PROCESS_LIMIT}{TIMES})",
                "met?",
            ]
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for o in outcomes:
        s, p = o.server, o.process
        assert s is not None and p is not None
        ok = s.pair.ratio <= SERVER_LIMIT and p.pair.ratio <= PROCESS_LIMIT
        lines.append(
            cells(
                [
                    o.spec.name,
                    f"{o.orders:,}",
                    f"{o.counted:,}",
                    millis(s.pair.ours),
                    millis(s.pair.reference),
                    ratio(s.pair),
                    f"{s.buffers[0]:,} / {s.buffers[1]:,}",
                    ratio(o.alone),
                    seconds(p.pair.ours),
                    seconds(p.pair.reference),
                    ratio(p.pair),
                    met(ok, s.same and p.same),
                ]
            )
        )
    return "\n".join(lines)


def query_table(outcomes: list[Outcome]) -> str:
    lines = [
        cells(
            [
                "platform",
                "query source (server)",
                "preset (server)",
                f"ratio (≤ {QUERY_LIMIT}{TIMES})",
                "buffers: query / preset",
                "met?",
            ]
        ),
        "|---|---:|---:|---:|---:|---|",
    ]
    for o in outcomes:
        q = o.query
        if q is None:
            continue
        lines.append(
            cells(
                [
                    o.spec.name,
                    millis(q.pair.ours),
                    millis(q.pair.reference),
                    ratio(q.pair),
                    f"{q.buffers[0]:,} / {q.buffers[1]:,}",
                    met(q.pair.ratio <= QUERY_LIMIT, q.same),
                ]
            )
        )
    return "\n".join(lines)


HOW = f"""Each platform's shop is its own DDL (tests/platforms/<name>.sql) filled set-based by
bench/platform_shops.py: 365 days of orders from 2025-01-01 (Europe/Moscow), evenly spread
over each day, two currencies, the platform's real mix of statuses (orders that count,
drafts or carts, cancelled ones; about 85 % count), 1-4 lines per order (2.5 on average),
then VACUUM (ANALYZE); the platform's own indexes, plus the index orderreport advises where
the platform has none on its placed-at column (`migrate --build-indexes`). D is the middle
day. **Server**: the statement `summary --date D` runs (queries.day_statement through
`orderreport.order_reports`) against the best hand-written query of the platform's rule on
the same tables (the raw placed-at column's range, an index-only correlated `count(*)` of
lines, the amount rounded to cents once per order, per currency), in one session:
planning plus execution time of EXPLAIN ANALYZE, each run the median of the statement
executed again and again for about {LOOP_SECONDS} s (at least 3 times). The profile column
(no target) times the view alone over the same day, per currency, without the statement's
range of days (its series of days, the join to it, the grouping by each order's day).
**Process**:
`python -m orderreport summary --date D --json --platform NAME` against a psycopg script
that runs the hand-written query and prints the same JSON. **Query source vs preset**: the
same shop read through a query source written as README's "A query" says, in a copy of
the database, against its preset; the day statement's server time. Medians of the run's
repeats, both sides taken in turns after a warm-up; both answers compared first. Targets:
server and query source {SERVER_LIMIT}{TIMES}, process {PROCESS_LIMIT}{TIMES}."""


def over_paragraph(run: Run, outcomes: list[Outcome]) -> list[str]:
    missed = []
    for o in outcomes:
        assert o.server is not None and o.process is not None
        if o.server.pair.ratio > SERVER_LIMIT:
            missed.append(f"{o.spec.name}'s day on the server ({ratio(o.server.pair)})")
        if o.process.pair.ratio > PROCESS_LIMIT:
            missed.append(f"{o.spec.name}'s process ({ratio(o.process.pair)})")
        if o.query is not None and o.query.pair.ratio > QUERY_LIMIT:
            missed.append(f"{o.spec.name}'s query source ({ratio(o.query.pair)})")
    if not missed:
        return ["Every row is within its target."]
    lines = [
        f"Over target: {', '.join(missed)}. What EXPLAIN (ANALYZE, BUFFERS) of both sides "
        "shows for each server row over target (buffers read by each relation's scans, and "
        "the nodes one plan has and the other not):",
        "",
    ]
    lines += [f"- {text}" for text in run.over] or ["- (process rows only)"]
    return lines


# -- the run ------------------------------------------------------------------------------------
def sizes_of(pairs: list[str]) -> dict[str, Shape]:
    found = {}
    for pair in pairs:
        name, _, size = pair.partition("=")
        found[name.strip()] = platform_shops.shape(size.strip())
    return found


def names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="orderreport-bench-platforms-") as found:
        yield Path(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", default="1M", help="1M, tiny, or a number of orders (300k)")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each side (median)")
    parser.add_argument("--platforms", help="comma-separated presets (default: every one)")
    parser.add_argument(
        "--query-platforms",
        default=",".join(QUERY_PLATFORMS),
        help="presets also read through a query source (default: %(default)s)",
    )
    parser.add_argument(
        "--orders-of",
        action="append",
        default=[],
        metavar="NAME=N",
        help="another size for one platform (e.g. medusa-v1=300k)",
    )
    parser.add_argument("--out", type=Path, help="write the results into this markdown file")
    parser.add_argument("--plans", type=Path, help="write EXPLAIN ANALYZE of rows over target")
    parser.add_argument(
        "--home",
        type=Path,
        default=Path(tempfile.gettempdir()) / "orderreport-bench-platforms",
        help="the embedded server's folder (without ORDERREPORT_BENCH_DATABASE_URL)",
    )
    args = parser.parse_args(argv)
    try:
        size = platform_shops.shape(args.orders)
        per_platform = sizes_of(args.orders_of)
    except ValueError as exc:
        parser.error(str(exc))
    with_query = set(names(args.query_platforms) or ())
    start = report.started()
    outcomes: list[Outcome] = []
    try:
        specs, missing = platform_shops.available(names(args.platforms))
        with server(args.home) as (url, given, home), workdir() as work:
            run = Run(size, url, given, home, max(1, args.repeat), work, per_platform)
            (work / "xdg").mkdir()
            for text in missing:
                run.note(text)
            for spec in specs:
                query = spec.name in with_query and spec.query is not None
                outcomes.append(measure_platform(run, spec, query))
    except (BenchError, CommandFailed, psycopg.Error) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    tables = [platform_table(outcomes)]
    if any(o.query for o in outcomes):
        tables.append(query_table(outcomes))
    shown = "\n\n".join(tables)
    print(shown, flush=True)
    over = over_paragraph(run, outcomes)
    for line in over:
        if line:
            print(line, file=sys.stderr)
    if args.plans:
        args.plans.write_text("\n\n".join(run.plans) + "\n")
    if args.out:
        write(args, run, start, shown, over, given, home)
    if run.wrong:
        print(f"bench: the answers differ for: {', '.join(run.wrong)}", file=sys.stderr)
        return 1
    return 0


def write(
    args: argparse.Namespace,
    run: Run,
    start: report.Start,
    shown: str,
    over: list[str],
    given: bool,
    home: Path | None,
) -> None:
    options = [f"--orders {args.orders}", f"--repeat {run.repeat}"]
    options += [f"--orders-of {o}" for o in args.orders_of]
    if args.platforms:
        options.append(f"--platforms {args.platforms}")
    where = "ORDERREPORT_BENCH_DATABASE_URL's server" if given else f"the embedded server in {home}"
    commit = start.checkout.split(" ")[0]
    body = "\n".join(
        [
            f"## Platforms ({start.date:%Y-%m-%d}, {commit})",
            "",
            f"`uv run python bench/platforms.py {' '.join(options)}` on {where}; "
            f"D = {DAY.isoformat()}.",
            "",
            *[f"- {fact}" for fact in report.machine(run.postgres, start)],
            "",
            HOW,
            "",
            shown,
            "",
            *over,
            "",
            *[f"- {note}" for note in run.notes],
        ]
    )
    report.write_section(args.out, "platforms", body)


if __name__ == "__main__":
    sys.exit(main())
