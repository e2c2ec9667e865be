"""A bounded live-load soak: a Saleor shop taking orders across its midnight while
`orderreport daily` runs, overlaps and is killed, then a check of what was stored.

    uv run python bench/soak.py [--duration 300] [--writers 5] [--rate 100] [--every 10]
                                [--pairs 0.2] [--kills 0.2] [--tz ZONE] [--seed N]
                                [--database-url URL] [--out bench/RESULTS.md]

What it does, in order (every step bounded: each process has a deadline, every loop ends
with the duration, every connection has a connect_timeout):

1. **The shop.** A database with Saleor's own DDL (tests/platforms/saleor.sql), channels in
   EUR and USD and --history-days (12) of orders made in one set-based INSERT … SELECT
   generate_series: every status Saleor has, drafts, cancelled and expired ones, amounts
   with a third decimal, 0-4 lines, some without a variant. `orderreport migrate` and a
   `daily --from … --to yesterday` store the history. The server is a private embedded one
   (orderreport.db.embedded, in a temporary folder) unless --database-url or
   ORDERREPORT_SOAK_DATABASE_URL names a server on which the soak may create a database
   (soak_<random>, dropped at the end).
2. **The zone.** The shop's zone is chosen so that its midnight falls in the middle of the
   run: an IANA zone (zoneinfo.available_timezones()) whose next local midnight is about
   duration/2 after the run starts, if one is near enough; else a fixed-offset zone made for
   the run with the exact minute offset, `SOAK-hh:mm` (a POSIX TZ string, as PostgreSQL
   parses it, "hours west": SOAK-05:23 is UTC+05:23), compiled into a TZif file in a
   temporary folder that the soak's own zoneinfo and every orderreport process read through
   PYTHONTZPATH. IANA offsets today end in :00, :30 or :45: only a made zone puts midnight
   within a minute of any instant. The soak then waits (at most a minute and a bit) so
   that midnight is duration/2 into the run. `--tz ZONE` forces a zone (midnight then falls
   where it falls; the report says where). The database's TimeZone is set to it.
3. **Writers** (--writers threads, --rate orders/s in all), each with its own connections
   (application_name soak-writer-N): new orders with `created_at = now()` (the server's
   clock) in both currencies, statuses that count and drafts; from time to time a
   transaction held open 5-90 s (and in the 90 s before midnight one per writer held across
   it: a late commit); and, --mutations of the time, a change to an order of the last
   --history-days: cancelled, its total edited, a draft completed (its created_at stays in
   the past), or a product variant deleted (every line of it keeps variant_id NULL). Every
   transaction's latency (BEGIN to COMMIT's return) is kept, tagged by whether an
   orderreport daily process was alive during it.
4. **daily runs**: `orderreport daily --platform saleor --tz ZONE` every ~--every seconds,
   two at once a --pairs of the time, a --kills of them killed: a third with SIGTERM and a
   third with SIGKILL at a random moment of their life, a third with SIGTERM the moment the
   run log has their outcome (polled every 2 ms: a moment a random signal hits about once
   in a hundred). Every exit code is kept, and compared with the run log's.
5. **A lock sampler** (soak-sampler): once a second, and ten times a second while a daily
   process is alive, every backend waiting on a lock and who holds it (pg_blocking_pids).
   A wait of the shop on an `orderreport` backend is a failure.
6. **At the end**: the writers stop (held transactions commit), `orderreport daily --wait 60`
   (must exit 0), `orderreport verify --json` over the restate window (the DEFAULT_RESTATE
   newest stored days: exactly the days that run recomputed) and over every stored day
   (edits older than the window are expected there), a hand-written SQL computation of
   Saleor's rule over the window compared with orderreport.daily_reports (day bounds from
   Python's zoneinfo, not PostgreSQL's), the run log against the exit codes, and no
   orderreport backend or advisory lock left.

Exit 1 if an undocumented exit code appeared (daily's are 0, 1, 75, 130, 143; -9/-15 only
for a process the soak killed with that signal), the run log disagrees with an exit code or
a succeeded run restated other than DEFAULT_RESTATE days, verify inside the window is not
clean, the hand computation disagrees, the shop waited on orderreport's lock, a write of the
shop failed, or something of orderreport's was left behind. tests/test_soak.py runs it for
60 s through `run()`.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench, tests, orderreport

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bench import report
from orderreport.config.settings import DEFAULT_RESTATE, validate_tz
from orderreport.db.embedded import EmbeddedServer
from orderreport.errors import EXIT_CODES, EXIT_USAGE, UsageError
from tests.platforms import shops as platform_shops

Conn = psycopg.Connection[tuple[Any, ...]]
ORDERREPORT = [sys.executable, "-m", "orderreport"]
APP = "orderreport"  # orderreport's application_name (db/limits.py CONNECT_ARGS)
WRITER_APP = "soak-writer"
SAMPLER_APP = "soak-sampler"
CHECK_APP = "soak-check"
# daily's documented exit codes (errors.EXIT_CODES); 2 (bad input) would be the soak's fault
DOCUMENTED = frozenset(EXIT_CODES) - {EXIT_USAGE}
NOT_COUNTED = ("draft", "canceled", "expired")  # Saleor's rule (orderreport/platforms/saleor.toml)
# Saleor's statuses (saleor/order/__init__.py), as often as a shop has them: a weighted list
STATUSES = (
    ["unfulfilled"] * 9
    + ["fulfilled"] * 3
    + ["unconfirmed", "partially fulfilled", "returned", "partially_returned"]
    + ["draft"] * 2
    + ["canceled", "expired"]
)
PAID = frozenset({"unfulfilled", "fulfilled", "partially fulfilled", "returned"})
VARIANTS = 2000  # product variants the lines point at
HOLD = (5.0, 90.0)  # seconds a held transaction stays open
CONNECT_TIMEOUT = 10
SAMPLE_IDLE, SAMPLE_BUSY = 1.0, 0.1  # seconds between lock samples: no daily alive, one alive
STATEMENT_TIMEOUT = "120s"  # the writers' and checks' bound on any one statement
DAILY_TIMEOUT = 120.0  # a daily process's deadline (then SIGKILL, and a failure)
FINAL_TIMEOUT = 240.0  # the final daily, verify, migrate, the history's backfill
SETUP_LEAD = 10.0  # seconds from choosing the zone to the run's start (backfill), estimated
CENT = Decimal("0.01")
KILLED_BY = {signal.SIGTERM: "SIGTERM", signal.SIGKILL: "SIGKILL"}
AFTER_OUTCOME = "SIGTERM once the outcome was committed"


def say(message: str) -> None:
    print(f"soak {datetime.now(UTC):%H:%M:%S}: {message}", file=sys.stderr, flush=True)


# -- the server and the database ---------------------------------------------------------
def with_database(url: str, name: str) -> str:
    """`url` (a postgresql:// URI) pointing at database `name`, as a libpq URI."""
    parsed = make_url(url).set(drivername="postgresql", database=name)
    return parsed.render_as_string(hide_password=False)


def connect(url: str, app: str, *, autocommit: bool = True) -> Conn:
    conn = psycopg.connect(
        url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT, application_name=app
    )
    conn.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
    if not autocommit:
        conn.commit()
    return conn


def _admin(url: str) -> Conn:
    failure: Exception | None = None
    for name in (make_url(url).database, "postgres", "template1"):
        if not name:
            continue
        try:
            return connect(with_database(url, name), CHECK_APP)
        except psycopg.OperationalError as exc:
            failure = exc
    raise RuntimeError(f"cannot connect to the server to create a database: {failure}")


@contextlib.contextmanager
def soak_database(given: str | None) -> Iterator[tuple[str, str]]:
    """(URL of a new empty database, where it is): on the server of `given`, else on an
    embedded server in a temporary folder; dropped (or the server stopped and its folder
    removed) at the end."""
    if given:
        name = f"soak_{uuid.uuid4().hex[:10]}"
        with _admin(given) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield with_database(given, name), f"the given server, database {name} (dropped after)"
        finally:
            with _admin(given) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        return
    home = Path(tempfile.mkdtemp(prefix="orderreport-soak-"))
    home.chmod(0o755)  # as root the server's own user must reach its folder inside
    server = EmbeddedServer(home)
    try:
        admin_url = server.start()
        with connect(admin_url, CHECK_APP) as admin:
            admin.execute("CREATE DATABASE soak")
        yield with_database(admin_url, "soak"), f"an embedded server in {home} (removed after)"
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


# -- the zone ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Zone:
    name: str
    midnight: datetime  # the next local midnight, UTC
    how: str  # how it was chosen, for the report
    tzdir: Path | None = None  # the made zone's TZif folder (PYTHONTZPATH)


def _tzif(abbreviation: str, offset: int, posix: str) -> bytes:
    """A TZif file (RFC 8536, version 2) of one fixed offset in seconds east of UTC."""
    chars = abbreviation.encode() + b"\0"

    def header() -> bytes:  # isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
        return b"TZif2" + b"\0" * 15 + struct.pack(">6l", 0, 0, 0, 0, 1, len(chars))

    block = struct.pack(">lBB", offset, 0, 0) + chars
    return header() + block + header() + block + b"\n" + posix.encode() + b"\n"


def made_zone(midnight: datetime, folder: Path) -> Zone:
    """A fixed-offset zone whose local midnight is `midnight` (a whole UTC minute)."""
    minute_of_day = midnight.hour * 60 + midnight.minute
    east = -minute_of_day % 1440  # local = UTC + east minutes is 00:00 at `midnight`
    if east > 14 * 60:
        east -= 1440  # UTC-09:59 … UTC+14:00, the span real zones use
    hours, minutes = divmod(abs(east), 60)
    # POSIX counts hours west of UTC: UTC+05:23 is SOAK-05:23
    name = f"SOAK{'-' if east >= 0 else '+'}{hours:02d}:{minutes:02d}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(_tzif("SOAK", east * 60, name))
    zoneinfo.reset_tzpath([str(folder), *zoneinfo.TZPATH])
    how = (
        f"made for this run: UTC{'+' if east >= 0 else '-'}{hours:02d}:{minutes:02d}, a "
        "fixed offset no IANA zone had at the moment wanted (TZif via PYTHONTZPATH; "
        "PostgreSQL parses the name as a POSIX TZ string)"
    )
    return Zone(name, midnight, how, folder)


def next_midnight(name: str, now: datetime) -> datetime | None:
    """The next local midnight of zone `name` after `now`, in UTC (None: it has none, a
    clock change at midnight)."""
    tz = zoneinfo.ZoneInfo(name)
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    local = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=tz)
    found = local.astimezone(UTC)
    back = found.astimezone(tz)
    return found if (back.hour, back.minute, back.second) == (0, 0, 0) else None


