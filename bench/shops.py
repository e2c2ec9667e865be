"""The bench's shops: loaded once, kept, and reused by every later run.

A plain shop is loaded by orderreport's own `demo` (the command a person runs) into a
database of its own; the partitioned shop is a copy of a plain one whose `orders` is
partitioned by month on created_at. Every step looks first at what is there: a database
that holds the right shop is used as it is, one that holds another is refused, never
overwritten, and an interrupted load leaves nothing (`demo` and the copy are each one
transaction).
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from orderreport import db, objects
from orderreport import shop as shop_mod
from orderreport.config.settings import Settings, load_settings
from orderreport.reports import demo as demo_mod

TZ = "Europe/Moscow"  # the shop's zone: whole-hour offset, no clock changes since 2014
ORDERREPORT = [sys.executable, "-m", "orderreport"]


class BenchError(Exception):
    """The bench cannot go on: a database holds another shop, a command failed."""


@dataclass(frozen=True)
class Size:
    """A demo shop: `days` days of exactly `per_day` orders each, ending yesterday."""

    name: str
    days: int
    per_day: int

    @property
    def orders(self) -> int:
        return self.days * self.per_day

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")


SIZES = {
    "tiny": Size("tiny", 40, 5),
    "1M": Size("1M", 365, 2740),
    "10M": Size("10M", 3650, 2740),
}
# What each size is compared with for "a day costs the same however long the history": a
# tenth of its days at the same orders per day, so one day holds as many orders in both.
SMALLER = {
    "tiny": Size("tiny/10", 4, 5),
    "1M": Size("100k", 36, 2740),
    "10M": SIZES["1M"],
}


def libpq(url: URL) -> str:
    """`url` as a libpq URI, as psql and psycopg take it (password included)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def settings_for(url: URL) -> Settings:
    """orderreport's settings for `url` in the shop's zone, ignoring the caller's own."""
    return load_settings(database_url=libpq(url), tz=TZ, env={})


def orderreport_env(url: URL, home: Path | None) -> dict[str, str]:
    """The environment of an orderreport process on `url`: none of the caller's settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ORDERREPORT_", "PG")) and k not in ("DATABASE_URL", "TZ")
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # compiled bytecode, as an installed tool has
    env["ORDERREPORT_DATABASE_URL"] = libpq(url)
    env["ORDERREPORT_TZ"] = TZ
    if home is not None:
        env["ORDERREPORT_HOME"] = str(home)
    return env


@dataclass(frozen=True)
class Databases:
    """Where each shop of a run lives (one server, several databases)."""

    main: URL  # the shop measured
    small: URL  # a tenth of its history: the "flat as history grows" rows
    part: URL  # the main shop again, `orders` partitioned by month
    demo: URL  # scratch: `demo` is timed loading it, then it is dropped


def databases(server: URL, size: Size, *, given: bool) -> Databases:
    """The databases for `size`: `server`'s own database and siblings named after it when
    the URL was given, else bench_<size> databases on the embedded server."""
    smaller = SMALLER[size.name]
    if given and server.database:
        main = server.database
        names = (main, f"{main}_small", f"{main}_part", f"{main}_demo")
    else:
        names = (
            f"bench_{size.slug}",
            f"bench_{smaller.slug}",
            f"bench_{size.slug}_part",
            "bench_demo",
        )
    main_url, small, part, scratch = (server.set(database=n) for n in names)
    return Databases(main_url, small, part, scratch)


def _admin(server: URL) -> psycopg.Connection[tuple[object, ...]]:
    failure: Exception | None = None
    for name in ("postgres", "template1"):
        try:
            return psycopg.connect(libpq(server.set(database=name)), autocommit=True)
        except psycopg.OperationalError as exc:
            failure = exc
    raise BenchError(f"cannot connect to the server to create databases: {failure}")


def create_database(url: URL) -> None:
    """Create the database of `url` unless it exists."""
    assert url.database is not None
    with _admin(url) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone():
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(url.database)))


def drop_database(url: URL) -> None:
    assert url.database is not None
    with _admin(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(url.database))
        )


def connect(url: URL, *, autocommit: bool = True) -> psycopg.Connection[tuple[object, ...]]:
    """A plain psycopg connection in the shop's zone."""
    return psycopg.connect(libpq(url), autocommit=autocommit, options=f"-c TimeZone={TZ}")


def order_count(url: URL) -> int | None:
    """How many orders the database holds; None if it has no orders table."""
    with connect(url) as conn:
        found = conn.execute("SELECT to_regclass('public.orders') IS NOT NULL").fetchone()
        if not found or not found[0]:
            return None
        row = conn.execute("SELECT count(*) FROM orders").fetchone()
        return int(str(row[0])) if row else 0