def iana_zones() -> list[str]:
    names = []
    for name in sorted(zoneinfo.available_timezones()):
        with contextlib.suppress(UsageError):
            names.append(validate_tz(name, "zone"))
    return names


def choose_zone(now: datetime, duration: float, folder: Path, forced: str | None) -> Zone:
    """The zone whose midnight falls duration/2 into a run starting SETUP_LEAD from `now`:
    an IANA one within reach, else one made for the run (see the module's docstring)."""
    if forced:
        validate_tz(forced, "--tz")
        midnight = next_midnight(forced, now)
        if midnight is None:
            raise UsageError(f"--tz: {forced} has no midnight tomorrow (a clock change)")
        return Zone(forced, midnight, "given with --tz")
    target = now + timedelta(seconds=SETUP_LEAD + duration / 2)
    early, late = timedelta(seconds=0.2 * duration), timedelta(seconds=min(60, 0.25 * duration))
    best: tuple[float, str, datetime] | None = None
    for name in iana_zones():
        midnight = next_midnight(name, now)
        if midnight is None or not target - early <= midnight <= target + late:
            continue
        off = abs((midnight - target).total_seconds())
        if best is None or (off, name) < best[:2]:
            best = (off, name, midnight)
    if best is not None:
        return Zone(best[1], best[2], "an IANA zone whose midnight fell mid-run")
    up = target.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return made_zone(up, folder)


def check_zone(conn: Conn, zone: Zone) -> str | None:
    """None if PostgreSQL agrees that `zone`'s midnight is 00:00 there, else why not."""
    try:
        row = conn.execute(
            "SELECT (%s::timestamptz AT TIME ZONE %s)::text", (zone.midnight, zone.name)
        ).fetchone()
    except psycopg.Error as exc:
        return f"PostgreSQL refuses zone {zone.name}: {str(exc).strip()}"
    said = str(row[0]) if row else None
    wanted = zone.midnight.astimezone(zoneinfo.ZoneInfo(zone.name)).replace(tzinfo=None)
    if said != wanted.isoformat(sep=" "):
        return f"PostgreSQL puts {zone.midnight} at {said} in {zone.name}, Python at {wanted}"
    return None


# -- the shop ------------------------------------------------------------------------------
_CHANNELS = """
INSERT INTO channel_channel (name, slug, is_active, currency_code, default_country,
                             allocation_strategy)
VALUES ('Channel EUR', 'channel-eur', true, 'EUR', 'DE', 'prioritize-sorting-order'),
       ('Channel USD', 'channel-usd', true, 'USD', 'US', 'prioritize-sorting-order')
"""
_ORDER_COLUMNS = """
    id, number, created_at, updated_at, status, origin, channel_id, currency,
    total_net_amount, total_gross_amount, undiscounted_total_net_amount,
    undiscounted_total_gross_amount, shipping_price_net_amount, shipping_price_gross_amount,
    base_shipping_price_amount, undiscounted_base_shipping_price_amount, total_charged_amount,
    total_authorized_amount, authorize_status, charge_status, tracking_client_id, user_email,
    language_code, display_gross_prices, customer_note, weight, checkout_token,
    search_document, use_old_id, should_refresh_prices, lines_count"""
_LINE_COLUMNS = """
    id, order_id, variant_id, product_name, product_sku, variant_name, translated_product_name,
    translated_variant_name, quantity, quantity_fulfilled, is_shipping_required, is_gift_card,
    currency, unit_price_net_amount, unit_price_gross_amount, total_price_gross_amount,
    total_price_net_amount, undiscounted_total_price_gross_amount,
    undiscounted_total_price_net_amount, undiscounted_unit_price_gross_amount,
    undiscounted_unit_price_net_amount, base_unit_price_amount,
    undiscounted_base_unit_price_amount, unit_discount_amount, unit_discount_value, created_at"""
# a line's values over x(order_id, variant, currency, created_at)
_LINE_VALUES = """
    gen_random_uuid(), x.order_id, x.variant, 'Soak item',
    CASE WHEN x.variant IS NULL THEN NULL ELSE 'SKU-' || x.variant END, 'M', '', '', 1, 0, true,
    false, x.currency, 9.990, 9.990, 9.990, 9.990, 9.990, 9.990, 9.990, 9.990, 9.990, 9.990,
    0, 0, x.created_at"""
# an order's values over g(at, status, currency, amount, lines) and its channel c
_ORDER_VALUES = """
    gen_random_uuid(), nextval('order_order_number_seq'), g.at, g.at, g.status,
    CASE WHEN g.status = 'draft' THEN 'draft' ELSE 'checkout' END, c.id, c.currency_code,
    g.amount, g.amount, g.amount, g.amount, 0, 0, 0, 0,
    CASE WHEN g.status = ANY (%(paid)s::text[]) THEN g.amount ELSE 0 END, 0,
    CASE WHEN g.status = ANY (%(paid)s::text[]) THEN 'full' ELSE 'none' END,
    CASE WHEN g.status = ANY (%(paid)s::text[]) THEN 'full' ELSE 'none' END,
    '', 'soak@example.com', 'en', true, '', 0.5, '', '', false, g.status = 'draft', g.lines"""
_HISTORY_ORDERS = f"""
INSERT INTO order_order ({_ORDER_COLUMNS})
SELECT {_ORDER_VALUES}
FROM (SELECT now() - random() * %(span)s::interval AS at,
             (%(statuses)s::text[])[1 + floor(random() * %(n_statuses)s)::int] AS status,
             CASE WHEN random() < 0.6 THEN 'EUR' ELSE 'USD' END AS currency,
             round((1 + random() * 499)::numeric, 3) AS amount,
             floor(random() * 5)::int AS lines
      FROM generate_series(1, %(orders)s)) AS g
JOIN channel_channel c ON c.currency_code = g.currency
"""
_HISTORY_LINES = f"""
INSERT INTO order_orderline ({_LINE_COLUMNS})
SELECT {_LINE_VALUES}
FROM (SELECT o.id AS order_id, o.currency, o.created_at,
             CASE WHEN random() < 0.05 THEN NULL
                  ELSE 1 + floor(random() * %(variants)s)::int END AS variant
      FROM order_order o CROSS JOIN LATERAL generate_series(1, o.lines_count)) AS x
"""
# One new order and its lines, created_at = now(): the server's clock, the transaction's start.
_NEW_ORDER = f"""
WITH o AS (
    INSERT INTO order_order ({_ORDER_COLUMNS})
    SELECT {_ORDER_VALUES}
    FROM (SELECT now() AS at, %(status)s::text AS status, %(amount)s::numeric AS amount,
                 %(lines)s::int AS lines) AS g
    JOIN channel_channel c ON c.currency_code = %(currency)s
    RETURNING id, currency, created_at
), l AS (
    INSERT INTO order_orderline ({_LINE_COLUMNS})
    SELECT {_LINE_VALUES}
    FROM (SELECT o.id AS order_id, v.variant, o.currency, o.created_at
          FROM o, unnest(%(variants)s::int[]) AS v(variant)) AS x
)
SELECT created_at FROM o
"""
# An order of the past (the first at or after %(at)s) that another writer is not changing.
_PICK = """
    SELECT id FROM order_order
    WHERE created_at >= %(at)s AND created_at < now() AND {which}
    ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED"""
_COUNTED = "status NOT IN ('draft', 'canceled', 'expired')"
_MUTATIONS: dict[str, str] = {
    "cancel": f"""
        UPDATE order_order SET status = 'canceled', updated_at = now()
        WHERE id = ({_PICK.format(which=_COUNTED)}) RETURNING created_at""",
    "edit": f"""
        UPDATE order_order SET total_gross_amount = greatest(total_gross_amount + %(delta)s, 0),
               total_net_amount = greatest(total_net_amount + %(delta)s, 0), updated_at = now()
        WHERE id = ({_PICK.format(which=_COUNTED)}) RETURNING created_at""",
    "draft completed": f"""
        UPDATE order_order SET status = 'unfulfilled', origin = 'draft', updated_at = now()
        WHERE id = ({_PICK.format(which="status = 'draft'")}) RETURNING created_at""",
    "variant deleted": """
        WITH u AS (UPDATE order_orderline SET variant_id = NULL
                   WHERE variant_id = %(variant)s RETURNING created_at)
        SELECT min(created_at) FROM u""",
}


@dataclass(frozen=True)
class History:
    orders: int
    lines: int
    first: datetime  # the oldest order's created_at
    seconds: float


def load_shop(url: str, days: int, per_day: int, seed: float) -> History:
    """Saleor's DDL, two channels and `days` of orders before now, set-based."""
    started = time.perf_counter()
    with connect(url, CHECK_APP) as conn:  # statement by statement (see load)
        platform_shops.load(conn, "saleor", "public")
    with connect(url, CHECK_APP, autocommit=False) as conn:
        conn.execute(_CHANNELS)
        conn.execute("SELECT setseed(%s)", (seed,))
        conn.execute(
            _HISTORY_ORDERS,
            {
                "span": timedelta(days=days),
                "statuses": STATUSES,
                "n_statuses": len(STATUSES),
                "orders": days * per_day,
                "paid": sorted(PAID),
            },
        )
        conn.execute(_HISTORY_LINES, {"variants": VARIANTS})
        row = conn.execute(
            "SELECT (SELECT count(*) FROM order_order), (SELECT count(*) FROM order_orderline), "
            "(SELECT min(created_at) FROM order_order)"
        ).fetchone()
        conn.commit()
    with connect(url, CHECK_APP) as conn:
        conn.execute("VACUUM (ANALYZE) order_order, order_orderline")
    assert row is not None
    return History(int(row[0]), int(row[1]), row[2], time.perf_counter() - started)