def run(argv: list[str], env: Mapping[str, str]) -> str:
    """Run a command to completion; its stderr (notes) is returned, a failure raises."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv[2:])} exited {done.returncode}: {done.stderr.strip()}")
    return done.stderr


def vacuum_once(url: URL) -> None:
    """VACUUM (ANALYZE) the shop once after its load, as autovacuum soon would: index-only
    scans need the visibility map, and a vacuum starting in the middle of a run is noise."""
    with connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = 'public' "
            "AND n_live_tup > 0 AND last_vacuum IS NULL AND last_autovacuum IS NULL"
        ).fetchone()
        if row and int(str(row[0])):
            conn.execute("VACUUM (ANALYZE)")


def _refuse(url: URL, have: int, size: Size) -> BenchError:
    return BenchError(
        f"database {url.database} holds {have:,} orders, not the {size.orders:,} of the "
        f"{size.name} shop: drop it or point the bench elsewhere"
    )


@dataclass(frozen=True)
class Loaded:
    """What `demo` loaded in this run, and how long the whole process took."""

    orders: int
    seconds: float


# `demo` loads in one transaction, which keeps two temporary tables' locks per day until it
# commits: ten years (7,300 locks) exhaust a default server's lock table (64 per connection
# times max_connections, 6,400), "out of shared memory". Longer histories are a year of
# `demo` copied back in time, one year per copy.
DEMO_DAYS = 365


def ensure_demo_shop(url: URL, size: Size, home: Path | None) -> Loaded | None:
    """Load `size` with `orderreport demo` unless the database already holds it.

    Returns what `demo` loaded if it ran now, else None. Either way the database ends
    migrated by this orderreport, its view current, vacuumed.
    """
    create_database(url)
    env = orderreport_env(url, home)
    year = Size(size.name, min(size.days, DEMO_DAYS), size.per_day)
    have = order_count(url)
    loaded: Loaded | None = None
    if have not in (None, 0, size.orders, year.orders):
        raise _refuse(url, have or 0, size)
    if not have:
        started = time.perf_counter()
        demo = ["demo", "--days", str(year.days), "--orders-per-day", str(year.per_day)]
        run([*ORDERREPORT, *demo, "--json"], env)
        loaded = Loaded(year.orders, time.perf_counter() - started)
        have = year.orders
    else:
        run([*ORDERREPORT, "migrate"], env)
    if have != size.orders:
        extend_history(url, size.days // year.days - 1, year.days)
    vacuum_once(url)
    refresh_view(url)
    return loaded


# The orders and lines of a year, again `copies` times, each copy `days` days earlier than
# the one before, with new ids past the highest. Foreign keys and secondary indexes are
# dropped first and made again after, as `demo` does (PostgreSQL's "Populating a Database").
_COPY_BACK = [
    """INSERT INTO orders (id, user_id, total_amount, status, created_at, updated_at)
       SELECT o.id + k * m.id, o.user_id, o.total_amount, o.status,
              o.created_at - k * %(shift)s, o.updated_at - k * %(shift)s
       FROM orders o, (SELECT max(id) AS id FROM orders) m, generate_series(1, %(copies)s) k""",
    """INSERT INTO order_items (id, order_id, product_id, quantity, price)
       SELECT i.id + k * m.id, i.order_id + k * mo.id, i.product_id, i.quantity, i.price
       FROM order_items i, (SELECT max(id) AS id FROM order_items) m,
            (SELECT max(id) / (%(copies)s + 1) AS id FROM orders) mo,
            generate_series(1, %(copies)s) k""",
]


def extend_history(url: URL, copies: int, days: int) -> None:
    """Copy the year of orders the database holds `copies` times back in time (one
    transaction: all or nothing)."""
    with connect(url, autocommit=False) as conn:
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # demo's statement: SQL text (or, before demo.py went to psycopg, a TextClause)
        bulk = demo_mod._BULK_LOAD_OBJECTS
        rebuild = conn.execute(str(getattr(bulk, "text", bulk))).fetchall()
        for drop, _ in rebuild:
            conn.execute(str(drop))
        shift = timedelta(days=days)
        conn.execute(_COPY_BACK[0], {"shift": shift, "copies": copies})
        conn.execute(_COPY_BACK[1], {"shift": shift, "copies": copies})
        for _, create in rebuild:
            conn.execute(str(create))
        for table in ("orders", "order_items"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
        conn.commit()


def refresh_view(url: URL) -> str | None:
    """Rebuild orderreport.order_reports if its definition is not this orderreport's.

    `migrate` rebuilds the view only when the settings it was built for change (its comment),
    not when orderreport's definition of it does: a shop loaded by an older checkout would
    be measured with the older view. Returns a note when it rebuilt it.
    """
    with db.connect(settings_for(url)) as conn:
        found = shop_mod.find(conn, settings_for(url))
        body = shop_mod.view_definition(found, shop_mod.quote)
        view = f"{objects.OUR_SCHEMA}.{objects.VIEW}"
        conn.execute(f"CREATE TEMP VIEW bench_view_now AS {body}")
        row = conn.execute(
            f"SELECT pg_get_viewdef('{view}'::regclass) = pg_get_viewdef('bench_view_now')"
        ).fetchone()
        same = row is not None and row[0]
        conn.execute("DROP VIEW bench_view_now")
        if same:
            conn.commit()
            return None
        conn.execute(f"DROP VIEW {view}")
        conn.execute(f"CREATE VIEW {view} AS {body}")
        comment = shop_mod.sql_string(found.fingerprint())
        conn.execute(f"COMMENT ON VIEW {view} IS {comment}")
        conn.commit()
    return f"{url.database}: rebuilt {view}, older than this checkout's definition"


# -- the partitioned shop ---------------------------------------------------------------
TABLES = {
    "users": "id, name, email",
    "products": "id, name, price, stock",
    "orders": "id, user_id, total_amount, status, created_at, updated_at",
    "order_items": "id, order_id, product_id, quantity, price",
}


def month_starts(first: date, last: date) -> list[date]:
    """The first day of every month from `first`'s to the one after `last`'s: the bounds
    of the partitions that hold first..last."""
    months = [date(first.year, first.month, 1)]
    while months[-1] <= last:
        prev = months[-1]
        months.append(date(prev.year + prev.month // 12, prev.month % 12 + 1, 1))
    return months


def partition_name(month: date) -> str:
    return f"orders_p{month:%Y_%m}"


def partitioned_ddl(months: list[date]) -> list[str]:
    """The shop's tables with `orders` partitioned by month on created_at, a partition for
    each of `months` (firsts of months, consecutive; the last one only ends the previous).

    The bounds are local midnights in the session's TimeZone: run it in the shop's zone.
    The primary key of a partitioned table must hold the partition key, so it is
    (id, created_at), and order_items cannot have a foreign key to orders(id) alone: it has
    none, as many partitioned shops do.
    """
    ddl = [
        "CREATE TABLE users (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
        "name text NOT NULL, email text NOT NULL UNIQUE)",
        "CREATE TABLE products (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
        "name text NOT NULL, price numeric(12, 2) NOT NULL CHECK (price >= 0), "
        "stock integer NOT NULL DEFAULT 0)",
        "CREATE TABLE orders (id bigserial, user_id integer NOT NULL REFERENCES users (id), "
        "total_amount numeric(12, 2) NOT NULL, status varchar(20) NOT NULL DEFAULT 'pending', "
        "created_at timestamptz NOT NULL DEFAULT now(), "
        "updated_at timestamptz NOT NULL DEFAULT now(), "
        "PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at)",
        "CREATE TABLE order_items (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
        "order_id bigint NOT NULL, product_id integer NOT NULL REFERENCES products (id), "
        "quantity integer NOT NULL CHECK (quantity > 0), price numeric(12, 2) NOT NULL)",
    ]
    for start, end in itertools.pairwise(months):
        ddl.append(
            f"CREATE TABLE {partition_name(start)} PARTITION OF orders "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
    return ddl


def ensure_partitioned_shop(source: URL, url: URL, size: Size) -> bool:
    """Copy the plain shop at `source` into `url` with orders partitioned by month, unless
    it is there. Returns True if it copied now. `migrate` is the caller's to run (and time).
    """
    create_database(url)
    have = order_count(url)
    if have == size.orders:
        return False
    if have:
        raise _refuse(url, have, size)
    if have is not None:
        raise BenchError(f"database {url.database} has an empty shop: drop it and rerun")
    with connect(source) as src, connect(url, autocommit=False) as dst:
        row = src.execute("SELECT min(created_at), max(created_at) FROM orders").fetchone()
        assert row is not None and isinstance(row[0], datetime) and isinstance(row[1], datetime)
        for statement in partitioned_ddl(month_starts(row[0].date(), row[1].date())):
            dst.execute(statement)
        for table, columns in TABLES.items():
            with (
                src.cursor().copy(f"COPY {table} ({columns}) TO STDOUT (FORMAT binary)") as out,
                dst.cursor().copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT binary)") as into,
            ):
                for block in out:
                    into.write(block)
            dst.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
        dst.commit()
    vacuum_once(url)
    return True