# -- orderreport as a process ----------------------------------------------------------------
def orderreport_env(url: str, home: Path, tzdir: Path | None) -> dict[str, str]:
    """An orderreport process's environment: this database, none of the caller's settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ORDERREPORT_")
        and k not in ("DATABASE_URL", "TZ", "PGTZ", "PGOPTIONS", "PGDATABASE", "PGAPPNAME")
    }
    env["ORDERREPORT_DATABASE_URL"] = url
    env["ORDERREPORT_HOME"] = str(home / "unused")  # the URL is given: no embedded server
    env["XDG_CONFIG_HOME"] = str(home / "xdg")  # no one's config file
    if tzdir is not None:
        env["PYTHONTZPATH"] = os.pathsep.join([str(tzdir), *zoneinfo.TZPATH])
    return env


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str
    seconds: float


def orderreport(args: Sequence[str], env: dict[str, str], timeout: float) -> Ran:
    """Run orderreport to its end (SIGKILL at `timeout`: code -9, 'timed out' in err)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [*ORDERREPORT, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += f"\nsoak: timed out after {timeout:.0f} s"
    return Ran(proc.returncode, out, err, time.monotonic() - started)


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


# -- shared state --------------------------------------------------------------------------
class DailyTracker:
    """How many daily processes are alive, and how many have started: a transaction ran
    "with a daily" if one was alive when it began or ended, or one started meanwhile."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.alive = 0
        self.starts = 0

    def started(self) -> None:
        with self._lock:
            self.alive += 1
            self.starts += 1

    def ended(self) -> None:
        with self._lock:
            self.alive -= 1

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.alive, self.starts


@dataclass
class Commit:
    kind: str  # "order", a mutation's name, or "held" (its COMMIT alone)
    seconds: float
    with_daily: bool


@dataclass
class WriterStats:
    commits: list[Commit] = field(default_factory=list)
    orders: Counter[str] = field(default_factory=Counter)  # by currency
    counted: int = 0  # new orders whose status counts
    mutations: Counter[str] = field(default_factory=Counter)
    mutated_days: set[date] = field(default_factory=set)
    held: int = 0  # transactions held open 5-90 s
    across_midnight: int = 0  # … created before midnight, committed after it
    errors: list[str] = field(default_factory=list)


@dataclass
class Held:
    conn: Conn
    commit_at: float  # time.time()
    created_at: datetime | None = None


class Writer(threading.Thread):
    """One shop client: new orders at its share of the rate, changes to past orders, a
    transaction held open now and then (one across midnight)."""

    def __init__(self, soak: Soak, index: int) -> None:
        super().__init__(name=f"writer-{index}", daemon=True)
        self.soak, self.index = soak, index
        self.rng = random.Random(soak.seed * 1000 + index)  # noqa: S311 (not for secrets)
        self.stats = WriterStats()
        self.interval = soak.writers / soak.rate
        self.spanned_midnight = False
        self.app = f"{WRITER_APP}-{index}"

    def reconnect(self, conn: Conn, app: str) -> Conn:
        """`conn` if it is usable, else a new one (kept: a failed one is tried next time)."""
        if not (conn.closed or conn.broken):
            return conn
        with contextlib.suppress(psycopg.Error):
            return connect(self.soak.url, app, autocommit=False)
        return conn

    def run(self) -> None:
        app = self.app
        try:
            conn = connect(self.soak.url, app, autocommit=False)
            held_conn = connect(self.soak.url, f"{app}-held", autocommit=False)
        except psycopg.Error as exc:
            self.stats.errors.append(f"connect: {last_line(str(exc))}")
            return
        held: Held | None = None
        due = time.monotonic()
        try:
            while not self.soak.stopping.is_set() and time.monotonic() < self.soak.run_end:
                if held is not None and time.time() >= held.commit_at:
                    self.commit_held(held)
                    held = None
                if held is None:
                    held_conn = self.reconnect(held_conn, f"{app}-held")
                    held = self.maybe_hold(held_conn)
                due += self.interval
                lag = due - time.monotonic()
                if lag > 0:
                    self.soak.stopping.wait(lag)
                elif lag < -1:
                    due = time.monotonic()  # far behind: no burst to catch up
                conn = self.transaction(conn, "order", self.new_order)
                if self.rng.random() < self.soak.mutations:
                    kind = self.rng.choice(list(_MUTATIONS))
                    conn = self.transaction(conn, kind, functools.partial(self.mutate, kind=kind))
        finally:
            if held is not None:
                self.commit_held(held)  # the run is over: commit it (a late commit too)
            for c in (conn, held_conn):
                with contextlib.suppress(psycopg.Error):
                    c.close()

    def transaction(self, conn: Conn, kind: str, work: Callable[[Conn], None]) -> Conn:
        """Run `work` and commit, timed; on an error roll back (reconnect if need be)."""
        before = self.soak.daily.snapshot()
        started = time.perf_counter()
        try:
            work(conn)
            conn.commit()
        except psycopg.Error as exc:
            self.stats.errors.append(f"{kind}: {last_line(str(exc))}")
            with contextlib.suppress(psycopg.Error):
                conn.rollback()
            return self.reconnect(conn, self.app)
        took = time.perf_counter() - started
        after = self.soak.daily.snapshot()
        during = before[0] > 0 or after[0] > 0 or after[1] != before[1]
        self.stats.commits.append(Commit(kind, took, during))
        return conn

    def new_order(self, conn: Conn) -> None:
        rng = self.rng
        status = rng.choice(STATUSES)
        currency = "EUR" if rng.random() < 0.6 else "USD"
        variants = [
            None if rng.random() < 0.05 else rng.randint(1, VARIANTS)
            for _ in range(rng.randint(0, 4))
        ]
        amount = Decimal(rng.randint(1000, 500_000)) / 1000  # three decimals, as Saleor's
        conn.execute(
            _NEW_ORDER,
            {
                "status": status,
                "currency": currency,
                "amount": amount,
                "lines": len(variants),
                "variants": variants,
                "paid": sorted(PAID),
            },
        )
        self.stats.orders[currency] += 1
        self.stats.counted += status not in NOT_COUNTED

    def mutate(self, conn: Conn, kind: str) -> None:
        back = self.rng.uniform(0, self.soak.history_days)
        at = datetime.now(UTC) - timedelta(days=back)
        delta = Decimal(self.rng.randint(-20_000, 20_000)) / 1000
        row = conn.execute(
            _MUTATIONS[kind],
            {"at": at, "delta": delta, "variant": self.rng.randint(1, VARIANTS)},
        ).fetchone()
        if row is not None and row[0] is not None:
            self.stats.mutations[kind] += 1
            self.stats.mutated_days.add(row[0].astimezone(self.soak.tz).date())

    def maybe_hold(self, conn: Conn) -> Held | None:
        """Open a transaction to hold: now and then, and once in the 90 s before midnight
        (then until after it)."""
        now = time.time()
        to_midnight = self.soak.zone.midnight.timestamp() - now
        lo, hi = HOLD
        if not self.spanned_midnight and 1 <= to_midnight <= hi - 1:
            hold = self.rng.uniform(max(lo, to_midnight + 1), hi)
            self.spanned_midnight = True
        elif self.rng.random() < self.interval / 15:  # one every ~15 s per writer
            hold = self.rng.uniform(lo, hi)
        else:
            return None
        held = Held(conn, now + hold)
        try:
            self.new_order(conn)  # its created_at is now(), the transaction's start
            row = conn.execute("SELECT now()").fetchone()
            held.created_at = row[0] if row else None
        except psycopg.Error as exc:
            self.stats.errors.append(f"held: {last_line(str(exc))}")
            with contextlib.suppress(psycopg.Error):
                conn.rollback()
            return None
        return held

    def commit_held(self, held: Held) -> None:
        before = self.soak.daily.snapshot()
        started = time.perf_counter()
        try:
            held.conn.commit()
        except psycopg.Error as exc:
            self.stats.errors.append(f"held commit: {last_line(str(exc))}")
            with contextlib.suppress(psycopg.Error):
                held.conn.rollback()
            return
        took = time.perf_counter() - started
        after = self.soak.daily.snapshot()
        self.stats.commits.append(
            Commit("held", took, before[0] > 0 or after[0] > 0 or after[1] != before[1])
        )
        self.stats.held += 1
        midnight = self.soak.zone.midnight
        if held.created_at is not None and held.created_at < midnight <= datetime.now(UTC):
            self.stats.across_midnight += 1


@dataclass
class DailyRecord:
    """One `orderreport daily` process of the run."""

    pid: int
    started: float  # time.time()
    paired: bool
    planned: signal.Signals | None = None  # the signal it was to get
    delay: float = 0.0  # … this long after it started (planned, or when it was sent)
    after_outcome: bool = False  # … as soon as the run log had its outcome
    killed: signal.Signals | None = None  # the signal it got while alive
    code: int | None = None
    seconds: float = 0.0
    err: str = ""


class DailyRuns(threading.Thread):
    """Starts `daily` every ~`every` s (two at once now and then), kills some."""

    def __init__(self, soak: Soak) -> None:
        super().__init__(name="daily-runs", daemon=True)
        self.soak = soak
        self.rng = random.Random(soak.seed * 7919)  # noqa: S311 (not for secrets)
        self.records: list[DailyRecord] = []
        self.watchers: list[threading.Thread] = []
        self.durations: list[float] = []  # of runs that ended by themselves
        self.lock = threading.Lock()

    def run(self) -> None:
        soak = self.soak
        due = time.monotonic() + self.rng.uniform(0, soak.every)
        while not soak.stopping.is_set():
            wait = due - time.monotonic()
            if wait > 0 and soak.stopping.wait(wait):
                break
            if time.monotonic() >= soak.run_end - 1:
                break
            paired = self.rng.random() < soak.pairs
            for _ in range(2 if paired else 1):
                planned: signal.Signals | None = None
                delay, after_outcome = 0.0, False
                if self.rng.random() < soak.kills:
                    # a third each: SIGTERM or SIGKILL anywhere in its life, SIGTERM the
                    # moment its outcome is committed (a rare moment for a random signal)
                    how = self.rng.randrange(3)
                    planned = signal.SIGKILL if how == 1 else signal.SIGTERM
                    after_outcome = how == 2
                    delay = self.rng.uniform(0, 1.1 * self.typical())
                watcher = threading.Thread(
                    target=self.one, args=(paired, planned, delay, after_outcome), daemon=True
                )
                watcher.start()
                self.watchers.append(watcher)
            due += soak.every * self.rng.uniform(0.7, 1.3)

    _OUTCOME = """
        SELECT 1 FROM orderreport.runs
        WHERE pid = %s AND finished_at IS NOT NULL AND started_at > now() - interval '1 hour'
        """

    def signal_after_outcome(
        self, proc: subprocess.Popen[str], record: DailyRecord, started: float
    ) -> None:
        """SIGTERM `proc` as soon as its run's outcome is committed (polled every 2 ms): the
        outcome must stand, exit code included."""
        try:
            conn = connect(self.soak.url, CHECK_APP)
        except psycopg.Error:
            return
        with conn:
            deadline = time.monotonic() + DAILY_TIMEOUT
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    done = conn.execute(self._OUTCOME, (proc.pid,)).fetchone()
                except psycopg.Error:
                    return
                if done is not None:
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGTERM)
                        record.killed = signal.SIGTERM
                        record.delay = time.monotonic() - started
                    return
                time.sleep(0.002)

    def typical(self) -> float:
        with self.lock:
            done = sorted(self.durations)
        return done[len(done) // 2] if done else 1.5

    def one(
        self, paired: bool, planned: signal.Signals | None, delay: float, after_outcome: bool
    ) -> None:
        soak = self.soak
        args = ["daily", "--platform", "saleor", "--tz", soak.zone.name]
        soak.daily.started()
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                [*ORDERREPORT, *args],
                env=soak.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        except OSError as exc:
            soak.daily.ended()
            with self.lock:
                self.records.append(DailyRecord(0, time.time(), paired, err=str(exc), code=-1))
            return
        record = DailyRecord(proc.pid, time.time(), paired, planned, delay, after_outcome)
        with self.lock:
            self.records.append(record)
        err = ""
        try:
            if planned is not None and after_outcome:
                self.signal_after_outcome(proc, record, started)
            elif planned is not None:
                try:
                    _out, err = proc.communicate(timeout=delay)
                except subprocess.TimeoutExpired:
                    if proc.poll() is None:
                        proc.send_signal(planned)
                        record.killed = planned
            try:
                _out, more = proc.communicate(timeout=DAILY_TIMEOUT)
                err += more or ""
            except subprocess.TimeoutExpired:
                proc.kill()
                _out, more = proc.communicate()
                err += (more or "") + f"\nsoak: timed out after {DAILY_TIMEOUT:.0f} s"
        finally:
            soak.daily.ended()
        record.code, record.err = proc.returncode, err
        record.seconds = time.monotonic() - started
        if record.killed is None and "timed out" not in err:
            with self.lock:
                self.durations.append(record.seconds)


def kill_text(d: DailyRecord) -> str:
    """How `d` was killed, for a message: '' if it was not."""
    if d.killed is None:
        return ""
    what = AFTER_OUTCOME if d.after_outcome else KILLED_BY[d.killed]
    return f" ({what}, {d.delay:.2f} s after its start)"


@dataclass
class LockWait:
    at: str
    waiter: str
    blocker: str
    what: str


class LockSampler(threading.Thread):
    """Once a second, and every SAMPLE_BUSY s while a daily process is alive: who waits on
    a lock, and who holds it (pg_blocking_pids)."""

    QUERY = """
        SELECT w.application_name, b.application_name, w.wait_event,
               left(regexp_replace(w.query, '\\s+', ' ', 'g'), 100),
               left(regexp_replace(b.query, '\\s+', ' ', 'g'), 100)
        FROM pg_stat_activity w
        CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS x(pid)
        JOIN pg_stat_activity b ON b.pid = x.pid
        WHERE w.wait_event_type = 'Lock' AND w.datname = current_database()
        """

    def __init__(self, soak: Soak) -> None:
        super().__init__(name="lock-sampler", daemon=True)
        self.soak = soak
        self.samples = 0
        self.on_orderreport: list[LockWait] = []  # the shop waiting on orderreport
        self.others: Counter[str] = Counter()  # every other wait, "waiter on blocker"
        self.with_daily = 0  # samples taken while a daily process was alive
        self.errors: list[str] = []

    def run(self) -> None:
        try:
            conn = connect(self.soak.url, SAMPLER_APP)
        except psycopg.Error as exc:
            self.errors.append(last_line(str(exc)))
            return
        with conn:
            while not self.soak.stopping.is_set() and time.monotonic() < self.soak.run_end:
                try:
                    rows = conn.execute(self.QUERY).fetchall()
                except psycopg.Error as exc:
                    self.errors.append(last_line(str(exc)))
                    rows = []
                self.samples += 1
                self.with_daily += self.soak.daily.snapshot()[0] > 0
                for waiter, blocker, event, query, holding in rows:
                    kind = (_role(str(waiter)), _role(str(blocker)))
                    if kind[0] != APP and kind[1] == APP:
                        self.on_orderreport.append(
                            LockWait(
                                f"{datetime.now(UTC):%H:%M:%S}",
                                str(waiter),
                                str(blocker),
                                f"{event}: {query} / holder: {holding}",
                            )
                        )
                    else:
                        self.others[f"{kind[0]} on {kind[1]}"] += 1
                # a daily run lives well under a second: look closer while one is alive
                busy = self.soak.daily.snapshot()[0] > 0
                self.soak.stopping.wait(SAMPLE_BUSY if busy else SAMPLE_IDLE)


def _role(app: str) -> str:
    if app == APP:
        return APP
    if app.startswith(WRITER_APP):
        return "shop"
    return app or "(none)"


# -- the soak ------------------------------------------------------------------------------
@dataclass
class Soak:
    """The run's settings and what its threads share."""

    url: str
    zone: Zone
    env: dict[str, str]
    duration: float
    writers: int
    rate: float
    every: float
    pairs: float
    kills: float
    mutations: float
    history_days: int
    seed: int
    run_end: float = 0.0  # time.monotonic()
    stopping: threading.Event = field(default_factory=threading.Event)
    daily: DailyTracker = field(default_factory=DailyTracker)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.zone.name)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile `p` (0-100] of `values`; None if there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Latency:
    n: int
    p50: float | None
    p99: float | None

    @staticmethod
    def of(values: Sequence[float]) -> Latency:
        return Latency(len(values), percentile(values, 50), percentile(values, 99))

    def text(self) -> str:
        if not self.n or self.p50 is None or self.p99 is None:
            return "none"
        return f"p50 {self.p50 * 1000:.1f} ms, p99 {self.p99 * 1000:.1f} ms ({self.n:,})"


@dataclass
class SoakResult:
    """What the soak did and found. `failures` empty: it passed."""

    options: str
    where: str
    postgres: str
    zone: Zone
    run_start: datetime
    run_end: datetime
    history: History
    orders: Counter[str]
    counted: int
    mutations: Counter[str]
    mutated_days: list[date]
    held: int
    across_midnight: int
    latency_without: Latency
    latency_with: Latency
    latency_held: Latency
    writer_errors: list[str]
    daily: list[DailyRecord]
    exit_codes: Counter[int]
    killed: Counter[str]
    undocumented: list[str]
    runlog_disagreements: list[str]
    restated_wrong: list[str]
    late_signal_kept: int  # SIGTERMed after its outcome was committed: its exit code stood
    changed_days: int  # days the runs restated with changed figures (the run log)
    lock_samples: int
    lock_samples_with_daily: int
    lock_waits: list[LockWait]
    other_waits: Counter[str]
    final_daily: Ran
    window: tuple[date, date] | None
    verify_window: Ran
    verify_window_rows: list[dict[str, Any]]
    verify_all: Ran
    verify_all_days: list[str]
    stored_days: int
    hand_rows: int
    hand_mismatches: list[str]
    leftover_backends: int
    leftover_locks: int
    started: report.Start
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def midnight_into_run(self) -> float:
        return (self.zone.midnight - self.run_start).total_seconds()

    @property
    def midnight_inside(self) -> bool:
        return self.run_start < self.zone.midnight < self.run_end

    def markdown(self) -> str:
        r = self
        seconds = (r.run_end - r.run_start).total_seconds()
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(r.exit_codes.items()))
        pairs = sum(1 for d in r.daily if d.paired) // 2
        killed = ", ".join(f"{name} {n}" for name, n in sorted(r.killed.items())) or "none"
        planned_not = sum(1 for d in r.daily if d.planned is not None and d.killed is None)
        orders = sum(r.orders.values())
        per_currency = ", ".join(f"{c} {n:,}" for c, n in sorted(r.orders.items()))
        mutations = ", ".join(f"{k} {n:,}" for k, n in sorted(r.mutations.items())) or "none"
        inside = "inside the run" if r.midnight_inside else "**outside the run**"
        window = f"{r.window[0]} to {r.window[1]}" if r.window else "none"
        verified = (
            "clean (exit 0, no figure differs)"
            if r.verify_window.code == 0 and not r.verify_window_rows
            else f"**not clean** (exit {r.verify_window.code}, "
            f"{len(r.verify_window_rows)} figures differ)"
        )
        older = (
            f"{len(r.verify_all_days)} of {r.stored_days} days differ ("
            + ", ".join(r.verify_all_days)
            + "): all before the window, edited after their last restatement, as README says"
            if r.verify_all_days
            else f"all {r.stored_days} days match"
        )
        hand = (
            "**nothing compared**"
            if not r.hand_rows
            else f"agree on all {r.hand_rows} day-currency rows"
            if not r.hand_mismatches
            else f"**{len(r.hand_mismatches)} of {r.hand_rows} day-currency rows differ**"
        )
        waits_other = ", ".join(f"{k}: {n}" for k, n in sorted(r.other_waits.items())) or "none"
        rows = [
            ("server", r.postgres.split(" on ")[0] + f", on {r.where}"),
            ("zone", f"`{r.zone.name}`: {r.zone.how}"),
            (
                "midnight",
                f"{r.zone.midnight:%Y-%m-%d %H:%M:%S} UTC, {r.midnight_into_run:.0f} s into "
                f"the {seconds:.0f} s run: {inside}",
            ),
            (
                "history",
                f"{r.history.orders:,} orders, {r.history.lines:,} lines over "
                f"{(r.run_start - r.history.first).days + 1} days, loaded in "
                f"{r.history.seconds:.1f} s",
            ),
            (
                "orders written",
                f"{orders:,} ({orders / seconds:.1f}/s; {per_currency}), {r.counted:,} that "
                f"count; {r.held:,} held open {HOLD[0]:.0f}-{HOLD[1]:.0f} s, "
                f"{r.across_midnight} of them across midnight",
            ),
            (
                "changes to past orders",
                f"{mutations}, on {len(r.mutated_days)} days",
            ),
            ("commit latency, no daily running", r.latency_without.text()),
            ("commit latency, a daily running", r.latency_with.text()),
            ("COMMIT of a held transaction", r.latency_held.text()),
            ("shop write errors", str(len(r.writer_errors))),
            (
                "daily runs",
                f"{len(r.daily)} started, {pairs} pairs started together; "
                f"killed while alive: {killed} ({planned_not} ended before their signal)",
            ),
            ("daily exit codes", codes or "none"),
            (
                "undocumented exit codes",
                "; ".join(r.undocumented) if r.undocumented else "none",
            ),
            (
                "run log",
                (
                    "every exit code is its run's recorded one"
                    if not r.runlog_disagreements
                    else f"**{len(r.runlog_disagreements)} disagree**"
                )
                + f"; every succeeded run restated {DEFAULT_RESTATE} days" * (not r.restated_wrong)
                + (f"; **{len(r.restated_wrong)} restated otherwise**" if r.restated_wrong else "")
                + f"; {r.changed_days} restatements changed a day; SIGTERM after the outcome "
                f"was committed, exit code kept: {r.late_signal_kept}",
            ),
            (
                "lock sampler",
                f"{r.lock_samples} samples ({r.lock_samples_with_daily} with a daily alive); "
                f"the shop waiting on orderreport: {len(r.lock_waits)}; other waits: "
                f"{waits_other}",
            ),
            (
                "final `daily --wait 60`",
                f"exit {r.final_daily.code} in {r.final_daily.seconds:.1f} s",
            ),
            (f"verify, restate window ({DEFAULT_RESTATE} newest days: {window})", verified),
            ("verify, every stored day", older),
            ("hand SQL vs daily_reports, window", hand),
            (
                "left behind",
                f"{r.leftover_backends} orderreport backends, {r.leftover_locks} advisory locks",
            ),
        ]
        table = ["| | |", "|---|---|"] + [f"| {k} | {_cell(v)} |" for k, v in rows]
        verdict = (
            ["**Verdict: pass.**"]
            if r.ok
            else ["**Verdict: FAIL:**", *[f"- {f}" for f in r.failures]]
        )
        checkout = report.checkout()
        if checkout != r.started.checkout:
            verdict += [
                "",
                f"Note: orderreport's files changed during the run ({r.started.checkout} at "
                f"the start, {checkout} at the end): its processes ran both versions.",
            ]
        details = []
        for d in r.daily:
            expected_death = d.killed is not None and d.code == -d.killed
            if d.code is not None and not expected_death and d.code not in (0, 75, 143):
                details.append(f"- daily pid {d.pid} exit {d.code}: {last_line(d.err)}")
        details += [f"- run log: {x}" for x in r.runlog_disagreements[:20]]
        details += [f"- restated: {x}" for x in r.restated_wrong[:20]]
        details += [
            f"- lock wait {w.at}: {w.waiter} on {w.blocker}: {w.what}" for w in r.lock_waits[:20]
        ]
        details += [
            f"- verify (window): {json.dumps(x, default=str)}" for x in r.verify_window_rows[:20]
        ]
        details += [f"- hand SQL: {x}" for x in r.hand_mismatches[:20]]
        details += [f"- shop write error: {x}" for x in r.writer_errors[:20]]
        return "\n".join(
            [
                f"## Soak: {seconds:.0f} s across the shop's midnight ({r.run_start:%Y-%m-%d})",
                "",
                f"`uv run python bench/soak.py {r.options}`",
                "",
                *[f"- {fact}" for fact in report.machine(r.postgres, r.started)],
                "",
                *table,
                "",
                *verdict,
                *(["", *details] if details else []),
            ]
        )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def wait_for_midnight_slot(zone: Zone, duration: float) -> None:
    """Sleep until the zone's midnight is duration/2 ahead (bounded: the zone was chosen so
    that this is at most a minute or so; a forced zone is not waited for)."""
    if zone.how == "given with --tz":
        return
    wait = (zone.midnight - datetime.now(UTC)).total_seconds() - duration / 2
    if wait > 0:
        say(f"waiting {wait:.0f} s so that midnight falls mid-run")
        time.sleep(min(wait, SETUP_LEAD + 90))


def stored_days(conn: Conn, zone: str) -> list[date]:
    rows = conn.execute(
        "SELECT DISTINCT report_date FROM orderreport.daily_reports WHERE time_zone = %s "
        "ORDER BY 1",
        (zone,),
    ).fetchall()
    return [row[0] for row in rows]


_HAND = """
    SELECT o.currency, count(*),
           coalesce(sum((SELECT count(*) FROM order_orderline l WHERE l.order_id = o.id)), 0),
           coalesce(sum(round(o.total_gross_amount, 2)), 0)
    FROM order_order o
    WHERE o.created_at >= %(start)s AND o.created_at < %(end)s
      AND o.status NOT IN ('draft', 'canceled', 'expired')
    GROUP BY o.currency ORDER BY o.currency
    """
_STORED = """
    SELECT currency, total_orders, total_products, total_value, average_products_per_order,
           average_order_value
    FROM orderreport.daily_reports WHERE time_zone = %(zone)s AND report_date = %(day)s
    ORDER BY currency
    """


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def hand_check(conn: Conn, zone: Zone, days: Sequence[date]) -> tuple[int, list[str]]:
    """Saleor's rule by hand over `days`, day bounds from Python's zoneinfo, against
    daily_reports: (rows compared, differences)."""
    tz = zoneinfo.ZoneInfo(zone.name)
    compared, wrong = 0, []
    for day in days:
        start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
        after = day + timedelta(days=1)
        end = datetime(after.year, after.month, after.day, tzinfo=tz).astimezone(UTC)
        live: dict[str, tuple[int, int, Decimal, Decimal, Decimal]] = {}
        for currency, n, lines, value in conn.execute(_HAND, {"start": start, "end": end}):
            n, lines, value = int(n), int(lines), Decimal(value)
            live[str(currency)] = (
                n,
                lines,
                cents(value),
                cents(Decimal(lines) / n),
                cents(value / n),
            )
        if not live:
            live[""] = (0, 0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
        stored = {
            str(c): (int(n), int(p), cents(v), cents(ap), cents(av))
            for c, n, p, v, ap, av in conn.execute(_STORED, {"zone": zone.name, "day": day})
        }
        for currency in sorted(set(live) | set(stored)):
            compared += 1
            if live.get(currency) != stored.get(currency):
                wrong.append(
                    f"{day} {currency or '(none)'}: stored {stored.get(currency)}, "
                    f"by hand {live.get(currency)}"
                )
    return compared, wrong


_RUNLOG = """
    SELECT pid, status, exit_code, days_restated, days_changed, finished_at IS NOT NULL,
           started_at, catch_up
    FROM orderreport.runs WHERE time_zone = %s ORDER BY id
    """


def check_runlog(
    conn: Conn, zone: str, daily: Sequence[DailyRecord]
) -> tuple[list[str], list[str], int, int]:
    """The run log against the processes: (disagreements, succeeded runs that restated other
    than DEFAULT_RESTATE days, SIGTERMed runs whose committed outcome's exit code stood,
    restatements that changed a day)."""
    rows = conn.execute(_RUNLOG, (zone,)).fetchall()
    by_pid: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_pid.setdefault(int(row[0]), []).append(tuple(row))
    disagree, restated, kept = [], [], 0
    changed = sum(int(row[4]) for row in rows)
    for row in rows:
        pid, status, days_restated, catch_up = row[0], row[1], row[3], row[7]
        # a catch-up run (the soak's and the final one; not the backfill of every day)
        if catch_up and status == "succeeded" and days_restated != DEFAULT_RESTATE:
            restated.append(f"run of pid {pid} succeeded having restated {days_restated} days")
    for d in daily:
        if d.code is None:
            continue
        found = by_pid.get(d.pid, [])
        mine = [r for r in found if abs(r[6].timestamp() - d.started) < 60]
        how = f"pid {d.pid}{kill_text(d)}"
        if d.killed == signal.SIGKILL:
            continue  # it may or may not have recorded an outcome: both are right
        if not mine:
            if d.code not in (143, -15, 130) or d.killed is None:
                disagree.append(f"{how} exited {d.code} and has no run log row")
            continue
        row = mine[-1]
        if not row[5]:
            disagree.append(f"{how} exited {d.code} but its run log row never finished")
        elif row[2] != d.code:
            disagree.append(f"{how} exited {d.code}, its run log row says {row[1]}, exit {row[2]}")
        elif d.killed == signal.SIGTERM and d.code != 143:
            kept += 1
    return disagree, restated, kept, changed


def leftovers(url: str) -> tuple[int, int]:
    """orderreport backends and advisory locks still there, after up to 15 s for a killed
    run's backend to notice its client is gone."""
    with connect(url, CHECK_APP) as conn:
        deadline = time.monotonic() + 15
        while True:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                "          AND datname = current_database()), "
                "       (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                "          database = (SELECT oid FROM pg_database "
                "                      WHERE datname = current_database()))",
                (APP,),
            ).fetchone()
            assert row is not None
            backends, locks = int(row[0]), int(row[1])
            if (backends == 0 and locks == 0) or time.monotonic() > deadline:
                return backends, locks
            time.sleep(0.5)


def run(
    url: str | None = None,
    *,
    duration: float = 300,
    writers: int = 5,
    rate: float = 100,
    every: float = 10,
    pairs: float = 0.2,
    kills: float = 0.2,
    mutations: float = 0.15,
    history_days: int = 12,
    history_per_day: int = 3000,
    tz: str | None = None,
    seed: int = 1,
    options: str = "",
) -> SoakResult:
    """The soak (see the module's docstring) on a new database of `url`'s server, else on
    an embedded server of its own. Everything it makes is removed at the end."""
    if duration <= 0 or writers < 1 or rate <= 0 or every <= 0:
        raise UsageError("--duration, --writers, --rate and --every must be positive")
    started = report.started()
    scratch = Path(tempfile.mkdtemp(prefix="orderreport-soak-files-"))
    saved_tzpath = zoneinfo.TZPATH
    try:
        with soak_database(url) as (db_url, where):
            say(f"shop on {where}")
            history = load_shop(db_url, history_days, history_per_day, seed / 1000 % 1)
            say(f"history: {history.orders:,} orders, {history.lines:,} lines")
            env = orderreport_env(db_url, scratch, None)
            migrated = orderreport(["migrate", "--platform", "saleor"], env, FINAL_TIMEOUT)
            if migrated.code != 0:
                raise RuntimeError(f"migrate exited {migrated.code}: {last_line(migrated.err)}")
            with connect(db_url, CHECK_APP) as conn:
                zone = choose_zone(datetime.now(UTC), duration, scratch / "zones", tz)
                problem = check_zone(conn, zone)
                if problem and zone.tzdir is None and not tz:
                    say(f"{problem}: making a zone instead")
                    up = zone.midnight.replace(second=0, microsecond=0)
                    zone = made_zone(up, scratch / "zones")
                    problem = check_zone(conn, zone)
                if problem:
                    raise RuntimeError(problem)
                dbname = make_url(db_url).database or ""
                conn.execute(
                    sql.SQL("ALTER DATABASE {} SET TimeZone TO {}").format(
                        sql.Identifier(dbname), sql.Literal(zone.name)
                    )
                )
                postgres = str((conn.execute("SELECT version()").fetchone() or ("",))[0])
            say(f"zone {zone.name}: midnight at {zone.midnight:%H:%M:%S} UTC ({zone.how})")
            env = orderreport_env(db_url, scratch, zone.tzdir)
            tzflags = ["--platform", "saleor", "--tz", zone.name]
            first = history.first.astimezone(zoneinfo.ZoneInfo(zone.name)).date()
            yesterday = datetime.now(zoneinfo.ZoneInfo(zone.name)).date() - timedelta(days=1)
            backfill = orderreport(
                ["daily", *tzflags, "--from", first.isoformat(), "--to", yesterday.isoformat()],
                env,
                FINAL_TIMEOUT,
            )
            if backfill.code != 0:
                raise RuntimeError(f"backfill exited {backfill.code}: {last_line(backfill.err)}")
            wait_for_midnight_slot(zone, duration)

            soak = Soak(
                db_url,
                zone,
                env,
                duration,
                writers,
                rate,
                every,
                pairs,
                kills,
                mutations,
                history_days,
                seed,
            )
            run_start = datetime.now(UTC)
            soak.run_end = time.monotonic() + duration
            say(f"running {duration:.0f} s: {writers} writers, {rate:g} orders/s")
            threads_w = [Writer(soak, i + 1) for i in range(writers)]
            sampler, dailies = LockSampler(soak), DailyRuns(soak)
            for t in [*threads_w, sampler, dailies]:
                t.start()
            try:
                while time.monotonic() < soak.run_end:
                    time.sleep(min(5.0, max(0.0, soak.run_end - time.monotonic())))
            finally:
                soak.stopping.set()
                for t in [*threads_w, sampler, dailies]:
                    t.join(timeout=180)
                for w in list(dailies.watchers):
                    w.join(timeout=DAILY_TIMEOUT + 30)
            run_end = datetime.now(UTC)
            say("stopped: the final daily, verify and the checks")

            final = orderreport(["daily", *tzflags, "--wait", "60"], env, FINAL_TIMEOUT)
            with connect(db_url, CHECK_APP) as conn:
                days = stored_days(conn, zone.name)
                window_days = days[-DEFAULT_RESTATE:]
                window = (window_days[0], window_days[-1]) if window_days else None
                hand_rows, hand_wrong = hand_check(conn, zone, window_days)
            verify_window = Ran(1, "[]", "soak: no stored days", 0.0)
            window_rows: list[dict[str, Any]] = []
            if window is not None:
                span = ["--from", window[0].isoformat(), "--to", window[1].isoformat()]
                verify_window = orderreport(
                    ["verify", "--json", *tzflags, *span], env, FINAL_TIMEOUT
                )
                window_rows = _json_rows(verify_window.out)
            verify_all = orderreport(["verify", "--json", *tzflags], env, FINAL_TIMEOUT)
            all_days = sorted({str(r.get("date")) for r in _json_rows(verify_all.out)})
            with connect(db_url, CHECK_APP) as conn:
                disagree, restated, kept, changed = check_runlog(conn, zone.name, dailies.records)
            backends, locks = leftovers(db_url)
    finally:
        zoneinfo.reset_tzpath(list(saved_tzpath))
        shutil.rmtree(scratch, ignore_errors=True)

    stats = [w.stats for w in threads_w]
    commits = [c for s in stats for c in s.commits]
    result = SoakResult(
        options=options,
        where=where,
        postgres=postgres,
        zone=zone,
        run_start=run_start,
        run_end=run_end,
        history=history,
        orders=sum((s.orders for s in stats), Counter()),
        counted=sum(s.counted for s in stats),
        mutations=sum((s.mutations for s in stats), Counter()),
        mutated_days=sorted({d for s in stats for d in s.mutated_days}),
        held=sum(s.held for s in stats),
        across_midnight=sum(s.across_midnight for s in stats),
        latency_without=Latency.of(
            [c.seconds for c in commits if c.kind != "held" and not c.with_daily]
        ),
        latency_with=Latency.of([c.seconds for c in commits if c.kind != "held" and c.with_daily]),
        latency_held=Latency.of([c.seconds for c in commits if c.kind == "held"]),
        writer_errors=[e for s in stats for e in s.errors],
        daily=list(dailies.records),
        exit_codes=Counter(d.code for d in dailies.records if d.code is not None),
        killed=Counter(
            AFTER_OUTCOME if d.after_outcome else KILLED_BY[d.killed]
            for d in dailies.records
            if d.killed is not None
        ),
        undocumented=[],
        runlog_disagreements=disagree,
        restated_wrong=restated,
        late_signal_kept=kept,
        changed_days=changed,
        lock_samples=sampler.samples,
        lock_samples_with_daily=sampler.with_daily,
        lock_waits=sampler.on_orderreport,
        other_waits=sampler.others,
        final_daily=final,
        window=window,
        verify_window=verify_window,
        verify_window_rows=window_rows,
        verify_all=verify_all,
        verify_all_days=all_days,
        stored_days=len(days),
        hand_rows=hand_rows,
        hand_mismatches=hand_wrong,
        leftover_backends=backends,
        leftover_locks=locks,
        started=started,
    )
    judge(result, sampler.errors)
    return result


def _json_rows(text: str) -> list[dict[str, Any]]:
    try:
        found = json.loads(text or "[]")
    except json.JSONDecodeError:
        return [{"unparsed": text[:200]}]
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def judge(r: SoakResult, sampler_errors: Sequence[str]) -> None:
    """Fill r.undocumented and r.failures."""
    for d in r.daily:
        expected_death = d.killed is not None and d.code == -d.killed
        if d.code is None or d.code in DOCUMENTED or expected_death:
            continue
        how = kill_text(d)
        r.undocumented.append(f"pid {d.pid} exit {d.code}{how}: {last_line(d.err)}")
    if r.undocumented:
        r.failures.append(f"undocumented exit codes: {'; '.join(r.undocumented[:5])}")
    if r.runlog_disagreements:
        r.failures.append(
            f"the run log disagrees with {len(r.runlog_disagreements)} exit codes: "
            + "; ".join(r.runlog_disagreements[:5])
        )
    if r.restated_wrong:
        r.failures.append(
            f"{len(r.restated_wrong)} succeeded runs restated other than {DEFAULT_RESTATE} days"
        )
    if r.final_daily.code != 0:
        r.failures.append(
            f"the final daily exited {r.final_daily.code}: {last_line(r.final_daily.err)}"
        )
    if r.window is None:
        r.failures.append("no stored days to verify")
    elif r.verify_window.code != 0 or r.verify_window_rows:
        r.failures.append(
            f"verify over the restate window {r.window[0]}..{r.window[1]} exited "
            f"{r.verify_window.code} with {len(r.verify_window_rows)} differing figures: "
            f"{last_line(r.verify_window.err)}"
        )
    if r.verify_all.code not in (0, 1):
        r.failures.append(
            f"verify over every stored day exited {r.verify_all.code}: "
            f"{last_line(r.verify_all.err)}"
        )
    if r.window is not None and r.verify_all_days and max(r.verify_all_days) >= str(r.window[0]):
        r.failures.append("verify over every stored day found a difference inside the window")
    if r.hand_mismatches or not r.hand_rows:
        r.failures.append(
            f"the hand computation disagrees with daily_reports on {len(r.hand_mismatches)} "
            f"rows of {r.hand_rows}"
        )
    if r.lock_waits:
        r.failures.append(f"the shop waited on orderreport's locks in {len(r.lock_waits)} samples")
    if sampler_errors:
        r.failures.append(f"the lock sampler failed: {sampler_errors[0]}")
    if r.writer_errors:
        r.failures.append(
            f"{len(r.writer_errors)} of the shop's transactions failed: {r.writer_errors[0]}"
        )
    if r.leftover_backends or r.leftover_locks:
        r.failures.append(
            f"left behind: {r.leftover_backends} orderreport backends, "
            f"{r.leftover_locks} advisory locks"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=300, help="seconds of load")
    parser.add_argument("--writers", type=int, default=5, help="shop client threads")
    parser.add_argument("--rate", type=float, default=100, help="new orders per second, in all")
    parser.add_argument("--every", type=float, default=10, help="seconds between daily starts")
    parser.add_argument("--pairs", type=float, default=0.2, help="fraction started two at once")
    parser.add_argument("--kills", type=float, default=0.2, help="fraction killed (TERM/KILL)")
    parser.add_argument(
        "--mutations", type=float, default=0.15, help="changes to past orders per new order"
    )
    parser.add_argument("--history-days", type=int, default=12, help="days of orders before")
    parser.add_argument("--history-per-day", type=int, default=3000, help="their orders per day")
    parser.add_argument("--tz", help="the shop's zone (default: one whose midnight is mid-run)")
    parser.add_argument("--seed", type=int, default=1, help="the random choices' seed")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("ORDERREPORT_SOAK_DATABASE_URL"),
        help="a server to create the soak's database on (default: "
        "$ORDERREPORT_SOAK_DATABASE_URL, else an embedded server)",
    )
    parser.add_argument("--out", type=Path, help="put the report in this markdown file")
    args = parser.parse_args(argv)
    given, skip = [], False
    for arg in argv if argv is not None else sys.argv[1:]:
        if skip or arg.startswith("--database-url"):
            skip = arg == "--database-url"
            continue
        given.append(arg)
    try:
        result = run(
            args.database_url,
            duration=args.duration,
            writers=args.writers,
            rate=args.rate,
            every=args.every,
            pairs=args.pairs,
            kills=args.kills,
            mutations=args.mutations,
            history_days=args.history_days,
            history_per_day=args.history_per_day,
            tz=args.tz,
            seed=args.seed,
            options=" ".join(given),
        )
    except (UsageError, RuntimeError, psycopg.Error) as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 1
    shown = result.markdown()
    print(shown, flush=True)
    if args.out:
        report.write_section(args.out, "soak", shown)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
